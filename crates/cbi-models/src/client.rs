//! What every HTTP provider shares: sending a JSON POST under a deadline, turning HTTP failures
//! into [`Error`]s, and keeping the API key out of every message.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use cbi_types::config::Secret;
use cbi_types::{Completion, CompletionRequest, FinishReason, TokenUsage};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;

use crate::error::{Error, Result};

/// How long a provider waits for a whole answer when the configuration says nothing.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// Largest whole (non-streamed) answer read; chat answers are kilobytes, so anything near this
/// is a misbehaving server, not a completion.
const MAX_ANSWER_BYTES: usize = 32 << 20;

/// Longest vendor error text kept in a message.
const MAX_MESSAGE_CHARS: usize = 500;

/// One vendor endpoint: base URL, HTTP client, deadline and the key to scrub from messages.
pub(crate) struct Transport {
    provider: &'static str,
    base_url: String,
    http: reqwest::Client,
    timeout: Duration,
    key: Option<Secret>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("api_key", &self.key.as_ref().map(|_| "****"))
            .finish()
    }
}

impl Transport {
    pub(crate) fn new(
        provider: &'static str,
        base_url: &str,
        timeout: Duration,
        key: Option<Secret>,
    ) -> Result<Self> {
        let base_url = base_url.trim().trim_end_matches('/').to_owned();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(Error::InvalidBaseUrl {
                provider,
                url: base_url,
            });
        }
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .user_agent(concat!("cbi-models/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Unreachable {
                provider,
                target: base_url.clone(),
                message: format!("cannot build an HTTP client: {e}"),
            })?;
        Ok(Transport {
            provider,
            base_url,
            http,
            timeout,
            key: key.filter(|k| !k.expose().is_empty()),
        })
    }

    pub(crate) fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    #[cfg(test)]
    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    pub(crate) fn key(&self) -> Option<&str> {
        self.key.as_ref().map(Secret::expose)
    }

    /// Posts `body` and returns the whole answer of a 2xx response.
    pub(crate) async fn post(
        &self,
        path: &str,
        headers: HeaderMap,
        body: &impl Serialize,
    ) -> Result<Vec<u8>> {
        self.deadline(async {
            let mut response = self.send(path, headers, body).await?;
            let mut bytes = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| self.body_error(e))? {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > MAX_ANSWER_BYTES {
                    return Err(self.malformed(format!(
                        "the answer is larger than {} MiB",
                        MAX_ANSWER_BYTES >> 20
                    )));
                }
            }
            Ok(bytes)
        })
        .await
    }

    /// Posts `body` and hands each piece of a 2xx answer to `on_bytes` as it arrives; the
    /// whole exchange, stream included, runs under the deadline.
    pub(crate) async fn post_streaming(
        &self,
        path: &str,
        headers: HeaderMap,
        body: &impl Serialize,
        on_bytes: &mut (dyn FnMut(&[u8]) -> Result<()> + Send),
    ) -> Result<()> {
        self.deadline(async {
            let mut response = self.send(path, headers, body).await?;
            while let Some(chunk) = response.chunk().await.map_err(|e| self.body_error(e))? {
                on_bytes(&chunk)?;
            }
            Ok(())
        })
        .await
    }

    async fn deadline<T>(&self, work: impl Future<Output = Result<T>>) -> Result<T> {
        match tokio::time::timeout(self.timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout {
                provider: self.provider,
                after: self.timeout,
            }),
        }
    }

    async fn send(
        &self,
        path: &str,
        headers: HeaderMap,
        body: &impl Serialize,
    ) -> Result<reqwest::Response> {
        let url = format!("{}{path}", self.base_url);
        tracing::debug!(provider = self.provider, %url, "model request");
        let response = self
            .http
            .post(&url)
            .headers(headers)
            .json(body)
            .send()
            .await
            .map_err(|e| self.send_error(e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = retry_after(response.headers());
        let text = match response.bytes().await {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(_) => String::new(),
        };
        Err(self.status_error(status, retry_after, &text))
    }

    fn status_error(&self, status: StatusCode, retry_after: Option<Duration>, body: &str) -> Error {
        let provider = self.provider;
        let message = self.scrub(
            &vendor_message(body)
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("no message").to_owned()),
        );
        let code = status.as_u16();
        match code {
            401 | 403 => Error::Unauthorized {
                provider,
                status: code,
                message,
            },
            429 => Error::RateLimited {
                provider,
                retry_after,
            },
            408 | 500..=599 => Error::Server {
                provider,
                status: code,
                message,
            },
            _ => Error::Rejected {
                provider,
                status: code,
                message,
            },
        }
    }

    fn send_error(&self, e: reqwest::Error) -> Error {
        if e.is_timeout() {
            Error::Timeout {
                provider: self.provider,
                after: self.timeout,
            }
        } else if e.is_connect() {
            Error::Unreachable {
                provider: self.provider,
                target: self.base_url.clone(),
                message: self.scrub(&error_chain(&e)),
            }
        } else {
            Error::Disconnected {
                provider: self.provider,
                message: self.scrub(&error_chain(&e)),
            }
        }
    }

    fn body_error(&self, e: reqwest::Error) -> Error {
        if e.is_timeout() {
            return Error::Timeout {
                provider: self.provider,
                after: self.timeout,
            };
        }
        Error::Disconnected {
            provider: self.provider,
            message: self.scrub(&error_chain(&e)),
        }
    }

    /// Removes the API key from a text a vendor or a library wrote.
    pub(crate) fn scrub(&self, text: &str) -> String {
        match self.key() {
            Some(key) => text.replace(key, "****"),
            None => text.to_owned(),
        }
    }

    pub(crate) fn malformed(&self, message: impl fmt::Display) -> Error {
        Error::Malformed {
            provider: self.provider,
            message: self.scrub(&message.to_string()),
        }
    }

    pub(crate) fn server(&self, message: impl fmt::Display) -> Error {
        Error::Server {
            provider: self.provider,
            status: 200,
            message: self.scrub(&truncate(&message.to_string())),
        }
    }

    pub(crate) fn unfinished(&self) -> Error {
        Error::Disconnected {
            provider: self.provider,
            message: "the event stream ended before its final event".into(),
        }
    }

    /// Parses a whole JSON answer into the vendor's wire type.
    pub(crate) fn parse<T: serde::de::DeserializeOwned>(&self, bytes: &[u8]) -> Result<T> {
        serde_json::from_slice(bytes).map_err(|e| self.malformed(e))
    }
}

