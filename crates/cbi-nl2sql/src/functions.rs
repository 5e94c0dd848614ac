//! The functions a query may call, by dialect: an allow-list, not a deny-list.
//!
//! A database ships hundreds of functions, and some of them change server state even inside a
//! read-only transaction (PostgreSQL's `pg_stat_reset`, `brin_summarize_new_values`), sleep,
//! take locks that outlive the query, wait on replication, or read what lies outside the
//! schema (`pg_show_all_settings()`, `load_file`). A list of the dangerous ones is never
//! complete, so the validator accepts only the functions an analytical question needs —
//! aggregates, window functions, math, text, dates, conditionals, casts and JSON readers — and
//! refuses every other name. Table-valued functions (`FROM json_each(…)`) have their own,
//! shorter list.
//!
//! The lists are data (`functions/<dialect>.txt`, one name a line, a `[scalar]` and a `[table]`
//! section), and users extend them in configuration (`validator.allowed_functions`,
//! `validator.allowed_table_functions`). An `[instead]` section (`name: what to write`) names
//! the dialect's own way of saying what another dialect's function says (`year` on SQLite is
//! `strftime('%Y', …)`), so a refusal tells a person or a model how to write the query.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use cbi_types::SqlDialect;

/// One dialect's lists.
#[derive(Debug, Default)]
pub struct FunctionList {
    scalar: HashSet<&'static str>,
    table: HashSet<&'static str>,
    instead: HashMap<&'static str, &'static str>,
}

impl FunctionList {
    fn parse(text: &'static str) -> Self {
        #[derive(PartialEq)]
        enum Section {
            Scalar,
            Table,
            Instead,
        }
        let mut list = FunctionList::default();
        let mut section = Section::Scalar;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            match line {
                "" => {}
                "[scalar]" => section = Section::Scalar,
                "[table]" => section = Section::Table,
                "[instead]" => section = Section::Instead,
                line if section == Section::Instead => {
                    if let Some((name, hint)) = line.split_once(':') {
                        list.instead.insert(name.trim(), hint.trim());
                    }
                }
                name if section == Section::Table => {
                    list.table.insert(name);
                }
                name => {
                    list.scalar.insert(name);
                }
            }
        }
        list
    }

    /// The scalar, aggregate and window functions, sorted.
    pub fn scalar(&self) -> Vec<&'static str> {
        let mut v: Vec<_> = self.scalar.iter().copied().collect();
        v.sort_unstable();
        v
    }

    /// The table-valued functions, sorted.
    pub fn table(&self) -> Vec<&'static str> {
        let mut v: Vec<_> = self.table.iter().copied().collect();
        v.sort_unstable();
        v
    }
}

static SQLITE: LazyLock<FunctionList> =
    LazyLock::new(|| FunctionList::parse(include_str!("functions/sqlite.txt")));
static POSTGRES: LazyLock<FunctionList> =
    LazyLock::new(|| FunctionList::parse(include_str!("functions/postgresql.txt")));
static MYSQL: LazyLock<FunctionList> =
    LazyLock::new(|| FunctionList::parse(include_str!("functions/mysql.txt")));
static ORACLE: LazyLock<FunctionList> =
    LazyLock::new(|| FunctionList::parse(include_str!("functions/oracle.txt")));
static GENERIC: LazyLock<FunctionList> =
    LazyLock::new(|| FunctionList::parse(include_str!("functions/generic.txt")));

/// The built-in lists of a dialect.
pub fn functions(dialect: SqlDialect) -> &'static FunctionList {
    match dialect {
        SqlDialect::Sqlite => &SQLITE,
        SqlDialect::PostgreSql => &POSTGRES,
        SqlDialect::MySql => &MYSQL,
        SqlDialect::Oracle => &ORACLE,
        SqlDialect::Generic => &GENERIC,
    }
}

/// Whether `name` (one part, any case) is a scalar, aggregate or window function on the
/// built-in list of `dialect`.
pub fn function_allowed(dialect: SqlDialect, name: &str) -> bool {
    functions(dialect)
        .scalar
        .contains(name.to_ascii_lowercase().as_str())
}

static AGGREGATES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("functions/aggregates.txt")
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .collect()
});

