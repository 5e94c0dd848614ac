//! SQLite through rusqlite: read-only files, a small pool of blocking connections.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use cbi_types::{
    ColumnMeta, ColumnSchema, Connection, DatabaseSchema, IndexSchema, QueryLimits, QueryResult,
    SqlDialect, TableKind, TableSchema, Value,
};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::limits::Limit;
use rusqlite::types::ValueRef;
use rusqlite::{ErrorCode, OpenFlags};
use tokio::sync::Semaphore;

use crate::relations::{self, DeclaredKey};
use crate::{Error, Result, guard};

/// How a [`SqliteConnection`] opens and reads its file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SqliteOptions {
    /// Return SQLite's storage classes only (`Int`, `Float`, `Text`, `Bytes`, `Null`), the way
    /// Python's `sqlite3` does, instead of turning text in `DATE`/`DATETIME`/`TIMESTAMP`
    /// columns and 0/1 in `BOOLEAN` columns into typed values. Evaluation harnesses that must
    /// compare results exactly as the official scripts do want this.
    pub raw_values: bool,
    /// The most SQLite handles opened on the file (and queries run at once).
    pub max_connections: usize,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            raw_values: false,
            max_connections: 4,
        }
    }
}

impl SqliteOptions {
    /// The same options with storage-class-only values on or off.
    pub fn with_raw_values(self, raw_values: bool) -> Self {
        SqliteOptions { raw_values, ..self }
    }

    /// The same options with another pool size (at least 1).
    pub fn with_max_connections(self, max_connections: usize) -> Self {
        SqliteOptions {
            max_connections: max_connections.max(1),
            ..self
        }
    }
}

/// A read-only SQLite database file.
///
/// Every handle is opened with `SQLITE_OPEN_READ_ONLY` (so a missing file is an error, never
/// created), `PRAGMA query_only = 1`, `ATTACH` disabled and an authorizer that allows only
/// reading (`SELECT`, reads of tables, functions other than `load_extension`, and a list of
/// catalog pragmas). Queries run on tokio's blocking pool, on up to
/// [`SqliteOptions::max_connections`] handles opened on demand, and a progress handler
/// interrupts a statement at its deadline.
pub struct SqliteConnection {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    name: String,
    opts: SqliteOptions,
    idle: Mutex<Vec<Handle>>,
    permits: Arc<Semaphore>,
}

/// One opened handle, with what its authorizer last refused (for the error message).
struct Handle {
    db: rusqlite::Connection,
    denied: Arc<Mutex<Option<String>>>,
}

impl fmt::Debug for SqliteConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteConnection")
            .field("path", &self.inner.path)
            .field("opts", &self.inner.opts)
            .finish_non_exhaustive()
    }
}

impl SqliteConnection {
    /// Opens an existing SQLite file read-only, with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, SqliteOptions::default())
    }

    /// Opens an existing SQLite file read-only.
    ///
    /// Fails with [`Error::FileNotFound`] when there is no such file and [`Error::Connect`]
    /// when it cannot be read or is not a SQLite database. Opening is quick but touches the
    /// file system; call it from a blocking context when that matters.
    pub fn open_with(path: impl AsRef<Path>, opts: SqliteOptions) -> Result<Self> {
        let path = path.as_ref();
        let target = || format!("sqlite:{}", path.display());
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::FileNotFound(path.to_path_buf()));
            }
            Err(e) => {
                return Err(Error::Connect {
                    target: target(),
                    message: e.to_string(),
                });
            }
            Ok(m) if m.is_dir() => {
                return Err(Error::Connect {
                    target: target(),
                    message: "it is a directory, not a database file".into(),
                });
            }
            Ok(_) => {}
        }
        let handle = open_handle(path).map_err(|e| Error::Connect {
            target: target(),
            message: sqlite_message(&e),
        })?;
        // Reading the catalog is what tells a database from any other file.
        handle
            .db
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(|e| Error::Connect {
                target: target(),
                message: sqlite_message(&e),
            })?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let opts = SqliteOptions {
            max_connections: opts.max_connections.max(1),
            ..opts
        };
        Ok(SqliteConnection {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                name,
                permits: Arc::new(Semaphore::new(opts.max_connections)),
                opts,
                idle: Mutex::new(vec![handle]),
            }),
        })
    }

    /// The file this connection reads.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` on a pooled handle on tokio's blocking pool.
    async fn with_handle<T, F>(&self, f: F) -> cbi_types::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Handle, &SqliteOptions) -> cbi_types::Result<T> + Send + 'static,
    {
        let permit = self
            .inner
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| query_error("the connection pool is closed".into()))?;
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let pooled = inner
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            let mut handle = match pooled {
                Some(h) => h,
                None => open_handle(&inner.path).map_err(|e| cbi_types::Error::Connect {
                    target: format!("sqlite:{}", inner.path.display()),
                    message: sqlite_message(&e),
                })?,
            };
            // A refusal recorded for an earlier statement must not explain this one's failure.
            *handle.denied.lock().unwrap_or_else(PoisonError::into_inner) = None;
            let out = f(&mut handle, &inner.opts);
            inner
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(handle);
            out
        })
        .await
        .map_err(|e| query_error(format!("the query task failed: {e}")))?
    }
}

