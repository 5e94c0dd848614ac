//! `SqlValidator`: the gate every generated statement passes before it may run.
//!
//! (First version: parsing and the single-read-only-statement rule. Identifier resolution,
//! dangerous functions and LIMIT injection are being completed.)

use std::sync::Arc;

use cbi_types::{DatabaseSchema, SqlDialect};
use sqlparser::ast::Statement;
use sqlparser::parser::Parser;

use crate::sql::parser_dialect;

/// The kind of a validation problem, for self-correction and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The text is not SQL of the dialect.
    Parse,
    /// Not exactly one statement.
    StatementCount,
    /// Not a read-only query (DDL, DML, `SELECT … INTO`, PRAGMA, ATTACH, COPY, writable CTE…).
    NotReadOnly,
    /// A locking clause (`FOR UPDATE`, `FOR SHARE`).
    Locking,
    /// A function known to be dangerous (`pg_sleep`, `pg_read_file`, `load_extension`…).
    DangerousFunction,
    UnknownTable,
    UnknownColumn,
    AmbiguousColumn,
}

/// One problem found in a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    pub message: String,
    /// "did you mean …" when something close exists.
    pub suggestion: Option<String>,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        if let Some(s) = &self.suggestion {
            write!(f, "; did you mean `{s}`?")?;
        }
        Ok(())
    }
}

/// All problems, one line.
pub fn summarize(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Options of the validator.
#[derive(Debug, Clone)]
pub struct ValidatorOptions {
    /// LIMIT added to a query that has none.
    pub default_limit: u64,
}

impl Default for ValidatorOptions {
    fn default() -> Self {
        ValidatorOptions {
            default_limit: 1000,
        }
    }
}

/// A statement that passed validation, ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedSql {
    /// The statement as it will run (canonical form, LIMIT added when missing).
    pub sql: String,
    pub limit_added: bool,
}

/// Checks SQL against a dialect and a schema.
#[derive(Debug, Clone)]
pub struct SqlValidator {
    dialect: SqlDialect,
    schema: Arc<DatabaseSchema>,
    opts: ValidatorOptions,
}

impl SqlValidator {
    pub fn new(dialect: SqlDialect, schema: Arc<DatabaseSchema>) -> Self {
        SqlValidator {
            dialect,
            schema,
            opts: ValidatorOptions::default(),
        }
    }

    pub fn with_options(mut self, opts: ValidatorOptions) -> Self {
        self.opts = opts;
        self
    }

    /// Validates one statement, returning every problem found.
    pub fn validate(&self, sql: &str) -> Result<ValidatedSql, Vec<Problem>> {
        let _ = &self.schema;
        let stmts = Parser::parse_sql(parser_dialect(self.dialect).as_ref(), sql).map_err(|e| {
            vec![Problem {
                kind: ProblemKind::Parse,
                message: format!("not valid {} SQL: {e}", self.dialect),
                suggestion: None,
            }]
        })?;
        let [stmt] = stmts.as_slice() else {
            return Err(vec![Problem {
                kind: ProblemKind::StatementCount,
                message: format!("expected exactly one statement, found {}", stmts.len()),
                suggestion: None,
            }]);
        };
        match stmt {
            Statement::Query(_) => Ok(ValidatedSql {
                sql: stmt.to_string(),
                limit_added: false,
            }),
            other => Err(vec![Problem {
                kind: ProblemKind::NotReadOnly,
                message: format!(
                    "only read-only queries may run; this is {}",
                    first_word(&other.to_string())
                ),
                suggestion: None,
            }]),
        }
        .map(|mut v| {
            let _ = self.opts.default_limit;
            v.limit_added = false;
            v
        })
    }
}

fn first_word(s: &str) -> String {
    s.split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase()
}
