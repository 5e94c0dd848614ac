//! One behaviour, three stores: every `SessionStore` must pass the same body.

use std::collections::BTreeSet;
use std::sync::Arc;

use cbi_session::MemoryStore;
use cbi_types::{SessionId, SessionStore};
use chrono::{Duration, Utc};

use crate::support::rich_session;

/// The contract of `SessionStore`, as the manager relies on it.
async fn conformance(store: Arc<dyn SessionStore>) {
    // Nothing there yet.
    let ghost = SessionId::new();
    assert_eq!(store.load(ghost).await.unwrap(), None);
    assert!(!store.delete(ghost).await.unwrap());
    assert!(store.list_user("ann").await.unwrap().is_empty());
    assert!(store.remove_idle(Utc::now()).await.unwrap().is_empty());

    // A round trip keeps every field, turns included.
    let mut a = rich_session("ann");
    store.save(&a).await.unwrap();
    assert_eq!(store.load(a.id).await.unwrap().as_ref(), Some(&a));

    // Saving again replaces, and does not duplicate.
    a.context.push_turn(crate::support::turn("one more"), 20);
    a.turn_count += 1;
    a.context.pending_clarification = None;
    a.last_accessed = Utc::now();
    store.save(&a).await.unwrap();
    assert_eq!(store.load(a.id).await.unwrap().as_ref(), Some(&a));
    assert_eq!(store.list_user("ann").await.unwrap(), [a.id]);
    // What a session limit compares, read on its own.
    assert_eq!(
        store.last_accessed(a.id).await.unwrap(),
        Some(a.last_accessed)
    );
    assert_eq!(store.last_accessed(ghost).await.unwrap(), None);

    // Sessions are listed per user.
    let b = rich_session("ann");
    let c = rich_session("bob");
    store.save(&b).await.unwrap();
    store.save(&c).await.unwrap();
    let ids = |v: Vec<SessionId>| v.into_iter().collect::<BTreeSet<_>>();
    assert_eq!(
        ids(store.list_user("ann").await.unwrap()),
        ids(vec![a.id, b.id])
    );
    assert_eq!(store.list_user("bob").await.unwrap(), [c.id]);
    assert!(
        store.list_user("Ann").await.unwrap().is_empty(),
        "user ids are exact"
    );

    // Idle removal goes by last_accessed, strictly before the cutoff.
    let mut old = rich_session("ann");
    old.last_accessed = Utc::now() - Duration::hours(2);
    store.save(&old).await.unwrap();
    let mut older = rich_session("carol");
    older.last_accessed = Utc::now() - Duration::days(3);
    store.save(&older).await.unwrap();
    let cutoff = Utc::now() - Duration::minutes(30);
    assert_eq!(
        ids(store.remove_idle(cutoff).await.unwrap()),
        ids(vec![old.id, older.id])
    );
    assert_eq!(store.load(old.id).await.unwrap(), None);
    assert_eq!(store.load(older.id).await.unwrap(), None);
    assert_eq!(
        ids(store.list_user("ann").await.unwrap()),
        ids(vec![a.id, b.id])
    );
    assert!(store.list_user("carol").await.unwrap().is_empty());
    assert!(
        store.remove_idle(cutoff).await.unwrap().is_empty(),
        "already gone"
    );
    assert_eq!(
        store.load(b.id).await.unwrap().as_ref(),
        Some(&b),
        "live ones stay"
    );

    // Delete removes exactly one session, once.
    assert!(store.delete(a.id).await.unwrap());
    assert!(!store.delete(a.id).await.unwrap());
    assert_eq!(store.load(a.id).await.unwrap(), None);
    assert_eq!(store.list_user("ann").await.unwrap(), [b.id]);
    assert_eq!(store.load(c.id).await.unwrap().as_ref(), Some(&c));

    // A session saved again after removal is simply back.
    store.save(&a).await.unwrap();
    assert_eq!(store.load(a.id).await.unwrap().as_ref(), Some(&a));
}

#[tokio::test]
async fn memory_store() {
    conformance(Arc::new(MemoryStore::new())).await;
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = cbi_session::SqliteStore::open(dir.path().join("sessions.sqlite"))
        .await
        .unwrap();
    conformance(Arc::new(store)).await;
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn redis_store() {
    let prefix = crate::support::redis_prefix();
    let store = crate::support::store_under(&prefix, std::time::Duration::from_secs(30 * 60)).await;
    conformance(Arc::new(store)).await;
}
