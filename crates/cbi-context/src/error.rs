/// What can go wrong while resolving a follow-up into SQL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The resolved query could not be written as SQL for the dialect.
    #[error(transparent)]
    Render(#[from] cbi_nl2sql::Error),
}

/// The kinds of [`Error`], for front ends to match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    Render,
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Render(_) => ErrorKind::Render,
        }
    }
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
