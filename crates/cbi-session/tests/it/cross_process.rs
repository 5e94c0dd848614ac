//! A session created by one process is read back by another.
//!
//! The parent test creates a session and records a turn, then re-runs this very test binary
//! as a separate OS process, asking it (through environment variables) to run only
//! [`child`]. The child reads the parent's session, records a turn in it, creates a session
//! of its own and writes that one's id to a file; the parent then reads both back.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cbi_session::{SessionConfig, SessionManager};
use cbi_types::{SessionId, SessionStore};

use crate::support::turn;

/// Set only in the child's environment: which store to open (`sqlite` or `redis`).
const MODE: &str = "CBI_SESSION_TEST_CHILD";
/// The SQLite file, or the Redis key prefix.
const TARGET: &str = "CBI_SESSION_TEST_CHILD_TARGET";
/// The parent's session.
const SESSION: &str = "CBI_SESSION_TEST_CHILD_SESSION";
/// Where the child writes the id of the session it created.
const OUT: &str = "CBI_SESSION_TEST_CHILD_OUT";

const PARENT_Q: &str = "asked in the parent";
const CHILD_Q: &str = "asked in the child";
const CHILD_OWN_Q: &str = "the child's own question";

fn queries(s: &cbi_types::Session) -> Vec<&str> {
    s.context
        .turns
        .iter()
        .map(|t| t.user_query.as_str())
        .collect()
}

/// The child's half. Does nothing in an ordinary test run, where `MODE` is not set.
#[tokio::test]
async fn child() {
    let Ok(mode) = std::env::var(MODE) else {
        return;
    };
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} is not set"));
    let target = var(TARGET);
    let store: Arc<dyn SessionStore> = match mode.as_str() {
        #[cfg(feature = "sqlite")]
        "sqlite" => Arc::new(cbi_session::SqliteStore::open(&target).await.unwrap()),
        #[cfg(feature = "redis")]
        "redis" => Arc::new(
            cbi_session::RedisStore::connect(
                &crate::support::redis_url(),
                target,
                Duration::from_secs(30 * 60),
            )
            .await
            .unwrap(),
        ),
        other => panic!("unknown child mode `{other}`"),
    };
    let m = SessionManager::new(store, SessionConfig::default());
    let theirs: SessionId = var(SESSION).parse().unwrap();
    let s = m.get(theirs).await.unwrap();
    assert_eq!(queries(&s), [PARENT_Q], "the child sees the parent's turn");
    m.record_turn(theirs, turn(CHILD_Q)).await.unwrap();
    let mine = m.create("ann", "shop").await.unwrap();
    m.record_turn(mine, turn(CHILD_OWN_Q)).await.unwrap();
    std::fs::write(var(OUT), format!("{mine} {}", std::process::id())).unwrap();
}

/// Runs [`child`] in a new process and waits for it (at most a minute).
fn run_child(mode: &str, target: &str, session: SessionId, dir: &Path) -> String {
    let out = dir.join("child-session-id");
    let log = |name: &str| std::fs::File::create(dir.join(name)).unwrap();
    let mut proc = Command::new(std::env::current_exe().unwrap())
        .args([
            "cross_process::child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(MODE, mode)
        .env(TARGET, target)
        .env(SESSION, session.to_string())
        .env(OUT, &out)
        .stdout(log("child.stdout"))
        .stderr(log("child.stderr"))
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = proc.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = proc.kill();
            let _ = proc.wait();
            panic!("the child process did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    let output = format!(
        "child stdout:\n{}\nchild stderr:\n{}",
        read("child.stdout"),
        read("child.stderr")
    );
    assert!(
        status.success(),
        "the child process failed ({status})\n{output}"
    );
    std::fs::read_to_string(&out)
        .unwrap_or_else(|e| panic!("the child wrote no session id ({e}); did it run?\n{output}"))
}

/// The parent's half, the same for every store.
async fn hand_over(mode: &str, target: String, store: Arc<dyn SessionStore>) {
    let m = SessionManager::new(store, SessionConfig::default());
    let ours = m.create("ann", "shop").await.unwrap();
    m.record_turn(ours, turn(PARENT_Q)).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().to_path_buf();
    let mode_owned = mode.to_string();
    // The parent's store stays open while the child works on the same file or server.
    let written =
        tokio::task::spawn_blocking(move || run_child(&mode_owned, &target, ours, &dir_path))
            .await
            .unwrap();
    let (theirs, pid) = written.split_once(' ').unwrap();
    assert_ne!(pid, std::process::id().to_string(), "a separate process");
    let theirs: SessionId = theirs.parse().unwrap();

    let back = m.get(ours).await.unwrap();
    assert_eq!(queries(&back), [PARENT_Q, CHILD_Q]);
    let turn_ids: Vec<u32> = back.context.turns.iter().map(|t| t.turn_id).collect();
    assert_eq!(turn_ids, [1, 2]);
    assert_eq!(back.turn_count, 2);

    let created = m.get(theirs).await.unwrap();
    assert_eq!(
        (created.user_id.as_str(), created.database.as_str()),
        ("ann", "shop")
    );
    assert_eq!(queries(&created), [CHILD_OWN_Q]);
    assert_eq!(created.turn_count, 1);

    let mut listed: Vec<SessionId> = m
        .list_user("ann")
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    listed.sort();
    let mut want = vec![ours, theirs];
    want.sort();
    assert_eq!(listed, want);
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn sqlite_file_shared_between_processes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.sqlite");
    let store = cbi_session::SqliteStore::open(&path).await.unwrap();
    hand_over("sqlite", path.display().to_string(), Arc::new(store)).await;
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn redis_shared_between_processes() {
    let prefix = crate::support::redis_prefix();
    let store = crate::support::store_under(&prefix, Duration::from_secs(30 * 60)).await;
    hand_over("redis", prefix.prefix.clone(), Arc::new(store)).await;
}
