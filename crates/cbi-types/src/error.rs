use std::time::Duration;

/// The error every trait of this crate returns.
///
/// Implementations map their own failures into these categories at the trait boundary, so a
/// caller can react to *what kind* of thing went wrong (retry a rate limit, report a timeout,
/// refuse a write) without knowing which driver or vendor sits behind the trait. Messages are
/// written for the person using cbi, not for the developer of a driver.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database, model server or store could not be reached or refused the credentials.
    #[error("cannot connect to {target}: {message}")]
    Connect { target: String, message: String },
    /// The database rejected or failed a statement.
    #[error("query failed: {message}")]
    Query {
        message: String,
        /// SQLSTATE or vendor error code, when the database gave one.
        code: Option<String>,
    },
    /// A statement ran past the time limit its caller set and was cancelled.
    #[error("query cancelled after its time limit of {}", humantime(*.0))]
    Timeout(Duration),
    /// A result's values passed the byte cap of its [`crate::QueryLimits`]; nothing of it is
    /// returned.
    #[error("result too large: its values pass the limit of {} on one result; ask for fewer rows or columns, or aggregate", bytes(*max_bytes))]
    ResultTooLarge { max_bytes: usize },
    /// Something tried to change data or schema through a read-only path.
    #[error("refused: {0}")]
    ReadOnly(String),
    /// A table, session, model or other named thing does not exist.
    #[error("{what} `{name}` not found")]
    NotFound { what: &'static str, name: String },
    /// A language or embedding model failed.
    #[error("model error: {0}")]
    Model(String),
    /// A model vendor asked us to slow down.
    #[error("rate limited by {provider}{}", retry_after.map(|d| format!("; retry after {}", humantime(d))).unwrap_or_default())]
    RateLimited {
        provider: String,
        retry_after: Option<Duration>,
    },
    /// The session store failed.
    #[error("session store: {0}")]
    Store(String),
    /// The caller passed something malformed (a bad URL, a bad value, a bad file).
    #[error("invalid input: {0}")]
    Invalid(String),
    /// The operation is not available for this backend or build.
    #[error("unsupported: {0}")]
    Unsupported(String),
}

/// Results of this crate's traits.
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn bytes(n: usize) -> String {
    if n >= 1 << 20 && n % (1 << 20) == 0 {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n % (1 << 10) == 0 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

fn humantime(d: Duration) -> String {
    if d.as_secs() >= 1 && d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else if d.as_secs_f64() >= 1.0 {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{} ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_well() {
        assert_eq!(
            Error::Timeout(Duration::from_secs(5)).to_string(),
            "query cancelled after its time limit of 5 s"
        );
        assert_eq!(
            Error::Timeout(Duration::from_millis(250)).to_string(),
            "query cancelled after its time limit of 250 ms"
        );
        assert_eq!(
            Error::RateLimited {
                provider: "openai".into(),
                retry_after: Some(Duration::from_secs(2))
            }
            .to_string(),
            "rate limited by openai; retry after 2 s"
        );
        assert_eq!(
            Error::NotFound {
                what: "table",
                name: "salez".into()
            }
            .to_string(),
            "table `salez` not found"
        );
    }
}
