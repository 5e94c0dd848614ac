//! Integration tests of cbi-schema against real databases: the retail demo written to a
//! temporary SQLite file and to fresh, randomly named PostgreSQL and MariaDB databases (dropped
//! afterwards), schemas without declared keys, and Spider's `world_1`. Servers come from
//! `CBI_TEST_POSTGRES_URL` and `CBI_TEST_MYSQL_URL` (see `common`); a missing server fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cache;
mod common;
mod demo;
mod inference;
mod spider;
