//! The retail demo on SQLite, PostgreSQL and MariaDB: introspection finds exactly the schema
//! cbi-demo writes, augmentation profiles its data, the semantic file is applied and checked,
//! and the three backends agree.

use std::collections::BTreeSet;

use cbi_schema::{
    AugmentOptions, Error, RenderOptions, SchemaAugmenter, SchemaIntrospector, check_semantic,
    load_semantic, render_prompt,
};
use cbi_types::{
    AugmentedSchema, DatabaseSchema, RelationshipType, SemanticModel, TableKind, TypeClass,
    ValueHit,
};

use crate::common::{Backend, TestDb, tiny};

use TypeClass::{Date as D, Decimal as M, Integer as I, Text as T};

/// Each demo table with its columns in order and their type families; the first column is the
/// primary key. Tables are in the order introspection returns them (by name).
const TABLES: [(&str, &[(&str, TypeClass)]); 8] = [
    (
        "categories",
        &[("category_id", I), ("name", T), ("department", T)],
    ),
    (
        "customers",
        &[
            ("customer_id", I),
            ("first_name", T),
            ("last_name", T),
            ("email", T),
            ("city", T),
            ("region_id", I),
            ("segment", T),
            ("signup_date", D),
            ("birth_year", I),
        ],
    ),
    (
        "order_items",
        &[
            ("order_item_id", I),
            ("order_id", I),
            ("product_id", I),
            ("quantity", I),
            ("unit_price", M),
            ("discount", M),
        ],
    ),
    (
        "orders",
        &[
            ("order_id", I),
            ("customer_id", I),
            ("store_id", I),
            ("order_date", D),
            ("status", T),
            ("channel", T),
            ("shipping_cost", M),
        ],
    ),
    (
        "products",
        &[
            ("product_id", I),
            ("name", T),
            ("category_id", I),
            ("brand", T),
            ("unit_price", M),
            ("unit_cost", M),
            ("launched_on", D),
        ],
    ),
    ("regions", &[("region_id", I), ("name", T)]),
    (
        "returns",
        &[
            ("return_id", I),
            ("order_item_id", I),
            ("return_date", D),
            ("reason", T),
            ("refund_amount", M),
        ],
    ),
    (
        "stores",
        &[
            ("store_id", I),
            ("name", T),
            ("city", T),
            ("region_id", I),
            ("store_type", T),
            ("opened_on", D),
        ],
    ),
];

/// Every declared foreign key, as `(table, column)`; the parent column has the same name.
const FOREIGN_KEYS: [(&str, &str, &str); 8] = [
    ("orders", "customer_id", "customers"),
    ("orders", "store_id", "stores"),
    ("order_items", "order_id", "orders"),
    ("order_items", "product_id", "products"),
    ("returns", "order_item_id", "order_items"),
    ("stores", "region_id", "regions"),
    ("customers", "region_id", "regions"),
    ("products", "category_id", "categories"),
];

/// Columns declared `UNIQUE` (besides the primary keys).
const UNIQUE: [(&str, &str); 3] = [
    ("regions", "name"),
    ("categories", "name"),
    ("customers", "email"),
];

const STATUSES: [&str; 4] = ["cancelled", "completed", "returned", "shipped"];
const REGIONS: [&str; 5] = ["Central", "East", "North", "South", "West"];

async fn introspect(db: &TestDb) -> DatabaseSchema {
    SchemaIntrospector::new(db.connect().await)
        .introspect()
        .await
        .unwrap()
}

