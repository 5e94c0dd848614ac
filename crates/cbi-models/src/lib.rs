//! Model providers for cbi: language models over HTTP or in this process from a GGUF file
//! (feature `local`), the router that makes several of them one, and (feature `minilm`) sentence
//! embeddings computed in-process.
//!
//! Each provider implements [`cbi_types::LanguageModel`] for one vendor API, speaking its
//! documented wire format, streamed and not: [`OpenAiChat`] (OpenAI Chat Completions and every
//! compatible server — vLLM, the llama.cpp server, LM Studio), [`AnthropicChat`] (Messages),
//! [`CohereChat`] (Chat v2) and [`OllamaChat`] (`/api/chat`). Every client takes a base URL.
//! Vendor wire types stay private to their module; callers see only `cbi_types`' requests and
//! completions. API keys come from the configuration or the vendor's usual environment
//! variable, and never appear in `Debug` output, logs or error messages.
//!
//! With the `local` feature (off by default: it builds llama.cpp from source, which needs
//! cmake and clang and takes minutes), `LocalGguf` runs a GGUF model in this process through
//! llama.cpp: the model's own chat template, greedy or seeded sampling, GBNF grammars that
//! constrain decoding, and a KV cache that keeps the prompt prefix it shares with the previous
//! request, so questions on one schema pay only for their own tokens.
//!
//! [`ModelRouter`] is itself a `LanguageModel`: it picks among routes by [`Requirements`]
//! (quality, latency, cost, context), falls back along an ordered chain, retries with backoff and
//! jitter honouring `Retry-After`, enforces a timeout and a per-provider concurrency limit,
//! opens a circuit breaker on a failing provider, and accounts tokens and cost per session and
//! in total.
//!
//! `MiniLm` (feature `minilm`, off by default because candle is heavy to build) implements
//! [`cbi_types::EmbeddingModel`] with all-MiniLM-L6-v2, or any BERT encoder with mean pooling,
//! run on the CPU from a folder of `model.safetensors`, `tokenizer.json` and `config.json`
//! (`cargo xtask models --only minilm` fetches them). Nothing is downloaded at run time.
//!
//! The main entry points are [`from_config`], which turns one `models.*` entry of the
//! configuration into a language model, and [`embedding_from_config`], which does the same for
//! `models.embedding`.
//!
//! This crate is not a client for hosted embedding APIs and not a prompt builder; those live elsewhere. It has no retry or fallback
//! logic inside the providers: a provider makes one attempt and reports what happened, and the
//! router decides what to do.

mod anthropic;
mod client;
mod cohere;
mod error;
#[cfg(feature = "local")]
mod local;
#[cfg(feature = "minilm")]
mod minilm;
mod ollama;
mod openai;
mod router;
mod stream;

use std::sync::Arc;
use std::time::Duration;

use cbi_types::config::{ModelConfig, Secret};
use cbi_types::{EmbeddingModel, LanguageModel};

pub use anthropic::AnthropicChat;
pub use client::DEFAULT_TIMEOUT;
pub use cohere::CohereChat;
pub use error::{Error, ErrorKind, Result};
#[cfg(feature = "local")]
pub use local::{DIVERSE_TEMPERATURE, LocalGguf, LocalOptions, LocalStats};
#[cfg(feature = "minilm")]
pub use minilm::{MAX_TOKENS as MINILM_MAX_TOKENS, MiniLm};
pub use ollama::OllamaChat;
pub use openai::OpenAiChat;
pub use router::{
    Accounting, BreakerPolicy, ESTIMATED_COMPLETION_TOKENS, ModelProfile, ModelRouter, Prefer,
    Requirements, RetryPolicy, RouterBuilder, Usage,
};

/// Default base URLs of the vendors, for reference and for [`from_config`].
pub mod defaults {
    pub use crate::anthropic::{
        API_VERSION as ANTHROPIC_VERSION, DEFAULT_BASE_URL as ANTHROPIC,
        DEFAULT_MAX_TOKENS as ANTHROPIC_MAX_TOKENS,
    };
    pub use crate::cohere::DEFAULT_BASE_URL as COHERE;
    pub use crate::ollama::DEFAULT_BASE_URL as OLLAMA;
    pub use crate::openai::DEFAULT_BASE_URL as OPENAI;
}

/// Builds the model one `models.*` entry of the configuration describes, reading missing keys
/// from the process environment (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`, `CO_API_KEY` or
/// `COHERE_API_KEY`).
///
/// Providers: `openai`, `openai-compatible` (needs `base_url`), `anthropic`, `cohere`,
/// `ollama`, and `gguf` (needs `path`; the `local` feature), which loads the file once per
/// process however many entries name it. `embedded` is not built here; `local-embedding` is an
/// embedding model, built by [`embedding_from_config`].
pub fn from_config(config: &ModelConfig) -> Result<Arc<dyn LanguageModel>> {
    from_config_with_env(config, |name| std::env::var(name).ok())
}

