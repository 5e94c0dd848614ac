//! PostgreSQL through tokio-postgres and a deadpool pool: read-only sessions, read-only
//! transactions that are always rolled back, rows fetched through a capped portal.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use cbi_types::{
    ColumnMeta, ColumnSchema, Connection, DatabaseSchema, IndexSchema, QueryLimits, QueryResult,
    SqlDialect, TableKind, TableSchema, Value,
};
use chrono::{NaiveDate, NaiveTime, TimeDelta};
use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use futures::StreamExt;
use rust_decimal::Decimal;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, Kind, Type};
use tokio_postgres::{NoTls, Row};

use crate::relations::{self, DeclaredKey};
use crate::server::{Catalog, Done, Op, Rows, unexpected};
use crate::{ConnectOptions, Error, Result, ServerUrl, guard};

/// How long past a query's own limit the client waits before cancelling it itself, in case
/// the server's `statement_timeout` did not fire.
const GRACE: Duration = Duration::from_secs(1);
const CATALOG_TIME: Duration = Duration::from_secs(60);
const EXPLAIN_TIME: Duration = Duration::from_secs(5);

/// A read-only PostgreSQL database.
///
/// Every pooled session starts with `default_transaction_read_only=on`, and every statement
/// runs inside `BEGIN READ ONLY` with `SET LOCAL statement_timeout`, then `ROLLBACK` (never
/// `COMMIT`). Rows are read through a portal asking for `max_rows + 1` rows, so rows past the
/// cap never leave the server. The extended protocol accepts one statement per call.
///
/// Values of types without a natural [`Value`] (arrays, intervals, `money`, `inet`, ranges,
/// composites, …) come back as text in PostgreSQL's own rendering: such queries are wrapped as
/// `SELECT c1, c2::text … FROM (<query>) AS q(c1, c2 …)`.
pub struct PostgresConnection {
    pool: Pool,
    name: String,
    target: String,
    warning: Option<String>,
}

