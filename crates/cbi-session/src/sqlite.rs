use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use cbi_types::{Session, SessionId, SessionStore};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};

use crate::error::store_err;

/// The layout this build writes, kept in `PRAGMA user_version`. A file with a higher number was
/// written by a newer cbi and is refused rather than misread.
const SCHEMA_VERSION: i32 = 1;

/// How long an operation waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const CREATE_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sessions (
    id            TEXT    PRIMARY KEY NOT NULL,
    user_id       TEXT    NOT NULL,
    -- microseconds since the Unix epoch, UTC; mirrors the JSON's last_accessed
    last_accessed INTEGER NOT NULL,
    -- the whole cbi_types::Session, as serde_json writes it
    data          TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_user_id ON sessions (user_id);
CREATE INDEX IF NOT EXISTS sessions_last_accessed ON sessions (last_accessed);
";

/// Sessions in a SQLite file, so a conversation survives a restart; the default store.
///
/// The file is opened in WAL mode with a busy timeout, so several cbi processes can use it
/// at once (readers never block, writers wait their turn for up to five seconds). Each session
/// is one row: its JSON, plus its user and last access time in indexed columns so listing a
/// user's sessions and removing idle ones are indexed queries, not scans.
///
/// rusqlite is synchronous, so every operation runs on Tokio's blocking pool against one
/// connection behind a mutex; operations on one store are therefore serialised, which SQLite
/// would do for writes anyway.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    path: Arc<Path>,
    conn: Arc<Mutex<Connection>>,
}

impl SqliteStore {
    /// Opens (or creates) the session file at `path`, creating the table if it is missing.
    ///
    /// The parent directory must exist ([`crate::open_store`] creates it). Fails with a
    /// message naming the path when the file cannot be opened, is not a SQLite database, is
    /// locked for longer than the busy timeout, or was written by a newer cbi.
    pub async fn open(path: impl Into<PathBuf>) -> crate::Result<Self> {
        let path: Arc<Path> = Arc::from(path.into());
        let p = Arc::clone(&path);
        let conn = tokio::task::spawn_blocking(move || open_blocking(&p))
            .await
            .map_err(|e| {
                store_err(format!(
                    "opening session file {} failed: {e}",
                    path.display()
                ))
            })??;
        Ok(SqliteStore {
            path,
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// The file this store keeps its sessions in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the connection in the blocking pool.
    async fn with_conn<T, F>(&self, f: F) -> cbi_types::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &Path) -> cbi_types::Result<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        let path = Arc::clone(&self.path);
        let display = path.display().to_string();
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock leaves nothing half-done that SQLite has not
            // already rolled back, so a poisoned lock is safe to keep using.
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut conn, &path)
        })
        .await
        .map_err(|e| store_err(format!("session file {display}: operation failed: {e}")))?
    }
}

fn open_blocking(path: &Path) -> cbi_types::Result<Connection> {
    let fail = |e: rusqlite::Error| {
        store_err(format!(
            "cannot open session file {}: {}",
            path.display(),
            describe(&e)
        ))
    };
    let mut conn = Connection::open(path).map_err(fail)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
    // The first statement that reads the file: a corrupt or foreign file fails here.
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(fail)?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(path = %path.display(), mode, "session file is not in WAL mode; concurrent use will be slower");
    }
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(fail)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(fail)?;
    let version: i32 = tx
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(fail)?;
    if version > SCHEMA_VERSION {
        return Err(store_err(format!(
            "session file {} was written by a newer version of cbi (layout {version}, this \
             build reads up to {SCHEMA_VERSION}); upgrade cbi or choose another session.path",
            path.display()
        )));
    }
    if version < SCHEMA_VERSION {
        tx.execute_batch(CREATE_SCHEMA).map_err(fail)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(fail)?;
    }
    tx.commit().map_err(fail)?;
    Ok(conn)
}

/// rusqlite's message, with the common operational cases spelled out.
fn describe(e: &rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => format!(
            "it is locked by another process (waited {} s)",
            BUSY_TIMEOUT.as_secs()
        ),
        Some(ErrorCode::NotADatabase) => "it is not a SQLite database (or it is corrupt)".into(),
        Some(ErrorCode::DatabaseCorrupt) => "it is corrupt".into(),
        Some(ErrorCode::ReadOnly) => "it is read-only".into(),
        Some(ErrorCode::CannotOpen) => {
            format!("{e}; check that its directory exists and that it is a file")
        }
        _ => e.to_string(),
    }
}