fn query_error(message: String) -> cbi_types::Error {
    cbi_types::Error::Query {
        message,
        code: None,
    }
}

/// Pragmas that only read, which the authorizer lets through (with a table or index name as
/// their argument where they take one).
const READ_PRAGMAS: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
    "database_list",
    "collation_list",
    "function_list",
    "module_list",
    "pragma_list",
    "compile_options",
];

/// Pragmas that read when given no value (and would write when given one).
const READ_PRAGMAS_WITHOUT_VALUE: &[&str] = &[
    "user_version",
    "schema_version",
    "application_id",
    "encoding",
    "page_count",
    "page_size",
    "freelist_count",
    "data_version",
    "query_only",
];

fn authorize(ctx: &AuthContext<'_>) -> std::result::Result<(), String> {
    match ctx.action {
        AuthAction::Select | AuthAction::Read { .. } | AuthAction::Recursive => Ok(()),
        AuthAction::Function { function_name } => {
            if function_name.eq_ignore_ascii_case("load_extension") {
                Err("the function `load_extension` is not allowed".into())
            } else {
                Ok(())
            }
        }
        AuthAction::Pragma {
            pragma_name,
            pragma_value,
        } => {
            let name = pragma_name.to_ascii_lowercase();
            if READ_PRAGMAS.contains(&name.as_str())
                || (pragma_value.is_none() && READ_PRAGMAS_WITHOUT_VALUE.contains(&name.as_str()))
            {
                Ok(())
            } else {
                Err(format!(
                    "`PRAGMA {pragma_name}` is not allowed; this connection only reads"
                ))
            }
        }
        AuthAction::Insert { table_name } => Err(format!(
            "INSERT into `{table_name}` is not allowed; this connection only reads"
        )),
        AuthAction::Update { table_name, .. } => Err(format!(
            "UPDATE of `{table_name}` is not allowed; this connection only reads"
        )),
        AuthAction::Delete { table_name } => Err(format!(
            "DELETE from `{table_name}` is not allowed; this connection only reads"
        )),
        AuthAction::Attach { .. } => {
            Err("ATTACH is not allowed; this connection reads one file".into())
        }
        ref other => Err(format!(
            "{} is not allowed; this connection only reads",
            action_name(other)
        )),
    }
}

