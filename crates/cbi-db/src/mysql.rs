//! MySQL and MariaDB through mysql_async: read-only sessions, read-only transactions that are
//! always rolled back, prepared (hence single) statements, server-side time limits.

use std::fmt;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use cbi_types::{
    ColumnMeta, ColumnSchema, Connection, DatabaseSchema, IndexSchema, QueryLimits, QueryResult,
    SqlDialect, TableKind, TableSchema, Value,
};
use chrono::{NaiveDate, NaiveTime};
use futures::StreamExt;
use mysql_async::consts::{ColumnFlags, ColumnType};
use mysql_async::prelude::{FromValue, Queryable};
use mysql_async::{Column, Conn, Opts, OptsBuilder, Pool, PoolConstraints, PoolOpts, Row, TxOpts};
use rust_decimal::Decimal;

use crate::relations::{self, DeclaredKey};
use crate::server::{Catalog, Done, Op, Rows, unexpected};
use crate::{ConnectOptions, Error, Result, ServerUrl, guard};

/// How long past a query's own limit the client waits before killing it itself.
const GRACE: Duration = Duration::from_secs(1);
const CATALOG_TIME: Duration = Duration::from_secs(60);
const EXPLAIN_TIME: Duration = Duration::from_secs(5);

/// The `sql_mode` every statement runs under. `NO_BACKSLASH_ESCAPES` makes the server read
/// string literals the way the validator and the lexical guard do (a quote is escaped only by
/// doubling it); the mode is set outright, so a server-wide `ANSI_QUOTES` or
/// `PIPES_AS_CONCAT` cannot change what a validated statement means either.
const SQL_MODE: &str =
    "NO_BACKSLASH_ESCAPES,STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION";

/// Which server answered: they spell the statement time limit differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    MySql,
    MariaDb,
}

/// A read-only MySQL or MariaDB database.
///
/// Every pooled session runs `SET SESSION TRANSACTION READ ONLY` when it opens, and every
/// statement runs in `START TRANSACTION READ ONLY` … `ROLLBACK`, prepared (the binary protocol
/// takes exactly one statement), with the session's `max_statement_time` (MariaDB) or
/// `max_execution_time` (MySQL) set to the query's limit and `sql_select_limit` to one row past
/// the cap. If the server does not stop in time, another connection sends `KILL QUERY` and the
/// session is closed rather than reused.
///
/// The lexical guard refuses DDL before it reaches the server: a MySQL DDL statement commits
/// implicitly, and `SELECT … INTO OUTFILE` writes a file even inside a read-only transaction.
///
/// `TINYINT(1)` (which is what `BOOLEAN` means to MySQL) comes back as `Int`: result metadata
/// cannot tell a declared `BOOLEAN` from a small integer.
pub struct MySqlConnection {
    pool: Pool,
    opts: Opts,
    flavor: Flavor,
    name: String,
    target: String,
    warning: Option<String>,
}

impl fmt::Debug for MySqlConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MySqlConnection")
            .field("target", &self.target)
            .field("flavor", &self.flavor)
            .finish_non_exhaustive()
    }
}

