//! Properties over generated input: nothing panics; valid SELECTs over the fixture always
//! validate and their output re-parses; a misspelled name is always caught.

use cbi_nl2sql::ProblemKind;
use cbi_nl2sql::sql::parser_dialect;
use cbi_nl2sql::validate::summarize;
use cbi_types::{DatabaseSchema, SqlDialect, TableSchema, TypeClass};
use proptest::prelude::*;
use sqlparser::parser::Parser;

use super::{fixture, validator};

fn dialect() -> impl Strategy<Value = SqlDialect> {
    prop::sample::select(SqlDialect::ALL.to_vec())
}

/// Words and symbols that make up SQL, hostile ones included, for statements that are
/// almost right.
const SOUP: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "JOIN",
    "ON",
    "USING",
    "GROUP",
    "BY",
    "ORDER",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "UNION",
    "ALL",
    "WITH",
    "AS",
    "IN",
    "NOT",
    "AND",
    "OR",
    "EXISTS",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "CAST",
    "INTERVAL",
    "DISTINCT",
    "OVER",
    "PARTITION",
    "INTO",
    "INSERT",
    "UPDATE",
    "DELETE",
    "VALUES",
    "SET",
    "FOR",
    "LATERAL",
    "RECURSIVE",
    "NATURAL",
    "(",
    ")",
    ",",
    ".",
    "*",
    "=",
    "<",
    ">",
    "+",
    "-",
    "||",
    ";",
    "::",
    "?",
    "$1",
    "[",
    "]",
    "sales",
    "customers",
    "Orders",
    "order_items",
    "finance",
    "targets",
    "region",
    "amount",
    "id",
    "name",
    "\"unit price\"",
    "`quantity`",
    "\"USA\"",
    "'x'",
    "1",
    "2.5",
    "s",
    "c",
    "count",
    "sum",
    "pg_sleep",
    "sleep",
    "generate_series",
    "now",
    "NULL",
    "TRUE",
    "--",
    "/*",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(SOUP), 0..40).prop_map(|w| w.join(" "))
}

/// Reads choices from a byte string, so one generated value drives a whole query and the
/// same bytes rebuild the same query.
struct Choices<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl Choices<'_> {
    fn below(&mut self, n: usize) -> usize {
        let b = self
            .bytes
            .get(self.at % self.bytes.len().max(1))
            .copied()
            .unwrap_or(0);
        self.at += 1;
        usize::from(b) % n.max(1)
    }

    fn flip(&mut self) -> bool {
        self.below(2) == 1
    }
}

/// Builds a valid SELECT over the fixture, optionally misspelling the `mutate`-th column
/// reference.
struct Builder<'b> {
    d: SqlDialect,
    schema: &'b DatabaseSchema,
    c: Choices<'b>,
    refs: usize,
    mutate: Option<usize>,
}