fn action_name(a: &AuthAction<'_>) -> String {
    let dbg = format!("{a:?}");
    let head = dbg
        .split([' ', '{', '('])
        .next()
        .unwrap_or("this statement");
    // `CreateTable` → `CREATE TABLE`
    let mut out = String::new();
    for (i, c) in head.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Opens one locked-down handle.
///
/// A database in WAL mode with no `-wal` file beside it (nobody is writing it, and everything
/// was checkpointed) is opened `immutable`: a read-only handle on a WAL database otherwise
/// creates `-wal` and `-shm` files next to it, which a reader must not leave behind. When a
/// `-wal` file is there, a writer may be at work and its log must be read, so the file is
/// opened the ordinary read-only way (the files it uses exist already).
fn open_handle(path: &Path) -> rusqlite::Result<Handle> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut db = if wal_mode(path) && !sidecar(path, "-wal").exists() {
        // The URI is built here from the path, every byte but a few plain ones percent-encoded,
        // so a file name can never add options of its own.
        rusqlite::Connection::open_with_flags(
            immutable_uri(path),
            flags | OpenFlags::SQLITE_OPEN_URI,
        )?
    } else {
        // No SQLITE_OPEN_URI: the path is a file name, never a `file:` URI with options.
        rusqlite::Connection::open_with_flags(path, flags)?
    };
    db.execute_batch("PRAGMA query_only = 1")?;
    // Attaching would let a statement read (or, without the other locks, write) other files.
    db.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0)?;
    db.busy_timeout(Duration::from_secs(5))?;
    let denied = Arc::new(Mutex::new(None));
    let record = denied.clone();
    db.authorizer(Some(move |ctx: AuthContext<'_>| match authorize(&ctx) {
        Ok(()) => Authorization::Allow,
        Err(why) => {
            *record.lock().unwrap_or_else(PoisonError::into_inner) = Some(why);
            Authorization::Deny
        }
    }))?;
    Ok(Handle { db, denied })
}

/// Whether the file's header says WAL mode (file format versions 2 at offsets 18 and 19).
fn wal_mode(path: &Path) -> bool {
    use std::io::Read;
    let mut header = [0u8; 20];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .is_ok_and(|()| header.starts_with(b"SQLite format 3\0") && header[18] == 2)
}

/// `<path><suffix>`, SQLite's name for a database's side files.
fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// `file:<absolute path>?immutable=1`, the path percent-encoded.
fn immutable_uri(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut uri = String::from("file:");
    for &b in absolute.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"/._-~".contains(&b) {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?immutable=1");
    uri
}

/// Interrupts whatever runs on `db` once `deadline` passes.
fn set_deadline(db: &mut rusqlite::Connection, deadline: Instant) {
    // Checked every 1000 virtual machine instructions: cheap, and well under a millisecond.
    let _ = db.progress_handler(1000, Some(move || Instant::now() >= deadline));
}

fn clear_deadline(db: &mut rusqlite::Connection) {
    let _ = db.progress_handler(0, None::<fn() -> bool>);
}

/// SQLite's own message for an error, without rusqlite's decoration.
fn sqlite_message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
        rusqlite::Error::SqliteFailure(f, None) => f.to_string(),
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        other => other.to_string(),
    }
}

/// Maps a SQLite failure into the shared categories.
fn map_error(e: rusqlite::Error, limits: QueryLimits, handle: &Handle) -> cbi_types::Error {
    let limit = limits.timeout;
    if let rusqlite::Error::MultipleStatement = e {
        return cbi_types::Error::Invalid(
            "only one statement per call is accepted; found another after `;`".into(),
        );
    }
    // A statement the authorizer refused fails with SQLITE_AUTH, or SQLITE_ERROR for a
    // function; either way the refusal recorded here is the reason.
    if let Some(why) = handle
        .denied
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
    {
        return cbi_types::Error::ReadOnly(why);
    }
    let f = match &e {
        rusqlite::Error::SqliteFailure(f, _) | rusqlite::Error::SqlInputError { error: f, .. } => f,
        _ => return query_error(sqlite_message(&e)),
    };
    match f.code {
        ErrorCode::OperationInterrupted => cbi_types::Error::Timeout(limit),
        ErrorCode::TooBig => cbi_types::Error::ResultTooLarge {
            max_bytes: limits.max_bytes,
        },
        ErrorCode::ReadOnly => cbi_types::Error::ReadOnly(format!(
            "{}; this connection only reads",
            sqlite_message(&e)
        )),
        ErrorCode::AuthorizationForStatementDenied => {
            cbi_types::Error::ReadOnly("not authorized on a read-only connection".into())
        }
        _ => cbi_types::Error::Query {
            message: sqlite_message(&e),
            code: Some(f.extended_code.to_string()),
        },
    }
}

