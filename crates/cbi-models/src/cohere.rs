//! Cohere Chat v2 (`POST {base}/v2/chat`).
//!
//! Sends `Authorization: Bearer <key>`. Answers carry `message.content` as a list of
//! `{type: "text", text}` blocks and usage as `usage.tokens` (what the model processed) or, when
//! that is absent, `usage.billed_units`. The answer does not name the model, so completions
//! report the configured one.
//!
//! Streaming reads `content-delta` events (`delta.message.content.text`) up to `message-end`,
//! which carries the finish reason and usage.
//!
//! The API has no `n` and no grammar: `n > 1` makes several calls, and `grammar` is ignored.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use cbi_types::config::Secret;
use cbi_types::{ChatRole, Completion, CompletionRequest, FinishReason, LanguageModel, TokenUsage};
use serde::{Deserialize, Serialize};

use crate::client::{self, DEFAULT_TIMEOUT, Defaults, OneChoice, Transport};
use crate::error::Result;
use crate::stream::SseDecoder;

const PROVIDER: &str = "cohere";

/// Where Cohere's API lives.
pub const DEFAULT_BASE_URL: &str = "https://api.cohere.com";

/// A Command model behind Cohere's Chat v2 API.
pub struct CohereChat {
    transport: Transport,
    model: String,
    name: String,
    defaults: Defaults,
}

impl fmt::Debug for CohereChat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CohereChat")
            .field("name", &self.name)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl CohereChat {
    /// A model at `base_url` (without `/v2`), authenticated by `api_key`.
    pub fn new(base_url: &str, model: impl Into<String>, api_key: Option<Secret>) -> Result<Self> {
        let model = model.into();
        Ok(CohereChat {
            transport: Transport::new(PROVIDER, base_url, DEFAULT_TIMEOUT, api_key)?,
            name: format!("{PROVIDER}/{model}"),
            model,
            defaults: Defaults::default(),
        })
    }

    /// Longest wait for a whole answer, streamed or not.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.transport.set_timeout(timeout);
        self
    }

    /// Values used when a request leaves `max_tokens` or `temperature` unset.
    pub fn with_defaults(mut self, max_tokens: Option<u32>, temperature: Option<f32>) -> Self {
        self.defaults = Defaults {
            max_tokens,
            temperature,
        };
        self
    }

    fn body<'a>(&'a self, r: &'a CompletionRequest, stream: bool) -> WireRequest<'a> {
        WireRequest {
            model: &self.model,
            messages: r
                .messages
                .iter()
                .map(|m| WireMessage {
                    role: match m.role {
                        ChatRole::System => "system",
                        ChatRole::User => "user",
                        ChatRole::Assistant => "assistant",
                    },
                    content: &m.content,
                })
                .collect(),
            stream,
            max_tokens: self.defaults.max_tokens(r),
            temperature: self.defaults.temperature(r),
            stop_sequences: if r.stop.is_empty() {
                None
            } else {
                Some(&r.stop)
            },
        }
    }

    fn headers(&self) -> Result<reqwest::header::HeaderMap> {
        let bearer;
        let mut pairs = Vec::new();
        if let Some(key) = self.transport.key() {
            bearer = format!("Bearer {key}");
            pairs.push(("authorization", bearer.as_str()));
        }
        client::headers(PROVIDER, &pairs)
    }
}

#[async_trait]
impl OneChoice for CohereChat {
    async fn one(
        &self,
        r: &CompletionRequest,
        on_delta: Option<&mut (dyn for<'s> FnMut(&'s str) + Send)>,
    ) -> Result<Completion> {
        let t = &self.transport;
        let Some(on_delta) = on_delta else {
            let bytes = t
                .post("/v2/chat", self.headers()?, &self.body(r, false))
                .await?;
            let wire: WireResponse = t.parse(&bytes)?;
            let text: String = wire
                .message
                .content
                .iter()
                .filter(|b| b.kind == "text")
                .filter_map(|b| b.text.as_deref())
                .collect();
            return Ok(client::completion(
                vec![text],
                wire.usage.map(usage).unwrap_or_default(),
                self.model.clone(),
                finish_reason(wire.finish_reason.as_deref()),
            ));
        };
        let mut decoder = SseDecoder::default();
        let mut acc = Accumulated::default();
        t.post_streaming(
            "/v2/chat",
            self.headers()?,
            &self.body(r, true),
            &mut |bytes| {
                for event in decoder.push(bytes).map_err(|m| t.malformed(m))? {
                    acc.event(t, &event.data, on_delta)?;
                }
                Ok(())
            },
        )
        .await?;
        if !acc.done {
            return Err(t.unfinished());
        }
        Ok(client::completion(
            vec![acc.text],
            acc.usage,
            self.model.clone(),
            acc.finish_reason,
        ))
    }
}

