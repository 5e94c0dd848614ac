/// What can go wrong in a cache. Only a shared tier fails; the engine treats every failure
/// as a miss.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration names a tier this build or machine cannot provide.
    #[error("cache configuration: {0}")]
    Config(String),
    /// The shared tier did not answer or refused.
    #[error("shared cache: {0}")]
    Shared(String),
}

/// The kinds of [`Error`] a front end tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    Config,
    Unavailable,
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Config(_) => ErrorKind::Config,
            Error::Shared(_) => ErrorKind::Unavailable,
        }
    }
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
