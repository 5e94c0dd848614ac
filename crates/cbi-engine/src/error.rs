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
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