fn sql_fail(path: &Path, what: &str) -> impl Fn(rusqlite::Error) -> cbi_types::Error {
    let path = path.display().to_string();
    let what = what.to_string();
    move |e| store_err(format!("session file {path}: {what}: {}", describe(&e)))
}

/// Decodes a stored session, naming it when its JSON cannot be read (written by a newer
/// cbi, or damaged).
fn decode(id: &str, path: &Path, json: &str) -> cbi_types::Result<Session> {
    serde_json::from_str(json).map_err(|e| {
        store_err(format!(
            "session `{id}` in {} cannot be read ({e}); it may have been written by a newer \
             version of cbi",
            path.display()
        ))
    })
}

fn parse_id(id: &str, path: &Path) -> cbi_types::Result<SessionId> {
    id.parse().map_err(|_| {
        store_err(format!(
            "session file {} holds a malformed session id `{id}`",
            path.display()
        ))
    })
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn load(&self, id: SessionId) -> cbi_types::Result<Option<Session>> {
        self.with_conn(move |conn, path| {
            let key = id.to_string();
            let data: Option<String> = conn
                .prepare_cached("SELECT data FROM sessions WHERE id = ?1")
                .and_then(|mut st| st.query_row([&key], |row| row.get(0)).optional())
                .map_err(sql_fail(path, "reading a session"))?;
            data.map(|json| decode(&key, path, &json)).transpose()
        })
        .await
    }

    async fn save(&self, session: &Session) -> cbi_types::Result<()> {
        let json = serde_json::to_string(session)
            .map_err(|e| store_err(format!("cannot encode session `{}`: {e}", session.id)))?;
        let id = session.id.to_string();
        let user = session.user_id.clone();
        let accessed = session.last_accessed.timestamp_micros();
        self.with_conn(move |conn, path| {
            conn.prepare_cached(
                "INSERT INTO sessions (id, user_id, last_accessed, data) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id,
                     last_accessed = excluded.last_accessed, data = excluded.data",
            )
            .and_then(|mut st| st.execute(params![id, user, accessed, json]))
            .map_err(sql_fail(path, "saving a session"))?;
            Ok(())
        })
        .await
    }

    async fn delete(&self, id: SessionId) -> cbi_types::Result<bool> {
        self.with_conn(move |conn, path| {
            let n = conn
                .prepare_cached("DELETE FROM sessions WHERE id = ?1")
                .and_then(|mut st| st.execute([id.to_string()]))
                .map_err(sql_fail(path, "deleting a session"))?;
            Ok(n > 0)
        })
        .await
    }

    async fn list_user(&self, user_id: &str) -> cbi_types::Result<Vec<SessionId>> {
        let user = user_id.to_string();
        self.with_conn(move |conn, path| {
            let fail = sql_fail(path, "listing a user's sessions");
            let mut st = conn
                .prepare_cached(
                    "SELECT id FROM sessions WHERE user_id = ?1 ORDER BY last_accessed DESC",
                )
                .map_err(&fail)?;
            let ids = st
                .query_map([&user], |row| row.get::<_, String>(0))
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(&fail)?;
            ids.iter().map(|id| parse_id(id, path)).collect()
        })
        .await
    }

    async fn remove_idle(&self, cutoff: DateTime<Utc>) -> cbi_types::Result<Vec<SessionId>> {
        let cutoff = cutoff.timestamp_micros();
        self.with_conn(move |conn, path| {
            let fail = sql_fail(path, "removing idle sessions");
            let mut st = conn
                .prepare_cached("DELETE FROM sessions WHERE last_accessed < ?1 RETURNING id")
                .map_err(&fail)?;
            let ids = st
                .query_map([cutoff], |row| row.get::<_, String>(0))
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(&fail)?;
            ids.iter().map(|id| parse_id(id, path)).collect()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    #[tokio::test]
    async fn creates_a_versioned_wal_file() {
        let d = dir();
        let path = d.path().join("s.sqlite");
        let store = SqliteStore::open(&path).await.unwrap();
        assert_eq!(store.path(), path);
        let (version, mode): (i32, String) = store
            .with_conn(|c, _| {
                let v = c
                    .query_row("PRAGMA user_version", [], |r| r.get(0))
                    .unwrap();
                let m = c
                    .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                    .unwrap();
                Ok((v, m))
            })
            .await
            .unwrap();
        assert_eq!((version, mode.as_str()), (SCHEMA_VERSION, "wal"));
        // Reopening an existing file keeps its sessions.
        let s = Session::new("ann", "db");
        store.save(&s).await.unwrap();
        drop(store);
        let again = SqliteStore::open(&path).await.unwrap();
        assert_eq!(again.load(s.id).await.unwrap(), Some(s));
    }

    #[tokio::test]
    async fn queries_use_the_indexes() {
        let d = dir();
        let store = SqliteStore::open(d.path().join("s.sqlite")).await.unwrap();
        let plans: Vec<String> = store
            .with_conn(|c, _| {
                let mut out = Vec::new();
                for sql in [
                    "SELECT id FROM sessions WHERE user_id = 'a' ORDER BY last_accessed DESC",
                    "DELETE FROM sessions WHERE last_accessed < 5 RETURNING id",
                ] {
                    let mut st = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
                    let rows: Vec<String> = st
                        .query_map([], |r| r.get::<_, String>(3))
                        .unwrap()
                        .map(|r| r.unwrap())
                        .collect();
                    out.push(rows.join(" | "));
                }
                Ok(out)
            })
            .await
            .unwrap();
        assert!(plans[0].contains("sessions_user_id"), "{}", plans[0]);
        assert!(plans[1].contains("sessions_last_accessed"), "{}", plans[1]);
    }

    #[tokio::test]
    async fn a_corrupt_file_is_a_clear_error() {
        let d = dir();
        let path = d.path().join("junk.sqlite");
        std::fs::write(&path, vec![0x5a; 8192]).unwrap();
        let err = SqliteStore::open(&path).await.unwrap_err().to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains("not a SQLite database"), "{err}");

        let err = SqliteStore::open(d.path().join("no/such/dir/s.sqlite"))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("no/such/dir/s.sqlite"), "{err}");
        // A directory where the file should be.
        let err = SqliteStore::open(d.path()).await.unwrap_err().to_string();
        assert!(err.contains("cannot open session file"), "{err}");
    }

    #[tokio::test]
    async fn a_newer_layout_is_refused() {
        let d = dir();
        let path = d.path().join("s.sqlite");
        let c = Connection::open(&path).unwrap();
        c.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(c);
        let err = SqliteStore::open(&path).await.unwrap_err().to_string();
        assert!(err.contains("newer version of cbi"), "{err}");
        assert!(err.contains(&path.display().to_string()), "{err}");
    }

    #[tokio::test]
    async fn an_undecodable_row_names_its_session() {
        let d = dir();
        let store = SqliteStore::open(d.path().join("s.sqlite")).await.unwrap();
        let id = SessionId::new();
        let key = id.to_string();
        store
            .with_conn(move |c, _| {
                c.execute(
                    "INSERT INTO sessions VALUES (?1, 'ann', 0, '{\"id\": 1, \"future\": true}')",
                    [key],
                )
                .unwrap();
                Ok(())
            })
            .await
            .unwrap();
        let err = store.load(id).await.unwrap_err().to_string();
        assert!(err.contains(&format!("session `{id}`")), "{err}");
        assert!(err.contains("newer version"), "{err}");
        // Listing and removal still work around it.
        assert_eq!(store.list_user("ann").await.unwrap(), [id]);
        assert_eq!(store.remove_idle(Utc::now()).await.unwrap(), [id]);
    }

    #[tokio::test]
    async fn a_malformed_id_is_an_error_not_a_panic() {
        let d = dir();
        let store = SqliteStore::open(d.path().join("s.sqlite")).await.unwrap();
        store
            .with_conn(|c, _| {
                c.execute("INSERT INTO sessions VALUES ('x', 'ann', 0, '{}')", [])
                    .unwrap();
                Ok(())
            })
            .await
            .unwrap();
        let err = store.list_user("ann").await.unwrap_err().to_string();
        assert!(err.contains("malformed session id `x`"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn decoding_arbitrary_text_never_panics(text in "\\PC{0,200}") {
            let _ = decode("x", Path::new("s.sqlite"), &text);
        }

        #[test]
        fn decoding_mangled_sessions_never_panics(cut in 0usize..400, junk in "\\PC{0,8}") {
            let json = serde_json::to_string(&Session::new("ann", "db")).unwrap();
            let mut cut = cut.min(json.len());
            while !json.is_char_boundary(cut) {
                cut -= 1;
            }
            let text = format!("{}{junk}{}", &json[..cut], &json[cut..]);
            let _ = decode("x", Path::new("s.sqlite"), &text);
        }
    }
}
