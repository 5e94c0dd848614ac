//! Integration tests of cbi-demo: the generated data's invariants and patterns, the SQL it
//! renders, and round trips through SQLite, PostgreSQL and MariaDB.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backends;
mod data;
mod sql;
mod sqlite;
