//! The commands, and what they share: which database to open and how, its semantic file, and
//! the limits every query runs under.

pub mod ask;
pub mod chat;
pub mod conversation;
pub mod mcp;
pub mod schema;
pub mod semantic_init;
pub mod serve;
pub mod sessions;
pub mod sql;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use cbi_db::{ConnectOptions, ConnectionUrl};
use cbi_types::{Config, Connection, QueryLimits};

use crate::cli::MAX_TIMEOUT_SECS;
use crate::{config, demo, semantic};

/// How a command ended, when it did not fail: the process's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit code 0.
    Done,
    /// `cbi ask` got a clarifying question back instead of an answer: exit code 3, so a script
    /// can tell "ask more precisely" from success (0) and failure (1).
    NeedsClarification,
}

/// An open database and the URL it was opened with (the demo resolved to its file).
#[derive(Debug)]
pub struct Opened {
    pub conn: Arc<dyn Connection>,
    pub url: ConnectionUrl,
}

/// What every command gets: the configuration in force and the global flags.
#[derive(Debug)]
pub struct Context {
    pub config: Config,
    /// The file the configuration came from; `None` for the built-in defaults.
    pub config_path: Option<PathBuf>,
    /// `--db`, when given.
    pub db: Option<String>,
}

/// The database a command talks to, decided from `--db`, then `database.url`, then the demo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The bundled demo database (generated on first use).
    Demo,
    Url(ConnectionUrl),
}

impl Context {
    /// Chooses the database. Relative SQLite paths in the config file are taken relative to
    /// that file, like every other path in it; on the command line they are relative to the
    /// working directory, as usual.
    pub fn target(&self) -> anyhow::Result<Target> {
        if let Some(db) = &self.db {
            if demo::is_demo(db) {
                return Ok(Target::Demo);
            }
            return Ok(Target::Url(ConnectionUrl::parse(db)?));
        }
        let Some(url) = &self.config.database.url else {
            return Ok(Target::Demo);
        };
        let url = url.expose();
        if demo::is_demo(url) {
            return Ok(Target::Demo);
        }
        let file = self.config_path.as_deref().map_or_else(
            || "the configuration".to_string(),
            |p| format!("config file {}", p.display()),
        );
        let mut parsed =
            ConnectionUrl::parse(url).with_context(|| format!("{file}: database.url"))?;
        if let (ConnectionUrl::Sqlite { path }, Some(base)) =
            (&mut parsed, config::base_dir(self.config_path.as_deref()))
        {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        }
        Ok(Target::Url(parsed))
    }

    /// Opens the chosen database, read-only, generating the demo first when it is the demo and
    /// is not there yet.
    pub async fn connect(&self) -> anyhow::Result<Arc<dyn Connection>> {
        Ok(self.open().await?.conn)
    }

    /// Like [`Context::connect`], keeping the URL too (for the semantic file beside a SQLite
    /// database, and the name sessions refer to it by).
    pub async fn open(&self) -> anyhow::Result<Opened> {
        let url = match self.target()? {
            Target::Url(url) => url,
            Target::Demo => {
                let path = tokio::task::spawn_blocking(demo::ensure)
                    .await
                    .context("the demo generation task failed")??;
                ConnectionUrl::Sqlite { path }
            }
        };
        // `ConnectionUrl` displays without the password, so it is safe to log.
        tracing::info!(database = %url, "connecting");
        let conn = url.connect(&ConnectOptions::default()).await?;
        // Said once per command, on stderr, so it never mixes with results.
        if let Some(w) = conn.privilege_warning() {
            eprintln!("warning: {w}");
        }
        Ok(Opened { conn, url })
    }

    /// The semantic file for a database: `--semantic`, then `database.semantic_file`, then the
    /// file beside a SQLite database (see [`crate::semantic`]).
    pub fn semantic_file(&self, flag: Option<&Path>, url: &ConnectionUrl) -> Option<PathBuf> {
        semantic::find(flag, self.config.database.semantic_file.as_deref(), url)
    }

    /// Row cap and time limit: the flags, else the config's `performance` section. The time
    /// limit is checked here because a huge one would overflow `Duration` arithmetic below.
    pub fn limits(
        &self,
        max_rows: Option<u64>,
        timeout: Option<Duration>,
    ) -> anyhow::Result<QueryLimits> {
        let perf = &self.config.performance;
        let max_rows = match max_rows {
            Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
            None => perf.max_rows,
        };
        let timeout = match timeout {
            Some(t) => t,
            None => {
                let secs = perf.query_timeout_secs;
                if !(secs.is_finite() && secs > 0.0 && secs <= MAX_TIMEOUT_SECS) {
                    return Err(anyhow!(
                        "performance.query_timeout_secs: must be between 0 and {MAX_TIMEOUT_SECS} seconds, got {secs}"
                    ));
                }
                Duration::from_secs_f64(secs)
            }
        };
        Ok(QueryLimits::rows(max_rows)
            .with_timeout(timeout)
            .with_max_bytes(perf.max_result_bytes.max(1)))
    }
}

#[cfg(test)]
mod tests {
    use cbi_types::config::Secret;

    use super::*;

    fn ctx(db: Option<&str>, url: Option<&str>, path: Option<&str>) -> Context {
        let mut config = Config::default();
        config.database.url = url.map(Secret::new);
        Context {
            config,
            config_path: path.map(PathBuf::from),
            db: db.map(str::to_string),
        }
    }

    fn sqlite(p: &str) -> Target {
        Target::Url(ConnectionUrl::Sqlite { path: p.into() })
    }

    #[test]
    fn flag_then_config_then_demo() {
        assert_eq!(ctx(None, None, None).target().unwrap(), Target::Demo);
        assert_eq!(
            ctx(Some("demo"), Some("x.db"), None).target().unwrap(),
            Target::Demo
        );
        assert_eq!(
            ctx(Some("a.db"), Some("x.db"), None).target().unwrap(),
            sqlite("a.db")
        );
        assert_eq!(
            ctx(None, Some("x.db"), None).target().unwrap(),
            sqlite("x.db")
        );
        assert_eq!(
            ctx(None, Some("Demo"), None).target().unwrap(),
            Target::Demo
        );
        assert_eq!(
            ctx(None, Some("x.db"), Some("/etc/cbi/config.yaml"))
                .target()
                .unwrap(),
            sqlite("/etc/cbi/x.db")
        );
        assert_eq!(
            ctx(None, Some("/abs/x.db"), Some("/etc/cbi/config.yaml"))
                .target()
                .unwrap(),
            sqlite("/abs/x.db")
        );
    }

    #[test]
    fn bad_urls_name_their_origin_and_hide_passwords() {
        let e = ctx(None, Some("mongodb://u:secret@h/db"), Some("c.yaml"))
            .target()
            .unwrap_err();
        let line = crate::one_line(&e);
        assert!(
            line.starts_with("config file c.yaml: database.url: unsupported scheme `mongodb`"),
            "{line}"
        );
        assert!(!line.contains("secret"));
        let e = ctx(Some("postgres://u:secret@h:99999/db"), None, None)
            .target()
            .unwrap_err();
        assert!(!crate::one_line(&e).contains("secret"));
    }
}
