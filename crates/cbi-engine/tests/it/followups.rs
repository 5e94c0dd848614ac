//! Follow-ups through the engine: the design guide's conversation executed on SQLite,
//! PostgreSQL and MariaDB, long conversations past `max_turns`, a session resumed by another
//! engine, an unreadable reference asked about, and the demo's conversation fixtures scored.

use std::sync::Arc;

use cbi_engine::{ConversationalBiEngine, EngineOptions};
use cbi_session::{MemoryStore, SessionConfig, SessionManager, SqliteStore};
use cbi_testkit::{ScratchDb, Server};
use cbi_types::{Config, QueryResult, Value};

use crate::common::*;

fn number(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Decimal(d) => d.to_string().parse().unwrap_or(f64::NAN),
        Value::Text(t) => t.parse().unwrap_or(f64::NAN),
        _ => f64::NAN,
    }
}

/// The sum of a result's last column.
fn total(r: &QueryResult) -> f64 {
    r.rows.iter().map(|row| number(row.last().unwrap())).sum()
}

/// "Show sales by region" → "Which had the highest?" → "Show that by month", each executed:
/// the ranking is the top region of the first answer, and the months add up to the same
/// revenue as the regions.
async fn guide_conversation(url: &str, month_sql: &str) {
    let engine = engine(true);
    let key = engine.attach(url, semantic()).await.unwrap();
    let s = engine.create_session_for("t", &key).await.unwrap();
    let by_region = engine
        .process_query(s, "Show sales by region")
        .await
        .unwrap();
    let regions = by_region.result.clone().unwrap();
    assert!(regions.rows.len() > 1, "{url}: {:?}", by_region.sql);

    let top = engine
        .process_query(s, "Which had the highest?")
        .await
        .unwrap();
    let sql = top.sql.clone().unwrap();
    assert_eq!(top.generator, "context", "{sql}");
    assert!(
        sql.contains("DESC") && sql.contains("LIMIT 1"),
        "{url}: {sql}"
    );
    let best = regions
        .rows
        .iter()
        .map(|r| number(r.last().unwrap()))
        .fold(f64::MIN, f64::max);
    let got = top.result.clone().unwrap();
    assert_eq!(got.rows.len(), 1);
    assert!(
        (number(got.rows[0].last().unwrap()) - best).abs() < 0.01,
        "{url}"
    );

    let by_month = engine.process_query(s, "Show that by month").await.unwrap();
    let sql = by_month.sql.clone().unwrap();
    assert!(sql.contains(month_sql), "{url}: {sql}");
    let months = by_month.result.unwrap();
    assert!(
        months.rows.len() > 12,
        "{url}: {} months",
        months.rows.len()
    );
    assert!(
        (total(&months) - total(&regions)).abs() < 0.5,
        "{url}: months add up to {}, regions to {}",
        total(&months),
        total(&regions)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_design_guides_conversation_on_sqlite() {
    let demo = Demo::of(cbi_demo::DemoSize::TINY);
    guide_conversation(&demo.path.to_string_lossy(), "strftime('%Y-%m'").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_design_guides_conversation_on_postgres() {
    let db = ScratchDb::create(Server::Postgres, "cbi_followups").await;
    cbi_demo::write_postgres(&db.url, cbi_demo::DemoSize::TINY)
        .await
        .unwrap();
    guide_conversation(&db.url, "DATE_TRUNC('month'").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_design_guides_conversation_on_mariadb() {
    let db = ScratchDb::create(Server::MySql, "cbi_followups").await;
    cbi_demo::write_mysql(&db.url, cbi_demo::DemoSize::TINY)
        .await
        .unwrap();
    guide_conversation(&db.url, "DATE_FORMAT(").await;
}

/// Twelve turns with a session that keeps only three: every follow-up still reads the
/// answer before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_ups_keep_working_after_max_turns_drops_the_oldest() {
    let demo = Demo::of(cbi_demo::DemoSize::TINY);
    let sessions = Arc::new(SessionManager::new(
        Arc::new(MemoryStore::new()),
        SessionConfig {
            max_turns: 3,
            ..SessionConfig::default()
        },
    ));
    let engine = ConversationalBiEngine::with_sessions(
        Config::default(),
        sessions,
        EngineOptions::default(),
    );
    let key = engine
        .attach(&demo.path.to_string_lossy(), semantic())
        .await
        .unwrap();
    let s = engine.create_session_for("t", &key).await.unwrap();
    let turns: &[(&str, &str)] = &[
        ("Revenue by region", "GROUP BY"),
        ("Which had the highest?", "DESC LIMIT 1"),
        ("And the lowest?", "LIMIT 1"),
        ("by store type instead", "GROUP BY stores.store_type"),
        ("only 2024", "'2024-01-01'"),
        ("only online", "orders.channel = 'online'"),
        ("the average instead", "AVG("),
        ("Show units sold instead", "SUM(order_items.quantity)"),
        ("Top 2 of those", "LIMIT 2"),
        ("by month instead", "strftime('%Y-%m', orders.order_date)"),
        ("Only 2023", "'2023-01-01'"),
        ("exclude cancelled orders", "orders.status <> 'cancelled'"),
    ];
    for (k, (q, holds)) in turns.iter().enumerate() {
        let r = engine.process_query(s, q).await.unwrap();
        let sql = r.sql.clone().unwrap_or_default();
        assert!(sql.contains(holds), "turn {}: {q}: {sql}", k + 1);
        assert!(
            r.result.is_some_and(|x| !x.rows.is_empty()),
            "turn {}: {q}: {sql}",
            k + 1
        );
        if k > 0 {
            assert_eq!(r.generator, "context", "turn {}: {q}", k + 1);
        }
    }
    let session = engine.sessions().get(s).await.unwrap();
    assert_eq!(session.context.turns.len(), 3);
    assert_eq!(session.turn_count, 12);
}

/// A session stored by one engine continues its references in another (a new process).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_resumed_elsewhere_continues_its_references() {
    let demo = Demo::of(cbi_demo::DemoSize::TINY);
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("sessions.sqlite");
    let open = |path: std::path::PathBuf| async move {
        let store = SqliteStore::open(path).await.unwrap();
        let sessions = Arc::new(SessionManager::new(
            Arc::new(store),
            SessionConfig::default(),
        ));
        ConversationalBiEngine::with_sessions(Config::default(), sessions, EngineOptions::default())
    };
    let url = demo.path.to_string_lossy().to_string();
    let first = open(store_path.clone()).await;
    let key = first.attach(&url, semantic()).await.unwrap();
    let s = first.create_session_for("t", &key).await.unwrap();
    first.process_query(s, "Revenue by category").await.unwrap();
    drop(first);

    let second = open(store_path).await;
    second.attach(&url, semantic()).await.unwrap();
    let r = second.process_query(s, "Top 3 of those").await.unwrap();
    let sql = r.sql.unwrap();
    assert_eq!(r.generator, "context");
    assert!(
        sql.contains("categories.name") && sql.contains("DESC LIMIT 3"),
        "{sql}"
    );
    assert_eq!(r.result.unwrap().rows.len(), 3);
}

/// A follow-up whose reference cannot be read is asked about; picking the earlier answer it
/// meant resumes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_reference_is_asked_about_and_the_pick_resumes_it() {
    let demo = Demo::of(cbi_demo::DemoSize::TINY);
    let (engine, s) = chat_on(&demo.path, semantic()).await;
    engine
        .process_query(s, "Show sales by region")
        .await
        .unwrap();
    engine
        .process_query(s, "How many products are there?")
        .await
        .unwrap();
    let asked = engine
        .process_query(s, "Which had the highest?")
        .await
        .unwrap();
    let c = asked.clarification.expect("a clarifying question");
    assert!(asked.sql.is_none());
    assert!(c.question.contains("couldn't tell"), "{}", c.question);
    let k = c
        .options
        .iter()
        .position(|o| o.label == "Show sales by region")
        .expect("the earlier answer is offered");
    let r = engine.process_query(s, &(k + 1).to_string()).await.unwrap();
    let sql = r.sql.unwrap();
    assert!(
        sql.contains("regions.name") && sql.contains("DESC LIMIT 1"),
        "{sql}"
    );
}

/// The demo's conversation fixtures (SParC format), answered turn by turn in one session each
/// and compared with the gold answers by execution.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_conversations_are_mostly_answered() {
    #[derive(serde::Deserialize)]
    struct Turn {
        utterance: String,
        query: String,
    }
    #[derive(serde::Deserialize)]
    struct Interaction {
        interaction: Vec<Turn>,
    }
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/demo/conversations.json"),
    )
    .unwrap();
    let all: Vec<Interaction> = serde_json::from_str(&text).unwrap();
    assert!(all.len() >= 40);
    let demo = Demo::small();
    let engine = engine(false);
    let key = engine
        .attach(&demo.path.to_string_lossy(), semantic())
        .await
        .unwrap();
    let (mut right, mut turns, mut follow_right, mut follow_turns) = (0, 0, 0, 0);
    for it in &all {
        let s = engine.create_session_for("t", &key).await.unwrap();
        for (k, t) in it.interaction.iter().enumerate() {
            let gold = sqlite_rows(&demo.path, &t.query);
            let ok = match engine.process_query(s, &t.utterance).await {
                Ok(r) => r
                    .result
                    .as_ref()
                    .is_some_and(|res| same_answer(res, &gold, &t.query)),
                Err(_) => false,
            };
            turns += 1;
            right += usize::from(ok);
            if k > 0 {
                follow_turns += 1;
                follow_right += usize::from(ok);
            }
        }
    }
    let share = right as f64 / turns as f64;
    let follow = follow_right as f64 / follow_turns as f64;
    println!(
        "demo conversations: {right}/{turns} turns right ({:.1}%), follow-ups {follow_right}/{follow_turns} ({:.1}%)",
        share * 100.0,
        follow * 100.0
    );
    // Measured 64% with `xtask eval sparc` on the small demo; a regression shows here.
    assert!(share >= 0.55, "{right}/{turns}");
    assert!(follow >= 0.45, "{follow_right}/{follow_turns}");
}