/// Whether `name` (one part, any case) is an aggregate function in some dialect: called
/// without `OVER`, it reads many rows, so the columns inside it need not be grouped.
pub fn is_aggregate(name: &str) -> bool {
    AGGREGATES.contains(name.to_ascii_lowercase().as_str())
}

/// What to write on `dialect` instead of `name`, another dialect's function (`year` on SQLite:
/// `strftime('%Y', column)`), when the list knows.
pub fn instead(dialect: SqlDialect, name: &str) -> Option<&'static str> {
    functions(dialect)
        .instead
        .get(name.to_ascii_lowercase().as_str())
        .copied()
}

/// Whether `name` (one part, any case) is a table-valued function on the built-in list of
/// `dialect`.
pub fn table_function_allowed(dialect: SqlDialect, name: &str) -> bool {
    functions(dialect)
        .table
        .contains(name.to_ascii_lowercase().as_str())
}

/// The schema a built-in function may be qualified with, if any (`pg_catalog.lower`).
pub(crate) fn builtin_schema(dialect: SqlDialect) -> Option<&'static str> {
    match dialect {
        SqlDialect::PostgreSql => Some("pg_catalog"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_lowercase_words_without_repeats() {
        for d in SqlDialect::ALL {
            for (section, text) in [(d, include_text(d))] {
                let mut seen = HashSet::new();
                let mut instead = false;
                for line in text.lines() {
                    let line = line.split('#').next().unwrap_or("").trim();
                    if line.starts_with('[') {
                        instead = line == "[instead]";
                        continue;
                    }
                    if line.is_empty() {
                        continue;
                    }
                    if instead {
                        // `name: hint`, for a name the dialect does not allow.
                        let (name, hint) = line.split_once(':').expect("name: hint");
                        assert!(!hint.trim().is_empty(), "{section}: `{line}`");
                        assert!(
                            !function_allowed(d, name.trim()),
                            "{section}: `{name}` is allowed, it needs no hint"
                        );
                        continue;
                    }
                    assert!(
                        line.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                        "{section}: `{line}`"
                    );
                    assert!(seen.insert(line), "{section}: `{line}` twice");
                }
            }
        }
    }

    fn include_text(d: SqlDialect) -> &'static str {
        match d {
            SqlDialect::Sqlite => include_str!("functions/sqlite.txt"),
            SqlDialect::PostgreSql => include_str!("functions/postgresql.txt"),
            SqlDialect::MySql => include_str!("functions/mysql.txt"),
            SqlDialect::Oracle => include_str!("functions/oracle.txt"),
            SqlDialect::Generic => include_str!("functions/generic.txt"),
        }
    }

    #[test]
    fn check() {
        let cases = [
            (SqlDialect::PostgreSql, "COUNT", true),
            (SqlDialect::PostgreSql, "date_trunc", true),
            (SqlDialect::PostgreSql, "pg_stat_reset", false),
            (SqlDialect::PostgreSql, "brin_summarize_new_values", false),
            (SqlDialect::PostgreSql, "txid_current", false),
            (SqlDialect::PostgreSql, "pg_show_all_settings", false),
            (SqlDialect::PostgreSql, "current_setting", false),
            (SqlDialect::PostgreSql, "nextval", false),
            (SqlDialect::MySql, "sleep", false),
            (SqlDialect::MySql, "benchmark", false),
            (SqlDialect::MySql, "master_gtid_wait", false),
            (SqlDialect::MySql, "release_all_locks", false),
            (SqlDialect::MySql, "date_format", true),
            (SqlDialect::Sqlite, "randomblob", false),
            (SqlDialect::Sqlite, "zeroblob", false),
            (SqlDialect::Sqlite, "load_extension", false),
            (SqlDialect::Sqlite, "strftime", true),
        ];
        for (d, name, expect) in cases {
            assert_eq!(function_allowed(d, name), expect, "{d} {name}");
        }
        assert!(table_function_allowed(SqlDialect::Sqlite, "json_each"));
        assert!(table_function_allowed(
            SqlDialect::PostgreSql,
            "generate_series"
        ));
        assert!(!table_function_allowed(
            SqlDialect::PostgreSql,
            "pg_show_all_settings"
        ));
        assert!(!table_function_allowed(SqlDialect::PostgreSql, "lower"));
    }
}