/// How a declared column type asks its text and integers to be read.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Decl {
    Plain,
    Bool,
    Date,
    Timestamp,
}

impl Decl {
    fn of(decl: Option<&str>) -> Decl {
        let Some(d) = decl else { return Decl::Plain };
        let d = d.trim().to_ascii_uppercase();
        if d.starts_with("BOOL") {
            Decl::Bool
        } else if d == "DATE" {
            Decl::Date
        } else if d.starts_with("DATETIME") || d.starts_with("TIMESTAMP") {
            Decl::Timestamp
        } else {
            Decl::Plain
        }
    }
}

/// Decodes text the way Python's `bytes.decode(errors="ignore")` does: invalid sequences are
/// dropped, so results compare equal to the official evaluation scripts'.
fn decode_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.utf8_chunks().map(|c| c.valid()).collect(),
    }
}

fn parse_timestamp(s: &str) -> Option<Value> {
    const FORMATS: [&str; 4] = [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ];
    FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(Value::Timestamp)
        .or_else(|| {
            DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| Value::TimestampTz(t.with_timezone(&Utc)))
        })
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .map(Value::Date)
        })
}

fn convert(v: ValueRef<'_>, decl: Decl, raw: bool) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => match (raw, decl, i) {
            (false, Decl::Bool, 0 | 1) => Value::Bool(i == 1),
            _ => Value::Int(i),
        },
        ValueRef::Real(f) => Value::Float(f),
        ValueRef::Text(bytes) => {
            let s = decode_text(bytes);
            if raw {
                return Value::Text(s);
            }
            let typed = match decl {
                Decl::Plain => None,
                Decl::Bool => match s.to_ascii_lowercase().as_str() {
                    "true" => Some(Value::Bool(true)),
                    "false" => Some(Value::Bool(false)),
                    _ => None,
                },
                Decl::Date => NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                    .ok()
                    .map(Value::Date),
                Decl::Timestamp => parse_timestamp(&s),
            };
            typed.unwrap_or(Value::Text(s))
        }
        ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
    }
}

fn run_query(
    handle: &mut Handle,
    sql: &str,
    limits: QueryLimits,
    raw: bool,
) -> cbi_types::Result<QueryResult> {
    let start = Instant::now();
    set_deadline(&mut handle.db, start + limits.timeout);
    // No single text or blob may pass the byte cap either: SQLite refuses to build it
    // (`randomblob(900000000)` fails at once instead of allocating 900 MB).
    let length = i32::try_from(limits.max_bytes).unwrap_or(i32::MAX).max(1);
    let previous = handle.db.set_limit(Limit::SQLITE_LIMIT_LENGTH, length);
    let out = read_rows(&handle.db, sql, limits, raw);
    if let Ok(previous) = previous {
        let _ = handle.db.set_limit(Limit::SQLITE_LIMIT_LENGTH, previous);
    }
    clear_deadline(&mut handle.db);
    let (columns, rows, truncated) = out.map_err(|e| match e {
        Refusal::Sqlite(e) => map_error(e, limits, handle),
        Refusal::Shared(e) => e,
    })?;
    Ok(QueryResult {
        columns,
        rows,
        truncated,
        elapsed: start.elapsed(),
    })
}

enum Refusal {
    Sqlite(rusqlite::Error),
    Shared(cbi_types::Error),
}

impl From<rusqlite::Error> for Refusal {
    fn from(e: rusqlite::Error) -> Self {
        Refusal::Sqlite(e)
    }
}

type Rows = (Vec<ColumnMeta>, Vec<Vec<Value>>, bool);

