//! The retail demo as a benchmark corpus: its database, semantic file and question set, and
//! the augmentation of any SQLite file the way the engine does it (catalog, inferred
//! relationships, data profiles, value index, semantic file).
//!
//! Shared by the criterion bench (`benches/generate.rs`) and `cargo xtask bench`, which includes
//! this file by path.

use std::path::Path;
use std::sync::Arc;

use cbi_types::{AugmentedSchema, Connection, SemanticModel};

/// Any setup failure; benchmark setup has nothing to recover, only something to report.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The demo question set, relative to the workspace root.
pub const DEMO_QUESTIONS: &str = "fixtures/demo/questions.jsonl";

/// A question of a JSONL question set.
#[derive(Debug, Clone)]
pub struct SetQuestion {
    pub question: String,
    /// The construct it exercises (`count`, `top-n`, …), when the set says.
    pub construct: Option<String>,
}

/// The `question` (and `construct`) fields of every line of a JSONL question set, in file
/// order.
pub fn jsonl_questions(path: &Path) -> Result<Vec<SetQuestion>, BoxError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("reading the question set {}: {e}", path.display()))?;
    let mut questions = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| format!("{} line {}: {e}", path.display(), n + 1))?;
        let question = value
            .get("question")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| format!("{} line {}: no `question` text", path.display(), n + 1))?;
        let construct = value
            .get("construct")
            .and_then(serde_json::Value::as_str)
            .map(str::to_string);
        questions.push(SetQuestion {
            question: question.to_string(),
            construct,
        });
    }
    if questions.is_empty() {
        return Err(format!("{} holds no questions", path.display()).into());
    }
    Ok(questions)
}

/// Introspects and augments a SQLite file with default options, as the engine would.
pub async fn augment_sqlite(
    path: &Path,
    semantic: SemanticModel,
) -> Result<AugmentedSchema, BoxError> {
    let conn: Arc<dyn Connection> = Arc::new(cbi_db::SqliteConnection::open(path)?);
    let schema = cbi_schema::SchemaIntrospector::new(conn.clone())
        .introspect()
        .await?;
    let aug = cbi_schema::SchemaAugmenter::default()
        .augment(conn.as_ref(), schema, semantic)
        .await?;
    Ok(aug)
}

/// Writes the SMALL retail demo to `dir/retail.sqlite` (replacing an earlier copy: the demo is
/// deterministic) and augments it with the demo's semantic file.
pub async fn demo_schema(dir: &Path) -> Result<AugmentedSchema, BoxError> {
    let path = dir.join("retail.sqlite");
    cbi_demo::write_sqlite_with(
        &path,
        cbi_demo::DemoSize::SMALL,
        cbi_demo::IfExists::Replace,
    )?;
    let semantic = cbi_schema::parse_semantic(
        cbi_demo::SEMANTIC_YAML,
        Path::new(cbi_demo::SEMANTIC_FILE_NAME),
    )?;
    augment_sqlite(&path, semantic).await
}
