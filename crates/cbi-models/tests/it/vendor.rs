//! What every vendor must get right, run against each: the same failures, each answered in the
//! vendor's own error format.

use std::sync::Arc;
use std::time::Duration;

use cbi_types::{ChatMessage, CompletionRequest, Error, LanguageModel};
use serde_json::Value;

use crate::server::{End, MockServer, Reply};

/// The key every test configures; servers echo it back in error bodies to prove it is scrubbed.
pub const KEY: &str = "sk-test-KEY-0123456789";

/// How long a provider waits in the tests before giving up on a hung server.
pub const TIMEOUT: Duration = Duration::from_millis(400);

pub struct Vendor {
    /// How the provider names itself in messages.
    pub provider: &'static str,
    /// A provider talking to `base_url` with [`KEY`] and [`TIMEOUT`].
    pub build: fn(base_url: &str) -> Arc<dyn LanguageModel>,
    /// The vendor's error body carrying `message`.
    pub error_body: fn(message: &str) -> Value,
    /// A valid non-streamed answer.
    pub answer: fn() -> Value,
    /// A streamed answer that breaks before its final event.
    pub broken_stream: fn() -> Reply,
}

/// A request using every parameter the vendors share.
pub fn request() -> CompletionRequest {
    CompletionRequest {
        messages: vec![
            ChatMessage::system("You write SQLite."),
            ChatMessage::user("How many orders?"),
        ],
        max_tokens: Some(64),
        temperature: Some(0.25),
        stop: vec![";".into()],
        ..Default::default()
    }
}

/// Collects what a streaming call delivers.
pub async fn stream(
    model: &dyn LanguageModel,
    request: &CompletionRequest,
) -> (Vec<String>, cbi_types::Result<cbi_types::Completion>) {
    let mut deltas = Vec::new();
    let result = model
        .complete_streaming(request, &mut |d: &str| deltas.push(d.to_owned()))
        .await;
    (deltas, result)
}

type Check = Box<dyn Fn(&Error) -> bool>;

/// 400, 401, 403, 429 with Retry-After, 500, 503, malformed JSON, a cut connection (whole
/// answer and stream), a hang (before the answer and mid-stream), and an unreachable server.
pub async fn check_failures(v: &Vendor) {
    let p = v.provider;
    let model_error = move |needle: &'static str| -> Check {
        Box::new(move |e| matches!(e, Error::Model(m) if m.starts_with(p) && m.contains(needle)))
    };
    let cases: Vec<(&str, Reply, bool, Check)> = vec![
        (
            "400",
            Reply::json(400, (v.error_body)("max_tokens: must be positive")),
            false,
            Box::new(move |e| {
                matches!(e, Error::Invalid(m)
                    if m == &format!("{p} rejected the request (HTTP 400): max_tokens: must be positive"))
            }),
        ),
        (
            "401",
            Reply::json(401, (v.error_body)(&format!("invalid x-api-key {KEY}"))),
            false,
            Box::new(move |e| {
                matches!(e, Error::Connect { target, message }
                    if target == p && message.contains("refused the API key (HTTP 401)")
                        && message.contains("invalid x-api-key ****"))
            }),
        ),
        (
            "403",
            Reply::json(403, (v.error_body)("forbidden")),
            false,
            Box::new(
                |e| matches!(e, Error::Connect { message, .. } if message.contains("HTTP 403")),
            ),
        ),
        (
            "429",
            Reply::json(429, (v.error_body)("slow down")).header("retry-after", "7"),
            false,
            Box::new(move |e| {
                e == &Error::RateLimited {
                    provider: p.into(),
                    retry_after: Some(Duration::from_secs(7)),
                }
            }),
        ),
        (
            "429 without Retry-After",
            Reply::json(429, (v.error_body)("slow down")),
            false,
            Box::new(move |e| {
                e == &Error::RateLimited {
                    provider: p.into(),
                    retry_after: None,
                }
            }),
        ),
        (
            "500",
            Reply::json(500, (v.error_body)("internal error")),
            false,
            model_error("(HTTP 500; temporary, retrying may help): internal error"),
        ),
        (
            "503 with an HTML body",
            Reply::text(503, "text/html", "<html>Service Unavailable</html>"),
            false,
            model_error(
                "(HTTP 503; temporary, retrying may help): <html>Service Unavailable</html>",
            ),
        ),
        (
            "malformed JSON",
            Reply::text(
                200,
                "application/json",
                "{\"id\": \"x\", \"choices\": [ oops",
            ),
            false,
            model_error("not its documented format"),
        ),
        (
            "JSON of another shape",
            Reply::json(200, serde_json::json!({"unexpected": true})),
            false,
            model_error("not its documented format"),
        ),
        (
            "cut connection",
            Reply::cut_json((v.answer)()),
            false,
            model_error("closed the connection before the answer was complete"),
        ),
        (
            "cut stream",
            (v.broken_stream)(),
            true,
            model_error("closed the connection before the answer was complete"),
        ),
        (
            "hang",
            Reply::Hang,
            false,
            Box::new(|e| e == &Error::Timeout(TIMEOUT)),
        ),
        (
            "hang mid-stream",
            match (v.broken_stream)() {
                Reply::Stream {
                    content_type,
                    chunks,
                    ..
                } => Reply::Stream {
                    content_type,
                    chunks,
                    end: End::Hang,
                },
                other => other,
            },
            true,
            Box::new(|e| e == &Error::Timeout(TIMEOUT)),
        ),
    ];
    for (name, reply, streaming, check) in cases {
        let server = MockServer::start(vec![reply]).await;
        let model = (v.build)(&server.url);
        let result = if streaming {
            stream(model.as_ref(), &request()).await.1
        } else {
            model.complete(&request()).await
        };
        let error = match result {
            Ok(c) => panic!("{p} {name}: expected an error, got {c:?}"),
            Err(e) => e,
        };
        assert!(check(&error), "{p} {name}: unexpected error {error:?}");
        assert!(
            !format!("{error:?}").contains(KEY),
            "{p} {name}: key leaked in {error:?}"
        );
        server.only_request();
    }

    // Nothing listens on a port that was just freed.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    drop(listener);
    let error = (v.build)(&url)
        .complete(&request())
        .await
        .expect_err("unreachable");
    assert!(
        matches!(&error, Error::Connect { target, .. } if target.starts_with(p) && target.contains(&url)),
        "{p} unreachable: {error:?}"
    );
}
