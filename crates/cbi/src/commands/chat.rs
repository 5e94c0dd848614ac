//! `cbi chat`: a conversation over the engine.
//!
//! Each line is a question (answered as `cbi ask` answers, in the context of the turns before
//! it) or a command starting with `:` (see [`HELP`]). The session lives in the store the
//! configuration names — by default a SQLite file in the data directory — so `--session ID`
//! resumes a conversation after a restart; its id is printed when the chat starts.
//!
//! Input comes from a line editor with history (rustyline; the history file is
//! `chat_history.txt` in the data directory) when stdin is a terminal, and from plain lines
//! otherwise, so a script of questions can be piped in; then each line is echoed after `> ` to
//! keep the transcript readable. Ctrl-C cancels the line being typed (or the question being
//! answered), Ctrl-D or `:quit` leaves. A failing question prints one `error:` line and the
//! chat goes on: only a broken terminal or store ends it early.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, bail};
use cbi_engine::{EngineOptions, QueryResponse};
use cbi_session::SessionManager;
use cbi_types::config::SessionStoreKind;
use cbi_types::{Intent, QueryResult, Session, SessionId};

use super::conversation::{Conversation, engine_error};
use super::{Context, Outcome};
use crate::answer::{self, SHOWN_ROWS, View};
use crate::cli::ChatArgs;
use crate::output::{duration, thousands};

