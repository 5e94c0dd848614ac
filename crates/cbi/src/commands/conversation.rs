//! What `cbi ask` and `cbi chat` share: an engine over the chosen database with its semantic
//! file, and engine errors in the words `cbi sql` uses.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cbi_db::ConnectionUrl;
use cbi_engine::{ConversationalBiEngine, EngineOptions};
use cbi_session::SessionManager;
use cbi_types::{Config, Connection, SemanticModel};

use super::{Context, Opened};

/// An engine with one database attached.
#[derive(Debug)]
pub struct Conversation {
    pub engine: ConversationalBiEngine,
    /// The name sessions refer to the database by.
    pub key: String,
    pub conn: Arc<dyn Connection>,
    /// The semantic file in use, if any.
    pub semantic: Option<PathBuf>,
}

impl Conversation {
    /// Opens the database the context names, loads and checks its semantic file (see
    /// [`crate::semantic`]) and attaches both to a fresh engine. `config` is the context's
    /// configuration with any command-line overrides applied.
    pub async fn start(
        ctx: &Context,
        config: Config,
        semantic_flag: Option<&Path>,
        model_spec: Option<&str>,
        sessions: Arc<SessionManager>,
        opts: EngineOptions,
    ) -> anyhow::Result<Conversation> {
        let Opened { conn, url } = ctx.open().await?;
        let semantic = ctx.semantic_file(semantic_flag, &url);
        let model = match &semantic {
            Some(path) => crate::semantic::load_checked(path, &conn).await?,
            None => SemanticModel::default(),
        };
        let key = database_key(&url);
        // A configured model that cannot be set up (no key, unknown provider) is said once; the
        // embedded generator answers instead.
        let generator = match model_spec {
            // Asked for by name: a model that cannot be set up is an error.
            Some(spec) => Ok(cbi_engine::generator_from_spec(spec, &config)?),
            None => cbi_engine::generator_from_config(&config),
        };
        let engine = ConversationalBiEngine::with_sessions(config, sessions, opts);
        let engine = match generator {
            Ok(g) => engine.with_generator(g),
            Err(e) => {
                eprintln!("warning: {e}; the embedded generator answers");
                engine
            }
        };
        engine.attach_connection(&key, conn.clone(), model);
        Ok(Conversation {
            engine,
            key,
            conn,
            semantic,
        })
    }

    /// An engine for a long-running front end (`serve`, `mcp`): sessions in the configured
    /// store, idle ones removed every minute while the returned task lives, and the schema
    /// read and checked before the first request. Returns the engine, the database's key
    /// and the expiry task.
    pub async fn serving(
        ctx: &Context,
        semantic_flag: Option<&Path>,
        model_spec: Option<&str>,
    ) -> anyhow::Result<(Arc<ConversationalBiEngine>, String, cbi_session::ExpiryTask)> {
        let config = ctx.config.clone();
        let sessions = Arc::new(SessionManager::open(&config.session).await?);
        let expiry = sessions.spawn_expiry_task(std::time::Duration::from_secs(60));
        let conv = Self::start(
            ctx,
            config,
            semantic_flag,
            model_spec,
            sessions,
            EngineOptions::default(),
        )
        .await?;
        let engine = Arc::new(conv.engine);
        engine
            .describe(&cbi_engine::Principal::new("cbi"), &conv.key)
            .await?;
        Ok((engine, conv.key, expiry))
    }

    /// `name (dialect)`, for the line a chat starts with.
    pub fn describe(&self) -> String {
        format!(
            "{} ({})",
            self.conn.database_name(),
            self.conn.dialect().name()
        )
    }
}

/// The name a session records its database by: the URL without its password, with a SQLite
/// path made absolute, so `cbi chat --session ID` finds the same database from any working
/// directory.
pub fn database_key(url: &ConnectionUrl) -> String {
    match url {
        ConnectionUrl::Sqlite { path } => {
            let absolute = std::fs::canonicalize(path)
                .or_else(|_| std::path::absolute(path))
                .unwrap_or_else(|_| path.clone());
            ConnectionUrl::Sqlite { path: absolute }.to_string()
        }
        other => other.to_string(),
    }
}

/// An engine error for people: SQL the validator refused reads like `cbi sql`'s refusals
/// (`refused: …` for anything that is not read-only, `invalid SQL: …` otherwise).
pub fn engine_error(e: cbi_engine::Error) -> anyhow::Error {
    match e {
        cbi_engine::Error::Invalid(problems)
        | cbi_engine::Error::Generation(cbi_nl2sql::Error::Invalid(problems)) => {
            super::sql::refusal(&problems)
        }
        other => anyhow::Error::new(other),
    }
}

#[cfg(test)]
mod tests {
    use cbi_nl2sql::{Problem, ProblemKind};

    use super::*;

    #[test]
    fn sqlite_keys_are_absolute_and_servers_hide_passwords() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.db");
        std::fs::write(&file, "").unwrap();
        let key = database_key(&ConnectionUrl::Sqlite { path: file.clone() });
        let canonical = std::fs::canonicalize(&file).unwrap();
        assert_eq!(key, format!("sqlite:{}", canonical.display()));

        let url = ConnectionUrl::parse("postgres://ann:hunter2@db.example:5432/sales").unwrap();
        let key = database_key(&url);
        assert!(!key.contains("hunter2") && key.contains("sales"), "{key}");
    }

    #[test]
    fn refused_sql_reads_like_cbi_sql() {
        let e = engine_error(cbi_engine::Error::Invalid(vec![Problem {
            kind: ProblemKind::NotReadOnly,
            message: "DELETE is not a read-only statement".into(),
            suggestion: None,
        }]));
        assert_eq!(
            e.to_string(),
            "refused: DELETE is not a read-only statement"
        );
        let e = engine_error(cbi_engine::Error::Nothing("the question is empty".into()));
        assert_eq!(e.to_string(), "the question is empty");
    }
}
