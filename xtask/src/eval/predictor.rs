//! What is being measured: a predictor turns a question (in a conversation) into SQL.
//!
//! The harness replays each benchmark conversation turn by turn through one [`Conversation`];
//! the predictor sees only the current [`Question`] (with BIRD's evidence as a hint) and its
//! own earlier answers, kept in the conversation, never the gold SQL of earlier turns. That is
//! the shape of cbi's conversational engine, which plugs in here as one more model.
//!
//! Two oracle models calibrate the harness itself: `gold` answers with the gold SQL and must
//! score 100% on every set, `select1` answers `SELECT 1` and must score almost nothing. Only
//! oracles get the gold answers, through the [`GoldBook`] handed to them when they are built.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, bail};
use async_trait::async_trait;
use cbi_types::TokenUsage;
use serde::{Deserialize, Serialize};

/// One question as a predictor sees it.
// The oracles read only `id`; the engine's predictor reads the rest.
#[allow(dead_code)]
#[derive(Debug, Clone)]
pub struct Question {
    /// The benchmark's id of this question (for logs; not a hint).
    pub id: String,
    pub text: String,
    /// External knowledge that comes with the question (BIRD's `evidence`), to be used as a hint.
    pub evidence: Option<String>,
    /// 1 for the first question of a conversation.
    pub turn: u32,
}

/// An earlier turn of a conversation, as this predictor answered it.
// Read by conversational predictors (the engine's), not by the oracles.
#[allow(dead_code)]
#[derive(Debug, Clone)]
pub struct AnsweredTurn {
    pub question: String,
    pub evidence: Option<String>,
    /// What the predictor answered (not the gold SQL).
    pub sql: Option<String>,
}

/// One conversation about one database: a single question for Spider, BIRD, GeoQuery and jsonl
/// sets, a whole interaction for SParC and CoSQL.
///
/// The harness appends every answered turn to `history`. A predictor may keep its own state
/// (an engine session, a cached schema) in [`Conversation::state`], which lives as long as the
/// conversation.
pub struct Conversation {
    pub db_id: String,
    /// The SQLite file the questions are about. Predictors open their own connection.
    pub db_path: PathBuf,
    pub history: Vec<AnsweredTurn>,
    state: Option<Box<dyn Any + Send + Sync>>,
}

impl Conversation {
    pub fn new(db_id: impl Into<String>, db_path: impl Into<PathBuf>) -> Self {
        Conversation {
            db_id: db_id.into(),
            db_path: db_path.into(),
            history: Vec::new(),
            state: None,
        }
    }

    /// The predictor's own state for this conversation, created with `Default` on first use.
    // Used by stateful predictors (the engine keeps its session here), not by the oracles.
    #[allow(dead_code)]
    /// A state of another type (there is none unless a predictor changes type mid-run) is
    /// replaced.
    pub fn state<T: Default + Send + Sync + 'static>(&mut self) -> &mut T {
        let fresh = !self.state.as_ref().is_some_and(|s| s.is::<T>());
        if fresh {
            self.state = Some(Box::new(T::default()));
        }
        match self.state.as_mut().and_then(|s| s.downcast_mut::<T>()) {
            Some(t) => t,
            None => unreachable!("the state was just set to a T"),
        }
    }
}

impl fmt::Debug for Conversation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conversation")
            .field("db_id", &self.db_id)
            .field("db_path", &self.db_path)
            .field("history", &self.history)
            .field("state", &self.state.as_ref().map(|_| ".."))
            .finish()
    }
}

/// How an answer came about, when the predictor says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerKind {
    /// Answered from a verified query (a person checked this SQL for this question).
    Verified,
    /// The predictor asked a clarifying question instead of answering; scored as not answered.
    Clarification,
}

