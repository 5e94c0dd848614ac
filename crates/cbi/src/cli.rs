//! The command line, as clap sees it. Everything a user can type is declared here, with the help
//! text `cbi --help` shows; the commands themselves live in `commands/`.

use std::path::PathBuf;
use std::time::Duration;

use cbi_types::SessionId;
use clap::{ArgAction, Args, Parser, Subcommand};

/// Ask your database questions in plain English, inspect its schema and run safe, read-only SQL.
///
/// cbi works on SQLite files, PostgreSQL and MySQL/MariaDB. With no database named (no --db, no
/// `database.url` in the config file) it uses a bundled retail demo database, generated on first
/// use in the data directory ($CBI_DATA_DIR, else ~/.local/share/cbi).
#[derive(Debug, Parser)]
#[command(
    name = "cbi",
    version,
    propagate_version = true,
    arg_required_else_help = true,
    after_help = "Examples:\n  cbi ask \"How many customers are there?\"\n  cbi ask --db shop.sqlite --json \"total revenue by region in 2024\"\n  cbi chat\n  cbi schema\n  cbi schema --db shop.sqlite --no-samples\n  cbi sql --db postgres://analyst@localhost/sales \"SELECT count(*) FROM orders\"\n  cbi sql --csv \"SELECT * FROM regions\" > regions.csv"
)]
pub struct Cli {
    /// Configuration file (YAML) [default: $CBI_CONFIG, else ./cbi.yaml, else
    /// ~/.config/cbi/config.yaml, else built-in defaults]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Database: a SQLite file, sqlite:PATH, postgres://user@host/db, mysql://user@host/db, or
    /// `demo` [default: database.url from the config file, else the bundled demo]
    #[arg(long, global = true, value_name = "URL")]
    pub db: Option<String>,

    /// More logging on stderr: -v info, -vv debug, -vvv trace (RUST_LOG is honoured too)
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ask one question in plain English and print the answer.
    ///
    /// The question is turned into SQL, checked by the validator (a single read-only query over
    /// tables and columns that exist), run read-only under the row cap and time limit, and
    /// printed with the SQL, how confident cbi is and why, and what it computed.
    ///
    /// Exit codes: 0 answered; 1 failed (one `error:` line on stderr); 2 usage error; 3 cbi
    /// needs a clarification — the question and its numbered options are printed (ask again
    /// more precisely, or pass --no-clarify to let cbi pick the likeliest reading).
    Ask(AskArgs),
    /// Have a conversation: questions one after another, follow-ups, exports.
    ///
    /// The conversation is kept in the session store of the config file (by default a SQLite
    /// file in the data directory), so `--session ID` picks it up again after a restart. Type
    /// `:help` inside for the commands (`:sql`, `:explain`, `:schema`, `:export FILE`,
    /// `:history`, `:quit`). Input may be piped: one question or command per line.
    Chat(ChatArgs),
    /// Show the database's tables, columns, keys, sample values and relationships.
    Schema(SchemaArgs),
    /// Run one read-only SQL statement and print its rows.
    ///
    /// The statement is checked before it runs: it must be a single read-only query over tables
    /// and columns that exist; anything else (INSERT, UPDATE, DELETE, DDL, PRAGMA, several
    /// statements) is refused. A LIMIT is added when there is none, the connection itself is
    /// read-only, and the row cap and time limit always apply.
    Sql(SqlArgs),
    /// Work with the database's semantic file (descriptions, synonyms, business terms).
    #[command(subcommand)]
    Semantic(SemanticCommand),
    /// Serve the engine over HTTP: a REST API under /v1 (ask, sessions, clarify, sql, schema,
    /// explain, export, feedback), server-sent answer stages, /openapi.json, /healthz and
    /// Prometheus /metrics.
    ///
    /// Sessions live in the configured session store (SQLite by default; Redis lets several
    /// servers share conversations). Without --users every request is one user who sees
    /// everything, which is allowed on a loopback address only.
    Serve(ServeArgs),
    /// List your conversations (those `cbi chat` keeps in the session store), or end them.
    ///
    /// A user may hold `session.max_sessions_per_user` live conversations (10 by default);
    /// end one here to start another, or wait for an idle one to expire
    /// (`session.idle_timeout_minutes`).
    Sessions(SessionsArgs),
    /// Serve the engine to AI assistants over the Model Context Protocol: the tools `ask`,
    /// `sql`, `schema` and `explain`, on stdio (for an assistant that starts cbi) or, with
    /// --http, streamable HTTP at /mcp on a loopback address.
    Mcp(McpArgs),
}

#[derive(Debug, Args)]
pub struct McpArgs {
    /// Serve streamable HTTP on this loopback address instead of stdio, e.g. 127.0.0.1:8090.
    #[arg(long, value_name = "HOST:PORT")]
    pub http: Option<std::net::SocketAddr>,

