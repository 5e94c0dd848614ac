//! The Redis store beyond the shared suite: its key layout and expiry, and how it fails.

use std::sync::Arc;
use std::time::Duration;

use cbi_session::{RedisStore, SessionConfig, SessionManager};
use cbi_types::config::{Secret, SessionStoreKind};
use cbi_types::{Session, SessionStore};
use chrono::Utc;
use redis::Commands;

use crate::support::{redis_prefix, rich_session, store_under, turn};

const HALF_HOUR: Duration = Duration::from_secs(30 * 60);

#[tokio::test]
async fn unreachable_server_fails_fast_and_keeps_the_password_out() {
    let started = std::time::Instant::now();
    let err = tokio::time::timeout(
        Duration::from_secs(20),
        RedisStore::connect("redis://:hunter2@127.0.0.1:1/", "cbi:", HALF_HOUR),
    )
    .await
    .expect("connect must give up on its own")
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("session store: cannot reach Redis at 127.0.0.1:1: "),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(15));

    // The same through the configuration.
    let config = cbi_types::config::SessionConfig {
        store: SessionStoreKind::Redis,
        redis_url: Some(Secret::new("redis://user:hunter2@127.0.0.1:1")),
        ..Default::default()
    };
    let err = tokio::time::timeout(Duration::from_secs(20), cbi_session::open_store(&config))
        .await
        .expect("open_store must give up on its own")
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot reach Redis at 127.0.0.1:1"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[tokio::test]
async fn a_malformed_url_is_a_configuration_error() {
    let err = RedisStore::connect("http://hunter2@example.com", "cbi:", HALF_HOUR)
        .await
        .unwrap_err();
    assert!(matches!(err, cbi_session::Error::Config(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("session.redis_url"), "{msg}");
    assert!(!msg.contains("hunter2"), "{msg}");
}

#[tokio::test]
async fn key_layout_and_expiry_times() {
    let p = redis_prefix();
    let store = store_under(&p, HALF_HOUR).await;
    assert_eq!(store.prefix(), p.prefix);
    let debug = format!("{store:?}");
    assert!(
        debug.contains(&p.prefix) && !debug.contains("redis://"),
        "{debug}"
    );

    let s = rich_session("ann");
    store.save(&s).await.unwrap();
    let pre = &p.prefix;
    let session_key = format!("{pre}session:{}", s.id);
    let user_key = format!("{pre}user:ann");
    let index_key = format!("{pre}last_accessed");
    let mut want = vec![index_key.clone(), session_key.clone(), user_key.clone()];
    want.sort();
    assert_eq!(p.keys(), want);

    let mut c = p.conn();
    let json: String = c.get(&session_key).unwrap();
    assert_eq!(serde_json::from_str::<Session>(&json).unwrap(), s);
    for key in [&session_key, &user_key] {
        let ttl: i64 = c.pttl(key).unwrap();
        assert!(
            ttl > 25 * 60 * 1000 && ttl <= 30 * 60 * 1000,
            "{key}: {ttl}"
        );
    }
    let members: Vec<String> = c.smembers(&user_key).unwrap();
    assert_eq!(members, [s.id.to_string()]);
    let score: f64 = c.zscore(&index_key, s.id.to_string()).unwrap();
    assert_eq!(score as i64, s.last_accessed.timestamp_micros());

    assert!(store.delete(s.id).await.unwrap());
    assert!(p.keys().is_empty(), "{:?}", p.keys());
}

#[tokio::test]
async fn sessions_expire_by_themselves_and_listings_prune_them() {
    let p = redis_prefix();
    let store = store_under(&p, Duration::from_millis(300)).await;
    let s = Session::new("ann", "db");
    store.save(&s).await.unwrap();
    assert!(store.load(s.id).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(store.load(s.id).await.unwrap(), None, "Redis expired it");
    assert!(store.list_user("ann").await.unwrap().is_empty());

    // A user set that outlives one of its sessions is pruned when listed.
    let store = store_under(&p, HALF_HOUR).await;
    let a = Session::new("bob", "db");
    let b = Session::new("bob", "db");
    store.save(&a).await.unwrap();
    store.save(&b).await.unwrap();
    let mut c = p.conn();
    let _: () = c.del(format!("{}session:{}", p.prefix, a.id)).unwrap();
    assert_eq!(store.list_user("bob").await.unwrap(), [b.id]);
    let members: Vec<String> = c.smembers(format!("{}user:bob", p.prefix)).unwrap();
    assert_eq!(members, [b.id.to_string()]);
    let indexed: Vec<String> = c
        .zrange(format!("{}last_accessed", p.prefix), 0, -1)
        .unwrap();
    assert!(!indexed.contains(&a.id.to_string()), "{indexed:?}");
    // The first session's index entry outlived its key (Redis expired that); an idle sweep
    // clears it without reporting it as removed, since it was already gone.
    assert!(indexed.contains(&s.id.to_string()), "{indexed:?}");
    assert_eq!(store.remove_idle(Utc::now()).await.unwrap(), [b.id]);
    let indexed: Vec<String> = c
        .zrange(format!("{}last_accessed", p.prefix), 0, -1)
        .unwrap();
    assert!(indexed.is_empty(), "{indexed:?}");
    assert!(p.keys().is_empty(), "{:?}", p.keys());
}

#[tokio::test]
async fn remove_idle_works_through_many_batches() {
    let p = redis_prefix();
    let store = store_under(&p, HALF_HOUR).await;
    let mut idle = Vec::new();
    for n in 0..520 {
        let mut s = Session::new(format!("user{}", n % 7), "db");
        s.last_accessed = Utc::now() - chrono::Duration::hours(1);
        store.save(&s).await.unwrap();
        idle.push(s.id);
    }
    let live = Session::new("user0", "db");
    store.save(&live).await.unwrap();
    let mut removed = store
        .remove_idle(Utc::now() - chrono::Duration::minutes(30))
        .await
        .unwrap();
    removed.sort();
    idle.sort();
    assert_eq!(removed, idle);
    assert_eq!(store.list_user("user0").await.unwrap(), [live.id]);
    assert!(store.list_user("user3").await.unwrap().is_empty());
}

#[tokio::test]
async fn an_undecodable_session_names_itself() {
    let p = redis_prefix();
    let store = store_under(&p, HALF_HOUR).await;
    let id = cbi_types::SessionId::new();
    let mut c = p.conn();
    let _: () = c
        .set(
            format!("{}session:{id}", p.prefix),
            "{\"from\": \"the future\"}",
        )
        .unwrap();
    let err = store.load(id).await.unwrap_err().to_string();
    assert!(err.contains(&format!("session `{id}`")), "{err}");
    assert!(err.contains("newer version of cbi"), "{err}");
    // It can still be deleted.
    assert!(store.delete(id).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manager_over_redis_keeps_concurrent_turns() {
    let p = redis_prefix();
    let store = Arc::new(store_under(&p, HALF_HOUR).await);
    let m = Arc::new(SessionManager::new(
        store,
        SessionConfig {
            max_turns: 5,
            ..Default::default()
        },
    ));
    let id = m.create("ann", "db").await.unwrap();
    let tasks: Vec<_> = (0..12)
        .map(|n| {
            let m = m.clone();
            tokio::spawn(async move { m.record_turn(id, turn(&format!("q{n}"))).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let s = m.get(id).await.unwrap();
    assert_eq!(s.turn_count, 12);
    let ids: Vec<u32> = s.context.turns.iter().map(|t| t.turn_id).collect();
    assert_eq!(ids, [8, 9, 10, 11, 12]);
}
