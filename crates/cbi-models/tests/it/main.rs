//! Integration tests of cbi-models: every provider against an in-process server speaking its
//! vendor's wire format, the router over mock models, and (feature `local`) the GGUF provider
//! over a tiny model the tests write themselves.

mod anthropic;
mod cohere;
mod config;
#[cfg(feature = "local")]
mod local;
mod ollama;
mod openai;
mod router;
mod server;
mod vendor;
