//! `cbi ask`: one question, one answer, through the engine.
//!
//! The session lives in memory and ends with the process: a single question needs no history.
//! Everything else is the engine's pipeline, so an answer here is exactly what the same
//! question would get as the first turn of `cbi chat` — including the validator's refusal of
//! anything that is not a single read-only query, verified answers from the semantic file and
//! clarifying questions (exit code 3; `--no-clarify` picks the likeliest reading instead).

use std::io::Write;
use std::sync::Arc;

use anyhow::bail;
use cbi_engine::EngineOptions;
use cbi_session::{MemoryStore, SessionManager};

use super::conversation::{Conversation, engine_error};
use super::{Context, Outcome};
use crate::answer::{self, SHOWN_ROWS, View};
use crate::cli::AskArgs;

/// The user an `ask` session belongs to; it never outlives the process, so whose it is does not
/// matter.
const USER: &str = "cbi-ask";

pub async fn run(ctx: &Context, args: AskArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let question = args.question();
    if question.trim().is_empty() {
        bail!("the question is empty");
    }
    let limits = ctx.limits(args.max_rows, args.timeout)?;
    let mut config = ctx.config.clone();
    config.performance.max_rows = limits.max_rows;
    config.performance.query_timeout_secs = limits.timeout.as_secs_f64();

    let sessions = Arc::new(SessionManager::new(
        Arc::new(MemoryStore::new()),
        (&config.session).into(),
    ));
    let opts = EngineOptions {
        clarify: !args.no_clarify,
        user_id: USER.to_string(),
        ..EngineOptions::default()
    };
    let conv = Conversation::start(
        ctx,
        config,
        args.semantic.as_deref(),
        args.model.as_deref(),
        sessions,
        opts,
    )
    .await?;
    let session = conv
        .engine
        .create_session_for(USER, &conv.key)
        .await
        .map_err(engine_error)?;
    let response = if args.sql_only {
        conv.engine.generate_only(session, &question).await
    } else {
        let options = cbi_engine::AskOptions { fresh: args.fresh };
        conv.engine
            .process_query_with(session, &question, options)
            .await
    }
    .map_err(engine_error)?;

    if args.json {
        serde_json::to_writer_pretty(&mut *out, &response.to_json())?;
        writeln!(out)?;
        return Ok(match response.clarification {
            Some(_) => Outcome::NeedsClarification,
            None => Outcome::Done,
        });
    }
    if let Some(c) = &response.clarification {
        let hint = "Ask again more precisely (for example with the option's words), or pass \
                    --no-clarify to let cbi choose.";
        if args.sql_only {
            // stdout is for SQL only; the question goes where a script's reader still sees it.
            let stderr = std::io::stderr();
            answer::write_clarification(&mut stderr.lock(), c, hint)?;
        } else {
            answer::write_clarification(out, c, hint)?;
        }
        return Ok(Outcome::NeedsClarification);
    }
    if args.sql_only {
        if let Some(sql) = &response.sql {
            writeln!(out, "{}", sql.trim())?;
        }
        return Ok(Outcome::Done);
    }
    let view = View {
        // With --max-rows the person asked for that many rows: show them all.
        max_shown: if args.max_rows.is_some() {
            usize::MAX
        } else {
            SHOWN_ROWS
        },
        more_hint: " (--max-rows N shows up to N, --json all of them)",
        dim: answer::styled_stdout(),
    };
    answer::write_answer(out, &response, &view)?;
    Ok(Outcome::Done)
}
