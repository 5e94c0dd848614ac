use std::sync::Arc;

use cbi_models::CohereChat;
use cbi_types::config::Secret;
use cbi_types::{FinishReason, LanguageModel};
use serde_json::{Value, json};

use crate::server::{End, MockServer, Reply};
use crate::vendor::{self, KEY, TIMEOUT, Vendor, request, stream};

fn cohere(url: &str) -> Arc<dyn LanguageModel> {
    Arc::new(
        CohereChat::new(url, "command-r-plus-08-2024", Some(Secret::new(KEY)))
            .expect("base URL")
            .with_timeout(TIMEOUT),
    )
}

fn error_body(message: &str) -> Value {
    json!({"id": "5d6b7a3c-0f", "message": message})
}

fn answer() -> Value {
    json!({
        "id": "c14c80c3-18eb-4519-9460-6c92edd8cfb4",
        "finish_reason": "COMPLETE",
        "message": {
            "role": "assistant",
            "content": [{"type": "text", "text": "SELECT COUNT(*) FROM orders"}]
        },
        "usage": {
            "billed_units": {"input_tokens": 5, "output_tokens": 7},
            "tokens": {"input_tokens": 71, "output_tokens": 7}
        }
    })
}

fn streamed(end: End, finished: bool) -> Reply {
    let delta = |text: &str| json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": text}}}});
    let mut events = vec![
        (
            "message-start",
            json!({"id": "29f14a5a", "type": "message-start", "delta": {"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}}}),
        ),
        (
            "content-start",
            json!({"type": "content-start", "index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}}}),
        ),
        ("content-delta", delta("SELECT COUNT(*)")),
        ("content-delta", delta(" FROM orders")),
    ];
    if finished {
        events.extend([
            ("content-end", json!({"type": "content-end", "index": 0})),
            (
                "message-end",
                json!({"type": "message-end", "delta": {"finish_reason": "MAX_TOKENS", "usage": {
                "billed_units": {"input_tokens": 5.0, "output_tokens": 7.0},
                "tokens": {"input_tokens": 71.0, "output_tokens": 7.0}}}}),
            ),
        ]);
    }
    Reply::sse(&events, end)
}

#[tokio::test]
async fn completes_and_sends_the_documented_request() {
    let server = MockServer::start(vec![Reply::json(200, answer())]).await;
    let completion = cohere(&server.url)
        .complete(&request())
        .await
        .expect("completion");
    assert_eq!(completion.text, "SELECT COUNT(*) FROM orders");
    assert_eq!(
        (
            completion.usage.prompt_tokens,
            completion.usage.completion_tokens
        ),
        (71, 7)
    );
    assert_eq!(completion.model, "command-r-plus-08-2024");
    assert_eq!(completion.finish_reason, FinishReason::Stop);
    let sent = server.only_request();
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path, "/v2/chat");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(
        sent.body,
        json!({
            "model": "command-r-plus-08-2024",
            "messages": [
                {"role": "system", "content": "You write SQLite."},
                {"role": "user", "content": "How many orders?"}
            ],
            "stream": false,
            "max_tokens": 64,
            "temperature": 0.25,
            "stop_sequences": [";"]
        })
    );
}

#[tokio::test]
async fn billed_units_stand_in_when_tokens_are_absent() {
    let mut body = answer();
    body["usage"] = json!({"billed_units": {"input_tokens": 5, "output_tokens": 7}});
    let server = MockServer::start(vec![Reply::json(200, body)]).await;
    let completion = cohere(&server.url)
        .complete(&request())
        .await
        .expect("completion");
    assert_eq!(
        (
            completion.usage.prompt_tokens,
            completion.usage.completion_tokens
        ),
        (5, 7)
    );
}

#[tokio::test]
async fn streams_content_deltas_up_to_message_end() {
    let server = MockServer::start(vec![streamed(End::Clean, true)]).await;
    let (deltas, result) = stream(cohere(&server.url).as_ref(), &request()).await;
    let completion = result.expect("completion");
    assert_eq!(deltas, ["SELECT COUNT(*)", " FROM orders"]);
    assert_eq!(completion.text, "SELECT COUNT(*) FROM orders");
    assert_eq!(
        (
            completion.usage.prompt_tokens,
            completion.usage.completion_tokens
        ),
        (71, 7)
    );
    assert_eq!(completion.finish_reason, FinishReason::Length);
    assert_eq!(server.only_request().body["stream"], json!(true));
}

#[tokio::test]
async fn failures() {
    vendor::check_failures(&Vendor {
        provider: "cohere",
        build: cohere,
        error_body,
        answer,
        broken_stream: || streamed(End::Cut, false),
    })
    .await;
}