    /// Whose conversations the tools hold [default: $USER, else `default`]
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Semantic file (YAML) for the database [default: database.semantic_file from the config
    /// file, else X.semantic.yaml beside a SQLite database X.sqlite]
    #[arg(long, value_name = "FILE")]
    pub semantic: Option<PathBuf>,

    /// Which generator writes the SQL (as for `cbi ask --model`).
    #[arg(long, value_name = "SPEC")]
    pub model: Option<String>,
}

#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// Whose conversations [default: $USER, else `default`, as for `cbi chat`]
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// End this conversation.
    #[arg(long, value_name = "ID", value_parser = parse_session_id, conflicts_with = "end_all")]
    pub end: Option<SessionId>,

    /// End every conversation of the user.
    #[arg(long)]
    pub end_all: bool,

    /// Print the list as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    pub addr: std::net::SocketAddr,

    /// Users file (YAML): bearer tokens (as SHA-256 or an environment variable), each user's
    /// allowed tables and columns, rate and concurrency limits.
    #[arg(long, value_name = "FILE")]
    pub users: Option<PathBuf>,

    /// Largest request body accepted, in bytes.
    #[arg(long, default_value_t = 64 * 1024, value_name = "BYTES")]
    pub max_body_bytes: usize,

    /// Requests a user may send per minute, unless the users file says otherwise (without
    /// --users: everyone together).
    #[arg(long, default_value_t = 6000, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_per_minute: u32,

    /// Requests of one user running at once, unless the users file says otherwise.
    #[arg(long, default_value_t = 64, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_concurrent: u64,

    /// Semantic file (YAML) for the database [default: database.semantic_file from the config
    /// file, else X.semantic.yaml beside a SQLite database X.sqlite]
    #[arg(long, value_name = "FILE")]
    pub semantic: Option<PathBuf>,

    /// Which generator writes the SQL (as for `cbi ask --model`).
    #[arg(long, value_name = "SPEC")]
    pub model: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum SemanticCommand {
    /// Draft a semantic file from the database, for you to review and edit.
    ///
    /// The draft describes every table and column (readable names, the role a column plays,
    /// its values or range), adds synonyms (abbreviations written out, everyday words for
    /// names), measures for numeric columns that hold amounts, filters for yes/no flags,
    /// and lists the joins cbi uses as comments. It is written beside a SQLite database
    /// (`X.semantic.yaml` for `X.sqlite`, where cbi looks for it), else to stdout; an existing
    /// file is never overwritten without --force.
    Init(SemanticInitArgs),
}

#[derive(Debug, Args)]
pub struct SemanticInitArgs {
    /// Where to write the draft, `-` for stdout [default: beside a SQLite database, else stdout]
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Replace the file if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Print the whole augmented schema as JSON instead of tables.
    #[arg(long)]
    pub json: bool,

    /// Semantic file (YAML: descriptions, synonyms, business terms, verified queries) to load
    /// and check against the database [default: database.semantic_file from the config file]
    #[arg(long, value_name = "FILE")]
    pub semantic: Option<PathBuf>,

    /// Read names only: no sample values, ranges or distinct counts (no data is queried).
    #[arg(long)]
    pub no_samples: bool,
}

#[derive(Debug, Args)]
pub struct AskArgs {
    /// The question (several words are joined with spaces, so quotes are optional).
    #[arg(value_name = "QUESTION", required = true, num_args = 1..)]
    pub question: Vec<String>,

    /// Print the whole response as JSON: sql, result, confidence, reasons, explanation, ….
    #[arg(long, conflicts_with = "sql_only")]
    pub json: bool,

    /// Print only the SQL that answers the question, without running it.
    #[arg(long)]
    pub sql_only: bool,

    /// Most rows to fetch and print; without it at most 20 rows are shown [default fetch:
    /// performance.max_rows from the config file, 10000]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_rows: Option<u64>,

    /// Cancel the query after this many seconds, e.g. 0.5 [default:
    /// performance.query_timeout_secs from the config file, 30]
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub timeout: Option<Duration>,

    /// Never ask back: answer an ambiguous question with its likeliest reading.
    #[arg(long)]
    pub no_clarify: bool,

    /// Work the answer out again and read the database, past the answer cache (which a
    /// process shares with others through cache.redis_url).
    #[arg(long, conflicts_with = "sql_only")]
    pub fresh: bool,

    /// Semantic file (YAML) for the database [default: database.semantic_file from the config
    /// file, else X.semantic.yaml beside a SQLite database X.sqlite]
    #[arg(long, value_name = "FILE")]
    pub semantic: Option<PathBuf>,

    /// Which generator writes the SQL: `embedded`, `<provider>:<model>[@<base_url>]`
    /// (openai, openai-compatible, anthropic, cohere, ollama), `hybrid:<provider>:<model>` or
    /// `naive:<provider>:<model>` [default: models.primary from the config file, as a hybrid,
    /// else embedded]
    #[arg(long, value_name = "SPEC")]
    pub model: Option<String>,
}

impl AskArgs {
    /// The question as one line.
    pub fn question(&self) -> String {
        self.question.join(" ")
    }
}

#[derive(Debug, Args)]
pub struct ChatArgs {
    /// Resume this conversation (its id is printed when a chat starts) instead of starting a
    /// new one.
    #[arg(long, value_name = "ID", value_parser = parse_session_id)]
    pub session: Option<SessionId>,