/// Stands for a language model: answers with the embedded generator underneath, under
/// another name, and remembers what it was asked and how many earlier turns it was shown.
#[derive(Debug, Default)]
struct PretendModel {
    inner: cbi_nl2sql::EmbeddedGenerator,
    asked: std::sync::Mutex<Vec<(String, usize)>>,
}

#[async_trait::async_trait]
impl cbi_nl2sql::SqlGenerator for PretendModel {
    fn name(&self) -> &str {
        "pretend-model"
    }

    async fn generate(
        &self,
        r: &cbi_nl2sql::GenerationRequest,
    ) -> cbi_nl2sql::Result<Vec<cbi_nl2sql::SqlCandidate>> {
        self.asked
            .lock()
            .unwrap()
            .push((r.question.clone(), r.context.turns.len()));
        let mut out = self.inner.generate(r).await?;
        for c in &mut out {
            c.generator = "pretend-model".into();
        }
        Ok(out)
    }
}

/// With a model configured, the resolver answers the follow-ups it is sure of itself (no
/// model call) and hands the rest to the model, which sees the conversation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_model_sure_edits_skip_it_and_the_rest_reach_it_with_the_conversation() {
    let demo = Demo::of(cbi_demo::DemoSize::TINY);
    let model = Arc::new(PretendModel::default());
    let engine = engine(true).with_generator(model.clone());
    let key = engine
        .attach(&demo.path.to_string_lossy(), semantic())
        .await
        .unwrap();
    let s = engine.create_session_for("t", &key).await.unwrap();
    let first = engine
        .process_query(s, "Show sales by region")
        .await
        .unwrap();
    assert_eq!(first.generator, "pretend-model");
    let second = engine
        .process_query(s, "Which had the highest?")
        .await
        .unwrap();
    assert_eq!(second.generator, "context");
    assert!(second.confidence >= 0.9);
    assert!(second.sql.unwrap().contains("LIMIT 1"));
    // Nothing the resolver can read: the model gets it, with both earlier turns.
    // (The pretend model cannot read it either: its error comes back as it is.)
    let _ = engine.process_query(s, "what about it").await;
    let asked = model.asked.lock().unwrap().clone();
    assert_eq!(
        asked,
        vec![
            ("Show sales by region".to_string(), 0),
            ("what about it".to_string(), 2)
        ]
    );
}
