//! What the two server connectors (PostgreSQL, MySQL) share: the operations that run inside
//! their read-only transaction and what each gives back.

use cbi_types::{ColumnMeta, QueryLimits, Relationship, TableSchema, Value};

/// Result columns, rows, and whether the row limit cut the result.
pub(crate) type Rows = (Vec<ColumnMeta>, Vec<Vec<Value>>, bool);

/// Tables and the relationships between them, as introspected.
pub(crate) type Catalog = (Vec<TableSchema>, Vec<Relationship>);

/// What runs inside a connector's read-only transaction.
pub(crate) enum Op<'s> {
    /// A statement, read under the row and byte caps (the time limit is the transaction's).
    Query(&'s str, QueryLimits),
    Explain(&'s str),
    Catalog,
}

/// What an [`Op`] gives back: the variant of the same name.
pub(crate) enum Done {
    Rows(Rows),
    Plan(String),
    Catalog(Catalog),
}

/// An [`Op`] answered with another kind of [`Done`]: a bug, reported rather than a panic.
pub(crate) fn unexpected() -> cbi_types::Error {
    cbi_types::Error::Query {
        message: "internal error: the transaction returned another kind of result".into(),
        code: None,
    }
}
