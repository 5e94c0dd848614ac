//! The embedded generator: question → validated SQL, with confidence, reasons, an explanation
//! and, when the question is ambiguous, a clarifying question instead of a guess.

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use cbi_types::{
    AugmentedSchema, Clarification, ClarificationOption, ConversationContext, Intent, SqlDialect,
    TokenUsage,
};

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
    let mut explanation = describe(&planned.query);
    for note in &planned.notes {
        explanation.push(' ');
        explanation.push_str(note);
    }
    Ok(Generation {
        explanation,
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

// ---------------------------------------------------------------------------------------------
// The seam: every way of writing SQL for a question, behind one trait.

/// What a [`SqlGenerator`] is asked: the question with what it needs to read it.
#[derive(Debug, Clone)]
pub struct GenerationRequest {
    /// The question as the person wrote it (or, after a clarification, the original question).
    pub question: String,
    /// The conversation so far (earlier turns, focus, pending clarification).
    pub context: ConversationContext,
    /// The schema to answer over, augmented with profiles, values and the semantic file.
    pub schema: Arc<AugmentedSchema>,
    /// The dialect the SQL must be written in.
    pub dialect: SqlDialect,
    /// Domain knowledge that comes with the question (BIRD's evidence, a user's hint).
    pub evidence: Option<String>,
    /// Payloads of the options the person picked in answer to clarifying questions
    /// ([`ClarificationOption::payload`]), opaque to everything but the generator that made them.
    pub choices: Vec<serde_json::Value>,
    /// "Today", for relative dates; the latest date in the data when absent.
    pub reference_date: Option<chrono::NaiveDate>,
    /// Ask a clarifying question when the question is ambiguous (benchmarks turn this off).
    pub clarify: bool,
    /// Runs a candidate read-only, so a generator can correct a query that fails on the real
    /// database and vote among candidates by what they return. Absent: validation only.
    pub trial: Option<Arc<dyn TrialRunner>>,
}

impl GenerationRequest {
    /// A request with no conversation, evidence or choices.
    pub fn new(
        question: impl Into<String>,
        schema: Arc<AugmentedSchema>,
        dialect: SqlDialect,
    ) -> Self {
        GenerationRequest {
            question: question.into(),
            context: ConversationContext::default(),
            schema,
            dialect,
            evidence: None,
            choices: Vec::new(),
            reference_date: None,
            clarify: true,
            trial: None,
        }
    }
}

/// What a trial run of a candidate returned: enough to compare candidates, not the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrialOutcome {
    pub rows: usize,
    pub columns: usize,
    /// A hash of the rows as a multiset (order ignored), each value as text: two candidates
    /// with the same fingerprint returned the same answer.
    pub fingerprint: u64,
}

impl TrialOutcome {
    pub fn of(result: &cbi_types::QueryResult) -> Self {
        use std::hash::{Hash, Hasher};
        let mut rows: Vec<String> = result
            .rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(normal_value)
                    .collect::<Vec<_>>()
                    .join("\u{1f}")
            })
            .collect();
        rows.sort_unstable();
        // SipHash with fixed keys: the same rows give the same fingerprint in every run.
        let mut h = std::hash::DefaultHasher::new();
        rows.hash(&mut h);
        TrialOutcome {
            rows: result.rows.len(),
            columns: result.columns.len(),
            fingerprint: h.finish(),
        }
    }
}

/// A value as text for comparing answers: numbers equal in value compare equal (`2` and `2.0`,
/// a rounded average), as the official execution-accuracy scorers treat them.
fn normal_value(v: &cbi_types::Value) -> String {
    match v {
        cbi_types::Value::Int(i) => i.to_string(),
        cbi_types::Value::Float(f) if f.is_finite() => {
            let r = (f * 1e6).round() / 1e6;
            if r.fract() == 0.0 && r.abs() < 1e15 {
                format!("{}", r as i64)
            } else {
                format!("{r}")
            }
        }
        other => other.to_string(),
    }
}

/// Runs generated SQL for a generator's own checks: read-only, through the same validator as
/// every answer, under small row and time limits. The engine provides one over the session's
/// database; a benchmark may too.
#[async_trait]
pub trait TrialRunner: Send + Sync + std::fmt::Debug {
    /// The outcome, or the database's (or validator's) error as a person would read it.
    async fn trial(&self, sql: &str) -> std::result::Result<TrialOutcome, String>;
}

