//! Checks every backend must pass on the same fixture schema.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use cbi_types::{
    Connection, DatabaseSchema, Error, QueryLimits, RelationshipType, TableKind, Value,
};

/// Tables and views of the fixture, in the order introspection must return them.
pub const FIXTURE_TABLES: [&str; 8] = [
    "big_orders",
    "customers",
    "numbers",
    "order_lines",
    "orders",
    "products",
    "profiles",
    "ten",
];

/// `INSERT` statements shared by every backend (standard SQL).
pub fn fixture_rows() -> Vec<String> {
    let numbers: Vec<String> = (1..=1000).map(|n| format!("({n})")).collect();
    let ten: Vec<String> = (1..=10).map(|n| format!("({n})")).collect();
    vec![
        "INSERT INTO customers (id, name, email, created) VALUES \
         (1, 'Ada', 'ada@example.com', '2024-01-05'), (2, 'Grace', NULL, '2024-02-29')"
            .into(),
        "INSERT INTO orders (id, customer_id, total, placed_at, paid) VALUES \
         (10, 1, 250.50, '2024-03-01 10:30:00', TRUE), (11, 2, 12.25, '2024-03-02 08:00:00', FALSE)"
            .into(),
        "INSERT INTO products (sku, region, price) VALUES ('A1', 'eu', 9.5), ('A1', 'us', 10.5)".into(),
        "INSERT INTO order_lines (order_id, line_no, sku, region, qty) VALUES (10, 1, 'A1', 'eu', 2)"
            .into(),
        "INSERT INTO profiles (customer_id, bio) VALUES (1, 'first programmer')".into(),
        format!("INSERT INTO numbers (n) VALUES {}", numbers.join(", ")),
        format!("INSERT INTO ten (n) VALUES {}", ten.join(", ")),
    ]
}

/// What introspection must find in the fixture, whatever the backend.
pub fn check_fixture_schema(s: &DatabaseSchema) {
    let names: Vec<&str> = s
        .tables
        .iter()
        .filter(|t| t.schema.is_none())
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(names, FIXTURE_TABLES, "tables: {names:?}");

    let view = s.table("big_orders").unwrap();
    assert_eq!(view.kind, TableKind::View);
    assert_eq!(
        view.columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["id", "total"]
    );
    assert!(
        s.tables
            .iter()
            .filter(|t| t.name != "big_orders")
            .all(|t| t.kind == TableKind::Table)
    );

    let customers = s.table("customers").unwrap();
    let cols: Vec<&str> = customers.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(cols, ["id", "name", "email", "created"]);
    assert_eq!(customers.primary_key, ["id"]);
    assert!(!customers.column("name").unwrap().nullable);
    assert!(customers.column("email").unwrap().nullable);
    assert!(!customers.column("id").unwrap().nullable);
    assert!(
        customers
            .column("name")
            .unwrap()
            .data_type
            .to_lowercase()
            .contains("char"),
        "{:?}",
        customers.column("name")
    );
    assert!(
        customers
            .column("created")
            .unwrap()
            .data_type
            .to_lowercase()
            .contains("date")
    );
    assert!(
        customers
            .indexes
            .iter()
            .any(|i| i.unique && i.columns == ["email"]),
        "{:?}",
        customers.indexes
    );

    let orders = s.table("orders").unwrap();
    let idx = orders
        .indexes
        .iter()
        .find(|i| i.name == "orders_customer")
        .unwrap();
    assert_eq!(idx.columns, ["customer_id"]);
    assert!(!idx.unique);

    assert_eq!(s.table("products").unwrap().primary_key, ["sku", "region"]);
    let lines = s.table("order_lines").unwrap();
    assert_eq!(lines.primary_key, ["order_id", "line_no"]);
    let qty = lines.column("qty").unwrap();
    assert!(
        qty.default_value
            .as_deref()
            .is_some_and(|d| d.contains('1')),
        "{qty:?}"
    );

    let rel = |from: &str, to: &str| {
        s.relationships
            .iter()
            .find(|r| r.from_table == from && r.to_table == to)
            .unwrap_or_else(|| panic!("no {from} -> {to} in {:#?}", s.relationships))
    };
    let r = rel("orders", "customers");
    assert_eq!(
        (r.from_columns.as_slice(), r.to_columns.as_slice()),
        (&["customer_id".to_string()][..], &["id".to_string()][..])
    );
    assert_eq!(r.relationship_type, RelationshipType::ManyToOne);
    let r = rel("order_lines", "products");
    assert_eq!(r.from_columns, ["sku", "region"]);
    assert_eq!(r.to_columns, ["sku", "region"]);
    assert_eq!(r.relationship_type, RelationshipType::ManyToOne);
    assert_eq!(
        rel("order_lines", "orders").relationship_type,
        RelationshipType::ManyToOne
    );
    assert_eq!(
        rel("profiles", "customers").relationship_type,
        RelationshipType::OneToOne
    );
    assert!(s.relationships.iter().all(|r| !r.inferred));
    assert_eq!(s.relationships.len(), 4, "{:#?}", s.relationships);

    assert!(s.table("numbers").unwrap().row_count.is_some_and(|n| n > 0));
    assert_eq!(view.row_count, None);
}