impl fmt::Debug for PostgresConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresConnection")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl PostgresConnection {
    /// Opens a pool on the server and checks that it accepts us.
    ///
    /// The user defaults to `postgres` and the database to the user's name, as with `psql`.
    /// TLS is not compiled in: `sslmode=require` is refused rather than silently ignored.
    pub async fn connect(url: &ServerUrl, opts: &ConnectOptions) -> Result<Self> {
        let target = url.target();
        let connect_error = |message: String| Error::Connect {
            target: target.clone(),
            message,
        };
        let mut config = tokio_postgres::Config::new();
        if url.host().starts_with('/') {
            config.host_path(url.host());
        } else {
            config.host(url.host());
        }
        let user = url.user().unwrap_or("postgres");
        config
            .port(url.port())
            .user(user)
            .dbname(url.database().unwrap_or(user))
            .application_name(url.param("application_name").unwrap_or("cbi"))
            // Standard strings: a backslash is a plain character outside E'' literals, which is
            // how the validator reads and prints them, whatever the server's default.
            .options("-c default_transaction_read_only=on -c standard_conforming_strings=on");
        if let Some(p) = url.password() {
            config.password(p);
        }
        let connect_timeout = url
            .param("connect_timeout")
            .and_then(|s| s.parse().ok())
            .map_or(opts.connect_timeout, Duration::from_secs);
        config.connect_timeout(connect_timeout);
        match url.param("sslmode").unwrap_or("prefer") {
            "disable" => {
                config.ssl_mode(tokio_postgres::config::SslMode::Disable);
            }
            "allow" | "prefer" => {
                config.ssl_mode(tokio_postgres::config::SslMode::Prefer);
            }
            other => {
                return Err(connect_error(format!(
                    "sslmode={other} needs TLS, which this build of cbi does not include; use sslmode=disable or prefer"
                )));
            }
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(opts.pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(connect_timeout))
            .build()
            .map_err(|e| connect_error(e.to_string()))?;
        let client = pool
            .get()
            .await
            .map_err(|e| connect_error(pool_message(&e)))?;
        let row = client
            .query_one(
                "SELECT current_database()::text, current_user::text, \
                 coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false)",
                &[],
            )
            .await
            .map_err(|e| connect_error(pg_message(&e)))?;
        let name: String = row.try_get(0).map_err(|e| connect_error(pg_message(&e)))?;
        let role: String = row.try_get(1).map_err(|e| connect_error(pg_message(&e)))?;
        let superuser: bool = row.try_get(2).map_err(|e| connect_error(pg_message(&e)))?;
        let warning = superuser.then(|| {
            let w = format!(
                "connected to {target} as the superuser `{role}`; cbi only reads, but give it \
                 a role that can only read (see the README, \"A least-privilege role\")"
            );
            tracing::debug!("{w}");
            w
        });
        Ok(PostgresConnection {
            pool,
            name,
            target,
            warning,
        })
    }

    async fn client(&self, wait: Duration) -> cbi_types::Result<Object> {
        match tokio::time::timeout(wait, self.pool.get()).await {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(cbi_types::Error::Connect {
                target: self.target.clone(),
                message: pool_message(&e),
            }),
            Err(_) => Err(cbi_types::Error::Timeout(wait)),
        }
    }

    /// Runs `op` in a read-only transaction under `limit`, cancelling it from the client if
    /// the server's own timeout does not fire, and discarding that session afterwards.
    async fn read_only(&self, limit: Duration, op: Op<'_>) -> cbi_types::Result<Done> {
        let mut client = self.client(limit).await?;
        let cancel = client.cancel_token();
        let run = async {
            let tx = client
                .build_transaction()
                .read_only(true)
                .start()
                .await
                .map_err(|e| map_error(&e, limit))?;
            let ms = limit.as_millis().clamp(1, i32::MAX as u128);
            tx.batch_execute(&format!("SET LOCAL statement_timeout = {ms}"))
                .await
                .map_err(|e| map_error(&e, limit))?;
            let out = match op {
                Op::Query(sql, limits) => match run_query(&tx, sql, limits).await {
                    Ok(rows) => Ok(Done::Rows(rows)),
                    Err(Capped::Driver(e)) => Err(e),
                    Err(Capped::Over(e)) => {
                        // Stop the server producing the rest, then give the session up.
                        let _ = cancel.cancel_query(NoTls).await;
                        let _ = tx.rollback().await;
                        return Err(e);
                    }
                },
                Op::Explain(sql) => run_explain(&tx, sql).await.map(Done::Plan),
                Op::Catalog => read_catalog(&tx).await.map(Done::Catalog),
            };
            // Never COMMIT: whatever happened is undone.
            let rolled_back = tx.rollback().await;
            let out = out.map_err(|e| map_error(&e, limit))?;
            rolled_back.map_err(|e| map_error(&e, limit))?;
            Ok(out)
        };
        match tokio::time::timeout(limit + GRACE, run).await {
            Ok(Err(e @ cbi_types::Error::ResultTooLarge { .. })) => {
                drop(Object::take(client));
                Err(e)
            }
            Ok(out) => out,
            Err(_) => {
                let _ = cancel.cancel_query(NoTls).await;
                // The session stopped mid-protocol; it must not serve another query.
                drop(Object::take(client));
                Err(cbi_types::Error::Timeout(limit))
            }
        }
    }
}

/// The server's message for an error (with its detail and hint), without the driver's
/// decoration.
fn pg_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut m = db.message().to_string();
            if let Some(d) = db.detail() {
                m.push_str(&format!(" ({d})"));
            }
            if let Some(h) = db.hint() {
                m.push_str(&format!("; hint: {h}"));
            }
            m
        }
        // The driver's message, then its causes (`error connecting to server: Connection
        // refused …`). Neither ever includes the password.
        None => {
            let mut m = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                let s_text = s.to_string();
                if !m.contains(&s_text) {
                    m.push_str(": ");
                    m.push_str(&s_text);
                }
                source = s.source();
            }
            m
        }
    }
}

fn pool_message(e: &PoolError) -> String {
    match e {
        PoolError::Backend(e) => pg_message(e),
        PoolError::Timeout(_) => "timed out waiting for the server".into(),
        other => other.to_string(),
    }
}