    /// Whose conversation it is [default: $USER, else `default`]
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Semantic file (YAML) for the database [default: database.semantic_file from the config
    /// file, else X.semantic.yaml beside a SQLite database X.sqlite]
    #[arg(long, value_name = "FILE")]
    pub semantic: Option<PathBuf>,

    /// Which generator writes the SQL: `embedded`, `<provider>:<model>[@<base_url>]`
    /// (openai, openai-compatible, anthropic, cohere, ollama), `hybrid:<provider>:<model>` or
    /// `naive:<provider>:<model>` [default: models.primary from the config file, as a hybrid,
    /// else embedded]
    #[arg(long, value_name = "SPEC")]
    pub model: Option<String>,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The statement to run, or `-` to read it from stdin.
    #[arg(value_name = "SQL")]
    pub sql: String,

    /// Print the result as JSON, in the shape of every other front end: `sql` (as it ran),
    /// `columns`, `rows` (arrays in column order), `row_count`, `truncated`.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,

    /// Print rows as CSV (RFC 4180) with a header row; NULL is an empty field.
    #[arg(long)]
    pub csv: bool,

    /// Most rows to print [default: performance.max_rows from the config file, 10000]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_rows: Option<u64>,

    /// Cancel the statement after this many seconds, e.g. 0.5 [default:
    /// performance.query_timeout_secs from the config file, 30]
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub timeout: Option<Duration>,
}

/// The longest time limit accepted, about a day: anything longer is a typo, and keeping it
/// bounded keeps `Duration` arithmetic far from overflow.
pub const MAX_TIMEOUT_SECS: f64 = 86_400.0;

/// Parses a session id as `cbi chat` prints it.
pub fn parse_session_id(s: &str) -> Result<SessionId, String> {
    s.parse::<SessionId>().map_err(|e| e.to_string())
}

/// Parses a positive number of seconds (`0.3`, `2`, `30`).
pub fn parse_seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if !(secs.is_finite() && secs > 0.0) {
        return Err(format!("`{s}` must be a positive number of seconds"));
    }
    if secs > MAX_TIMEOUT_SECS {
        return Err(format!("`{s}` is more than a day ({MAX_TIMEOUT_SECS} s)"));
    }
    Duration::try_from_secs_f64(secs).map_err(|e| format!("`{s}`: {e}"))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let cli = Cli::try_parse_from(["cbi", "sql", "SELECT 1", "--db", "x.db", "-vv"]).unwrap();
        assert_eq!(cli.db.as_deref(), Some("x.db"));
        assert_eq!(cli.verbose, 2);
        let Command::Sql(args) = cli.command else {
            panic!("not sql")
        };
        assert_eq!(args.sql, "SELECT 1");
        assert!(Cli::try_parse_from(["cbi", "sql", "--json", "--csv", "SELECT 1"]).is_err());
        assert!(Cli::try_parse_from(["cbi", "sql", "--max-rows", "0", "SELECT 1"]).is_err());
    }

    #[test]
    fn ask_and_chat_arguments() {
        let cli = Cli::try_parse_from(["cbi", "ask", "how", "many", "orders?", "--json"]).unwrap();
        let Command::Ask(args) = cli.command else {
            panic!("not ask")
        };
        assert_eq!(args.question(), "how many orders?");
        assert!(args.json && !args.sql_only);
        assert!(
            Cli::try_parse_from(["cbi", "ask"]).is_err(),
            "a question is required"
        );
        assert!(Cli::try_parse_from(["cbi", "ask", "--json", "--sql-only", "q"]).is_err());

        let id = SessionId::new();
        let cli = Cli::try_parse_from(["cbi", "chat", "--session", &id.to_string()]).unwrap();
        let Command::Chat(args) = cli.command else {
            panic!("not chat")
        };
        assert_eq!(args.session, Some(id));
        let e = Cli::try_parse_from(["cbi", "chat", "--session", "yesterday"]).unwrap_err();
        assert!(e.to_string().contains("not a session id"), "{e}");
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_seconds("0.3").unwrap(), Duration::from_millis(300));
        assert_eq!(parse_seconds(" 2 ").unwrap(), Duration::from_secs(2));
        for bad in ["0", "-1", "NaN", "inf", "1e300", "abc", ""] {
            assert!(parse_seconds(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_a_duration_or_an_error(s in "\\PC{0,24}") {
            if let Ok(d) = parse_seconds(&s) {
                proptest::prop_assert!(d > Duration::ZERO);
                proptest::prop_assert!(d.as_secs_f64() <= MAX_TIMEOUT_SECS);
            }
        }
    }
}
