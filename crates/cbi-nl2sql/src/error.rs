/// What can go wrong while turning a question into SQL or checking SQL.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The question could not be mapped onto the database.
    #[error("could not answer from this database: {0}")]
    NotUnderstood(String),
    /// A semantic query could not be rendered (a bug, or a schema without a join path).
    #[error("cannot write SQL for this: {0}")]
    Render(String),
    /// SQL failed validation; every problem is listed.
    #[error("{}", crate::validate::summarize(.0))]
    Invalid(Vec<crate::validate::Problem>),
    /// A model or the database failed while generating.
    #[error(transparent)]
    Backend(#[from] cbi_types::Error),
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
