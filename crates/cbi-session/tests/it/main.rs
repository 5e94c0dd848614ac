//! Integration tests of cbi-session: one suite run against every store, sessions passed
//! between separate OS processes through the SQLite file and through Redis, and the stores'
//! failure modes. Redis tests use the machine's server (`CBI_TEST_REDIS_URL`, default
//! `redis://127.0.0.1:6379/`) under a random key prefix they delete afterwards; they fail
//! when it is not running.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod conformance;
#[cfg(any(feature = "sqlite", feature = "redis"))]
mod cross_process;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "sqlite")]
mod sqlite;
mod support;