/// What `:help` prints.
pub const HELP: &str = "\
Type a question in plain English, e.g. \"How many orders were placed in 2023?\".
Follow-ups refer to the answers before them (\"only in the West\", \"export that to q.csv\").
When cbi asks back, answer with the option's number or its label.

Commands:
  :sql              the SQL of the last answer
  :explain          how the last answer was reached: explanation, confidence, reasons, and
                    the database's plan for its SQL
  :schema           the tables, columns, keys and relationships of the database
  :export FILE      write the last answer's rows to FILE (.csv or .json); without FILE,
                    export-<time>.csv in the current directory
  :history          the questions so far in this session
  :fresh QUESTION   answer QUESTION past the cache: work it out again and read the database
  :help             this text
  :quit, :q         leave (so does Ctrl-D); the session is kept for --session";

/// File name of the line editor's history in the data directory.
const HISTORY_FILE: &str = "chat_history.txt";

pub async fn run(ctx: &Context, args: ChatArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    // Checked before anything runs: a time limit too large for `Duration` is a config error.
    ctx.limits(None, None)?;
    let config = ctx.config.clone();
    let persistent = config.session.store != SessionStoreKind::Memory;
    let sessions = Arc::new(SessionManager::open(&config.session).await?);
    if let Err(e) = sessions.expire_idle().await {
        tracing::warn!(error = %e, "could not remove idle sessions");
    }
    let user = user_name(args.user.as_deref());
    let opts = EngineOptions {
        user_id: user.clone(),
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

    let (session, resumed) = match args.session {
        Some(id) => {
            let s = conv.engine.sessions().get(id).await?;
            check_resumable(&s, &conv.key, args.user.as_deref())?;
            (id, Some(s))
        }
        None => {
            let id = conv
                .engine
                .create_session_for(&user, &conv.key)
                .await
                .map_err(engine_error)?;
            (id, None)
        }
    };

    let interactive = io::stdin().is_terminal();
    let state = match &resumed {
        Some(s) => format!("resumed, {}", count(s.context.turns.len(), "turn", "turns")),
        None => "new".to_string(),
    };
    writeln!(
        out,
        "cbi chat: {}, session {session} ({state})",
        conv.describe()
    )?;
    if let Some(path) = &conv.semantic {
        writeln!(out, "semantic file: {}", path.display())?;
    }
    writeln!(
        out,
        "Ask a question in plain English, or type :help. :quit or Ctrl-D leaves."
    )?;

    let mut input = Input::open(interactive);
    let mut chat = Chat {
        conv,
        session,
        last: None,
        view: View {
            max_shown: SHOWN_ROWS,
            more_hint: " (:export FILE saves them all)",
            dim: answer::styled_stdout(),
        },
    };
    loop {
        out.flush()?;
        let line = match input.read_line("cbi> ")? {
            Line::Text(line) => line,
            Line::Interrupted => continue,
            Line::Eof => break,
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if !interactive {
            writeln!(out, "\n> {line}")?;
        }
        let handled = if interactive {
            // Ctrl-C while a question runs abandons it and comes back to the prompt.
            tokio::select! {
                r = chat.handle(line, out) => r,
                _ = tokio::signal::ctrl_c() => {
                    writeln!(out, "cancelled")?;
                    Ok(Flow::Continue)
                }
            }
        } else {
            chat.handle(line, out).await
        };
        match handled {
            Ok(Flow::Continue) => {}
            Ok(Flow::Quit) => break,
            Err(e) if crate::is_broken_pipe(&e) => return Err(e),
            Err(e) => {
                out.flush()?;
                let _ = writeln!(io::stderr().lock(), "error: {}", crate::one_line(&e));
            }
        }
    }
    input.save_history();
    if persistent {
        let db = if ctx.db.is_some() {
            " and the same --db"
        } else {
            ""
        };
        writeln!(
            out,
            "\nsession {session} kept; resume it with: cbi chat --session {session}{db}"
        )?;
    }
    Ok(Outcome::Done)
}

/// A stored session may be resumed only on the database it is about, and by its own user when
/// `--user` names one.
/// Whose conversations these are: the flag, else `$USER`, else `default`.
pub fn user_name(flag: Option<&str>) -> String {
    flag.map(str::to_string)
        .or_else(|| std::env::var("USER").ok())
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "default".to_string())
}

fn check_resumable(s: &Session, key: &str, user: Option<&str>) -> anyhow::Result<()> {
    if s.database != key {
        bail!(
            "session {} is about the database {}, not {key}; start the chat with --db naming that database",
            s.id,
            s.database
        );
    }
    if let Some(user) = user {
        if s.user_id != user {
            bail!("session {} belongs to another user", s.id);
        }
    }
    Ok(())
}

/// Whether the chat goes on after a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    Quit,
}

/// The conversation: the engine, the session, and the last answer (for `:sql`, `:explain` and
/// `:export`, which need more than the session keeps).
struct Chat {
    conv: Conversation,
    session: SessionId,
    last: Option<QueryResponse>,
    view: View,
}

impl Chat {
    async fn handle(&mut self, line: &str, out: &mut dyn Write) -> anyhow::Result<Flow> {
        if let Some(command) = line.strip_prefix(':') {
            let (name, rest) = command
                .trim()
                .split_once(char::is_whitespace)
                .map_or((command.trim(), ""), |(n, r)| (n, r.trim()));
            return self.command(name, rest, out).await;
        }
        self.question(line, out).await?;
        Ok(Flow::Continue)
    }

    async fn question(&mut self, question: &str, out: &mut dyn Write) -> anyhow::Result<()> {
        self.ask(question, cbi_engine::AskOptions::default(), out)
            .await
    }

    async fn ask(
        &mut self,
        question: &str,
        options: cbi_engine::AskOptions,
        out: &mut dyn Write,
    ) -> anyhow::Result<()> {
        let response = self
            .conv
            .engine
            .process_query_with(self.session, question, options)
            .await
            .map_err(engine_error)?;
        if let Some(c) = &response.clarification {
            answer::write_clarification(out, c, "Answer with the option's number or label.")?;
            return Ok(());
        }
        if response.intent == Intent::Export {
            let path = response
                .export_path
                .clone()
                .map_or_else(default_export_path, PathBuf::from);
            let result = response
                .result
                .as_ref()
                .context("the engine returned no rows to export")?;
            return write_export(&path, result, out);
        }
        answer::write_answer(out, &response, &self.view)?;
        self.last = Some(response);
        Ok(())
    }

    async fn command(
        &mut self,
        name: &str,
        rest: &str,
        out: &mut dyn Write,
    ) -> anyhow::Result<Flow> {
        match name {
            "quit" | "q" | "exit" => return Ok(Flow::Quit),
            "help" | "h" | "?" => writeln!(out, "{HELP}")?,
            "sql" => {
                let sql = self.last_sql().await?;
                answer::write_sql(out, &sql, self.view.dim)?;
            }
            "explain" => self.explain(out).await?,
            "schema" => {
                let start = Instant::now();
                let aug = self
                    .conv
                    .engine
                    .schema(&self.conv.key)
                    .await
                    .map_err(engine_error)?;
                let view = super::schema::render(&aug, &duration(start.elapsed()), false);
                write!(out, "{view}")?;
            }
            "export" => {
                let path = if rest.is_empty() {
                    default_export_path()
                } else {
                    PathBuf::from(unquote(rest))
                };
                // Refused before any query runs.
                answer::ExportFormat::of(&path)?;
                match self.last.as_ref().and_then(|r| r.result.as_ref()) {
                    Some(result) => write_export(&path, result, out)?,
                    // A resumed session: the engine runs its last SQL again.
                    None => {
                        let response = self
                            .conv
                            .engine
                            .process_query(
                                self.session,
                                &format!("export that to {}", path.display()),
                            )
                            .await
                            .map_err(engine_error)?;
                        let result = response
                            .result
                            .as_ref()
                            .context("the engine returned no rows to export")?;
                        write_export(&path, result, out)?;
                    }
                }
            }
            "history" => self.history(out).await?,
            "fresh" => {
                if rest.is_empty() {
                    bail!("`:fresh` needs a question, e.g. `:fresh revenue by region`");
                }
                self.ask(rest, cbi_engine::AskOptions { fresh: true }, out)
                    .await?;
            }
            "" => bail!("a command name must follow `:`; type :help for the list"),
            other => bail!("unknown command `:{other}`; type :help for the list"),
        }
        Ok(Flow::Continue)
    }

    /// The last answer's SQL: from this process, or from the stored session when it was
    /// resumed.
    async fn last_sql(&self) -> anyhow::Result<String> {
        if let Some(sql) = self.last.as_ref().and_then(|r| r.sql.clone()) {
            return Ok(sql);
        }
        self.session()
            .await?
            .context
            .last_sql_turn()
            .and_then(|t| t.sql.clone())
            .context("there is no answer yet: ask a question first")
    }

    async fn session(&self) -> anyhow::Result<Session> {
        Ok(self.conv.engine.sessions().get(self.session).await?)
    }

    async fn explain(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        let sql = self.last_sql().await?;
        match &self.last {
            Some(r) => {
                if !r.explanation.trim().is_empty() {
                    writeln!(out, "{}", r.explanation.trim())?;
                }
                writeln!(out, "{}", answer::confidence_line(r))?;
                answer::write_reasons(out, &r.reasons)?;
                if r.verified {
                    writeln!(out, "verified answer (from the semantic file)")?;
                }
            }
            None => writeln!(
                out,
                "(the last answer was given before this chat started; its SQL and plan follow)"
            )?,
        }
        writeln!(out, "sql:")?;
        answer::write_sql(out, &sql, self.view.dim)?;
        let plan = self
            .conv
            .engine
            .explain(&self.conv.key, &sql)
            .await
            .map_err(engine_error)?;
        writeln!(out, "plan:")?;
        for line in plan.trim_end().lines() {
            writeln!(out, "    {line}")?;
        }
        Ok(())
    }

    async fn history(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        let s = self.session().await?;
        if s.context.turns.is_empty() {
            writeln!(out, "no questions yet")?;
            return Ok(());
        }
        // A full context may have dropped older turns (the store keeps the newest max_turns).
        let max_turns = self.conv.engine.sessions().config().max_turns;
        if s.context.turns.len() >= max_turns && s.turn_count as usize > max_turns {
            writeln!(
                out,
                "(only the last {} are kept)",
                count(max_turns, "turn", "turns")
            )?;
        }
        for (n, turn) in s.context.turns.iter().enumerate() {
            writeln!(out, "{:>3}. {}", n + 1, turn.user_query)?;
            let outcome = match (&turn.results_summary, turn.intent) {
                (_, Intent::Clarify) => "asked back which reading was meant".to_string(),
                (Some(summary), Intent::Export) => format!("exported: {summary}"),
                (Some(summary), _) => summary.clone(),
                (None, _) => "no rows".to_string(),
            };
            writeln!(out, "     → {outcome}")?;
        }
        Ok(())
    }
}

/// Writes a result to a file and says so.
fn write_export(path: &Path, result: &QueryResult, out: &mut dyn Write) -> anyhow::Result<()> {
    let format = answer::export(path, result)?;
    let kind = match format {
        answer::ExportFormat::Csv => "CSV",
        answer::ExportFormat::Json => "JSON",
    };
    let n = result.row_count();
    let truncated = if result.truncated {
        " (the row cap cut the result; raise performance.max_rows for more)"
    } else {
        ""
    };
    writeln!(
        out,
        "exported {} {} to {} ({kind}){truncated}",
        thousands(n as u64),
        if n == 1 { "row" } else { "rows" },
        path.display()
    )?;
    Ok(())
}

/// `export-20250131-142500.csv` in the working directory.
fn default_export_path() -> PathBuf {
    PathBuf::from(format!(
        "export-{}.csv",
        chrono::Local::now().format("%Y%m%d-%H%M%S")
    ))
}

/// A file name typed with quotes around it.
fn unquote(s: &str) -> &str {
    let s = s.trim();
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{} {many}", thousands(n as u64))
    }
}

