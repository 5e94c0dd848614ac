//! Spider's `world_1`, a real third-party SQLite file: its declared keys as the file declares
//! them, SQLite's own bookkeeping table left out, and a prompt rendering that fits a small
//! budget with the focus table first.

use std::path::PathBuf;

use cbi_schema::{RenderOptions, SchemaAugmenter, SchemaIntrospector, render_prompt};
use cbi_types::{RelationshipType, SemanticModel};

fn world_1() -> PathBuf {
    let root = std::env::var("CBI_SPIDER_DIR")
        .or_else(|_| std::env::var("CBI_DATASETS").map(|d| format!("{d}/spider")))
        .unwrap_or_else(|_| "/work/shared/datasets/spider".to_string());
    let path = PathBuf::from(root).join("database/world_1/world_1.sqlite");
    assert!(
        path.is_file(),
        "Spider's world_1 must be at {} (set CBI_SPIDER_DIR to the Spider directory)",
        path.display()
    );
    path
}

async fn connect() -> std::sync::Arc<dyn cbi_types::Connection> {
    cbi_db::connect(&world_1().display().to_string(), &Default::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn world_1_keys_as_declared() {
    let s = SchemaIntrospector::new(connect().await)
        .introspect()
        .await
        .unwrap();
    let names: Vec<&str> = s.tables.iter().map(|t| t.name.as_str()).collect();
    // The file has `sqlite_sequence` (AUTOINCREMENT's counters); it is SQLite's, not the user's.
    assert_eq!(names, ["city", "country", "countrylanguage"]);

    let city = s.table("city").unwrap();
    assert_eq!(city.primary_key, ["ID"]);
    assert_eq!(
        city.columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["ID", "Name", "CountryCode", "District", "Population"]
    );
    assert_eq!(s.table("country").unwrap().primary_key, ["Code"]);
    assert_eq!(
        s.table("countrylanguage").unwrap().primary_key,
        ["CountryCode", "Language"]
    );
    assert_eq!(city.row_count, Some(4079));

    let links: Vec<String> = s
        .relationships
        .iter()
        .map(|r| {
            format!(
                "{}.{} -> {}.{}",
                r.from_table,
                r.from_columns.join(","),
                r.to_table,
                r.to_columns.join(",")
            )
        })
        .collect();
    // Both keys the file declares; `country.Capital` (a city ID) is declared nowhere and its
    // name does not say which table it points to, so nothing is guessed for it.
    assert_eq!(
        links,
        [
            "city.CountryCode -> country.Code",
            "countrylanguage.CountryCode -> country.Code"
        ]
    );
    for r in &s.relationships {
        assert!(!r.inferred, "{r:?}");
        // `CountryCode` alone is not unique in either table (countrylanguage's key is the pair).
        assert_eq!(r.relationship_type, RelationshipType::ManyToOne, "{r:?}");
    }
}

#[tokio::test]
async fn world_1_renders_within_a_small_budget() {
    let conn = connect().await;
    let schema = SchemaIntrospector::new(conn.clone())
        .introspect()
        .await
        .unwrap();
    let aug = SchemaAugmenter::default()
        .augment(conn.as_ref(), schema, SemanticModel::default())
        .await
        .unwrap();
    assert!(
        aug.value_index
            .lookup("france")
            .iter()
            .any(|h| h.table == "country" && h.column == "Name"),
        "{:?}",
        aug.value_index.lookup("france")
    );

    let full = render_prompt(&aug, &RenderOptions::default());
    assert_eq!(full.matches("CREATE TABLE").count(), 3, "{full}");
    assert!(
        full.contains("'Europe'"),
        "samples of a low-cardinality column:\n{full}"
    );
    // 2,000 characters hold all of world_1; the smaller budgets make the renderer drop detail
    // and then tables.
    for budget in [2_000, 1_200, 800, 400] {
        for focus in ["countrylanguage", "city"] {
            let text = render_prompt(
                &aug,
                &RenderOptions {
                    budget_chars: budget,
                    focus: vec![focus.to_string()],
                },
            );
            assert!(
                text.len() <= budget,
                "{} chars over a budget of {budget}:\n{text}",
                text.len()
            );
            let first = text
                .lines()
                .find(|l| l.starts_with("CREATE TABLE"))
                .unwrap();
            assert!(
                first.starts_with(&format!("CREATE TABLE {focus} (")),
                "budget {budget}: {focus} first:\n{text}"
            );
            assert!(
                text.contains("REFERENCES country(Code)"),
                "budget {budget}: the key survives:\n{text}"
            );
            let shown = text.matches("CREATE TABLE").count();
            match budget {
                2_000 => assert_eq!(shown, 3, "everything fits:\n{text}"),
                400 => {
                    assert!(shown < 3, "{text}");
                    assert!(text.contains("more tables not shown"), "{text}");
                    assert!(!text.contains("e.g."), "no samples left:\n{text}");
                }
                _ => {}
            }
        }
    }
}
