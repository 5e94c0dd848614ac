use std::sync::Arc;

use cbi_models::AnthropicChat;
use cbi_types::config::Secret;
use cbi_types::{ChatMessage, CompletionRequest, FinishReason, LanguageModel};
use serde_json::{Value, json};

use crate::server::{End, MockServer, Reply};
use crate::vendor::{self, KEY, TIMEOUT, Vendor, request, stream};

fn anthropic(url: &str) -> Arc<dyn LanguageModel> {
    Arc::new(
        AnthropicChat::new(url, "claude-3-5-haiku-latest", Some(Secret::new(KEY)))
            .expect("base URL")
            .with_timeout(TIMEOUT),
    )
}

fn error_body(message: &str) -> Value {
    json!({"type": "error", "error": {"type": "invalid_request_error", "message": message}})
}

fn answer() -> Value {
    json!({
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": "SELECT COUNT(*) FROM orders"}],
        "model": "claude-3-5-haiku-20241022",
        "stop_reason": "end_turn",
        "stop_sequence": null,
        "usage": {"input_tokens": 25, "output_tokens": 9}
    })
}

fn streamed(end: End, finished: bool) -> Reply {
    let mut events = vec![
        (
            "message_start",
            json!({"type": "message_start", "message": {
            "id": "msg_1", "type": "message", "role": "assistant", "content": [],
            "model": "claude-3-5-haiku-20241022", "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 25, "output_tokens": 1}}}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        ("ping", json!({"type": "ping"})),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "SELECT COUNT(*)"}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": " FROM orders"}}),
        ),
    ];
    if finished {
        events.extend([
            ("content_block_stop", json!({"type": "content_block_stop", "index": 0})),
            ("message_delta", json!({"type": "message_delta", "delta": {"stop_reason": "max_tokens", "stop_sequence": null}, "usage": {"output_tokens": 9}})),
            ("message_stop", json!({"type": "message_stop"})),
        ]);
    }
    Reply::sse(&events, end)
}

#[tokio::test]
async fn completes_and_sends_the_documented_request() {
    let server = MockServer::start(vec![Reply::json(200, answer())]).await;
    let completion = anthropic(&server.url)
        .complete(&request())
        .await
        .expect("completion");
    assert_eq!(completion.text, "SELECT COUNT(*) FROM orders");
    assert_eq!(
        (
            completion.usage.prompt_tokens,
            completion.usage.completion_tokens
        ),
        (25, 9)
    );
    assert_eq!(completion.model, "claude-3-5-haiku-20241022");
    assert_eq!(completion.finish_reason, FinishReason::Stop);
    let sent = server.only_request();
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.header("x-api-key"), Some(KEY));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(
        sent.body,
        json!({
            "model": "claude-3-5-haiku-latest",
            "max_tokens": 64,
            "system": "You write SQLite.",
            "messages": [{"role": "user", "content": "How many orders?"}],
            "temperature": 0.25,
            "stop_sequences": [";"],
            "stream": false
        })
    );
}

#[tokio::test]
async fn max_tokens_is_always_sent_and_systems_are_joined() {
    let server = MockServer::start(vec![Reply::json(200, answer())]).await;
    let request = CompletionRequest {
        messages: vec![
            ChatMessage::system("Rule one."),
            ChatMessage::user("Hi"),
            ChatMessage::assistant("Hello"),
            ChatMessage::system("Rule two."),
            ChatMessage::user("Orders?"),
        ],
        temperature: Some(1.7),
        ..Default::default()
    };
    anthropic(&server.url)
        .complete(&request)
        .await
        .expect("completion");
    let body = server.only_request().body;
    assert_eq!(
        body["max_tokens"],
        json!(cbi_models::defaults::ANTHROPIC_MAX_TOKENS)
    );
    assert_eq!(body["system"], json!("Rule one.\n\nRule two."));
    assert_eq!(body["temperature"], json!(1.0), "Anthropic's maximum");
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": "Orders?"}
        ])
    );
    assert_eq!(body.get("stop_sequences"), None);
}

#[tokio::test]
async fn streams_text_deltas_and_reads_usage_from_message_delta() {
    let server = MockServer::start(vec![streamed(End::Clean, true)]).await;
    let (deltas, result) = stream(anthropic(&server.url).as_ref(), &request()).await;
    let completion = result.expect("completion");
    assert_eq!(deltas, ["SELECT COUNT(*)", " FROM orders"]);
    assert_eq!(completion.text, "SELECT COUNT(*) FROM orders");
    assert_eq!(
        (
            completion.usage.prompt_tokens,
            completion.usage.completion_tokens
        ),
        (25, 9)
    );
    assert_eq!(completion.finish_reason, FinishReason::Length);
    assert_eq!(server.only_request().body["stream"], json!(true));
}

#[tokio::test]
async fn an_overloaded_error_event_fails_the_stream() {
    let reply = Reply::sse(
        &[
            (
                "message_start",
                json!({"type": "message_start", "message": {"model": "m", "usage": {"input_tokens": 3, "output_tokens": 0}}}),
            ),
            (
                "error",
                json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
            ),
        ],
        End::Clean,
    );
    let server = MockServer::start(vec![reply]).await;
    let error = stream(anthropic(&server.url).as_ref(), &request())
        .await
        .1
        .expect_err("error event");
    assert!(
        matches!(&error, cbi_types::Error::Model(m) if m.contains("anthropic") && m.contains("Overloaded")),
        "{error:?}"
    );
}

#[tokio::test]
async fn n_choices_are_separate_calls() {
    let mut second = answer();
    second["content"] = json!([{"type": "text", "text": "SELECT 2"}]);
    let server =
        MockServer::start(vec![Reply::json(200, answer()), Reply::json(200, second)]).await;
    let request = CompletionRequest {
        n: Some(2),
        ..request()
    };
    let completion = anthropic(&server.url)
        .complete(&request)
        .await
        .expect("completion");
    assert_eq!(
        completion.choices,
        ["SELECT COUNT(*) FROM orders", "SELECT 2"]
    );
    assert_eq!(completion.usage.total(), 68);
    let sent = server.requests();
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|r| r.body.get("n").is_none()));
}

#[tokio::test]
async fn failures() {
    vendor::check_failures(&Vendor {
        provider: "anthropic",
        build: anthropic,
        error_body,
        answer,
        broken_stream: || streamed(End::Cut, false),
    })
    .await;
}

#[tokio::test]
async fn overloaded_529_is_a_temporary_server_error() {
    let server = MockServer::start(vec![Reply::json(
        529,
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
    )])
    .await;
    let error = anthropic(&server.url)
        .complete(&request())
        .await
        .expect_err("529");
    assert_eq!(
        error.to_string(),
        "model error: anthropic failed (HTTP 529; temporary, retrying may help): Overloaded"
    );
}