/// Maps a driver error into the shared categories.
fn map_error(e: &tokio_postgres::Error, limit: Duration) -> cbi_types::Error {
    let Some(db) = e.as_db_error() else {
        return cbi_types::Error::Query {
            message: pg_message(e),
            code: None,
        };
    };
    let code = db.code();
    if *code == SqlState::READ_ONLY_SQL_TRANSACTION {
        cbi_types::Error::ReadOnly(format!("{}; this connection only reads", db.message()))
    } else if *code == SqlState::QUERY_CANCELED {
        cbi_types::Error::Timeout(limit)
    } else {
        cbi_types::Error::Query {
            message: pg_message(e),
            code: Some(code.code().to_string()),
        }
    }
}

/// Why reading a result stopped early.
enum Capped {
    Driver(tokio_postgres::Error),
    /// The byte cap: the result is abandoned mid-stream.
    Over(cbi_types::Error),
}

impl From<tokio_postgres::Error> for Capped {
    fn from(e: tokio_postgres::Error) -> Self {
        Capped::Driver(e)
    }
}

async fn run_query(
    tx: &tokio_postgres::Transaction<'_>,
    sql: &str,
    limits: QueryLimits,
) -> std::result::Result<Rows, Capped> {
    let max_rows = limits.max_rows;
    let stmt = tx.prepare(sql).await?;
    let columns: Vec<ColumnMeta> = stmt
        .columns()
        .iter()
        .map(|c| ColumnMeta {
            name: c.name().to_string(),
            type_name: c.type_().name().to_string(),
        })
        .collect();
    let stmt = if stmt.columns().iter().all(|c| decodable(c.type_())) {
        stmt
    } else {
        tx.prepare(&wrap_as_text(sql, stmt.columns())).await?
    };
    let portal = tx.bind(&stmt, &[]).await?;
    // One row more than the cap tells whether the cap cut anything; the rest stays on the
    // server and goes away with the transaction.
    let fetch = i32::try_from(max_rows.saturating_add(1)).unwrap_or(i32::MAX);
    // Rows are read as they arrive (the driver's channel holds one message at a time), and
    // counted against the byte cap, so a huge result stops at the cap instead of filling
    // memory first.
    let stream = tx.query_portal_raw(&portal, fetch).await?;
    tokio::pin!(stream);
    let mut budget = cbi_types::ByteBudget::new(&limits);
    let mut values = Vec::new();
    let mut truncated = false;
    while let Some(row) = stream.next().await {
        let row = row?;
        if values.len() == max_rows {
            truncated = true;
            continue;
        }
        let v = row_values(&row)?;
        budget.add_row(&v).map_err(Capped::Over)?;
        values.push(v);
    }
    Ok((columns, values, truncated))
}

/// `SELECT c1, c2::text, … FROM (<sql>) AS cbi_q(c1, c2, …)`: positional aliases, so
/// duplicate or odd column names cannot clash, and `::text` for every column whose binary
/// format this module does not read.
///
/// A plain projection over a subquery keeps the subquery's row order in PostgreSQL (no join
/// or aggregate sits above it for the planner to reorder), so `ORDER BY` inside still holds.
fn wrap_as_text(sql: &str, columns: &[tokio_postgres::Column]) -> String {
    let names: Vec<String> = (1..=columns.len()).map(|i| format!("c{i}")).collect();
    let select: Vec<String> = columns
        .iter()
        .zip(&names)
        .map(|(c, n)| {
            if decodable(c.type_()) {
                n.clone()
            } else {
                format!("{n}::text")
            }
        })
        .collect();
    format!(
        "SELECT {} FROM (\n{sql}\n) AS cbi_q({})",
        select.join(", "),
        names.join(", ")
    )
}

fn row_values(row: &Row) -> std::result::Result<Vec<Value>, tokio_postgres::Error> {
    (0..row.len())
        .map(|i| row.try_get::<_, Cell>(i).map(|c| c.0))
        .collect()
}

/// One cell of any type this module decodes (see [`decodable`]); `NULL` included.
struct Cell(Value);

type DecodeError = Box<dyn std::error::Error + Sync + Send>;

impl<'a> FromSql<'a> for Cell {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> std::result::Result<Self, DecodeError> {
        decode(ty, raw).map(Cell)
    }

