//! Shared code of cbi's fuzz targets: the retail demo's schema, the invariant every accepted
//! statement must satisfy, a model of how each database splits text into literals, and the
//! grammar-based query generator.
//!
//! The invariant, for a statement that [`SqlValidator::validate`] accepted in dialect `d`
//! (`v = ValidatedSql`):
//!
//! - **(a)** `v.sql` parses with [`parser_dialect`]`(d)` into exactly one `Statement::Query`;
//! - **(b)** printing that re-parsed statement gives `v.sql` again: with the validator's own
//!   printer ([`print_statement`]) always, and with sqlparser's `to_string()` whenever no
//!   single-quoted literal holds a quote or a backslash (the case `print_statement` exists for);
//! - **(c)** validating `v.sql` again is accepted and yields the same text and limit;
//! - **(d)** every function called anywhere in the re-parsed tree (`Expr::Function`,
//!   `FROM f(…)`, `FROM t(…)`, `IN f(…)`, `UNNEST`, `JSON_TABLE`) is on the dialect's
//!   allow-list ([`function_allowed`] or [`table_function_allowed`]) and is unqualified or
//!   qualified only with the dialect's built-in schema (`pg_catalog` for PostgreSQL), and no
//!   `(…).field` selection is left in it;
//! - **(e)** the database's own lexer (modelled in [`lexmodel`] for PostgreSQL with
//!   `standard_conforming_strings`, MySQL with `NO_BACKSLASH_ESCAPES`, SQLite and Oracle)
//!   finds in `v.sql` no comment, nothing unterminated, and exactly the string literals and
//!   quoted identifiers sqlparser's tokenizer finds, at the same places — the part of "what
//!   runs is what was checked" that a round trip through sqlparser alone cannot see.
//!
//! A failure panics with the dialect, the input and the accepted text, so libFuzzer records
//! the input as a crash.

pub mod grammar;
pub mod lexmodel;

use std::ops::ControlFlow;
use std::sync::{Arc, LazyLock};

use cbi_nl2sql::dialects::print_statement;
use cbi_nl2sql::{
    SqlValidator, ValidatedSql, function_allowed, parser_dialect, table_function_allowed,
};
use cbi_types::{
    ColumnSchema, DatabaseSchema, Relationship, RelationshipType, SqlDialect, TableSchema,
};
use sqlparser::ast::{
    AccessExpr, Expr, InTarget, ObjectName, ObjectNamePart, Statement, TableFactor, Value, Visit,
    Visitor,
};
use sqlparser::parser::Parser;

/// The dialects whose databases [`lexmodel`] models; the fuzz targets check these fully.
pub const DIALECTS: [SqlDialect; 4] = [
    SqlDialect::Sqlite,
    SqlDialect::PostgreSql,
    SqlDialect::MySql,
    SqlDialect::Oracle,
];

/// The retail demo's tables: `(table, [(column, type)], [(fk column, parent)])`, as
/// `crates/cbi-demo/src/sql.rs` defines them.
pub const DEMO_TABLES: &[(&str, &[(&str, &str)], &[(&str, &str)])] = &[
    (
        "regions",
        &[("region_id", "INTEGER"), ("name", "VARCHAR(40)")],
        &[],
    ),
    (
        "stores",
        &[
            ("store_id", "INTEGER"),
            ("name", "VARCHAR(80)"),
            ("city", "VARCHAR(60)"),
            ("region_id", "INTEGER"),
            ("store_type", "VARCHAR(20)"),
            ("opened_on", "DATE"),
        ],
        &[("region_id", "regions")],
    ),
    (
        "customers",
        &[
            ("customer_id", "INTEGER"),
            ("first_name", "VARCHAR(40)"),
            ("last_name", "VARCHAR(40)"),
            ("email", "VARCHAR(120)"),
            ("city", "VARCHAR(60)"),
            ("region_id", "INTEGER"),
            ("segment", "VARCHAR(20)"),
            ("signup_date", "DATE"),
            ("birth_year", "INTEGER"),
        ],
        &[("region_id", "regions")],
    ),
    (
        "categories",
        &[
            ("category_id", "INTEGER"),
            ("name", "VARCHAR(40)"),
            ("department", "VARCHAR(40)"),
        ],
        &[],
    ),
    (
        "products",
        &[
            ("product_id", "INTEGER"),
            ("name", "VARCHAR(120)"),
            ("category_id", "INTEGER"),
            ("brand", "VARCHAR(40)"),
            ("unit_price", "DECIMAL(10,2)"),
            ("unit_cost", "DECIMAL(10,2)"),
            ("launched_on", "DATE"),
        ],
        &[("category_id", "categories")],
    ),
    (
        "orders",
        &[
            ("order_id", "INTEGER"),
            ("customer_id", "INTEGER"),
            ("store_id", "INTEGER"),
            ("order_date", "DATE"),
            ("status", "VARCHAR(20)"),
            ("channel", "VARCHAR(20)"),
            ("shipping_cost", "DECIMAL(10,2)"),
        ],
        &[("customer_id", "customers"), ("store_id", "stores")],
    ),
    (
        "order_items",
        &[
            ("order_item_id", "INTEGER"),
            ("order_id", "INTEGER"),
            ("product_id", "INTEGER"),
            ("quantity", "INTEGER"),
            ("unit_price", "DECIMAL(10,2)"),
            ("discount", "DECIMAL(4,2)"),
        ],
        &[("order_id", "orders"), ("product_id", "products")],
    ),
    (
        "returns",
        &[
            ("return_id", "INTEGER"),
            ("order_item_id", "INTEGER"),
            ("return_date", "DATE"),
            ("reason", "VARCHAR(60)"),
            ("refund_amount", "DECIMAL(10,2)"),
        ],
        &[("order_item_id", "order_items")],
    ),
];

