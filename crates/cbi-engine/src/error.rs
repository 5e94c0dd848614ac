/// What can go wrong while answering a question.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database could not be reached, or failed a query.
    #[error(transparent)]
    Database(#[from] cbi_types::Error),
    /// The connection string or the database connector failed.
    #[error(transparent)]
    Connect(#[from] cbi_db::Error),
    /// The schema could not be read or the semantic file is wrong.
    #[error(transparent)]
    Schema(#[from] cbi_schema::Error),
    /// The session does not exist, expired, or the user has too many.
    #[error(transparent)]
    Session(#[from] cbi_session::Error),
    /// The question could not be turned into SQL.
    #[error(transparent)]
    Generation(#[from] cbi_nl2sql::Error),
    /// The generated SQL failed validation (every problem listed).
    #[error("the SQL failed validation: {}", cbi_nl2sql::validate::summarize(.0))]
    Invalid(Vec<cbi_nl2sql::Problem>),
    /// A session refers to a database this engine has not been given.
    #[error("database {0} is not attached to this engine; start a session with it first")]
    UnknownDatabase(String),
    /// Nothing to act on ("export that" with no earlier answer, an empty question).
    #[error("{0}")]
    Nothing(String),
    /// The configured language model cannot be set up (unknown provider, missing key, a
    /// provider this build lacks).
    #[error("{0}")]
    Model(String),
    /// The cache configuration cannot be set up (a shared tier that is unreachable or not
    /// compiled in).
    #[error("{0}")]
    Config(String),
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error`] is, for front ends to act on (an HTTP status, an MCP
/// error, an exit code) without matching on every variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The question, SQL or request cannot be answered as given: it failed validation, could
    /// not be mapped onto the database, or the database rejected the statement.
    Invalid,
    /// A session, database or turn that does not exist (or is not the asker's).
    NotFound,
    /// A limit was reached: too many sessions, a result past the byte cap.
    Limit,
    /// A query ran past its time limit.
    Timeout,
    /// The database, the session store or a model could not be reached, or asked us to slow
    /// down; trying again later may work.
    Unavailable,
    /// The engine is set up wrongly: a semantic file that does not match the schema, a model
    /// that cannot be configured, a backend not compiled in.
    Config,
}

impl Error {
    /// The category of this failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Database(e) => types_kind(e),
            Error::Connect(e) => match e {
                cbi_db::Error::InvalidUrl(_) | cbi_db::Error::UnsupportedScheme(_) => {
                    ErrorKind::Invalid
                }
                cbi_db::Error::FileNotFound(_) => ErrorKind::NotFound,
                cbi_db::Error::NotCompiled { .. } => ErrorKind::Config,
                _ => ErrorKind::Unavailable,
            },
            Error::Schema(e) => match e {
                cbi_schema::Error::Database(e) => types_kind(e),
                _ => ErrorKind::Config,
            },
            Error::Session(e) => match e {
                cbi_session::Error::NotFound(_) => ErrorKind::NotFound,
                cbi_session::Error::TooManySessions { .. } => ErrorKind::Limit,
                cbi_session::Error::Config(_) => ErrorKind::Config,
                _ => ErrorKind::Unavailable,
            },
            Error::Generation(e) => match e {
                cbi_nl2sql::Error::Backend(e) => types_kind(e),
                _ => ErrorKind::Invalid,
            },
            Error::Invalid(_) | Error::Nothing(_) => ErrorKind::Invalid,
            Error::UnknownDatabase(_) => ErrorKind::NotFound,
            Error::Model(_) | Error::Config(_) => ErrorKind::Config,
        }
    }
}

fn types_kind(e: &cbi_types::Error) -> ErrorKind {
    use cbi_types::Error as E;
    match e {
        E::Query { .. } | E::Invalid(_) | E::ReadOnly(_) => ErrorKind::Invalid,
        E::Timeout(_) => ErrorKind::Timeout,
        E::ResultTooLarge { .. } => ErrorKind::Limit,
        E::NotFound { .. } => ErrorKind::NotFound,
        E::Unsupported(_) => ErrorKind::Config,
        _ => ErrorKind::Unavailable,
    }
}
