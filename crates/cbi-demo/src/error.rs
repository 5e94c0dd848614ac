use std::path::PathBuf;

/// What can go wrong when sizing or writing the demo database.
///
/// Generation itself cannot fail; only the user's input (a size, a path, a URL) and the target
/// database can.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A size was given that is neither a preset name nor a usable number of order items.
    #[error(
        "invalid demo size `{0}`: expected tiny, small, medium, large or a number of order items between 1 and 100,000,000"
    )]
    InvalidSize(String),
    /// The SQLite file exists and the caller did not ask to replace it.
    #[error("{} already exists; refusing to overwrite it (ask for a replacement explicitly, e.g. `--force`)", .0.display())]
    FileExists(PathBuf),
    /// The target database already holds tables with the demo's names. Writers never drop
    /// anything, so they stop before creating a single table.
    #[error(
        "the target database already has table(s) {}; the demo must be written into an empty database",
        .0.join(", ")
    )]
    TablesExist(Vec<String>),
    /// A connection string or path the writer cannot use.
    #[error("invalid target: {0}")]
    InvalidTarget(String),
    /// Reading or writing a file failed.
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The target database refused a statement or the connection failed.
    #[error("{backend}: {source}")]
    Database {
        /// `sqlite`, `postgresql` or `mysql`.
        backend: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Database {
            backend: "sqlite",
            source: Box::new(e),
        }
    }
}

#[cfg(feature = "postgres")]
impl From<tokio_postgres::Error> for Error {
    fn from(e: tokio_postgres::Error) -> Self {
        Error::Database {
            backend: "postgresql",
            source: Box::new(e),
        }
    }
}

#[cfg(feature = "mysql")]
impl From<mysql_async::Error> for Error {
    fn from(e: mysql_async::Error) -> Self {
        Error::Database {
            backend: "mysql",
            source: Box::new(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_problem() {
        assert_eq!(
            Error::TablesExist(vec!["orders".into(), "regions".into()]).to_string(),
            "the target database already has table(s) orders, regions; the demo must be written into an empty database"
        );
        assert!(
            Error::FileExists(PathBuf::from("/tmp/x.sqlite"))
                .to_string()
                .starts_with("/tmp/x.sqlite already exists")
        );
    }
}
