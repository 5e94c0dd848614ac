use std::sync::Arc;
use std::time::{Duration, Instant};

use cbi_context::{
    ClarificationEngine, ContextTracker, Edit, Focus, ReferenceResolver, Resolution,
    ResolveOptions, Resolved,
};
use cbi_nl2sql::{
    EmbeddedGenerator, GenerationRequest, SchemaIndex, SemanticQuery, SqlCandidate, SqlGenerator,
    SqlValidator, TrialOutcome, TrialRunner, ValidatorOptions,
};
use cbi_schema::{AugmentOptions, CacheOptions, SchemaAugmenter, SchemaCache, check_semantic};
use cbi_session::SessionManager;
use cbi_types::{
    Access, AugmentedSchema, Clarification, Config, Connection, ConversationTurn, Intent,
    QueryLimits, SemanticModel, SessionId,
};
use chrono::Utc;
use dashmap::DashMap;

use crate::cache::{CachedSql, Caches, rows_key, semantic_digest, shared_cache_tier};
use crate::door::{AskOptions, Asker, Principal, SessionInfo, Stage, StageSink, owned};
use crate::response::{CacheUse, ConfidenceBand, QueryResponse, Timings, summarize_result};
use crate::suggest;
use crate::{Error, Result};

/// How many first questions the engine finds per schema view.
const SUGGESTIONS: usize = 6;

/// How sure the embedded generator must be of a question before it is suggested.
const SUGGESTION_CONFIDENCE: f32 = 0.8;

/// Knobs of the engine beyond the configuration file.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Ask a clarifying question when a question is ambiguous (benchmarks turn this off).
    pub clarify: bool,
    /// The user sessions belong to when none is given.
    pub user_id: String,
    /// How much the schema augmenter may read.
    pub augment: AugmentOptions,
    /// "Today" for relative dates; by default the latest date in the data.
    pub reference_date: Option<chrono::NaiveDate>,
    /// Read follow-ups ("which had the highest?", "only 2023") against the conversation
    /// (`cbi-context`); off, every question is answered on its own (a baseline to measure
    /// against).
    pub follow_ups: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            clarify: true,
            user_id: "default".to_string(),
            augment: AugmentOptions::default(),
            reference_date: None,
            follow_ups: true,
        }
    }
}

/// A database the engine can answer questions about.
struct Database {
    conn: Arc<dyn Connection>,
    /// The semantic file's model, plus the answers people accepted as verified examples.
    semantic: std::sync::RwLock<Arc<SemanticModel>>,
    ready: tokio::sync::Mutex<Option<Arc<Ready>>>,
    /// What each restricted user sees, by [`Access::fingerprint`], for the schema version of
    /// the `Ready` it was cut from.
    views: DashMap<String, Arc<Ready>>,
}

impl Database {
    fn semantic(&self) -> Arc<SemanticModel> {
        self.semantic
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("conn", &self.conn)
            .finish_non_exhaustive()
    }
}

/// Everything built once per schema version.
#[derive(Debug)]
struct Ready {
    schema: Arc<AugmentedSchema>,
    /// The full schema this one was cut from (itself when unrestricted).
    base: Option<Arc<AugmentedSchema>>,
    validator: SqlValidator,
    /// The schema's index, for reading follow-ups against the conversation's focus.
    index: Arc<SchemaIndex>,
    /// First questions to suggest over this schema, found on first request.
    suggestions: tokio::sync::OnceCell<Vec<String>>,
    /// A digest of the semantic model this view answers with (cache keys name it).
    semantic_digest: String,
}

/// Runs a generator's candidates for its own checks (self-correction on database errors,
/// execution-guided voting): through the engine's validator, read-only, under limits smaller
/// than an answer's.
#[derive(Debug)]
struct Trial {
    conn: Arc<dyn Connection>,
    ready: Arc<Ready>,
    limits: QueryLimits,
}

/// At most 2,000 rows, 4 MiB and 5 s (or the configured limits when smaller): enough to tell
/// answers apart, never a full answer's cost.
fn trial_limits(answer: &QueryLimits) -> QueryLimits {
    QueryLimits {
        max_rows: answer.max_rows.min(2_000),
        timeout: answer.timeout.min(Duration::from_secs(5)),
        max_bytes: answer.max_bytes.min(4 << 20),
    }
}

#[async_trait::async_trait]
impl TrialRunner for Trial {
    async fn trial(&self, sql: &str) -> std::result::Result<TrialOutcome, String> {
        let validated = self
            .ready
            .validator
            .validate(sql)
            .map_err(|p| cbi_nl2sql::validate::summarize(&p))?;
        self.conn
            .query(&validated.sql, self.limits)
            .await
            .map(|r| TrialOutcome::of(&r))
            .map_err(|e| e.to_string())
    }
}

/// The conversational BI engine. Cheap to share behind an `Arc`; every method takes `&self`.
#[derive(Debug)]
pub struct ConversationalBiEngine {
    config: Config,
    opts: EngineOptions,
    sessions: Arc<SessionManager>,
    schemas: SchemaCache,
    databases: DashMap<String, Arc<Database>>,
    generator: Arc<dyn SqlGenerator>,
    /// The answer caches; None when `cache.enable_query_cache` is off.
    caches: Option<Caches>,
}

impl ConversationalBiEngine {
    /// An engine configured by a configuration file (sessions in the configured store).
    pub async fn new(config: Config) -> Result<Self> {
        // A configured model that cannot be set up is an error here, not a silent fallback.
        let generator = generator_from_config(&config)?;
        let sessions = Arc::new(SessionManager::open(&config.session).await?);
        let shared = shared_cache_tier(&config.cache).await?;
        let mut engine = Self::with_sessions(config, sessions, EngineOptions::default())
            .with_generator(generator);
        if let Some(tier) = shared {
            engine = engine.with_shared_cache(tier);
        }
        Ok(engine)
    }

    /// The same engine keeping its cached answers in `tier` too, shared with every process
    /// that uses it (and looking there first on a miss in this process).
    pub fn with_shared_cache(mut self, tier: Arc<dyn cbi_cache::SharedTier>) -> Self {
        self.caches = Caches::new(&self.config.cache, Some(tier));
        self
    }

    /// Hit and miss counts of the SQL and rows caches (None when caching is off).
    pub fn cache_stats(&self) -> Option<(cbi_cache::CacheStats, cbi_cache::CacheStats)> {
        self.caches
            .as_ref()
            .map(|c| (c.sql.stats(), c.rows.stats()))
    }

