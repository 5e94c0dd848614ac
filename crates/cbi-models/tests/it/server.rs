//! An in-process HTTP server on 127.0.0.1:0 that records every request and answers with
//! scripted replies: JSON, raw text, SSE or NDJSON streams, error statuses with headers, a
//! connection cut mid-body, or no answer at all.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::Value;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    /// The body as JSON, or `Value::Null` when it was not JSON.
    pub body: Value,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// How a streamed body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Normally.
    Clean,
    /// The connection is reset after the chunks.
    Cut,
    /// The server stops sending but keeps the connection open.
    Hang,
}

/// What the server answers to one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A body with a status, a content type and extra headers.
    Body {
        status: u16,
        content_type: &'static str,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// A 200 whose body is sent in pieces, then ends as `end` says.
    Stream {
        content_type: &'static str,
        chunks: Vec<String>,
        end: End,
    },
    /// Never answers.
    Hang,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply::Body {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    pub fn text(status: u16, content_type: &'static str, body: &str) -> Reply {
        Reply::Body {
            status,
            content_type,
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Reply {
        if let Reply::Body { headers, .. } = &mut self {
            headers.push((name, value.to_owned()));
        }
        self
    }

    /// Server-sent events, one chunk per event: `(event name or "", data)`.
    pub fn sse(events: &[(&str, Value)], end: End) -> Reply {
        Reply::sse_raw(
            events
                .iter()
                .map(|(name, data)| {
                    if name.is_empty() {
                        format!("data: {data}\n\n")
                    } else {
                        format!("event: {name}\ndata: {data}\n\n")
                    }
                })
                .collect(),
            end,
        )
    }

    pub fn sse_raw(chunks: Vec<String>, end: End) -> Reply {
        Reply::Stream {
            content_type: "text/event-stream",
            chunks,
            end,
        }
    }

    /// Newline-delimited JSON, one chunk per line.
    pub fn ndjson(lines: &[Value], end: End) -> Reply {
        Reply::Stream {
            content_type: "application/x-ndjson",
            chunks: lines.iter().map(|l| format!("{l}\n")).collect(),
            end,
        }
    }

    /// A 200 JSON body cut off halfway by a connection reset.
    pub fn cut_json(body: Value) -> Reply {
        let text = body.to_string();
        Reply::Stream {
            content_type: "application/json",
            chunks: vec![text[..text.len() / 2].to_owned()],
            end: End::Cut,
        }
    }
}

#[derive(Default)]
struct Script {
    replies: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<Recorded>>,
}

/// A running server; it stops when the test's runtime ends.
pub struct MockServer {
    pub url: String,
    script: Arc<Script>,
}

impl MockServer {
    /// Starts a server answering the given replies in order (a 599 once they run out).
    pub async fn start(replies: Vec<Reply>) -> MockServer {
        let script = Arc::new(Script {
            replies: Mutex::new(replies.into()),
            requests: Mutex::default(),
        });
        let app = Router::new()
            .fallback(answer)
            .with_state(Arc::clone(&script));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("mock server");
        });
        MockServer {
            url: format!("http://{addr}"),
            script,
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.script.requests.lock().expect("requests").clone()
    }

    /// The one request the test expected, failing if there were more or fewer.
    pub fn only_request(&self) -> Recorded {
        let mut all = self.requests();
        assert_eq!(all.len(), 1, "expected exactly one request, got {all:#?}");
        all.remove(0)
    }
}

async fn answer(
    State(script): State<Arc<Script>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    script.requests.lock().expect("requests").push(Recorded {
        method,
        path: uri.path().to_owned(),
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    let reply = script.replies.lock().expect("replies").pop_front();
    let reply = reply.unwrap_or_else(|| Reply::text(599, "text/plain", "no scripted reply left"));
    match reply {
        Reply::Body {
            status,
            content_type,
            headers,
            body,
        } => {
            let mut response = Response::builder()
                .status(StatusCode::from_u16(status).expect("status"))
                .header("content-type", content_type);
            for (name, value) in headers {
                response = response.header(name, value);
            }
            response.body(Body::from(body)).expect("response")
        }
        Reply::Stream {
            content_type,
            chunks,
            end,
        } => {
            let pieces = futures::stream::iter(chunks.into_iter().map(Ok::<_, std::io::Error>));
            let body = match end {
                End::Clean => Body::from_stream(pieces),
                End::Cut => {
                    use futures::StreamExt;
                    Body::from_stream(pieces.chain(futures::stream::once(async {
                        Err(std::io::Error::new(
                            std::io::ErrorKind::ConnectionReset,
                            "cut by the test",
                        ))
                    })))
                }
                End::Hang => {
                    use futures::StreamExt;
                    Body::from_stream(pieces.chain(futures::stream::pending()))
                }
            };
            Response::builder()
                .status(StatusCode::OK)
                .header("content-type", content_type)
                .body(body)
                .expect("response")
        }
        Reply::Hang => std::future::pending().await,
    }
}