/// `Retry-After` in seconds (or OpenAI's `retry-after-ms`). The HTTP-date form is not read and
/// counts as absent, leaving the wait to the caller's backoff.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| {
        headers
            .get(name)?
            .to_str()
            .ok()?
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
    };
    if let Some(ms) = number("retry-after-ms") {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    number("retry-after").map(Duration::from_secs_f64)
}

/// The human message in a vendor's error body: `{"error":{"message"}}` (OpenAI, Anthropic),
/// `{"error":"…"}` (Ollama), `{"message"}` (Cohere), or the text itself.
fn vendor_message(body: &str) -> Option<String> {
    let body = body.trim();
    if body.is_empty() {
        return None;
    }
    let text = match serde_json::from_str::<serde_json::Value>(body) {
        Ok(v) => [
            v.pointer("/error/message"),
            v.get("error"),
            v.get("message"),
            v.get("detail"),
        ]
        .into_iter()
        .flatten()
        .find_map(|m| m.as_str().map(str::to_owned))
        .unwrap_or_else(|| body.to_owned()),
        Err(_) => body.to_owned(),
    };
    Some(truncate(&text))
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// A header map from static names; values that are not valid header text (a key with a
/// newline) become a configuration error instead of a panic.
pub(crate) fn headers(provider: &'static str, pairs: &[(&'static str, &str)]) -> Result<HeaderMap> {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let mut value =
            HeaderValue::from_str(value).map_err(|_| Error::InvalidApiKey { provider })?;
        value.set_sensitive(true);
        map.insert(HeaderName::from_static(name), value);
    }
    Ok(map)
}

/// Defaults a provider applies when a request leaves a parameter out.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Defaults {
    pub(crate) max_tokens: Option<u32>,
    pub(crate) temperature: Option<f32>,
}

impl Defaults {
    pub(crate) fn max_tokens(&self, r: &CompletionRequest) -> Option<u32> {
        r.max_tokens.or(self.max_tokens)
    }

    pub(crate) fn temperature(&self, r: &CompletionRequest) -> Option<f32> {
        r.temperature.or(self.temperature)
    }
}