/// What a predictor answered.
#[derive(Debug, Clone, Default)]
pub struct Prediction {
    /// The SQL, or `None` when the predictor gave no query.
    pub sql: Option<String>,
    /// Why there is no (or no good) answer, in words.
    pub error: Option<String>,
    /// Wall time of `predict`. Measured and filled in by the harness; predictors leave it zero.
    pub latency: Duration,
    /// Model tokens spent on this answer.
    pub usage: TokenUsage,
    /// How sure the predictor is, in `[0, 1]`, if it says.
    pub confidence: Option<f64>,
    pub kind: Option<AnswerKind>,
    /// Why it is as sure as it says, when it says.
    pub reasons: Vec<String>,
}

impl Prediction {
    /// An answer with SQL and nothing else to say.
    pub fn sql(sql: impl Into<String>) -> Self {
        Prediction {
            sql: Some(sql.into()),
            ..Prediction::default()
        }
    }

    /// No answer, and why.
    pub fn failed(error: impl Into<String>) -> Self {
        Prediction {
            error: Some(error.into()),
            ..Prediction::default()
        }
    }
}

/// A text-to-SQL system under evaluation.
///
/// `predict` is called once per turn, in order, with the same conversation for every turn of an
/// interaction; conversations run concurrently (`--jobs`), so implementations must be shareable.
/// Failures are answers too: return [`Prediction::failed`] rather than panicking.
#[async_trait]
pub trait Predictor: Send + Sync + fmt::Debug {
    /// The model's name as reports show it and the price table knows it.
    fn name(&self) -> &str;

    async fn predict(&self, conversation: &mut Conversation, question: &Question) -> Prediction;
}

/// The gold answers by question id, for the oracle models only.
#[derive(Debug, Default)]
pub struct GoldBook {
    by_id: HashMap<String, String>,
}

impl GoldBook {
    pub fn insert(&mut self, id: impl Into<String>, sql: impl Into<String>) {
        self.by_id.insert(id.into(), sql.into());
    }

    fn get(&self, id: &str) -> Option<&str> {
        self.by_id.get(id).map(String::as_str)
    }
}

/// The models `--model` knows, for messages.
pub const MODELS: &[&str] = &[
    "embedded",
    "<provider>:<model>[@<base_url>]",
    "hybrid:<provider>:<model>[@<base_url>]",
    "naive:<provider>:<model>[@<base_url>]",
    "standalone:<spec> (every turn on its own: no follow-up resolution)",
    "gold",
    "select1",
];

/// Builds the predictor a `--model` spec names (`name` or `name:argument`).
///
/// Adding a model is one arm here.
pub fn build(spec: &str, gold: Arc<GoldBook>) -> Result<Arc<dyn Predictor>> {
    let (name, arg) = spec.split_once(':').unwrap_or((spec, ""));
    let no_arg = |p: Arc<dyn Predictor>| -> Result<Arc<dyn Predictor>> {
        if arg.is_empty() {
            Ok(p)
        } else {
            bail!("model `{name}` takes no argument (got `{arg}`)")
        }
    };
    match name {
        "gold" => no_arg(Arc::new(GoldOracle { gold })),
        "select1" => no_arg(Arc::new(Select1)),
        "embedded" if !arg.is_empty() => bail!("model `embedded` takes no argument (got `{arg}`)"),
        // The same generator with each turn read on its own: the baseline follow-up
        // resolution is measured against.
        "standalone" => {
            let generator = cbi_engine::generator_from_spec(arg, &cbi_types::Config::default())
                .map_err(|e| anyhow::anyhow!("{e}; available: {}", MODELS.join(", ")))?;
            Ok(Arc::new(Engine::new(spec, generator, false)))
        }
        _ => {
            // Keys and base URLs not in the spec come from the environment.
            let generator = cbi_engine::generator_from_spec(spec, &cbi_types::Config::default())
                .map_err(|e| anyhow::anyhow!("{e}; available: {}", MODELS.join(", ")))?;
            Ok(Arc::new(Engine::new(spec, generator, true)))
        }
    }
}