fn read_rows(
    db: &rusqlite::Connection,
    sql: &str,
    limits: QueryLimits,
    raw: bool,
) -> std::result::Result<Rows, Refusal> {
    let max_rows = limits.max_rows;
    let mut budget = cbi_types::ByteBudget::new(&limits);
    let mut stmt = db.prepare(sql)?;
    if !stmt.readonly() {
        return Err(Refusal::Shared(cbi_types::Error::ReadOnly(
            "this statement would write; this connection only reads".into(),
        )));
    }
    let (columns, decls): (Vec<ColumnMeta>, Vec<Decl>) = stmt
        .columns()
        .map(|c| {
            (
                ColumnMeta {
                    name: c.name().to_string(),
                    type_name: c.decl_type().unwrap_or_default().to_string(),
                },
                Decl::of(c.decl_type()),
            )
        })
        .unzip();
    let mut rows = Vec::new();
    let mut truncated = false;
    let mut cursor = stmt.query([])?;
    while let Some(row) = cursor.next()? {
        if rows.len() == max_rows {
            truncated = true;
            break;
        }
        let mut values = Vec::with_capacity(decls.len());
        for (i, decl) in decls.iter().enumerate() {
            values.push(convert(row.get_ref(i)?, *decl, raw));
        }
        budget.add_row(&values).map_err(Refusal::Shared)?;
        rows.push(values);
    }
    Ok((columns, rows, truncated))
}

/// How long catalog reads may take in total, and one table's `COUNT(*)`.
const CATALOG_TIME: Duration = Duration::from_secs(60);
const COUNT_TIME: Duration = Duration::from_secs(2);
const EXPLAIN_TIME: Duration = Duration::from_secs(5);

fn introspect(handle: &mut Handle, name: &str) -> cbi_types::Result<DatabaseSchema> {
    set_deadline(&mut handle.db, Instant::now() + CATALOG_TIME);
    let out = read_catalog(&mut handle.db);
    clear_deadline(&mut handle.db);
    let (tables, relationships) =
        out.map_err(|e| map_error(e, QueryLimits::default().with_timeout(CATALOG_TIME), handle))?;
    Ok(DatabaseSchema {
        name: name.to_string(),
        dialect: SqlDialect::Sqlite,
        tables,
        relationships,
    })
}

type Catalog = (Vec<TableSchema>, Vec<cbi_types::Relationship>);

