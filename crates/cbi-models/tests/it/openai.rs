use std::sync::Arc;

use cbi_models::OpenAiChat;
use cbi_types::config::Secret;
use cbi_types::{Completion, CompletionRequest, FinishReason, LanguageModel, TokenUsage};
use serde_json::{Value, json};

use crate::server::{End, MockServer, Reply};
use crate::vendor::{self, KEY, TIMEOUT, Vendor, request, stream};

fn openai(url: &str) -> Arc<dyn LanguageModel> {
    Arc::new(
        OpenAiChat::new(&format!("{url}/v1"), "gpt-4o-mini", Some(Secret::new(KEY)))
            .expect("base URL")
            .with_timeout(TIMEOUT),
    )
}

fn compatible(url: &str) -> Arc<dyn LanguageModel> {
    Arc::new(
        OpenAiChat::compatible(
            &format!("{url}/v1/"),
            "qwen2.5-coder",
            Some(Secret::new(KEY)),
        )
        .expect("base URL")
        .with_timeout(TIMEOUT),
    )
}

fn error_body(message: &str) -> Value {
    json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": null}})
}

fn answer() -> Value {
    json!({
        "id": "chatcmpl-123",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_44709d6fcb",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": "SELECT COUNT(*) FROM orders", "refusal": null},
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 21, "completion_tokens": 7, "total_tokens": 28}
    })
}

fn chunk(delta: Value, finish: Value) -> (&'static str, Value) {
    (
        "",
        json!({
            "id": "chatcmpl-123", "object": "chat.completion.chunk", "created": 1_700_000_000,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]
        }),
    )
}

fn streamed(end: End, done: bool) -> Reply {
    let mut events = vec![
        chunk(json!({"role": "assistant", "content": ""}), Value::Null),
        chunk(json!({"content": "SELECT COUNT(*)"}), Value::Null),
        chunk(json!({"content": " FROM orders"}), Value::Null),
        chunk(json!({}), json!("stop")),
    ];
    if done {
        events.push((
            "",
            json!({"id": "chatcmpl-123", "object": "chat.completion.chunk", "created": 1_700_000_000,
                   "model": "gpt-4o-mini-2024-07-18", "choices": [],
                   "usage": {"prompt_tokens": 21, "completion_tokens": 7, "total_tokens": 28}}),
        ));
    }
    let Reply::Stream { mut chunks, .. } = Reply::sse(&events, End::Clean) else {
        unreachable!("sse builds a stream")
    };
    if done {
        chunks.push("data: [DONE]\n\n".into());
    }
    Reply::sse_raw(chunks, end)
}

#[tokio::test]
async fn completes_and_sends_the_documented_request() {
    let server = MockServer::start(vec![Reply::json(200, answer())]).await;
    let completion = openai(&server.url)
        .complete(&request())
        .await
        .expect("completion");
    assert_eq!(
        completion,
        Completion {
            text: "SELECT COUNT(*) FROM orders".into(),
            choices: vec![],
            usage: TokenUsage {
                prompt_tokens: 21,
                completion_tokens: 7
            },
            model: "gpt-4o-mini-2024-07-18".into(),
            finish_reason: FinishReason::Stop,
        }
    );
    let sent = server.only_request();
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(
        sent.body,
        json!({
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "You write SQLite."},
                {"role": "user", "content": "How many orders?"}
            ],
            "max_completion_tokens": 64,
            "temperature": 0.25,
            "stop": [";"],
            "stream": false
        })
    );
}

#[tokio::test]
async fn streams_deltas_and_reads_the_usage_chunk() {
    let server = MockServer::start(vec![streamed(End::Clean, true)]).await;
    let (deltas, result) = stream(openai(&server.url).as_ref(), &request()).await;
    let completion = result.expect("completion");
    assert_eq!(deltas, ["SELECT COUNT(*)", " FROM orders"]);
    assert_eq!(completion.text, "SELECT COUNT(*) FROM orders");
    assert_eq!(completion.usage.total(), 28);
    assert_eq!(completion.finish_reason, FinishReason::Stop);
    let sent = server.only_request();
    assert_eq!(sent.body["stream"], json!(true));
    assert_eq!(sent.body["stream_options"], json!({"include_usage": true}));
}

#[tokio::test]
async fn n_choices_come_back_in_order() {
    let mut body = answer();
    body["choices"] = json!([
        {"index": 1, "message": {"role": "assistant", "content": "B"}, "finish_reason": "stop"},
        {"index": 0, "message": {"role": "assistant", "content": "A"}, "finish_reason": "length"}
    ]);
    let server = MockServer::start(vec![Reply::json(200, body)]).await;
    let request = CompletionRequest {
        n: Some(2),
        ..request()
    };
    let completion = openai(&server.url)
        .complete(&request)
        .await
        .expect("completion");
    assert_eq!(
        (completion.text.as_str(), completion.choices),
        ("A", vec!["A".to_owned(), "B".to_owned()])
    );
    assert_eq!(completion.finish_reason, FinishReason::Length);
    assert_eq!(server.only_request().body["n"], json!(2));
}

#[tokio::test]
async fn compatible_servers_get_max_tokens_and_the_grammar() {
    let server = MockServer::start(vec![Reply::json(200, answer())]).await;
    let request = CompletionRequest {
        grammar: Some("root ::= \"SELECT\" .*".into()),
        ..request()
    };
    compatible(&server.url)
        .complete(&request)
        .await
        .expect("completion");
    let sent = server.only_request();
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(sent.body["max_tokens"], json!(64));
    assert_eq!(sent.body.get("max_completion_tokens"), None);
    assert_eq!(sent.body["grammar"], json!("root ::= \"SELECT\" .*"));

    // api.openai.com cannot honour a grammar and never sees one.
    let server = MockServer::start(vec![Reply::json(200, answer())]).await;
    openai(&server.url)
        .complete(&request)
        .await
        .expect("completion");
    assert_eq!(server.only_request().body.get("grammar"), None);
}

#[tokio::test]
async fn a_server_without_a_key_gets_no_authorization_header() {
    let server = MockServer::start(vec![Reply::json(200, answer())]).await;
    let model = OpenAiChat::compatible(&server.url, "local", None).expect("base URL");
    model.complete(&request()).await.expect("completion");
    assert_eq!(server.only_request().header("authorization"), None);
}

#[tokio::test]
async fn an_error_event_mid_stream_fails_the_call() {
    let reply = Reply::sse_raw(
        vec![
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"SEL\"}}]}\n\n".into(),
            "data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\"}}\n\n".into(),
        ],
        End::Clean,
    );
    let server = MockServer::start(vec![reply]).await;
    let (deltas, result) = stream(openai(&server.url).as_ref(), &request()).await;
    assert_eq!(deltas, ["SEL"]);
    let error = result.expect_err("error event");
    assert!(
        matches!(&error, cbi_types::Error::Model(m) if m.contains("The server had an error")),
        "{error:?}"
    );
}

#[tokio::test]
async fn failures() {
    for (provider, build) in [
        ("openai", openai as fn(&str) -> _),
        ("openai-compatible", compatible),
    ] {
        vendor::check_failures(&Vendor {
            provider,
            build,
            error_body,
            answer,
            broken_stream: || streamed(End::Cut, false),
        })
        .await;
    }
}