/// cbi through its engine, with the generator `--model` names (embedded, a model, the hybrid or
/// the naive baseline): one engine for the run, one session per conversation, clarifying
/// questions off (a benchmark cannot answer them), evidence handed to the generator. A semantic
/// file next to a database (`<stem>.semantic.yaml`) is used, as `cbi` itself does.
#[derive(Debug)]
struct Engine {
    name: String,
    engine: cbi_engine::ConversationalBiEngine,
}

#[derive(Debug, Default)]
struct EmbeddedState {
    session: Option<cbi_types::SessionId>,
}

impl Engine {
    fn new(name: &str, generator: Arc<dyn cbi_nl2sql::SqlGenerator>, follow_ups: bool) -> Self {
        let config = cbi_types::Config::default();
        let sessions = Arc::new(cbi_session::SessionManager::new(
            Arc::new(cbi_session::MemoryStore::new()),
            cbi_session::SessionConfig {
                max_sessions_per_user: usize::MAX,
                ..cbi_session::SessionConfig::default()
            },
        ));
        let opts = cbi_engine::EngineOptions {
            clarify: false,
            follow_ups,
            ..cbi_engine::EngineOptions::default()
        };
        Engine {
            name: name.to_string(),
            engine: cbi_engine::ConversationalBiEngine::with_sessions(config, sessions, opts)
                .with_generator(generator),
        }
    }

    async fn session(&self, conversation: &mut Conversation) -> Result<cbi_types::SessionId> {
        if let Some(id) = conversation.state::<EmbeddedState>().session {
            return Ok(id);
        }
        let path = conversation.db_path.clone();
        let semantic_path = path.with_extension("semantic.yaml");
        let semantic = if semantic_path.exists() {
            cbi_schema::load_semantic(&semantic_path)?
        } else {
            cbi_types::SemanticModel::default()
        };
        let key = self
            .engine
            .attach(&path.to_string_lossy(), semantic)
            .await?;
        let id = self.engine.create_session_for("eval", &key).await?;
        conversation.state::<EmbeddedState>().session = Some(id);
        Ok(id)
    }
}

#[async_trait]
impl Predictor for Engine {
    fn name(&self) -> &str {
        &self.name
    }

    async fn predict(&self, conversation: &mut Conversation, question: &Question) -> Prediction {
        let id = match self.session(conversation).await {
            Ok(id) => id,
            Err(e) => return Prediction::failed(format!("{e:#}")),
        };
        match self
            .engine
            .generate_with_evidence(id, &question.text, question.evidence.as_deref())
            .await
        {
            Ok(r) => Prediction {
                sql: r.sql,
                usage: r.usage,
                confidence: Some(f64::from(r.confidence)),
                reasons: r.reasons,
                kind: if r.verified {
                    Some(AnswerKind::Verified)
                } else if r.clarification.is_some() {
                    Some(AnswerKind::Clarification)
                } else {
                    None
                },
                ..Prediction::default()
            },
            Err(e) => Prediction::failed(e.to_string()),
        }
    }
}

/// Answers every question with its (first accepted) gold SQL: the harness must score it 100%.
#[derive(Debug)]
struct GoldOracle {
    gold: Arc<GoldBook>,
}

#[async_trait]
impl Predictor for GoldOracle {
    fn name(&self) -> &str {
        "gold"
    }

    async fn predict(&self, _conversation: &mut Conversation, question: &Question) -> Prediction {
        match self.gold.get(&question.id) {
            Some(sql) => Prediction::sql(sql),
            None => Prediction::failed(format!("no gold SQL for question {}", question.id)),
        }
    }
}

/// Answers `SELECT 1` to everything: right only where the answer happens to be one row holding 1.
#[derive(Debug)]
struct Select1;

#[async_trait]
impl Predictor for Select1 {
    fn name(&self) -> &str {
        "select1"
    }

