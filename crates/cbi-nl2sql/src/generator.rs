//! The embedded generator: question → validated SQL, with confidence, reasons, an explanation
//! and, when the question is ambiguous, a clarifying question instead of a guess.

use std::sync::Arc;

use cbi_types::{AugmentedSchema, Clarification, ClarificationOption, Intent, SqlDialect};

use crate::describe::describe;
use crate::index::{Element, SchemaIndex};
use crate::plan::{PlanOptions, plan};
use crate::query::SemanticQuery;
use crate::verified::VerifiedSet;
use crate::{Result, sql};

/// What the generator precomputes for one schema. Build once per augmented schema (it is what
/// makes a question cost microseconds) and share.
#[derive(Debug)]
pub struct Prepared {
    pub index: SchemaIndex,
    pub verified: VerifiedSet,
}

impl Prepared {
    pub fn new(aug: Arc<AugmentedSchema>) -> Self {
        let index = SchemaIndex::new(aug);
        let verified = VerifiedSet::new(&index);
        Prepared { index, verified }
    }

    pub fn schema(&self) -> &AugmentedSchema {
        &self.index.aug
    }
}

/// How to generate.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub dialect: SqlDialect,
    pub plan: PlanOptions,
    /// Ask a clarifying question when the question is ambiguous (false: always answer with the
    /// best reading, as benchmarks need).
    pub clarify: bool,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            dialect: SqlDialect::Sqlite,
            plan: PlanOptions::default(),
            clarify: true,
        }
    }
}

/// The generator's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// The SQL, unless a clarifying question was asked instead.
    pub sql: Option<String>,
    /// The structured reading (absent for verified answers).
    pub query: Option<SemanticQuery>,
    /// 0..1.
    pub confidence: f32,
    /// What lowered the confidence.
    pub reasons: Vec<String>,
    /// Answered from the semantic file's verified questions.
    pub verified: bool,
    /// A sentence saying what is computed.
    pub explanation: String,
    pub intent: Intent,
    pub clarification: Option<Clarification>,
}

/// Generates SQL for a question.
pub fn generate(p: &Prepared, question: &str, opts: &GenerateOptions) -> Result<Generation> {
    if let Some(v) = p.verified.find(question, &p.index) {
        return Ok(Generation {
            sql: Some(v.sql.trim().trim_end_matches(';').to_string()),
            query: None,
            confidence: 1.0,
            reasons: vec![if v.similarity >= 1.0 {
                format!("verified answer to \"{}\"", v.question)
            } else {
                format!(
                    "verified answer to the same question worded as \"{}\"",
                    v.question
                )
            }],
            verified: true,
            explanation: format!("Uses the verified query for \"{}\".", v.question),
            intent: Intent::Query,
            clarification: None,
        });
    }
    let planned = plan(question, &p.index, &opts.plan)?;
    if opts.clarify {
        if let Some(amb) = &planned.ambiguity {
            if planned.confidence < 0.9 && amb.options.len() > 1 {
                let options = amb
                    .options
                    .iter()
                    .map(|(e, label)| ClarificationOption {
                        label: label.clone(),
                        payload: element_payload(&amb.phrase, *e),
                    })
                    .collect();
                return Ok(Generation {
                    sql: None,
                    query: Some(planned.query.clone()),
                    confidence: planned.confidence,
                    reasons: planned.reasons.clone(),
                    verified: false,
                    explanation: format!("\"{}\" could mean more than one thing.", amb.phrase),
                    intent: Intent::Clarify,
                    clarification: Some(Clarification {
                        question: format!("Which \"{}\" do you mean?", amb.phrase),
                        options,
                        original_query: question.to_string(),
                    }),
                });
            }
        }
    }
    let sql = sql::render(&planned.query, &p.index, opts.dialect)?;
    Ok(Generation {
        explanation: describe(&planned.query),
        sql: Some(sql),
        query: Some(planned.query),
        confidence: planned.confidence,
        reasons: planned.reasons,
        verified: false,
        intent: planned.intent,
        clarification: None,
    })
}

/// The payload stored with a clarification option: the phrase and the element chosen.
pub fn element_payload(phrase: &str, e: Element) -> serde_json::Value {
    let (kind, a, b) = match e {
        Element::Table(t) => ("table", t, 0),
        Element::Column(t, c) => ("column", t, c),
        Element::Term(i) => ("term", i, 0),
    };
    serde_json::json!({ "phrase": phrase, "kind": kind, "a": a, "b": b })
}

/// Reads a payload back into a choice for [`PlanOptions::choices`].
pub fn payload_choice(v: &serde_json::Value) -> Option<(String, Element)> {
    let phrase = v.get("phrase")?.as_str()?.to_string();
    let a = usize::try_from(v.get("a")?.as_u64()?).ok()?;
    let b = usize::try_from(v.get("b")?.as_u64()?).ok()?;
    let e = match v.get("kind")?.as_str()? {
        "table" => Element::Table(a),
        "column" => Element::Column(a, b),
        "term" => Element::Term(a),
        _ => return None,
    };
    Some((phrase, e))
}
