//! Core types and traits of cbi, the conversational BI engine.
//!
//! This crate is the floor every other `cbi-*` crate stands on. It holds plain data — sessions and
//! their turns, database schemas and their augmentations, typed query results, SQL dialects, the
//! configuration file's shape — and the four traits through which the upper crates meet without
//! knowing each other: [`Connection`] (a database that can be introspected and queried read-only),
//! [`LanguageModel`], [`EmbeddingModel`] and [`SessionStore`].
//!
//! It is deliberately small and inert: no async runtime, no network, no database driver, no model
//! vendor. Implementations live higher up (`cbi-db` implements [`Connection`], `cbi-session`
//! implements [`SessionStore`], and so on), and a crate that needs a service takes it as an
//! `Arc<dyn Trait>`.

mod access;
mod augmented;
pub mod config;
pub use config::Config;
mod connection;
mod dialect;
mod error;
mod model;
mod schema;
mod session;
mod store;
mod value;

pub use access::Access;
pub use augmented::{
    AugmentedSchema, BusinessTerm, ColumnProfile, SemanticColumn, SemanticModel, SemanticTable,
    TableProfile, TermTarget, ValueHit, ValueIndex, VerifiedQuery, normalize_value,
};
pub use connection::{ByteBudget, Connection, DEFAULT_MAX_RESULT_BYTES, QueryLimits};
pub use dialect::SqlDialect;
pub use error::{Error, Result};
pub use model::{
    ChatMessage, ChatRole, Completion, CompletionRequest, EmbeddingModel, FinishReason,
    LanguageModel, TokenUsage,
};
pub use schema::{
    ColumnSchema, DatabaseSchema, IndexSchema, Relationship, RelationshipType, TableKind,
    TableSchema, TypeClass,
};
pub use session::{
    Clarification, ClarificationOption, ConversationContext, ConversationTurn, Intent, Session,
    SessionId,
};
pub use store::SessionStore;
pub use value::{ColumnMeta, QueryResult, Value, group_digits, to_hex};
