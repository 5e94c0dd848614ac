//! OpenAI Chat Completions (`POST {base}/chat/completions`), and every server that speaks it:
//! vLLM, the llama.cpp server, LM Studio, LocalAI, OpenRouter.
//!
//! Sends `Authorization: Bearer <key>` when a key is set (local servers need none). Streaming
//! reads `data: {chunk}` events with `choices[i].delta.content` up to `data: [DONE]`, asking for
//! a final usage chunk with `stream_options.include_usage`.
//!
//! `n` is sent as is. `grammar` is sent only in the OpenAI-compatible flavour, as the llama.cpp
//! server's `grammar` field; api.openai.com cannot honour a grammar and never receives it.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use cbi_types::config::Secret;
use cbi_types::{ChatRole, Completion, CompletionRequest, FinishReason, LanguageModel, TokenUsage};
use serde::{Deserialize, Serialize};

use crate::client::{self, DEFAULT_TIMEOUT, Defaults, Transport};
use crate::error::Result;
use crate::stream::SseDecoder;

const PROVIDER: &str = "openai";
const COMPATIBLE: &str = "openai-compatible";

/// Where api.openai.com's v1 API lives.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// A chat model behind the OpenAI Chat Completions API.
pub struct OpenAiChat {
    transport: Transport,
    model: String,
    name: String,
    compatible: bool,
    defaults: Defaults,
}

impl fmt::Debug for OpenAiChat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiChat")
            .field("name", &self.name)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl OpenAiChat {
    /// api.openai.com or a server that mirrors it exactly. The key is required by OpenAI but
    /// not checked here; a missing one is refused by the server.
    pub fn new(base_url: &str, model: impl Into<String>, api_key: Option<Secret>) -> Result<Self> {
        Self::build(PROVIDER, base_url, model.into(), api_key, false)
    }

    /// A self-hosted or third-party server speaking the same API (vLLM, llama.cpp, LM Studio).
    /// Differences from [`new`](Self::new): `max_tokens` instead of OpenAI's newer
    /// `max_completion_tokens`, and the request's `grammar` is passed through.
    pub fn compatible(
        base_url: &str,
        model: impl Into<String>,
        api_key: Option<Secret>,
    ) -> Result<Self> {
        Self::build(COMPATIBLE, base_url, model.into(), api_key, true)
    }

    fn build(
        provider: &'static str,
        base_url: &str,
        model: String,
        api_key: Option<Secret>,
        compatible: bool,
    ) -> Result<Self> {
        Ok(OpenAiChat {
            transport: Transport::new(provider, base_url, DEFAULT_TIMEOUT, api_key)?,
            name: format!("{provider}/{model}"),
            model,
            compatible,
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
        let max_tokens = self.defaults.max_tokens(r);
        WireRequest {
            model: &self.model,
            messages: r
                .messages
                .iter()
                .map(|m| WireMessage {
                    role: role(m.role),
                    content: &m.content,
                })
                .collect(),
            max_tokens: max_tokens.filter(|_| self.compatible),
            max_completion_tokens: max_tokens.filter(|_| !self.compatible),
            temperature: self.defaults.temperature(r),
            stop: if r.stop.is_empty() {
                None
            } else {
                Some(&r.stop)
            },
            n: r.n.filter(|&n| n > 1),
            stream,
            stream_options: stream.then_some(StreamOptions {
                include_usage: true,
            }),
            grammar: r.grammar.as_deref().filter(|_| self.compatible),
        }
    }

    fn headers(&self) -> Result<reqwest::header::HeaderMap> {
        let bearer;
        let mut pairs = Vec::new();
        if let Some(key) = self.transport.key() {
            bearer = format!("Bearer {key}");
            pairs.push(("authorization", bearer.as_str()));
        }
        client::headers(self.provider(), &pairs)
    }

    fn provider(&self) -> &'static str {
        if self.compatible {
            COMPATIBLE
        } else {
            PROVIDER
        }
    }

    async fn call(
        &self,
        r: &CompletionRequest,
        on_delta: Option<&mut (dyn for<'s> FnMut(&'s str) + Send)>,
    ) -> Result<Completion> {
        let Some(on_delta) = on_delta else {
            let bytes = self
                .transport
                .post("/chat/completions", self.headers()?, &self.body(r, false))
                .await?;
            let wire: WireResponse = self.transport.parse(&bytes)?;
            return self.finish(wire);
        };
        let mut decoder = SseDecoder::default();
        let mut acc = Accumulated::default();
        let t = &self.transport;
        t.post_streaming(
            "/chat/completions",
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
            return Err(self.transport.unfinished());
        }
        Ok(client::completion(
            acc.texts,
            acc.usage,
            acc.model.unwrap_or_else(|| self.model.clone()),
            acc.finish_reason,
        ))
    }

    fn finish(&self, wire: WireResponse) -> Result<Completion> {
        let mut choices = wire.choices;
        if choices.is_empty() {
            return Err(self.transport.malformed("the answer has no choices"));
        }
        choices.sort_by_key(|c| c.index);
        let finish_reason = finish_reason(choices[0].finish_reason.as_deref());
        let texts = choices
            .into_iter()
            .map(|c| c.message.content.unwrap_or_default())
            .collect();
        Ok(client::completion(
            texts,
            wire.usage.map(usage).unwrap_or_default(),
            wire.model.unwrap_or_else(|| self.model.clone()),
            finish_reason,
        ))
    }
}