    fn from_sql_null(_: &Type) -> std::result::Result<Self, DecodeError> {
        Ok(Cell(Value::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Whether [`decode`] reads this type's binary format. Everything else is fetched as text.
fn decodable(ty: &Type) -> bool {
    match ty.kind() {
        Kind::Domain(base) => decodable(base),
        Kind::Enum(_) => true,
        _ => matches!(
            *ty,
            Type::BOOL
                | Type::INT2
                | Type::INT4
                | Type::INT8
                | Type::OID
                | Type::FLOAT4
                | Type::FLOAT8
                | Type::NUMERIC
                | Type::TEXT
                | Type::VARCHAR
                | Type::BPCHAR
                | Type::NAME
                | Type::UNKNOWN
                | Type::CHAR
                | Type::JSON
                | Type::JSONB
                | Type::UUID
                | Type::DATE
                | Type::TIME
                | Type::TIMESTAMP
                | Type::TIMESTAMPTZ
                | Type::BYTEA
        ),
    }
}

fn decode(ty: &Type, raw: &[u8]) -> std::result::Result<Value, DecodeError> {
    match ty.kind() {
        Kind::Domain(base) => return decode(base, raw),
        Kind::Enum(_) => return Ok(Value::Text(String::from_utf8_lossy(raw).into_owned())),
        _ => {}
    }
    let text = |b: &[u8]| Value::Text(String::from_utf8_lossy(b).into_owned());
    Ok(match *ty {
        Type::BOOL => Value::Bool(bool::from_sql(ty, raw)?),
        Type::INT2 => Value::Int(i16::from_sql(ty, raw)?.into()),
        Type::INT4 => Value::Int(i32::from_sql(ty, raw)?.into()),
        Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
        Type::OID => Value::Int(u32::from_sql(ty, raw)?.into()),
        // Through its shortest decimal form, so `real` 1.1 reads as 1.1 and not 1.100000023….
        Type::FLOAT4 => Value::Float(f32::from_sql(ty, raw)?.to_string().parse()?),
        Type::FLOAT8 => Value::Float(f64::from_sql(ty, raw)?),
        Type::NUMERIC => {
            let s = numeric_text(raw)?;
            match Decimal::from_str_exact(&s) {
                Ok(d) => Value::Decimal(d),
                Err(_) => Value::Text(s),
            }
        }
        Type::JSONB => match raw.split_first() {
            Some((1, rest)) => text(rest),
            _ => return Err("unknown jsonb version".into()),
        },
        Type::UUID => {
            let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
            if hex.len() != 32 {
                return Err("a uuid has 16 bytes".into());
            }
            Value::Text(format!(
                "{}-{}-{}-{}-{}",
                &hex[..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..]
            ))
        }
        Type::DATE => {
            let days = i32::from_sql(ty, raw)?;
            match days {
                i32::MAX => Value::Text("infinity".into()),
                i32::MIN => Value::Text("-infinity".into()),
                d => epoch_date()
                    .checked_add_signed(TimeDelta::days(d.into()))
                    .map_or_else(
                        || Value::Text(format!("{d} days from 2000-01-01")),
                        Value::Date,
                    ),
            }
        }
        Type::TIMESTAMP | Type::TIMESTAMPTZ => {
            let micros = i64::from_sql(ty, raw)?;
            match micros {
                i64::MAX => Value::Text("infinity".into()),
                i64::MIN => Value::Text("-infinity".into()),
                m => {
                    let t = epoch_date()
                        .and_time(NaiveTime::MIN)
                        .checked_add_signed(TimeDelta::microseconds(m))
                        .ok_or("timestamp out of range")?;
                    if *ty == Type::TIMESTAMP {
                        Value::Timestamp(t)
                    } else {
                        Value::TimestampTz(t.and_utc())
                    }
                }
            }
        }
        Type::TIME => {
            let micros = i64::from_sql(ty, raw)?;
            let secs = u32::try_from(micros.div_euclid(1_000_000))?;
            let nanos = u32::try_from(micros.rem_euclid(1_000_000) * 1000)?;
            match NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos) {
                Some(t) => Value::Time(t),
                // `24:00:00` is a valid PostgreSQL time and no chrono one.
                None => Value::Text("24:00:00".into()),
            }
        }
        Type::BYTEA => Value::Bytes(raw.to_vec()),
        Type::CHAR => Value::Text(char::from(raw.first().copied().unwrap_or(b' ')).to_string()),
        _ => text(raw),
    })
}

fn epoch_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default()
}

/// Renders the binary `numeric` format as PostgreSQL prints it: base-10000 digits with a
/// weight, a sign (or NaN/±Infinity) and a display scale.
fn numeric_text(raw: &[u8]) -> std::result::Result<String, DecodeError> {
    let word = |i: usize| -> std::result::Result<u16, DecodeError> {
        let b = raw.get(i..i + 2).ok_or("numeric value too short")?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    };
    let ndigits = usize::from(word(0)?);
    let weight = i64::from(word(2)? as i16);
    let sign = word(4)?;
    let dscale = usize::from(word(6)?);
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        0x0000 | 0x4000 => {}
        _ => return Err("bad numeric sign".into()),
    }
    let digits: Vec<u16> = (0..ndigits)
        .map(|i| word(8 + 2 * i))
        .collect::<std::result::Result<_, _>>()?;
    let group = |i: i64| -> u16 {
        usize::try_from(i)
            .ok()
            .and_then(|i| digits.get(i).copied())
            .unwrap_or(0)
    };
    let mut out = String::new();
    if sign == 0x4000 {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        for i in 0..=weight {
            if i == 0 {
                out.push_str(&group(i).to_string());
            } else {
                out.push_str(&format!("{:04}", group(i)));
            }
        }
    }
    if dscale > 0 {
        out.push('.');
        let mut frac = String::new();
        let mut i = weight + 1;
        while frac.len() < dscale {
            frac.push_str(&format!("{:04}", group(i)));
            i += 1;
        }
        frac.truncate(dscale);
        out.push_str(&frac);
    }
    Ok(out)
}

async fn run_explain(
    tx: &tokio_postgres::Transaction<'_>,
    sql: &str,
) -> std::result::Result<String, tokio_postgres::Error> {
    // The explicit option list makes `ANALYZE` impossible even if the text tried to add one.
    let rows = tx
        .query(&format!("EXPLAIN (ANALYZE false, FORMAT TEXT) {sql}"), &[])
        .await?;
    let lines: Vec<String> = rows
        .iter()
        .map(|r| r.try_get::<_, String>(0))
        .collect::<std::result::Result<_, _>>()?;
    Ok(lines.join("\n"))
}

/// Relations cbi may show: tables, partitioned tables (not their partitions), views,
/// materialized views and foreign tables outside the system schemas that the user can read.
const RELS: &str = r"WITH rels AS (
    SELECT c.oid, n.nspname, c.relname, c.relkind, c.reltuples
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND NOT c.relispartition
      AND n.nspname <> 'information_schema'
      AND n.nspname NOT LIKE 'pg\_%'
      AND has_schema_privilege(n.oid, 'USAGE')
      AND has_any_column_privilege(c.oid, 'SELECT')
)";

