//! Every Spider SQLite file introspects, quirks and all, and quickly.

use std::time::{Duration, Instant};

use cbi_db::SqliteConnection;
use cbi_types::{Connection, QueryLimits};

const SPIDER: &str = "/work/shared/datasets/spider/database";

#[tokio::test]
async fn every_spider_database_introspects() {
    let dir = std::env::var("CBI_TEST_SPIDER_DIR")
        .or_else(|_| std::env::var("CBI_DATASETS").map(|d| format!("{d}/spider/database")))
        .unwrap_or_else(|_| SPIDER.to_string());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("Spider databases expected in {dir}: {e}"))
        .filter_map(|d| d.ok())
        .filter_map(|d| {
            let name = d.file_name().to_string_lossy().into_owned();
            let file = d.path().join(format!("{name}.sqlite"));
            file.exists().then_some(file)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no Spider databases in {dir}");
    let start = Instant::now();
    for file in &files {
        let conn = SqliteConnection::open(file).unwrap();
        let s = conn
            .introspect()
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(!s.tables.is_empty(), "{}", file.display());
        // Every relationship points at real tables and columns, as spelled in the catalog.
        for r in &s.relationships {
            let from = s.tables.iter().find(|t| t.name == r.from_table).unwrap();
            let to = s.tables.iter().find(|t| t.name == r.to_table).unwrap();
            assert!(
                r.from_columns
                    .iter()
                    .all(|c| from.columns.iter().any(|x| &x.name == c)),
                "{r:?}"
            );
            assert!(
                r.to_columns
                    .iter()
                    .all(|c| to.columns.iter().any(|x| &x.name == c)),
                "{r:?}"
            );
        }
        // And every table can be read.
        for t in &s.tables {
            let sql = format!(
                "SELECT * FROM {}",
                cbi_types::SqlDialect::Sqlite.quote_ident(&t.name)
            );
            conn.query(&sql, QueryLimits::rows(5))
                .await
                .unwrap_or_else(|e| panic!("{}: {sql}: {e}", file.display()));
        }
    }
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(20),
        "introspecting {} files took {took:?}",
        files.len()
    );

    // Quirks seen in these files: mixed-case names, and keys naming the referenced table only.
    let world = files.iter().find(|f| f.ends_with("world_1/world_1.sqlite"));
    if let Some(world) = world {
        let s = SqliteConnection::open(world)
            .unwrap()
            .introspect()
            .await
            .unwrap();
        let city = s.table("city").unwrap();
        assert_eq!(city.name, "city");
        assert!(
            s.relationships
                .iter()
                .any(|r| r.from_table == "city" && r.to_table == "country")
        );
    }
}
