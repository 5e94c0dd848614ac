use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{DatabaseSchema, QueryResult, Result, SqlDialect};

/// The default cap on the bytes of values one query may return: 64 MiB.
pub const DEFAULT_MAX_RESULT_BYTES: usize = 64 << 20;

/// How much a single query may cost: the most rows and bytes read back and the longest it may
/// run.
///
/// Connections enforce all three themselves (a watchdog that interrupts or cancels the
/// statement at its deadline; rows beyond the cap are never fetched; a result whose values
/// pass the byte cap is abandoned with [`crate::Error::ResultTooLarge`]), so a caller that
/// forgets to validate still cannot hang the process or exhaust its memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryLimits {
    pub max_rows: usize,
    #[serde(with = "secs")]
    pub timeout: Duration,
    /// The most bytes of values (text and blob lengths, 8 bytes for any other value) read.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: usize,
}

fn default_max_bytes() -> usize {
    DEFAULT_MAX_RESULT_BYTES
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            max_rows: 10_000,
            timeout: Duration::from_secs(30),
            max_bytes: DEFAULT_MAX_RESULT_BYTES,
        }
    }
}

impl QueryLimits {
    /// Limits with the given row cap and the default timeout.
    pub fn rows(max_rows: usize) -> Self {
        QueryLimits {
            max_rows,
            ..Self::default()
        }
    }

    /// The same limits with another timeout.
    pub fn with_timeout(self, timeout: Duration) -> Self {
        QueryLimits { timeout, ..self }
    }

    /// The same limits with another byte cap.
    pub fn with_max_bytes(self, max_bytes: usize) -> Self {
        QueryLimits { max_bytes, ..self }
    }
}

/// Counts the bytes of a result as its rows arrive, against [`QueryLimits::max_bytes`].
///
/// Connectors add each row as they read it and stop reading (and cancel the statement) the
/// moment [`ByteBudget::add_row`] fails, so a result never holds much more than the cap.
#[derive(Debug, Clone, Copy)]
pub struct ByteBudget {
    used: usize,
    max: usize,
}

impl ByteBudget {
    pub fn new(limits: &QueryLimits) -> Self {
        ByteBudget {
            used: 0,
            max: limits.max_bytes,
        }
    }

    /// Bytes counted so far.
    pub fn used(&self) -> usize {
        self.used
    }

    /// Counts one row; [`crate::Error::ResultTooLarge`] once the total passes the cap.
    pub fn add_row(&mut self, row: &[crate::Value]) -> crate::Result<()> {
        let bytes: usize = row.iter().map(crate::Value::approx_bytes).sum();
        self.add(bytes)
    }

    /// Counts `bytes` more.
    pub fn add(&mut self, bytes: usize) -> crate::Result<()> {
        self.used = self.used.saturating_add(bytes);
        if self.used > self.max {
            Err(crate::Error::ResultTooLarge {
                max_bytes: self.max,
            })
        } else {
            Ok(())
        }
    }
}

mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        if !(secs.is_finite() && secs > 0.0) {
            return Err(serde::de::Error::custom(
                "timeout must be a positive number of seconds",
            ));
        }
        Ok(Duration::from_secs_f64(secs))
    }
}

/// A database cbi can read: introspect its catalog, run one read-only query under limits, and
/// explain a query's plan.
///
/// Implementations (in `cbi-db`) must be read-only at the connection level, not only by
/// convention: a write statement that reaches [`Connection::query`] fails with
/// [`crate::Error::ReadOnly`] or a database error and changes nothing. They accept exactly one
/// statement per call.
#[async_trait]
pub trait Connection: Send + Sync + Debug {
    /// The dialect statements for this connection must be written in.
    fn dialect(&self) -> SqlDialect;

    /// A display name for the database (file stem, database name). Never contains a password;
    /// used in sessions, cache keys and messages.
    fn database_name(&self) -> &str;

    /// A warning to show the person once when the connection has more privileges than
    /// reading needs (a PostgreSQL superuser, a MySQL user with server-wide grants). cbi stays
    /// read-only either way, but a least-privilege role is the wall that does not depend on it.
    fn privilege_warning(&self) -> Option<&str> {
        None
    }

    /// Reads the catalog: tables, views, columns, types, nullability, defaults, primary keys,
    /// declared foreign keys, indexes and approximate row counts. Relationships returned here are
    /// the declared ones only; inference happens in `cbi-schema`.
    async fn introspect(&self) -> Result<DatabaseSchema>;

    /// Runs one read-only statement and returns at most `limits.max_rows` rows, cancelling it
    /// after `limits.timeout`.
    async fn query(&self, sql: &str, limits: QueryLimits) -> Result<QueryResult>;

    /// The database's plan for a statement, as text, without running it (no `ANALYZE`).
    async fn explain(&self, sql: &str) -> Result<String>;
}
