//! `SqlValidator`: the gate every statement passes before it may run.
//!
//! Whatever wrote the SQL — the embedded generator, a language model, a person typing `cbi sql` —
//! its text goes through [`SqlValidator::validate`] and runs only if that returns
//! [`ValidatedSql`]. The validator parses the text for the connection's dialect and then checks,
//! collecting every problem instead of stopping at the first (so self-correction can fix them
//! all in one round):
//!
//! 1. **One read-only query.** Exactly one statement, and it is a query: no DDL, DML, `PRAGMA`,
//!    `ATTACH`, `COPY`, `CALL`, `SET`, `GRANT`, transactions, `EXPLAIN`; no data-modifying
//!    statement inside it (PostgreSQL's writable CTEs), no `SELECT … INTO`, no locking clause
//!    (`FOR UPDATE`, `FOR SHARE`), and no function that is not on the dialect's allow-list
//!    ([`crate::functions`]) or the configured extensions, anywhere in the tree. Functions
//!    may be qualified only with the dialect's built-in schema (`pg_catalog.`).
//! 2. **Every name resolves** against the [`DatabaseSchema`], case-insensitively, following SQL's
//!    scoping: aliases, CTEs and their output columns, derived tables, correlated subqueries,
//!    `USING`/`NATURAL` joins, select-list aliases in `ORDER BY`/`GROUP BY`/`HAVING`, and each
//!    arm of a set operation on its own. Unknown names come back with a "did you mean" when a
//!    close one exists.
//! 3. **Grouping.** In a SELECT that groups or aggregates, every column the select list,
//!    `HAVING` and `ORDER BY` read is grouped, aggregated, or determined by a grouped primary
//!    key ([`ProblemKind::UngroupedColumn`]), in every dialect: SQLite and MariaDB would
//!    otherwise answer with an arbitrary row's value.
//! 4. **A row limit.** The outermost query gets `LIMIT default_limit` (`FETCH FIRST n ROWS
//!    ONLY` for Oracle) when it has no limit of its own, and the statement is re-rendered from
//!    the AST.
//!
//! Decisions worth knowing:
//!
//! - **Fail closed.** Constructs the resolver cannot check (`PIVOT`, `MATCH_RECOGNIZE`, pipe
//!   syntax, …) are refused as [`ProblemKind::Unsupported`] rather than waved through.
//! - **What is checked is what runs.** The statement is printed from the checked tree, and the
//!   printed text must parse back with the same dialect into exactly that tree
//!   ([`ProblemKind::RoundTrip`]); MySQL is read without backslash escapes, as cbi's MySQL
//!   sessions run (`NO_BACKSLASH_ESCAPES`, see [`crate::dialects`]).
//! - **Table functions** on the dialect's table-function list (`generate_series`, `unnest`,
//!   `json_each`) are allowed; their columns are unknown, so unqualified names that may come
//!   from them are accepted. The same holds for an unknown table, which is reported once rather than once
//!   per column.
//! - **SQLite's double-quoted strings.** SQLite reads `"USA"` as a string when no column of
//!   that name is in scope, and real-world SQL (Spider's gold queries among it) relies on
//!   that. In the SQLite dialect such an unresolved double-quoted identifier is accepted and
//!   rewritten to the single-quoted literal `'USA'`, which means the same and also runs where
//!   SQLite was built without that fallback. Other dialects treat `"x"` as a name and report
//!   it; MySQL's parser already reads `"x"` as a string.
//! - **`current_setting`** is refused: nothing a BI question needs comes from server settings,
//!   and they can reveal file paths and addresses.
//! - **Pseudo-columns** (`rowid` in SQLite and Oracle, `sysdate`, `rownum`, `ctid`, …) and
//!   Oracle's and MySQL's `dual` are accepted without being in the schema.
//! - **Size.** sqlparser builds trees as deep as operator and `UNION` chains are long, and a
//!   deep enough tree overflows the stack while it is walked or dropped. Statements of more
//!   than [`ValidatorOptions::max_tokens`] tokens are refused before they are parsed, and
//!   those of more than a few hundred are checked on a short-lived thread with a large stack.
//!   At most [`MAX_PROBLEMS`] problems about names are reported.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::Arc;

use cbi_types::{DatabaseSchema, SqlDialect, TableSchema};
use sqlparser::ast::{
    AccessExpr, Expr, Fetch, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, InTarget,
    JoinConstraint, JoinOperator, LimitClause, ObjectName, ObjectNamePart, Query, Select,
    SelectItem, SelectItemQualifiedWildcardKind, SetExpr, Spanned, Statement, TableAlias,
    TableFactor, TableWithJoins, Value, Visit, Visitor, visit_expressions_mut,
};
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Span, Token, TokenWithSpan, Tokenizer};

use crate::dialects::{parser_dialect, print_statement};

mod grouping;
use crate::functions::{builtin_schema, function_allowed, table_function_allowed};

/// The most problems about names (unknown or ambiguous tables and columns) reported for one
/// statement; the first ones are enough to act on. Other problems are always all reported.
pub const MAX_PROBLEMS: usize = 50;

/// Statements of at most this many tokens are checked on the caller's thread: their trees
/// are too shallow to matter for any stack.
const INLINE_TOKENS: usize = 256;

/// The stack of the thread that checks longer statements: ample for the deepest tree
/// [`ValidatorOptions::max_tokens`] allows. Measured in a debug build: a chain of 10,000
/// additions needs more than 64 MiB once the tree is also cloned, visited to print its
/// literals and compared with its re-parse, and passes with 128 MiB; twice that is reserved.
/// Only the pages used are ever committed.
const WORKER_STACK: usize = 256 << 20;

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
    /// A function not on the dialect's allow-list ([`crate::functions`]) or the configured
    /// extensions: `pg_sleep`, `pg_stat_reset`, `load_extension`, a stored function…
    FunctionNotAllowed,
    /// A table (or a table alias used as a qualifier) that is not in the schema or the query.
    UnknownTable,
    /// A column that no table in scope has.
    UnknownColumn,
    /// An unqualified column that several tables in scope have.
    AmbiguousColumn,
    /// Syntax the validator cannot check (`PIVOT`, `MATCH_RECOGNIZE`, pipe syntax…), refused
    /// rather than let through unchecked.
    Unsupported,
    /// The statement is longer than [`ValidatorOptions::max_tokens`].
    TooLarge,
    /// The statement as printed for the database does not parse back into the tree that was
    /// checked, so what would run is not what was validated.
    RoundTrip,
    /// A column that a grouped or aggregated SELECT reads neither grouped nor inside an
    /// aggregate (item 3 of the module docs): an error on PostgreSQL, an arbitrary
    /// row's value on SQLite and MariaDB, refused everywhere.
    UngroupedColumn,
    /// A wildcard (`*`, `t.*`) over one of [`ValidatorOptions::partial_tables`].
    Wildcard,
}

/// One problem found in a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    /// What is wrong, in the terms of the statement and the schema (names as written).
    pub message: String,
    /// "did you mean …" when something close exists.
    pub suggestion: Option<String>,
}

impl Problem {
    fn new(kind: ProblemKind, message: impl Into<String>) -> Self {
        Problem {
            kind,
            message: message.into(),
            suggestion: None,
        }
    }

    fn suggest(mut self, suggestion: Option<String>) -> Self {
        self.suggestion = suggestion;
        self
    }
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
    /// The most tokens (words, literals, operators; not whitespace or comments) a statement
    /// may have. It bounds the depth of the parsed tree, which long operator chains make
    /// deep enough to overflow the stack; the default leaves room for any real query,
    /// including `IN` lists of several thousand values.
    pub max_tokens: usize,
    /// Scalar, aggregate or window functions allowed beyond the dialect's built-in list
    /// (lowercase or not; matched case-insensitively), from `validator.allowed_functions`.
    pub allowed_functions: Vec<String>,
    /// Table-valued functions allowed beyond the built-in list, from
    /// `validator.allowed_table_functions`.
    pub allowed_table_functions: Vec<String>,
    /// Tables of which the schema shows only some columns (a user's allow-list cut them): a
    /// wildcard over one (`SELECT *`, `t.*`, `f(t.*)`) is refused, since the database would
    /// add the columns the validator does not know. Names match case-insensitively.
    pub partial_tables: Vec<String>,
}

impl Default for ValidatorOptions {
    fn default() -> Self {
        ValidatorOptions {
            default_limit: 1000,
            max_tokens: 20_000,
            allowed_functions: Vec::new(),
            allowed_table_functions: Vec::new(),
            partial_tables: Vec::new(),
        }
    }
}

/// A statement that passed validation, ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedSql {
    /// The statement as it will run (canonical form, LIMIT added when missing).
    pub sql: String,
    /// Whether the validator added the row limit.
    pub limit_added: bool,
    /// The outermost query's row limit as it will run, when it is a plain number. It exceeds
    /// [`ValidatorOptions::default_limit`] only when the statement asked for more rows; the
    /// validator leaves such a limit alone because the connection caps the rows it fetches.
    pub limit: Option<u64>,
}

