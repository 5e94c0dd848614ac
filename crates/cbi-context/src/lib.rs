//! Conversation context for cbi: what a conversation is about, turn by turn, and follow-ups
//! read as edits of an earlier answer.
//!
//! [`ContextTracker`] keeps a [`Focus`] per session (the measures, groupings, filters, time
//! range and query of the latest answer; versioned, and checked against the schema when read
//! back). [`ReferenceResolver`] reads a follow-up ("which had the highest?", "show that by
//! month", "only 2023", "what about the West?", "the average instead", "the orders behind
//! that", "compared with last year", "no, I meant revenue") into its parts and edits the
//! focus's query with small named [`rules`]; what it cannot read is [`Resolution::Unclear`],
//! which [`ClarificationEngine`] turns into a question back. The words it reacts to are data
//! (`src/followup.txt`). It works on the embedded generator's semantic queries; a model reads
//! follow-ups it cannot resolve with the conversation in its prompt.
//!
//! ```no_run
//! # fn demo(idx: &cbi_nl2sql::SchemaIndex, ctx: &cbi_types::ConversationContext) {
//! use cbi_context::{ContextTracker, ReferenceResolver, Resolution, ResolveOptions};
//! let focus = ContextTracker::focus(ctx, idx);
//! let resolver = ReferenceResolver::new(idx, ResolveOptions::default());
//! if let Resolution::Resolved(r) = resolver.resolve("Which had the highest?", focus.as_ref()) {
//!     let sql = cbi_context::render(&r.query, idx, cbi_types::SqlDialect::PostgreSql).unwrap();
//!     println!("{sql}");
//! }
//! # }
//! ```

mod clarify;
mod error;
mod reference;
pub mod rules;
mod tracker;
mod words;

pub use clarify::ClarificationEngine;
pub use error::{Error, ErrorKind, Result};
pub use reference::{
    Reading, ReferenceResolver, Resolution, ResolveOptions, Resolved, Unclear, ValueRef,
};
pub use rules::Edit;
pub use tracker::{
    ContextTracker, FOCUS_VERSION, Focus, TimeScope, cond_columns, expr_columns, time_scope,
    visit_columns,
};

/// Writes a resolved query as SQL for a dialect.
pub fn render(
    q: &cbi_nl2sql::SemanticQuery,
    idx: &cbi_nl2sql::SchemaIndex,
    dialect: cbi_types::SqlDialect,
) -> Result<String> {
    Ok(cbi_nl2sql::sql::render(q, idx, dialect)?)
}

#[cfg(test)]
mod tests;