/// One answer a generator proposes. The validator checks its SQL before anything runs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SqlCandidate {
    /// The SQL, unless a clarifying question is asked instead.
    pub sql: Option<String>,
    /// 0..1, calibrated by the generator.
    pub confidence: f32,
    /// What lowered the confidence.
    pub reasons: Vec<String>,
    /// A sentence saying what is computed.
    pub explanation: String,
    pub intent: Intent,
    /// Tables the answer reads, in order of importance (the first is the conversation's focus).
    pub tables: Vec<String>,
    /// The generator's structured reading, kept with the turn for follow-ups.
    pub plan: Option<serde_json::Value>,
    /// Answered from a verified question of the semantic file.
    pub verified: bool,
    /// A question back to the person instead of SQL.
    pub clarification: Option<Clarification>,
    /// Model tokens spent (zero for the embedded generator).
    pub usage: TokenUsage,
    /// Money spent, in US dollars.
    pub cost_usd: f64,
    /// Which generator wrote it (`embedded`, `local:…`, `openai:…`).
    pub generator: String,
}

/// Writes SQL for a question: the embedded planner, a language-model pipeline, or a hybrid of
/// the two. The engine picks one by configuration and knows nothing else of it; whatever it
/// returns goes through the same validator.
#[async_trait]
pub trait SqlGenerator: Send + Sync + std::fmt::Debug {
    /// `embedded`, `local:<model>`, `openai:<model>`, `hybrid:<…>`.
    fn name(&self) -> &str;

    /// Candidates, best first (at least one, or an error saying why there is none).
    async fn generate(&self, request: &GenerationRequest) -> Result<Vec<SqlCandidate>>;
}

/// How many schemas a generator keeps prepared state for at once.
const PREPARED_SCHEMAS: usize = 32;

/// What a generator builds once per schema (an index, a validator, an example store), keyed by
/// the schema's `Arc` itself (two databases with the same catalog but different semantic files
/// are different schemas); the oldest of [`PREPARED_SCHEMAS`] is dropped first.
#[derive(Debug)]
pub(crate) struct PerSchema<T> {
    entries: Mutex<Vec<(Arc<AugmentedSchema>, Arc<T>)>>,
}

impl<T> Default for PerSchema<T> {
    fn default() -> Self {
        PerSchema {
            entries: Mutex::new(Vec::new()),
        }
    }
}

impl<T> PerSchema<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(Arc<AugmentedSchema>, Arc<T>)>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What was built for `schema`, if anything.
    pub(crate) fn get(&self, schema: &Arc<AugmentedSchema>) -> Option<Arc<T>> {
        self.lock()
            .iter()
            .find(|(s, _)| Arc::ptr_eq(s, schema))
            .map(|(_, v)| v.clone())
    }

    /// Keeps `value` for `schema` and returns it shared.
    pub(crate) fn insert(&self, schema: &Arc<AugmentedSchema>, value: T) -> Arc<T> {
        let value = Arc::new(value);
        let mut entries = self.lock();
        entries.retain(|(s, _)| !Arc::ptr_eq(s, schema));
        if entries.len() >= PREPARED_SCHEMAS {
            entries.remove(0);
        }
        entries.push((schema.clone(), value.clone()));
        value
    }
}

/// The embedded, deterministic generator behind the [`SqlGenerator`] seam. It prepares each
/// schema it is given once (the index that makes a question cost microseconds) and keeps the
/// most recent few.
#[derive(Debug, Default)]
pub struct EmbeddedGenerator {
    prepared: PerSchema<Prepared>,
}

impl EmbeddedGenerator {
    pub fn new() -> Self {
        Self::default()
    }

    /// The prepared form of `schema`, built on first use.
    pub fn prepared(&self, schema: &Arc<AugmentedSchema>) -> Arc<Prepared> {
        self.prepared
            .get(schema)
            .unwrap_or_else(|| self.prepared.insert(schema, Prepared::new(schema.clone())))
    }
}

#[async_trait]
impl SqlGenerator for EmbeddedGenerator {
    fn name(&self) -> &str {
        "embedded"
    }

    async fn generate(&self, request: &GenerationRequest) -> Result<Vec<SqlCandidate>> {
        let prepared = self.prepared(&request.schema);
        let opts = GenerateOptions {
            dialect: request.dialect,
            plan: PlanOptions {
                reference_date: request.reference_date,
                choices: request.choices.iter().filter_map(payload_choice).collect(),
                scope: Vec::new(),
            },
            clarify: request.clarify,
        };
        let g = generate(&prepared, &request.question, &opts)?;
        Ok(vec![SqlCandidate {
            tables: g.query.as_ref().map(|q| q.all_tables()).unwrap_or_default(),
            plan: g.query.as_ref().and_then(|q| serde_json::to_value(q).ok()),
            sql: g.sql,
            confidence: g.confidence,
            reasons: g.reasons,
            explanation: g.explanation,
            intent: g.intent,
            verified: g.verified,
            clarification: g.clarification,
            usage: TokenUsage::default(),
            cost_usd: 0.0,
            generator: "embedded".into(),
        }])
    }
}