/// The demo's schema as the engine would introspect it for `dialect`.
pub fn demo_schema(dialect: SqlDialect) -> DatabaseSchema {
    let tables = DEMO_TABLES
        .iter()
        .map(|(name, cols, _)| TableSchema {
            name: (*name).to_string(),
            columns: cols
                .iter()
                .map(|(c, t)| ColumnSchema {
                    name: (*c).to_string(),
                    data_type: (*t).to_string(),
                    nullable: false,
                    default_value: None,
                    comment: None,
                })
                .collect(),
            primary_key: vec![cols[0].0.to_string()],
            ..TableSchema::default()
        })
        .collect();
    let relationships = DEMO_TABLES
        .iter()
        .flat_map(|(name, _, fks)| {
            fks.iter().map(move |(col, parent)| Relationship {
                from_table: (*name).to_string(),
                from_columns: vec![(*col).to_string()],
                to_table: (*parent).to_string(),
                to_columns: vec![(*col).to_string()],
                relationship_type: RelationshipType::ManyToOne,
                inferred: false,
            })
        })
        .collect();
    DatabaseSchema {
        name: "retail".to_string(),
        dialect,
        tables,
        relationships,
    }
}

/// One validator per dialect over the demo schema, built once per process.
pub fn validator(d: SqlDialect) -> &'static SqlValidator {
    static VALIDATORS: LazyLock<Vec<(SqlDialect, SqlValidator)>> = LazyLock::new(|| {
        SqlDialect::ALL
            .iter()
            .map(|&d| (d, SqlValidator::new(d, Arc::new(demo_schema(d)))))
            .collect()
    });
    &VALIDATORS
        .iter()
        .find(|(x, _)| *x == d)
        .expect("every dialect has a validator")
        .1
}

/// Validates `sql` in `d` and, when it is accepted, checks the invariant (panics on a
/// violation). Returns whether it was accepted.
pub fn validate_and_check(d: SqlDialect, sql: &str) -> bool {
    match validator(d).validate(sql) {
        Ok(v) => {
            if let Err(why) = check_accepted(d, &v) {
                panic!(
                    "INVARIANT VIOLATED in {d}: {why}\n--- input ---\n{sql}\n--- accepted as ---\n{}\n",
                    v.sql
                );
            }
            true
        }
        Err(problems) => {
            assert!(!problems.is_empty(), "{d}: refused with no problem: {sql}");
            false
        }
    }
}