/// Checks a demo schema against the tables and keys cbi-demo declares.
fn check_schema(s: &DatabaseSchema, backend: Backend) {
    assert_eq!(s.dialect, backend.dialect());
    let names: Vec<&str> = s.tables.iter().map(|t| t.name.as_str()).collect();
    let expected: Vec<&str> = TABLES.iter().map(|(t, _)| *t).collect();
    assert_eq!(names, expected, "{backend:?}: tables");

    for (name, columns) in TABLES {
        let t = s.table(name).unwrap();
        assert_eq!(t.kind, TableKind::Table, "{backend:?} {name}");
        assert_eq!(t.schema, None, "{backend:?} {name}: the default namespace");
        let got: Vec<(&str, TypeClass)> = t
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.type_class()))
            .collect();
        assert_eq!(
            got,
            columns,
            "{backend:?} {name}: columns (types {:?})",
            t.columns.iter().map(|c| &c.data_type).collect::<Vec<_>>()
        );
        assert!(
            t.columns.iter().all(|c| !c.nullable),
            "{backend:?} {name}: every demo column is NOT NULL"
        );
        assert_eq!(t.primary_key, [columns[0].0], "{backend:?} {name}: key");
    }

    // Declared keys only: the demo declares every link, so inference adds nothing.
    let mut got: Vec<(String, String, String, String)> = Vec::new();
    for r in &s.relationships {
        assert!(!r.inferred, "{backend:?}: {r:?} should be declared");
        assert_eq!(
            r.relationship_type,
            RelationshipType::ManyToOne,
            "{backend:?}: {r:?}"
        );
        assert_eq!(r.from_columns.len(), 1, "{r:?}");
        assert_eq!(r.to_columns.len(), 1, "{r:?}");
        got.push((
            r.from_table.clone(),
            r.from_columns[0].clone(),
            r.to_table.clone(),
            r.to_columns[0].clone(),
        ));
    }
    got.sort();
    let mut want: Vec<(String, String, String, String)> = FOREIGN_KEYS
        .iter()
        .map(|(t, c, p)| (t.to_string(), c.to_string(), p.to_string(), c.to_string()))
        .collect();
    want.sort();
    assert_eq!(got, want, "{backend:?}: foreign keys");

    // cbi-demo indexes every foreign-key column (and order dates) under its own names.
    let index_on = |table: &str, name: &str, column: &str, unique: bool| {
        let t = s.table(table).unwrap();
        assert!(
            t.indexes
                .iter()
                .any(|i| i.name == name && i.columns == [column] && i.unique == unique),
            "{backend:?}: no index {name} on {table}({column}): {:?}",
            t.indexes
        );
    };
    for (table, column, _) in FOREIGN_KEYS {
        index_on(table, &format!("idx_{table}_{column}"), column, false);
    }
    index_on("orders", "idx_orders_order_date", "order_date", false);
    for (table, column) in UNIQUE {
        let t = s.table(table).unwrap();
        assert!(
            t.indexes.iter().any(|i| i.unique && i.columns == [column]),
            "{backend:?}: {table}.{column} is unique: {:?}",
            t.indexes
        );
    }

    // Statistics: every writer runs ANALYZE. SQLite's are exact; the servers' are estimates.
    let counts = tiny().row_counts();
    for table in cbi_demo::Table::ALL {
        let t = s.table(table.name()).unwrap();
        let n = t
            .row_count
            .unwrap_or_else(|| panic!("{backend:?} {table}: no row count"));
        assert!(n > 0, "{backend:?} {table}: {n} rows");
        if backend == Backend::Sqlite {
            assert_eq!(n, counts.get(table), "{table}");
        }
    }
}

