//! Natural language to SQL for cbi: the embedded, deterministic generator and the validator
//! every generator's SQL must pass.
//!
//! The embedded generator needs no model, no key and no download. For each schema it builds a
//! [`Prepared`] index once; a question then goes through the [`QueryUnderstander`] — tokenising ([`text`]), schema linking
//! ([`link`]: names, synonyms, business terms, cell values, typos), planning ([`plan`]: intent,
//! aggregations, grouping, filters, comparisons, ordering and top-N, time expressions, nesting)
//! into a dialect-independent [`SemanticQuery`], which [`sql`] renders for SQLite, PostgreSQL,
//! MySQL or Oracle and round-trips through sqlparser. Every answer carries a confidence with
//! its reasons; an ambiguous question yields a clarifying question instead of a guess; a question
//! matching one of the semantic file's verified questions is answered with its SQL.
//!
//! [`SqlValidator`] is the gate for all generated SQL (this one's and, later, language
//! models'): one read-only statement, every identifier resolved, a LIMIT, all problems at once.
//!
//! This crate never executes anything and never talks to a network.

mod describe;
pub mod dialects;
pub mod draft;
mod error;
pub mod examples;
#[cfg(test)]
mod fixtures;
pub mod functions;
mod generator;
pub mod grammar;
pub mod index;
mod joins;
pub mod lexicon;
pub mod link;
pub mod model;
pub mod plan;
pub mod query;
pub mod repair;
pub mod sql;
pub mod text;
pub mod time;
mod understand;
pub mod validate;
mod verified;

pub use describe::describe;
pub use dialects::parser_dialect;
pub use draft::{Draft, draft_semantic};
pub use error::{Error, Result};
pub use examples::{Example, ExampleStore, LexicalEmbedder};
pub use functions::{function_allowed, table_function_allowed};
pub use generator::{
    EmbeddedGenerator, GenerateOptions, Generation, GenerationRequest, Prepared, SqlCandidate,
    SqlGenerator, TrialOutcome, TrialRunner, element_payload, generate, payload_choice,
};
pub use grammar::SqlGrammar;
pub use index::{Element, SchemaIndex};
pub use joins::{JoinGraph, JoinTree};
pub use model::{
    HybridGenerator, ModelGenerator, ModelOptions, NaiveGenerator, PromptBuilder, extract_sql, vote,
};
pub use plan::{Plan, PlanOptions};
pub use query::SemanticQuery;
pub use repair::repair_columns;
pub use understand::{QueryUnderstander, Understanding};
pub use validate::{Problem, ProblemKind, SqlValidator, ValidatedSql, ValidatorOptions};
pub use verified::{VerifiedMatch, VerifiedSet};
