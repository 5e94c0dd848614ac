//! `SchemaCache` on real databases: built once, answered from memory, revalidated against an
//! unchanged catalog, rebuilt after a schema change, and read back from its directory by a new
//! instance (a new process).

use std::sync::Arc;
use std::time::Duration;

use cbi_schema::{CacheOptions, CacheOutcome, SchemaAugmenter, SchemaCache, parse_semantic};
use cbi_types::SemanticModel;

use crate::common::{Backend, TestDb};

/// How long entries are trusted in these tests; the waits are a little longer.
const RECHECK: Duration = Duration::from_millis(800);
const PAST_RECHECK: Duration = Duration::from_millis(1_000);

async fn cache_on(backend: Backend) {
    let db = TestDb::demo(backend).await;
    let conn = db.connect().await;
    let dir = tempfile::tempdir().unwrap();
    let opts = CacheOptions {
        dir: Some(dir.path().to_path_buf()),
        recheck_interval: RECHECK,
        ..Default::default()
    };
    let cache = SchemaCache::new(SchemaAugmenter::default(), opts.clone());
    let key = format!("test:{backend:?}:{}", db.url);
    let none = SemanticModel::default();

    let (first, how) = cache.get_traced(&key, &conn, &none).await.unwrap();
    assert_eq!(how, CacheOutcome::Built, "{backend:?}");
    assert_eq!(
        first
            .column_profile("orders", "status")
            .unwrap()
            .distinct_count,
        Some(4)
    );

    let (again, how) = cache.get_traced(&key, &conn, &none).await.unwrap();
    assert_eq!(how, CacheOutcome::Fresh, "{backend:?}");
    assert!(Arc::ptr_eq(&first, &again));

    tokio::time::sleep(PAST_RECHECK).await;
    let (checked, how) = cache.get_traced(&key, &conn, &none).await.unwrap();
    assert_eq!(
        how,
        CacheOutcome::Revalidated,
        "{backend:?}: the catalog did not change"
    );
    assert!(
        Arc::ptr_eq(&first, &checked),
        "the same augmentation is kept"
    );

    // Another semantic model is another entry: built, not served from the old one.
    let semantic = parse_semantic(
        "tables:\n  orders:\n    synonyms: [purchases]\n",
        std::path::Path::new("inline.yaml"),
    )
    .unwrap();
    let (with_semantic, how) = cache.get_traced(&key, &conn, &semantic).await.unwrap();
    assert_eq!(how, CacheOutcome::Built, "{backend:?}: new semantic model");
    assert_eq!(with_semantic.fingerprint, first.fingerprint);
    assert!(
        with_semantic
            .table_profile("orders")
            .unwrap()
            .synonyms
            .contains(&"purchases".to_string())
    );

    db.write(&["ALTER TABLE regions ADD COLUMN manager VARCHAR(40)"])
        .await;
    tokio::time::sleep(PAST_RECHECK).await;
    let (changed, how) = cache.get_traced(&key, &conn, &none).await.unwrap();
    assert_eq!(how, CacheOutcome::Built, "{backend:?}: the schema changed");
    assert_ne!(changed.fingerprint, first.fingerprint);
    let regions = changed.schema.table("regions").unwrap();
    assert_eq!(
        regions
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["region_id", "name", "manager"]
    );
    assert_eq!(
        changed.table_profile("regions").unwrap().columns.len(),
        3,
        "the profile follows the new column"
    );

    // A second cache over the same directory: what a new process sees.
    let restarted = SchemaCache::new(SchemaAugmenter::default(), opts);
    let (from_disk, how) = restarted.get_traced(&key, &conn, &none).await.unwrap();
    assert_eq!(how, CacheOutcome::Disk, "{backend:?}");
    assert_eq!(from_disk.fingerprint, changed.fingerprint);
    assert_eq!(*from_disk, *changed, "{backend:?}: the file round-trips");
    let (_, how) = restarted.get_traced(&key, &conn, &none).await.unwrap();
    assert_eq!(how, CacheOutcome::Fresh);

    // Another database key never shares an entry.
    let (_, how) = restarted
        .get_traced(&format!("{key}#other"), &conn, &none)
        .await
        .unwrap();
    assert_eq!(how, CacheOutcome::Built);

    // Forgetting the key sends the next request back to the catalog (and the file).
    cache.invalidate(&key);
    let (_, how) = cache.get_traced(&key, &conn, &none).await.unwrap();
    assert_eq!(how, CacheOutcome::Disk, "{backend:?}: after invalidate");
}

#[tokio::test]
async fn cache_on_sqlite() {
    cache_on(Backend::Sqlite).await;
}

#[tokio::test]
async fn cache_on_postgres() {
    cache_on(Backend::Postgres).await;
}

#[tokio::test]
async fn cache_on_mysql() {
    cache_on(Backend::MySql).await;
}

/// Many first questions at once, on several threads, build the augmentation once; the others
/// wait for it and get the same one. (Spawning also proves the cache's futures are `Send`, which
/// a server handling each question in its own task needs.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_requests_build_once() {
    let db = TestDb::demo(Backend::Sqlite).await;
    let conn = db.connect().await;
    let cache = Arc::new(SchemaCache::new(
        SchemaAugmenter::default(),
        CacheOptions::default(),
    ));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (cache, conn) = (cache.clone(), conn.clone());
            tokio::spawn(async move {
                cache
                    .get_traced("demo", &conn, &SemanticModel::default())
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let built = results
        .iter()
        .filter(|(_, how)| *how == CacheOutcome::Built)
        .count();
    assert_eq!(built, 1, "one build for eight concurrent requests");
    for (aug, how) in &results {
        assert!(
            matches!(how, CacheOutcome::Built | CacheOutcome::Fresh),
            "{how:?}"
        );
        assert!(Arc::ptr_eq(aug, &results[0].0));
    }
}