impl MySqlConnection {
    /// Opens a pool on the server and checks that it accepts us.
    ///
    /// The URL must name a database: introspection reads that one. The server is reached over
    /// TCP even on `localhost`, so socket-based authentication never stands in for the
    /// password.
    pub async fn connect(url: &ServerUrl, opts: &ConnectOptions) -> Result<Self> {
        let target = url.target();
        let Some(database) = url.database() else {
            return Err(Error::InvalidUrl(format!(
                "a MySQL URL must name a database ({}://user@host/database)",
                url.scheme()
            )));
        };
        let connect_error = |message: String| Error::Connect {
            target: target.clone(),
            message,
        };
        let connect_timeout = url
            .param("connect_timeout")
            .and_then(|s| s.parse().ok())
            .map_or(opts.connect_timeout, Duration::from_secs);
        let constraints = PoolConstraints::new(0, opts.pool_size.max(1))
            .ok_or_else(|| connect_error("invalid pool size".into()))?;
        let builder = OptsBuilder::default()
            .ip_or_hostname(url.host())
            .tcp_port(url.port())
            .user(url.user())
            .pass(url.password())
            .db_name(Some(database))
            .prefer_socket(false)
            // `setup` runs on every new session and again after the pool resets one.
            .setup(vec![
                "SET SESSION TRANSACTION READ ONLY".to_string(),
                format!("SET SESSION sql_mode = '{SQL_MODE}'"),
            ])
            .pool_opts(PoolOpts::default().with_constraints(constraints));
        let opts = Opts::from(builder);
        let pool = Pool::new(opts.clone());
        let mut conn = match tokio::time::timeout(connect_timeout, pool.get_conn()).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return Err(connect_error(my_message(&e))),
            Err(_) => return Err(connect_error("timed out waiting for the server".into())),
        };
        let (version, name): (String, String) = conn
            .query_first("SELECT VERSION(), DATABASE()")
            .await
            .map_err(|e| connect_error(my_message(&e)))?
            .ok_or_else(|| connect_error("the server did not say who it is".into()))?;
        let flavor = if version.to_ascii_lowercase().contains("mariadb") {
            Flavor::MariaDb
        } else {
            Flavor::MySql
        };
        let grants: Vec<String> = conn
            .query("SHOW GRANTS FOR CURRENT_USER()")
            .await
            .unwrap_or_default();
        let warning = over_privileged(&grants).then(|| {
            let w = format!(
                "connected to {target} as a user with server-wide privileges ({}); cbi only \
                 reads, but give it a SELECT-only user (see the README, \"A least-privilege \
                 role\")",
                url.user().unwrap_or("?")
            );
            tracing::debug!("{w}");
            w
        });
        Ok(MySqlConnection {
            pool,
            opts,
            flavor,
            name,
            target,
            warning,
        })
    }

    async fn conn(&self, wait: Duration) -> cbi_types::Result<Conn> {
        match tokio::time::timeout(wait, self.pool.get_conn()).await {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(cbi_types::Error::Connect {
                target: self.target.clone(),
                message: my_message(&e),
            }),
            Err(_) => Err(cbi_types::Error::Timeout(wait)),
        }
    }

    /// Runs `op` in a read-only transaction under `limit`, killing it from another connection
    /// if the server's own limit does not fire.
    async fn read_only(&self, limit: Duration, op: Op<'_>) -> cbi_types::Result<Done> {
        let mut conn = self.conn(limit).await?;
        let id = conn.id();
        let failure = {
            let run = run_op(&mut conn, self.flavor, limit, op);
            tokio::pin!(run);
            match tokio::time::timeout(limit + GRACE, &mut run).await {
                Ok(Err(e @ cbi_types::Error::ResultTooLarge { .. })) => {
                    // The rest of the result is still on its way; reading it to the end could
                    // take longer than the query. End the session instead of draining it.
                    self.kill(format!("KILL {id}")).await;
                    e
                }
                Ok(out) => return out,
                Err(_) => {
                    self.kill_query(id).await;
                    let _ = tokio::time::timeout(GRACE, &mut run).await;
                    cbi_types::Error::Timeout(limit)
                }
            }
        };
        // A killed session is not handed to the next query.
        let _ = tokio::time::timeout(GRACE, conn.disconnect()).await;
        Err(failure)
    }

    /// Best effort: a fresh connection (the pool may be exhausted) sends `KILL QUERY`.
    async fn kill_query(&self, id: u32) {
        self.kill(format!("KILL QUERY {id}")).await;
    }

    /// Best effort: a fresh connection sends `kill` (`KILL QUERY n` or `KILL n`).
    async fn kill(&self, kill: String) {
        let kill = async {
            let mut c = Conn::new(self.opts.clone()).await?;
            c.query_drop(kill).await?;
            c.disconnect().await
        };
        if let Ok(Err(e)) = tokio::time::timeout(GRACE, kill).await {
            tracing::warn!(error = %e, "could not kill an overrunning query");
        }
    }
}