/// One line of input, or why there is none.
enum Line {
    Text(String),
    /// Ctrl-C: the line was abandoned.
    Interrupted,
    /// Ctrl-D, or the end of piped input.
    Eof,
}

/// Where lines come from: a line editor on a terminal, plain lines otherwise.
enum Input {
    Editor {
        editor: Box<rustyline::DefaultEditor>,
        history: Option<PathBuf>,
    },
    Plain(io::StdinLock<'static>),
}

impl Input {
    fn open(interactive: bool) -> Input {
        if interactive {
            match rustyline::DefaultEditor::new() {
                Ok(mut editor) => {
                    let history = crate::dirs::data_dir().ok().map(|d| d.join(HISTORY_FILE));
                    if let Some(path) = &history {
                        // A missing file is the first chat; anything else is not worth stopping
                        // for.
                        if let Err(e) = editor.load_history(path) {
                            tracing::debug!(error = %e, "no chat history loaded");
                        }
                    }
                    return Input::Editor {
                        editor: Box::new(editor),
                        history,
                    };
                }
                Err(e) => tracing::warn!(error = %e, "no line editor; reading plain lines"),
            }
        }
        Input::Plain(io::stdin().lock())
    }

    fn read_line(&mut self, prompt: &str) -> anyhow::Result<Line> {
        match self {
            Input::Editor { editor, .. } => match editor.readline(prompt) {
                Ok(line) => {
                    if !line.trim().is_empty() {
                        let _ = editor.add_history_entry(line.as_str());
                    }
                    Ok(Line::Text(line))
                }
                Err(rustyline::error::ReadlineError::Interrupted) => Ok(Line::Interrupted),
                Err(rustyline::error::ReadlineError::Eof) => Ok(Line::Eof),
                Err(e) => Err(e).context("cannot read from the terminal"),
            },
            Input::Plain(stdin) => {
                let mut bytes = Vec::new();
                let n = stdin
                    .read_until(b'\n', &mut bytes)
                    .context("cannot read from stdin")?;
                if n == 0 {
                    return Ok(Line::Eof);
                }
                // A stray byte that is not UTF-8 must not end the conversation.
                Ok(Line::Text(String::from_utf8_lossy(&bytes).into_owned()))
            }
        }
    }