    /// An engine over an existing session manager (in-memory sessions for tests and benchmarks).
    pub fn with_sessions(
        config: Config,
        sessions: Arc<SessionManager>,
        opts: EngineOptions,
    ) -> Self {
        let cache = CacheOptions {
            dir: config
                .cache
                .enable_schema_cache
                .then(|| config.cache.dir.clone())
                .flatten(),
            ..CacheOptions::default()
        };
        ConversationalBiEngine {
            schemas: SchemaCache::new(SchemaAugmenter::new(opts.augment.clone()), cache),
            generator: generator_for(&config),
            caches: Caches::new(&config.cache, None),
            config,
            opts,
            sessions,
            databases: DashMap::new(),
        }
    }

    /// The same engine writing SQL with another generator (a model pipeline, a hybrid, a test
    /// double). Whatever it writes passes the same validator.
    pub fn with_generator(mut self, generator: Arc<dyn SqlGenerator>) -> Self {
        self.generator = generator;
        self
    }

    /// The generator answering questions (`embedded` unless configured otherwise).
    pub fn generator(&self) -> &Arc<dyn SqlGenerator> {
        &self.generator
    }

    pub fn sessions(&self) -> &Arc<SessionManager> {
        &self.sessions
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Connects to a database (read-only) and returns the name sessions refer to it by (the
    /// connection string with any password masked). Attaching twice reuses the connection.
    pub async fn attach(&self, url: &str, semantic: SemanticModel) -> Result<String> {
        let parsed = cbi_db::ConnectionUrl::parse(url)?;
        let key = parsed.to_string();
        if self.databases.contains_key(&key) {
            return Ok(key);
        }
        let conn = parsed.connect(&cbi_db::ConnectOptions::default()).await?;
        self.attach_connection(&key, conn, semantic);
        Ok(key)
    }

    /// Attaches an already open connection under a name.
    pub fn attach_connection(&self, key: &str, conn: Arc<dyn Connection>, semantic: SemanticModel) {
        self.databases.insert(
            key.to_string(),
            Arc::new(Database {
                conn,
                semantic: std::sync::RwLock::new(Arc::new(semantic)),
                ready: tokio::sync::Mutex::new(None),
                views: DashMap::new(),
            }),
        );
    }

    /// Starts a conversation about a database (attached on the way if needed).
    pub async fn create_session(&self, url: &str) -> Result<SessionId> {
        let key = self.attach(url, SemanticModel::default()).await?;
        Ok(self.sessions.create(&self.opts.user_id, &key).await?)
    }

    /// Starts a conversation about an attached database, for a user.
    pub async fn create_session_for(&self, user_id: &str, key: &str) -> Result<SessionId> {
        if !self.databases.contains_key(key) {
            return Err(Error::UnknownDatabase(key.to_string()));
        }
        Ok(self.sessions.create(user_id, key).await?)
    }

    /// The augmented schema of an attached database.
    pub async fn schema(&self, key: &str) -> Result<Arc<AugmentedSchema>> {
        let db = self.database(key)?;
        Ok(self.ready(key, &db).await?.schema.clone())
    }

    fn database(&self, key: &str) -> Result<Arc<Database>> {
        self.databases
            .get(key)
            .map(|d| d.clone())
            .ok_or_else(|| Error::UnknownDatabase(key.to_string()))
    }

    async fn ready(&self, key: &str, db: &Database) -> Result<Arc<Ready>> {
        let semantic = db.semantic();
        let schema = self.schemas.get(key, &db.conn, &semantic).await?;
        let mut slot = db.ready.lock().await;
        if let Some(r) = slot.as_ref() {
            if Arc::ptr_eq(&r.schema, &schema) {
                return Ok(r.clone());
            }
        }
        if !semantic.is_empty() {
            check_semantic(
                &semantic,
                &schema.schema,
                std::path::Path::new("semantic file"),
            )?;
        }
        let validator = self.validator(db, &schema, Vec::new());
        let index = Arc::new(SchemaIndex::new(schema.clone()));
        let ready = Arc::new(Ready {
            semantic_digest: semantic_digest(&schema),
            schema,
            base: None,
            validator,
            index,
            suggestions: Default::default(),
        });
        db.views.clear();
        if let Some(c) = &self.caches {
            // Keys name the schema and semantic file, so old entries would never be found
            // again; this frees them.
            c.invalidate_all();
        }
        *slot = Some(ready.clone());
        Ok(ready)
    }

    fn validator(
        &self,
        db: &Database,
        schema: &AugmentedSchema,
        partial: Vec<String>,
    ) -> SqlValidator {
        SqlValidator::new(db.conn.dialect(), Arc::new(schema.schema.clone())).with_options(
            ValidatorOptions {
                // One row past the cap, so a result cut off by the connection's row cap is
                // reported as truncated instead of looking exactly full.
                default_limit: self.config.performance.max_rows as u64 + 1,
                allowed_functions: self.config.validator.allowed_functions.clone(),
                allowed_table_functions: self.config.validator.allowed_table_functions.clone(),
                partial_tables: partial,
                ..ValidatorOptions::default()
            },
        )
    }

    /// What a user with `access` answers over: the full schema's [`Ready`], or a view cut
    /// down to the tables and columns they may see — its own validator (which then knows only
    /// those names and refuses wildcards where a table is cut), its own index (so the
    /// generator never plans with a hidden column) and the verified queries still valid in it.
    async fn ready_for(&self, key: &str, db: &Database, access: &Access) -> Result<Arc<Ready>> {
        let full = self.ready(key, db).await?;
        if access.is_all() {
            return Ok(full);
        }
        let fp = access.fingerprint();
        if let Some(v) = db.views.get(&fp) {
            if v.base
                .as_ref()
                .is_some_and(|b| Arc::ptr_eq(b, &full.schema))
            {
                return Ok(v.clone());
            }
        }
        let mut cut = cbi_schema::restrict(&full.schema, access);
        // Wildcards over a table the user sees only part of are refused.
        let partial = cut
            .schema
            .tables
            .iter()
            .filter(|t| !access.whole_table(&t.name))
            .map(|t| t.name.clone())
            .collect();
        let validator = self.validator(db, &cut, partial);
        cut.semantic
            .verified_queries
            .retain(|q| validator.validate(&q.sql).is_ok());
        let schema = Arc::new(cut);
        let digest = semantic_digest(&schema);
        let view = Arc::new(Ready {
            index: Arc::new(SchemaIndex::new(schema.clone())),
            schema,
            base: Some(full.schema.clone()),
            validator,
            suggestions: Default::default(),
            semantic_digest: digest,
        });
        db.views.insert(fp, view.clone());
        Ok(view)
    }

    /// The validated SQL as a person reads it: without the row-cap probe the validator
    /// added, laid out on lines.
    fn shown(&self, v: &cbi_nl2sql::ValidatedSql) -> String {
        let sql = if v.limit_added {
            strip_probe(&v.sql, self.config.performance.max_rows as u64 + 1)
        } else {
            v.sql.clone()
        };
        crate::response::format_sql(&sql)
    }

    fn limits(&self) -> QueryLimits {
        self.config.query_limits()
    }

    /// Answers a question in a session: generates SQL, validates it, runs it read-only and
    /// records the turn.
    ///
    /// This is the single-user door (the session's own user, everything visible); a server
    /// uses [`ask`](Self::ask), which checks who holds the session and what they may see.
    pub async fn process_query(&self, session: SessionId, question: &str) -> Result<QueryResponse> {
        self.answer(session, question, true, None, Asker::default())
            .await
    }

    /// [`process_query`](Self::process_query) with options (a fresh run past the caches).
    pub async fn process_query_with(
        &self,
        session: SessionId,
        question: &str,
        options: AskOptions,
    ) -> Result<QueryResponse> {
        let asker = Asker {
            fresh: options.fresh,
            ..Asker::default()
        };
        self.answer(session, question, true, None, asker).await
    }

    /// Like [`ConversationalBiEngine::process_query`] but without running the SQL (the
    /// response has no result). For benchmarks and `--dry-run`.
    pub async fn generate_only(&self, session: SessionId, question: &str) -> Result<QueryResponse> {
        self.answer(session, question, false, None, Asker::default())
            .await
    }

    /// [`generate_only`](Self::generate_only) with domain knowledge that comes with the
    /// question (BIRD's and bizdev's evidence), handed to the generator.
    pub async fn generate_with_evidence(
        &self,
        session: SessionId,
        question: &str,
        evidence: Option<&str>,
    ) -> Result<QueryResponse> {
        self.answer(session, question, false, evidence, Asker::default())
            .await
    }

    async fn answer(
        &self,
        id: SessionId,
        question: &str,
        execute: bool,
        evidence: Option<&str>,
        asker: Asker<'_>,
    ) -> Result<QueryResponse> {
        let t0 = Instant::now();
        let question = question.trim();
        if question.is_empty() {
            return Err(Error::Nothing("the question is empty".into()));
        }
        let session = self.sessions.get(id).await?;
        let all = Access::all();
        let access = match asker.who {
            Some(who) => {
                owned(&session, who)?;
                &who.access
            }
            None => &all,
        };
        let db = self.database(&session.database)?;
        let ready = self.ready_for(&session.database, &db, access).await?;
        let stage = |s: Stage| {
            if let Some(f) = asker.stages {
                f(s)
            }
        };
        let mut timings = Timings {
            schema: t0.elapsed(),
            ..Timings::default()
        };

        if let Some(path) = export_request(question) {
            return self
                .export(id, &session, &db, &ready, question, path, t0, timings)
                .await;
        }

        let g0 = Instant::now();
        let sql_key = self
            .caches
            .as_ref()
            .filter(|_| execute && evidence.is_none())
            .map(|_| {
                crate::cache::sql_key(
                    &session,
                    &ready.schema,
                    &ready.semantic_digest,
                    access,
                    self.generator.name(),
                    question,
                    &self.opts,
                )
            });
        let cached_sql = match (&self.caches, &sql_key) {
            (Some(c), Some(k)) if !asker.fresh => c.sql.get(k).await.map(|(v, _)| v),
            _ => None,
        };
        let sql_from_cache = cached_sql.is_some();
        let generation = match cached_sql {
            Some(c) => c.into_candidate(),
            None => {
                self.generate(&session, &db, &ready, question, evidence)
                    .await?
            }
        };
        timings.generate = g0.elapsed();
        stage(Stage::Understood {
            generator: generation.generator.clone(),
            confidence: generation.confidence,
            explanation: generation.explanation.clone(),
            clarification: generation.clarification.is_some(),
        });

        if let Some(clarification) = generation.clarification.clone() {
            let mut turn = self.turn(question, None, None, Intent::Clarify, &generation);
            turn.turn_id = session.turn_count + 1;
            let clar = clarification.clone();
            let max_turns = self.sessions.config().max_turns;
            let s = self
                .sessions
                .update_context_with(id, move |ctx| {
                    ctx.pending_clarification = Some(clar);
                    ctx.push_turn(turn, max_turns);
                })
                .await?;
            timings.total = t0.elapsed();
            return Ok(QueryResponse {
                session_id: id,
                turn_id: s.turn_count,
                question: question.to_string(),
                intent: Intent::Clarify,
                sql: None,
                shown_sql: None,
                result: None,
                confidence: generation.confidence,
                confidence_band: ConfidenceBand::of(generation.confidence),
                reasons: generation.reasons,
                explanation: generation.explanation,
                summary: None,
                verified: false,
                clarification: Some(clarification),
                export_path: None,
                timings,
                generator: generation.generator.clone(),
                usage: generation.usage,
                cost_usd: generation.cost_usd,
                cache: CacheUse::default(),
            });
        }

        let raw = generation
            .sql
            .clone()
            .ok_or_else(|| Error::Nothing("no SQL was generated".into()))?;
        let v0 = Instant::now();
        let validated = ready.validator.validate(&raw).map_err(Error::Invalid)?;
        timings.validate = v0.elapsed();
        stage(Stage::Validated {
            sql: validated.sql.clone(),
        });
        if let (Some(c), Some(k), false) = (&self.caches, sql_key, sql_from_cache) {
            c.sql.insert(k, CachedSql::of(&generation, &raw)).await;
        }

        let mut rows_from_cache = false;
        let result = if execute {
            let e0 = Instant::now();
            let rows_key = self.caches.as_ref().map(|_| {
                rows_key(
                    &session.database,
                    &ready.schema,
                    &validated.sql,
                    &self.limits(),
                )
            });
            let cached = match (&self.caches, &rows_key) {
                (Some(c), Some(k)) if !asker.fresh => c.rows.get(k).await.map(|(r, _)| r),
                _ => None,
            };
            let r = match cached {
                Some(r) => {
                    rows_from_cache = true;
                    r
                }
                None => {
                    let r = db.conn.query(&validated.sql, self.limits()).await?;
                    if let (Some(c), Some(k)) = (&self.caches, rows_key) {
                        c.rows.insert(k, r.clone()).await;
                    }
                    r
                }
            };
            timings.execute = e0.elapsed();
            stage(Stage::Rows {
                rows: r.rows.len(),
                truncated: r.truncated,
            });
            Some(r)
        } else {
            None
        };
        let summary = result.as_ref().map(summarize_result);
        if let Some(text) = &summary {
            stage(Stage::Summary { text: text.clone() });
        }
        let mut turn = self.turn(
            question,
            Some(validated.sql.clone()),
            summary.clone(),
            generation.intent,
            &generation,
        );
        turn.turn_id = session.turn_count + 1;
        let tables: Vec<String> = generation.tables.clone();
        let max_turns = self.sessions.config().max_turns;
        let planned: Option<SemanticQuery> = generation
            .plan
            .as_ref()
            .and_then(|p| serde_json::from_value(p.clone()).ok());
        let focus = Focus::of(
            turn.turn_id,
            question,
            planned.as_ref(),
            Some(&validated.sql),
        );
        // One update: the turn and what it changed in the context, counted once.
        let s = self
            .sessions
            .update_context_with(id, move |ctx| {
                ctx.pending_clarification = None;
                ContextTracker::observe(ctx, &focus);
                if let Some(first) = tables.first() {
                    ctx.current_focus = Some(first.clone());
                }
                ctx.mentioned_tables.extend(tables);
                ctx.push_turn(turn, max_turns);
            })
            .await?;
        timings.total = t0.elapsed();
        Ok(QueryResponse {
            session_id: id,
            turn_id: s.turn_count,
            question: question.to_string(),
            intent: generation.intent,
            shown_sql: Some(self.shown(&validated)),
            sql: Some(validated.sql),
            result,
            confidence: generation.confidence,
            confidence_band: ConfidenceBand::of(generation.confidence),
            reasons: generation.reasons,
            explanation: generation.explanation,
            summary,
            verified: generation.verified,
            clarification: None,
            export_path: None,
            timings,
            generator: generation.generator,
            usage: generation.usage,
            cost_usd: generation.cost_usd,
            cache: CacheUse {
                sql: sql_from_cache,
                rows: rows_from_cache,
            },
        })
    }

    /// SQL for a question: a sure edit of the conversation's last answer, a clarifying
    /// question, or the generator's candidate.
    async fn generate(
        &self,
        session: &cbi_types::Session,
        db: &Database,
        ready: &Arc<Ready>,
        question: &str,
        evidence: Option<&str>,
    ) -> Result<SqlCandidate> {
        // An answer to a clarifying question re-asks the original question with the choice.
        let mut choices = Vec::new();
        let mut asked = question.to_string();
        if let Some(c) = &session.context.pending_clarification {
            if let Some(payload) = pick_option(c, question) {
                choices.push(payload);
                asked = c.original_query.clone();
            }
        }
        // A pick of an earlier answer (asked because a follow-up's reference was unclear)
        // resumes the follow-up against that answer.
        let mut picked_focus = None;
        choices.retain(
            |p| match ClarificationEngine::resume(p, &session.context, &ready.index) {
                Some(f) => {
                    picked_focus = Some(f);
                    false
                }
                None => true,
            },
        );
        let focus = picked_focus
            .or_else(|| ContextTracker::focus(&session.context, &ready.index))
            .filter(|_| self.opts.follow_ups);
        let resolution = ReferenceResolver::new(
            &ready.index,
            ResolveOptions {
                reference_date: self.opts.reference_date,
            },
        )
        .resolve(&asked, focus.as_ref());
        let embedded = self.generator.name() == "embedded";
        let mut unclear = None;
        let mut resolved = None;
        match resolution {
            // The resolver answers the edits it is sure of; with a model configured, the rest
            // goes to the model, which sees the conversation in its prompt.
            Resolution::Resolved(r) if embedded || r.confidence >= 0.9 => {
                resolved = resolved_candidate(&r, &ready.index, db.conn.dialect());
            }
            Resolution::Unclear(u) if embedded => {
                if self.opts.clarify {
                    if let Some(c) = ClarificationEngine::ask(&u, &session.context, &asked) {
                        resolved = Some(SqlCandidate {
                            sql: None,
                            confidence: 0.0,
                            reasons: vec![u.message.clone()],
                            explanation: u.message.clone(),
                            intent: Intent::Clarify,
                            tables: Vec::new(),
                            plan: None,
                            verified: false,
                            clarification: Some(c),
                            usage: Default::default(),
                            cost_usd: 0.0,
                            generator: "context".into(),
                        });
                    }
                }
                unclear = Some(u);
            }
            _ => {}
        }
        let request = GenerationRequest {
            question: asked,
            context: session.context.clone(),
            schema: ready.schema.clone(),
            dialect: db.conn.dialect(),
            evidence: evidence.map(str::to_string),
            choices,
            reference_date: self.opts.reference_date,
            clarify: self.opts.clarify,
            trial: Some(Arc::new(Trial {
                conn: db.conn.clone(),
                ready: ready.clone(),
                limits: trial_limits(&self.limits()),
            })),
        };
        Ok(match resolved {
            Some(c) => c,
            None => {
                let mut g = self
                    .generator
                    .generate(&request)
                    .await?
                    .into_iter()
                    .next()
                    .ok_or_else(|| Error::Nothing("no SQL was generated".into()))?;
                // A follow-up answered as if it stood alone is never sure.
                if let Some(u) = &unclear {
                    g.confidence = g.confidence.min(0.5);
                    g.reasons.push(format!(
                        "\"{}\" seems to refer to an earlier answer, which could not be read; answered as a new question",
                        u.phrase
                    ));
                }
                g
            }
        })
    }

    fn turn(
        &self,
        question: &str,
        sql: Option<String>,
        summary: Option<String>,
        intent: Intent,
        g: &SqlCandidate,
    ) -> ConversationTurn {
        ConversationTurn {
            turn_id: 0,
            timestamp: Utc::now(),
            user_query: question.to_string(),
            sql,
            results_summary: summary,
            entities_mentioned: g.tables.clone(),
            intent,
            plan: g.plan.clone(),
        }
    }

    /// "export that (to FILE)": runs the last answer's SQL again, for the caller to save.
    #[allow(clippy::too_many_arguments)]
    async fn export(
        &self,
        id: SessionId,
        session: &cbi_types::Session,
        db: &Database,
        ready: &Ready,
        question: &str,
        path: Option<String>,
        t0: Instant,
        mut timings: Timings,
    ) -> Result<QueryResponse> {
        let last = session
            .context
            .last_sql_turn()
            .and_then(|t| t.sql.clone())
            .ok_or_else(|| Error::Nothing("there is no earlier answer to export yet".into()))?;
        let validated = ready.validator.validate(&last).map_err(Error::Invalid)?;
        let e0 = Instant::now();
        let result = db.conn.query(&validated.sql, self.limits()).await?;
        timings.execute = e0.elapsed();
        let summary = summarize_result(&result);
        let turn = ConversationTurn {
            turn_id: 0,
            timestamp: Utc::now(),
            user_query: question.to_string(),
            sql: Some(validated.sql.clone()),
            results_summary: Some(summary.clone()),
            entities_mentioned: Vec::new(),
            intent: Intent::Export,
            plan: None,
        };
        let s = self.sessions.record_turn(id, turn).await?;
        timings.total = t0.elapsed();
        Ok(QueryResponse {
            session_id: id,
            turn_id: s.turn_count,
            question: question.to_string(),
            intent: Intent::Export,
            shown_sql: Some(self.shown(&validated)),
            sql: Some(validated.sql),
            result: Some(result),
            confidence: 1.0,
            confidence_band: ConfidenceBand::High,
            reasons: Vec::new(),
            explanation: "Exports the previous answer.".into(),
            summary: Some(summary),
            verified: false,
            clarification: None,
            export_path: path,
            timings,
            generator: String::new(),
            usage: cbi_types::TokenUsage::default(),
            cost_usd: 0.0,
            cache: CacheUse::default(),
        })
    }

    /// Removes sessions idle past the configured timeout (also done by
    /// [`SessionManager::spawn_expiry_task`]).
    pub async fn expire_idle(&self) -> Result<usize> {
        Ok(self.sessions.expire_idle().await?)
    }

    /// Runs a person's own SQL on an attached database under the rules generated SQL obeys:
    /// the validator (the same one, with the configured function lists) and the configured
    /// row, byte and time limits. Returns the statement as it ran and its result.
    pub async fn run_sql(&self, key: &str, sql: &str) -> Result<(String, cbi_types::QueryResult)> {
        let db = self.database(key)?;
        let ready = self.ready(key, &db).await?;
        let validated = ready.validator.validate(sql).map_err(Error::Invalid)?;
        let result = db.conn.query(&validated.sql, self.limits()).await?;
        Ok((validated.sql, result))
    }

    /// The database's own plan for a statement (after validation), for `:explain`.
    pub async fn explain(&self, key: &str, sql: &str) -> Result<String> {
        let db = self.database(key)?;
        let ready = self.ready(key, &db).await?;
        let validated = ready.validator.validate(sql).map_err(Error::Invalid)?;
        Ok(db.conn.explain(&validated.sql).await?)
    }

    /// The database a session talks to (its key for [`ConversationalBiEngine::schema`]).
    pub async fn session_database(&self, session: SessionId) -> Result<String> {
        Ok(self.sessions.get(session).await?.database)
    }

    /// Time limit applied to every query.
    pub fn query_timeout(&self) -> Duration {
        self.limits().timeout
    }

    // ---- The door: what every front end (CLI, HTTP, MCP) calls, for a given user. ----

    /// Connects to a database (read-only) with its semantic file, if any, and returns its key.
    /// The file is read here and checked against the schema when the schema is first read,
    /// so a file that names a missing table fails here or at the first question, the same way
    /// for every front end.
    pub async fn open(&self, url: &str, semantic_file: Option<&std::path::Path>) -> Result<String> {
        let semantic = match semantic_file {
            Some(path) => cbi_schema::load_semantic(path)?,
            None => SemanticModel::default(),
        };
        let key = self.attach(url, semantic).await?;
        let db = self.database(&key)?;
        self.ready(&key, &db).await?;
        Ok(key)
    }

    /// The keys of the attached databases.
    pub fn databases(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.databases.iter().map(|e| e.key().clone()).collect();
        keys.sort();
        keys
    }

    /// Starts a conversation for a user about an attached database.
    pub async fn start_session(&self, who: &Principal, key: &str) -> Result<SessionId> {
        self.create_session_for(&who.user_id, key).await
    }

    /// Starts a conversation for a user, ending their least recently used ones when they hold
    /// as many as allowed (for a question asked without a session).
    pub async fn start_session_replacing_oldest(
        &self,
        who: &Principal,
        key: &str,
    ) -> Result<SessionId> {
        if !self.databases.contains_key(key) {
            return Err(Error::UnknownDatabase(key.to_string()));
        }
        Ok(self
            .sessions
            .create_replacing_oldest(&who.user_id, key)
            .await?)
    }

    /// Answers a question in one of the user's sessions, over what the user may see.
    pub async fn ask(
        &self,
        who: &Principal,
        session: SessionId,
        question: &str,
    ) -> Result<QueryResponse> {
        self.ask_with(who, session, question, AskOptions::default(), None)
            .await
    }

    /// [`ask`](Self::ask), reporting each [`Stage`] to `stages` as it completes.
    pub async fn ask_streaming(
        &self,
        who: &Principal,
        session: SessionId,
        question: &str,
        stages: StageSink<'_>,
    ) -> Result<QueryResponse> {
        self.ask_with(who, session, question, AskOptions::default(), Some(stages))
            .await
    }

    /// [`ask`](Self::ask) with options (a fresh run past the caches), optionally streaming
    /// its stages.
    pub async fn ask_with(
        &self,
        who: &Principal,
        session: SessionId,
        question: &str,
        options: AskOptions,
        stages: Option<StageSink<'_>>,
    ) -> Result<QueryResponse> {
        let asker = Asker {
            who: Some(who),
            stages,
            fresh: options.fresh,
        };
        self.answer(session, question, true, None, asker).await
    }

    /// Runs a user's own SQL under the rules generated SQL obeys, over what the user may see:
    /// the validator knows only their tables and columns.
    pub async fn sql(
        &self,
        who: &Principal,
        key: &str,
        sql: &str,
    ) -> Result<(String, cbi_types::QueryResult)> {
        let db = self.database(key)?;
        let ready = self.ready_for(key, &db, &who.access).await?;
        let validated = ready.validator.validate(sql).map_err(Error::Invalid)?;
        let result = db.conn.query(&validated.sql, self.limits()).await?;
        Ok((validated.sql, result))
    }

    /// The database's plan for a statement the user may run.
    pub async fn explain_sql(&self, who: &Principal, key: &str, sql: &str) -> Result<String> {
        let db = self.database(key)?;
        let ready = self.ready_for(key, &db, &who.access).await?;
        let validated = ready.validator.validate(sql).map_err(Error::Invalid)?;
        Ok(db.conn.explain(&validated.sql).await?)
    }

    /// The schema the engine answers this user over: the augmented schema, cut to what they
    /// may see.
    pub async fn describe(&self, who: &Principal, key: &str) -> Result<Arc<AugmentedSchema>> {
        let db = self.database(key)?;
        Ok(self.ready_for(key, &db, &who.access).await?.schema.clone())
    }

    /// A few first questions for this user, drawn from the schema they may see (verified
    /// questions, measures by a grouping column and by month, table counts): each one the
    /// embedded generator answers with confidence and the validator accepts for them. Found
    /// once per schema version and view.
    pub async fn suggestions(
        &self,
        who: &Principal,
        key: &str,
        limit: usize,
    ) -> Result<Vec<String>> {
        let db = self.database(key)?;
        let ready = self.ready_for(key, &db, &who.access).await?;
        let all = ready
            .suggestions
            .get_or_init(|| self.find_suggestions(&db, &ready))
            .await;
        Ok(all.iter().take(limit).cloned().collect())
    }

    async fn find_suggestions(&self, db: &Database, ready: &Ready) -> Vec<String> {
        let own;
        let generator: &dyn SqlGenerator = if self.generator.name() == "embedded" {
            self.generator.as_ref()
        } else {
            // A model is not called just to suggest; the embedded generator vouches instead.
            own = EmbeddedGenerator::new();
            &own
        };
        let mut picker = suggest::Picker::new(SUGGESTIONS);
        for c in suggest::candidates(&ready.schema) {
            if picker.is_full() {
                break;
            }
            if !picker.wants(&c) {
                continue;
            }
            let ok = match &c.source {
                suggest::Source::Verified(sql) => ready.validator.validate(sql).is_ok(),
                suggest::Source::Shaped { .. } => {
                    let mut req = GenerationRequest::new(
                        c.question.as_str(),
                        ready.schema.clone(),
                        db.conn.dialect(),
                    );
                    req.clarify = false;
                    req.reference_date = self.opts.reference_date;
                    generator.generate(&req).await.is_ok_and(|found| {
                        found.first().is_some_and(|g| {
                            g.confidence >= SUGGESTION_CONFIDENCE
                                && g.sql
                                    .as_deref()
                                    .is_some_and(|sql| ready.validator.validate(sql).is_ok())
                        })
                    })
                }
            };
            if ok {
                picker.take(c);
            }
        }
        picker.finish()
    }

    /// The user's live sessions, most recently used first.
    pub async fn list_sessions(&self, who: &Principal) -> Result<Vec<SessionInfo>> {
        Ok(self
            .sessions
            .list_user(&who.user_id)
            .await?
            .iter()
            .map(SessionInfo::of)
            .collect())
    }

    /// One of the user's sessions with its history (to resume it).
    pub async fn session(&self, who: &Principal, id: SessionId) -> Result<cbi_types::Session> {
        let s = self.sessions.get(id).await?;
        owned(&s, who)?;
        Ok(s)
    }

    /// Ends one of the user's sessions.
    pub async fn end_session(&self, who: &Principal, id: SessionId) -> Result<()> {
        let s = self.sessions.get(id).await?;
        owned(&s, who)?;
        self.sessions.delete(id).await?;
        Ok(())
    }

    /// "This is right": keeps an answer of the user's session as a verified example of its
    /// database, so the same question (or one close to it) is answered with that SQL from
    /// now on, for every user who may read what it reads. Held in memory for the life of
    /// the engine; it is not written to the semantic file.
    ///
    /// Refused for a follow-up read against the conversation ("which had the highest?"): on
    /// its own the question means something else.
    pub async fn accept(
        &self,
        who: &Principal,
        id: SessionId,
        turn_id: u32,
    ) -> Result<cbi_types::VerifiedQuery> {
        let session = self.session(who, id).await?;
        let turn = session
            .context
            .turns
            .iter()
            .find(|t| t.turn_id == turn_id)
            .ok_or_else(|| Error::Nothing(format!("turn {turn_id} is not in this session")))?;
        let sql = turn
            .sql
            .clone()
            .filter(|_| turn.intent != Intent::Export)
            .ok_or_else(|| Error::Nothing(format!("turn {turn_id} has no answer to accept")))?;
        let db = self.database(&session.database)?;
        let ready = self.ready_for(&session.database, &db, &who.access).await?;
        // The SQL as it ran carries the row-cap probe; what is kept is re-checked as the
        // verified SQL of the file would be, against what this user may see.
        ready.validator.validate(&sql).map_err(Error::Invalid)?;
        let earlier = session
            .context
            .turns
            .iter()
            .filter(|t| t.turn_id < turn_id && t.sql.is_some())
            .count();
        if earlier > 0 {
            if let Some(focus) = ContextTracker::focus(&session.context, &ready.index) {
                let reading = ReferenceResolver::new(&ready.index, ResolveOptions::default())
                    .read(&turn.user_query, &focus);
                if reading.is_follow_up() {
                    return Err(Error::Nothing(format!(
                        "\"{}\" was read against the conversation; ask it as a whole question to keep its answer",
                        turn.user_query
                    )));
                }
            }
        }
        let verified = cbi_types::VerifiedQuery {
            question: turn.user_query.clone(),
            sql: strip_probe(&sql, self.config.performance.max_rows as u64 + 1),
            description: Some(format!("accepted by {}", who.user_id)),
        };
        {
            let mut slot = db
                .semantic
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut model = (**slot).clone();
            if !model
                .verified_queries
                .iter()
                .any(|q| q.question.eq_ignore_ascii_case(&verified.question))
            {
                model.verified_queries.push(verified.clone());
                *slot = Arc::new(model);
            }
        }
        Ok(verified)
    }
}

/// The SQL without the validator's row-cap probe (`LIMIT <cap+1>` at its very end), which
/// was added, not asked for.
fn strip_probe(sql: &str, probe: u64) -> String {
    let tail = format!(" LIMIT {probe}");
    sql.strip_suffix(&tail).unwrap_or(sql).to_string()
}

/// "export that", "export to sales.csv", "save this as report.csv", "download it": Some(path?)
/// when the question asks to export the previous answer.
fn export_request(question: &str) -> Option<Option<String>> {
    let lower = question.to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let first = words.first().copied().unwrap_or("");
    if !matches!(first, "export" | "save" | "download") {
        return None;
    }
    // "save" and "download" need an object that refers back ("that", "it", "this") or a file.
    let refers = words.iter().any(|w| {
        matches!(
            w.trim_matches(|c: char| !c.is_alphanumeric()),
            "that" | "it" | "this" | "those" | "these" | "results" | "result" | "csv" | "answer"
        )
    });
    let file = question
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| c == '"' || c == '\'' || c == ',' || c == '?' || c == '!')
        })
        .find(|w| w.to_lowercase().ends_with(".csv") || w.to_lowercase().ends_with(".json"))
        .map(str::to_string);
    (first == "export" || refers || file.is_some()).then_some(file)
}

