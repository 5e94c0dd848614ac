#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A real MCP client session (rmcp's client) against cbi's MCP server, over an in-process
//! byte stream (what stdio carries) and over streamable HTTP on 127.0.0.1:0.

use std::sync::Arc;

use cbi_engine::{ConversationalBiEngine, EngineOptions, Principal};
use cbi_mcp::CbiMcp;
use cbi_session::{MemoryStore, SessionManager};
use cbi_types::Config;
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::service::{RoleClient, RunningService};
use serde_json::{Value, json};

struct Demo {
    _dir: tempfile::TempDir,
    engine: Arc<ConversationalBiEngine>,
    key: String,
}

async fn demo() -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("retail.sqlite");
    cbi_demo::write_sqlite(&path, cbi_demo::DemoSize::SMALL).unwrap();
    let semantic = dir.path().join("retail.semantic.yaml");
    std::fs::write(&semantic, cbi_demo::SEMANTIC_YAML).unwrap();
    let config = Config::default();
    let sessions = Arc::new(SessionManager::new(
        Arc::new(MemoryStore::new()),
        (&config.session).into(),
    ));
    let engine = ConversationalBiEngine::with_sessions(config, sessions, EngineOptions::default());
    let key = engine
        .open(&path.display().to_string(), Some(&semantic))
        .await
        .unwrap();
    Demo {
        _dir: dir,
        engine: Arc::new(engine),
        key,
    }
}

/// Calls a tool; returns its text and whether it is an error result.
async fn call(
    client: &RunningService<RoleClient, ()>,
    tool: &'static str,
    args: Value,
) -> (String, bool) {
    let mut params = CallToolRequestParams::new(tool);
    if let Value::Object(map) = args {
        params = params.with_arguments(map);
    }
    let result = client.call_tool(params).await.unwrap();
    let text = result
        .content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .unwrap_or_default();
    (text, result.is_error == Some(true))
}

/// The session every transport must give: the tools listed, a question and its follow-up,
/// SQL, refusals as error results, the schema and a plan.
async fn exercise(client: &RunningService<RoleClient, ()>) {
    let info = client.peer_info().expect("the server introduced itself");
    assert_eq!(info.server_info.name, "cbi");
    assert!(
        info.instructions
            .as_deref()
            .unwrap_or("")
            .contains("session_id")
    );
    let mut tools: Vec<String> = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    tools.sort();
    assert_eq!(tools, ["ask", "explain", "schema", "sql"]);

    let (text, error) = call(
        client,
        "ask",
        json!({"question": "total revenue by region"}),
    )
    .await;
    assert!(!error, "{text}");
    let first: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(first["columns"], json!(["region", "revenue"]), "{first}");
    assert_eq!(first["row_count"], json!(5));
    let (text, error) = call(
        client,
        "ask",
        json!({"question": "which had the highest?", "session_id": first["session_id"]}),
    )
    .await;
    assert!(!error, "{text}");
    let second: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(second["row_count"], json!(1), "{second}");
    assert_eq!(second["turn_id"], json!(2));

    let (text, error) = call(
        client,
        "sql",
        json!({"sql": "SELECT COUNT(*) AS n FROM regions"}),
    )
    .await;
    assert!(!error, "{text}");
    let rows: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(rows["rows"], json!([[5]]), "{rows}");
    let (text, error) = call(client, "sql", json!({"sql": "DROP TABLE regions"})).await;
    assert!(error, "{text}");
    assert!(text.contains("read-only"), "{text}");
    let (text, error) = call(
        client,
        "ask",
        json!({"question": "anything", "session_id": "nope"}),
    )
    .await;
    assert!(error && text.contains("not a session id"), "{text}");

    let (text, error) = call(client, "schema", json!({})).await;
    assert!(!error, "{text}");
    assert!(
        text.contains("table orders") && text.contains("relationships"),
        "{text}"
    );
    let (text, error) = call(
        client,
        "explain",
        json!({"sql": "SELECT * FROM orders WHERE order_id = 3"}),
    )
    .await;
    assert!(!error && !text.is_empty(), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_session_over_a_byte_stream() {
    let d = demo().await;
    let server = CbiMcp::new(d.engine.clone(), d.key.clone(), Principal::new("mcp"));
    let (server_io, client_io) = tokio::io::duplex(1 << 16);
    let served = tokio::spawn(async move {
        server
            .serve(server_io)
            .await
            .unwrap()
            .waiting()
            .await
            .unwrap();
    });
    let client = ().serve(client_io).await.unwrap();
    exercise(&client).await;
    client.cancel().await.unwrap();
    served.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_session_over_streamable_http() {
    let d = demo().await;
    let server = CbiMcp::new(d.engine.clone(), d.key.clone(), Principal::new("mcp"));
    let cancel = tokio_util::sync::CancellationToken::new();
    let app = cbi_mcp::http_router(server, cancel.child_token());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = cancel.clone();
    let served = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
            .unwrap();
    });
    let transport =
        rmcp::transport::StreamableHttpClientTransport::from_uri(format!("http://{addr}/mcp"));
    let client = ().serve(transport).await.unwrap();
    exercise(&client).await;
    client.cancel().await.unwrap();
    cancel.cancel();
    served.await.unwrap();
}