#[async_trait]
impl LanguageModel for CohereChat {
    fn name(&self) -> &str {
        &self.name
    }

    async fn complete(&self, request: &CompletionRequest) -> cbi_types::Result<Completion> {
        Ok(client::several(self, request, None).await?)
    }

    async fn complete_streaming(
        &self,
        request: &CompletionRequest,
        on_delta: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> cbi_types::Result<Completion> {
        Ok(client::several(self, request, Some(on_delta)).await?)
    }
}

#[derive(Default)]
struct Accumulated {
    text: String,
    usage: TokenUsage,
    finish_reason: FinishReason,
    done: bool,
}

impl Accumulated {
    fn event(
        &mut self,
        t: &Transport,
        data: &str,
        on_delta: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> Result<()> {
        match t.parse::<WireEvent>(data.as_bytes())? {
            WireEvent::ContentDelta { delta } => {
                if let Some(text) = delta
                    .and_then(|d| d.message)
                    .and_then(|m| m.content)
                    .and_then(|c| c.text)
                    .filter(|t| !t.is_empty())
                {
                    on_delta(&text);
                    self.text.push_str(&text);
                }
            }
            WireEvent::MessageEnd { delta } => {
                let delta = delta.unwrap_or_default();
                if delta.finish_reason.as_deref() == Some("ERROR") {
                    return Err(t.server(
                        delta
                            .error
                            .unwrap_or_else(|| "generation ended with ERROR".into()),
                    ));
                }
                self.finish_reason = finish_reason(delta.finish_reason.as_deref());
                if let Some(u) = delta.usage {
                    self.usage = usage(u);
                }
                self.done = true;
            }
            WireEvent::Other => {}
        }
        Ok(())
    }
}

fn finish_reason(reason: Option<&str>) -> FinishReason {
    match reason {
        Some("COMPLETE" | "STOP_SEQUENCE") | None => FinishReason::Stop,
        Some("MAX_TOKENS") => FinishReason::Length,
        Some(_) => FinishReason::Other,
    }
}

fn usage(u: WireUsage) -> TokenUsage {
    let counts = u.tokens.or(u.billed_units).unwrap_or_default();
    TokenUsage {
        prompt_tokens: counts.input_tokens as u32,
        completion_tokens: counts.output_tokens as u32,
    }
}

// --- wire types: https://docs.cohere.com/reference/chat and /reference/chat-stream ---

#[derive(Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_sequences: Option<&'a [String]>,
}

#[derive(Serialize)]
struct WireMessage<'a> {
    role: &'static str,
    content: &'a str,
}

#[derive(Deserialize)]
struct WireResponse {
    #[serde(default)]
    finish_reason: Option<String>,
    message: WireAnswer,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct WireAnswer {
    #[serde(default)]
    content: Vec<WireBlock>,
}

#[derive(Deserialize)]
struct WireBlock {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    billed_units: Option<WireCounts>,
    #[serde(default)]
    tokens: Option<WireCounts>,
}

/// Cohere documents these as numbers, and has sent them as `5.0`.
#[derive(Deserialize, Default)]
struct WireCounts {
    #[serde(default)]
    input_tokens: f64,
    #[serde(default)]
    output_tokens: f64,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
enum WireEvent {
    ContentDelta {
        #[serde(default)]
        delta: Option<WireDelta>,
    },
    MessageEnd {
        #[serde(default)]
        delta: Option<WireEndDelta>,
    },
    /// `message-start`, `content-start`, `content-end`, tool and citation events.
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct WireDelta {
    #[serde(default)]
    message: Option<WireDeltaMessage>,
}

#[derive(Deserialize)]
struct WireDeltaMessage {
    #[serde(default)]
    content: Option<WireDeltaContent>,
}

#[derive(Deserialize)]
struct WireDeltaContent {
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize, Default)]
struct WireEndDelta {
    #[serde(default)]
    finish_reason: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
}