/// Checks SQL against a dialect and a schema.
///
/// Build one per connection (the schema is shared, not copied) and call
/// [`validate`](Self::validate) for every statement before it runs.
#[derive(Debug, Clone)]
pub struct SqlValidator {
    dialect: SqlDialect,
    schema: Arc<DatabaseSchema>,
    opts: ValidatorOptions,
}

impl SqlValidator {
    /// A validator for statements in `dialect` over `schema`, with default options.
    pub fn new(dialect: SqlDialect, schema: Arc<DatabaseSchema>) -> Self {
        SqlValidator {
            dialect,
            schema,
            opts: ValidatorOptions::default(),
        }
    }

    /// Replaces the options (row limit, size cap).
    pub fn with_options(mut self, opts: ValidatorOptions) -> Self {
        self.opts = opts;
        self
    }

    /// Validates one statement, returning every problem found, in source order.
    ///
    /// Never panics, whatever the text. A statement of more than a few hundred tokens is
    /// parsed and checked on a short-lived thread with a large stack: sqlparser builds
    /// trees as deep as operator chains and `UNION` chains are long and walks and drops
    /// them recursively, which could overflow the caller's stack (an async runtime's
    /// worker has 2 MiB).
    pub fn validate(&self, sql: &str) -> Result<ValidatedSql, Vec<Problem>> {
        let (tokens, count) = self.tokenize(sql).map_err(|p| vec![p])?;
        if count <= INLINE_TOKENS {
            return self.check(tokens);
        }
        std::thread::scope(|scope| {
            let worker = std::thread::Builder::new()
                .name("cbi-validate".to_string())
                .stack_size(WORKER_STACK)
                .spawn_scoped(scope, move || self.check(tokens));
            match worker {
                Ok(handle) => handle.join().unwrap_or_else(|_| {
                    Err(vec![Problem::new(
                        ProblemKind::Unsupported,
                        "the validator failed while checking this statement",
                    )])
                }),
                // No thread to be had (a platform without threads, a process at its
                // limit): checking here could overflow this thread's stack, so refuse.
                Err(e) => Err(vec![Problem::new(
                    ProblemKind::TooLarge,
                    format!(
                        "the statement has {count} tokens, too many to check without a \
                         worker thread ({e}); at most {INLINE_TOKENS} can be checked here"
                    ),
                )]),
            }
        })
    }

    /// Tokenizes and enforces the size cap before any tree exists; returns the tokens and
    /// how many are not whitespace or comments.
    fn tokenize(&self, sql: &str) -> Result<(Vec<TokenWithSpan>, usize), Problem> {
        let dialect = parser_dialect(self.dialect);
        let tokens = Tokenizer::new(dialect.as_ref(), sql)
            .with_unescape(true)
            .tokenize_with_location()
            .map_err(|e| self.parse_problem(e.into()))?;
        let count = tokens
            .iter()
            .filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF))
            .count();
        if count > self.opts.max_tokens {
            return Err(Problem::new(
                ProblemKind::TooLarge,
                format!(
                    "the statement has {count} tokens, more than the {} the validator accepts",
                    self.opts.max_tokens
                ),
            ));
        }
        Ok((tokens, count))
    }

    fn parse_problem(&self, e: ParserError) -> Problem {
        let message = match e {
            ParserError::ParserError(m) | ParserError::TokenizerError(m) => m,
            ParserError::RecursionLimitExceeded => "it is nested too deeply".to_string(),
        };
        Problem::new(
            ProblemKind::Parse,
            format!("not valid {} SQL: {message}", self.dialect),
        )
    }

    /// Parses the tokens and runs every check.
    fn check(&self, tokens: Vec<TokenWithSpan>) -> Result<ValidatedSql, Vec<Problem>> {
        let dialect = parser_dialect(self.dialect);
        let mut stmts = Parser::new(dialect.as_ref())
            .with_tokens_with_locations(tokens)
            .parse_statements()
            .map_err(|e| vec![self.parse_problem(e)])?;
        let mut found: Vec<(Location, Problem)> = Vec::new();
        if stmts.len() != 1 {
            found.push((
                Location::of(0, 0),
                Problem::new(
                    ProblemKind::StatementCount,
                    format!(
                        "expected exactly one statement, found {}; send one query at a time",
                        stmts.len()
                    ),
                ),
            ));
        }
        let mut dq_strings = HashSet::new();
        for stmt in &stmts {
            check_safety(stmt, self.dialect, &self.opts, &mut found);
            if let Statement::Query(q) = stmt {
                let mut r = Resolver::new(self.dialect, &self.schema);
                r.partial = &self.opts.partial_tables;
                r.query(q);
                found.append(&mut r.problems);
                dq_strings.extend(r.dq_strings);
            }
        }
        if !found.is_empty() {
            return Err(ordered(found));
        }
        match stmts.pop() {
            Some(stmt) => self.finish(stmt, &dq_strings).map_err(|p| vec![p]),
            None => Err(vec![Problem::new(
                ProblemKind::StatementCount,
                "expected exactly one statement, found 0",
            )]),
        }
    }

    /// Rewrites SQLite's double-quoted strings, adds the row limit, renders, and proves the
    /// rendered text reads back as the checked tree.
    fn finish(
        &self,
        mut stmt: Statement,
        dq_strings: &HashSet<Span>,
    ) -> Result<ValidatedSql, Problem> {
        if !dq_strings.is_empty() {
            let _ = visit_expressions_mut(&mut stmt, |e| {
                if let Expr::Identifier(id) = e {
                    if id.quote_style == Some('"') && dq_strings.contains(&id.span) {
                        *e = Expr::value(Value::SingleQuotedString(id.value.clone()));
                    }
                }
                ControlFlow::<()>::Continue(())
            });
        }
        let (limit_added, limit) = match &mut stmt {
            Statement::Query(q) => self.apply_limit(q),
            _ => (false, None),
        };
        let sql = print_statement(&stmt, self.dialect);
        self.round_trip(&stmt, &sql)?;
        Ok(ValidatedSql {
            sql,
            limit_added,
            limit,
        })
    }

    /// What is checked is what runs: `sql`, the text handed to the database, must parse with
    /// the dialect back into exactly `stmt`, the tree every check ran on. A printer quirk that
    /// would let the database read something else (a string that closes early, an operator
    /// that prints as a comment) is refused here instead of reaching the database.
    fn round_trip(&self, stmt: &Statement, sql: &str) -> Result<(), Problem> {
        let refuse = |why: String| {
            Problem::new(
                ProblemKind::RoundTrip,
                format!(
                    "the statement does not read back the same once printed for {} ({why}); \
                     it is refused so that what runs is exactly what was checked",
                    self.dialect
                ),
            )
        };
        let dialect = parser_dialect(self.dialect);
        let again = Parser::new(dialect.as_ref())
            .try_with_sql(sql)
            .and_then(|mut p| p.parse_statements())
            .map_err(|e| refuse(e.to_string()))?;
        match again.as_slice() {
            [one] if one == stmt => Ok(()),
            [_] => Err(refuse("it parses into a different statement".into())),
            many => Err(refuse(format!("it parses into {} statements", many.len()))),
        }
    }

    /// Gives the outermost query a row limit when it has none (LIMIT, FETCH FIRST or TOP).
    fn apply_limit(&self, q: &mut Query) -> (bool, Option<u64>) {
        if let SetExpr::Select(s) = q.body.as_ref() {
            if let Some(top) = &s.top {
                let n = match &top.quantity {
                    Some(sqlparser::ast::TopQuantity::Constant(n)) if !top.percent => Some(*n),
                    Some(sqlparser::ast::TopQuantity::Expr(e)) if !top.percent => literal(e),
                    _ => None,
                };
                return (false, n);
            }
        }
        if let Some(fetch) = &q.fetch {
            let n = match &fetch.quantity {
                Some(e) if !fetch.percent => literal(e),
                _ => None,
            };
            return (false, n);
        }
        let n = self.opts.default_limit;
        let number = || Expr::value(Value::Number(n.to_string(), false));
        match &mut q.limit_clause {
            Some(LimitClause::LimitOffset { limit: Some(e), .. })
            | Some(LimitClause::OffsetCommaLimit { limit: e, .. }) => (false, literal(e)),
            Some(LimitClause::LimitOffset { limit, .. }) => {
                // `OFFSET n` alone.
                if self.dialect == SqlDialect::Oracle {
                    q.fetch = Some(fetch_first(number()));
                } else {
                    *limit = Some(number());
                }
                (true, Some(n))
            }
            None => {
                if self.dialect == SqlDialect::Oracle {
                    q.fetch = Some(fetch_first(number()));
                } else {
                    q.limit_clause = Some(LimitClause::LimitOffset {
                        limit: Some(number()),
                        offset: None,
                        limit_by: Vec::new(),
                    });
                }
                (true, Some(n))
            }
        }
    }
}

fn fetch_first(quantity: Expr) -> Fetch {
    Fetch {
        with_ties: false,
        percent: false,
        quantity: Some(quantity),
    }
}

/// The value of a plain non-negative integer literal.
fn literal(e: &Expr) -> Option<u64> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::Number(s, _) => s.parse().ok(),
            _ => None,
        },
        Expr::Nested(inner) => literal(inner),
        _ => None,
    }
}