/// The option a reply picks: its number ("2"), or its label.
fn pick_option(c: &Clarification, reply: &str) -> Option<serde_json::Value> {
    let r = reply
        .trim()
        .trim_end_matches(['.', '!', ')'])
        .trim_start_matches('(')
        .trim();
    let by_number = r
        .parse::<usize>()
        .ok()
        .and_then(|k| k.checked_sub(1))
        .and_then(|k| c.options.get(k));
    let by_label = || {
        c.options
            .iter()
            .find(|o| o.label.eq_ignore_ascii_case(r))
            .or_else(|| {
                c.options
                    .iter()
                    .find(|o| r.len() > 2 && o.label.to_lowercase().contains(&r.to_lowercase()))
            })
    };
    by_number.or_else(by_label).map(|o| o.payload.clone())
}

/// The generator the configuration asks for: the embedded generator when no model is
/// configured (or `provider: embedded`); otherwise the hybrid — the embedded answer where its
/// confidence is high, else the configured model (with `models.fallback` behind it through the
/// router: retries, breaker, accounting), shown the embedded reading as a draft.
pub fn generator_from_config(config: &Config) -> Result<Arc<dyn SqlGenerator>> {
    let Some(primary) = config
        .models
        .primary
        .as_ref()
        .filter(|m| m.provider != "embedded")
    else {
        return Ok(Arc::new(EmbeddedGenerator::new()));
    };
    model_generator(
        primary,
        config.models.fallback.as_ref(),
        config.models.embedding.as_ref(),
    )
}

