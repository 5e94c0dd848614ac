use std::fmt::Debug;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{Result, Session, SessionId};

/// Where sessions live between turns: memory, a file, or a shared server.
///
/// A store only stores; limits, expiry policy and turn trimming belong to `cbi-session`'s
/// `SessionManager`. Implementations must be safe to share between tasks and, for the
/// persistent ones, between processes.
#[async_trait]
pub trait SessionStore: Send + Sync + Debug {
    /// The session with this id, if it exists.
    async fn load(&self, id: SessionId) -> Result<Option<Session>>;

    /// Inserts or replaces a session.
    async fn save(&self, session: &Session) -> Result<()>;

    /// Removes a session; true when it existed.
    async fn delete(&self, id: SessionId) -> Result<bool>;

    /// Ids of every session of one user.
    async fn list_user(&self, user_id: &str) -> Result<Vec<SessionId>>;

    /// When the session was last used, if it exists: what a session limit compares. The
    /// default loads the whole session; a store that can read one field cheaply says so.
    async fn last_accessed(&self, id: SessionId) -> Result<Option<DateTime<Utc>>> {
        Ok(self.load(id).await?.map(|s| s.last_accessed))
    }

    /// Removes every session last accessed before `cutoff` and returns their ids.
    async fn remove_idle(&self, cutoff: DateTime<Utc>) -> Result<Vec<SessionId>>;
}