async fn run_op(
    conn: &mut Conn,
    flavor: Flavor,
    limit: Duration,
    op: Op<'_>,
) -> cbi_types::Result<Done> {
    let map = |e: mysql_async::Error| map_error(&e, limit);
    let time_limit = match flavor {
        Flavor::MariaDb => format!("max_statement_time = {:.3}", limit.as_secs_f64().max(0.001)),
        Flavor::MySql => format!(
            "max_execution_time = {}",
            limit.as_millis().clamp(1, u32::MAX as u128)
        ),
    };
    let row_limit = match op {
        Op::Query(_, limits) => limits
            .max_rows
            .saturating_add(1)
            .min(u64::MAX as usize)
            .to_string(),
        _ => "DEFAULT".to_string(),
    };
    conn.query_drop(format!(
        "SET SESSION {time_limit}, SESSION sql_select_limit = {row_limit}, \
         SESSION sql_mode = '{SQL_MODE}'"
    ))
    .await
    .map_err(map)?;
    let mut tx = conn
        .start_transaction(TxOpts::default().with_readonly(true).clone())
        .await
        .map_err(map)?;
    let start = Instant::now();
    let out = match op {
        Op::Query(sql, limits) => match run_query(&mut tx, sql, limits).await {
            Ok(rows) => Ok(rows),
            // Not rolled back here: that would first read the rest of the result. The caller
            // ends the session.
            Err(Capped::Over(e)) => return Err(e),
            Err(Capped::Driver(e)) => Err(e),
        }
        .and_then(|rows| {
            // MariaDB's BENCHMARK() (and MySQL's SLEEP()) stop at the limit and return a
            // made-up value without any error: a statement that lasted the whole limit has
            // no trustworthy result.
            if start.elapsed() >= limit {
                Err(mysql_async::Error::Server(mysql_async::ServerError {
                    code: 1969,
                    message: "the statement reached its time limit".into(),
                    state: "70100".into(),
                }))
            } else {
                Ok(Done::Rows(rows))
            }
        }),
        Op::Explain(sql) => run_explain(&mut tx, sql).await.map(Done::Plan),
        Op::Catalog => read_catalog(&mut tx, flavor).await.map(Done::Catalog),
    };
    // Never COMMIT. Rolling back also reads and drops any rows past the cap that a `LIMIT`
    // in the statement made the server send anyway.
    let rolled_back = tx.rollback().await;
    let out = out.map_err(map)?;
    rolled_back.map_err(map)?;
    Ok(out)
}