/// The generator a `--model` spec names:
///
/// - `embedded`: the embedded generator;
/// - `<provider>:<model>[@<base_url>]`: the model pipeline alone (`openai:gpt-4o-mini`,
///   `ollama:qwen2.5-coder:1.5b`, `openai-compatible:qwen@http://127.0.0.1:8080/v1`);
/// - `hybrid:<provider>:<model>[@<base_url>]`: the embedded answer where confident, else the
///   model;
/// - `naive:<provider>:<model>[@<base_url>]`: the baseline — whole schema and question, one
///   greedy call, no examples, no correction;
/// - `local:<path.gguf>` (and `hybrid:local:…`, `naive:local:…`): a GGUF model run in this
///   process, when cbi is built with the `local` feature. The file is loaded once per process
///   however often a spec names it.
///
/// API keys, timeouts and a base URL not given in the spec come from `models.primary` when its
/// provider is the same, then from the environment; a local model's `max_tokens` and
/// `temperature` from `models.primary` when it is a `gguf` model.
pub fn generator_from_spec(spec: &str, config: &Config) -> Result<Arc<dyn SqlGenerator>> {
    let spec = spec.trim();
    if spec == "embedded" {
        return Ok(Arc::new(EmbeddedGenerator::new()));
    }
    let (mode, rest) = match spec.split_once(':') {
        Some(("hybrid", rest)) => ("hybrid", rest),
        Some(("naive", rest)) => ("naive", rest),
        _ => ("model", spec),
    };
    // A path may hold `@` and `:`; nothing after `local:` is a base URL.
    if let Some(path) = rest.strip_prefix("local:") {
        return local_generator(mode, spec, path, config);
    }
    let (rest, base_url) = match rest.split_once('@') {
        Some((r, url)) => (r, Some(url.to_string())),
        None => (rest, None),
    };
    let Some((provider, model)) = rest
        .split_once(':')
        .filter(|(p, m)| !p.is_empty() && !m.is_empty())
    else {
        return Err(Error::Model(format!(
            "--model `{spec}`: expected embedded, <provider>:<model>, hybrid:<provider>:<model> \
             or naive:<provider>:<model>"
        )));
    };
    let mut m = config
        .models
        .primary
        .clone()
        .filter(|p| p.provider == provider)
        .unwrap_or(cbi_types::config::ModelConfig {
            provider: provider.to_string(),
            model: String::new(),
            api_key: None,
            base_url: None,
            path: None,
            max_tokens: None,
            temperature: None,
            timeout_secs: None,
        });
    m.model = model.to_string();
    if base_url.is_some() {
        m.base_url = base_url;
    }
    spec_generator(mode, spec, &m, config.models.embedding.as_ref())
}

