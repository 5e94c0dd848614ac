use std::path::PathBuf;

/// What can go wrong in this crate's own API: reading a connection string and opening a
/// connection.
///
/// Failures of the [`cbi_types::Connection`] methods (introspect, query, explain) are reported
/// as [`cbi_types::Error`] instead, because that trait is shared by every backend. This enum
/// converts into [`cbi_types::Error`] (`?` works in code that returns the shared error), keeping
/// its category: a bad URL becomes `Invalid`, a refused connection `Connect`, a missing file
/// `NotFound`.
///
/// No variant ever carries a password: targets are rendered the way [`crate::ConnectionUrl`]
/// displays them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The connection string is malformed.
    #[error("invalid connection string: {0}")]
    InvalidUrl(String),
    /// The connection string names a scheme cbi does not speak.
    #[error("unsupported scheme `{0}`; expected a SQLite path, sqlite:, postgres:// or mysql://")]
    UnsupportedScheme(String),
    /// The scheme is known, but this build left its driver out.
    #[error("{backend} support is not compiled in; rebuild with the `{feature}` feature")]
    NotCompiled {
        backend: &'static str,
        feature: &'static str,
    },
    /// The SQLite file does not exist. cbi never creates one.
    #[error("database file `{}` not found", .0.display())]
    FileNotFound(PathBuf),
    /// The server or file was found but refused us: wrong password, unknown database, refused
    /// port, not a database file.
    #[error("cannot connect to {target}: {message}")]
    Connect { target: String, message: String },
}

/// Results of this crate's own API.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Error> for cbi_types::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidUrl(_) | Error::UnsupportedScheme(_) => {
                cbi_types::Error::Invalid(e.to_string())
            }
            Error::NotCompiled { .. } => cbi_types::Error::Unsupported(e.to_string()),
            Error::FileNotFound(path) => cbi_types::Error::NotFound {
                what: "database file",
                name: path.display().to_string(),
            },
            Error::Connect { target, message } => cbi_types::Error::Connect { target, message },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_into_the_shared_categories() {
        let e: cbi_types::Error = Error::FileNotFound("x/demo.sqlite".into()).into();
        assert_eq!(
            e,
            cbi_types::Error::NotFound {
                what: "database file",
                name: "x/demo.sqlite".into()
            }
        );
        let e: cbi_types::Error = Error::UnsupportedScheme("mongodb".into()).into();
        assert!(matches!(e, cbi_types::Error::Invalid(m) if m.contains("`mongodb`")));
        let e: cbi_types::Error = Error::NotCompiled {
            backend: "PostgreSQL",
            feature: "postgres",
        }
        .into();
        assert!(matches!(e, cbi_types::Error::Unsupported(_)));
    }
}
