//! `cbi mcp` as an assistant runs it: JSON-RPC lines on its stdin, answers on its stdout,
//! everything else on stderr.

use serde_json::{Value, json};

use crate::support::Cbi;

#[test]
fn tools_answer_over_stdio() {
    let cbi = Cbi::new();
    let lines = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "test", "version": "0"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
            "name": "ask", "arguments": {"question": "How many customers are there?"}}}),
        json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {
            "name": "sql", "arguments": {"sql": "DELETE FROM customers"}}}),
    ];
    let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let run = cbi.run_stdin(&["mcp"], &input);
    assert_eq!(run.code, Some(0), "{run:?}");
    // stdout is the protocol only: every line is a JSON-RPC message.
    let replies: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let reply = |id: i64| {
        replies
            .iter()
            .find(|r| r["id"] == json!(id))
            .unwrap_or_else(|| panic!("no reply {id} in {replies:?}"))
    };
    assert_eq!(reply(1)["result"]["serverInfo"]["name"], "cbi");
    let tools: Vec<&str> = reply(2)["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(tools.len(), 4, "{tools:?}");
    let answer = &reply(3)["result"];
    assert_ne!(answer["isError"], json!(true), "{answer}");
    let text: Value = serde_json::from_str(answer["content"][0]["text"].as_str().unwrap()).unwrap();
    let demo = cbi.demo_db();
    let customers = crate::support::sqlite_scalar(&demo, "SELECT count(*) FROM customers");
    assert_eq!(text["rows"][0][0], customers, "{text}");
    let refused = &reply(4)["result"];
    assert_eq!(refused["isError"], json!(true), "{refused}");
    assert!(
        refused["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("read-only"),
        "{refused}"
    );
    assert!(run.stderr.contains("cbi mcp: serving"), "{}", run.stderr);
}
