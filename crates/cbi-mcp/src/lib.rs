//! cbi as a Model Context Protocol server, on the official Rust SDK (`rmcp`).
//!
//! [`CbiMcp`] exposes four tools, each one call through the engine's door for one
//! [`Principal`]: `ask` (a question in plain words, optionally continuing a conversation by its
//! `session_id`; the answer is the engine's one JSON shape), `sql` (read-only SQL under the
//! same validator, limits and allow-list), `schema` (the tables and columns answers are given
//! over) and `explain` (the database's plan for a statement). A failure is a tool result
//! marked as an error, with the engine's message, so the calling model can read it and retry.
//!
//! Transports: [`serve_stdio`] (for a desktop assistant that starts `cbi mcp`) and
//! [`http_service`], the streamable HTTP transport as a tower service to mount in an axum
//! router (`cbi mcp --http`), which only accepts loopback `Host` headers.
//!
//! Invariant: the server reaches the database only through the engine, so everything it runs
//! passed the validator.

use std::sync::Arc;

use cbi_engine::{ConversationalBiEngine, Principal};
use cbi_types::AugmentedSchema;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{Implementation, ServerCapabilities, ServerInfo};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use serde::Deserialize;

/// What the server tells a client it is for.
const INSTRUCTIONS: &str = "cbi answers questions about a database in plain words. Use `ask` \
    for questions (pass the returned session_id to ask follow-ups such as \"which had the \
    highest?\"), `schema` to see the tables and columns, `sql` to run read-only SQL, and \
    `explain` for a statement's plan. Every statement is validated and runs read-only under a \
    row cap and a time limit.";

/// The MCP server: an engine, the database it answers over, and who is asking.
#[derive(Debug, Clone)]
pub struct CbiMcp {
    engine: Arc<ConversationalBiEngine>,
    database: String,
    who: Principal,
}

impl CbiMcp {
    /// A server answering `who` over the attached database `database`.
    pub fn new(
        engine: Arc<ConversationalBiEngine>,
        database: impl Into<String>,
        who: Principal,
    ) -> Self {
        CbiMcp {
            engine,
            database: database.into(),
            who,
        }
    }
}

/// Arguments of `ask`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct AskArgs {
    /// The question, in plain words.
    pub question: String,
    /// The conversation to continue (from an earlier answer); a new one when absent.
    #[serde(default)]
    pub session_id: Option<String>,
}

/// Arguments of `sql` and `explain`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SqlArgs {
    /// One read-only SQL statement.
    pub sql: String,
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

#[tool_router]
impl CbiMcp {
    #[tool(
        description = "Answer a question about the database in plain words. Returns JSON: the SQL that ran, columns, rows, confidence, an explanation and a session_id to pass back for follow-up questions. When cbi needs a choice it returns a clarification with options; answer with the option's number or label in the same session."
    )]
    async fn ask(&self, Parameters(args): Parameters<AskArgs>) -> Result<String, String> {
        let session = match args.session_id.as_deref() {
            Some(id) => id
                .parse()
                .map_err(|_| format!("`{id}` is not a session id"))?,
            None => self
                .engine
                .start_session_replacing_oldest(&self.who, &self.database)
                .await
                .map_err(|e| e.to_string())?,
        };
        let answer = self
            .engine
            .ask(&self.who, session, &args.question)
            .await
            .map_err(|e| e.to_string())?;
        Ok(pretty(&answer.to_json()))
    }

    #[tool(
        description = "Run one read-only SQL statement (validated: a single query over known tables and columns; a row cap and a time limit apply). Returns JSON with columns and rows."
    )]
    async fn sql(&self, Parameters(args): Parameters<SqlArgs>) -> Result<String, String> {
        let (ran, r) = self
            .engine
            .sql(&self.who, &self.database, &args.sql)
            .await
            .map_err(|e| e.to_string())?;
        Ok(pretty(&cbi_engine::result_json(&ran, &r)))
    }

    #[tool(
        description = "The database's tables with their columns, types and descriptions, and how tables relate."
    )]
    async fn schema(&self) -> Result<String, String> {
        let s = self
            .engine
            .describe(&self.who, &self.database)
            .await
            .map_err(|e| e.to_string())?;
        Ok(render_schema(&s))
    }

    #[tool(description = "The database's query plan for one read-only SQL statement.")]
    async fn explain(&self, Parameters(args): Parameters<SqlArgs>) -> Result<String, String> {
        self.engine
            .explain_sql(&self.who, &self.database, &args.sql)
            .await
            .map_err(|e| e.to_string())
    }
}

#[tool_handler]
impl ServerHandler for CbiMcp {
    fn get_info(&self) -> ServerInfo {
        ServerInfo::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("cbi", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }
}

/// The schema as text a model reads well: one block per table, a line per column.
fn render_schema(s: &AugmentedSchema) -> String {
    let mut out = format!("database {} ({})\n", s.schema.name, s.schema.dialect.name());
    for t in &s.schema.tables {
        let profile = s.tables.iter().find(|p| p.name == t.name);
        out.push_str(&format!("\ntable {}", t.name));
        if let Some(p) = profile.filter(|p| !p.description.is_empty()) {
            out.push_str(&format!(": {}", p.description));
        }
        out.push('\n');
        for c in &t.columns {
            out.push_str(&format!("  {} {}", c.name, c.data_type));
            if t.primary_key.contains(&c.name) {
                out.push_str(" primary key");
            }
            let desc = profile
                .and_then(|p| p.columns.iter().find(|x| x.name == c.name))
                .map(|p| p.description.as_str())
                .filter(|d| !d.is_empty());
            if let Some(d) = desc {
                out.push_str(&format!(" — {d}"));
            }
            out.push('\n');
        }
    }
    if !s.schema.relationships.is_empty() {
        out.push_str("\nrelationships\n");
        for r in &s.schema.relationships {
            out.push_str(&format!(
                "  {}({}) -> {}({})\n",
                r.from_table,
                r.from_columns.join(", "),
                r.to_table,
                r.to_columns.join(", ")
            ));
        }
    }
    out
}

/// Serves MCP on this process's stdin and stdout until the client disconnects.
pub async fn serve_stdio(server: CbiMcp) -> std::io::Result<()> {
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(std::io::Error::other)?;
    running.waiting().await.map_err(std::io::Error::other)?;
    Ok(())
}

/// The streamable HTTP transport as a tower service (mount it at `/mcp`); each MCP session
/// gets a clone of `server`. It stops when `cancel` is cancelled, and accepts only requests
/// whose `Host` is a loopback name.
pub fn http_service(
    server: CbiMcp,
    cancel: tokio_util::sync::CancellationToken,
) -> StreamableHttpService<CbiMcp, LocalSessionManager> {
    StreamableHttpService::new(
        move || Ok(server.clone()),
        LocalSessionManager::default().into(),
        StreamableHttpServerConfig::default().with_cancellation_token(cancel),
    )
}

/// An axum router serving [`http_service`] at `/mcp`.
pub fn http_router(server: CbiMcp, cancel: tokio_util::sync::CancellationToken) -> axum::Router {
    axum::Router::new().nest_service("/mcp", http_service(server, cancel))
}

/// Serves [`http_router`] on `listener` until `shutdown` completes, then ends every MCP
/// session and lets requests in flight finish.
pub async fn serve_http(
    listener: tokio::net::TcpListener,
    server: CbiMcp,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let cancel = tokio_util::sync::CancellationToken::new();
    let app = http_router(server, cancel.child_token());
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            cancel.cancel();
        })
        .await
}