/// Sorts by position (stable, so problems at one place keep the order they were found in),
/// drops repeats, and keeps the first [`MAX_PROBLEMS`] about names (all others are kept).
fn ordered(mut found: Vec<(Location, Problem)>) -> Vec<Problem> {
    found.sort_by_key(|(at, _)| *at);
    let mut seen = HashSet::new();
    let mut names = 0;
    found
        .into_iter()
        .filter(|(_, p)| seen.insert((p.kind, p.message.clone())))
        .filter(|(_, p)| {
            let about_names = matches!(
                p.kind,
                ProblemKind::UnknownTable
                    | ProblemKind::UnknownColumn
                    | ProblemKind::AmbiguousColumn
            );
            names += usize::from(about_names);
            !about_names || names <= MAX_PROBLEMS
        })
        .map(|(_, p)| p)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Safety: statement kinds, locks, INTO, dangerous functions.

fn check_safety(
    stmt: &Statement,
    dialect: SqlDialect,
    opts: &ValidatorOptions,
    found: &mut Vec<(Location, Problem)>,
) {
    let root_is_query = matches!(stmt, Statement::Query(_));
    if !root_is_query {
        let what = match stmt {
            Statement::Explain { analyze: true, .. } => "EXPLAIN ANALYZE".to_string(),
            other => first_word(&other.to_string()),
        };
        found.push((
            stmt.span().start,
            Problem::new(
                ProblemKind::NotReadOnly,
                format!("only read-only queries may run; this is {what}"),
            ),
        ));
    }
    let mut v = Safety {
        found,
        dialect,
        opts,
        root_is_query,
        statements: 0,
    };
    let _ = stmt.visit(&mut v);
}

struct Safety<'p> {
    found: &'p mut Vec<(Location, Problem)>,
    dialect: SqlDialect,
    opts: &'p ValidatorOptions,
    root_is_query: bool,
    statements: usize,
}

impl Safety<'_> {
    /// A scalar, aggregate or window function call.
    fn function(&mut self, name: &ObjectName) {
        let allowed = self.allowed(name, function_allowed, &self.opts.allowed_functions);
        if !allowed {
            self.refuse_function(name, "function", "");
        }
    }

    /// A function called where a table belongs (`FROM f(…)`, `x IN f(…)`).
    fn table_function(&mut self, name: &ObjectName) {
        let allowed = self.allowed(
            name,
            table_function_allowed,
            &self.opts.allowed_table_functions,
        );
        if !allowed {
            self.refuse_function(name, "table function", "_table");
        }
    }

    /// Allowed when unqualified (or qualified with the dialect's built-in schema) and on the
    /// built-in list or the configured one.
    fn allowed(
        &self,
        name: &ObjectName,
        builtin: impl Fn(SqlDialect, &str) -> bool,
        extra: &[String],
    ) -> bool {
        let parts: Vec<&str> = name
            .0
            .iter()
            .map(|p| p.as_ident().map_or("", |i| i.value.as_str()))
            .collect();
        let base = match parts.as_slice() {
            [one] => *one,
            [schema, one]
                if builtin_schema(self.dialect).is_some_and(|s| s.eq_ignore_ascii_case(schema)) =>
            {
                *one
            }
            _ => return false,
        };
        !base.is_empty()
            && (builtin(self.dialect, base) || extra.iter().any(|e| e.eq_ignore_ascii_case(base)))
    }

    fn refuse_function(&mut self, name: &ObjectName, what: &str, key: &str) {
        // Another dialect's spelling of something this one says otherwise: say how.
        let hint = match name.0.as_slice() {
            [one] if key.is_empty() => one
                .as_ident()
                .and_then(|i| crate::functions::instead(self.dialect, &i.value)),
            _ => None,
        };
        let message = match hint {
            Some(hint) => format!(
                "{what} `{name}` is not allowed: {} does not have it; write {hint} instead",
                self.dialect
            ),
            None => format!(
                "{what} `{name}` is not allowed: queries may call only the analytical \
                 functions cbi knows for {} (aggregates, window functions, math, text, \
                 dates, conditionals, JSON readers); if you trust it, add it to \
                 `validator.allowed{key}_functions` in the configuration",
                self.dialect
            ),
        };
        self.found.push((
            name.span().start,
            Problem::new(ProblemKind::FunctionNotAllowed, message),
        ));
    }
}

