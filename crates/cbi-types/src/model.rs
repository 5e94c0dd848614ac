use std::fmt::Debug;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::Result;

/// Who said a message in a chat completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    System,
    User,
    Assistant,
}

/// One message of a chat completion request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: ChatRole,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        ChatMessage {
            role: ChatRole::System,
            content: content.into(),
        }
    }

    pub fn user(content: impl Into<String>) -> Self {
        ChatMessage {
            role: ChatRole::User,
            content: content.into(),
        }
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        ChatMessage {
            role: ChatRole::Assistant,
            content: content.into(),
        }
    }
}

/// A vendor-neutral completion request. Each provider maps it onto its own wire format.
///
/// Build one with `..Default::default()` so that fields added later do not break callers.
/// A field a provider cannot honour is ignored by that provider, and its documentation says so.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CompletionRequest {
    pub messages: Vec<ChatMessage>,
    /// Most tokens to generate; `None` leaves it to the provider's configured default.
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
    /// Sequences that end generation when produced; they are not part of the text.
    #[serde(default)]
    pub stop: Vec<String>,
    /// How many alternative completions to generate (`None` means one). They come back in
    /// [`Completion::choices`]. Providers whose API has no such parameter make several calls.
    #[serde(default)]
    pub n: Option<u32>,
    /// A GBNF grammar the output must match, for local models (llama.cpp and its servers) that
    /// can constrain decoding. Cloud APIs cannot honour it and ignore it, so callers must still
    /// validate what comes back.
    #[serde(default)]
    pub grammar: Option<String>,
}

/// Tokens a call consumed, as the vendor reported them (or as counted locally).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TokenUsage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

impl TokenUsage {
    pub fn total(&self) -> u32 {
        self.prompt_tokens + self.completion_tokens
    }
}

/// Why generation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    #[default]
    Stop,
    Length,
    Other,
}

/// A completion's text and what it cost.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Completion {
    /// The first (usually the only) generated text; the same as `choices[0]` when `choices`
    /// is not empty.
    pub text: String,
    /// Every generated alternative, in order, when the request asked for `n > 1`; empty
    /// otherwise, so single completions need not repeat their text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// Tokens of the whole call, all choices together.
    pub usage: TokenUsage,
    /// The model that answered, as the vendor named it.
    pub model: String,
    pub finish_reason: FinishReason,
}

/// A chat language model: a cloud vendor, a local server or an in-process model.
#[async_trait]
pub trait LanguageModel: Send + Sync + Debug {
    /// `provider/model`, for logs, reports and cost tables.
    fn name(&self) -> &str;

    async fn complete(&self, request: &CompletionRequest) -> Result<Completion>;

    /// Like [`complete`](Self::complete), but hands the first choice's text to `on_delta` piece
    /// by piece as it is generated, so a person sees an answer start before it ends. The
    /// returned [`Completion`] holds the whole text, which equals the concatenated deltas.
    ///
    /// A callback rather than a `Stream` keeps this crate free of an async runtime and of
    /// `futures`; a caller that wants a stream can forward the deltas into a channel. Models
    /// that cannot stream keep this default, which calls `complete` and delivers the text as
    /// one delta.
    async fn complete_streaming(
        &self,
        request: &CompletionRequest,
        on_delta: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> Result<Completion> {
        let completion = self.complete(request).await?;
        if !completion.text.is_empty() {
            on_delta(&completion.text);
        }
        Ok(completion)
    }
}

/// A sentence embedding model.
#[async_trait]
pub trait EmbeddingModel: Send + Sync + Debug {
    fn name(&self) -> &str;

    /// Length of every vector this model returns.
    fn dimensions(&self) -> usize;

    /// One vector per input text, in order, each `dimensions()` long.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>>;
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use super::*;

    #[derive(Debug)]
    struct Canned;

    #[async_trait]
    impl LanguageModel for Canned {
        fn name(&self) -> &str {
            "test/canned"
        }

        async fn complete(&self, _request: &CompletionRequest) -> Result<Completion> {
            Ok(Completion {
                text: "SELECT 1".into(),
                ..Completion::default()
            })
        }
    }

    /// Runs a future that never waits on anything, without an async runtime.
    fn ready<F: Future>(f: F) -> F::Output {
        match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(out) => out,
            Poll::Pending => panic!("the future waited on something"),
        }
    }

    #[test]
    fn streaming_defaults_to_one_delta_holding_the_whole_text() {
        let mut deltas = Vec::new();
        let completion = ready(
            Canned.complete_streaming(&CompletionRequest::default(), &mut |d: &str| {
                deltas.push(d.to_owned())
            }),
        )
        .expect("canned completion");
        assert_eq!(deltas, ["SELECT 1"]);
        assert_eq!(completion.text, "SELECT 1");
    }

    #[test]
    fn requests_from_before_n_and_grammar_still_deserialize() {
        let r: CompletionRequest =
            serde_json::from_str(r#"{"messages":[],"max_tokens":5,"temperature":null}"#)
                .expect("old request shape");
        assert_eq!((r.n, r.grammar), (None, None));
        let c: Completion = serde_json::from_str(
            r#"{"text":"x","usage":{"prompt_tokens":1,"completion_tokens":2},"model":"m","finish_reason":"stop"}"#,
        )
        .expect("old completion shape");
        assert!(c.choices.is_empty());
    }
}
