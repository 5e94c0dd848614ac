//! Ollama's native chat API (`POST {base}/api/chat`).
//!
//! Ollama streams by default, so `stream` is always sent. Sampling settings go in `options`
//! (`temperature`, `num_predict` for the token limit, `stop`); token counts come back as
//! `prompt_eval_count` and `eval_count`. A streamed answer is newline-delimited JSON: one
//! object per piece with `message.content`, the last with `done: true` and the counts. No key is
//! needed locally; one that is configured (for a proxy or ollama.com) is sent as a bearer token.
//!
//! The API has no `n` and no GBNF grammar (its `format` takes a JSON schema): `n > 1` makes
//! several calls, and `grammar` is ignored.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use cbi_types::config::Secret;
use cbi_types::{ChatRole, Completion, CompletionRequest, FinishReason, LanguageModel, TokenUsage};
use serde::{Deserialize, Serialize};

use crate::client::{self, DEFAULT_TIMEOUT, Defaults, OneChoice, Transport};
use crate::error::Result;
use crate::stream::Lines;

const PROVIDER: &str = "ollama";

/// Where a local Ollama listens.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:11434";

/// A model served by Ollama.
pub struct OllamaChat {
    transport: Transport,
    model: String,
    name: String,
    defaults: Defaults,
}

impl fmt::Debug for OllamaChat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OllamaChat")
            .field("name", &self.name)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl OllamaChat {
    /// A model at `base_url` (without `/api`).
    pub fn new(base_url: &str, model: impl Into<String>, api_key: Option<Secret>) -> Result<Self> {
        let model = model.into();
        Ok(OllamaChat {
            transport: Transport::new(PROVIDER, base_url, DEFAULT_TIMEOUT, api_key)?,
            name: format!("{PROVIDER}/{model}"),
            model,
            defaults: Defaults::default(),
        })
    }

    /// Longest wait for a whole answer, streamed or not (a cold model may take a while to load).
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
            options: WireOptions {
                temperature: self.defaults.temperature(r),
                num_predict: self.defaults.max_tokens(r),
                stop: if r.stop.is_empty() {
                    None
                } else {
                    Some(&r.stop)
                },
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
impl OneChoice for OllamaChat {
    async fn one(
        &self,
        r: &CompletionRequest,
        on_delta: Option<&mut (dyn for<'s> FnMut(&'s str) + Send)>,
    ) -> Result<Completion> {
        let t = &self.transport;
        let Some(on_delta) = on_delta else {
            let bytes = t
                .post("/api/chat", self.headers()?, &self.body(r, false))
                .await?;
            let wire: WireChunk = t.parse(&bytes)?;
            if let Some(error) = wire.error {
                return Err(t.server(error));
            }
            let usage = usage(&wire);
            let Some(message) = wire.message else {
                return Err(t.malformed("the answer has no message"));
            };
            let text = message.content;
            return Ok(client::completion(
                vec![text],
                usage,
                wire.model.unwrap_or_else(|| self.model.clone()),
                finish_reason(wire.done_reason.as_deref()),
            ));
        };
        let mut lines = Lines::default();
        let mut acc = Accumulated::default();
        t.post_streaming(
            "/api/chat",
            self.headers()?,
            &self.body(r, true),
            &mut |bytes| {
                for line in lines.push(bytes).map_err(|m| t.malformed(m))? {
                    acc.line(t, &line, on_delta)?;
                }
                Ok(())
            },
        )
        .await?;
        if let Some(last) = lines.rest().map_err(|m| t.malformed(m))? {
            acc.line(t, &last, on_delta)?;
        }
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
impl LanguageModel for OllamaChat {
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
    fn line(
        &mut self,
        t: &Transport,
        line: &str,
        on_delta: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> Result<()> {
        if line.trim().is_empty() {
            return Ok(());
        }
        let chunk: WireChunk = t.parse(line.as_bytes())?;
        if let Some(error) = chunk.error {
            return Err(t.server(error));
        }
        if self.model.is_none() {
            self.model.clone_from(&chunk.model);
        }
        if let Some(text) = chunk.message.as_ref().map(|m| m.content.as_str()) {
            if !text.is_empty() {
                on_delta(text);
                self.text.push_str(text);
            }
        }
        if chunk.done {
            self.done = true;
            self.usage = usage(&chunk);
            self.finish_reason = finish_reason(chunk.done_reason.as_deref());
        }
        Ok(())
    }
}

fn finish_reason(reason: Option<&str>) -> FinishReason {
    match reason {
        Some("stop") | None => FinishReason::Stop,
        Some("length") => FinishReason::Length,
        Some(_) => FinishReason::Other,
    }
}

fn usage(chunk: &WireChunk) -> TokenUsage {
    TokenUsage {
        prompt_tokens: chunk.prompt_eval_count,
        completion_tokens: chunk.eval_count,
    }
}

// --- wire types: https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion ---

#[derive(Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    stream: bool,
    options: WireOptions<'a>,
}

#[derive(Serialize)]
struct WireMessage<'a> {
    role: &'static str,
    content: &'a str,
}

#[derive(Serialize)]
struct WireOptions<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    num_predict: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop: Option<&'a [String]>,
}

/// A whole answer, or one line of a streamed one.
#[derive(Deserialize)]
struct WireChunk {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    message: Option<WireAnswer>,
    #[serde(default)]
    done: bool,
    #[serde(default)]
    done_reason: Option<String>,
    #[serde(default)]
    prompt_eval_count: u32,
    #[serde(default)]
    eval_count: u32,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct WireAnswer {
    #[serde(default)]
    content: String,
}
