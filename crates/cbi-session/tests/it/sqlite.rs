//! The SQLite store beyond the shared suite: restarts and several handles on one file.

use std::sync::Arc;

use cbi_session::{SessionConfig, SessionManager, SqliteStore};
use cbi_types::{Session, SessionStore};

use crate::support::turn;

#[tokio::test]
async fn a_conversation_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.sqlite");
    let config = SessionConfig {
        max_turns: 2,
        ..Default::default()
    };
    let (id, before) = {
        let store = Arc::new(SqliteStore::open(&path).await.unwrap());
        let m = SessionManager::new(store, config.clone());
        let id = m.create("ann", "shop").await.unwrap();
        for q in ["first", "second", "third"] {
            m.record_turn(id, turn(q)).await.unwrap();
        }
        (id, m.get(id).await.unwrap())
    };
    let store = Arc::new(SqliteStore::open(&path).await.unwrap());
    let m = SessionManager::new(store, config);
    let after = m.get(id).await.unwrap();
    assert_eq!(after, before);
    let queries: Vec<&str> = after
        .context
        .turns
        .iter()
        .map(|t| t.user_query.as_str())
        .collect();
    assert_eq!(queries, ["second", "third"]);
    assert_eq!(after.turn_count, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_handles_on_one_file_write_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.sqlite");
    let a = Arc::new(SqliteStore::open(&path).await.unwrap());
    let b = Arc::new(SqliteStore::open(&path).await.unwrap());
    let mut tasks = Vec::new();
    for n in 0..40 {
        let store = if n % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let s = Session::new(format!("user{}", n % 4), "db");
            store.save(&s).await.map(|()| s)
        }));
    }
    let mut saved = Vec::new();
    for t in tasks {
        saved.push(t.await.unwrap().unwrap());
    }
    for s in &saved {
        assert_eq!(b.load(s.id).await.unwrap().as_ref(), Some(s));
    }
    assert_eq!(a.list_user("user1").await.unwrap().len(), 10);
}
