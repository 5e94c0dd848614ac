//! Integration tests of cbi-models: every provider against an in-process server speaking its
//! vendor's wire format, the router over mock models, and (feature `minilm`) a tiny random
//! BERT written by the tests.

mod anthropic;
mod cohere;
mod config;
#[cfg(feature = "minilm")]
mod minilm;
mod ollama;
mod openai;
mod router;
mod server;
mod vendor;