impl Builder<'_> {
    fn ident(&self, name: &str) -> String {
        let q = self.d.ident(name);
        // In SQLite an unknown "name" would be read as a string; quote names with
        // backticks there so a misspelling stays a misspelled name.
        if self.d == SqlDialect::Sqlite && q.starts_with('"') {
            format!("`{name}`")
        } else {
            q
        }
    }

    fn col(&mut self, qual: Option<&str>, name: &str) -> String {
        let mut name = name.to_string();
        if Some(self.refs) == self.mutate {
            name.push_str("_zz");
        }
        self.refs += 1;
        let c = self.ident(&name);
        match qual {
            Some(q) => format!("{q}.{c}"),
            None => c,
        }
    }

    fn table(&self, t: &TableSchema) -> String {
        match &t.schema {
            Some(s) => format!("{}.{}", self.ident(s), self.ident(&t.name)),
            None => self.ident(&t.name),
        }
    }

    fn pick_cols(&mut self, t: &TableSchema) -> Vec<String> {
        let n = 1 + self.c.below(t.columns.len());
        let start = self.c.below(t.columns.len());
        (0..n)
            .map(|i| t.columns[(start + i) % t.columns.len()].name.clone())
            .collect()
    }

    fn condition(&mut self, qual: Option<&str>, t: &TableSchema) -> String {
        let col = &t.columns[self.c.below(t.columns.len())];
        let (name, class) = (col.name.clone(), col.type_class());
        let c = self.col(qual, &name);
        match (class, self.c.below(3)) {
            (_, 0) => format!("{c} IS NOT NULL"),
            (TypeClass::Integer | TypeClass::Decimal | TypeClass::Float, _) => format!("{c} > 3"),
            _ => format!("{c} = 'x'"),
        }
    }

    /// One SELECT without ORDER BY or LIMIT.
    fn core(&mut self) -> (String, Vec<String>) {
        let schema = self.schema;
        if self.c.flip() && !schema.relationships.is_empty() {
            let r = &schema.relationships[self.c.below(schema.relationships.len())];
            let (Some(ft), Some(tt)) = (schema.table(&r.from_table), schema.table(&r.to_table))
            else {
                unreachable!("fixture relationships name fixture tables")
            };
            let (fa, ta) = if self.c.flip() {
                ("T1", "T2")
            } else {
                ("f", "t")
            };
            let mut select = Vec::new();
            for c in self.pick_cols(ft) {
                select.push(self.col(Some(fa), &c));
            }
            for c in self.pick_cols(tt) {
                select.push(self.col(Some(ta), &c));
            }
            let on_from = self.col(Some(fa), &r.from_columns[0]);
            let on_to = self.col(Some(ta), &r.to_columns[0]);
            let mut sql = format!(
                "SELECT {} FROM {} {fa} JOIN {} {ta} ON {on_from} = {on_to}",
                select.join(", "),
                self.table(ft),
                self.table(tt)
            );
            if self.c.flip() {
                let cond = self.condition(Some(ta), tt);
                sql.push_str(&format!(" WHERE {cond}"));
            }
            (sql, select)
        } else {
            let t = &schema.tables[self.c.below(schema.tables.len())];
            let alias = self.c.flip().then_some("a");
            let grouped = self.c.below(4) == 0;
            let mut cols = self.pick_cols(t);
            if grouped {
                cols.truncate(1);
            }
            let mut select = Vec::new();
            for c in cols {
                let qual = if self.c.flip() { alias } else { None };
                select.push(self.col(qual, &c));
            }
            if grouped {
                select.push("count(*) AS n".to_string());
            }
            let mut sql = format!("SELECT {} FROM {}", select.join(", "), self.table(t));
            if let Some(a) = alias {
                sql.push_str(&format!(" {a}"));
            }
            if self.c.flip() {
                let cond = self.condition(alias, t);
                sql.push_str(&format!(" WHERE {cond}"));
            }
            if grouped {
                sql.push_str(&format!(" GROUP BY {}", select[0]));
                if self.c.flip() {
                    sql.push_str(" HAVING count(*) > 1");
                }
            }
            (sql, select)
        }
    }

    fn query(&mut self) -> String {
        let (mut sql, select) = self.core();
        match self.c.below(4) {
            0 => {
                let (other, _) = self.core();
                sql = format!("{sql} UNION ALL {other}");
            }
            1 => sql = format!("SELECT * FROM ({sql}) sub"),
            _ => {
                if self.c.flip() {
                    sql.push_str(&format!(" ORDER BY {} DESC", select[0]));
                }
            }
        }
        if self.c.flip() {
            let n = 1 + self.c.below(5000);
            if self.d == SqlDialect::Oracle {
                sql.push_str(&format!(" FETCH FIRST {n} ROWS ONLY"));
            } else {
                sql.push_str(&format!(" LIMIT {n}"));
            }
        }
        sql
    }
}

fn build(
    d: SqlDialect,
    schema: &DatabaseSchema,
    bytes: &[u8],
    mutate: Option<usize>,
) -> (String, usize) {
    let mut b = Builder {
        d,
        schema,
        c: Choices { bytes, at: 0 },
        refs: 0,
        mutate,
    };
    let sql = b.query();
    (sql, b.refs)
}