/// Checks what augmentation learned from the demo's data, whatever the backend.
fn check_profiles(aug: &AugmentedSchema, backend: Backend) {
    assert_eq!(aug.tables.len(), aug.schema.tables.len());
    for (t, p) in aug.schema.tables.iter().zip(&aug.tables) {
        assert_eq!(p.name, t.name);
        assert!(!p.description.trim().is_empty(), "{backend:?} {}", t.name);
        assert_eq!(p.columns.len(), t.columns.len(), "{backend:?} {}", t.name);
        for (c, cp) in t.columns.iter().zip(&p.columns) {
            assert_eq!(cp.name, c.name);
            assert!(
                !cp.description.trim().is_empty(),
                "{backend:?} {}.{}",
                t.name,
                c.name
            );
        }
    }

    let status = aug.column_profile("orders", "status").unwrap();
    assert_eq!(status.distinct_count, Some(4), "{backend:?}: {status:?}");
    let samples: BTreeSet<&str> = status.samples.iter().map(String::as_str).collect();
    assert_eq!(samples, BTreeSet::from(STATUSES), "{backend:?}: {status:?}");
    assert_eq!(
        status.samples[0], "completed",
        "most frequent first: {status:?}"
    );
    assert!(!status.unique);

    let region = aug.column_profile("regions", "name").unwrap();
    assert_eq!(region.distinct_count, Some(5), "{backend:?}: {region:?}");
    let samples: BTreeSet<&str> = region.samples.iter().map(String::as_str).collect();
    assert_eq!(samples, BTreeSet::from(REGIONS), "{backend:?}: {region:?}");
    assert!(region.unique, "each region is named once: {region:?}");

    // Ranges of dates, rendered as ISO dates on every backend.
    let first = tiny().orders.iter().map(|o| o.order_date).min().unwrap();
    let last = tiny().orders.iter().map(|o| o.order_date).max().unwrap();
    let date = aug.column_profile("orders", "order_date").unwrap();
    assert_eq!(
        date.min.as_deref(),
        Some(first.to_string().as_str()),
        "{backend:?}"
    );
    assert_eq!(
        date.max.as_deref(),
        Some(last.to_string().as_str()),
        "{backend:?}"
    );
    assert!(
        date.min.as_deref().unwrap().starts_with("2022-01-"),
        "{date:?}"
    );
    assert!(
        date.max.as_deref().unwrap().starts_with("2024-12-"),
        "{date:?}"
    );
    let birth = aug.column_profile("customers", "birth_year").unwrap();
    let youngest = tiny().customers.iter().map(|c| c.birth_year).max().unwrap();
    assert_eq!(birth.max, Some(youngest.to_string()), "{backend:?}");
    // Numbers and dates are ranged, not sampled.
    assert!(
        date.samples.is_empty() && date.distinct_count.is_none(),
        "{date:?}"
    );

    let hit = |table: &str, column: &str, value: &str| ValueHit {
        table: table.into(),
        column: column.into(),
        value: value.into(),
    };
    assert!(
        aug.value_index
            .lookup("West")
            .contains(&hit("regions", "name", "West")),
        "{backend:?}: {:?}",
        aug.value_index.lookup("West")
    );
    assert_eq!(
        aug.value_index.lookup("west"),
        aug.value_index.lookup("WEST")
    );
    assert!(
        aug.value_index
            .lookup("completed")
            .contains(&hit("orders", "status", "completed")),
        "{backend:?}: {:?}",
        aug.value_index.lookup("completed")
    );
    assert!(
        aug.value_index
            .lookup("los angeles")
            .iter()
            .any(|h| h.table == "customers" && h.column == "city"),
        "multi-word values are indexed: {:?}",
        aug.value_index.lookup("los angeles")
    );
    assert!(aug.value_index.max_words() >= 2);
    assert!(aug.value_index.lookup("Atlantis").is_empty());
    // Identifiers and amounts are not text and stay out of the index.
    assert!(
        aug.value_index
            .iter()
            .all(|(_, hits)| hits.iter().all(|h| !h.column.ends_with("_id"))),
        "{backend:?}"
    );
}

/// A semantic file that overrides the derived descriptions of `orders` and adds synonyms.
const SEMANTIC: &str = r#"
tables:
  orders:
    description: One row per order a customer placed, in a store or online.
    synonyms: [purchases, sales orders]
    columns:
      order_date:
        description: The day the order was placed.
        synonyms: [purchase date]
      STATUS: { synonyms: [order state] }
  Regions:
    description: The five sales regions of the company.
business_terms:
  - name: revenue
    synonyms: [sales]
    measure: SUM(order_items.quantity * order_items.unit_price)
  - name: region
    column: regions.name
verified_queries:
  - question: How many orders are there?
    sql: SELECT COUNT(*) FROM orders
"#;

/// The same file with a misspelt column and a misspelt table.
const BAD_SEMANTIC: &str = r#"
tables:
  orders:
    columns:
      order_dat: { description: The day the order was placed. }
business_terms:
  - name: region
    column: regoins.name
"#;

fn check_semantic_applied(aug: &AugmentedSchema, backend: Backend) {
    let orders = aug.table_profile("orders").unwrap();
    assert_eq!(
        orders.description,
        "One row per order a customer placed, in a store or online."
    );
    for s in ["purchases", "sales orders", "order"] {
        assert!(
            orders.synonyms.iter().any(|x| x == s),
            "{backend:?}: {s} in {:?}",
            orders.synonyms
        );
    }
    let date = aug.column_profile("orders", "order_date").unwrap();
    assert_eq!(date.description, "The day the order was placed.");
    assert!(
        date.synonyms.contains(&"purchase date".to_string()),
        "{date:?}"
    );
    assert!(
        date.synonyms.contains(&"order date".to_string()),
        "{date:?}"
    );
    let status = aug.column_profile("orders", "status").unwrap();
    assert_eq!(status.description, "Status", "a derived description stays");
    assert_eq!(status.synonyms, ["order state"]);
    assert_eq!(
        status.distinct_count,
        Some(4),
        "profiles are kept: {status:?}"
    );
    assert_eq!(
        aug.table_profile("regions").unwrap().description,
        "The five sales regions of the company."
    );
    assert_eq!(aug.table_profile("stores").unwrap().description, "Stores");
    assert_eq!(aug.semantic.business_terms.len(), 2);
    assert_eq!(aug.semantic.verified_queries.len(), 1);
}