#[async_trait]
impl LanguageModel for OpenAiChat {
    fn name(&self) -> &str {
        &self.name
    }

    async fn complete(&self, request: &CompletionRequest) -> cbi_types::Result<Completion> {
        Ok(self.call(request, None).await?)
    }

    async fn complete_streaming(
        &self,
        request: &CompletionRequest,
        on_delta: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> cbi_types::Result<Completion> {
        Ok(self.call(request, Some(on_delta)).await?)
    }
}

/// What a stream has said so far.
#[derive(Default)]
struct Accumulated {
    texts: Vec<String>,
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
        if data.trim() == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        let chunk: WireChunk = t.parse(data.as_bytes())?;
        if let Some(error) = chunk.error {
            return Err(t.server(error.message));
        }
        if self.model.is_none() {
            self.model = chunk.model;
        }
        if let Some(u) = chunk.usage {
            self.usage = usage(u);
        }
        for choice in chunk.choices {
            let i = choice.index as usize;
            if i >= 128 {
                return Err(t.malformed(format!("choice index {i} is out of range")));
            }
            if self.texts.len() <= i {
                self.texts.resize(i + 1, String::new());
            }
            if let Some(text) = choice.delta.content.filter(|t| !t.is_empty()) {
                if i == 0 {
                    on_delta(&text);
                }
                self.texts[i].push_str(&text);
            }
            if i == 0 && choice.finish_reason.is_some() {
                self.finish_reason = finish_reason(choice.finish_reason.as_deref());
            }
        }
        Ok(())
    }
}

fn role(role: ChatRole) -> &'static str {
    match role {
        ChatRole::System => "system",
        ChatRole::User => "user",
        ChatRole::Assistant => "assistant",
    }
}

fn finish_reason(reason: Option<&str>) -> FinishReason {
    match reason {
        Some("stop") | None => FinishReason::Stop,
        Some("length") => FinishReason::Length,
        Some(_) => FinishReason::Other,
    }
}

fn usage(u: WireUsage) -> TokenUsage {
    TokenUsage {
        prompt_tokens: u.prompt_tokens,
        completion_tokens: u.completion_tokens,
    }
}

// --- wire types: https://platform.openai.com/docs/api-reference/chat ---

#[derive(Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    n: Option<u32>,
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    grammar: Option<&'a str>,
}

#[derive(Serialize)]
struct WireMessage<'a> {
    role: &'static str,
    content: &'a str,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Deserialize)]
struct WireResponse {
    #[serde(default)]
    model: Option<String>,
    choices: Vec<WireChoice>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct WireChoice {
    #[serde(default)]
    index: u32,
    message: WireAnswer,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct WireAnswer {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
}

#[derive(Deserialize)]
struct WireChunk {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<WireChunkChoice>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<WireError>,
}

#[derive(Deserialize)]
struct WireChunkChoice {
    #[serde(default)]
    index: u32,
    #[serde(default)]
    delta: WireDelta,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct WireDelta {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(default)]
    message: String,
}
