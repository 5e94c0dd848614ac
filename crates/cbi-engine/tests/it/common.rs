//! Fixtures shared by the engine tests.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cbi_engine::{ConversationalBiEngine, EngineOptions};
use cbi_session::{MemoryStore, SessionConfig, SessionManager};
use cbi_types::SessionId;
use cbi_types::{Config, QueryResult, SemanticModel, Value};

/// The small retail demo in a temporary directory, with its semantic file.
pub struct Demo {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl Demo {
    pub fn small() -> Demo {
        Self::of(cbi_demo::DemoSize::SMALL)
    }

    pub fn of(size: cbi_demo::DemoSize) -> Demo {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("retail.sqlite");
        cbi_demo::write_sqlite(&path, size).unwrap();
        Demo { _dir: dir, path }
    }
}

pub fn semantic() -> SemanticModel {
    cbi_schema::parse_semantic(cbi_demo::SEMANTIC_YAML, Path::new("retail.semantic.yaml")).unwrap()
}

/// An engine with in-memory sessions.
pub fn engine(clarify: bool) -> ConversationalBiEngine {
    engine_with(Config::default(), clarify)
}

/// An engine with in-memory sessions and the given configuration.
pub fn engine_with(config: Config, clarify: bool) -> ConversationalBiEngine {
    let sessions = Arc::new(SessionManager::new(
        Arc::new(MemoryStore::new()),
        SessionConfig {
            max_sessions_per_user: 1000,
            ..SessionConfig::default()
        },
    ));
    ConversationalBiEngine::with_sessions(
        config,
        sessions,
        EngineOptions {
            clarify,
            ..EngineOptions::default()
        },
    )
}

/// An engine that asks for clarification, with the SQLite file at `path` attached and one
/// session open on it.
pub async fn chat_on(path: &Path, semantic: SemanticModel) -> (ConversationalBiEngine, SessionId) {
    let engine = engine(true);
    let key = engine
        .attach(&path.to_string_lossy(), semantic)
        .await
        .unwrap();
    let s = engine.create_session_for("t", &key).await.unwrap();
    (engine, s)
}

/// The rows of a result as comparable text: numbers to 2 decimals, dates as text, NULL as
/// `NULL`; columns sorted within each row (column order is free), rows sorted unless the order
/// matters.
pub fn canonical(rows: &[Vec<Value>], ordered: bool) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut cells: Vec<String> = r.iter().map(cell).collect();
            cells.sort();
            cells
        })
        .collect();
    if !ordered {
        out.sort();
    }
    out
}

fn cell(v: &Value) -> String {
    match v.as_f64() {
        Some(f) if !matches!(v, Value::Bool(_)) => format!("{:.2}", f),
        _ => match v {
            Value::Null => "NULL".into(),
            other => other.to_string(),
        },
    }
}

/// The rows a SQL statement returns on a SQLite file, as Values.
pub fn sqlite_rows(path: &Path, sql: &str) -> Vec<Vec<Value>> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut st = conn.prepare(sql).unwrap();
    let n = st.column_count();
    let mut rows = st.query([]).unwrap();
    let mut out = Vec::new();
    while let Some(r) = rows.next().unwrap() {
        out.push(
            (0..n)
                .map(|i| match r.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Null => Value::Null,
                    rusqlite::types::ValueRef::Integer(i) => Value::Int(i),
                    rusqlite::types::ValueRef::Real(f) => Value::Float(f),
                    rusqlite::types::ValueRef::Text(t) => {
                        Value::Text(String::from_utf8_lossy(t).into_owned())
                    }
                    rusqlite::types::ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
                })
                .collect(),
        );
    }
    out
}

/// Whether a result equals what a gold query returns (any column order; row order only when the
/// gold query orders).
pub fn same_answer(result: &QueryResult, gold_rows: &[Vec<Value>], gold_sql: &str) -> bool {
    let ordered = gold_sql.to_lowercase().contains("order by");
    canonical(&result.rows, ordered) == canonical(gold_rows, ordered)
}

/// The demo question set: (id, question, accepted gold SQL).
pub fn demo_questions() -> Vec<(String, String, Vec<String>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/demo/questions.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let gold = match &v["gold_sql"] {
                serde_json::Value::Array(a) => {
                    a.iter().map(|s| s.as_str().unwrap().to_string()).collect()
                }
                s => vec![s.as_str().unwrap().to_string()],
            };
            (
                v["id"].as_str().unwrap().to_string(),
                v["question"].as_str().unwrap().to_string(),
                gold,
            )
        })
        .collect()
}
