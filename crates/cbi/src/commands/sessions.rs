//! `cbi sessions`: a user's conversations in the session store, listed or ended, through the
//! engine's door (the same calls the HTTP API makes).

use std::io::Write;
use std::sync::Arc;

use cbi_engine::{ConversationalBiEngine, EngineOptions, Principal};
use cbi_session::SessionManager;
use chrono::Utc;

use super::Context;
use super::chat::user_name;
use super::conversation::engine_error;
use crate::cli::SessionsArgs;

pub async fn run(ctx: &Context, args: SessionsArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let config = ctx.config.clone();
    let sessions = Arc::new(SessionManager::open(&config.session).await?);
    let engine = ConversationalBiEngine::with_sessions(config, sessions, EngineOptions::default());
    let who = Principal::new(user_name(args.user.as_deref()));
    if let Some(id) = args.end {
        engine.end_session(&who, id).await.map_err(engine_error)?;
        writeln!(out, "ended {id}")?;
        return Ok(());
    }
    let list = engine.list_sessions(&who).await.map_err(engine_error)?;
    if args.end_all {
        for s in &list {
            engine.end_session(&who, s.id).await.map_err(engine_error)?;
        }
        let n = list.len();
        writeln!(
            out,
            "ended {n} conversation{}",
            if n == 1 { "" } else { "s" }
        )?;
        return Ok(());
    }
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &serde_json::json!({ "sessions": list }))?;
        writeln!(out)?;
        return Ok(());
    }
    if list.is_empty() {
        writeln!(out, "{} has no open conversations", who.user_id)?;
        return Ok(());
    }
    let now = Utc::now();
    for s in &list {
        let ago = (now - s.last_accessed).num_minutes().max(0);
        let last = s.last_question.as_deref().unwrap_or("(no question yet)");
        writeln!(
            out,
            "{}  {} turn{}, used {} ago  {}\n    {}",
            s.id,
            s.turns,
            if s.turns == 1 { "" } else { "s" },
            minutes(ago),
            s.database,
            last
        )?;
    }
    writeln!(
        out,
        "{} of {} allowed; `cbi chat --session ID` resumes one, `cbi sessions --end ID` ends it",
        list.len(),
        engine.sessions().config().max_sessions_per_user
    )?;
    Ok(())
}

fn minutes(m: i64) -> String {
    match m {
        0 => "under a minute".to_string(),
        1 => "1 minute".to_string(),
        m if m < 120 => format!("{m} minutes"),
        m if m < 48 * 60 => format!("{} hours", m / 60),
        m => format!("{} days", m / (24 * 60)),
    }
}