/// `local:<path>`: the `gguf` provider of cbi-models on that file.
fn local_generator(
    mode: &str,
    spec: &str,
    path: &str,
    config: &Config,
) -> Result<Arc<dyn SqlGenerator>> {
    if path.trim().is_empty() {
        return Err(Error::Model(format!(
            "--model `{spec}`: expected local:<path to a .gguf file>"
        )));
    }
    if !cfg!(feature = "local") {
        return Err(Error::Model(format!(
            "--model {spec}: this build of cbi has no in-process GGUF models; rebuild with \
             --features local (it builds llama.cpp: cmake and clang needed), or serve the model \
             with an OpenAI-compatible server and use openai-compatible:<model>@<url>"
        )));
    }
    let path = std::path::PathBuf::from(path.trim());
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let primary = config
        .models
        .primary
        .as_ref()
        .filter(|p| p.provider == "gguf");
    let m = cbi_types::config::ModelConfig {
        provider: "gguf".into(),
        model: stem,
        path: Some(path),
        max_tokens: primary.and_then(|p| p.max_tokens),
        temperature: primary.and_then(|p| p.temperature),
        ..cbi_types::config::ModelConfig::default()
    };
    spec_generator(mode, spec, &m, config.models.embedding.as_ref())
}

#[cfg(feature = "models")]
fn spec_generator(
    mode: &str,
    spec: &str,
    m: &cbi_types::config::ModelConfig,
    embedding: Option<&cbi_types::config::ModelConfig>,
) -> Result<Arc<dyn SqlGenerator>> {
    use cbi_nl2sql::{HybridGenerator, ModelGenerator, ModelOptions, NaiveGenerator};
    let llm =
        cbi_models::from_config(m).map_err(|e| Error::Model(format!("--model {spec}: {e}")))?;
    let name = match m.provider.as_str() {
        "gguf" => format!("local:{}", m.model),
        provider => format!("{provider}:{}", m.model),
    };
    Ok(match mode {
        "naive" => Arc::new(NaiveGenerator::new(llm, format!("naive:{name}"))),
        "hybrid" => Arc::new(HybridGenerator::new(
            with_embedder(
                ModelGenerator::new(llm, ModelOptions::default()).with_name(name),
                embedding,
            )?,
            HYBRID_THRESHOLD,
        )),
        _ => Arc::new(with_embedder(
            ModelGenerator::new(llm, ModelOptions::default()).with_name(name),
            embedding,
        )?),
    })
}

