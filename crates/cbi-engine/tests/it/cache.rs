//! The answer caches through the whole pipeline: what is reused, what is never reused, a
//! fresh run, data changes, permissions, the semantic file, and a shared tier in Redis.

use std::collections::BTreeMap;
use std::sync::Arc;

use cbi_engine::{Access, AskOptions, Principal};
use cbi_types::{Config, Value};

use crate::common::*;

fn count(r: &cbi_engine::QueryResponse) -> i64 {
    match r.result.as_ref().unwrap().rows[0][0] {
        Value::Int(n) => n,
        ref v => panic!("not a count: {v:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_question_in_the_same_state_is_answered_from_the_cache() {
    let demo = Demo::small();
    let engine = engine(false);
    let key = engine
        .attach(&demo.path.to_string_lossy(), semantic())
        .await
        .unwrap();
    let ask = |q: &'static str| {
        let engine = &engine;
        let key = &key;
        async move {
            let s = engine.create_session_for("t", key).await.unwrap();
            engine.process_query(s, q).await.unwrap()
        }
    };
    let first = ask("revenue by region").await;
    assert!(!first.cache.sql && !first.cache.rows && !first.cached());
    // Case, spacing and the question mark do not matter.
    let again = ask("Revenue by  region?").await;
    assert!(again.cache.sql && again.cache.rows && again.cached());
    assert_eq!(again.sql, first.sql);
    assert_eq!(
        again.result.as_ref().unwrap().rows,
        first.result.unwrap().rows
    );
    assert_eq!(again.to_json()["cached"], serde_json::json!(true));
    // A different value, date, grouping or negation is a different question.
    for other in [
        "revenue by region in 2023",
        "revenue by category",
        "revenue by region excluding West",
    ] {
        let r = ask(other).await;
        assert!(!r.cache.sql, "{other} reused the SQL of another question");
    }
    let (sql, rows) = engine.cache_stats().unwrap();
    assert!(sql.local_hits >= 1 && sql.misses >= 4, "{sql:?}");
    assert!(rows.local_hits >= 1, "{rows:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_up_is_reused_only_after_the_same_conversation() {
    let demo = Demo::small();
    let engine = engine(false);
    let key = engine
        .attach(&demo.path.to_string_lossy(), semantic())
        .await
        .unwrap();
    let a = engine.create_session_for("t", &key).await.unwrap();
    let b = engine.create_session_for("t", &key).await.unwrap();
    engine.process_query(a, "revenue by region").await.unwrap();
    engine
        .process_query(b, "revenue by category")
        .await
        .unwrap();
    let top_a = engine
        .process_query(a, "which had the highest?")
        .await
        .unwrap();
    let top_b = engine
        .process_query(b, "which had the highest?")
        .await
        .unwrap();
    assert!(
        !top_b.cache.sql,
        "a follow-up reused another conversation's SQL"
    );
    assert_ne!(top_a.sql, top_b.sql);
    // The same conversation elsewhere reuses both turns.
    let c = engine.create_session_for("t", &key).await.unwrap();
    engine.process_query(c, "revenue by region").await.unwrap();
    let top_c = engine
        .process_query(c, "which had the highest?")
        .await
        .unwrap();
    assert!(top_c.cache.sql, "{:?}", top_c.cache);
    assert_eq!(top_c.sql, top_a.sql);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_run_reads_changed_data_and_the_cache_keeps_it() {
    let demo = Demo::small();
    let engine = engine(false);
    let key = engine
        .attach(&demo.path.to_string_lossy(), semantic())
        .await
        .unwrap();
    let who = Principal::new("t");
    let s = engine.start_session(&who, &key).await.unwrap();
    let before = engine
        .ask(&who, s, "how many regions are there?")
        .await
        .unwrap();
    let n = count(&before);

    // Someone adds a region behind cbi's back.
    let conn = rusqlite::Connection::open(&demo.path).unwrap();
    conn.execute(
        "INSERT INTO regions (region_id, name) VALUES (999, 'Antarctica')",
        [],
    )
    .unwrap();
    drop(conn);

    let cached = engine
        .ask(&who, s, "how many regions are there?")
        .await
        .unwrap();
    assert!(cached.cached());
    assert_eq!(count(&cached), n, "cached rows are the rows cached");
    let fresh = engine
        .ask_with(
            &who,
            s,
            "how many regions are there?",
            AskOptions { fresh: true },
            None,
        )
        .await
        .unwrap();
    assert!(!fresh.cached() && !fresh.cache.sql);
    assert_eq!(count(&fresh), n + 1);
    // The fresh rows replaced the old ones.
    let after = engine
        .ask(&who, s, "how many regions are there?")
        .await
        .unwrap();
    assert!(after.cached());
    assert_eq!(count(&after), n + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permissions_and_the_semantic_file_are_part_of_the_key() {
    let demo = Demo::small();
    let engine = engine(false);
    let key = engine
        .attach(&demo.path.to_string_lossy(), semantic())
        .await
        .unwrap();
    let all = Principal::new("ann");
    let mut tables = BTreeMap::new();
    tables.insert("orders".to_string(), vec!["*".to_string()]);
    let cut = Principal::new("bob").with_access(Access {
        tables: Some(tables),
    });
    let q = "how many orders are there?";
    let s = engine.start_session(&all, &key).await.unwrap();
    engine.ask(&all, s, q).await.unwrap();
    let s = engine.start_session(&cut, &key).await.unwrap();
    let theirs = engine.ask(&cut, s, q).await.unwrap();
    assert!(!theirs.cache.sql, "another user's permissions shared a key");
    assert!(theirs.result.is_some());

    // Accepting an answer changes the semantic model: SQL is worked out again.
    let s = engine.start_session(&all, &key).await.unwrap();
    let r = engine.ask(&all, s, "revenue by store type").await.unwrap();
    engine.accept(&all, s, r.turn_id).await.unwrap();
    let s = engine.start_session(&all, &key).await.unwrap();
    let again = engine.ask(&all, s, q).await.unwrap();
    assert!(
        !again.cache.sql,
        "the semantic model changed, the key did not"
    );
}

#[tokio::test]
async fn with_the_query_cache_off_nothing_is_reused() {
    let demo = Demo::small();
    let mut config = Config::default();
    config.cache.enable_query_cache = false;
    let engine = engine_with(config, false);
    let key = engine
        .attach(&demo.path.to_string_lossy(), semantic())
        .await
        .unwrap();
    for _ in 0..2 {
        let s = engine.create_session_for("t", &key).await.unwrap();
        let r = engine.process_query(s, "revenue by region").await.unwrap();
        assert!(!r.cache.sql && !r.cache.rows);
    }
    assert!(engine.cache_stats().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_share_answers_through_redis() {
    let demo = Demo::small();
    let scratch = cbi_testkit::RedisPrefix::new("cbi_engine_cache");
    let tier: Arc<dyn cbi_engine::SharedTier> = Arc::new(
        cbi_cache::RedisTier::connect(&scratch.url, &scratch.prefix)
            .await
            .unwrap(),
    );
    let one = engine(false).with_shared_cache(tier.clone());
    let two = engine(false).with_shared_cache(tier);
    let path = demo.path.to_string_lossy().to_string();
    let k1 = one.attach(&path, semantic()).await.unwrap();
    let k2 = two.attach(&path, semantic()).await.unwrap();
    let s = one.create_session_for("t", &k1).await.unwrap();
    let first = one.process_query(s, "orders by status").await.unwrap();
    assert!(!first.cached());
    assert_eq!(scratch.keys().len(), 2, "the SQL and the rows are shared");
    let s = two.create_session_for("t", &k2).await.unwrap();
    let second = two.process_query(s, "orders by status").await.unwrap();
    assert!(second.cache.sql && second.cache.rows);
    assert_eq!(second.result.unwrap().rows, first.result.unwrap().rows);
    let (sql, _) = two.cache_stats().unwrap();
    assert_eq!(sql.shared_hits, 1);
}
