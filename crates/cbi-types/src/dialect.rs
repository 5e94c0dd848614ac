use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The SQL dialect a statement is written for.
///
/// Generators render for a dialect, the validator parses with it, and connections report theirs.
/// `Generic` is ANSI-ish SQL for targets cbi does not know specifically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SqlDialect {
    #[serde(alias = "postgres", alias = "postgresql")]
    PostgreSql,
    #[serde(alias = "mariadb")]
    MySql,
    #[default]
    Sqlite,
    Oracle,
    Generic,
}

impl SqlDialect {
    /// Every dialect, for tests and listings.
    pub const ALL: [SqlDialect; 5] = [
        SqlDialect::PostgreSql,
        SqlDialect::MySql,
        SqlDialect::Sqlite,
        SqlDialect::Oracle,
        SqlDialect::Generic,
    ];

    /// The name used in configuration, prompts and reports.
    pub fn name(self) -> &'static str {
        match self {
            SqlDialect::PostgreSql => "postgresql",
            SqlDialect::MySql => "mysql",
            SqlDialect::Sqlite => "sqlite",
            SqlDialect::Oracle => "oracle",
            SqlDialect::Generic => "generic",
        }
    }

    /// Quotes an identifier so any name (reserved word, space, mixed case) is safe to embed.
    ///
    /// Embedded quote characters are doubled, which every supported dialect understands, so the
    /// result can never close the quote early.
    pub fn quote_ident(self, ident: &str) -> String {
        let q = match self {
            SqlDialect::MySql => '`',
            _ => '"',
        };
        let mut out = String::with_capacity(ident.len() + 2);
        out.push(q);
        for c in ident.chars() {
            if c == q {
                out.push(q);
            }
            out.push(c);
        }
        out.push(q);
        out
    }

    /// Quotes an identifier only when it needs it (not a plain lower/upper-case word, or a
    /// keyword that commonly clashes), to keep generated SQL readable.
    pub fn ident(self, ident: &str) -> String {
        let plain = !ident.is_empty()
            && ident
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && ident.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !is_reserved(self, ident)
            && (self != SqlDialect::PostgreSql && self != SqlDialect::Oracle
                || ident.chars().all(|c| !c.is_ascii_uppercase()));
        if plain {
            ident.to_string()
        } else {
            self.quote_ident(ident)
        }
    }

    /// A single-quoted SQL string literal with embedded quotes doubled.
    ///
    /// Backslashes are plain characters in every dialect as cbi speaks it: PostgreSQL with
    /// `standard_conforming_strings`, and MySQL/MariaDB sessions with `NO_BACKSLASH_ESCAPES`
    /// (which cbi's connections set), so doubling the quote is the only escape there is.
    pub fn string_literal(self, s: &str) -> String {
        let mut out = String::with_capacity(s.len() + 2);
        out.push('\'');
        for c in s.chars() {
            if c == '\'' {
                out.push('\'');
            }
            out.push(c);
        }
        out.push('\'');
        out
    }
}

fn is_reserved(dialect: SqlDialect, ident: &str) -> bool {
    // Words reserved in at least one of PostgreSQL, MySQL/MariaDB and SQLite: quoting them is
    // always safe, and keeping the list to true reservations keeps generated SQL readable.
    const RESERVED: &[&str] = &[
        "add",
        "all",
        "alter",
        "analyze",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "between",
        "both",
        "by",
        "case",
        "cast",
        "change",
        "check",
        "collate",
        "column",
        "constraint",
        "create",
        "cross",
        "current_date",
        "current_time",
        "current_timestamp",
        "current_user",
        "database",
        "default",
        "delete",
        "desc",
        "describe",
        "distinct",
        "div",
        "do",
        "drop",
        "else",
        "end",
        "except",
        "exists",
        "false",
        "fetch",
        "for",
        "foreign",
        "from",
        "full",
        "grant",
        "group",
        "groups",
        "having",
        "ilike",
        "in",
        "index",
        "inner",
        "insert",
        "intersect",
        "interval",
        "into",
        "is",
        "isnull",
        "join",
        "key",
        "keys",
        "lateral",
        "leading",
        "left",
        "like",
        "limit",
        "match",
        "mod",
        "natural",
        "not",
        "notnull",
        "null",
        "offset",
        "on",
        "only",
        "or",
        "order",
        "outer",
        "over",
        "primary",
        "range",
        "rank",
        "read",
        "references",
        "regexp",
        "rename",
        "replace",
        "returning",
        "right",
        "row",
        "rows",
        "schema",
        "select",
        "set",
        "show",
        "some",
        "table",
        "then",
        "to",
        "trailing",
        "true",
        "union",
        "unique",
        "update",
        "usage",
        "user",
        "using",
        "values",
        "when",
        "where",
        "window",
        "with",
        "write",
    ];
    const ORACLE: &[&str] = &[
        "access", "comment", "date", "file", "level", "mode", "number", "resource", "rowid",
        "session", "share", "size", "start", "uid",
    ];
    let lower = ident.to_ascii_lowercase();
    RESERVED.contains(&lower.as_str())
        || (dialect == SqlDialect::Oracle && ORACLE.contains(&lower.as_str()))
}

impl fmt::Display for SqlDialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SqlDialect {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" | "pg" => Ok(SqlDialect::PostgreSql),
            "mysql" | "mariadb" => Ok(SqlDialect::MySql),
            "sqlite" | "sqlite3" => Ok(SqlDialect::Sqlite),
            "oracle" => Ok(SqlDialect::Oracle),
            "generic" | "ansi" => Ok(SqlDialect::Generic),
            other => Err(crate::Error::Invalid(format!(
                "unknown SQL dialect `{other}`; expected one of postgresql, mysql, sqlite, oracle, generic"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_doubles_the_quote_character() {
        assert_eq!(SqlDialect::Sqlite.quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(SqlDialect::MySql.quote_ident("a`b"), "`a``b`");
        assert_eq!(SqlDialect::PostgreSql.ident("order"), "\"order\"");
        assert_eq!(SqlDialect::PostgreSql.ident("Orders"), "\"Orders\"");
        assert_eq!(SqlDialect::Sqlite.ident("Orders"), "Orders");
        assert_eq!(SqlDialect::Sqlite.ident("unit price"), "\"unit price\"");
        assert_eq!(SqlDialect::Sqlite.ident("name"), "name");
        assert_eq!(SqlDialect::Oracle.ident("level"), "\"level\"");
        assert_eq!(SqlDialect::MySql.ident("rank"), "`rank`");
        assert_eq!(SqlDialect::Sqlite.string_literal("O'Hara"), "'O''Hara'");
        assert_eq!(SqlDialect::MySql.string_literal("a\\b"), "'a\\b'");
    }

    #[test]
    fn parses_names_and_aliases() {
        for d in SqlDialect::ALL {
            assert_eq!(d.name().parse::<SqlDialect>().unwrap(), d);
        }
        assert_eq!("MariaDB".parse::<SqlDialect>().unwrap(), SqlDialect::MySql);
        assert!("db2".parse::<SqlDialect>().is_err());
    }
}
