//! Every statement the crate renders parses in its dialect and prints back the same.

use cbi_demo::{Table, ddl, insert_statements};
use cbi_types::SqlDialect;
use sqlparser::dialect::{Dialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

use crate::data::tiny;

fn dialects() -> [(SqlDialect, Box<dyn Dialect>); 3] {
    [
        (SqlDialect::Sqlite, Box::new(SQLiteDialect {})),
        (SqlDialect::PostgreSql, Box::new(PostgreSqlDialect {})),
        (SqlDialect::MySql, Box::new(MySqlDialect {})),
    ]
}

/// Parses `sql` as exactly one statement, prints it, and parses the print again: the two trees
/// must be equal. Returns the print.
fn round_trip(dialect: &dyn Dialect, sql: &str) -> String {
    let parsed = Parser::parse_sql(dialect, sql).unwrap_or_else(|e| panic!("{e}: {sql}"));
    assert_eq!(parsed.len(), 1, "{sql}");
    let printed = parsed[0].to_string();
    let again = Parser::parse_sql(dialect, &printed).unwrap_or_else(|e| panic!("{e}: {printed}"));
    assert_eq!(parsed, again, "{sql}");
    printed
}

#[test]
fn ddl_parses_in_every_dialect() {
    for (ours, theirs) in dialects() {
        let statements = ddl(ours);
        assert_eq!(statements.len(), 17);
        for sql in &statements {
            round_trip(theirs.as_ref(), sql);
        }
    }
}

#[test]
fn inserts_parse_and_print_back_verbatim() {
    let d = tiny();
    for (ours, theirs) in dialects() {
        let mut statements: Vec<String> = Vec::new();
        statements.extend(insert_statements(ours, &d.regions, 10));
        statements.extend(insert_statements(ours, &d.stores, 10).take(1));
        statements.extend(insert_statements(ours, &d.customers, 200));
        statements.extend(insert_statements(ours, &d.categories, 10).take(2));
        statements.extend(insert_statements(ours, &d.products, 100));
        statements.extend(insert_statements(ours, &d.orders, 10).take(1));
        statements.extend(insert_statements(ours, &d.order_items, 10).take(1));
        statements.extend(insert_statements(ours, &d.returns, 10).take(1));
        assert!(statements.iter().any(|s| s.contains("'Men''s Clothing'")));
        assert!(statements.iter().any(|s| s.contains("'O''Brien'")));
        for sql in &statements {
            assert_eq!(&round_trip(theirs.as_ref(), sql), sql, "{ours}");
        }
    }
    let first = insert_statements(SqlDialect::Sqlite, &d.regions, 10)
        .next()
        .unwrap();
    assert_eq!(
        first,
        format!(
            "INSERT INTO regions ({}) VALUES (1, 'North'), (2, 'South'), (3, 'East'), (4, 'West'), (5, 'Central')",
            Table::Regions.columns().join(", ")
        )
    );
}
