//! The cbi engine: one pipeline from a person's question to explained, read-only results.
//!
//! [`ConversationalBiEngine`] ties the crates together: it keeps connections ([`cbi_db`]), the
//! augmented schema of each database ([`cbi_schema::SchemaCache`]), sessions
//! ([`cbi_session::SessionManager`]) and the prepared generator index ([`cbi_nl2sql`]). For each
//! question it resolves a pending clarification, generates SQL, passes it through the
//! [`cbi_nl2sql::SqlValidator`], runs it read-only under the configured row cap and time limit,
//! summarises the result and records the turn.
//!
//! Invariants: no SQL reaches a database without passing the validator (verified answers from
//! the semantic file included); every connection it opens is read-only; a question never makes
//! it panic — failures are [`Error`]s with a message for the person asking.

mod cache;
mod door;
mod engine;
mod error;
mod response;
mod suggest;

pub use cbi_cache::{CacheStats, SharedTier};
pub use cbi_types::Access;
pub use door::{AskOptions, Principal, SessionInfo, Stage, StageSink};
pub use engine::{
    ConversationalBiEngine, EngineOptions, HYBRID_THRESHOLD, generator_from_config,
    generator_from_spec,
};
pub use error::{Error, ErrorKind, Result};
pub use response::{
    CacheUse, ConfidenceBand, QueryResponse, Timings, format_sql, result_json, summarize_result,
};