// 256 cases each by default; `PROPTEST_CASES=100000` for a deeper run.
proptest! {
    #[test]
    fn arbitrary_text_never_panics(d in dialect(), text in any::<String>()) {
        let _ = validator(d).validate(&text);
    }

    #[test]
    fn sql_like_text_never_panics(d in dialect(), text in soup()) {
        if let Ok(ok) = validator(d).validate(&text) {
            // Whatever passes re-parses and passes again.
            prop_assert!(validator(d).validate(&ok.sql).is_ok(), "{} -> {}", text, ok.sql);
        }
    }

    #[test]
    fn generated_selects_validate_and_reparse(d in dialect(), bytes in prop::collection::vec(any::<u8>(), 8..64)) {
        let schema = fixture();
        let (sql, _) = build(d, &schema, &bytes, None);
        let v = validator(d);
        let ok = v.validate(&sql).map_err(|p| TestCaseError::fail(format!("{d}: {sql}: {}", summarize(&p))))?;
        let parsed = Parser::parse_sql(parser_dialect(d).as_ref(), &ok.sql);
        prop_assert!(matches!(parsed.as_deref(), Ok([_])), "{}: {} does not re-parse", d, ok.sql);
        let again = v.validate(&ok.sql).map_err(|p| TestCaseError::fail(format!("{d}: {}: {}", ok.sql, summarize(&p))))?;
        prop_assert_eq!(&again.sql, &ok.sql);
        prop_assert!(!again.limit_added);
        prop_assert!(ok.limit.is_some());
    }

    #[test]
    fn misspelled_columns_are_always_caught(d in dialect(), bytes in prop::collection::vec(any::<u8>(), 8..64), which in any::<prop::sample::Index>()) {
        let schema = fixture();
        let (_, refs) = build(d, &schema, &bytes, None);
        let (sql, _) = build(d, &schema, &bytes, Some(which.index(refs)));
        let problems = match validator(d).validate(&sql) {
            Ok(ok) => return Err(TestCaseError::fail(format!("{d}: accepted {sql} as {}", ok.sql))),
            Err(p) => p,
        };
        prop_assert!(
            problems.iter().all(|p| matches!(p.kind, ProblemKind::UnknownColumn | ProblemKind::UnknownTable)),
            "{}: {}: {}", d, sql, summarize(&problems)
        );
    }
}

/// Text with every character that has a meaning inside or around a SQL string literal.
fn hostile_text() -> impl Strategy<Value = String> {
    let chars = prop::sample::select(vec![
        '\'', '\\', '"', '`', '-', '/', '*', '#', ';', '$', '%', '_', 'a', 'Z', ' ', '\n', '\r',
        '\t', '\0', 'é', '\u{202e}', '😀', ')', '(',
    ]);
    prop::collection::vec(chars, 0..24).prop_map(|v| v.into_iter().collect())
}

/// The string literals of a statement, in order.
fn literals(sql: &str, d: SqlDialect) -> Vec<String> {
    use sqlparser::ast::{Expr, Value, visit_expressions};
    let stmts = Parser::parse_sql(parser_dialect(d).as_ref(), sql).unwrap_or_default();
    let mut out = Vec::new();
    let _ = visit_expressions(&stmts, |e| {
        if let Expr::Value(v) = e {
            if let Value::SingleQuotedString(s) = &v.value {
                out.push(s.clone());
            }
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    out
}

proptest! {
    /// Whatever text a question or a semantic file puts where the generator writes a value —
    /// quotes, backslashes, comment starters, NULs, right-to-left marks — the statement the
    /// validator hands the database holds exactly that text as one literal, in every dialect.
    #[test]
    fn any_text_placed_as_a_literal_reads_back_as_itself(
        d in dialect(),
        text in prop_oneof![hostile_text(), any::<String>()],
    ) {
        let lit = d.string_literal(&text);
        let written = format!("SELECT {lit} AS x FROM sales WHERE region = {lit}");
        let canonical = cbi_nl2sql::sql::canonical(&written, d)
            .map_err(|e| TestCaseError::fail(format!("{d}: {written}: {e}")))?;
        let ok = validator(d)
            .validate(&canonical)
            .map_err(|p| TestCaseError::fail(format!("{d}: {canonical}: {}", summarize(&p))))?;
        prop_assert_eq!(literals(&ok.sql, d), vec![text.clone(), text.clone()], "{}: {}", d, ok.sql);
    }
}
