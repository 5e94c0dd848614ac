//! Clarification, export, and safety through the engine.

use std::path::Path;

use cbi_engine::Error;
use cbi_types::{Intent, SemanticModel};

use crate::common::*;

/// Two unrelated tables that both have an `amount`: "the total amount" is ambiguous.
fn ambiguous_db(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("sales.sqlite");
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch(
        "CREATE TABLE online_sales (id INTEGER PRIMARY KEY, amount REAL);
         CREATE TABLE store_sales (id INTEGER PRIMARY KEY, amount REAL);
         INSERT INTO online_sales (amount) VALUES (10), (20);
         INSERT INTO store_sales (amount) VALUES (1), (2), (3);",
    )
    .unwrap();
    path
}

#[tokio::test]
async fn an_ambiguous_question_is_asked_back_and_the_choice_answers_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = ambiguous_db(dir.path());
    let (engine, s) = chat_on(&path, SemanticModel::default()).await;
    let r = engine
        .process_query(s, "What is the total amount?")
        .await
        .unwrap();
    let c = r.clarification.expect("a clarifying question");
    assert_eq!(r.intent, Intent::Clarify);
    assert!(r.sql.is_none() && r.result.is_none());
    let labels: Vec<&str> = c.options.iter().map(|o| o.label.as_str()).collect();
    assert!(
        labels.contains(&"online_sales.amount") && labels.contains(&"store_sales.amount"),
        "{labels:?}"
    );
    let pick = labels
        .iter()
        .position(|l| *l == "store_sales.amount")
        .unwrap()
        + 1;
    let answer = engine.process_query(s, &pick.to_string()).await.unwrap();
    let sql = answer.sql.unwrap();
    assert!(sql.contains("store_sales.amount"), "{sql}");
    assert_eq!(
        answer.result.unwrap().scalar().and_then(|v| v.as_f64()),
        Some(6.0)
    );
    // Picking by label works too, and the pending question is cleared after an answer.
    let r = engine
        .process_query(s, "What is the total amount?")
        .await
        .unwrap();
    assert!(r.clarification.is_some());
    let answer = engine
        .process_query(s, "online_sales.amount")
        .await
        .unwrap();
    assert_eq!(
        answer.result.unwrap().scalar().and_then(|v| v.as_f64()),
        Some(30.0)
    );
    let session = engine.sessions().get(s).await.unwrap();
    assert!(session.context.pending_clarification.is_none());
}

#[tokio::test]
async fn export_that_reruns_the_last_answer() {
    let demo = Demo::of(cbi_demo::DemoSize::TINY);
    let (engine, s) = chat_on(&demo.path, semantic()).await;
    let err = engine.process_query(s, "export that").await.unwrap_err();
    assert!(matches!(err, Error::Nothing(_)), "{err}");
    let first = engine
        .process_query(s, "Number of orders by channel")
        .await
        .unwrap();
    let export = engine
        .process_query(s, "Export that to channels.csv")
        .await
        .unwrap();
    assert_eq!(export.intent, Intent::Export);
    assert_eq!(export.export_path.as_deref(), Some("channels.csv"));
    assert_eq!(export.result.unwrap().rows, first.result.unwrap().rows);
}

#[tokio::test]
async fn a_verified_query_that_writes_is_refused_and_nothing_changes() {
    let demo = Demo::of(cbi_demo::DemoSize::TINY);
    let semantic = cbi_schema::parse_semantic(
        "verified_queries:\n  - question: Clean up the regions\n    sql: DELETE FROM regions\n  - question: Show the regions twice\n    sql: SELECT name FROM regions; DROP TABLE regions\n",
        Path::new("bad.yaml"),
    )
    .unwrap();
    let (engine, s) = chat_on(&demo.path, semantic).await;
    for q in ["Clean up the regions", "Show the regions twice"] {
        let err = engine.process_query(s, q).await.unwrap_err();
        assert!(matches!(err, Error::Invalid(_)), "{q}: {err}");
    }
    assert_eq!(
        sqlite_rows(&demo.path, "SELECT COUNT(*) FROM regions")[0][0],
        cbi_types::Value::Int(5)
    );
}

#[tokio::test]
async fn bad_questions_get_errors_not_panics() {
    let demo = Demo::of(cbi_demo::DemoSize::TINY);
    let (engine, s) = chat_on(&demo.path, semantic()).await;
    for q in [
        "",
        "   ",
        "What is the airspeed velocity of an unladen swallow?",
        ";;;",
        "DROP TABLE orders",
        "\u{0}\u{1}",
    ] {
        match engine.process_query(s, q).await {
            Ok(r) => assert!(
                r.sql
                    .as_deref()
                    .is_none_or(|sql| !sql.to_uppercase().contains("DROP")),
                "{q}: {:?}",
                r.sql
            ),
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
    assert_eq!(
        sqlite_rows(&demo.path, "SELECT COUNT(*) FROM orders").len(),
        1
    );
    let missing = cbi_types::SessionId::new();
    assert!(
        engine
            .process_query(missing, "How many orders?")
            .await
            .is_err()
    );
    assert!(matches!(
        engine
            .create_session_for("t", "sqlite:nowhere.sqlite")
            .await,
        Err(Error::UnknownDatabase(_))
    ));
}

#[tokio::test]
async fn the_row_cap_holds_and_says_so() {
    let demo = Demo::of(cbi_demo::DemoSize::TINY);
    let mut config = cbi_types::Config::default();
    config.performance.max_rows = 3;
    let sessions = std::sync::Arc::new(cbi_session::SessionManager::new(
        std::sync::Arc::new(cbi_session::MemoryStore::new()),
        cbi_session::SessionConfig::default(),
    ));
    let engine = cbi_engine::ConversationalBiEngine::with_sessions(
        config,
        sessions,
        cbi_engine::EngineOptions::default(),
    );
    let key = engine
        .attach(&demo.path.to_string_lossy(), semantic())
        .await
        .unwrap();
    let s = engine.create_session_for("t", &key).await.unwrap();
    let r = engine.process_query(s, "List all products").await.unwrap();
    let result = r.result.unwrap();
    assert_eq!(result.rows.len(), 3);
    assert!(result.truncated);
    let r = engine
        .process_query(s, "List the regions in alphabetical order")
        .await
        .unwrap();
    assert!(r.result.unwrap().truncated, "5 regions over a cap of 3");
}

#[tokio::test]
async fn an_unknown_word_where_the_measure_belongs_is_asked_about() {
    let demo = Demo::of(cbi_demo::DemoSize::TINY);
    let (engine, s) = chat_on(&demo.path, semantic()).await;
    let r = engine
        .process_query(s, "What is the churn by region?")
        .await
        .unwrap();
    let c = r.clarification.expect("cbi asks what churn means");
    assert!(c.question.contains("churn"), "{}", c.question);
    let labels: Vec<&str> = c.options.iter().map(|o| o.label.as_str()).collect();
    assert!(labels.contains(&"revenue"), "{labels:?}");
    let answer = engine.process_query(s, "revenue").await.unwrap();
    let sql = answer.sql.unwrap();
    assert!(
        sql.contains("order_items.quantity * order_items.unit_price") && sql.contains("GROUP BY"),
        "{sql}"
    );
    assert_eq!(answer.result.unwrap().rows.len(), 5);
}