async fn read_catalog(
    tx: &tokio_postgres::Transaction<'_>,
) -> std::result::Result<Catalog, tokio_postgres::Error> {
    let mut tables: HashMap<u32, TableSchema> = HashMap::new();
    for r in tx
        .query(
            &format!(
                "{RELS} SELECT oid, nspname::text, relname::text, relkind::text, reltuples::float8, \
                 obj_description(oid, 'pg_class') FROM rels"
            ),
            &[],
        )
        .await?
    {
        let schema: String = r.try_get(1)?;
        let kind: String = r.try_get(3)?;
        let is_view = kind == "v" || kind == "m";
        let reltuples: f64 = r.try_get(4)?;
        tables.insert(
            r.try_get(0)?,
            TableSchema {
                name: r.try_get(2)?,
                schema: (schema != "public").then_some(schema),
                kind: if is_view { TableKind::View } else { TableKind::Table },
                row_count: (!is_view && reltuples >= 0.0).then_some(reltuples.round() as u64),
                comment: r.try_get(5)?,
                ..Default::default()
            },
        );
    }
    for r in tx
        .query(
            &format!(
                "{RELS} SELECT a.attrelid, a.attname::text, format_type(a.atttypid, a.atttypmod), \
                 a.attnotnull, pg_get_expr(d.adbin, d.adrelid), col_description(a.attrelid, a.attnum) \
                 FROM pg_catalog.pg_attribute a \
                 JOIN rels r ON r.oid = a.attrelid \
                 LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
                 WHERE a.attnum > 0 AND NOT a.attisdropped \
                 ORDER BY a.attrelid, a.attnum"
            ),
            &[],
        )
        .await?
    {
        let oid: u32 = r.try_get(0)?;
        if let Some(t) = tables.get_mut(&oid) {
            let not_null: bool = r.try_get(3)?;
            t.columns.push(ColumnSchema {
                name: r.try_get(1)?,
                data_type: r.try_get(2)?,
                nullable: !not_null,
                default_value: r.try_get(4)?,
                comment: r.try_get(5)?,
            });
        }
    }
    for r in tx
        .query(
            &format!(
                "{RELS} SELECT i.indrelid, ic.relname::text, i.indisunique, i.indisprimary, \
                 ARRAY(SELECT COALESCE(a.attname::text, pg_get_indexdef(i.indexrelid, k.n, true)) \
                       FROM generate_series(1, i.indnkeyatts::int) AS k(n) \
                       LEFT JOIN pg_catalog.pg_attribute a \
                         ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k.n - 1] \
                       ORDER BY k.n) \
                 FROM pg_catalog.pg_index i \
                 JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid \
                 JOIN rels r ON r.oid = i.indrelid \
                 ORDER BY ic.relname"
            ),
            &[],
        )
        .await?
    {
        let oid: u32 = r.try_get(0)?;
        if let Some(t) = tables.get_mut(&oid) {
            let columns: Vec<String> = r.try_get(4)?;
            if r.try_get::<_, bool>(3)? {
                t.primary_key = columns.clone();
            }
            t.indexes.push(IndexSchema {
                name: r.try_get(1)?,
                columns,
                unique: r.try_get(2)?,
            });
        }
    }
    // Primary key columns are NOT NULL in PostgreSQL; the catalog already says so.
    let mut keys = Vec::new();
    for r in tx
        .query(
            &format!(
                "{RELS} SELECT con.conrelid, con.confrelid, \
                 ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(num, ord) \
                       JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num \
                       ORDER BY k.ord), \
                 ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(num, ord) \
                       JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num \
                       ORDER BY k.ord) \
                 FROM pg_catalog.pg_constraint con \
                 JOIN rels r ON r.oid = con.conrelid \
                 WHERE con.contype = 'f' \
                 ORDER BY con.conname"
            ),
            &[],
        )
        .await?
    {
        let (from, to): (u32, u32) = (r.try_get(0)?, r.try_get(1)?);
        // A key into a table the user cannot read is left out with that table.
        let (Some(f), Some(t)) = (tables.get(&from), tables.get(&to)) else {
            continue;
        };
        keys.push(DeclaredKey {
            from_table: f.name.clone(),
            from_schema: f.schema.clone(),
            from_columns: r.try_get(2)?,
            to_table: t.name.clone(),
            to_schema: t.schema.clone(),
            to_columns: r.try_get(3)?,
        });
    }
    let mut tables: Vec<TableSchema> = tables.into_values().collect();
    relations::sort_tables(&mut tables);
    let relationships = relations::resolve(&tables, keys);
    Ok((tables, relationships))
}

