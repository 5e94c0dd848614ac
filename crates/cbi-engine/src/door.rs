//! What front ends hand the engine about who is asking, and what it hands back while it works.

use cbi_types::{Access, Session};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Error, Result};

/// Who is asking: the user sessions belong to, and what they may read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principal {
    pub user_id: String,
    pub access: Access,
}

impl Principal {
    /// A user who may read everything.
    pub fn new(user_id: impl Into<String>) -> Self {
        Principal {
            user_id: user_id.into(),
            access: Access::all(),
        }
    }

    /// The same user restricted to `access`.
    pub fn with_access(mut self, access: Access) -> Self {
        self.access = access;
        self
    }
}

/// One step of an answer, reported as soon as it is done (a server streams these as events).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum Stage {
    /// The question was read: by which generator, how sure, and what it will compute (or that
    /// a clarifying question comes instead).
    Understood {
        generator: String,
        confidence: f32,
        explanation: String,
        clarification: bool,
    },
    /// The SQL passed the validator; this is exactly what runs.
    Validated { sql: String },
    /// The database answered.
    Rows { rows: usize, truncated: bool },
    /// The one-line summary of the result.
    Summary { text: String },
}

/// A function that receives the stages of one answer.
pub type StageSink<'a> = &'a (dyn Fn(Stage) + Send + Sync);

/// How a person wants a question answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AskOptions {
    /// Work the answer out again — SQL and rows — instead of reusing a cached one.
    pub fresh: bool,
}

/// How an answer is being asked for: by whom (None: the session's own user, seeing
/// everything — the command line), and where its stages go.
#[derive(Clone, Copy, Default)]
pub(crate) struct Asker<'a> {
    pub(crate) who: Option<&'a Principal>,
    pub(crate) stages: Option<StageSink<'a>>,
    /// Work the answer out again instead of reusing a cached one (the new answer is cached).
    pub(crate) fresh: bool,
}

/// A session as listed to its user.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionInfo {
    pub id: cbi_types::SessionId,
    pub database: String,
    pub created_at: DateTime<Utc>,
    pub last_accessed: DateTime<Utc>,
    pub turns: u32,
    /// The latest question asked in it.
    pub last_question: Option<String>,
}

impl SessionInfo {
    pub(crate) fn of(s: &Session) -> Self {
        SessionInfo {
            id: s.id,
            database: s.database.clone(),
            created_at: s.created_at,
            last_accessed: s.last_accessed,
            turns: s.turn_count,
            last_question: s.context.turns.back().map(|t| t.user_query.clone()),
        }
    }
}

/// Refuses a session that belongs to someone else. It reads as "not found": whether another
/// user's session exists is not the asker's business.
pub(crate) fn owned(session: &Session, who: &Principal) -> Result<()> {
    if session.user_id == who.user_id {
        Ok(())
    } else {
        Err(Error::Session(cbi_session::Error::NotFound(session.id)))
    }
}
