//! The language-model path behind the [`SqlGenerator`] seam: a prompt built from the pruned
//! schema, verified examples retrieved by meaning ([`crate::examples`]), evidence and the
//! condensed conversation; robust SQL
//! extraction from what the model says; and self-correction, where every problem the validator
//! finds (all of them at once) goes back to the model for a bounded number of attempts.
//! [`HybridGenerator`] answers with the embedded generator where its confidence is high and
//! otherwise asks the model, offering the embedded reading as a hint.
//!
//! With [`ModelOptions::constrain`], each request carries the schema's grammar
//! ([`crate::grammar`]) for models that decode under one. With a [`crate::TrialRunner`] in the request, an answer that passes the validator is also
//! run (read-only, small limits): a database error goes back to the model like a validation
//! problem, and a doubtful answer (corrected, empty, or at odds with the embedded reading) is put
//! to an execution-guided vote among fresh samples.

use std::sync::Arc;

use async_trait::async_trait;
use cbi_schema::{RenderOptions, render_prompt};
use cbi_types::{
    ChatMessage, CompletionRequest, ConversationContext, LanguageModel, SqlDialect, TokenUsage,
};

use crate::examples::{Example, ExampleStore, LexicalEmbedder};
use crate::generator::{
    EmbeddedGenerator, GenerationRequest, PerSchema, SqlCandidate, SqlGenerator, TrialOutcome,
};
use crate::grammar::SqlGrammar;
use crate::index::SchemaIndex;
use crate::repair::repair_columns;
use crate::validate::{Problem, ProblemKind, SqlValidator, summarize};
use crate::{Error, Result};

/// How the model pipeline prompts and corrects.
#[derive(Debug, Clone)]
pub struct ModelOptions {
    /// Characters of schema text in the prompt (about 4 a token).
    pub schema_budget_chars: usize,
    /// Verified examples shown, most similar first.
    pub examples: usize,
    /// Earlier turns of the conversation shown (question and SQL each).
    pub history_turns: usize,
    /// Model calls for one question: the first answer and its corrections.
    pub max_attempts: usize,
    pub temperature: f32,
    pub max_tokens: u32,
    /// Send a grammar of the schema with each request, so a local model cannot write an
    /// unknown table, column or function (cloud APIs ignore it). Off by default for now:
    /// measured with Qwen2.5-Coder-1.5B in llama.cpp on two cores, decoding under the schema
    /// grammar took 60–120 s a question against 3–6 s without (llama.cpp keeps every
    /// ambiguous parse of the grammar alive at each token), which no answer is worth.
    pub constrain: bool,
    /// Candidates sampled for an execution vote when the first answer is doubtful (0: never
    /// vote). Needs a trial runner in the request.
    pub vote_samples: u32,
    pub vote_temperature: f32,
}

impl Default for ModelOptions {
    fn default() -> Self {
        ModelOptions {
            schema_budget_chars: 6_000,
            examples: 3,
            history_turns: 4,
            max_attempts: 3,
            temperature: 0.0,
            max_tokens: 400,
            constrain: false,
            vote_samples: 4,
            vote_temperature: 0.7,
        }
    }
}

/// Builds the messages for one question. Deterministic: the same request gives the same
/// prompt, so prompts are snapshot-tested.
#[derive(Debug, Clone, Default)]
pub struct PromptBuilder {
    pub opts: ModelOptions,
}

