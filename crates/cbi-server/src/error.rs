use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cbi_engine::ErrorKind as EngineKind;
use serde::Serialize;

/// What can go wrong in the server itself (not answering a request: starting it).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The users file or an option is wrong.
    #[error("{0}")]
    Config(String),
    /// The address could not be bound, or the server failed while running.
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// The category of this failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Config(_) => ErrorKind::Config,
            Error::Io(_) => ErrorKind::Io,
        }
    }
}

/// What kind of thing an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    Config,
    Io,
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A request's failure, as the client sees it: a status and
/// `{"error": {"kind": …, "message": …}}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) kind: &'static str,
    pub(crate) message: String,
    pub(crate) retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    kind: &'a str,
    message: &'a str,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind,
            message: message.into(),
            retry_after: None,
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub(crate) fn body(&self) -> serde_json::Value {
        serde_json::to_value(Body {
            error: Inner {
                kind: self.kind,
                message: &self.message,
            },
        })
        .unwrap_or_default()
    }
}

impl From<cbi_engine::Error> for ApiError {
    fn from(e: cbi_engine::Error) -> Self {
        let (status, kind) = match e.kind() {
            EngineKind::Invalid => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            EngineKind::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            EngineKind::Limit => (StatusCode::TOO_MANY_REQUESTS, "limit"),
            EngineKind::Timeout => (StatusCode::GATEWAY_TIMEOUT, "timeout"),
            EngineKind::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "config"),
        };
        if status.is_server_error() {
            tracing::warn!(error = %e, "request failed");
        }
        ApiError::new(status, kind, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(self.body())).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"cbi\""),
            );
        }
        r
    }
}