    fn save_history(&mut self) {
        if let Input::Editor {
            editor,
            history: Some(path),
        } = self
        {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            if let Err(e) = editor.save_history(path) {
                tracing::warn!(error = %e, path = %path.display(), "could not save the chat history");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_file_names() {
        assert_eq!(unquote("\"my file.csv\""), "my file.csv");
        assert_eq!(unquote("'a.json'"), "a.json");
        assert_eq!(unquote(" plain.csv "), "plain.csv");
        assert_eq!(unquote("\"unbalanced.csv"), "\"unbalanced.csv");
    }

    #[test]
    fn default_exports_are_timestamped_csv() {
        let p = default_export_path();
        let name = p.to_str().unwrap();
        assert!(
            name.starts_with("export-") && name.ends_with(".csv"),
            "{name}"
        );
        assert_eq!(name.len(), "export-20250131-142500.csv".len(), "{name}");
    }

    #[test]
    fn sessions_resume_only_on_their_database_and_user() {
        let s = Session::new("ann", "sqlite:/d/shop.db");
        check_resumable(&s, "sqlite:/d/shop.db", None).unwrap();
        check_resumable(&s, "sqlite:/d/shop.db", Some("ann")).unwrap();
        let e = check_resumable(&s, "sqlite:/d/other.db", None).unwrap_err();
        assert!(
            e.to_string()
                .contains("is about the database sqlite:/d/shop.db"),
            "{e}"
        );
        let e = check_resumable(&s, "sqlite:/d/shop.db", Some("bob")).unwrap_err();
        assert!(e.to_string().contains("another user"), "{e}");
    }
}
