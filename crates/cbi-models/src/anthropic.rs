//! Anthropic Messages (`POST {base}/v1/messages`).
//!
//! Sends `x-api-key` and `anthropic-version: 2023-06-01`. System messages, wherever they sit in
//! the conversation, are joined into the top-level `system` field the API requires.
//! `max_tokens` is mandatory on this API, so a request without one gets the provider's
//! default ([`DEFAULT_MAX_TOKENS`] unless configured). Temperatures above 1, the API's
//! maximum, are sent as 1.
//!
//! Streaming reads the `message_start`, `content_block_delta` (`delta.text`), `message_delta`
//! (stop reason and output tokens) and `message_stop` events; an `error` event fails the call.
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

const PROVIDER: &str = "anthropic";

/// Where Anthropic's API lives.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";

/// The API version this module speaks.
pub const API_VERSION: &str = "2023-06-01";

/// `max_tokens` when neither the request nor the configuration sets one.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// A Claude model behind the Anthropic Messages API.
pub struct AnthropicChat {
    transport: Transport,
    model: String,
    name: String,
    defaults: Defaults,
}

impl fmt::Debug for AnthropicChat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnthropicChat")
            .field("name", &self.name)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl AnthropicChat {
    /// A model at `base_url` (without `/v1`), authenticated by `api_key`.
    pub fn new(base_url: &str, model: impl Into<String>, api_key: Option<Secret>) -> Result<Self> {
        let model = model.into();
        Ok(AnthropicChat {
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
        let system: Vec<&str> = r
            .messages
            .iter()
            .filter(|m| m.role == ChatRole::System)
            .map(|m| m.content.as_str())
            .collect();
        WireRequest {
            model: &self.model,
            max_tokens: self.defaults.max_tokens(r).unwrap_or(DEFAULT_MAX_TOKENS),
            system: (!system.is_empty()).then(|| system.join("\n\n")),
            messages: r
                .messages
                .iter()
                .filter_map(|m| {
                    let role = match m.role {
                        ChatRole::System => return None,
                        ChatRole::User => "user",
                        ChatRole::Assistant => "assistant",
                    };
                    Some(WireMessage {
                        role,
                        content: &m.content,
                    })
                })
                .collect(),
            temperature: self.defaults.temperature(r).map(|t| t.clamp(0.0, 1.0)),
            stop_sequences: if r.stop.is_empty() {
                None
            } else {
                Some(&r.stop)
            },
            stream,
        }
    }

    fn headers(&self) -> Result<reqwest::header::HeaderMap> {
        let mut pairs = vec![("anthropic-version", API_VERSION)];
        if let Some(key) = self.transport.key() {
            pairs.push(("x-api-key", key));
        }
        client::headers(PROVIDER, &pairs)
    }
}

#[async_trait]
impl OneChoice for AnthropicChat {
    async fn one(
        &self,
        r: &CompletionRequest,
        on_delta: Option<&mut (dyn for<'s> FnMut(&'s str) + Send)>,
    ) -> Result<Completion> {
        let t = &self.transport;
        let Some(on_delta) = on_delta else {
            let bytes = t
                .post("/v1/messages", self.headers()?, &self.body(r, false))
                .await?;
            let wire: WireResponse = t.parse(&bytes)?;
            let text: String = wire
                .content
                .iter()
                .filter(|b| b.kind == "text")
                .filter_map(|b| b.text.as_deref())
                .collect();
            return Ok(client::completion(
                vec![text],
                wire.usage.map(usage).unwrap_or_default(),
                wire.model.unwrap_or_else(|| self.model.clone()),
                finish_reason(wire.stop_reason.as_deref()),
            ));
        };
        let mut decoder = SseDecoder::default();
        let mut acc = Accumulated::default();
        t.post_streaming(
            "/v1/messages",
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
            acc.model.unwrap_or_else(|| self.model.clone()),
            acc.finish_reason,
        ))
    }
}

#[async_trait]
impl LanguageModel for AnthropicChat {
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
    model: Option<String>,
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
        let event: WireEvent = t.parse(data.as_bytes())?;
        match event {
            WireEvent::MessageStart { message } => {
                self.model = message.model;
                if let Some(u) = message.usage {
                    self.usage = usage(u);
                }
            }
            WireEvent::ContentBlockStart { content_block } => {
                self.text_delta(content_block.text, on_delta);
            }
            WireEvent::ContentBlockDelta { delta } => self.text_delta(delta.text, on_delta),
            WireEvent::MessageDelta { delta, usage } => {
                if delta.stop_reason.is_some() {
                    self.finish_reason = finish_reason(delta.stop_reason.as_deref());
                }
                if let Some(u) = usage {
                    if let Some(input) = u.input_tokens {
                        self.usage.prompt_tokens = input;
                    }
                    self.usage.completion_tokens = u.output_tokens;
                }
            }
            WireEvent::MessageStop => self.done = true,
            WireEvent::Error { error } => return Err(t.server(error.message)),
            WireEvent::Other => {}
        }
        Ok(())
    }

    fn text_delta(
        &mut self,
        text: Option<String>,
        on_delta: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) {
        if let Some(text) = text.filter(|t| !t.is_empty()) {
            on_delta(&text);
            self.text.push_str(&text);
        }
    }
}

fn finish_reason(reason: Option<&str>) -> FinishReason {
    match reason {
        Some("end_turn" | "stop_sequence") | None => FinishReason::Stop,
        Some("max_tokens") => FinishReason::Length,
        Some(_) => FinishReason::Other,
    }
}

fn usage(u: WireUsage) -> TokenUsage {
    TokenUsage {
        prompt_tokens: u.input_tokens.unwrap_or(0),
        completion_tokens: u.output_tokens,
    }
}

// --- wire types: https://docs.anthropic.com/en/api/messages ---

#[derive(Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<String>,
    messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_sequences: Option<&'a [String]>,
    stream: bool,
}

#[derive(Serialize)]
struct WireMessage<'a> {
    role: &'static str,
    content: &'a str,
}

#[derive(Deserialize)]
struct WireResponse {
    #[serde(default)]
    model: Option<String>,
    content: Vec<WireBlock>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
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
    input_tokens: Option<u32>,
    #[serde(default)]
    output_tokens: u32,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireEvent {
    MessageStart {
        message: WireStartMessage,
    },
    ContentBlockStart {
        content_block: WireBlockDelta,
    },
    ContentBlockDelta {
        delta: WireBlockDelta,
    },
    MessageDelta {
        delta: WireMessageDelta,
        #[serde(default)]
        usage: Option<WireUsage>,
    },
    MessageStop,
    Error {
        error: WireError,
    },
    /// `ping`, `content_block_stop`, and event types added after this was written.
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct WireStartMessage {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct WireBlockDelta {
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct WireMessageDelta {
    #[serde(default)]
    stop_reason: Option<String>,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(default)]
    message: String,
}