/// The server's message, without the driver's decoration. Never contains the password.
fn my_message(e: &mysql_async::Error) -> String {
    match e {
        mysql_async::Error::Server(s) => s.message.clone(),
        mysql_async::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

/// Maps a driver error into the shared categories.
fn map_error(e: &mysql_async::Error, limit: Duration) -> cbi_types::Error {
    match e {
        mysql_async::Error::Server(s) => match s.code {
            // ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION, ER_OPTION_PREVENTS_STATEMENT
            // (--read-only), ER_READ_ONLY_MODE
            1792 | 1290 | 1836 => {
                cbi_types::Error::ReadOnly(format!("{}; this connection only reads", s.message))
            }
            // MariaDB max_statement_time, MySQL max_execution_time, KILL QUERY
            1969 | 3024 | 1317 => cbi_types::Error::Timeout(limit),
            code => cbi_types::Error::Query {
                message: s.message.clone(),
                code: Some(code.to_string()),
            },
        },
        other => cbi_types::Error::Query {
            message: my_message(other),
            code: None,
        },
    }
}

/// Why reading a result stopped early.
enum Capped {
    Driver(mysql_async::Error),
    /// The byte cap: the result is abandoned mid-stream.
    Over(cbi_types::Error),
}

impl From<mysql_async::Error> for Capped {
    fn from(e: mysql_async::Error) -> Self {
        Capped::Driver(e)
    }
}

/// Whether `SHOW GRANTS` gives the user more than reading: any server-wide grant beyond
/// `USAGE`/`SELECT`/`SHOW VIEW`/`SHOW DATABASES`, or `ALL PRIVILEGES` anywhere.
fn over_privileged(grants: &[String]) -> bool {
    const READING: &[&str] = &["USAGE", "SELECT", "SHOW VIEW", "SHOW DATABASES"];
    grants.iter().any(|g| {
        let upper = g.to_ascii_uppercase();
        let Some(rest) = upper.strip_prefix("GRANT ") else {
            return false;
        };
        let Some((privs, on)) = rest.split_once(" ON ") else {
            return false;
        };
        let global = on.trim_start().starts_with("*.*");
        privs.contains("ALL PRIVILEGES")
            || (global
                && privs
                    .split(',')
                    .map(|p| p.trim())
                    .any(|p| !READING.iter().any(|r| p.starts_with(r))))
    })
}

async fn run_query(
    tx: &mut mysql_async::Transaction<'_>,
    sql: &str,
    limits: QueryLimits,
) -> std::result::Result<Rows, Capped> {
    let max_rows = limits.max_rows;
    let mut budget = cbi_types::ByteBudget::new(&limits);
    let mut result = tx.exec_iter(sql, ()).await?;
    let cols: Vec<Column> = result.columns_ref().to_vec();
    let columns = cols
        .iter()
        .map(|c| ColumnMeta {
            name: c.name_str().into_owned(),
            type_name: type_name(c).to_string(),
        })
        .collect();
    let mut rows = Vec::new();
    let mut truncated = false;
    if let Some(mut stream) = result.stream::<Row>().await? {
        while let Some(row) = stream.next().await {
            let row = row?;
            if rows.len() == max_rows {
                truncated = true;
                break;
            }
            // `Row::unwrap` hands over the row's values; it cannot panic.
            let values: Vec<Value> = Row::unwrap(row)
                .into_iter()
                .zip(&cols)
                .map(|(v, c)| convert(v, c))
                .collect();
            budget.add_row(&values).map_err(Capped::Over)?;
            rows.push(values);
        }
    }
    let warnings = if truncated { 0 } else { result.warnings() };
    drop(result);
    if warnings > 0 {
        interrupted_by_warning(tx).await?;
    }
    Ok((columns, rows, truncated))
}

/// Some statements stop at the time limit with only a *warning* and a made-up result instead
/// of an error; such a result must not pass for an answer.
async fn interrupted_by_warning(tx: &mut mysql_async::Transaction<'_>) -> mysql_async::Result<()> {
    let warnings: Vec<Row> = tx.query("SHOW WARNINGS").await?;
    for w in &warnings {
        let code: u16 = cell(w, 1)?;
        if matches!(code, 1969 | 3024 | 1317) {
            return Err(mysql_async::Error::Server(mysql_async::ServerError {
                code,
                message: cell(w, 2)?,
                state: "70100".into(),
            }));
        }
    }
    Ok(())
}

fn type_name(c: &Column) -> &'static str {
    let unsigned = c.flags().contains(ColumnFlags::UNSIGNED_FLAG);
    let binary = c.character_set() == 63;
    match c.column_type() {
        ColumnType::MYSQL_TYPE_TINY if unsigned => "tinyint unsigned",
        ColumnType::MYSQL_TYPE_TINY => "tinyint",
        ColumnType::MYSQL_TYPE_SHORT => "smallint",
        ColumnType::MYSQL_TYPE_INT24 => "mediumint",
        ColumnType::MYSQL_TYPE_LONG if unsigned => "int unsigned",
        ColumnType::MYSQL_TYPE_LONG => "int",
        ColumnType::MYSQL_TYPE_LONGLONG if unsigned => "bigint unsigned",
        ColumnType::MYSQL_TYPE_LONGLONG => "bigint",
        ColumnType::MYSQL_TYPE_FLOAT => "float",
        ColumnType::MYSQL_TYPE_DOUBLE => "double",
        ColumnType::MYSQL_TYPE_DECIMAL | ColumnType::MYSQL_TYPE_NEWDECIMAL => "decimal",
        ColumnType::MYSQL_TYPE_DATE | ColumnType::MYSQL_TYPE_NEWDATE => "date",
        ColumnType::MYSQL_TYPE_TIME | ColumnType::MYSQL_TYPE_TIME2 => "time",
        ColumnType::MYSQL_TYPE_DATETIME | ColumnType::MYSQL_TYPE_DATETIME2 => "datetime",
        ColumnType::MYSQL_TYPE_TIMESTAMP | ColumnType::MYSQL_TYPE_TIMESTAMP2 => "timestamp",
        ColumnType::MYSQL_TYPE_YEAR => "year",
        ColumnType::MYSQL_TYPE_BIT => "bit",
        ColumnType::MYSQL_TYPE_JSON => "json",
        ColumnType::MYSQL_TYPE_ENUM => "enum",
        ColumnType::MYSQL_TYPE_SET => "set",
        ColumnType::MYSQL_TYPE_GEOMETRY => "geometry",
        ColumnType::MYSQL_TYPE_NULL => "null",
        ColumnType::MYSQL_TYPE_TINY_BLOB
        | ColumnType::MYSQL_TYPE_MEDIUM_BLOB
        | ColumnType::MYSQL_TYPE_LONG_BLOB
        | ColumnType::MYSQL_TYPE_BLOB => {
            if binary {
                "blob"
            } else {
                "text"
            }
        }
        ColumnType::MYSQL_TYPE_VARCHAR | ColumnType::MYSQL_TYPE_VAR_STRING => {
            if binary {
                "varbinary"
            } else {
                "varchar"
            }
        }
        ColumnType::MYSQL_TYPE_STRING => {
            if binary {
                "binary"
            } else {
                "char"
            }
        }
        _ => "",
    }
}

/// Maps one binary-protocol value, using the column's type where the value alone is
/// ambiguous (bytes may be text, a decimal or a blob; a date may be a datetime).
fn convert(v: mysql_async::Value, c: &Column) -> Value {
    use mysql_async::Value as M;
    let ty = c.column_type();
    match v {
        M::NULL => Value::Null,
        M::Int(i) => Value::Int(i),
        M::UInt(u) => {
            i64::try_from(u).map_or_else(|_| Value::Decimal(Decimal::from(u)), Value::Int)
        }
        // Through its shortest decimal form, so FLOAT 1.1 reads as 1.1.
        M::Float(f) => Value::Float(f.to_string().parse().unwrap_or(f64::from(f))),
        M::Double(d) => Value::Float(d),
        M::Date(y, mo, d, h, mi, s, us) => {
            let date = NaiveDate::from_ymd_opt(y.into(), mo.into(), d.into());
            let is_date = matches!(
                ty,
                ColumnType::MYSQL_TYPE_DATE | ColumnType::MYSQL_TYPE_NEWDATE
            );
            match (date, is_date) {
                (Some(date), true) => Value::Date(date),
                (Some(date), false) => {
                    NaiveTime::from_hms_micro_opt(h.into(), mi.into(), s.into(), us).map_or_else(
                        || Value::Text(format!("{date} {h:02}:{mi:02}:{s:02}")),
                        |t| Value::Timestamp(date.and_time(t)),
                    )
                }
                // Zero dates (`0000-00-00`) have no calendar value; show them as MySQL does.
                (None, true) => Value::Text(format!("{y:04}-{mo:02}-{d:02}")),
                (None, false) => {
                    Value::Text(format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}"))
                }
            }
        }
        M::Time(negative, days, h, mi, s, us) => {
            let time = (!negative && days == 0)
                .then(|| NaiveTime::from_hms_micro_opt(h.into(), mi.into(), s.into(), us))
                .flatten();
            time.map_or_else(
                || {
                    let hours = u64::from(days) * 24 + u64::from(h);
                    let sign = if negative { "-" } else { "" };
                    let frac = if us > 0 {
                        format!(".{us:06}")
                    } else {
                        String::new()
                    };
                    Value::Text(format!("{sign}{hours:02}:{mi:02}:{s:02}{frac}"))
                },
                Value::Time,
            )
        }
        M::Bytes(b) => match ty {
            ColumnType::MYSQL_TYPE_DECIMAL | ColumnType::MYSQL_TYPE_NEWDECIMAL => {
                let s = String::from_utf8_lossy(&b).into_owned();
                Decimal::from_str_exact(&s).map_or(Value::Text(s), Value::Decimal)
            }
            ColumnType::MYSQL_TYPE_BIT if b.len() <= 8 => {
                Value::Int(b.iter().fold(0i64, |acc, x| (acc << 8) | i64::from(*x)))
            }
            ColumnType::MYSQL_TYPE_GEOMETRY => Value::Bytes(b),
            ColumnType::MYSQL_TYPE_TINY_BLOB
            | ColumnType::MYSQL_TYPE_MEDIUM_BLOB
            | ColumnType::MYSQL_TYPE_LONG_BLOB
            | ColumnType::MYSQL_TYPE_BLOB
            | ColumnType::MYSQL_TYPE_VARCHAR
            | ColumnType::MYSQL_TYPE_VAR_STRING
            | ColumnType::MYSQL_TYPE_STRING
                if c.character_set() == 63 =>
            {
                Value::Bytes(b)
            }
            _ => Value::Text(String::from_utf8_lossy(&b).into_owned()),
        },
    }
}

async fn run_explain(
    tx: &mut mysql_async::Transaction<'_>,
    sql: &str,
) -> mysql_async::Result<String> {
    let mut result = tx.exec_iter(format!("EXPLAIN {sql}"), ()).await?;
    let cols: Vec<Column> = result.columns_ref().to_vec();
    let mut lines = vec![
        cols.iter()
            .map(|c| c.name_str().into_owned())
            .collect::<Vec<_>>()
            .join(" | "),
    ];
    if let Some(mut stream) = result.stream::<Row>().await? {
        while let Some(row) = stream.next().await {
            let cells: Vec<String> = Row::unwrap(row?)
                .into_iter()
                .zip(&cols)
                .map(|(v, c)| match convert(v, c) {
                    Value::Null => "NULL".to_string(),
                    other => other.to_string(),
                })
                .collect();
            lines.push(cells.join(" | "));
        }
    }
    Ok(lines.join("\n"))
}

/// One catalog row's cell, converted; a wrong type is reported rather than panicking.
fn cell<T: FromValue>(row: &Row, i: usize) -> mysql_async::Result<T> {
    match row.get_opt::<T, usize>(i) {
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) => Err(mysql_async::Error::Other(Box::new(e))),
        None => Err(mysql_async::Error::Other(
            format!("catalog column {i} is missing").into(),
        )),
    }
}

