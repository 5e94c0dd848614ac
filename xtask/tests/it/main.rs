//! End-to-end tests of `cargo xtask` subcommands, run as the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod eval;
mod models;
