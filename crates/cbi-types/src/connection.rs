use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{DatabaseSchema, QueryResult, Result, SqlDialect};

/// How much a single query may cost: the most rows read back and the longest it may run.
///
/// Connections enforce both themselves (a database-side timeout where the database has one, a
/// cancel otherwise; rows beyond the cap are never fetched), so a caller that forgets to validate
/// still cannot hang the process or exhaust its memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryLimits {
    pub max_rows: usize,
    #[serde(with = "secs")]
    pub timeout: Duration,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            max_rows: 10_000,
            timeout: Duration::from_secs(30),
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
