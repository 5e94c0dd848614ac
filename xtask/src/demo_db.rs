//! `cargo xtask demo-db`: writes the deterministic retail demo database (crate `cbi-demo`) to a
//! SQLite file, or into an empty PostgreSQL or MySQL/MariaDB database, and says what it wrote.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use cbi_demo::{DemoSize, IfExists, WriteReport};
use clap::ArgGroup;

/// Arguments of `cargo xtask demo-db`.
#[derive(Debug, clap::Args)]
#[command(group(ArgGroup::new("target").args(["out", "postgres", "mysql"])))]
pub struct DemoDbArgs {
    /// tiny, small, medium, large, or a number of order items (50000, 250k, 1.5m).
    #[arg(long, default_value = "small", value_parser = parse_size)]
    size: DemoSize,
    /// The SQLite file to write [default: target/demo/retail.sqlite in the workspace].
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
    /// Write into this empty PostgreSQL database instead (postgres://user@host:port/db).
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
    /// Write into this empty MySQL/MariaDB database instead (mysql://user@host:port/db).
    #[arg(long, value_name = "URL")]
    mysql: Option<String>,
    /// Replace the SQLite file if it exists. Server databases are never overwritten: the
    /// writers refuse a database that already has the demo's tables.
    #[arg(long, conflicts_with_all = ["postgres", "mysql"])]
    force: bool,
}

fn parse_size(s: &str) -> Result<DemoSize, String> {
    s.parse().map_err(|e: cbi_demo::Error| e.to_string())
}

/// The default SQLite file, under the workspace's `target/` whatever the current directory.
fn default_out() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask
        .parent()
        .unwrap_or(xtask)
        .join("target")
        .join("demo")
        .join("retail.sqlite")
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

pub fn run(args: DemoDbArgs) -> anyhow::Result<()> {
    let size = args.size;
    let report = if let Some(url) = &args.postgres {
        runtime()?
            .block_on(cbi_demo::write_postgres(url, size))
            .context("writing the demo into PostgreSQL")?
    } else if let Some(url) = &args.mysql {
        runtime()?
            .block_on(cbi_demo::write_mysql(url, size))
            .context("writing the demo into MySQL")?
    } else {
        let path = args.out.unwrap_or_else(default_out);
        let if_exists = if args.force {
            IfExists::Replace
        } else {
            IfExists::Fail
        };
        let report = cbi_demo::write_sqlite_with(&path, size, if_exists)
            .context("writing the SQLite demo")?;
        // The semantic file beside the database, where cbi and `eval --model embedded` look.
        let semantic = path.with_extension("semantic.yaml");
        std::fs::write(&semantic, cbi_demo::SEMANTIC_YAML)
            .with_context(|| format!("writing {}", semantic.display()))?;
        println!("wrote its semantic file to {}", semantic.display());
        report
    };
    print!("{}", summary(&report));
    Ok(())
}

/// A few lines for people: what went where, how many rows, how long it took.
fn summary(r: &WriteReport) -> String {
    let mut out = format!(
        "wrote the {} demo ({} order items, data version {}) to {} in {:.2} s",
        r.size,
        r.size.target_order_items(),
        cbi_demo::DATA_VERSION,
        r.target,
        r.elapsed.as_secs_f64()
    );
    if let Some(bytes) = r.file_bytes {
        out.push_str(&format!(" ({:.1} MB)", bytes as f64 / 1_000_000.0));
    }
    out.push('\n');
    for (table, rows) in r.rows.iter() {
        out.push_str(&format!("  {:<12} {rows:>10}\n", table.name()));
    }
    out.push_str(&format!("  {:<12} {:>10}\n", "total", r.rows.total()));
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: DemoDbArgs,
    }

    #[test]
    fn arguments_parse_and_conflict_sensibly() {
        let a = Cli::try_parse_from(["x"]).unwrap().args;
        assert_eq!(a.size, DemoSize::SMALL);
        assert!(a.out.is_none() && !a.force);
        let a = Cli::try_parse_from(["x", "--size", "250k", "--out", "a.sqlite", "--force"])
            .unwrap()
            .args;
        assert_eq!(a.size.target_order_items(), 250_000);
        assert!(Cli::try_parse_from(["x", "--size", "huge"]).is_err());
        assert!(Cli::try_parse_from(["x", "--out", "a", "--postgres", "postgres://h/d"]).is_err());
        assert!(Cli::try_parse_from(["x", "--mysql", "mysql://h/d", "--force"]).is_err());
        assert!(default_out().ends_with("target/demo/retail.sqlite"));
    }

    #[test]
    fn summary_lists_every_table() {
        let mut rows = cbi_demo::RowCounts::default();
        rows.add(cbi_demo::Table::Regions, 5);
        rows.add(cbi_demo::Table::OrderItems, 2_000);
        let text = summary(&WriteReport {
            target: "t.sqlite".into(),
            size: DemoSize::TINY,
            rows,
            elapsed: Duration::from_millis(1500),
            file_bytes: Some(2_500_000),
        });
        assert!(
            text.starts_with("wrote the tiny demo (2000 order items"),
            "{text}"
        );
        assert!(text.contains("to t.sqlite in 1.50 s (2.5 MB)"), "{text}");
        assert!(text.contains("  order_items        2000\n"), "{text}");
        assert!(text.contains("  total              2005\n"), "{text}");
        assert_eq!(text.lines().count(), 10);
    }
}