async fn read_catalog(
    tx: &mut mysql_async::Transaction<'_>,
    flavor: Flavor,
) -> mysql_async::Result<Catalog> {
    let mut tables: Vec<TableSchema> = Vec::new();
    let rows: Vec<Row> = tx
        .exec(
            "SELECT TABLE_NAME, TABLE_TYPE, TABLE_ROWS, TABLE_COMMENT \
             FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE IN ('BASE TABLE', 'VIEW', 'SYSTEM VERSIONED')",
            (),
        )
        .await?;
    for r in &rows {
        let kind: String = cell(r, 1)?;
        let is_view = kind == "VIEW";
        let comment: Option<String> = cell(r, 3)?;
        tables.push(TableSchema {
            name: cell(r, 0)?,
            kind: if is_view {
                TableKind::View
            } else {
                TableKind::Table
            },
            row_count: if is_view { None } else { cell(r, 2)? },
            comment: comment.filter(|c| !c.is_empty() && !is_view),
            ..Default::default()
        });
    }
    let find =
        |tables: &mut Vec<TableSchema>, name: &str| tables.iter_mut().position(|t| t.name == name);
    let rows: Vec<Row> = tx
        .exec(
            "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, COLUMN_COMMENT \
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
             ORDER BY TABLE_NAME, ORDINAL_POSITION",
            (),
        )
        .await?;
    for r in &rows {
        let table: String = cell(r, 0)?;
        let Some(i) = find(&mut tables, &table) else {
            continue;
        };
        let nullable: String = cell(r, 3)?;
        let default: Option<String> = cell(r, 4)?;
        let comment: Option<String> = cell(r, 5)?;
        tables[i].columns.push(ColumnSchema {
            name: cell(r, 1)?,
            data_type: cell(r, 2)?,
            nullable: nullable == "YES",
            // MariaDB spells "no default" as the text `NULL` (and quotes string defaults).
            default_value: default.filter(|d| !(flavor == Flavor::MariaDb && d == "NULL")),
            comment: comment.filter(|c| !c.is_empty()),
        });
    }
    let rows: Vec<Row> = tx
        .exec(
            "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME \
             FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
             ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
            (),
        )
        .await?;
    for r in &rows {
        let table: String = cell(r, 0)?;
        let Some(i) = find(&mut tables, &table) else {
            continue;
        };
        let index: String = cell(r, 1)?;
        let non_unique: i64 = cell(r, 2)?;
        let column: Option<String> = cell(r, 3)?;
        let column = column.unwrap_or_else(|| "<expression>".into());
        let t = &mut tables[i];
        if index == "PRIMARY" {
            t.primary_key.push(column.clone());
        }
        match t.indexes.iter_mut().find(|x| x.name == index) {
            Some(x) => x.columns.push(column),
            None => t.indexes.push(IndexSchema {
                name: index,
                columns: vec![column],
                unique: non_unique == 0,
            }),
        }
    }
    let rows: Vec<Row> = tx
        .exec(
            "SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME \
             FROM information_schema.KEY_COLUMN_USAGE \
             WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_SCHEMA = DATABASE() \
               AND REFERENCED_TABLE_NAME IS NOT NULL \
             ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION",
            (),
        )
        .await?;
    let mut keys: Vec<(String, DeclaredKey)> = Vec::new();
    for r in &rows {
        let table: String = cell(r, 0)?;
        let constraint: String = cell(r, 1)?;
        let from: String = cell(r, 2)?;
        let to_table: String = cell(r, 3)?;
        let to: String = cell(r, 4)?;
        match keys
            .last_mut()
            .filter(|(c, k)| *c == constraint && k.from_table == table)
        {
            Some((_, k)) => {
                k.from_columns.push(from);
                k.to_columns.push(to);
            }
            None => keys.push((
                constraint,
                DeclaredKey {
                    from_table: table,
                    from_schema: None,
                    from_columns: vec![from],
                    to_table,
                    to_schema: None,
                    to_columns: vec![to],
                },
            )),
        }
    }
    relations::sort_tables(&mut tables);
    let relationships = relations::resolve(&tables, keys.into_iter().map(|(_, k)| k).collect());
    Ok((tables, relationships))
}