/// The model pipeline retrieving its examples with the configured embedding model
/// (`models.embedding`, e.g. MiniLM), or with the lexical embedder when none is configured.
#[cfg(feature = "models")]
fn with_embedder(
    g: cbi_nl2sql::ModelGenerator,
    embedding: Option<&cbi_types::config::ModelConfig>,
) -> Result<cbi_nl2sql::ModelGenerator> {
    let Some(e) = embedding else {
        return Ok(g);
    };
    let model = cbi_models::embedding_from_config(e)
        .map_err(|err| Error::Model(format!("models.embedding: {err}")))?;
    Ok(g.with_embedder(model))
}

#[cfg(not(feature = "models"))]
fn spec_generator(
    _mode: &str,
    spec: &str,
    _m: &cbi_types::config::ModelConfig,
    _embedding: Option<&cbi_types::config::ModelConfig>,
) -> Result<Arc<dyn SqlGenerator>> {
    Err(Error::Model(format!(
        "--model {spec}: this build of cbi has no language models (feature `models`)"
    )))
}

/// The hybrid over a configured model: the embedded answer at or above this confidence is used
/// as it is.
pub const HYBRID_THRESHOLD: f32 = 0.9;

#[cfg(feature = "models")]
fn model_generator(
    primary: &cbi_types::config::ModelConfig,
    fallback: Option<&cbi_types::config::ModelConfig>,
    embedding: Option<&cbi_types::config::ModelConfig>,
) -> Result<Arc<dyn SqlGenerator>> {
    use cbi_nl2sql::{HybridGenerator, ModelGenerator, ModelOptions};
    let open = |m: &cbi_types::config::ModelConfig| {
        cbi_models::from_config(m).map_err(|e| Error::Model(format!("models.{}: {e}", m.provider)))
    };
    let mut router = cbi_models::ModelRouter::builder().route(
        open(primary)?,
        cbi_models::ModelProfile {
            quality: 1.0,
            ..cbi_models::ModelProfile::default()
        },
    );
    if let Some(f) = fallback.filter(|f| f.provider != "embedded") {
        router = router.route(open(f)?, cbi_models::ModelProfile::default());
    }
    let mut opts = ModelOptions::default();
    if let Some(t) = primary.max_tokens {
        opts.max_tokens = t;
    }
    if let Some(t) = primary.temperature {
        opts.temperature = t;
    }
    let model = with_embedder(
        ModelGenerator::new(Arc::new(router.build()), opts)
            .with_name(format!("{}:{}", primary.provider, primary.model)),
        embedding,
    )?;
    Ok(Arc::new(HybridGenerator::new(model, HYBRID_THRESHOLD)))
}

