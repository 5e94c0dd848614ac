//! Integration tests of cbi-nl2sql, one binary (see STYLE.md).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod generate;
mod model;
mod validate;
