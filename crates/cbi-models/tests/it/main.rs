//! Integration tests of cbi-models: every provider against an in-process server speaking its
//! vendor's wire format, and the router over mock models.

mod anthropic;
mod cohere;
mod config;
mod ollama;
mod openai;
mod router;
mod server;
mod vendor;