fn read_catalog(db: &mut rusqlite::Connection) -> rusqlite::Result<Catalog> {
    let mut listed: Vec<(String, TableKind)> = db
        .prepare(
            "SELECT name, type FROM pragma_table_list \
             WHERE schema = 'main' AND type IN ('table', 'view', 'virtual') \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
        )?
        .query_map([], |r| {
            let kind: String = r.get(1)?;
            Ok((
                r.get::<_, String>(0)?,
                if kind == "view" {
                    TableKind::View
                } else {
                    TableKind::Table
                },
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    listed.sort_by(|a, b| a.0.cmp(&b.0));

    let stats = stat1_counts(db)?;
    let mut tables = Vec::new();
    let mut keys = Vec::new();
    for (name, kind) in listed {
        let columns = match table_columns(db, &name) {
            Ok(c) => c,
            // A view over a table that no longer exists cannot be read; leave it out rather
            // than fail the whole catalog.
            Err(e) if kind == TableKind::View => {
                tracing::warn!(view = %name, error = %e, "unreadable view skipped");
                continue;
            }
            Err(e) => return Err(e),
        };
        let mut pk: Vec<(i64, String)> = columns
            .iter()
            .filter(|(_, k)| *k > 0)
            .map(|(c, k)| (*k, c.name.clone()))
            .collect();
        pk.sort();
        let mut table = TableSchema {
            name: name.clone(),
            schema: None,
            kind,
            columns: columns.into_iter().map(|(c, _)| c).collect(),
            primary_key: pk.into_iter().map(|(_, c)| c).collect(),
            indexes: Vec::new(),
            row_count: None,
            comment: None,
        };
        if kind == TableKind::Table {
            table.indexes = table_indexes(db, &name)?;
            keys.extend(foreign_keys(db, &name)?);
            table.row_count = match stats.iter().find(|(t, _)| t.eq_ignore_ascii_case(&name)) {
                Some((_, n)) => Some(*n),
                None => count_rows(db, &name),
            };
        }
        tables.push(table);
    }
    relations::sort_tables(&mut tables);
    let relationships = relations::resolve(&tables, keys);
    Ok((tables, relationships))
}

/// Columns in ordinal order, with each one's position in the primary key (0 when not in it).
fn table_columns(
    db: &rusqlite::Connection,
    table: &str,
) -> rusqlite::Result<Vec<(ColumnSchema, i64)>> {
    db.prepare(r#"SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?1)"#)?
        .query_map([table], |r| {
            let pk: i64 = r.get(4)?;
            let not_null: bool = r.get(2)?;
            Ok((
                ColumnSchema {
                    name: r.get(0)?,
                    data_type: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                    // Primary key columns are reported NOT NULL even where SQLite's rowid
                    // tables would tolerate a NULL: that is what the key means.
                    nullable: !not_null && pk == 0,
                    default_value: r.get(3)?,
                    comment: None,
                },
                pk,
            ))
        })?
        .collect()
}

fn table_indexes(db: &rusqlite::Connection, table: &str) -> rusqlite::Result<Vec<IndexSchema>> {
    let listed: Vec<(String, bool)> = db
        .prepare(r#"SELECT name, "unique" FROM pragma_index_list(?1) ORDER BY name"#)?
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut indexes = Vec::new();
    for (name, unique) in listed {
        let columns = db
            .prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")?
            .query_map([&name], |r| {
                Ok(r.get::<_, Option<String>>(0)?
                    .unwrap_or_else(|| "<expression>".into()))
            })?
            .collect::<rusqlite::Result<_>>()?;
        indexes.push(IndexSchema {
            name,
            columns,
            unique,
        });
    }
    Ok(indexes)
}

fn foreign_keys(db: &rusqlite::Connection, table: &str) -> rusqlite::Result<Vec<DeclaredKey>> {
    let rows: Vec<(i64, String, String, Option<String>)> = db
        .prepare(
            r#"SELECT id, "table", "from", "to" FROM pragma_foreign_key_list(?1) ORDER BY id, seq"#,
        )?
        .query_map([table], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut keys: Vec<(i64, DeclaredKey)> = Vec::new();
    for (id, to_table, from, to) in rows {
        if keys.last().is_none_or(|(last, _)| *last != id) {
            keys.push((
                id,
                DeclaredKey {
                    from_table: table.to_string(),
                    from_schema: None,
                    from_columns: Vec::new(),
                    to_table,
                    to_schema: None,
                    to_columns: Vec::new(),
                },
            ));
        }
        if let Some((_, k)) = keys.last_mut() {
            k.from_columns.push(from);
            // A key that names no referenced column refers to the referenced table's primary
            // key; `resolve` fills it in from an empty list.
            if let Some(to) = to {
                k.to_columns.push(to);
            }
        }
    }
    Ok(keys
        .into_iter()
        .map(|(_, k)| k)
        .filter(|k| k.to_columns.is_empty() || k.to_columns.len() == k.from_columns.len())
        .collect())
}

/// Row counts `ANALYZE` left in `sqlite_stat1`, when it did.
fn stat1_counts(db: &rusqlite::Connection) -> rusqlite::Result<Vec<(String, u64)>> {
    let present: bool = db.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'",
        [],
        |r| r.get(0),
    )?;
    if !present {
        return Ok(Vec::new());
    }
    let mut out: Vec<(String, u64)> = Vec::new();
    let rows: Vec<(String, Option<String>)> = db
        .prepare("SELECT tbl, stat FROM sqlite_stat1")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (tbl, stat) in rows {
        let Some(n) = stat
            .as_deref()
            .and_then(|s| s.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        match out.iter_mut().find(|(t, _)| *t == tbl) {
            Some((_, m)) => *m = (*m).max(n),
            None => out.push((tbl, n)),
        }
    }
    Ok(out)
}

/// `COUNT(*)` under its own short deadline; `None` when it takes longer or fails.
fn count_rows(db: &mut rusqlite::Connection, table: &str) -> Option<u64> {
    set_deadline(db, Instant::now() + COUNT_TIME);
    let sql = format!(
        "SELECT count(*) FROM {}",
        SqlDialect::Sqlite.quote_ident(table)
    );
    let n = db.query_row(&sql, [], |r| r.get::<_, i64>(0)).ok();
    set_deadline(db, Instant::now() + CATALOG_TIME);
    n.and_then(|n| u64::try_from(n).ok())
}

fn explain(handle: &mut Handle, sql: &str) -> cbi_types::Result<String> {
    set_deadline(&mut handle.db, Instant::now() + EXPLAIN_TIME);
    let out = read_plan(&handle.db, sql);
    clear_deadline(&mut handle.db);
    out.map_err(|e| map_error(e, QueryLimits::default().with_timeout(EXPLAIN_TIME), handle))
}

/// `EXPLAIN QUERY PLAN` rows drawn as an indented tree.
fn read_plan(db: &rusqlite::Connection, sql: &str) -> rusqlite::Result<String> {
    let rows: Vec<(i64, i64, String)> = db
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut depth: Vec<(i64, usize)> = Vec::new();
    let mut out = String::from("QUERY PLAN\n");
    for (id, parent, detail) in rows {
        let d = depth
            .iter()
            .find(|(i, _)| *i == parent)
            .map_or(0, |(_, d)| d + 1);
        depth.push((id, d));
        out.push_str(&"  ".repeat(d + 1));
        out.push_str(&detail);
        out.push('\n');
    }
    Ok(out)
}

#[async_trait]
impl Connection for SqliteConnection {
    fn dialect(&self) -> SqlDialect {
        SqlDialect::Sqlite
    }

    fn database_name(&self) -> &str {
        &self.inner.name
    }

    async fn introspect(&self) -> cbi_types::Result<DatabaseSchema> {
        let name = self.inner.name.clone();
        self.with_handle(move |h, _| introspect(h, &name)).await
    }

    async fn query(&self, sql: &str, limits: QueryLimits) -> cbi_types::Result<QueryResult> {
        let sql = guard::check_query(sql, SqlDialect::Sqlite)?.to_string();
        // The watchdog: the progress handler only looks at the clock every 1,000 virtual
        // machine steps, and one expensive call per row slips between its looks, so a timer
        // also interrupts the statement from outside at its deadline.
        let deadline = tokio::time::Instant::now() + limits.timeout;
        let (send, interrupt) = tokio::sync::oneshot::channel::<rusqlite::InterruptHandle>();
        let work = self.with_handle(move |h, opts| {
            let _ = send.send(h.db.get_interrupt_handle());
            run_query(h, &sql, limits, opts.raw_values)
        });
        let watchdog = async {
            if let Ok(handle) = interrupt.await {
                tokio::time::sleep_until(deadline).await;
                handle.interrupt();
            }
            std::future::pending::<()>().await
        };
        tokio::select! {
            out = work => out,
            () = watchdog => unreachable!("the watchdog never finishes"),
        }
    }

    async fn explain(&self, sql: &str) -> cbi_types::Result<String> {
        let sql = guard::check_explain(sql, SqlDialect::Sqlite)?.to_string();
        self.with_handle(move |h, _| explain(h, &sql)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writable fixture file, and a read-only handle on it that skips the lexical guard:
    /// what the connection-level locks alone allow.
    fn fixture() -> (tempfile::TempDir, PathBuf, Handle) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite");
        let w = rusqlite::Connection::open(&path).unwrap();
        w.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, d DATE, ts DATETIME, b BOOLEAN, x);
             CREATE INDEX t_x ON t (x);
             INSERT INTO t VALUES (1, '2024-02-29', '2024-02-29 13:45:00', 1, 'a'),
                                  (2, 'not a date', '2024-03-01T08:00:00Z', 'true', 2.5);",
        )
        .unwrap();
        drop(w);
        let h = open_handle(&path).unwrap();
        (dir, path, h)
    }

    fn unchecked(h: &mut Handle, sql: &str) -> cbi_types::Result<QueryResult> {
        *h.denied.lock().unwrap() = None;
        run_query(h, sql, QueryLimits::default(), false)
    }

    #[test]
    fn the_locks_hold_without_the_lexical_guard() {
        let (_dir, path, mut h) = fixture();
        for sql in [
            "INSERT INTO t (id) VALUES (3)",
            "UPDATE t SET x = 0",
            "DELETE FROM t",
            "DROP TABLE t",
            "CREATE TABLE u (a)",
            "CREATE TEMP TABLE u (a)",
            "PRAGMA query_only = 0",
            "PRAGMA journal_mode = DELETE",
            "ATTACH 'other.db' AS o",
            "VACUUM",
            "REINDEX",
            "ANALYZE",
            "SELECT load_extension('x')",
            "WITH d AS (SELECT 1) DELETE FROM t",
        ] {
            let e = unchecked(&mut h, sql);
            assert!(
                matches!(e, Err(cbi_types::Error::ReadOnly(_))),
                "{sql}: {e:?}"
            );
        }
        let vacuum_into = path.with_file_name("copy.sqlite");
        let sql = format!("VACUUM INTO '{}'", vacuum_into.display());
        assert!(unchecked(&mut h, &sql).is_err());
        assert!(!vacuum_into.exists());
        assert!(!path.with_file_name("other.db").exists());
        let n = unchecked(&mut h, "SELECT count(*) FROM t").unwrap();
        assert_eq!(n.scalar(), Some(&Value::Int(2)));
    }

    #[test]
    fn reading_pragmas_pass() {
        let (_dir, _path, mut h) = fixture();
        let r = unchecked(&mut h, "PRAGMA table_info(t)").unwrap();
        assert_eq!(r.rows.len(), 5);
        let r = unchecked(&mut h, "SELECT name FROM pragma_table_info('t')").unwrap();
        assert_eq!(r.rows.len(), 5);
        unchecked(&mut h, "PRAGMA user_version").unwrap();
    }

    #[test]
    fn declared_types_shape_values_unless_raw() {
        let (_dir, _path, mut h) = fixture();
        let r = unchecked(&mut h, "SELECT d, ts, b, x FROM t ORDER BY id").unwrap();
        assert_eq!(
            r.rows[0],
            vec![
                Value::Date(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()),
                Value::Timestamp(
                    NaiveDate::from_ymd_opt(2024, 2, 29)
                        .unwrap()
                        .and_hms_opt(13, 45, 0)
                        .unwrap()
                ),
                Value::Bool(true),
                Value::Text("a".into()),
            ]
        );
        assert_eq!(r.rows[1][0], Value::Text("not a date".into()));
        assert!(matches!(r.rows[1][1], Value::TimestampTz(_)));
        assert_eq!(r.rows[1][2], Value::Bool(true));
        assert_eq!(r.rows[1][3], Value::Float(2.5));
        assert_eq!(r.columns[0].type_name, "DATE");
        assert_eq!(r.columns[3].type_name, "");

        let raw = run_query(
            &mut h,
            "SELECT d, b FROM t ORDER BY id",
            QueryLimits::default(),
            true,
        )
        .unwrap();
        assert_eq!(
            raw.rows[0],
            vec![Value::Text("2024-02-29".into()), Value::Int(1)]
        );
    }

    #[test]
    fn invalid_utf8_is_dropped_like_python_ignore() {
        assert_eq!(decode_text(b"caf\xc3\xa9"), "café");
        assert_eq!(decode_text(b"a\xffb\xc3"), "ab");
    }

    #[test]
    fn action_names_read_well() {
        assert_eq!(
            action_name(&AuthAction::CreateTable { table_name: "x" }),
            "CREATE TABLE"
        );
    }
}
