//! Conversation sessions for cbi: who is talking, about which database, and the turns so far.
//!
//! The entry point is [`SessionManager`], which holds the policy — a per-user limit on live
//! sessions, expiry after an idle timeout, trimming each context to its newest `max_turns`
//! turns, and per-session locking so concurrent turns are not lost — over any
//! [`cbi_types::SessionStore`]. The stores are here too: [`MemoryStore`] (always built),
//! `SqliteStore` (feature `sqlite`, on by default, so a conversation survives a restart) and
//! `RedisStore` (feature `redis`, so several processes share sessions). [`open_store`] picks
//! one from the configuration file's `session:` section.
//!
//! This crate is not the conversation logic: it never interprets turns, resolves references
//! or talks to a database or model. It stores what the engine hands it and hands it back.

mod error;
mod manager;
mod memory;
#[cfg(feature = "redis")]
mod redis_store;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cbi_types::SessionStore;
use cbi_types::config::SessionStoreKind;

pub use error::{Error, Result};
pub use manager::{ExpiryTask, SessionConfig, SessionManager};
pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis_store::RedisStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// Opens the store the configuration asks for.
///
/// - `memory`: a fresh [`MemoryStore`].
/// - `sqlite` (the default): a `SqliteStore` at `path`, or at [`default_sqlite_path`] when
///   none is given; missing parent directories are created.
/// - `redis`: a `RedisStore` at `redis_url` under `redis_prefix`, whose keys expire after
///   `idle_timeout_minutes`.
///
/// A store this build was compiled without (see the crate features) is an [`Error::Config`]
/// saying which feature to enable.
pub async fn open_store(
    config: &cbi_types::config::SessionConfig,
) -> Result<Arc<dyn SessionStore>> {
    match config.store {
        SessionStoreKind::Memory => Ok(Arc::new(MemoryStore::new())),
        SessionStoreKind::Sqlite => open_sqlite(config).await,
        SessionStoreKind::Redis => open_redis(config).await,
    }
}

#[cfg(feature = "sqlite")]
async fn open_sqlite(config: &cbi_types::config::SessionConfig) -> Result<Arc<dyn SessionStore>> {
    let path = match &config.path {
        Some(p) => p.clone(),
        None => default_sqlite_path()?,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            cbi_types::Error::Store(format!(
                "cannot create the directory {} for the session file: {e}",
                dir.display()
            ))
        })?;
    }
    Ok(Arc::new(SqliteStore::open(path).await?))
}

#[cfg(not(feature = "sqlite"))]
async fn open_sqlite(_: &cbi_types::config::SessionConfig) -> Result<Arc<dyn SessionStore>> {
    Err(Error::Config(
        "session.store is sqlite, but this build of cbi has no SQLite session store; \
         rebuild with the `sqlite` feature of cbi-session or choose `memory` or `redis`"
            .into(),
    ))
}

#[cfg(feature = "redis")]
async fn open_redis(config: &cbi_types::config::SessionConfig) -> Result<Arc<dyn SessionStore>> {
    let url = config.redis_url.as_ref().ok_or_else(|| {
        Error::Config("session.redis_url is required when session.store is redis".into())
    })?;
    let ttl = std::time::Duration::from_secs(config.idle_timeout_minutes.saturating_mul(60));
    let store = RedisStore::connect(url.expose(), config.redis_prefix.clone(), ttl).await?;
    Ok(Arc::new(store))
}

#[cfg(not(feature = "redis"))]
async fn open_redis(_: &cbi_types::config::SessionConfig) -> Result<Arc<dyn SessionStore>> {
    Err(Error::Config(
        "session.store is redis, but this build of cbi has no Redis session store; \
         rebuild with the `redis` feature of cbi-session or choose `sqlite` or `memory`"
            .into(),
    ))
}