impl Visitor for Safety<'_> {
    type Break = ();

    fn pre_visit_statement(&mut self, stmt: &Statement) -> ControlFlow<()> {
        self.statements += 1;
        if self.statements > 1 && self.root_is_query && !matches!(stmt, Statement::Query(_)) {
            self.found.push((
                stmt.span().start,
                Problem::new(
                    ProblemKind::NotReadOnly,
                    format!(
                        "{} inside a query changes data; only reading is allowed",
                        first_word(&stmt.to_string())
                    ),
                ),
            ));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        for lock in &q.locks {
            self.found.push((
                q.span().end,
                Problem::new(
                    ProblemKind::Locking,
                    format!("`{lock}` locks rows; a read-only query may not take locks"),
                ),
            ));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, s: &Select) -> ControlFlow<()> {
        if let Some(into) = &s.into {
            self.found.push((
                into.span().start,
                Problem::new(
                    ProblemKind::NotReadOnly,
                    format!(
                        "`SELECT … {into}` writes the result somewhere; only plain SELECT may run"
                    ),
                ),
            ));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        match e {
            Expr::Function(f) => self.function(&f.name),
            // `(x).name` selects a field of a composite value, or, where `x` has no such field,
            // calls the function `name` with `x` (PostgreSQL's functional notation:
            // `(12345).pg_terminate_backend`). Nothing tells the two apart without the types,
            // so field selection is refused.
            Expr::CompoundFieldAccess { access_chain, .. } => {
                if let Some(AccessExpr::Dot(field)) = access_chain
                    .iter()
                    .find(|a| matches!(a, AccessExpr::Dot(_)))
                {
                    self.found.push((
                        field.span().start,
                        Problem::new(
                            ProblemKind::FunctionNotAllowed,
                            format!(
                                "field selection `(…).{field}` is not allowed: the database may \
                                 read it as a call of a function named `{field}`"
                            ),
                        ),
                    ));
                }
            }
            Expr::In {
                target:
                    InTarget::Table {
                        name,
                        args: Some(_),
                    },
                ..
            } => self.table_function(name),
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, tf: &TableFactor) -> ControlFlow<()> {
        match tf {
            TableFactor::Table {
                name,
                args: Some(_),
                ..
            }
            | TableFactor::Function { name, .. } => self.table_function(name),
            TableFactor::UNNEST { .. } => {
                self.table_function(&ObjectName::from(vec![Ident::new("unnest")]))
            }
            TableFactor::JsonTable { .. } => {
                self.table_function(&ObjectName::from(vec![Ident::new("json_table")]))
            }
            TableFactor::TableFunction { .. } | TableFactor::OpenJsonTable { .. } => {
                self.found.push((
                    tf.span().start,
                    Problem::new(
                        ProblemKind::FunctionNotAllowed,
                        "this table function cannot be checked by the validator; \
                         write the query without it",
                    ),
                ));
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

fn first_word(s: &str) -> String {
    s.split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase()
}

// ---------------------------------------------------------------------------------------------
// Name resolution.

/// The columns a source provides.
#[derive(Debug, Clone)]
enum Cols {
    Known(Vec<String>),
    /// Unknown (a table function, an unknown table already reported): any name may come from it.
    Any,
}

impl Cols {
    fn has(&self, name: &str) -> bool {
        match self {
            Cols::Known(cols) => cols.iter().any(|c| c.eq_ignore_ascii_case(name)),
            Cols::Any => true,
        }
    }

    fn names(&self) -> Vec<String> {
        match self {
            Cols::Known(cols) => cols.clone(),
            Cols::Any => Vec::new(),
        }
    }
}

/// What a [`Source`] is, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SourceKind {
    Table,
    Cte,
    Subquery,
    /// A table function, an unknown table, anything whose columns are unknown.
    Other,
    /// The result of a set operation, as its ORDER BY sees it.
    Result,
}

/// Something in a FROM clause.
#[derive(Debug, Clone)]
struct Source {
    kind: SourceKind,
    /// How the query refers to it: the alias, else the table, CTE or function name; empty
    /// for a derived table without an alias.
    refname: String,
    /// The catalog table behind it: schema (when not the default one) and name.
    table: Option<(Option<String>, String)>,
    aliased: bool,
    cols: Cols,
}

impl Source {
    fn new(kind: SourceKind, refname: String, cols: Cols) -> Self {
        Source {
            kind,
            refname,
            table: None,
            aliased: false,
            cols,
        }
    }

    fn opaque(refname: String) -> Self {
        Source::new(SourceKind::Other, refname, Cols::Any)
    }

    fn of_table(t: &TableSchema) -> Self {
        Source {
            kind: SourceKind::Table,
            refname: t.name.clone(),
            table: Some((t.schema.clone(), t.name.clone())),
            aliased: false,
            cols: Cols::Known(t.columns.iter().map(|c| c.name.clone()).collect()),
        }
    }

    fn with_alias(mut self, alias: Option<&TableAlias>) -> Self {
        if let Some(a) = alias {
            self.refname = a.name.value.clone();
            self.aliased = true;
            if !a.columns.is_empty() {
                self.cols = Cols::Known(a.columns.iter().map(|c| c.name.value.clone()).collect());
            }
        }
        self
    }

    fn table_name(&self) -> Option<String> {
        self.table.as_ref().map(|(schema, name)| match schema {
            Some(s) => format!("{s}.{name}"),
            None => name.clone(),
        })
    }

    /// How messages name it.
    fn label(&self) -> String {
        let r = &self.refname;
        match (self.kind, self.table_name()) {
            (_, Some(t)) if self.aliased && !t.eq_ignore_ascii_case(r) => {
                format!("table `{t}` (as `{r}`)")
            }
            (_, Some(t)) => format!("table `{t}`"),
            (SourceKind::Result, _) => "the result's columns".to_string(),
            (SourceKind::Subquery, _) if r.is_empty() => "the subquery".to_string(),
            (SourceKind::Subquery, _) => format!("subquery `{r}`"),
            (SourceKind::Cte, _) => format!("`{r}` (a WITH query)"),
            _ => format!("`{r}`"),
        }
    }

    /// How a column of it is best written in a suggestion.
    fn qualify(&self, column: &str) -> String {
        if self.refname.is_empty() {
            column.to_string()
        } else {
            format!("{}.{column}", self.refname)
        }
    }
}

/// The names visible in one SELECT.
#[derive(Debug, Default)]
struct Scope {
    sources: Vec<Source>,
    /// Columns merged by `USING` or `NATURAL`, which may be named unqualified.
    coalesced: Vec<String>,
    /// The select list's output names (aliases and plain column names).
    outputs: Vec<String>,
    /// Whether output names resolve here (ORDER BY, GROUP BY, HAVING; everywhere in SQLite).
    aliases_visible: bool,
    /// Whether an output name wins over input columns of several tables (ORDER BY, GROUP BY,
    /// HAVING), instead of the reference being ambiguous (WHERE, even in SQLite).
    outputs_first: bool,
    /// Set while a non-lateral derived table of this scope is resolved: its FROM siblings
    /// are not visible to it, the enclosing queries are.
    hidden: bool,
}

struct Resolver<'a> {
    dialect: SqlDialect,
    schema: &'a DatabaseSchema,
    scopes: Vec<Scope>,
    /// CTEs in scope, innermost last.
    ctes: Vec<(String, Cols)>,
    lambda_params: Vec<String>,
    problems: Vec<(Location, Problem)>,
    /// SQLite double-quoted identifiers that resolved to nothing: string literals.
    dq_strings: HashSet<Span>,
    /// [`ValidatorOptions::partial_tables`].
    partial: &'a [String],
}

impl<'a> Resolver<'a> {
    fn new(dialect: SqlDialect, schema: &'a DatabaseSchema) -> Self {
        Resolver {
            dialect,
            schema,
            scopes: Vec::new(),
            ctes: Vec::new(),
            lambda_params: Vec::new(),
            problems: Vec::new(),
            dq_strings: HashSet::new(),
            partial: &[],
        }
    }

    // The wildcard checks below are kept out of line: the resolver recurses through
    // `select` and `column`, on the caller's stack for short statements, and their frames
    // must stay small.

    /// `SELECT *` over the current scope.
    #[inline(never)]
    fn star_over_scope(&mut self, at: Location) {
        let tables: Vec<String> = self
            .scopes
            .last()
            .map(|sc| {
                sc.sources
                    .iter()
                    .filter_map(|src| src.table.as_ref().map(|(_, t)| t.clone()))
                    .collect()
            })
            .unwrap_or_default();
        for t in tables {
            self.wildcard_over(at, Some(&t));
        }
    }

    /// `t` as a whole row (PostgreSQL), `t` a source in scope.
    #[inline(never)]
    fn whole_row(&mut self, id: &Ident) {
        self.whole_row_of(std::slice::from_ref(id), id.span.start);
    }

    /// `t.*` or the whole row `t`: refused when `t` is a table cut by an allow-list.
    #[inline(never)]
    fn whole_row_of(&mut self, parts: &[Ident], at: Location) {
        let table = self
            .lookup_source(parts)
            .and_then(|src| src.table.as_ref().map(|(_, t)| t.clone()));
        self.wildcard_over(at, table.as_deref());
    }

    /// Refuses a wildcard that would expand `src`, a table only some of whose columns may
    /// be read.
    #[inline(never)]
    fn wildcard_over(&mut self, at: Location, src_table: Option<&str>) {
        let Some(t) = src_table else { return };
        if self.partial.iter().any(|p| p.eq_ignore_ascii_case(t)) {
            self.problem(
                at,
                Problem::new(
                    ProblemKind::Wildcard,
                    format!("`*` cannot be used over {t}: only some of its columns may be read, so name them"),
                ),
            );
        }
    }

    fn problem(&mut self, at: Location, p: Problem) {
        self.problems.push((at, p));
    }

    /// Whether enough problems are known: more would only lengthen the feedback (and
    /// computing suggestions for thousands of names is slow).
    fn enough(&self) -> bool {
        self.problems.len() >= MAX_PROBLEMS
    }

    fn scope_mut(&mut self) -> Option<&mut Scope> {
        self.scopes.last_mut()
    }

    /// Scopes a name may come from, innermost first.
    fn visible(&self) -> impl Iterator<Item = &Scope> {
        self.scopes.iter().rev().filter(|s| !s.hidden)
    }

    /// Resolves every expression in `node` in the current scopes; subqueries get their own.
    fn walk<T: Visit>(&mut self, node: &T) {
        let mut w = ExprWalk {
            r: self,
            query_depth: 0,
            skip: HashSet::new(),
            skip_depth: 0,
        };
        let _ = node.visit(&mut w);
    }

    /// Resolves a query and returns its output columns.
    fn query(&mut self, q: &Query) -> Cols {
        let cte_mark = self.ctes.len();
        if let Some(with) = &q.with {
            for cte in &with.cte_tables {
                let name = cte.alias.name.value.clone();
                let declared = (!cte.alias.columns.is_empty()).then(|| {
                    Cols::Known(
                        cte.alias
                            .columns
                            .iter()
                            .map(|c| c.name.value.clone())
                            .collect(),
                    )
                });
                // SQLite needs no RECURSIVE keyword for a CTE to name itself.
                let self_ref = with.recursive
                    || (self.dialect == SqlDialect::Sqlite && self.schema.table(&name).is_none());
                if self_ref {
                    self.ctes
                        .push((name.clone(), declared.clone().unwrap_or(Cols::Any)));
                }
                let out = self.query(&cte.query);
                if self_ref {
                    self.ctes.pop();
                }
                self.ctes.push((name, declared.unwrap_or(out)));
            }
        }
        if let Some(op) = q.pipe_operators.first() {
            self.problem(
                q.span().start,
                Problem::new(
                    ProblemKind::Unsupported,
                    format!("pipe syntax (`|> {op}`) cannot be checked; write a plain query"),
                ),
            );
        }
        let cols = match q.body.as_ref() {
            SetExpr::Select(s) => {
                let (cols, _) = self.select(s);
                self.walk(&q.order_by);
                self.grouping(s, q.order_by.as_ref());
                self.walk(&q.limit_clause);
                self.walk(&q.fetch);
                self.scopes.pop();
                cols
            }
            body => {
                let (cols, names) = self.set_expr(body);
                if q.order_by.is_some() {
                    // ORDER BY of a set operation sees only the result's column names.
                    self.scopes.push(Scope {
                        sources: vec![Source::new(
                            SourceKind::Result,
                            String::new(),
                            match &cols {
                                Cols::Any => Cols::Any,
                                Cols::Known(_) => Cols::Known(names.clone()),
                            },
                        )],
                        outputs: names,
                        aliases_visible: true,
                        outputs_first: true,
                        ..Scope::default()
                    });
                    self.walk(&q.order_by);
                    self.scopes.pop();
                }
                self.walk(&q.limit_clause);
                self.walk(&q.fetch);
                cols
            }
        };
        self.ctes.truncate(cte_mark);
        cols
    }

    /// Resolves a query body; returns its columns and every output name of every arm.
    fn set_expr(&mut self, body: &SetExpr) -> (Cols, Vec<String>) {
        match body {
            SetExpr::Select(s) => {
                let out = self.select(s);
                self.grouping(s, None);
                self.scopes.pop();
                out
            }
            SetExpr::Query(q) => {
                let cols = self.query(q);
                let names = cols.names();
                (cols, names)
            }
            SetExpr::SetOperation { left, right, .. } => {
                let (cols, mut names) = self.set_expr(left);
                let (_, more) = self.set_expr(right);
                names.extend(more);
                (cols, names)
            }
            SetExpr::Values(values) => {
                self.scopes.push(Scope::default());
                self.walk(values);
                self.scopes.pop();
                let width = values.rows.iter().map(|r| r.len()).max().unwrap_or(0);
                // PostgreSQL and SQLite name them column1…, MySQL column_0….
                let names: Vec<String> = (1..=width)
                    .map(|i| format!("column{i}"))
                    .chain((0..width).map(|i| format!("column_{i}")))
                    .collect();
                (Cols::Known(names.clone()), names)
            }
            SetExpr::Table(t) => {
                let Some(name) = &t.table_name else {
                    return (Cols::Any, Vec::new());
                };
                let parts: Vec<Ident> = t
                    .schema_name
                    .iter()
                    .chain(std::iter::once(name))
                    .cloned()
                    .collect();
                let src = self.table_ref(&ObjectName::from(parts));
                let names = src.cols.names();
                (src.cols, names)
            }
            // Data-modifying bodies are reported by the safety pass.
            _ => (Cols::Any, Vec::new()),
        }
    }

    /// Resolves a SELECT, leaving its scope pushed for the ORDER BY of the enclosing query;
    /// returns its output columns and names.
    fn select(&mut self, s: &Select) -> (Cols, Vec<String>) {
        self.scopes.push(Scope::default());
        for item in &s.from {
            self.join_tree(item);
        }
        if !s.lateral_views.is_empty() {
            self.unsupported(s.span().start, "LATERAL VIEW");
        }
        let (cols, names) = self.outputs(s);
        let sqlite = self.dialect == SqlDialect::Sqlite;
        if let Some(scope) = self.scope_mut() {
            scope.outputs = referable_outputs(s);
            scope.aliases_visible = sqlite;
        }
        for item in &s.projection {
            match item {
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(n),
                    _,
                ) => self.qualified_wildcard(n),
                SelectItem::Wildcard(_) if !self.partial.is_empty() => {
                    self.star_over_scope(item.span().start)
                }
                other => self.walk(other),
            }
        }
        self.walk(&s.top);
        self.walk(&s.distinct);
        self.walk(&s.prewhere);
        self.walk(&s.selection);
        self.walk(&s.connect_by);
        self.walk(&s.named_window);
        self.walk(&s.cluster_by);
        self.walk(&s.distribute_by);
        if let Some(scope) = self.scope_mut() {
            scope.aliases_visible = true;
            scope.outputs_first = true;
        }
        self.walk(&s.group_by);
        self.walk(&s.having);
        self.walk(&s.qualify);
        self.walk(&s.sort_by);
        (cols, names)
    }

    /// The output columns of a SELECT whose FROM clause is resolved.
    fn outputs(&self, s: &Select) -> (Cols, Vec<String>) {
        let sources: &[Source] = self.scopes.last().map_or(&[], |sc| sc.sources.as_slice());
        let mut names = Vec::new();
        let mut any = false;
        for item in &s.projection {
            match item {
                SelectItem::UnnamedExpr(e) => names.extend(expr_names(e)),
                SelectItem::ExprWithAlias { alias, .. } => names.push(alias.value.clone()),
                SelectItem::ExprWithAliases { aliases, .. } => {
                    names.extend(aliases.iter().map(|a| a.value.clone()))
                }
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(n),
                    _,
                ) => {
                    let parts = idents(n);
                    match parts.as_deref().and_then(|p| find_source(sources, p, self)) {
                        Some(src) => match &src.cols {
                            Cols::Known(c) => names.extend(c.iter().cloned()),
                            Cols::Any => any = true,
                        },
                        None => any = true,
                    }
                }
                SelectItem::QualifiedWildcard(..) => any = true,
                SelectItem::Wildcard(_) => {
                    for src in sources {
                        match &src.cols {
                            Cols::Known(c) => names.extend(c.iter().cloned()),
                            Cols::Any => any = true,
                        }
                    }
                }
            }
        }
        let cols = if any {
            Cols::Any
        } else {
            Cols::Known(names.clone())
        };
        (cols, names)
    }

    fn join_tree(&mut self, item: &TableWithJoins) {
        self.table_factor(&item.relation, false);
        for join in &item.joins {
            let before = self.scopes.last().map_or(0, |s| s.sources.len());
            let (constraint, lateral, condition) = match &join.join_operator {
                JoinOperator::Join(c)
                | JoinOperator::Inner(c)
                | JoinOperator::Left(c)
                | JoinOperator::LeftOuter(c)
                | JoinOperator::Right(c)
                | JoinOperator::RightOuter(c)
                | JoinOperator::FullOuter(c)
                | JoinOperator::CrossJoin(c)
                | JoinOperator::Semi(c)
                | JoinOperator::LeftSemi(c)
                | JoinOperator::RightSemi(c)
                | JoinOperator::Anti(c)
                | JoinOperator::LeftAnti(c)
                | JoinOperator::RightAnti(c)
                | JoinOperator::StraightJoin(c) => (Some(c), false, None),
                JoinOperator::AsOf {
                    match_condition,
                    constraint,
                } => (Some(constraint), false, Some(match_condition)),
                JoinOperator::CrossApply | JoinOperator::OuterApply => (None, true, None),
                JoinOperator::ArrayJoin
                | JoinOperator::LeftArrayJoin
                | JoinOperator::InnerArrayJoin => (None, false, None),
            };
            self.table_factor(&join.relation, lateral);
            if let Some(cond) = condition {
                self.walk(cond);
            }
            match constraint {
                Some(JoinConstraint::On(e)) => self.walk(e),
                Some(JoinConstraint::Using(names)) | Some(JoinConstraint::UsingAlias(names, _)) => {
                    self.using(names, before)
                }
                Some(JoinConstraint::Natural) => self.natural(before),
                Some(JoinConstraint::None) | None => {}
            }
        }
    }

    /// `USING (c)`: `c` must be on both sides; it may then be named unqualified.
    fn using(&mut self, names: &[ObjectName], split: usize) {
        for name in names {
            let Some(id) = name.0.last().and_then(ObjectNamePart::as_ident) else {
                continue;
            };
            let Some(scope) = self.scopes.last() else {
                return;
            };
            let (left, right) = scope.sources.split_at(split.min(scope.sources.len()));
            let missing = [(left, "left"), (right, "right")]
                .into_iter()
                .find(|(side, _)| !side.iter().any(|s| s.cols.has(&id.value)))
                .map(|(side, which)| {
                    let shown: Vec<String> = side.iter().map(Source::label).collect();
                    (which, shown.join(", "))
                });
            if let Some((which, shown)) = missing {
                let p = Problem::new(
                    ProblemKind::UnknownColumn,
                    format!(
                        "column `{}` in USING is not in the {which} side of the join ({shown})",
                        id.value
                    ),
                );
                self.problem(id.span.start, p);
            }
            if let Some(scope) = self.scope_mut() {
                scope.coalesced.push(id.value.clone());
            }
        }
    }

    /// `NATURAL JOIN`: the columns both sides have may be named unqualified.
    fn natural(&mut self, split: usize) {
        let Some(scope) = self.scopes.last_mut() else {
            return;
        };
        let (left, right) = scope.sources.split_at(split.min(scope.sources.len()));
        let mut common = Vec::new();
        for src in right {
            if let Cols::Known(cols) = &src.cols {
                for c in cols {
                    if left
                        .iter()
                        .any(|l| matches!(&l.cols, Cols::Known(_)) && l.cols.has(c))
                    {
                        common.push(c.clone());
                    }
                }
            }
        }
        scope.coalesced.extend(common);
    }

    fn push_source(&mut self, src: Source) {
        if let Some(scope) = self.scope_mut() {
            scope.sources.push(src);
        }
    }

    fn table_factor(&mut self, tf: &TableFactor, lateral: bool) {
        match tf {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                let src = match args {
                    Some(args) => {
                        self.walk(args);
                        Source::opaque(last_name(name))
                    }
                    None => self.table_ref(name),
                };
                self.push_source(src.with_alias(alias.as_ref()));
            }
            TableFactor::Derived {
                lateral: l,
                subquery,
                alias,
                ..
            } => {
                let hide = !(*l || lateral);
                if hide {
                    if let Some(scope) = self.scope_mut() {
                        scope.hidden = true;
                    }
                }
                let cols = self.query(subquery);
                if hide {
                    if let Some(scope) = self.scope_mut() {
                        scope.hidden = false;
                    }
                }
                let src = Source::new(SourceKind::Subquery, String::new(), cols);
                self.push_source(src.with_alias(alias.as_ref()));
            }
            TableFactor::TableFunction { expr, alias } => {
                self.walk(expr);
                self.push_source(Source::opaque(String::new()).with_alias(alias.as_ref()));
            }
            TableFactor::Function {
                name, args, alias, ..
            } => {
                self.walk(args);
                self.push_source(Source::opaque(last_name(name)).with_alias(alias.as_ref()));
            }
            TableFactor::UNNEST {
                alias, array_exprs, ..
            } => {
                self.walk(array_exprs);
                self.push_source(Source::opaque(String::new()).with_alias(alias.as_ref()));
            }
            TableFactor::JsonTable {
                json_expr, alias, ..
            }
            | TableFactor::OpenJsonTable {
                json_expr, alias, ..
            } => {
                self.walk(json_expr);
                self.push_source(Source::opaque(String::new()).with_alias(alias.as_ref()));
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => self.join_tree(table_with_joins),
            other => {
                let what = match other {
                    TableFactor::Pivot { .. } => "PIVOT",
                    TableFactor::Unpivot { .. } | TableFactor::UnpivotExpr { .. } => "UNPIVOT",
                    TableFactor::MatchRecognize { .. } => "MATCH_RECOGNIZE",
                    TableFactor::XmlTable { .. } => "XMLTABLE",
                    TableFactor::SemanticView { .. } => "SEMANTIC_VIEW",
                    _ => "this kind of FROM item",
                };
                self.unsupported(other.span().start, what);
                self.push_source(Source::opaque(String::new()));
            }
        }
    }

    fn unsupported(&mut self, at: Location, what: &str) {
        self.problem(
            at,
            Problem::new(
                ProblemKind::Unsupported,
                format!("{what} cannot be checked by the validator; write the query without it"),
            ),
        );
    }

    /// A table named in FROM: a CTE in scope, a schema table, or `dual`.
    fn table_ref(&mut self, name: &ObjectName) -> Source {
        if self.enough() {
            return Source::opaque(last_name(name));
        }
        let Some(parts) = idents(name) else {
            self.unsupported(name.span().start, "a computed table name");
            return Source::opaque(last_name(name));
        };
        let at = name.span().start;
        let found = match parts.as_slice() {
            [one] => {
                if let Some((cte, cols)) = self
                    .ctes
                    .iter()
                    .rev()
                    .find(|(n, _)| n.eq_ignore_ascii_case(&one.value))
                {
                    return Source::new(SourceKind::Cte, cte.clone(), cols.clone());
                }
                if one.value.eq_ignore_ascii_case("dual")
                    && matches!(self.dialect, SqlDialect::Oracle | SqlDialect::MySql)
                    && self.schema.table("dual").is_none()
                {
                    return Source::new(
                        SourceKind::Other,
                        one.value.clone(),
                        Cols::Known(Vec::new()),
                    );
                }
                self.find_table(None, &one.value)
            }
            [ns, table] => self.find_table(Some(&ns.value), &table.value),
            [db, ns, table] if db.value.eq_ignore_ascii_case(&self.schema.name) => {
                self.find_table(Some(&ns.value), &table.value)
            }
            _ => None,
        };
        match found {
            Some(t) => Source::of_table(t),
            None => {
                let written = parts
                    .iter()
                    .map(|p| p.value.as_str())
                    .collect::<Vec<_>>()
                    .join(".");
                let bare = parts.last().map_or(String::new(), |p| p.value.clone());
                let p = self.unknown_table(&written, &bare);
                self.problem(at, p);
                Source::opaque(bare)
            }
        }
    }

    fn unknown_table(&self, written: &str, bare: &str) -> Problem {
        // A table of that name in another schema is the best suggestion.
        let elsewhere = self
            .schema
            .tables
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(bare))
            .map(table_display);
        let suggestion = elsewhere.or_else(|| {
            let mut candidates: Vec<(String, String)> = self
                .schema
                .tables
                .iter()
                .map(|t| (t.name.clone(), table_display(t)))
                .collect();
            candidates.extend(self.ctes.iter().map(|(n, _)| (n.clone(), n.clone())));
            closest(bare, &candidates)
        });
        Problem::new(
            ProblemKind::UnknownTable,
            format!("table `{written}` not found"),
        )
        .suggest(suggestion)
    }

    /// The schema table `ns.name` (or `name`), case-insensitively. A table outside the default
    /// namespace also answers to its bare name when nothing in the default one does.
    fn find_table(&self, ns: Option<&str>, name: &str) -> Option<&'a TableSchema> {
        let schema: &'a DatabaseSchema = self.schema;
        let named = |t: &&TableSchema| t.name.eq_ignore_ascii_case(name);
        match ns {
            None => schema
                .tables
                .iter()
                .filter(named)
                .find(|t| t.schema.is_none())
                .or_else(|| schema.tables.iter().find(named)),
            Some(ns) => schema
                .tables
                .iter()
                .filter(named)
                .find(|t| match &t.schema {
                    Some(s) => s.eq_ignore_ascii_case(ns),
                    None => self.is_default_namespace(ns),
                }),
        }
    }

    /// Names of the namespace where tables without a `schema` live.
    fn is_default_namespace(&self, ns: &str) -> bool {
        ["public", "main", "dbo"]
            .iter()
            .any(|d| d.eq_ignore_ascii_case(ns))
            || (!self.schema.name.is_empty() && self.schema.name.eq_ignore_ascii_case(ns))
    }

    /// `x.*` in a select list or an expression.
    fn qualified_wildcard(&mut self, name: &ObjectName) {
        let Some(parts) = idents(name) else {
            return;
        };
        match self.lookup_source(&parts) {
            None => {
                let p = self.unknown_qualifier(&parts, "*");
                self.problem(name.span().start, p);
            }
            Some(_) if !self.partial.is_empty() => self.whole_row_of(&parts, name.span().start),
            Some(_) => {}
        }
    }

    /// The innermost visible source that `parts` (an alias, `table` or `schema.table`) names.
    fn lookup_source(&self, parts: &[Ident]) -> Option<&Source> {
        self.visible()
            .find_map(|scope| find_source(&scope.sources, parts, self))
    }

    /// `parts.column` names no source in scope; the suggestion is the whole reference fixed.
    fn unknown_qualifier(&self, parts: &[Ident], column: &str) -> Problem {
        let written = parts
            .iter()
            .map(|p| p.value.as_str())
            .collect::<Vec<_>>()
            .join(".");
        // The table is there, under an alias.
        if let [one] = parts {
            let aliased = self.visible().flat_map(|s| s.sources.iter()).find(|s| {
                s.aliased
                    && s.table
                        .as_ref()
                        .is_some_and(|(_, t)| t.eq_ignore_ascii_case(&one.value))
            });
            if let Some(src) = aliased {
                return Problem::new(
                    ProblemKind::UnknownTable,
                    format!(
                        "table `{written}` is called `{}` in this query",
                        src.refname
                    ),
                )
                .suggest(Some(src.qualify(column)));
            }
        }
        let candidates: Vec<(String, String)> = self
            .visible()
            .flat_map(|s| s.sources.iter())
            .filter(|s| !s.refname.is_empty())
            .map(|s| (s.refname.clone(), s.qualify(column)))
            .collect();
        let bare = parts.last().map_or("", |p| p.value.as_str());
        Problem::new(
            ProblemKind::UnknownTable,
            format!("table or alias `{written}` not found in this query"),
        )
        .suggest(closest(bare, &candidates))
    }

    /// A column reference: `c`, `t.c`, `s.t.c`, or a field of a composite column.
    fn column(&mut self, parts: &[Ident]) {
        match parts {
            [] => {}
            [one] => self.unqualified(one),
            [qual @ .., col] => self.qualified(qual, col, parts),
        }
    }

    fn qualified(&mut self, qual: &[Ident], col: &Ident, all: &[Ident]) {
        if self.enough() {
            return;
        }
        let found = self
            .lookup_source(qual)
            .map(|src| (src.cols.has(&col.value), src.clone()));
        match found {
            Some((true, _)) => {}
            Some((false, src)) => {
                if self.pseudo_column(&col.value, col.quote_style) {
                    return;
                }
                let p = self.unknown_column_in(&src, qual, col);
                self.problem(col.span.start, p);
            }
            None => {
                // `t.composite.field`: a field of a composite (row) column.
                if let [first, second, ..] = all {
                    if all.len() > 2 {
                        if let Some(src) = self.lookup_source(std::slice::from_ref(first)) {
                            if src.cols.has(&second.value) {
                                return;
                            }
                        }
                    }
                }
                let p = self.unknown_qualifier(qual, &col.value);
                let at = qual.first().map_or(col.span.start, |q| q.span.start);
                self.problem(at, p);
            }
        }
    }

    /// `qual.col` names a source that has no `col`; suggestions keep the qualifier as written.
    fn unknown_column_in(&self, src: &Source, qual: &[Ident], col: &Ident) -> Problem {
        let written: Vec<&str> = qual.iter().map(|q| q.value.as_str()).collect();
        let written = written.join(".");
        let own: Vec<(String, String)> = src
            .cols
            .names()
            .into_iter()
            .map(|c| (c.clone(), format!("{written}.{c}")))
            .collect();
        let suggestion = closest(&col.value, &own).or_else(|| {
            let others: Vec<(String, String)> = self
                .visible()
                .flat_map(|s| s.sources.iter())
                .flat_map(|s| {
                    s.cols
                        .names()
                        .into_iter()
                        .map(move |c| (c.clone(), s.qualify(&c)))
                })
                .collect();
            closest(&col.value, &others)
        });
        Problem::new(
            ProblemKind::UnknownColumn,
            format!("column `{}` not found in {}", col.value, src.label()),
        )
        .suggest(suggestion)
    }

    fn unqualified(&mut self, id: &Ident) {
        if self.enough() {
            return;
        }
        let name = id.value.as_str();
        if self
            .lambda_params
            .iter()
            .any(|p| p.eq_ignore_ascii_case(name))
        {
            return;
        }
        let mut ambiguous = None;
        for scope in self.visible() {
            let matches: Vec<&Source> = scope
                .sources
                .iter()
                .filter(|s| matches!(s.cols, Cols::Known(_)) && s.cols.has(name))
                .collect();
            let is_output =
                scope.aliases_visible && scope.outputs.iter().any(|o| o.eq_ignore_ascii_case(name));
            match matches.as_slice() {
                [_] => return,
                [first, ..] => {
                    if (is_output && scope.outputs_first)
                        || scope.coalesced.iter().any(|c| c.eq_ignore_ascii_case(name))
                    {
                        return;
                    }
                    let shown: Vec<String> = matches.iter().map(|s| s.label()).collect();
                    let p = Problem::new(
                        ProblemKind::AmbiguousColumn,
                        format!(
                            "column `{name}` is ambiguous: it is in {}; qualify it",
                            shown.join(" and ")
                        ),
                    )
                    .suggest(Some(first.qualify(name)));
                    ambiguous = Some(p);
                    break;
                }
                [] => {
                    if is_output || scope.sources.iter().any(|s| matches!(s.cols, Cols::Any)) {
                        return;
                    }
                }
            }
        }
        if let Some(p) = ambiguous {
            self.problem(id.span.start, p);
            return;
        }
        if self.pseudo_column(name, id.quote_style) {
            return;
        }
        // PostgreSQL reads a bare table alias as the whole row (`count(t)`, `row_to_json(t)`).
        if matches!(self.dialect, SqlDialect::PostgreSql | SqlDialect::Generic)
            && self.lookup_source(std::slice::from_ref(id)).is_some()
        {
            // The whole row of a table cut by an allow-list would carry every column.
            if !self.partial.is_empty() {
                self.whole_row(id);
            }
            return;
        }
        if self.dialect == SqlDialect::Sqlite && id.quote_style == Some('"') {
            // SQLite reads an unresolvable double-quoted name as a string literal.
            self.dq_strings.insert(id.span);
            return;
        }
        let p = self.unknown_column(id);
        self.problem(id.span.start, p);
    }

    fn unknown_column(&self, id: &Ident) -> Problem {
        let scope_sources: Vec<&Source> = self
            .visible()
            .next()
            .map(|s| s.sources.iter().collect())
            .unwrap_or_default();
        let all: Vec<&Source> = self.visible().flat_map(|s| s.sources.iter()).collect();
        let single = all.len() == 1;
        let candidates: Vec<(String, String)> = all
            .iter()
            .flat_map(|s| {
                s.cols.names().into_iter().map(move |c| {
                    let shown = if single { c.clone() } else { s.qualify(&c) };
                    (c, shown)
                })
            })
            .collect();
        let place = match scope_sources.as_slice() {
            [] => "in this query (it reads no table)".to_string(),
            [one] => format!("in {}", one.label()),
            many => format!(
                "in any of {}",
                many.iter()
                    .map(|s| s.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        Problem::new(
            ProblemKind::UnknownColumn,
            format!("column `{}` not found {place}", id.value),
        )
        .suggest(closest(&id.value, &candidates))
    }

    /// Names every row has without the schema listing them.
    fn pseudo_column(&self, name: &str, quote: Option<char>) -> bool {
        if quote.is_some() {
            return false;
        }
        // Dates only: who the session is (`current_user`, `session_user`, `user`) and where it
        // is (`current_schema`, `current_catalog`) lie outside the schema and are refused.
        const EVERYWHERE: &[&str] = &[
            "current_date",
            "current_time",
            "current_timestamp",
            "localtime",
            "localtimestamp",
        ];
        let specific: &[&str] = match self.dialect {
            SqlDialect::Sqlite => &["rowid", "oid", "_rowid_"],
            SqlDialect::Oracle => &[
                "sysdate",
                "systimestamp",
                "rownum",
                "rowid",
                "level",
                "dbtimezone",
                "sessiontimezone",
            ],
            SqlDialect::PostgreSql => &["ctid", "xmin", "xmax", "cmin", "cmax", "tableoid"],
            SqlDialect::MySql | SqlDialect::Generic => &[],
        };
        EVERYWHERE
            .iter()
            .chain(specific)
            .any(|p| p.eq_ignore_ascii_case(name))
    }

    /// `x IN table` (SQLite).
    fn in_table(&mut self, name: &ObjectName) {
        let _ = self.table_ref(name);
    }
}

/// The source in `sources` that `parts` names: an alias or table name, or `schema.table`
/// (`database.schema.table`) for an unaliased table.
fn find_source<'s>(sources: &'s [Source], parts: &[Ident], r: &Resolver<'_>) -> Option<&'s Source> {
    match parts {
        [one] => sources
            .iter()
            .find(|s| !s.refname.is_empty() && s.refname.eq_ignore_ascii_case(&one.value)),
        [ns, table] => sources.iter().find(|s| {
            !s.aliased
                && s.table.as_ref().is_some_and(|(schema, name)| {
                    name.eq_ignore_ascii_case(&table.value)
                        && match schema {
                            Some(sc) => sc.eq_ignore_ascii_case(&ns.value),
                            None => r.is_default_namespace(&ns.value),
                        }
                })
        }),
        [db, rest @ ..] if rest.len() == 2 && db.value.eq_ignore_ascii_case(&r.schema.name) => {
            find_source(sources, rest, r)
        }
        _ => None,
    }
}

/// The output names other clauses may use in place of an input column: aliases, and the
/// column names of qualified references (`ORDER BY name` after `SELECT t1.name`, when several
/// tables have a `name`). An unqualified reference is left out: it resolves, or is reported,
/// on its own.
fn referable_outputs(s: &Select) -> Vec<String> {
    let mut names = Vec::new();
    for item in &s.projection {
        match item {
            SelectItem::ExprWithAlias { alias, .. } => names.push(alias.value.clone()),
            SelectItem::ExprWithAliases { aliases, .. } => {
                names.extend(aliases.iter().map(|a| a.value.clone()))
            }
            SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) => {
                names.extend(parts.last().map(|i| i.value.clone()))
            }
            _ => {}
        }
    }
    names
}

/// The identifiers of a name, unless a part is computed.
fn idents(name: &ObjectName) -> Option<Vec<Ident>> {
    name.0
        .iter()
        .map(|p| p.as_ident().cloned())
        .collect::<Option<Vec<_>>>()
}

fn last_name(name: &ObjectName) -> String {
    name.0
        .last()
        .and_then(ObjectNamePart::as_ident)
        .map_or(String::new(), |i| i.value.clone())
}

fn table_display(t: &TableSchema) -> String {
    match &t.schema {
        Some(s) => format!("{s}.{}", t.name),
        None => t.name.clone(),
    }
}

/// Names an unaliased select item may be referred to by: SQLite's (the expression's text)
/// and PostgreSQL's (the column or function under any casts and parentheses).
fn expr_names(e: &Expr) -> Vec<String> {
    let mut inner = e;
    while let Expr::Nested(x) | Expr::Cast { expr: x, .. } = inner {
        inner = x;
    }
    let pg = match inner {
        Expr::Identifier(i) => Some(i.value.clone()),
        Expr::CompoundIdentifier(parts) => parts.last().map(|i| i.value.clone()),
        Expr::Function(f) => Some(last_name(&f.name)),
        _ => None,
    };
    pg.into_iter()
        .chain(std::iter::once(e.to_string()))
        .collect()
}

/// The candidate closest to `name` (case-insensitive), when it is close enough to be a
/// likely typo. Candidates are (compared text, shown text).
fn closest(name: &str, candidates: &[(String, String)]) -> Option<String> {
    let needle = name.to_lowercase();
    let max = match needle.chars().count() {
        0..=4 => 1,
        5..=8 => 2,
        _ => 3,
    };
    let mut best: Option<(usize, f64, &String)> = None;
    for (key, shown) in candidates {
        let key = key.to_lowercase();
        let d = strsim::osa_distance(&needle, &key);
        let jw = strsim::jaro_winkler(&needle, &key);
        let near = d <= max && d < needle.chars().count();
        if !near && jw < 0.92 {
            continue;
        }
        let better = match &best {
            None => true,
            Some((bd, bjw, _)) => d < *bd || (d == *bd && jw > *bjw),
        };
        if better {
            best = Some((d, jw, shown));
        }
    }
    best.map(|(_, _, s)| s.clone())
}

/// Walks expressions for the resolver: resolves column references at the current level and
/// hands each subquery to [`Resolver::query`] (its insides are then skipped here).
struct ExprWalk<'r, 'a> {
    r: &'r mut Resolver<'a>,
    /// How many queries deep the walk is below the node it started at.
    query_depth: usize,
    /// Field names of composite accesses (`(c).field`): not column references.
    skip: HashSet<*const Expr>,
    skip_depth: usize,
}

impl ExprWalk<'_, '_> {
    fn active(&self) -> bool {
        self.query_depth == 0 && self.skip_depth == 0
    }
}

impl Visitor for ExprWalk<'_, '_> {
    type Break = ();

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        if self.active() {
            self.r.query(q);
        }
        self.query_depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.query_depth = self.query_depth.saturating_sub(1);
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        if self.skip.contains(&(e as *const Expr)) {
            self.skip_depth += 1;
        }
        if !self.active() {
            return ControlFlow::Continue(());
        }
        match e {
            Expr::Identifier(id) => self.r.column(std::slice::from_ref(id)),
            Expr::CompoundIdentifier(parts) => self.r.column(parts),
            Expr::QualifiedWildcard(name, _) => self.r.qualified_wildcard(name),
            Expr::CompoundFieldAccess { access_chain, .. } => {
                for access in access_chain {
                    if let AccessExpr::Dot(field) = access {
                        self.skip.insert(field as *const Expr);
                    }
                }
            }
            Expr::In {
                target: InTarget::Table { name, args: None },
                ..
            } => self.r.in_table(name),
            // MySQL's `MATCH (a, b) AGAINST (…)` names columns outside any expression.
            Expr::MatchAgainst { columns, .. } => {
                for c in columns {
                    if let Some(parts) = idents(c) {
                        self.r.column(&parts);
                    }
                }
            }
            // `count(t.*)`: the qualifier must name a source.
            Expr::Function(f) => {
                if let FunctionArguments::List(list) = &f.args {
                    for arg in &list.args {
                        if let FunctionArg::Unnamed(FunctionArgExpr::QualifiedWildcard(n)) = arg {
                            self.r.qualified_wildcard(n);
                        }
                    }
                }
            }
            Expr::Lambda(l) => {
                let params = l.params.iter().map(|p| p.name.value.clone());
                self.r.lambda_params.extend(params);
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        if self.active() {
            if let Expr::Lambda(l) = e {
                let keep = self.r.lambda_params.len().saturating_sub(l.params.len());
                self.r.lambda_params.truncate(keep);
            }
        }
        if self.skip.contains(&(e as *const Expr)) {
            self.skip_depth = self.skip_depth.saturating_sub(1);
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(names: &[&str]) -> Vec<(String, String)> {
        names
            .iter()
            .map(|n| (n.to_string(), n.to_string()))
            .collect()
    }

    #[test]
    fn closest_prefers_small_edits_and_refuses_far_ones() {
        let c = pairs(&["region", "revenue", "regions_x"]);
        assert_eq!(closest("regoin", &c).as_deref(), Some("region"));
        assert_eq!(closest("REGION", &c).as_deref(), Some("region"));
        assert_eq!(closest("customer", &c), None);
        assert_eq!(closest("x", &pairs(&["id"])), None);
        assert_eq!(
            closest("idd", &pairs(&["id", "name"])).as_deref(),
            Some("id")
        );
    }

    fn validator(d: SqlDialect) -> SqlValidator {
        let t = TableSchema {
            name: "t".into(),
            schema: None,
            kind: cbi_types::TableKind::Table,
            columns: vec![cbi_types::ColumnSchema {
                name: "a".into(),
                data_type: "TEXT".into(),
                nullable: true,
                default_value: None,
                comment: None,
            }],
            primary_key: Vec::new(),
            indexes: Vec::new(),
            row_count: None,
            comment: None,
        };
        let schema = DatabaseSchema {
            name: "db".into(),
            dialect: d,
            tables: vec![t],
            relationships: Vec::new(),
        };
        SqlValidator::new(d, Arc::new(schema))
    }

    /// `Ok(sql as it runs)` or the kinds of the problems.
    fn check(d: SqlDialect, sql: &str) -> Result<String, Vec<ProblemKind>> {
        validator(d)
            .validate(sql)
            .map(|v| v.sql)
            .map_err(|p| p.into_iter().map(|p| p.kind).collect())
    }

    #[test]
    fn another_dialects_function_is_refused_with_this_dialects_spelling() {
        // (dialect, sql, what the message must say)
        let cases = [
            (
                SqlDialect::Sqlite,
                "SELECT YEAR(a) FROM t",
                "write strftime('%Y', column)",
            ),
            (
                SqlDialect::Sqlite,
                "SELECT datediff(a, a) FROM t",
                "julianday(a) - julianday(b)",
            ),
            (
                SqlDialect::PostgreSql,
                "SELECT strftime('%Y', a) FROM t",
                "to_char(column",
            ),
            (
                SqlDialect::PostgreSql,
                "SELECT ifnull(a, 0) FROM t",
                "coalesce(a, b)",
            ),
            (
                SqlDialect::MySql,
                "SELECT date_trunc('month', a) FROM t",
                "DATE_FORMAT(",
            ),
            (
                SqlDialect::Oracle,
                "SELECT year(a) FROM t",
                "EXTRACT(YEAR FROM column)",
            ),
            // No spelling known: the general refusal.
            (
                SqlDialect::Sqlite,
                "SELECT sleep(1) FROM t",
                "validator.allowed_functions",
            ),
            // Qualified names and table functions get no hint.
            (
                SqlDialect::PostgreSql,
                "SELECT public.year(a) FROM t",
                "validator.allowed_functions",
            ),
        ];
        for (d, sql, expect) in cases {
            let problems = validator(d).validate(sql).expect_err(sql);
            assert_eq!(problems.len(), 1, "{sql}: {problems:?}");
            assert_eq!(problems[0].kind, ProblemKind::FunctionNotAllowed, "{sql}");
            assert!(
                problems[0].message.contains(expect),
                "{d} {sql}: {}",
                problems[0].message
            );
        }
    }

    #[test]
    fn functions_are_allowed_by_list_and_qualified_only_with_the_builtin_schema() {
        use ProblemKind::FunctionNotAllowed as No;
        let pg = SqlDialect::PostgreSql;
        assert!(check(pg, "SELECT lower(a) FROM t").is_ok());
        assert!(check(pg, "SELECT pg_catalog.lower(a) FROM t").is_ok());
        assert!(check(pg, "SELECT count(*) FROM t, generate_series(1, 3)").is_ok());
        assert_eq!(check(pg, "SELECT public.lower(a) FROM t"), Err(vec![No]));
        assert_eq!(check(pg, "SELECT pg_stat_reset() FROM t"), Err(vec![No]));
        assert_eq!(check(pg, "SELECT PG_SlEeP(1) FROM t"), Err(vec![No]));
        assert_eq!(
            check(pg, "SELECT * FROM pg_show_all_settings()"),
            Err(vec![No])
        );
        // A scalar function is not a table function.
        assert_eq!(check(pg, "SELECT * FROM lower('x')"), Err(vec![No]));
        let my = SqlDialect::MySql;
        assert_eq!(
            check(my, "SELECT master_gtid_wait('0-1-1', 5) FROM t"),
            Err(vec![No])
        );
        assert_eq!(check(my, "SELECT db.f(a) FROM t"), Err(vec![No]));
        let lite = SqlDialect::Sqlite;
        assert_eq!(check(lite, "SELECT randomblob(9) FROM t"), Err(vec![No]));
        assert!(check(lite, "SELECT j.value FROM t, json_each(t.a) AS j").is_ok());
    }

    #[test]
    fn configured_functions_extend_the_lists() {
        let opts = ValidatorOptions {
            allowed_functions: vec!["My_Udf".into()],
            ..ValidatorOptions::default()
        };
        let v = validator(SqlDialect::PostgreSql).with_options(opts);
        assert!(v.validate("SELECT my_udf(a) FROM t").is_ok());
        assert!(v.validate("SELECT * FROM my_udf(1)").is_err());
    }

    #[test]
    fn what_runs_reads_back_as_what_was_checked() {
        // The MySQL bypass: the text sqlparser printed for `'\\'` used to be read by
        // MariaDB as an escaped quote. Without backslash escapes on both sides, the literal
        // is two backslashes and prints back as written.
        let my = SqlDialect::MySql;
        assert_eq!(
            check(my, r"SELECT '\\' AS x FROM t").as_deref(),
            Ok(r"SELECT '\\' AS x FROM t LIMIT 1000")
        );
        assert!(check(
            my,
            r"SELECT '\\' AS a, ', (SELECT group_concat(schema_name) FROM information_schema.schemata) AS s -- ' AS b FROM t"
        )
        .is_ok_and(|sql| sql.contains("', (SELECT group_concat")));
        // A tree whose printed form reads differently is refused, not run.
        let v = validator(SqlDialect::PostgreSql);
        let stmt = Parser::parse_sql(&sqlparser::dialect::PostgreSqlDialect {}, "SELECT 1 - 1")
            .unwrap()
            .remove(0);
        let other = Parser::parse_sql(&sqlparser::dialect::PostgreSqlDialect {}, "SELECT 2")
            .unwrap()
            .remove(0);
        assert!(v.round_trip(&stmt, &stmt.to_string()).is_ok());
        let p = v.round_trip(&other, &stmt.to_string()).unwrap_err();
        assert_eq!(p.kind, ProblemKind::RoundTrip);
        let p = v.round_trip(&stmt, "SELECT 1; SELECT 2").unwrap_err();
        assert_eq!(p.kind, ProblemKind::RoundTrip);
    }

    #[test]
    fn literal_limits() {
        let e = Expr::value(Value::Number("25".into(), false));
        assert_eq!(literal(&e), Some(25));
        let e = Expr::value(Value::Number("-1".into(), false));
        assert_eq!(literal(&e), None);
        assert_eq!(literal(&Expr::Identifier(Ident::new("n"))), None);
    }

    #[test]
    fn problems_come_back_in_source_order_without_repeats() {
        let p = |m: &str| Problem::new(ProblemKind::UnknownColumn, m);
        let found = vec![
            (Location::of(1, 30), p("b")),
            (Location::of(1, 10), p("a")),
            (Location::of(1, 40), p("a")),
        ];
        let got: Vec<String> = ordered(found).into_iter().map(|p| p.message).collect();
        assert_eq!(got, ["a", "b"]);
    }
}
