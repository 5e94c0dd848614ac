//! Integration tests of cbi-db against real databases: SQLite files made here, and the
//! machine's PostgreSQL and MariaDB/MySQL servers (`CBI_TEST_POSTGRES_URL`,
//! `CBI_TEST_MYSQL_URL`), where every test makes its own randomly named database and drops it
//! afterwards. A missing server fails the test: nothing is skipped.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod urls;

#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod spider;
#[cfg(feature = "sqlite")]
mod sqlite;
