use std::path::PathBuf;

/// What can go wrong while reading, augmenting or caching a schema.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database failed (connection, catalog query, timeout).
    #[error(transparent)]
    Database(#[from] cbi_types::Error),
    /// The semantic file could not be read or parsed.
    #[error("semantic file {}: {message}", path.display())]
    SemanticFile { path: PathBuf, message: String },
    /// The semantic file names things the database does not have, or is inconsistent.
    #[error("semantic file {}: {}", path.display(), problems.join("; "))]
    SemanticMismatch {
        path: PathBuf,
        problems: Vec<String>,
    },
    /// The on-disk schema cache could not be written or read.
    #[error("schema cache {}: {message}", path.display())]
    Cache { path: PathBuf, message: String },
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
