use cbi_types::SessionId;

/// What can go wrong with a session, in the terms of the person holding it.
///
/// Store failures (a locked or corrupt file, an unreachable Redis) arrive as
/// [`Error::Store`] wrapping the [`cbi_types::Error`] the store returned, so upper crates
/// can still tell "your session is gone" from "the store is broken".
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The session does not exist, was deleted, or expired after being idle too long.
    #[error("session `{0}` not found; it may have expired after being idle, so start a new one")]
    NotFound(SessionId),
    /// The user already holds as many live sessions as allowed.
    #[error(
        "user `{user}` already has {limit} open sessions, the most allowed; \
         end one or wait for an idle one to expire"
    )]
    TooManySessions { user: String, limit: usize },
    /// The configuration asks for a store this build or machine cannot provide.
    #[error("session store configuration: {0}")]
    Config(String),
    /// The store failed (I/O, corrupt data, server unreachable).
    #[error(transparent)]
    Store(#[from] cbi_types::Error),
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Lets code that speaks only `cbi_types::Error` (the engine, the server) pass session errors
/// on without losing their kind: a missing session stays a `NotFound`.
impl From<Error> for cbi_types::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound(id) => cbi_types::Error::NotFound {
                what: "session",
                name: id.to_string(),
            },
            Error::TooManySessions { .. } => cbi_types::Error::Invalid(e.to_string()),
            Error::Config(m) => cbi_types::Error::Unsupported(m),
            Error::Store(inner) => inner,
        }
    }
}

/// A store failure with a readable message.
#[cfg_attr(not(any(feature = "sqlite", feature = "redis")), allow(dead_code))]
pub(crate) fn store_err(msg: impl Into<String>) -> cbi_types::Error {
    cbi_types::Error::Store(msg.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_well_and_convert() {
        let e = Error::TooManySessions {
            user: "ann".into(),
            limit: 2,
        };
        assert_eq!(
            e.to_string(),
            "user `ann` already has 2 open sessions, the most allowed; end one or wait for an idle one to expire"
        );
        let id = SessionId::new();
        let e: cbi_types::Error = Error::NotFound(id).into();
        assert_eq!(e.to_string(), format!("session `{id}` not found"));
        let e = Error::Store(store_err("disk full"));
        assert_eq!(e.to_string(), "session store: disk full");
        assert_eq!(
            cbi_types::Error::from(e),
            cbi_types::Error::Store("disk full".into())
        );
    }
}