/// Where the SQLite session file goes when the configuration names none:
/// `$CBI_DATA_DIR/sessions.sqlite`, else `$XDG_DATA_HOME/cbi/sessions.sqlite`, else
/// `~/.local/share/cbi/sessions.sqlite`.
///
/// Fails only when none of `CBI_DATA_DIR`, `XDG_DATA_HOME` and `HOME` is usable.
pub fn default_sqlite_path() -> Result<PathBuf> {
    default_sqlite_path_from(|k| std::env::var_os(k).map(PathBuf::from)).ok_or_else(|| {
        Error::Config(
            "no place for the session file: set session.path, CBI_DATA_DIR or HOME".into(),
        )
    })
}

/// [`default_sqlite_path`] over any environment. Empty variables count as unset, and a
/// relative `XDG_DATA_HOME` is ignored, as the XDG base directory specification asks.
fn default_sqlite_path_from(env: impl Fn(&str) -> Option<PathBuf>) -> Option<PathBuf> {
    const FILE: &str = "sessions.sqlite";
    let var = |k: &str| env(k).filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = var("CBI_DATA_DIR") {
        return Some(dir.join(FILE));
    }
    if let Some(dir) = var("XDG_DATA_HOME").filter(|p| p.is_absolute()) {
        return Some(dir.join("cbi").join(FILE));
    }
    var("HOME").map(|home| {
        Path::new(&home)
            .join(".local")
            .join("share")
            .join("cbi")
            .join(FILE)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<PathBuf> + 'a {
        move |k| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| PathBuf::from(v))
        }
    }

    #[test]
    fn default_path_precedence() {
        let all = [
            ("CBI_DATA_DIR", "/data/cbi"),
            ("XDG_DATA_HOME", "/xdg"),
            ("HOME", "/home/ann"),
        ];
        let check = |vars: &[(&str, &str)], want: Option<&str>| {
            assert_eq!(
                default_sqlite_path_from(env(vars)),
                want.map(PathBuf::from),
                "{vars:?}"
            );
        };
        check(&all, Some("/data/cbi/sessions.sqlite"));
        check(&all[1..], Some("/xdg/cbi/sessions.sqlite"));
        check(
            &all[2..],
            Some("/home/ann/.local/share/cbi/sessions.sqlite"),
        );
        check(
            &[
                ("CBI_DATA_DIR", ""),
                ("XDG_DATA_HOME", "rel"),
                ("HOME", "/h"),
            ],
            Some("/h/.local/share/cbi/sessions.sqlite"),
        );
        check(&[], None);
    }

    #[tokio::test]
    async fn memory_from_config() {
        let config = cbi_types::config::SessionConfig {
            store: SessionStoreKind::Memory,
            ..Default::default()
        };
        let store = open_store(&config).await.unwrap();
        assert!(format!("{store:?}").starts_with("MemoryStore"));
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn sqlite_from_config_creates_parent_directories() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/sessions.sqlite");
        let config = cbi_types::config::SessionConfig {
            path: Some(path.clone()),
            ..Default::default()
        };
        let manager = SessionManager::open(&config).await.unwrap();
        let id = manager.create("ann", "db").await.unwrap();
        assert!(path.is_file());
        drop(manager);
        let again = SessionManager::open(&config).await.unwrap();
        assert_eq!(again.get(id).await.unwrap().user_id, "ann");
    }

    #[cfg(not(feature = "redis"))]
    #[tokio::test]
    async fn redis_without_the_feature_says_so() {
        let config = cbi_types::config::SessionConfig {
            store: SessionStoreKind::Redis,
            ..Default::default()
        };
        let err = open_store(&config).await.unwrap_err().to_string();
        assert!(err.contains("`redis` feature"), "{err}");
    }

    #[cfg(feature = "redis")]
    #[tokio::test]
    async fn redis_without_a_url_says_so() {
        let config = cbi_types::config::SessionConfig {
            store: SessionStoreKind::Redis,
            ..Default::default()
        };
        let err = open_store(&config).await.unwrap_err().to_string();
        assert!(err.contains("session.redis_url is required"), "{err}");
    }
}
