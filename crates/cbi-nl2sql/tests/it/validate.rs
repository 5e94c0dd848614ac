//! The SQL validator: accepted and refused statements per dialect, messages, LIMIT handling,
//! properties over generated input, and every gold query of Spider dev.

mod accept;
mod limit;
mod props;
mod refuse;
mod spider;

use std::sync::Arc;

use cbi_nl2sql::validate::summarize;
use cbi_nl2sql::{Problem, ProblemKind, SqlValidator, ValidatedSql};
use cbi_types::{
    ColumnSchema, DatabaseSchema, Relationship, RelationshipType, SqlDialect, TableSchema,
};

/// A small shop: mixed-case names (`Orders`, `Region`), a column with a space
/// (`unit price`), foreign keys, two tables sharing `region`/`amount`, and a table in a
/// non-default schema (`finance.targets`).
pub fn fixture() -> Arc<DatabaseSchema> {
    fn table(schema: Option<&str>, name: &str, cols: &[(&str, &str)], pk: &[&str]) -> TableSchema {
        TableSchema {
            name: name.into(),
            schema: schema.map(Into::into),
            columns: cols
                .iter()
                .map(|(n, t)| ColumnSchema {
                    name: (*n).into(),
                    data_type: (*t).into(),
                    nullable: true,
                    ..Default::default()
                })
                .collect(),
            primary_key: pk.iter().map(|c| (*c).into()).collect(),
            ..Default::default()
        }
    }
    fn fk(from: &str, col: &str, to: &str, to_col: &str) -> Relationship {
        Relationship {
            from_table: from.into(),
            from_columns: vec![col.into()],
            to_table: to.into(),
            to_columns: vec![to_col.into()],
            relationship_type: RelationshipType::ManyToOne,
            inferred: false,
        }
    }
    Arc::new(DatabaseSchema {
        name: "shop".into(),
        dialect: SqlDialect::PostgreSql,
        tables: vec![
            table(
                None,
                "customers",
                &[
                    ("id", "integer"),
                    ("name", "text"),
                    ("Region", "text"),
                    ("email", "text"),
                    ("created_at", "timestamp"),
                ],
                &["id"],
            ),
            table(
                None,
                "Orders",
                &[
                    ("id", "integer"),
                    ("customer_id", "integer"),
                    ("order_date", "date"),
                    ("total", "numeric(10,2)"),
                    ("status", "text"),
                ],
                &["id"],
            ),
            table(
                None,
                "order_items",
                &[
                    ("order_id", "integer"),
                    ("product_id", "integer"),
                    ("quantity", "integer"),
                    ("unit price", "numeric(10,2)"),
                ],
                &["order_id", "product_id"],
            ),
            table(
                None,
                "products",
                &[
                    ("id", "integer"),
                    ("name", "text"),
                    ("category", "text"),
                    ("price", "numeric(10,2)"),
                ],
                &["id"],
            ),
            table(
                None,
                "sales",
                &[
                    ("id", "integer"),
                    ("region", "text"),
                    ("amount", "numeric(10,2)"),
                    ("sold_at", "date"),
                ],
                &["id"],
            ),
            table(
                Some("finance"),
                "targets",
                &[
                    ("region", "text"),
                    ("year", "integer"),
                    ("amount", "numeric"),
                ],
                &[],
            ),
        ],
        relationships: vec![
            fk("Orders", "customer_id", "customers", "id"),
            fk("order_items", "order_id", "Orders", "id"),
            fk("order_items", "product_id", "products", "id"),
        ],
    })
}

pub fn validator(d: SqlDialect) -> SqlValidator {
    SqlValidator::new(d, fixture())
}

/// Validates `sql`, failing the test with every problem when it is refused. The output must
/// validate again to itself (it re-parses, and the limit is not added twice).
pub fn accepts(d: SqlDialect, sql: &str) -> ValidatedSql {
    let v = validator(d);
    let ok = v
        .validate(sql)
        .unwrap_or_else(|p| panic!("{d}: refused `{sql}`: {}", summarize(&p)));
    let again = v
        .validate(&ok.sql)
        .unwrap_or_else(|p| panic!("{d}: output `{}` refused: {}", ok.sql, summarize(&p)));
    assert_eq!(again.sql, ok.sql, "{d}: output is not stable");
    assert!(!again.limit_added, "{d}: limit added twice to `{}`", ok.sql);
    ok
}

/// Validates `sql`, failing the test when it is accepted.
pub fn refuses(d: SqlDialect, sql: &str) -> Vec<Problem> {
    match validator(d).validate(sql) {
        Ok(v) => panic!("{d}: accepted `{sql}` as `{}`", v.sql),
        Err(p) => {
            assert!(!p.is_empty(), "{d}: refused `{sql}` without a problem");
            p
        }
    }
}

/// The problem kinds found, in order.
pub fn kinds(problems: &[Problem]) -> Vec<ProblemKind> {
    problems.iter().map(|p| p.kind).collect()
}

/// Refused with exactly these kinds of problems, in this order.
pub fn check(d: SqlDialect, sql: &str, expect: &[ProblemKind]) -> Vec<Problem> {
    let p = refuses(d, sql);
    assert_eq!(kinds(&p), expect, "{d}: `{sql}`: {}", summarize(&p));
    p
}