/// Introspection, augmentation and the semantic file on one backend.
async fn demo_on(backend: Backend) {
    let db = TestDb::demo(backend).await;
    let conn = db.connect().await;
    let schema = SchemaIntrospector::new(conn.clone())
        .introspect()
        .await
        .unwrap();
    check_schema(&schema, backend);

    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("semantic.yaml");
    std::fs::write(&good, SEMANTIC).unwrap();
    let semantic = load_semantic(&good).unwrap();
    check_semantic(&semantic, &schema, &good).unwrap();

    let augmenter = SchemaAugmenter::default();
    let plain = augmenter
        .augment(conn.as_ref(), schema.clone(), SemanticModel::default())
        .await
        .unwrap();
    check_profiles(&plain, backend);
    assert_eq!(plain.schema, schema);
    assert_eq!(plain.fingerprint, cbi_schema::fingerprint(&schema));
    assert_eq!(
        plain.table_profile("orders").unwrap().description,
        "Orders",
        "derived from the name"
    );

    let with_file = augmenter
        .augment(conn.as_ref(), schema.clone(), semantic)
        .await
        .unwrap();
    check_profiles(&with_file, backend);
    check_semantic_applied(&with_file, backend);
    assert_eq!(with_file.fingerprint, plain.fingerprint);

    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, BAD_SEMANTIC).unwrap();
    let model = load_semantic(&bad).unwrap();
    match check_semantic(&model, &schema, &bad) {
        Err(Error::SemanticMismatch { path, problems }) => {
            assert_eq!(path, bad);
            assert_eq!(problems.len(), 2, "every problem at once: {problems:?}");
            assert!(
                problems.iter().any(|p| p
                    == "tables.orders.columns.order_dat: no such column in `orders`; did you mean `order_date`?"),
                "{problems:?}"
            );
            assert!(
                problems
                    .iter()
                    .any(|p| p
                        == "business term `region`: no table `regoins`; did you mean `regions`?"),
                "{problems:?}"
            );
        }
        other => panic!("{backend:?}: expected a mismatch, got {other:?}"),
    }
}

#[tokio::test]
async fn demo_on_sqlite() {
    demo_on(Backend::Sqlite).await;
}

#[tokio::test]
async fn demo_on_postgres() {
    demo_on(Backend::Postgres).await;
}

#[tokio::test]
async fn demo_on_mysql() {
    demo_on(Backend::MySql).await;
}

/// What must be the same on every backend: names, keys, type families, and what profiling
/// measured (the data is identical).
#[derive(Debug, PartialEq)]
struct Shape {
    tables: Vec<TableShape>,
    relationships: Vec<String>,
    distinct_counts: Vec<(String, Option<u64>)>,
    /// Ranges of integer and date columns (decimals are rendered per backend: `0` or `0.00`).
    ranges: Vec<(String, Option<String>, Option<String>)>,
    value_index_len: usize,
}

/// A table's name, its columns (name, type family, nullable) and its primary key.
type TableShape = (String, Vec<(String, TypeClass, bool)>, Vec<String>);