#[async_trait]
impl Connection for PostgresConnection {
    fn dialect(&self) -> SqlDialect {
        SqlDialect::PostgreSql
    }

    fn database_name(&self) -> &str {
        &self.name
    }

    async fn introspect(&self) -> cbi_types::Result<DatabaseSchema> {
        match self.read_only(CATALOG_TIME, Op::Catalog).await? {
            Done::Catalog((tables, relationships)) => Ok(DatabaseSchema {
                name: self.name.clone(),
                dialect: SqlDialect::PostgreSql,
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
        let sql = guard::check_query(sql, SqlDialect::PostgreSql)?;
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
        let sql = guard::check_explain(sql, SqlDialect::PostgreSql)?;
        match self.read_only(EXPLAIN_TIME, Op::Explain(sql)).await? {
            Done::Plan(p) => Ok(p),
            _ => Err(unexpected()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(ndigits: &[u16], weight: i16, sign: u16, dscale: u16) -> String {
        let mut raw = Vec::new();
        for w in [ndigits.len() as u16, weight as u16, sign, dscale] {
            raw.extend(w.to_be_bytes());
        }
        for d in ndigits {
            raw.extend(d.to_be_bytes());
        }
        numeric_text(&raw).unwrap()
    }

    #[test]
    fn numerics_render_like_postgres() {
        assert_eq!(numeric(&[], 0, 0, 0), "0");
        assert_eq!(numeric(&[], 0, 0, 2), "0.00");
        assert_eq!(numeric(&[12, 3400], 0, 0, 2), "12.34");
        assert_eq!(numeric(&[1, 0], 1, 0x4000, 0), "-10000");
        assert_eq!(numeric(&[5000], -1, 0, 1), "0.5");
        assert_eq!(numeric(&[12], -2, 0, 8), "0.00000012");
        assert_eq!(numeric(&[1], 2, 0, 0), "100000000");
        assert_eq!(numeric(&[], 0, 0xC000, 0), "NaN");
        assert_eq!(numeric(&[], 0, 0xF000, 0), "-Infinity");
        assert!(numeric_text(&[0, 1]).is_err());
        assert!(numeric_text(&[0, 2, 0, 0, 0, 0, 0, 0, 0, 1]).is_err());
    }

    #[test]
    fn dates_and_times_decode_with_infinities() {
        let d = decode(&Type::DATE, &0i32.to_be_bytes()).unwrap();
        assert_eq!(d, Value::Date(NaiveDate::from_ymd_opt(2000, 1, 1).unwrap()));
        let d = decode(&Type::DATE, &i32::MAX.to_be_bytes()).unwrap();
        assert_eq!(d, Value::Text("infinity".into()));
        let t = decode(&Type::TIME, &86_400_000_000i64.to_be_bytes()).unwrap();
        assert_eq!(t, Value::Text("24:00:00".into()));
        let ts = decode(&Type::TIMESTAMP, &(-1i64).to_be_bytes()).unwrap();
        assert_eq!(ts.to_string(), "1999-12-31 23:59:59.999999");
        assert_eq!(
            decode(&Type::FLOAT4, &1.1f32.to_be_bytes()).unwrap(),
            Value::Float(1.1)
        );
    }

    #[test]
    fn wrapping_aliases_by_position() {
        // Built through a real prepare in the integration tests; here only the text shape.
        assert!(!decodable(&Type::INTERVAL));
        assert!(!decodable(&Type::INT4_ARRAY));
        assert!(decodable(&Type::NUMERIC));
    }
}

#[cfg(test)]
mod server_tests {
    use cbi_testkit::{ScratchDb, Server};

    use super::*;

    async fn client(url: &str) -> tokio_postgres::Client {
        let (c, conn) = tokio_postgres::connect(url, NoTls)
            .await
            .expect("PostgreSQL is required (CBI_TEST_POSTGRES_URL)");
        tokio::spawn(conn);
        c
    }

    /// Without the lexical guard, the read-only session and transaction alone must stop every
    /// write to the database.
    #[tokio::test]
    async fn the_server_side_locks_hold_without_the_guard() {
        let db = ScratchDb::create(Server::Postgres, "cbi_db_unit").await;
        let url = db.url.as_str();
        let outcome = async {
            let w = client(url).await;
            w.batch_execute("CREATE TABLE t (a INT PRIMARY KEY); INSERT INTO t VALUES (1)")
                .await
                .unwrap();
            let server = match crate::ConnectionUrl::parse(url).unwrap() {
                crate::ConnectionUrl::Postgres(s) => s,
                other => panic!("{other:?}"),
            };
            let conn = PostgresConnection::connect(&server, &ConnectOptions::default())
                .await
                .unwrap();
            for sql in [
                "CREATE TABLE x (a INT)",
                "DROP TABLE t",
                "INSERT INTO t VALUES (2)",
                "UPDATE t SET a = 3",
                "DELETE FROM t",
                "TRUNCATE t",
                "ALTER TABLE t ADD b INT",
                "CREATE INDEX i ON t (a)",
                "WITH d AS (DELETE FROM t RETURNING a) SELECT * FROM d",
                "SELECT a INTO t2 FROM t",
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
            let tables: i64 = w
                .query_one(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            let rows: Vec<i32> = w
                .query("SELECT a FROM t", &[])
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            (tables, rows)
        }
        .await;
        assert_eq!(outcome, (1, vec![1]));
    }
}