#[cfg(not(feature = "models"))]
fn model_generator(
    primary: &cbi_types::config::ModelConfig,
    _fallback: Option<&cbi_types::config::ModelConfig>,
    _embedding: Option<&cbi_types::config::ModelConfig>,
) -> Result<Arc<dyn SqlGenerator>> {
    Err(Error::Model(format!(
        "models.primary: provider `{}` needs cbi built with the `models` feature",
        primary.provider
    )))
}

/// [`generator_from_config`], falling back to the embedded generator (with a warning) where
/// the configured model cannot be set up, for constructors that cannot fail.
fn generator_for(config: &Config) -> Arc<dyn SqlGenerator> {
    generator_from_config(config).unwrap_or_else(|e| {
        // Front ends that want to tell the person call `generator_from_config` themselves.
        tracing::debug!(error = %e, "the configured model is not available; the embedded generator answers");
        Arc::new(EmbeddedGenerator::new())
    })
}

/// A resolved follow-up as the engine's candidate: its SQL in the database's dialect.
fn resolved_candidate(
    r: &Resolved,
    idx: &SchemaIndex,
    dialect: cbi_types::SqlDialect,
) -> Option<SqlCandidate> {
    let sql = cbi_context::render(&r.query, idx, dialect).ok()?;
    let intent = if r.edits.contains(&Edit::Compare) {
        Intent::Compare
    } else if r.edits.contains(&Edit::Regroup) {
        Intent::Analyze
    } else if r
        .edits
        .iter()
        .any(|e| matches!(e, Edit::Filter | Edit::Time | Edit::Rank))
    {
        Intent::Filter
    } else {
        Intent::Query
    };
    let mut reasons = r.reasons.clone();
    reasons.insert(
        0,
        format!(
            "follow-up: {}",
            r.edits
                .iter()
                .map(|e| e.name())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    Some(SqlCandidate {
        sql: Some(sql),
        confidence: r.confidence,
        reasons,
        explanation: r.explanation.clone(),
        intent,
        tables: r.query.all_tables(),
        plan: serde_json::to_value(&r.query).ok(),
        verified: false,
        clarification: None,
        usage: Default::default(),
        cost_usd: 0.0,
        generator: "context".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_requests() {
        assert_eq!(export_request("export that"), Some(None));
        assert_eq!(
            export_request("Export that to sales.csv"),
            Some(Some("sales.csv".into()))
        );
        assert_eq!(
            export_request("save it as 'q3.csv'"),
            Some(Some("q3.csv".into()))
        );
        assert_eq!(export_request("save the planet"), None);
        assert_eq!(export_request("how many exports were there"), None);
    }

    fn spec_error(spec: &str) -> String {
        match generator_from_spec(spec, &Config::default()) {
            Ok(g) => panic!("{spec} built {}", g.name()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn local_specs_name_a_file_that_may_hold_at_and_colon() {
        assert!(spec_error("local:").contains("expected local:<path"));
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("odd@name:v1.gguf");
        let path = path.to_str().expect("utf-8 path");
        for spec in [
            format!("local:{path}"),
            format!("hybrid:local:{path}"),
            format!("naive:local:{path}"),
        ] {
            let e = spec_error(&spec);
            if cfg!(feature = "local") {
                // The whole path reached the loader, which found no file there.
                assert!(e.contains(&format!("model file {path}")), "{e}");
            } else {
                assert!(e.contains("rebuild with --features local"), "{e}");
            }
        }
    }

    #[cfg(feature = "local")]
    #[test]
    fn local_specs_load_the_file_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("tiny.gguf");
        cbi_testkit::gguf::write_tiny_llama(&path, 7, None).expect("tiny model");
        let path = path.to_str().expect("utf-8 path");
        let model =
            generator_from_spec(&format!("local:{path}"), &Config::default()).expect("local model");
        assert_eq!(model.name(), "local:tiny");
        let hybrid = generator_from_spec(&format!("hybrid:local:{path}"), &Config::default())
            .expect("hybrid over the local model");
        assert_eq!(hybrid.name(), "hybrid:local:tiny");
        // Both generators hold the one model loaded from the file (with the default options a
        // spec without a configured `gguf` model uses), and so does anyone else asking.
        let shared = cbi_models::LocalGguf::shared(path, cbi_models::LocalOptions::default())
            .expect("shared");
        assert!(
            Arc::strong_count(&shared) >= 3,
            "{}",
            Arc::strong_count(&shared)
        );
    }
}
