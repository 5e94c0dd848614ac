use std::sync::Arc;

use cbi_models::OllamaChat;
use cbi_types::config::Secret;
use cbi_types::{CompletionRequest, FinishReason, LanguageModel};
use serde_json::{Value, json};

use crate::server::{End, MockServer, Reply};
use crate::vendor::{self, KEY, TIMEOUT, Vendor, request, stream};

fn ollama(url: &str) -> Arc<dyn LanguageModel> {
    Arc::new(
        OllamaChat::new(url, "qwen2.5-coder:7b", Some(Secret::new(KEY)))
            .expect("base URL")
            .with_timeout(TIMEOUT),
    )
}

fn error_body(message: &str) -> Value {
    json!({"error": message})
}

fn answer() -> Value {
    json!({
        "model": "qwen2.5-coder:7b",
        "created_at": "2024-11-01T12:00:00.000000Z",
        "message": {"role": "assistant", "content": "SELECT COUNT(*) FROM orders"},
        "done_reason": "stop",
        "done": true,
        "total_duration": 4_883_583_458u64,
        "load_duration": 1_334_875u64,
        "prompt_eval_count": 26,
        "prompt_eval_duration": 342_546_000u64,
        "eval_count": 8,
        "eval_duration": 4_535_599_000u64
    })
}

fn piece(text: &str) -> Value {
    json!({"model": "qwen2.5-coder:7b", "created_at": "2024-11-01T12:00:00Z",
           "message": {"role": "assistant", "content": text}, "done": false})
}

fn streamed(end: End, finished: bool) -> Reply {
    let mut lines = vec![piece("SELECT COUNT(*)"), piece(" FROM orders")];
    if finished {
        lines.push(
            json!({"model": "qwen2.5-coder:7b", "created_at": "2024-11-01T12:00:01Z",
            "message": {"role": "assistant", "content": ""}, "done_reason": "length", "done": true,
            "total_duration": 1, "prompt_eval_count": 26, "eval_count": 8}),
        );
    }
    Reply::ndjson(&lines, end)
}

#[tokio::test]
async fn completes_and_sends_the_documented_request() {
    let server = MockServer::start(vec![Reply::json(200, answer())]).await;
    let completion = ollama(&server.url)
        .complete(&request())
        .await
        .expect("completion");
    assert_eq!(completion.text, "SELECT COUNT(*) FROM orders");
    assert_eq!(
        (
            completion.usage.prompt_tokens,
            completion.usage.completion_tokens
        ),
        (26, 8)
    );
    assert_eq!(completion.model, "qwen2.5-coder:7b");
    assert_eq!(completion.finish_reason, FinishReason::Stop);
    let sent = server.only_request();
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path, "/api/chat");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(
        sent.body,
        json!({
            "model": "qwen2.5-coder:7b",
            "messages": [
                {"role": "system", "content": "You write SQLite."},
                {"role": "user", "content": "How many orders?"}
            ],
            "stream": false,
            "options": {"temperature": 0.25, "num_predict": 64, "stop": [";"]}
        })
    );
}

#[tokio::test]
async fn a_local_server_gets_no_key_and_empty_options() {
    let server = MockServer::start(vec![Reply::json(200, answer())]).await;
    let model = OllamaChat::new(&server.url, "llama3.2", None).expect("base URL");
    let request = CompletionRequest {
        messages: vec![cbi_types::ChatMessage::user("Hi")],
        grammar: Some("root ::= \"x\"".into()),
        ..Default::default()
    };
    model.complete(&request).await.expect("completion");
    let sent = server.only_request();
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(
        sent.body,
        json!({"model": "llama3.2", "messages": [{"role": "user", "content": "Hi"}], "stream": false, "options": {}})
    );
}

#[tokio::test]
async fn streams_ndjson_up_to_the_done_line() {
    let server = MockServer::start(vec![streamed(End::Clean, true)]).await;
    let (deltas, result) = stream(ollama(&server.url).as_ref(), &request()).await;
    let completion = result.expect("completion");
    assert_eq!(deltas, ["SELECT COUNT(*)", " FROM orders"]);
    assert_eq!(completion.text, "SELECT COUNT(*) FROM orders");
    assert_eq!(
        (
            completion.usage.prompt_tokens,
            completion.usage.completion_tokens
        ),
        (26, 8)
    );
    assert_eq!(completion.finish_reason, FinishReason::Length);
    assert_eq!(server.only_request().body["stream"], json!(true));
}

#[tokio::test]
async fn a_done_line_without_a_final_newline_still_counts() {
    let reply = Reply::Stream {
        content_type: "application/x-ndjson",
        chunks: vec![
            format!("{}\n", piece("SELECT 1")),
            r#"{"model":"m","message":{"role":"assistant","content":""},"done":true,"prompt_eval_count":3,"eval_count":2}"#.into(),
        ],
        end: End::Clean,
    };
    let server = MockServer::start(vec![reply]).await;
    let completion = stream(ollama(&server.url).as_ref(), &request())
        .await
        .1
        .expect("completion");
    assert_eq!(
        (completion.text.as_str(), completion.usage.total()),
        ("SELECT 1", 5)
    );
}

#[tokio::test]
async fn an_error_line_mid_stream_fails_the_call() {
    let reply = Reply::ndjson(
        &[
            piece("SEL"),
            json!({"error": "an unknown error was encountered while running the model"}),
        ],
        End::Clean,
    );
    let server = MockServer::start(vec![reply]).await;
    let error = stream(ollama(&server.url).as_ref(), &request())
        .await
        .1
        .expect_err("error line");
    assert!(
        matches!(&error, cbi_types::Error::Model(m) if m.contains("ollama") && m.contains("unknown error")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_model_that_is_not_pulled_is_a_rejected_request() {
    let server = MockServer::start(vec![Reply::json(
        404,
        json!({"error": "model \"nope\" not found, try pulling it first"}),
    )])
    .await;
    let error = ollama(&server.url)
        .complete(&request())
        .await
        .expect_err("404");
    assert_eq!(
        error.to_string(),
        "invalid input: ollama rejected the request (HTTP 404): model \"nope\" not found, try pulling it first"
    );
}

#[tokio::test]
async fn failures() {
    vendor::check_failures(&Vendor {
        provider: "ollama",
        build: ollama,
        error_body,
        answer,
        broken_stream: || streamed(End::Cut, false),
    })
    .await;
}