fn shape(aug: &AugmentedSchema) -> Shape {
    let s = &aug.schema;
    let mut distinct_counts = Vec::new();
    let mut ranges = Vec::new();
    for (t, p) in s.tables.iter().zip(&aug.tables) {
        for (c, cp) in t.columns.iter().zip(&p.columns) {
            let name = format!("{}.{}", t.name, c.name);
            match c.type_class() {
                TypeClass::Text => distinct_counts.push((name, cp.distinct_count)),
                TypeClass::Integer | TypeClass::Date => {
                    ranges.push((name, cp.min.clone(), cp.max.clone()))
                }
                _ => {}
            }
        }
    }
    Shape {
        tables: s
            .tables
            .iter()
            .map(|t| {
                (
                    t.name.clone(),
                    t.columns
                        .iter()
                        .map(|c| (c.name.clone(), c.type_class(), c.nullable))
                        .collect(),
                    t.primary_key.clone(),
                )
            })
            .collect(),
        relationships: s
            .relationships
            .iter()
            .map(|r| {
                format!(
                    "{}({}) -> {}({}) {:?} inferred={}",
                    r.from_table,
                    r.from_columns.join(","),
                    r.to_table,
                    r.to_columns.join(","),
                    r.relationship_type,
                    r.inferred
                )
            })
            .collect(),
        distinct_counts,
        ranges,
        value_index_len: aug.value_index.len(),
    }
}

#[tokio::test]
async fn the_three_backends_agree() {
    let mut shapes = Vec::new();
    for backend in Backend::ALL {
        let db = TestDb::demo(backend).await;
        let conn = db.connect().await;
        let schema = introspect(&db).await;
        let aug = SchemaAugmenter::default()
            .augment(conn.as_ref(), schema, SemanticModel::default())
            .await
            .unwrap();
        shapes.push((backend, shape(&aug)));
    }
    let (_, sqlite) = &shapes[0];
    assert_eq!(sqlite.tables.len(), 8);
    assert_eq!(sqlite.relationships.len(), 8);
    assert!(sqlite.distinct_counts.iter().all(|(_, n)| n.is_some()));
    for (backend, other) in &shapes[1..] {
        assert_eq!(other.tables, sqlite.tables, "{backend:?} vs SQLite: tables");
        assert_eq!(
            other.relationships, sqlite.relationships,
            "{backend:?} vs SQLite: relationships"
        );
        assert_eq!(
            other.distinct_counts, sqlite.distinct_counts,
            "{backend:?} vs SQLite: distinct counts"
        );
        assert_eq!(other.ranges, sqlite.ranges, "{backend:?} vs SQLite: ranges");
        assert_eq!(
            other.value_index_len, sqlite.value_index_len,
            "{backend:?} vs SQLite: value index"
        );
    }
}

/// Profiling can be switched off: names still give descriptions, no query reads data.
#[tokio::test]
async fn names_only_augmentation_reads_no_data() {
    let db = TestDb::demo(Backend::Sqlite).await;
    let conn = db.connect().await;
    let schema = introspect(&db).await;
    let aug = SchemaAugmenter::new(AugmentOptions {
        profile_data: false,
        ..Default::default()
    })
    .augment(conn.as_ref(), schema, SemanticModel::default())
    .await
    .unwrap();
    assert!(aug.value_index.is_empty());
    let status = aug.column_profile("orders", "status").unwrap();
    assert!(status.samples.is_empty() && status.distinct_count.is_none());
    assert_eq!(
        aug.column_profile("order_items", "unit_price")
            .unwrap()
            .description,
        "Unit price"
    );
}

/// The rendered demo keeps the declared keys as `REFERENCES` and the profiles as comments.
#[tokio::test]
async fn the_demo_renders_with_keys_and_samples() {
    let db = TestDb::demo(Backend::Sqlite).await;
    let conn = db.connect().await;
    let schema = introspect(&db).await;
    let aug = SchemaAugmenter::default()
        .augment(conn.as_ref(), schema, SemanticModel::default())
        .await
        .unwrap();
    let text = render_prompt(
        &aug,
        &RenderOptions {
            focus: vec!["orders".into()],
            ..Default::default()
        },
    );
    assert!(text.len() <= RenderOptions::default().budget_chars);
    let first = text
        .lines()
        .find(|l| l.starts_with("CREATE TABLE"))
        .unwrap();
    assert!(first.starts_with("CREATE TABLE orders ("), "{text}");
    assert_eq!(text.matches("CREATE TABLE").count(), 8, "{text}");
    let orders = tiny().row_counts().get(cbi_demo::Table::Orders);
    for needle in [
        "customer_id INTEGER REFERENCES customers(customer_id)".to_string(),
        "'completed'".to_string(),
        format!("~{orders} rows"),
    ] {
        assert!(text.contains(&needle), "{needle} in\n{text}");
    }
}
