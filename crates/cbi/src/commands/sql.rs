//! `cbi sql`: one read-only statement, under the same rules as generated SQL.
//!
//! Three locks, each enough on its own: the validator (`cbi_nl2sql::SqlValidator`) refuses
//! anything that is not a single read-only query over known tables and adds a LIMIT; the
//! connection is read-only at the database level; and the query runs under a row cap and a
//! time limit. Nothing this command does can write.

use std::io::{Read, Write};
use std::sync::Arc;

use anyhow::{Context as _, anyhow, bail};
use cbi_nl2sql::{Problem, ProblemKind, SqlValidator, ValidatorOptions};
use cbi_schema::SchemaIntrospector;
use cbi_types::QueryLimits;

use super::Context;
use crate::cli::SqlArgs;
use crate::output::{self, Format};

pub async fn run(ctx: &Context, args: SqlArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let sql = statement_text(&args.sql)?;
    let limits = limits(ctx, &args)?;
    let format = if args.json {
        Format::Json
    } else if args.csv {
        Format::Csv
    } else {
        Format::Table
    };

    let conn = ctx.connect().await?;
    // The validator resolves names against the catalog; inferred links are not needed here.
    let schema = SchemaIntrospector::new(conn.clone())
        .without_inference()
        .introspect()
        .await?;
    // One row past the cap, so the connection can tell a result that was cut from one that
    // merely filled the cap exactly.
    let default_limit = u64::try_from(limits.max_rows)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let opts = ValidatorOptions {
        default_limit,
        allowed_functions: ctx.config.validator.allowed_functions.clone(),
        allowed_table_functions: ctx.config.validator.allowed_table_functions.clone(),
        ..ValidatorOptions::default()
    };
    let validator = SqlValidator::new(conn.dialect(), Arc::new(schema)).with_options(opts);
    let validated = validator.validate(&sql).map_err(|p| refusal(&p))?;
    tracing::info!(sql = %validated.sql, limit_added = validated.limit_added, "running");

    let started = std::time::Instant::now();
    let result = conn.query(&validated.sql, limits).await?;
    if result.truncated && format != Format::Table {
        eprintln!(
            "cbi: output truncated at {} rows (--max-rows / performance.max_rows)",
            result.row_count()
        );
    }
    if format == Format::Json {
        // The one shape of a statement's result (the HTTP API's `/v1/sql` too).
        serde_json::to_writer_pretty(&mut *out, &cbi_engine::result_json(&validated.sql, &result))?;
        writeln!(out)?;
        return Ok(());
    }
    // Writing the rows obeys the same deadline as running the query did.
    output::write_result_by(out, &result, format, Some(started + limits.timeout))?;
    Ok(())
}

/// The statement from the argument, or from stdin for `-`.
fn statement_text(arg: &str) -> anyhow::Result<String> {
    let sql = if arg == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("cannot read the statement from stdin")?;
        s
    } else {
        arg.to_string()
    };
    if sql.trim().is_empty() {
        bail!("the SQL statement is empty");
    }
    Ok(sql)
}

/// Row cap and time limit: the flags, else the config's `performance` section.
fn limits(ctx: &Context, args: &SqlArgs) -> anyhow::Result<QueryLimits> {
    ctx.limits(args.max_rows, args.timeout)
}

/// Every problem the validator found, on one line: `refused: …` when the statement would not
/// be read-only, `invalid SQL: …` otherwise. `cbi ask` and `cbi chat` say the same of SQL the
/// engine refused.
pub fn refusal(problems: &[Problem]) -> anyhow::Error {
    let unsafe_kind = problems.iter().any(|p| {
        matches!(
            p.kind,
            ProblemKind::NotReadOnly
                | ProblemKind::StatementCount
                | ProblemKind::Locking
                | ProblemKind::FunctionNotAllowed
                | ProblemKind::RoundTrip
        )
    });
    let list = problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    let list = if list.is_empty() {
        "the statement was not accepted".to_string()
    } else {
        list
    };
    if unsafe_kind {
        anyhow!("refused: {list}")
    } else {
        anyhow!("invalid SQL: {list}")
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn problem(kind: ProblemKind, message: &str) -> Problem {
        Problem {
            kind,
            message: message.into(),
            suggestion: None,
        }
    }

    #[test]
    fn refusals_list_every_problem() {
        let e = refusal(&[problem(ProblemKind::NotReadOnly, "this is DELETE")]);
        assert_eq!(e.to_string(), "refused: this is DELETE");
        let mut p = problem(ProblemKind::UnknownColumn, "no column `nmae` in `t`");
        p.suggestion = Some("name".into());
        let e = refusal(&[p, problem(ProblemKind::UnknownTable, "no table `x`")]);
        assert_eq!(
            e.to_string(),
            "invalid SQL: no column `nmae` in `t`; did you mean `name`?; no table `x`"
        );
    }

    #[test]
    fn limits_come_from_flags_then_config() {
        let mut config = cbi_types::Config::default();
        config.performance.max_rows = 7;
        config.performance.query_timeout_secs = 2.5;
        let ctx = Context {
            config,
            config_path: None,
            db: None,
        };
        let args = |max_rows, timeout| SqlArgs {
            sql: "SELECT 1".into(),
            json: false,
            csv: false,
            max_rows,
            timeout,
        };
        let l = limits(&ctx, &args(None, None)).unwrap();
        assert_eq!((l.max_rows, l.timeout), (7, Duration::from_millis(2500)));
        let l = limits(&ctx, &args(Some(3), Some(Duration::from_millis(300)))).unwrap();
        assert_eq!((l.max_rows, l.timeout), (3, Duration::from_millis(300)));

        let mut ctx = ctx;
        ctx.config.performance.query_timeout_secs = 1e300;
        assert!(
            limits(&ctx, &args(None, None)).is_err(),
            "no overflow panic"
        );
    }
}
