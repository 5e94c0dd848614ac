use async_trait::async_trait;
use cbi_types::{Result, Session, SessionId, SessionStore};
use chrono::{DateTime, Utc};
use dashmap::DashMap;

/// Sessions in this process's memory: fast, shared between tasks, gone when the process exits.
///
/// Meant for tests, one-shot runs (`cbi ask`) and servers that do not care about restarts.
/// Every operation touches one shard of a [`DashMap`], so tasks do not serialise on a global
/// lock; `list_user` and `remove_idle` scan every session, which is cheap at the sizes one
/// process holds.
#[derive(Debug, Default)]
pub struct MemoryStore {
    sessions: DashMap<SessionId, Session>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of sessions held, live or idle.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Whether the store holds no session at all.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn load(&self, id: SessionId) -> Result<Option<Session>> {
        Ok(self.sessions.get(&id).map(|s| s.value().clone()))
    }

    async fn last_accessed(&self, id: SessionId) -> Result<Option<DateTime<Utc>>> {
        // Without copying the conversation: a user at their session limit has every one of
        // their sessions looked at for each new one.
        Ok(self.sessions.get(&id).map(|s| s.value().last_accessed))
    }

    async fn save(&self, session: &Session) -> Result<()> {
        self.sessions.insert(session.id, session.clone());
        Ok(())
    }

    async fn delete(&self, id: SessionId) -> Result<bool> {
        Ok(self.sessions.remove(&id).is_some())
    }

    async fn list_user(&self, user_id: &str) -> Result<Vec<SessionId>> {
        Ok(self
            .sessions
            .iter()
            .filter(|e| e.value().user_id == user_id)
            .map(|e| *e.key())
            .collect())
    }

    async fn remove_idle(&self, cutoff: DateTime<Utc>) -> Result<Vec<SessionId>> {
        let mut removed = Vec::new();
        self.sessions.retain(|id, s| {
            let keep = s.last_accessed >= cutoff;
            if !keep {
                removed.push(*id);
            }
            keep
        });
        Ok(removed)
    }
}