impl PromptBuilder {
    /// The system and user messages for `request`, with `focus` tables first in the schema,
    /// `values` (cells the question names, as `table.column = 'stored value'`) spelled out and
    /// `hint` (another generator's reading) offered as a starting point.
    pub fn messages(
        &self,
        request: &GenerationRequest,
        focus: &[String],
        values: &[String],
        examples: &[Example],
        hint: Option<&str>,
    ) -> Vec<ChatMessage> {
        let d = request.dialect;
        let system = format!(
            "You write one {dialect} SELECT statement that answers the question over the database \
             below. Use only the tables and columns shown; qualify columns when more than one \
             table is joined; never modify data. Answer with the SQL in a ```sql block and \
             nothing else.{dialect_notes}",
            dialect = dialect_name(d),
            dialect_notes = dialect_notes(d),
        );
        // The whole schema in its own order when it fits, so every question on a schema shares
        // the same prompt prefix (a local model reuses its KV cache for it); pruned around the
        // linked tables only when it does not.
        let whole = render_prompt(
            &request.schema,
            &RenderOptions {
                budget_chars: self.opts.schema_budget_chars,
                focus: Vec::new(),
            },
        );
        let schema = if whole.contains("more tables not shown") && !focus.is_empty() {
            render_prompt(
                &request.schema,
                &RenderOptions {
                    budget_chars: self.opts.schema_budget_chars,
                    focus: focus.to_vec(),
                },
            )
        } else {
            whole
        };
        let mut user = format!("Database:\n{schema}\n");
        let terms = &request.schema.semantic.business_terms;
        if !terms.is_empty() {
            user.push_str("\nBusiness terms:\n");
            for t in terms {
                let (kind, sql) = match &t.target {
                    cbi_types::TermTarget::Column(c) => ("column", c),
                    cbi_types::TermTarget::Measure(m) => ("measure", m),
                    cbi_types::TermTarget::Filter(f) => ("filter", f),
                };
                user.push_str(&format!("- {} ({kind}): {}\n", t.name, one_line(sql)));
            }
        }
        if !examples.is_empty() {
            user.push_str("\nVerified examples:\n");
            for e in examples.iter().take(self.opts.examples) {
                user.push_str(&format!("Q: {}\nSQL: {}\n", e.question, one_line(&e.sql)));
            }
        }
        let history = history(&request.context, self.opts.history_turns);
        if !history.is_empty() {
            user.push_str("\nEarlier in this conversation:\n");
            user.push_str(&history);
        }
        if let Some(e) = request.evidence.as_deref().filter(|e| !e.trim().is_empty()) {
            user.push_str(&format!("\nKnown facts: {}\n", e.trim()));
        }
        if !values.is_empty() {
            user.push_str("\nValues the question mentions, as the database stores them:\n");
            for v in values {
                user.push_str(&format!("- {v}\n"));
            }
        }
        if let Some(h) = hint {
            user.push_str(&format!(
                "\nA draft that may be wrong or incomplete:\n```sql\n{h}\n```\n"
            ));
        }
        user.push_str(&format!("\nQuestion: {}\n", request.question.trim()));
        vec![ChatMessage::system(system), ChatMessage::user(user)]
    }
}

fn dialect_name(d: SqlDialect) -> &'static str {
    match d {
        SqlDialect::PostgreSql => "PostgreSQL",
        SqlDialect::MySql => "MySQL",
        SqlDialect::Sqlite => "SQLite",
        SqlDialect::Oracle => "Oracle",
        SqlDialect::Generic => "standard SQL",
    }
}

fn dialect_notes(d: SqlDialect) -> &'static str {
    match d {
        SqlDialect::Sqlite => " Dates are text: use strftime('%Y', col) for years.",
        SqlDialect::PostgreSql => " Use DATE_TRUNC and EXTRACT for dates.",
        SqlDialect::MySql => " Use YEAR(), DATE_FORMAT() for dates and backticks for odd names.",
        _ => "",
    }
}