#[async_trait]
impl Connection for MySqlConnection {
    fn dialect(&self) -> SqlDialect {
        SqlDialect::MySql
    }

    fn database_name(&self) -> &str {
        &self.name
    }

    async fn introspect(&self) -> cbi_types::Result<DatabaseSchema> {
        match self.read_only(CATALOG_TIME, Op::Catalog).await? {
            Done::Catalog((tables, relationships)) => Ok(DatabaseSchema {
                name: self.name.clone(),
                dialect: SqlDialect::MySql,
                tables,
                relationships,
            }),
            _ => Err(unexpected()),
        }
    }

    fn privilege_warning(&self) -> Option<&str> {
        self.warning.as_deref()
    }

    async fn query(&self, sql: &str, limits: QueryLimits) -> cbi_types::Result<QueryResult> {
        let sql = guard::check_query(sql, SqlDialect::MySql)?;
        let start = Instant::now();
        match self
            .read_only(limits.timeout, Op::Query(sql, limits))
            .await?
        {
            Done::Rows((columns, rows, truncated)) => Ok(QueryResult {
                columns,
                rows,
                truncated,
                elapsed: start.elapsed(),
            }),
            _ => Err(unexpected()),
        }
    }

    async fn explain(&self, sql: &str) -> cbi_types::Result<String> {
        let sql = guard::check_explain(sql, SqlDialect::MySql)?;
        match self.read_only(EXPLAIN_TIME, Op::Explain(sql)).await? {
            Done::Plan(p) => Ok(p),
            _ => Err(unexpected()),
        }
    }
}

