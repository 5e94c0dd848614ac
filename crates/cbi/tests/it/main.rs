//! The `cbi` binary, run as a user runs it: real processes, real databases, real exit codes —
//! `ask` and `chat` included, with chat scripts piped to its stdin.
//!
//! Every test runs the binary with a scrubbed environment (its own HOME, config and data
//! directories in a temporary folder), so nothing on the machine — a `~/.config/cbi`, a cached
//! demo — changes the outcome. Tests that need PostgreSQL or MariaDB use the machine's servers
//! (`CBI_TEST_POSTGRES_URL`, `CBI_TEST_MYSQL_URL`) and fail loudly when they are missing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod ask;
mod chat;
mod demo;
mod errors;
mod hostile;
mod mcp;
mod schema;
mod semantic;
mod servers;
mod sql;
mod support;