/// Row counts of the fixture's tables, through whatever connection the caller trusts (the
/// admin one), to prove refused writes changed nothing.
pub const COUNT_ALL: &str = "SELECT (SELECT COUNT(*) FROM customers) + (SELECT COUNT(*) FROM orders) \
     + (SELECT COUNT(*) FROM order_lines) + (SELECT COUNT(*) FROM numbers)";
pub const FIXTURE_ROW_TOTAL: i64 = 2 + 2 + 1 + 1000;

/// Writes every backend must refuse.
pub const WRITES: [&str; 9] = [
    "INSERT INTO customers (id, name) VALUES (3, 'Eve')",
    "UPDATE orders SET total = 0",
    "DELETE FROM numbers",
    "CREATE TABLE intruder (a INTEGER)",
    "DROP TABLE numbers",
    "DROP VIEW big_orders",
    "ALTER TABLE customers ADD COLUMN x INTEGER",
    "CREATE INDEX sneaky ON numbers (n)",
    "TRUNCATE TABLE numbers",
];

/// Sends each statement and requires a refusal (read-only or a database error), never rows.
pub async fn assert_all_refused(conn: &dyn Connection, statements: &[&str]) {
    for sql in statements {
        match conn.query(sql, QueryLimits::rows(10)).await {
            Ok(r) => panic!("{sql:?} was accepted: {r:?}"),
            Err(Error::ReadOnly(_) | Error::Query { .. } | Error::Invalid(_)) => {}
            Err(other) => panic!("{sql:?} failed oddly: {other:?}"),
        }
    }
}

/// Several statements in one call are refused, whatever the second one is.
pub async fn assert_one_statement_only(conn: &dyn Connection) {
    for sql in [
        "SELECT 1; SELECT 2",
        "SELECT 1; DELETE FROM numbers",
        "SELECT n FROM ten; DROP TABLE ten;",
    ] {
        let e = conn.query(sql, QueryLimits::rows(10)).await.unwrap_err();
        assert!(matches!(e, Error::Invalid(_)), "{sql}: {e:?}");
    }
    // A trailing semicolon is still one statement.
    let r = conn
        .query("SELECT n FROM ten ORDER BY n;", QueryLimits::rows(100))
        .await
        .unwrap();
    assert_eq!(r.row_count(), 10);
}

/// The cap holds in both directions.
pub async fn assert_row_cap(conn: &dyn Connection) {
    let r = conn
        .query("SELECT n FROM numbers ORDER BY n", QueryLimits::rows(10))
        .await
        .unwrap();
    assert_eq!(r.row_count(), 10);
    assert!(r.truncated);
    assert_eq!(r.rows[9], vec![Value::Int(10)]);
    let r = conn
        .query("SELECT n FROM ten ORDER BY n", QueryLimits::rows(10))
        .await
        .unwrap();
    assert_eq!(r.row_count(), 10);
    assert!(!r.truncated);
    let r = conn
        .query(
            "SELECT n FROM numbers ORDER BY n LIMIT 500",
            QueryLimits::rows(7),
        )
        .await
        .unwrap();
    assert_eq!((r.row_count(), r.truncated), (7, true));
    let r = conn
        .query("SELECT COUNT(*) AS c FROM numbers", QueryLimits::rows(10))
        .await
        .unwrap();
    assert_eq!(r.scalar(), Some(&Value::Int(1000)));
    assert_eq!(r.column_names(), ["c"]);
    // The connection is still good after a truncated read.
    let r = conn
        .query("SELECT n FROM ten", QueryLimits::rows(100))
        .await
        .unwrap();
    assert_eq!(r.row_count(), 10);
}

/// A slow statement is cut off promptly at a short limit, and the connection stays usable.
pub async fn assert_times_out(conn: &dyn Connection, slow_sql: &str) {
    let limit = Duration::from_millis(400);
    let start = Instant::now();
    let e = conn
        .query(slow_sql, QueryLimits::rows(10).with_timeout(limit))
        .await
        .unwrap_err();
    let took = start.elapsed();
    assert_eq!(e, Error::Timeout(limit), "{slow_sql}");
    assert!(took < limit + Duration::from_secs(2), "took {took:?}");
    let r = conn
        .query("SELECT n FROM ten", QueryLimits::rows(100))
        .await
        .unwrap();
    assert_eq!(r.row_count(), 10);
}

/// Plans come back as text; `ANALYZE` and writes are refused.
pub async fn assert_explain(conn: &dyn Connection) {
    let plan = conn
        .explain(
            "SELECT orders.id FROM orders JOIN customers ON customers.id = orders.customer_id \
             WHERE customers.name = 'Ada'",
        )
        .await
        .unwrap();
    assert!(plan.to_lowercase().contains("customers"), "{plan}");
    for sql in [
        "ANALYZE SELECT 1",
        "DELETE FROM numbers",
        "SELECT 1; SELECT 2",
    ] {
        assert!(conn.explain(sql).await.is_err(), "{sql}");
    }
}
