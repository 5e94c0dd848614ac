//! `cbi`, the command line of the conversational BI engine.
//!
//! Four commands: `cbi ask` (one question in plain English, answered through cbi-engine),
//! `cbi chat` (a conversation, kept in the configured session store so it can be resumed),
//! `cbi schema` (what a database holds, as cbi understands it) and `cbi sql` (one read-only
//! statement, checked by the same validator every generated query passes). All work on SQLite,
//! PostgreSQL and MySQL/MariaDB, and on the bundled retail demo database (with its semantic
//! file) when no database is named. Shared pieces: [`config`] (which file applies), [`demo`],
//! [`semantic`] (which semantic file goes with a database), [`output`] (rows as a table, JSON
//! or CSV) and [`answer`] (an engine response for people).
//!
//! This file is deliberately thin: it parses the command line, sets up logging, runs the command
//! on a tokio runtime and turns any error into one `error: …` line on stderr with exit code 1
//! (clap's usage errors exit with 2; `cbi ask` exits with 3 when it asks back). Nothing here is
//! a library; the crates below are.

mod answer;

mod cli;
mod commands;
mod config;
mod demo;
mod dirs;
mod output;
mod semantic;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::commands::Outcome;

fn main() -> ExitCode {
    install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Prints help/version (exit 0) or the usage error (exit 2), as clap does.
        Err(e) => e.exit(),
    };
    init_logging(cli.verbose);
    match run(cli) {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::NeedsClarification) => ExitCode::from(3),
        // `cbi sql … | head`: the reader left; that is not a failure of ours.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr().lock(), "error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let loaded = config::load(cli.config.as_deref())?;
    let ctx = commands::Context {
        config: loaded.config,
        config_path: loaded.path,
        db: cli.db,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    let command = match cli.command {
        // MCP speaks on stdout itself: no lock may be held on it meanwhile.
        Command::Mcp(args) => {
            return runtime
                .block_on(commands::mcp::run(&ctx, args))
                .map(|()| Outcome::Done);
        }
        other => other,
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let outcome = runtime.block_on(async {
        match command {
            Command::Ask(args) => commands::ask::run(&ctx, args, &mut out).await,
            Command::Chat(args) => commands::chat::run(&ctx, args, &mut out).await,
            Command::Schema(args) => commands::schema::run(&ctx, args, &mut out)
                .await
                .map(|()| Outcome::Done),
            Command::Sql(args) => commands::sql::run(&ctx, args, &mut out)
                .await
                .map(|()| Outcome::Done),
            Command::Sessions(args) => commands::sessions::run(&ctx, args, &mut out)
                .await
                .map(|()| Outcome::Done),
            Command::Mcp(_) => unreachable!("answered above"),
            Command::Serve(args) => commands::serve::run(&ctx, args)
                .await
                .map(|()| Outcome::Done),
            Command::Semantic(cli::SemanticCommand::Init(args)) => {
                commands::semantic_init::run(&ctx, args, &mut out)
                    .await
                    .map(|()| Outcome::Done)
            }
        }
    });
    // What was printed before a failure still reaches the reader, ahead of the error line.
    out.flush()?;
    outcome
}

/// `-v` levels, with `RUST_LOG` directives layered on top (so `RUST_LOG=cbi_db=trace` works
/// with or without `-v`). Logs go to stderr so they never mix with results on stdout.
fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let directives = match std::env::var("RUST_LOG") {
        Ok(env) if !env.trim().is_empty() && verbose == 0 => env,
        Ok(env) if !env.trim().is_empty() => format!("{level},{env}"),
        _ => level.to_string(),
    };
    let filter = tracing_subscriber::EnvFilter::builder().parse_lossy(directives);
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .with_target(verbose >= 2)
        .try_init();
}

/// A panic is a bug in cbi, but the user still gets one line in the house format instead of a
/// backtrace dump (set `RUST_BACKTRACE=1` to get Rust's own report).
fn install_panic_hook() {
    if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
        return;
    }
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".to_string());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let _ = writeln!(
            io::stderr().lock(),
            "error: internal error{place}: {}; this is a bug in cbi, please report it",
            flatten_whitespace(&msg)
        );
    }));
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// The whole error chain on one line: each cause is appended unless the message before it
/// already says it (thiserror types often embed their source in their own message).
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = flatten_whitespace(&cause.to_string());
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// Collapses newlines and runs of whitespace, so a multi-line database message stays on the
/// one error line.
fn flatten_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use anyhow::Context;

    use super::*;

    #[test]
    fn error_chains_become_one_line_without_repeats() {
        let base: anyhow::Result<()> =
            Err(io::Error::new(io::ErrorKind::NotFound, "no such file\n  or directory").into());
        let e = base.context("config file x.yaml").unwrap_err();
        assert_eq!(
            one_line(&e),
            "config file x.yaml: no such file or directory"
        );

        let inner = cbi_schema::Error::Database(cbi_types::Error::Query {
            message: "boom".into(),
            code: None,
        });
        let e = anyhow::Error::new(inner).context("reading the schema");
        // `Database` is transparent: its message and its source's are the same text.
        assert_eq!(one_line(&e), "reading the schema: query failed: boom");
    }

    #[test]
    fn broken_pipes_are_recognised_through_context() {
        let e: anyhow::Error = io::Error::from(io::ErrorKind::BrokenPipe).into();
        assert!(is_broken_pipe(&e.context("writing")));
        assert!(!is_broken_pipe(&anyhow::anyhow!("other")));
    }
}
