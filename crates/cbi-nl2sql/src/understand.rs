//! `QueryUnderstander`: what a question asks, before it becomes SQL.
//!
//! The understanding is the planner's reading laid out for inspection: the intent, the
//! normalised tokens, what each span links to (tables, columns, business terms, cell values),
//! the time expression resolved against the reference date, and the semantic query (its
//! aggregations, groupings, filters, comparisons, ordering and limit), with the confidence and
//! its reasons. `cbi chat`'s `:explain` and tests use it; generation goes through the same code.

use cbi_types::Intent;

use crate::index::SchemaIndex;
use crate::link::Mention;
use crate::plan::{Ambiguity, PlanOptions, plan, understand};
use crate::query::SemanticQuery;
use crate::text::Token;
use crate::time::{TimeFilter, resolve_time};
use crate::{Error, Result};

/// Reads questions against one schema.
#[derive(Debug, Clone, Copy)]
pub struct QueryUnderstander<'a> {
    index: &'a SchemaIndex,
}

/// What a question was understood to ask.
#[derive(Debug, Clone)]
pub struct Understanding {
    pub intent: Intent,
    /// The question's tokens: lowercase and singular forms, numbers, quoted values.
    pub tokens: Vec<Token>,
    /// Linked spans, in question order.
    pub mentions: Vec<Mention>,
    /// The time expression, resolved, if the question has one.
    pub time: Option<TimeFilter>,
    /// The structured reading, when the question could be read.
    pub query: Option<SemanticQuery>,
    pub confidence: f32,
    pub reasons: Vec<String>,
    pub ambiguity: Option<Ambiguity>,
    /// Why there is no query, when there is none.
    pub error: Option<String>,
}

impl<'a> QueryUnderstander<'a> {
    pub fn new(index: &'a SchemaIndex) -> Self {
        QueryUnderstander { index }
    }

    /// Reads a question. Never fails: a question that cannot be read has `query: None` and
    /// the reason in `error`.
    pub fn understand(&self, question: &str, opts: &PlanOptions) -> Understanding {
        let (tokens, mentions) = understand(question, self.index);
        let time = resolve_time(&tokens, opts.reference_date);
        match plan(question, self.index, opts) {
            Ok(p) => Understanding {
                intent: p.intent,
                tokens,
                mentions,
                time,
                query: Some(p.query),
                confidence: p.confidence,
                reasons: p.reasons,
                ambiguity: p.ambiguity,
                error: None,
            },
            Err(e) => Understanding {
                intent: Intent::Query,
                tokens,
                mentions,
                time,
                query: None,
                confidence: 0.0,
                reasons: Vec::new(),
                ambiguity: None,
                error: Some(match e {
                    Error::NotUnderstood(m) => m,
                    other => other.to_string(),
                }),
            },
        }
    }

    /// Like [`QueryUnderstander::understand`], failing when there is no reading.
    pub fn try_understand(&self, question: &str, opts: &PlanOptions) -> Result<Understanding> {
        let u = self.understand(question, opts);
        match &u.error {
            Some(e) => Err(Error::NotUnderstood(e.clone())),
            None => Ok(u),
        }
    }
}