/// The invariant (a)–(e) for an accepted statement.
pub fn check_accepted(d: SqlDialect, v: &ValidatedSql) -> Result<(), String> {
    let dialect = parser_dialect(d);
    // (a) one query
    let mut stmts = Parser::parse_sql(dialect.as_ref(), &v.sql)
        .map_err(|e| format!("(a) the accepted text does not parse again: {e}"))?;
    if stmts.len() != 1 {
        return Err(format!(
            "(a) the accepted text parses into {} statements",
            stmts.len()
        ));
    }
    let stmt = stmts.remove(0);
    if !matches!(stmt, Statement::Query(_)) {
        return Err("(a) the accepted text is not a query".to_string());
    }
    // (b) printing the re-parsed statement gives the text back
    let printed = print_statement(&stmt, d);
    if printed != v.sql {
        return Err(format!(
            "(b) print_statement of the re-parsed statement differs:\n{printed}"
        ));
    }
    if !has_quote_or_backslash_literal(&stmt) {
        let shown = stmt.to_string();
        if shown != v.sql {
            return Err(format!(
                "(b) to_string() of the re-parsed statement differs:\n{shown}"
            ));
        }
    }
    // (c) idempotence
    match validator(d).validate(&v.sql) {
        Ok(again) if again.sql == v.sql && again.limit == v.limit => {}
        Ok(again) => {
            return Err(format!(
                "(c) validating the accepted text again gives other text or limit ({:?} vs {:?}):\n{}",
                again.limit, v.limit, again.sql
            ));
        }
        Err(p) => {
            return Err(format!(
                "(c) validating the accepted text again refuses it: {}",
                cbi_nl2sql::validate::summarize(&p)
            ));
        }
    }
    // (d) functions
    let mut calls = Calls {
        dialect: d,
        bad: Vec::new(),
    };
    let _ = stmt.visit(&mut calls);
    if !calls.bad.is_empty() {
        return Err(format!(
            "(d) function calls not on the allow-list: {}",
            calls.bad.join(", ")
        ));
    }
    // (e) the database's lexer agrees with sqlparser's on the literals
    if let Some(model) = lexmodel::Model::of(d) {
        model.compare(&v.sql, dialect.as_ref())?;
    }
    Ok(())
}

fn has_quote_or_backslash_literal(stmt: &Statement) -> bool {
    struct Find(bool);
    impl Visitor for Find {
        type Break = ();
        fn pre_visit_value(&mut self, v: &sqlparser::ast::ValueWithSpan) -> ControlFlow<()> {
            if let Value::SingleQuotedString(s) = &v.value {
                if s.contains('\'') || s.contains('\\') {
                    self.0 = true;
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut f = Find(false);
    let _ = stmt.visit(&mut f);
    f.0
}

/// Collects every function call that the allow-list does not cover.
struct Calls {
    dialect: SqlDialect,
    bad: Vec<String>,
}

impl Calls {
    fn check(&mut self, name: &ObjectName, table: bool) {
        let parts: Vec<Option<&str>> = name
            .0
            .iter()
            .map(|p| match p {
                ObjectNamePart::Identifier(i) => Some(i.value.as_str()),
                _ => None,
            })
            .collect();
        let qualifier_ok = match parts.as_slice() {
            [_] => true,
            [Some(schema), _] => {
                self.dialect == SqlDialect::PostgreSql && schema.eq_ignore_ascii_case("pg_catalog")
            }
            _ => false,
        };
        let last = parts.last().copied().flatten().unwrap_or("");
        let listed = table_function_allowed(self.dialect, last)
            || (!table && function_allowed(self.dialect, last));
        if !qualifier_ok || !listed {
            self.bad.push(format!(
                "{}`{name}`",
                if table { "table function " } else { "" }
            ));
        }
    }
}

impl Visitor for Calls {
    type Break = ();

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        match e {
            Expr::Function(f) => self.check(&f.name, false),
            Expr::In {
                target:
                    InTarget::Table {
                        name,
                        args: Some(_),
                    },
                ..
            } => self.check(name, true),
            Expr::CompoundFieldAccess { access_chain, .. }
                if access_chain.iter().any(|a| matches!(a, AccessExpr::Dot(_))) =>
            {
                self.bad.push(format!("field selection `{e}`"));
            }
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
            | TableFactor::Function { name, .. } => self.check(name, true),
            TableFactor::UNNEST { .. } => {
                if !table_function_allowed(self.dialect, "unnest") {
                    self.bad.push("UNNEST".to_string());
                }
            }
            TableFactor::JsonTable { .. } => {
                if !table_function_allowed(self.dialect, "json_table") {
                    self.bad.push("JSON_TABLE".to_string());
                }
            }
            TableFactor::TableFunction { .. } | TableFactor::OpenJsonTable { .. } => {
                self.bad.push(format!("unchecked table function `{tf}`"));
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}