    async fn predict(&self, _conversation: &mut Conversation, _question: &Question) -> Prediction {
        Prediction::sql("SELECT 1")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn oracles_answer_as_documented() {
        let mut book = GoldBook::default();
        book.insert("q1", "SELECT 42");
        let book = Arc::new(book);
        let gold = build("gold", book.clone()).unwrap();
        let mut conv = Conversation::new("db", "/nowhere.sqlite");
        let q = |id: &str| Question {
            id: id.into(),
            text: "?".into(),
            evidence: None,
            turn: 1,
        };
        let p = gold.predict(&mut conv, &q("q1")).await;
        assert_eq!(p.sql.as_deref(), Some("SELECT 42"));
        let missing = gold.predict(&mut conv, &q("q2")).await;
        assert!(missing.sql.is_none() && missing.error.is_some());
        let s1 = build("select1", book.clone()).unwrap();
        assert_eq!(
            s1.predict(&mut conv, &q("q1")).await.sql.as_deref(),
            Some("SELECT 1")
        );
        assert!(build("gpt-9", book.clone()).is_err());
        assert!(build("gold:x", book).is_err());
    }

    /// A `--model` spec reaches an OpenAI-compatible server; the naive baseline sends the whole
    /// schema and the question in one call, the pipeline also the evidence; both answers come
    /// back with the tokens spent.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn model_specs_reach_an_openai_compatible_server() {
        use axum::routing::post;
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("shop.sqlite");
        let w = rusqlite::Connection::open(&db).unwrap();
        w.execute_batch("CREATE TABLE items (id INTEGER PRIMARY KEY, price REAL); INSERT INTO items VALUES (1, 2.5);")
            .unwrap();
        drop(w);
        let bodies = Arc::new(std::sync::Mutex::new(Vec::<serde_json::Value>::new()));
        let seen = bodies.clone();
        let app = axum::Router::new().route(
            "/v1/chat/completions",
            post(move |axum::Json(body): axum::Json<serde_json::Value>| {
                let seen = seen.clone();
                async move {
                    seen.lock().unwrap().push(body);
                    axum::Json(serde_json::json!({
                        "id": "x", "object": "chat.completion", "model": "m",
                        "choices": [{"index": 0, "finish_reason": "stop",
                            "message": {"role": "assistant", "content": "SELECT max(price) FROM items"}}],
                        "usage": {"prompt_tokens": 50, "completion_tokens": 7, "total_tokens": 57}
                    }))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let book = Arc::new(GoldBook::default());
        for (spec, with_evidence) in [
            (format!("openai-compatible:m@http://{addr}/v1"), true),
            (format!("naive:openai-compatible:m@http://{addr}/v1"), false),
        ] {
            let p = build(&spec, book.clone()).unwrap();
            assert_eq!(p.name(), spec);
            let mut conv = Conversation::new("shop", &db);
            let q = Question {
                id: "q".into(),
                text: "What is the highest price?".into(),
                evidence: Some("price is in euros".into()),
                turn: 1,
            };
            let answer = p.predict(&mut conv, &q).await;
            // As validated: the engine adds its row limit.
            assert_eq!(
                answer.sql.as_deref(),
                Some("SELECT max(price) FROM items LIMIT 10001"),
                "{spec}: {answer:?}"
            );
            assert_eq!(answer.usage.prompt_tokens, 50, "{spec}");
            let body = bodies.lock().unwrap().pop().unwrap();
            let prompt = body["messages"][1]["content"].as_str().unwrap().to_string();
            assert!(prompt.contains("CREATE TABLE items"), "{prompt}");
            assert_eq!(
                prompt.contains("price is in euros"),
                with_evidence,
                "{spec}: {prompt}"
            );
        }
        assert!(build("local:model.gguf", book.clone()).is_err());
        assert!(build("openai", book).is_err());
    }

    #[test]
    fn conversation_state_is_typed() {
        let mut conv = Conversation::new("db", "/x");
        *conv.state::<u32>() += 2;
        *conv.state::<u32>() += 3;
        assert_eq!(*conv.state::<u32>(), 5);
        assert_eq!(conv.state::<String>().as_str(), "");
    }
}
