#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The engine end to end: the retail demo's business questions, clarification, export, safety,
//! and the same questions answered on SQLite, PostgreSQL and MariaDB.

mod cache;
mod common;
mod conversation;
mod demo;
mod followups;
mod grammar;
mod hostile;
mod seam;
mod servers;