/// A vendor API that returns one choice per call. [`several`] makes `n` calls when asked for
/// `n` choices.
#[async_trait]
pub(crate) trait OneChoice: Sync {
    async fn one(
        &self,
        request: &CompletionRequest,
        on_delta: Option<&mut (dyn for<'s> FnMut(&'s str) + Send)>,
    ) -> Result<Completion>;
}

/// Makes `request.n` calls, streaming only the first, and merges them into one completion whose
/// usage is the sum.
pub(crate) async fn several(
    model: &impl OneChoice,
    request: &CompletionRequest,
    on_delta: Option<&mut (dyn for<'s> FnMut(&'s str) + Send)>,
) -> Result<Completion> {
    let n = request.n.unwrap_or(1).max(1);
    let mut first = model.one(request, on_delta).await?;
    if n == 1 {
        return Ok(first);
    }
    let mut choices = vec![first.text.clone()];
    for _ in 1..n {
        let more = model.one(request, None).await?;
        first.usage = add_usage(first.usage, more.usage);
        choices.push(more.text);
    }
    first.choices = choices;
    Ok(first)
}

fn add_usage(a: TokenUsage, b: TokenUsage) -> TokenUsage {
    TokenUsage {
        prompt_tokens: a.prompt_tokens.saturating_add(b.prompt_tokens),
        completion_tokens: a.completion_tokens.saturating_add(b.completion_tokens),
    }
}

/// Builds a completion from the texts of its choices.
pub(crate) fn completion(
    mut texts: Vec<String>,
    usage: TokenUsage,
    model: String,
    finish_reason: FinishReason,
) -> Completion {
    let text = texts.first().cloned().unwrap_or_default();
    if texts.len() < 2 {
        texts.clear();
    }
    Completion {
        text,
        choices: texts,
        usage,
        model,
        finish_reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_milliseconds() {
        let check = |pairs: &[(&'static str, &str)], expect: Option<Duration>| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, HeaderValue::from_str(v).expect("test header"));
            }
            assert_eq!(retry_after(&h), expect, "{pairs:?}");
        };
        check(&[], None);
        check(&[("retry-after", "7")], Some(Duration::from_secs(7)));
        check(
            &[("retry-after", " 1.5 ")],
            Some(Duration::from_millis(1500)),
        );
        check(&[("retry-after", "-1")], None);
        check(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")], None);
        check(
            &[("retry-after", "7"), ("retry-after-ms", "250")],
            Some(Duration::from_millis(250)),
        );
    }

    #[test]
    fn vendor_messages_are_found_in_each_shape() {
        let check = |body: &str, expect: Option<&str>| {
            assert_eq!(vendor_message(body).as_deref(), expect, "{body}");
        };
        check("", None);
        check(
            r#"{"error":{"message":"bad key","type":"invalid_request_error"}}"#,
            Some("bad key"),
        );
        check(
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            Some("Overloaded"),
        );
        check(
            r#"{"error":"model 'x' not found"}"#,
            Some("model 'x' not found"),
        );
        check(
            r#"{"id":"1","message":"invalid api token"}"#,
            Some("invalid api token"),
        );
        check("<html>Bad Gateway</html>", Some("<html>Bad Gateway</html>"));
        assert!(vendor_message(&"x".repeat(10_000)).is_some_and(|m| m.chars().count() == 501));
    }

    #[test]
    fn keys_are_scrubbed_and_hidden_from_debug() {
        let t = Transport::new(
            "openai",
            "http://127.0.0.1:9/v1/",
            DEFAULT_TIMEOUT,
            Some(Secret::new("sk-secret-123")),
        )
        .expect("valid base URL");
        assert_eq!(t.base_url(), "http://127.0.0.1:9/v1");
        assert_eq!(
            t.scrub("Incorrect API key sk-secret-123."),
            "Incorrect API key ****."
        );
        assert!(!format!("{t:?}").contains("sk-secret"));
    }

    #[test]
    fn base_urls_must_be_http() {
        for url in ["ftp://x", "api.openai.com", ""] {
            assert!(matches!(
                Transport::new("openai", url, DEFAULT_TIMEOUT, None),
                Err(Error::InvalidBaseUrl { .. })
            ));
        }
    }
}
