//! Running gold and predicted SQL on the benchmark databases through cbi's own read-only SQLite
//! connector, with results as Python's `sqlite3` returns them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cbi_db::{SqliteConnection, SqliteOptions};
use cbi_types::{Connection, QueryLimits};
use tokio::sync::OnceCell;

use super::pyvalue::PyValue;
use super::scoring::Row;
use super::sqltext::strip_trailing_semicolons;

/// The rows of one successful execution.
#[derive(Debug)]
pub struct Rows {
    pub rows: Vec<Row>,
}

/// An execution's outcome; the error is a one-line message.
pub type Outcome = Result<Arc<Rows>, String>;

type CacheKey = (PathBuf, String);

/// A database opened once on first use, shared by every question about it.
type OpenOnce = Arc<OnceCell<Result<Arc<SqliteConnection>, String>>>;

/// Opens each database once, runs statements under a row cap and a time limit, and remembers
/// gold results for the whole run (several questions share a gold query, and conversations
/// repeat them).
#[derive(Debug)]
pub struct Executor {
    limits: QueryLimits,
    handles_per_db: usize,
    connections: Mutex<HashMap<PathBuf, OpenOnce>>,
    gold: Mutex<HashMap<CacheKey, Arc<OnceCell<Outcome>>>>,
}

impl Executor {
    /// `max_rows` is the scoring row cap: a result that reaches it is an error, not a match.
    pub fn new(max_rows: usize, timeout: Duration, handles_per_db: usize) -> Self {
        Executor {
            limits: QueryLimits::rows(max_rows).with_timeout(timeout),
            handles_per_db: handles_per_db.max(1),
            connections: Mutex::new(HashMap::new()),
            gold: Mutex::new(HashMap::new()),
        }
    }

    async fn connection(&self, db: &Path) -> Result<Arc<SqliteConnection>, String> {
        let cell = {
            let mut map = self.connections.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(db.to_path_buf()).or_default().clone()
        };
        let opts = SqliteOptions::default()
            .with_raw_values(true)
            .with_max_connections(self.handles_per_db);
        cell.get_or_init(|| async {
            let path = db.to_path_buf();
            tokio::task::spawn_blocking(move || SqliteConnection::open_with(&path, opts))
                .await
                .map_err(|e| format!("opening the database: {e}"))?
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .await
        .clone()
    }

    /// Runs one statement (a trailing `;` is allowed).
    pub async fn run(&self, db: &Path, sql: &str) -> Outcome {
        let conn = self.connection(db).await?;
        let result = conn
            .query(strip_trailing_semicolons(sql), self.limits)
            .await
            .map_err(|e| e.to_string())?;
        if result.truncated {
            return Err(format!(
                "the result has more than {} rows (the scoring cap)",
                self.limits.max_rows
            ));
        }
        let rows = result
            .rows
            .iter()
            .map(|r| r.iter().map(PyValue::from_value).collect())
            .collect();
        Ok(Arc::new(Rows { rows }))
    }

    /// Runs a gold statement once per run and database; later calls share the outcome.
    pub async fn run_gold(&self, db: &Path, sql: &str) -> Outcome {
        let cell = {
            let mut map = self.gold.lock().unwrap_or_else(|p| p.into_inner());
            map.entry((db.to_path_buf(), sql.to_string()))
                .or_default()
                .clone()
        };
        cell.get_or_init(|| self.run(db, sql)).await.clone()
    }
}