/// The last turns as question and SQL, oldest first: the resolved queries, not transcripts.
fn history(ctx: &ConversationContext, n: usize) -> String {
    let turns: Vec<_> = ctx.turns.iter().filter(|t| t.sql.is_some()).collect();
    let start = turns.len().saturating_sub(n);
    let mut out = String::new();
    for t in &turns[start..] {
        out.push_str(&format!("Q: {}\n", t.user_query.trim()));
        if let Some(sql) = &t.sql {
            out.push_str(&format!("SQL: {}\n", one_line(sql)));
        }
        if let Some(s) = &t.results_summary {
            out.push_str(&format!("Result: {}\n", one_line(s)));
        }
    }
    out
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The SQL in a model's answer: the first ```sql (or plain ```) block, else the text from the
/// first `SELECT` or `WITH` to the first `;` or the end. None when there is no query at all.
pub fn extract_sql(text: &str) -> Option<String> {
    // The body of a fence whose opening marker ends at `start`.
    let fenced = |start: usize| -> Option<String> {
        let rest = text.get(start..)?;
        let end = rest.find("```").unwrap_or(rest.len());
        let body = rest[..end].trim();
        (!body.is_empty()).then(|| body.to_string())
    };
    // ASCII lowercasing keeps byte offsets.
    let lower = text.to_ascii_lowercase();
    let candidate = if let Some(at) = lower.find("```sql") {
        fenced(at + "```sql".len())
    } else if let Some(at) = lower.find("```") {
        fenced(at + 3)
    } else {
        None
    };
    let body = candidate.unwrap_or_else(|| text.to_string());
    let lower = body.to_ascii_lowercase();
    let start = ["select", "with"]
        .iter()
        .filter_map(|k| {
            lower
                .match_indices(k)
                .find(|(i, _)| {
                    let before = lower[..*i].chars().next_back();
                    let after = lower[*i + k.len()..].chars().next();
                    !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                        && after.is_some_and(|c| c.is_whitespace() || c == '(')
                })
                .map(|(i, _)| i)
        })
        .min()?;
    let sql = body[start..].trim();
    let sql = match sql.find(';') {
        Some(end) => &sql[..end],
        None => sql,
    };
    let sql = sql.trim();
    (!sql.is_empty()).then(|| sql.to_string())
}

/// A language model writing SQL, with self-correction against the validator.
#[derive(Debug)]
pub struct ModelGenerator {
    model: Arc<dyn LanguageModel>,
    name: String,
    prompts: PromptBuilder,
    /// Links the question to tables, so the schema in the prompt starts with them.
    linker: EmbeddedGenerator,
    /// Embeds questions for example retrieval.
    embedder: Arc<dyn cbi_types::EmbeddingModel>,
    /// Built once per schema: its example store and its validator.
    schemas: PerSchema<SchemaState>,
}

/// What [`ModelGenerator`] builds once per schema.
#[derive(Debug)]
struct SchemaState {
    /// The schema's verified queries, searchable by meaning.
    examples: ExampleStore,
    /// Checks each answer for self-correction (the engine validates again before running).
    validator: SqlValidator,
    /// The schema's grammar in GBNF, for constrained decoding.
    grammar: String,
    /// Finds the cell values a question names.
    index: SchemaIndex,
}

impl ModelGenerator {
    pub fn new(model: Arc<dyn LanguageModel>, opts: ModelOptions) -> Self {
        ModelGenerator {
            name: model.name().to_string(),
            model,
            prompts: PromptBuilder { opts },
            linker: EmbeddedGenerator::new(),
            embedder: Arc::new(LexicalEmbedder::default()),
            schemas: PerSchema::default(),
        }
    }

    /// The same generator retrieving examples with another embedding model (MiniLM).
    pub fn with_embedder(mut self, embedder: Arc<dyn cbi_types::EmbeddingModel>) -> Self {
        self.embedder = embedder;
        self.schemas = PerSchema::default();
        self
    }

    /// The schema's example store and validator, built on first use.
    async fn schema_state(&self, request: &GenerationRequest) -> Arc<SchemaState> {
        if let Some(state) = self.schemas.get(&request.schema) {
            return state;
        }
        let verified = &request.schema.semantic.verified_queries;
        let mut examples = ExampleStore::new(self.embedder.clone(), verified.len());
        let pairs = verified
            .iter()
            .map(|v| Example {
                question: v.question.clone(),
                sql: v.sql.clone(),
            })
            .collect();
        // An embedder that fails leaves the store empty: prompts then go without examples.
        let _ = examples.add(pairs).await;
        let validator = SqlValidator::new(request.dialect, Arc::new(request.schema.schema.clone()));
        let grammar = SqlGrammar::for_schema(&request.schema.schema, request.dialect).to_gbnf();
        let index = SchemaIndex::new(request.schema.clone());
        self.schemas.insert(
            &request.schema,
            SchemaState {
                examples,
                validator,
                grammar,
                index,
            },
        )
    }

    /// The same generator under another name (`openai:gpt-4o`), for reports and answers.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Asks the model, corrects it with every problem the validator finds and every error the
    /// database reports on a trial run, and — when the answer is doubtful — samples more
    /// candidates and votes by what they return. `draft` is the embedded generator's reading
    /// when the caller already has it (its tables order the schema, its SQL is offered as a
    /// draft and gets a vote); otherwise the question is linked here.
    pub async fn answer(
        &self,
        request: &GenerationRequest,
        draft: Option<&SqlCandidate>,
    ) -> Result<SqlCandidate> {
        let focus = match draft {
            Some(d) => d.tables.clone(),
            None => self.focus(request).await,
        };
        let hint = draft.and_then(|d| d.sql.as_deref());
        let state = self.schema_state(request).await;
        let examples: Vec<Example> = state
            .examples
            .find_similar(&request.question, self.prompts.opts.examples)
            .await
            .map(|found| found.into_iter().map(|(_, e)| e.clone()).collect())
            .unwrap_or_default();
        let values = matched_values(&state.index, &request.question);
        let first_messages = self
            .prompts
            .messages(request, &focus, &values, &examples, hint);
        let mut messages = first_messages.clone();
        let grammar = self.prompts.opts.constrain.then(|| state.grammar.clone());
        let validator = &state.validator;
        let mut usage = TokenUsage::default();
        let mut reasons = Vec::new();
        let attempts = self.prompts.opts.max_attempts.max(1);
        let mut last: Option<String> = None;
        let mut found: Option<(String, Option<TrialOutcome>, usize)> = None;
        for attempt in 1..=attempts {
            let completion = self
                .model
                .complete(&CompletionRequest {
                    messages: messages.clone(),
                    max_tokens: Some(self.prompts.opts.max_tokens),
                    temperature: Some(self.prompts.opts.temperature),
                    grammar: grammar.clone(),
                    ..CompletionRequest::default()
                })
                .await?;
            usage.prompt_tokens += completion.usage.prompt_tokens;
            usage.completion_tokens += completion.usage.completion_tokens;
            let feedback = match extract_sql(&completion.text) {
                None => "Your answer held no SQL query. Answer with one SELECT statement in a ```sql block.".to_string(),
                Some(sql) => match checked(request, validator, sql) {
                    (sql, Ok(repairs)) => match trial(request, &sql).await {
                        Some(Err(error)) => {
                            last = Some(sql);
                            format!(
                                "That query failed when run on the database: {error}. Write a \
                                 corrected query in a ```sql block."
                            )
                        }
                        outcome => {
                            if !repairs.is_empty() {
                                reasons.push(format!(
                                    "column references repaired: {}",
                                    repairs.join(", ")
                                ));
                            }
                            found = Some((sql, outcome.and_then(|o| o.ok()), attempt));
                            break;
                        }
                    },
                    (sql, Err(problems)) => {
                        last = Some(sql.clone());
                        format!(
                            "That query cannot run: {}. Write a corrected query in a ```sql block.",
                            summarize(&problems)
                        )
                    }
                },
            };
            messages.push(ChatMessage::assistant(completion.text));
            messages.push(ChatMessage::user(feedback));
        }
        let Some((mut sql, outcome, attempt)) = found else {
            // The greedy chain of corrections went nowhere: fresh samples of the first prompt
            // may still hold a query that runs; the one most of them agree on answers.
            if self.prompts.opts.vote_samples > 0 && request.trial.is_some() {
                let (ballots, spent) = self
                    .samples(request, &first_messages, grammar.clone(), validator)
                    .await;
                usage.prompt_tokens += spent.prompt_tokens;
                usage.completion_tokens += spent.completion_tokens;
                if !ballots.is_empty() {
                    let (winner, votes, counted) = vote(&ballots);
                    return Ok(SqlCandidate {
                        sql: Some(ballots[winner].0.clone()),
                        confidence: 0.2 + 0.4 * votes as f32 / counted.max(1) as f32,
                        reasons: vec![format!(
                            "no corrected answer ran after {attempts} attempts; chosen by \
                             execution vote among fresh samples ({votes} of {counted} agree)"
                        )],
                        explanation: format!("Written by {} from the schema.", self.name),
                        tables: focus,
                        usage,
                        generator: self.name.clone(),
                        ..SqlCandidate::default()
                    });
                }
            }
            return Err(Error::NotUnderstood(format!(
                "{} did not write a query that passes validation and runs in {attempts} attempts{}",
                self.name,
                last.map(|s| format!(" (last: {s})")).unwrap_or_default()
            )));
        };
        if attempt > 1 {
            reasons.push(format!("corrected after {attempt} attempts"));
        }
        let mut confidence = match attempt {
            1 => 0.75,
            2 => 0.6,
            _ => 0.5,
        };
        // Doubt, and what it rests on: a correction, an empty answer, or disagreement with the
        // embedded reading. Doubtful answers are put to a vote of fresh samples.
        if let Some(outcome) = outcome {
            let draft_ballot = match hint {
                Some(d) if validator.validate(d).is_ok() => trial(request, d)
                    .await
                    .and_then(|o| o.ok())
                    .map(|o| (d.to_string(), o)),
                _ => None,
            };
            let mut doubts = Vec::new();
            if attempt > 1 {
                doubts.push("needed correction");
            }
            if outcome.rows == 0 {
                doubts.push("returned no rows");
            }
            if draft_ballot
                .as_ref()
                .is_some_and(|(_, o)| o.fingerprint != outcome.fingerprint)
            {
                doubts.push("disagrees with the embedded reading");
            }
            if !doubts.is_empty() && self.prompts.opts.vote_samples > 0 {
                let mut ballots = vec![(sql.clone(), outcome)];
                ballots.extend(draft_ballot);
                let (samples, spent) = self
                    .samples(request, &first_messages, grammar.clone(), validator)
                    .await;
                usage.prompt_tokens += spent.prompt_tokens;
                usage.completion_tokens += spent.completion_tokens;
                ballots.extend(samples);
                let (winner, votes, counted) = vote(&ballots);
                if ballots[winner].0 != sql {
                    reasons.push(format!(
                        "chosen by execution vote ({votes} of {counted} candidates agree) over \
                         the first answer, which {}",
                        doubts.join(" and ")
                    ));
                } else {
                    reasons.push(format!(
                        "{votes} of {counted} candidates agree after the first answer {}",
                        doubts.join(" and ")
                    ));
                }
                sql = ballots[winner].0.clone();
                confidence = 0.3 + 0.55 * votes as f32 / counted.max(1) as f32;
            } else if !doubts.is_empty() {
                reasons.push(format!("the answer {}", doubts.join(" and ")));
                confidence -= 0.15;
            }
        }
        Ok(SqlCandidate {
            sql: Some(sql),
            confidence,
            reasons,
            explanation: format!("Written by {} from the schema.", self.name),
            tables: focus,
            usage,
            generator: self.name.clone(),
            ..SqlCandidate::default()
        })
    }

    /// Fresh candidates sampled at the voting temperature, each kept only when it passes the
    /// validator and runs; with what the sampling cost.
    async fn samples(
        &self,
        request: &GenerationRequest,
        messages: &[ChatMessage],
        grammar: Option<String>,
        validator: &SqlValidator,
    ) -> (Vec<(String, TrialOutcome)>, TokenUsage) {
        let opts = &self.prompts.opts;
        let Ok(completion) = self
            .model
            .complete(&CompletionRequest {
                messages: messages.to_vec(),
                max_tokens: Some(opts.max_tokens),
                temperature: Some(opts.vote_temperature),
                n: Some(opts.vote_samples),
                grammar,
                ..CompletionRequest::default()
            })
            .await
        else {
            return (Vec::new(), TokenUsage::default());
        };
        let texts = if completion.choices.is_empty() {
            vec![completion.text]
        } else {
            completion.choices
        };
        let mut out = Vec::new();
        for text in texts {
            let Some(sql) = extract_sql(&text) else {
                continue;
            };
            let (sql, Ok(_)) = checked(request, validator, sql) else {
                continue;
            };
            if let Some(Ok(o)) = trial(request, &sql).await {
                out.push((sql, o));
            }
        }
        (out, completion.usage)
    }

    /// Tables the embedded linker reads in the question, for the schema's order.
    async fn focus(&self, request: &GenerationRequest) -> Vec<String> {
        let quiet = GenerationRequest {
            clarify: false,
            ..request.clone()
        };
        self.linker
            .generate(&quiet)
            .await
            .ok()
            .and_then(|c| c.into_iter().next())
            .map(|c| c.tables)
            .unwrap_or_default()
    }
}

#[async_trait]
impl SqlGenerator for ModelGenerator {
    fn name(&self) -> &str {
        &self.name
    }

    async fn generate(&self, request: &GenerationRequest) -> Result<Vec<SqlCandidate>> {
        Ok(vec![self.answer(request, None).await?])
    }
}

/// The embedded answer where its confidence is high, otherwise the model's, with the embedded
/// reading offered to the model as a draft.
#[derive(Debug)]
pub struct HybridGenerator {
    embedded: EmbeddedGenerator,
    model: ModelGenerator,
    /// The embedded confidence from which its answer is used as it is.
    pub threshold: f32,
    name: String,
}

impl HybridGenerator {
    pub fn new(model: ModelGenerator, threshold: f32) -> Self {
        HybridGenerator {
            name: format!("hybrid:{}", model.name),
            embedded: EmbeddedGenerator::new(),
            model,
            threshold,
        }
    }
}

#[async_trait]
impl SqlGenerator for HybridGenerator {
    fn name(&self) -> &str {
        &self.name
    }

    async fn generate(&self, request: &GenerationRequest) -> Result<Vec<SqlCandidate>> {
        let embedded = self.embedded.generate(request).await;
        let first = embedded.as_ref().ok().and_then(|c| c.first().cloned());
        if let Some(c) = &first {
            // A clarifying question or a confident answer is the embedded generator's to give.
            if c.clarification.is_some() || (c.sql.is_some() && c.confidence >= self.threshold) {
                return Ok(vec![c.clone()]);
            }
        }
        match self.model.answer(request, first.as_ref()).await {
            Ok(m) => Ok(vec![m]),
            // The model failed: the embedded reading, if any, with what happened.
            Err(e) => match first {
                Some(mut c) if c.sql.is_some() => {
                    c.reasons.push(format!("the model could not answer: {e}"));
                    Ok(vec![c])
                }
                _ => Err(e),
            },
        }
    }
}

/// The most cell values a prompt spells out.
const MAX_VALUES: usize = 8;

/// The cell values `question` names, as `table.column = 'value'` in the database's own spelling
/// (the question's "past due" is stored as `'past_due'`), so a model filters on what is there.
/// Exact matches of a span only, at most three columns a span and eight in all.
pub fn matched_values(index: &SchemaIndex, question: &str) -> Vec<String> {
    let tokens = crate::text::tokenize(question);
    let mut out: Vec<String> = Vec::new();
    for mention in crate::link::link(&tokens, index) {
        if mention.partial {
            continue;
        }
        for v in mention.values.iter().take(3) {
            let line = format!(
                "{}.{} = '{}'",
                index.table(v.table).name,
                index.column_name(v.table, v.column),
                v.value.replace('\'', "''")
            );
            if !out.contains(&line) {
                out.push(line);
            }
        }
    }
    out.truncate(MAX_VALUES);
    out
}

/// `sql` as the validator accepts it, or its problems. When unknown columns are the only
/// problems, the references [`repair_columns`] can place unambiguously are rewritten and the
/// repair is validated instead; the changes come with it.
fn checked(
    request: &GenerationRequest,
    validator: &SqlValidator,
    sql: String,
) -> (String, std::result::Result<Vec<String>, Vec<Problem>>) {
    match validator.validate(&sql) {
        Ok(_) => (sql, Ok(Vec::new())),
        Err(problems) => {
            if problems
                .iter()
                .all(|p| p.kind == ProblemKind::UnknownColumn)
            {
                if let Some((fixed, changes)) =
                    repair_columns(&sql, request.dialect, &request.schema.schema)
                {
                    if validator.validate(&fixed).is_ok() {
                        return (fixed, Ok(changes));
                    }
                }
            }
            (sql, Err(problems))
        }
    }
}

/// Runs `sql` through the request's trial runner, if it has one.
async fn trial(
    request: &GenerationRequest,
    sql: &str,
) -> Option<std::result::Result<TrialOutcome, String>> {
    match &request.trial {
        Some(t) => Some(t.trial(sql).await),
        None => None,
    }
}

/// Execution-guided vote: ballots grouped by what they returned; answers with rows outvote
/// empty ones (an empty result is the commonest wrong answer); ties go to the earliest ballot
/// (the greedy answer first). Returns the winning ballot's index, its votes and the ballots
/// counted.
pub fn vote(ballots: &[(String, TrialOutcome)]) -> (usize, usize, usize) {
    let with_rows = ballots.iter().any(|(_, o)| o.rows > 0);
    let counted: Vec<usize> = (0..ballots.len())
        .filter(|&i| !with_rows || ballots[i].1.rows > 0)
        .collect();
    let mut best = (0, 0);
    for &i in &counted {
        let votes = counted
            .iter()
            .filter(|&&j| ballots[j].1.fingerprint == ballots[i].1.fingerprint)
            .count();
        if votes > best.1 {
            best = (i, votes);
        }
    }
    (best.0, best.1, counted.len())
}

/// The baseline the model path is measured against: the whole schema as DDL and the question,
/// one greedy call, no examples, no conversation, no evidence, no correction.
#[derive(Debug)]
pub struct NaiveGenerator {
    model: Arc<dyn LanguageModel>,
    name: String,
    max_tokens: u32,
}

impl NaiveGenerator {
    pub fn new(model: Arc<dyn LanguageModel>, name: impl Into<String>) -> Self {
        NaiveGenerator {
            model,
            name: name.into(),
            max_tokens: ModelOptions::default().max_tokens,
        }
    }

    /// The two messages of the baseline.
    pub fn messages(&self, request: &GenerationRequest) -> Vec<ChatMessage> {
        let schema = render_prompt(
            &request.schema,
            &RenderOptions {
                budget_chars: usize::MAX,
                focus: Vec::new(),
            },
        );
        vec![
            ChatMessage::system(format!(
                "Write one {} SQL query that answers the question. Answer with the SQL only.",
                dialect_name(request.dialect)
            )),
            ChatMessage::user(format!("{schema}\nQuestion: {}", request.question.trim())),
        ]
    }
}

#[async_trait]
impl SqlGenerator for NaiveGenerator {
    fn name(&self) -> &str {
        &self.name
    }

    async fn generate(&self, request: &GenerationRequest) -> Result<Vec<SqlCandidate>> {
        let completion = self
            .model
            .complete(&CompletionRequest {
                messages: self.messages(request),
                max_tokens: Some(self.max_tokens),
                temperature: Some(0.0),
                ..CompletionRequest::default()
            })
            .await?;
        let sql = extract_sql(&completion.text)
            .ok_or_else(|| Error::NotUnderstood(format!("{} answered without SQL", self.name)))?;
        Ok(vec![SqlCandidate {
            sql: Some(sql),
            confidence: 0.5,
            explanation: format!("Written by {} from the whole schema.", self.name),
            usage: completion.usage,
            generator: self.name.clone(),
            ..SqlCandidate::default()
        }])
    }
}
