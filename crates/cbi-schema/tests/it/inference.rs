//! Relationship inference on a database that declares no foreign keys: links are guessed from
//! column names, flagged `inferred`, and classified by the keys of the referencing table.

use cbi_schema::SchemaIntrospector;
use cbi_types::{DatabaseSchema, RelationshipType};

use crate::common::{Backend, TestDb};

const TABLES: &str = "
    CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE customer_profiles (customer_id INTEGER PRIMARY KEY, bio TEXT);
    CREATE TABLE products (sku TEXT PRIMARY KEY, title TEXT NOT NULL);
    CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, placed_on DATE);
    CREATE TABLE order_lines (
        order_id INTEGER NOT NULL,
        line_no INTEGER NOT NULL,
        sku TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        PRIMARY KEY (order_id, line_no)
    );
    CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, author TEXT);
";

fn links(s: &DatabaseSchema) -> Vec<String> {
    let mut out: Vec<String> = s
        .relationships
        .iter()
        .map(|r| {
            format!(
                "{}.{} -> {}.{} {:?}{}",
                r.from_table,
                r.from_columns.join(","),
                r.to_table,
                r.to_columns.join(","),
                r.relationship_type,
                if r.inferred { " inferred" } else { "" }
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn links_without_foreign_keys_are_inferred() {
    let db = TestDb::empty(Backend::Sqlite).await;
    db.write(&[TABLES]).await;
    let conn = db.connect().await;
    let declared = conn.introspect().await.unwrap();
    assert!(declared.relationships.is_empty(), "nothing is declared");

    let s = SchemaIntrospector::new(conn.clone())
        .introspect()
        .await
        .unwrap();
    assert_eq!(
        links(&s),
        [
            "customer_profiles.customer_id -> customers.id OneToOne inferred",
            "order_lines.order_id -> orders.id ManyToOne inferred",
            "order_lines.sku -> products.sku ManyToOne inferred",
            "orders.customer_id -> customers.id ManyToOne inferred",
        ]
    );
    assert!(s.relationships.iter().all(|r| r.inferred));
    assert_eq!(
        s.relationships
            .iter()
            .filter(|r| r.relationship_type == RelationshipType::OneToOne)
            .count(),
        1
    );

    let off = SchemaIntrospector::new(conn)
        .without_inference()
        .introspect()
        .await
        .unwrap();
    assert!(off.relationships.is_empty());
    // Inferred links are a reading of the names, not part of the catalog's fingerprint.
    assert_eq!(cbi_schema::fingerprint(&off), cbi_schema::fingerprint(&s));
}

#[tokio::test]
async fn declared_keys_are_kept_and_not_guessed_again() {
    let db = TestDb::empty(Backend::Sqlite).await;
    let tables = TABLES.replace(
        "customer_id INTEGER NOT NULL, placed_on DATE",
        "customer_id INTEGER NOT NULL REFERENCES customers (id), placed_on DATE",
    );
    db.write(&[&tables]).await;
    let s = SchemaIntrospector::new(db.connect().await)
        .introspect()
        .await
        .unwrap();
    assert_eq!(
        links(&s),
        [
            "customer_profiles.customer_id -> customers.id OneToOne inferred",
            "order_lines.order_id -> orders.id ManyToOne inferred",
            "order_lines.sku -> products.sku ManyToOne inferred",
            "orders.customer_id -> customers.id ManyToOne",
        ]
    );
}