/// [`from_config`] with the environment given as a function, for tests and for callers that
/// keep their own.
pub fn from_config_with_env(
    config: &ModelConfig,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Arc<dyn LanguageModel>> {
    let configured = config
        .api_key
        .clone()
        .filter(|k| !k.expose().trim().is_empty());
    let from_env = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| env(n).filter(|v| !v.trim().is_empty()))
            .map(Secret::new)
    };
    let required = |provider: &'static str, names: &[&'static str]| {
        configured
            .clone()
            .or_else(|| from_env(names))
            .ok_or(Error::MissingApiKey {
                provider,
                env: names[0],
            })
    };
    let base = |default: &str| {
        config
            .base_url
            .clone()
            .unwrap_or_else(|| default.to_owned())
    };
    let timeout = Duration::from_secs(config.timeout_secs.unwrap_or(DEFAULT_TIMEOUT.as_secs()));
    let (max_tokens, temperature) = (config.max_tokens, config.temperature);
    let model = config.model.clone();
    Ok(match config.provider.as_str() {
        "openai" => Arc::new(
            OpenAiChat::new(
                &base(defaults::OPENAI),
                model,
                Some(required("openai", &["OPENAI_API_KEY"])?),
            )?
            .with_timeout(timeout)
            .with_defaults(max_tokens, temperature),
        ),
        "openai-compatible" => {
            // Never send the user's OpenAI key to some other server: only a configured key.
            let Some(url) = config.base_url.as_deref() else {
                return Err(Error::MissingBaseUrl {
                    provider: "openai-compatible",
                });
            };
            Arc::new(
                OpenAiChat::compatible(url, model, configured)?
                    .with_timeout(timeout)
                    .with_defaults(max_tokens, temperature),
            )
        }
        "anthropic" => Arc::new(
            AnthropicChat::new(
                &base(defaults::ANTHROPIC),
                model,
                Some(required("anthropic", &["ANTHROPIC_API_KEY"])?),
            )?
            .with_timeout(timeout)
            .with_defaults(max_tokens, temperature),
        ),
        "cohere" => Arc::new(
            CohereChat::new(
                &base(defaults::COHERE),
                model,
                Some(required("cohere", &["CO_API_KEY", "COHERE_API_KEY"])?),
            )?
            .with_timeout(timeout)
            .with_defaults(max_tokens, temperature),
        ),
        "ollama" => Arc::new(
            OllamaChat::new(&base(defaults::OLLAMA), model, configured)?
                .with_timeout(timeout)
                .with_defaults(max_tokens, temperature),
        ),
        "gguf" => gguf(config)?,
        "local-embedding" => {
            return Err(Error::WrongKind {
                provider: "local-embedding".into(),
                wanted: "a language model",
                hint: "it computes embeddings: configure it under models.embedding",
            });
        }
        other => return Err(Error::UnknownProvider(other.to_owned())),
    })
}

/// Builds the embedding model a `models.embedding` entry describes.
///
/// Provider `local-embedding`: `path` is the folder holding `model.safetensors`,
/// `tokenizer.json` and `config.json` (`cargo xtask models --only minilm` writes one), and
/// `model` names it in reports. It needs this crate's `minilm` feature; without it the answer is
/// [`Error::NotBuilt`], so a front end can say how to get it. The files are loaded and
/// checked here, once, not on the first question.
pub fn embedding_from_config(config: &ModelConfig) -> Result<Arc<dyn EmbeddingModel>> {
    match config.provider.as_str() {
        "local-embedding" => {
            let Some(path) = config.path.as_deref() else {
                return Err(Error::MissingModelPath {
                    provider: "local-embedding",
                });
            };
            local_embedding(path, &config.model)
        }
        other => Err(Error::WrongKind {
            provider: other.to_owned(),
            wanted: "an embedding model",
            hint: "the embedding provider is local-embedding",
        }),
    }
}

#[cfg(feature = "minilm")]
fn local_embedding(path: &std::path::Path, model: &str) -> Result<Arc<dyn EmbeddingModel>> {
    let loaded = MiniLm::load(path)?;
    Ok(Arc::new(if model.trim().is_empty() {
        loaded
    } else {
        loaded.with_name(format!("local-embedding/{model}"))
    }))
}

#[cfg(not(feature = "minilm"))]
fn local_embedding(_path: &std::path::Path, _model: &str) -> Result<Arc<dyn EmbeddingModel>> {
    Err(Error::NotBuilt {
        provider: "local-embedding",
        feature: "minilm",
    })
}

#[cfg(feature = "local")]
fn gguf(config: &ModelConfig) -> Result<Arc<dyn LanguageModel>> {
    let path = config
        .path
        .as_deref()
        .ok_or(Error::MissingModelPath { provider: "gguf" })?;
    let defaults = LocalOptions::default();
    let options = LocalOptions {
        max_tokens: config.max_tokens.unwrap_or(defaults.max_tokens),
        temperature: config.temperature,
        ..defaults
    };
    Ok(LocalGguf::shared(path, options)?)
}

#[cfg(not(feature = "local"))]
fn gguf(_config: &ModelConfig) -> Result<Arc<dyn LanguageModel>> {
    Err(Error::NotBuilt {
        provider: "gguf",
        feature: "local",
    })
}