#[cfg(test)]
mod tests {
    use cbi_testkit::{ScratchDb, Server};
    use mysql_async::prelude::Queryable;

    use super::*;

    /// Without the lexical guard, the read-only session and transaction alone must stop every
    /// write — including DDL, which would otherwise commit implicitly.
    #[tokio::test]
    async fn the_server_side_locks_hold_without_the_guard() {
        let db = ScratchDb::create(Server::MySql, "cbi_db_unit").await;
        let name = &db.name;
        let mut admin = mysql_async::Conn::from_url(Server::MySql.admin_url())
            .await
            .expect("MariaDB/MySQL is required (CBI_TEST_MYSQL_URL)");
        let outcome = async {
            admin
                .query_drop(format!(
                    "CREATE TABLE {name}.t (a INT PRIMARY KEY); INSERT INTO {name}.t VALUES (1)"
                ))
                .await
                .unwrap();
            let server = match crate::ConnectionUrl::parse(&db.url).unwrap() {
                crate::ConnectionUrl::MySql(s) => s,
                other => panic!("{other:?}"),
            };
            let conn = MySqlConnection::connect(&server, &ConnectOptions::default())
                .await
                .unwrap();
            for sql in [
                "CREATE TABLE x (a INT)",
                "DROP TABLE t",
                "INSERT INTO t VALUES (2)",
                "UPDATE t SET a = 3",
                "DELETE FROM t",
                "TRUNCATE TABLE t",
                "ALTER TABLE t ADD b INT",
                "CREATE TEMPORARY TABLE tt (a INT)",
                "RENAME TABLE t TO t2",
                "CREATE INDEX i ON t (a)",
            ] {
                let e = conn
                    .read_only(
                        Duration::from_secs(5),
                        Op::Query(sql, QueryLimits::rows(10)),
                    )
                    .await
                    .err();
                assert!(
                    matches!(e, Some(cbi_types::Error::ReadOnly(_))),
                    "{sql}: {e:?}"
                );
            }
            let tables: Vec<String> = admin
                .query(format!(
                    "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{name}'"
                ))
                .await
                .unwrap();
            let rows: Vec<i64> = admin
                .query(format!("SELECT a FROM {name}.t"))
                .await
                .unwrap();
            (tables, rows)
        }
        .await;
        assert_eq!(outcome, (vec!["t".to_string()], vec![1]));
    }
}
