//! Writing the demo into a new SQLite file.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use cbi_types::{SqlDialect, Value};
use rusqlite::types::Value as SqliteValue;

use crate::rows::{Row, RowCounts, Table};
use crate::sql::{index_ddl, table_ddl};
use crate::{DATA_VERSION, DemoSize, Error, Generator, Result, WriteReport};

/// What [`write_sqlite_with`] does when the file is already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IfExists {
    /// Refuse with [`Error::FileExists`] (the default: a demo file may have been edited, or may
    /// not be a demo file at all).
    #[default]
    Fail,
    /// Replace it, atomically: the old file stays whole until the new one is complete.
    Replace,
}

/// Writes the demo database of `size` into a new SQLite file at `path`, creating missing parent
/// directories, and refuses to touch an existing file.
///
/// See [`write_sqlite_with`].
pub fn write_sqlite(path: impl AsRef<Path>, size: DemoSize) -> Result<WriteReport> {
    write_sqlite_with(path, size, IfExists::Fail)
}

/// Writes the demo database of `size` into a SQLite file at `path`.
///
/// The data goes into a hidden temporary file beside `path` in one transaction through prepared
/// statements, with foreign keys enforced; then the indexes are built, `ANALYZE` fills
/// `sqlite_stat1`, `PRAGMA user_version` is set to [`DATA_VERSION`], and the file is renamed into
/// place. A failure at any step leaves nothing behind and `path` untouched.
///
/// Amounts are stored the way SQLite stores a `DECIMAL` column: as REAL (or INTEGER when the
/// amount is whole), converted from the decimal text by SQLite itself, so a literal such as
/// `unit_price = 19.99` matches exactly. Days are `YYYY-MM-DD` text, which SQLite's date
/// functions read.
pub fn write_sqlite_with(
    path: impl AsRef<Path>,
    size: DemoSize,
    if_exists: IfExists,
) -> Result<WriteReport> {
    let start = Instant::now();
    let path = path.as_ref();
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    if if_exists == IfExists::Fail && fs::symlink_metadata(path).is_ok() {
        return Err(Error::FileExists(path.to_path_buf()));
    }
    let file_name = path
        .file_name()
        .ok_or_else(|| Error::InvalidTarget(format!("{} names no file", path.display())))?;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = dir {
        fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let partial_name = format!(
        ".{}.{}.partial",
        file_name.to_string_lossy(),
        std::process::id()
    );
    let partial = TempFile(match dir {
        Some(dir) => dir.join(partial_name),
        None => PathBuf::from(partial_name),
    });
    partial.remove();

    let rows = load(&partial.0, size)?;

    if if_exists == IfExists::Fail && fs::symlink_metadata(path).is_ok() {
        return Err(Error::FileExists(path.to_path_buf()));
    }
    if if_exists == IfExists::Replace && cfg!(windows) && path.exists() {
        fs::remove_file(path).map_err(io)?;
    }
    // After the rename the temporary name is gone, and dropping `partial` removes nothing.
    fs::rename(&partial.0, path).map_err(io)?;
    let bytes = fs::metadata(path).map_err(io)?.len();
    Ok(WriteReport {
        target: path.display().to_string(),
        size,
        rows,
        elapsed: start.elapsed(),
        file_bytes: Some(bytes),
    })
}

fn load(path: &Path, size: DemoSize) -> Result<RowCounts> {
    let mut conn = rusqlite::Connection::open(path)?;
    // Safe to skip the journal and fsyncs: the file is renamed into place only when complete.
    conn.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA foreign_keys = ON;",
    )?;
    let tx = conn.transaction()?;
    for sql in table_ddl(SqlDialect::Sqlite) {
        tx.execute_batch(&sql)?;
    }
    let mut generator = Generator::new(size);
    let mut counts = RowCounts::default();
    let d = generator.dimensions();
    insert(&tx, &d.regions, &mut counts)?;
    insert(&tx, &d.stores, &mut counts)?;
    insert(&tx, &d.customers, &mut counts)?;
    insert(&tx, &d.categories, &mut counts)?;
    insert(&tx, &d.products, &mut counts)?;
    for batch in generator.by_ref() {
        insert(&tx, &batch.orders, &mut counts)?;
        insert(&tx, &batch.order_items, &mut counts)?;
        insert(&tx, &batch.returns, &mut counts)?;
    }
    for sql in index_ddl(SqlDialect::Sqlite) {
        tx.execute_batch(&sql)?;
    }
    tx.execute_batch(&format!("PRAGMA user_version = {DATA_VERSION}"))?;
    tx.commit()?;
    conn.execute_batch("ANALYZE")?;
    conn.close().map_err(|(_, e)| e)?;
    Ok(counts)
}

fn insert<R: Row>(
    tx: &rusqlite::Transaction<'_>,
    rows: &[R],
    counts: &mut RowCounts,
) -> Result<()> {
    let table: Table = R::TABLE;
    let columns = table.columns();
    let placeholders = vec!["?"; columns.len()].join(", ");
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES ({placeholders})",
        columns.join(", ")
    );
    let mut stmt = tx.prepare_cached(&sql)?;
    for row in rows {
        stmt.execute(rusqlite::params_from_iter(
            row.values().into_iter().map(to_sqlite),
        ))?;
    }
    counts.add(table, rows.len() as u64);
    Ok(())
}

/// A demo value as SQLite receives it. Decimals go in as text so that SQLite's `NUMERIC`
/// affinity converts them with the same parser it uses for literals in queries.
fn to_sqlite(v: Value) -> SqliteValue {
    match v {
        Value::Null => SqliteValue::Null,
        Value::Bool(b) => SqliteValue::Integer(i64::from(b)),
        Value::Int(i) => SqliteValue::Integer(i),
        Value::Float(f) => SqliteValue::Real(f),
        Value::Decimal(d) => SqliteValue::Text(d.to_string()),
        Value::Text(s) => SqliteValue::Text(s),
        Value::Date(d) => SqliteValue::Text(d.to_string()),
        Value::Bytes(b) => SqliteValue::Blob(b),
        other => SqliteValue::Text(other.to_string()),
    }
}

/// A file removed when dropped (if it is still there).
struct TempFile(PathBuf);

impl TempFile {
    fn remove(&self) {
        let _ = fs::remove_file(&self.0);
        let mut journal = self.0.clone().into_os_string();
        journal.push("-journal");
        let _ = fs::remove_file(journal);
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        self.remove();
    }
}
