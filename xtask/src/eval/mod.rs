//! `cargo xtask eval`: execution accuracy of a text-to-SQL predictor on Spider, BIRD, SParC,
//! CoSQL, GeoQuery or your own JSONL questions, scored exactly as the official scripts do.
//!
//! Each run lives in `<out>/<run>/`: `meta.json`, `predictions.jsonl` (appended and flushed per
//! question, so an interrupted run continues where it stopped), `report.json` and `report.md`.
//! Every set is scored under both the test-suite rule and the BIRD rule (see `scoring`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};

mod dataset;
mod download;
mod exec;
mod hardness;
mod predictor;
mod pyvalue;
mod record;
mod report;
mod runner;
mod scoring;
mod sqltext;

use dataset::{Format, LoadOptions};
/// The user cache folder, shared with `cargo xtask models`.
pub(crate) use download::cache_dir;
use record::{Appender, Meta, Record};

/// Arguments of `cargo xtask eval`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  cargo xtask eval spider --data ../shared/datasets/spider --model gold
  cargo xtask eval sparc --data ../shared/datasets/sparc --model select1 --db concert_singer
  cargo xtask eval jsonl --data my_questions.jsonl --model gold
  cargo xtask eval bird --model gold          (downloads BIRD dev once, into the cache)")]
pub struct EvalArgs {
    /// The benchmark format of the data.
    #[arg(value_enum)]
    pub format: Format,
    /// The questions: the set's folder as it ships (or its JSON / JSONL file). Without it,
    /// `bird` downloads the official BIRD dev set; no other case touches the network.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// The model to evaluate: gold (answers with the gold SQL), select1 (answers SELECT 1).
    #[arg(long)]
    pub model: String,
    /// Only these databases (repeat the flag or separate with commas).
    #[arg(long = "db", value_delimiter = ',')]
    pub dbs: Vec<String>,
    /// Only every K-th question (interaction): the first, the K+1-th, … after --db. A fixed
    /// sample spread over the set, for runs too slow to answer all of it (a local model).
    #[arg(long)]
    pub every: Option<usize>,
    /// Only the first N questions (interactions for SParC/CoSQL) after --db and --every.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Where the databases are: `<db-dir>/<db_id>/<db_id>.sqlite` (GeoQuery: the folder of its
    /// .sqlite file). Defaults to the set's own layout.
    #[arg(long)]
    pub db_dir: Option<PathBuf>,
    /// Questions (interactions) answered at once. Default: the number of cores.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Time limit in seconds for each gold and predicted query.
    #[arg(long, default_value_t = 30.0)]
    pub timeout: f64,
    /// Folder of runs.
    #[arg(long, default_value = "target/eval")]
    pub out: PathBuf,
    /// Name of this run's folder. Default: `<format>-<model>`.
    #[arg(long)]
    pub run: Option<String>,
    /// Start over instead of continuing an interrupted run.
    #[arg(long)]
    pub restart: bool,
    /// Keep DISTINCT under the test-suite rule (the official script removes it by default).
    #[arg(long)]
    pub keep_distinct: bool,
    /// Results with more rows than this are errors rather than matches.
    #[arg(long, default_value_t = 100_000)]
    pub max_rows: usize,
    /// Where `bird` without --data downloads BIRD dev from.
    #[arg(long, env = "CBI_BIRD_URL", default_value = download::BIRD_DEV_URL)]
    pub bird_url: String,
}

pub fn run(args: EvalArgs) -> Result<()> {
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(jobs.max(2))
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(run_async(args, jobs))
}

/// Default run folder: format and model spec, folder-safe. A `jsonl` run also
/// names its file and the folder holding it, since one machine often evaluates several
/// question files, and sets name theirs alike (`bizdev/questions.jsonl`,
/// `demo/questions.jsonl`).
fn run_name(format: Format, data: &Path, model: &str) -> String {
    let safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    let stem = data.file_stem().and_then(|s| s.to_str());
    let folder = data
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|s| s.to_str());
    match (format, stem, folder) {
        (Format::Jsonl, Some(stem), Some(folder)) => {
            format!("jsonl-{}-{}-{}", safe(folder), safe(stem), safe(model))
        }
        (Format::Jsonl, Some(stem), None) => format!("jsonl-{}-{}", safe(stem), safe(model)),
        _ => format!("{}-{}", format.name(), safe(model)),
    }
}

async fn run_async(args: EvalArgs, jobs: usize) -> Result<()> {
    let started = Instant::now();
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        bail!("--timeout must be a positive number of seconds");
    }
    let data = match &args.data {
        Some(d) => d.clone(),
        None if args.format == Format::Bird => {
            let cache = download::cache_dir()?;
            eprintln!(
                "No --data given: using BIRD dev from {} (downloading it once)",
                cache.join("bird").display()
            );
            download::ensure_bird_dev(&cache, &args.bird_url, true).await?
        }
        None => bail!(
            "--data is required for {} (only `bird` can download its data)",
            args.format.name()
        ),
    };
    let ds = dataset::load(
        args.format,
        &LoadOptions {
            data: data.clone(),
            db_dir: args.db_dir.clone(),
            dbs: args.dbs.clone(),
            every: args.every,
            limit: args.limit,
        },
    )?;

    let mut skipped_by_db: BTreeMap<String, usize> = BTreeMap::new();
    let mut runnable = Vec::new();
    for unit in &ds.units {
        if unit.db_path.is_file() {
            runnable.push(unit);
        } else {
            *skipped_by_db.entry(unit.db_id.clone()).or_default() += unit.turns.len();
        }
    }
    let questions: usize = ds.units.iter().map(|u| u.turns.len()).sum();

    let run_dir = args.out.join(
        args.run
            .clone()
            .unwrap_or_else(|| run_name(args.format, &data, &args.model)),
    );
    let meta = Meta {
        format: args.format,
        data: full_path(&ds.source),
        db_dir: args.db_dir.as_deref().map(full_path),
        model: args.model.clone(),
        keep_distinct: args.keep_distinct,
        max_rows: args.max_rows,
    };
    let expected_turns: HashMap<String, usize> = ds
        .units
        .iter()
        .map(|u| (u.id.clone(), u.turns.len()))
        .collect();
    let resumed = record::prepare(&run_dir, &meta, args.restart, &expected_turns)?;
    let done: HashSet<&str> = resumed.iter().map(|r| r.unit.as_str()).collect();
    let todo: Vec<&dataset::Unit> = runnable
        .iter()
        .copied()
        .filter(|u| !done.contains(u.id.as_str()))
        .collect();

    let mut book = predictor::GoldBook::default();
    for unit in &todo {
        for turn in &unit.turns {
            if let Some(g) = turn.gold.first() {
                book.insert(turn.id.clone(), g.clone());
            }
        }
    }
    let predictor = predictor::build(&args.model, Arc::new(book))?;
    let scorer = runner::Scorer {
        exec: Arc::new(exec::Executor::new(
            args.max_rows,
            Duration::from_secs_f64(args.timeout),
            jobs,
        )),
        keep_distinct: args.keep_distinct,
        database_suites: args.format.uses_database_suites(),
    };

    let selected: HashSet<&str> = ds.units.iter().map(|u| u.id.as_str()).collect();
    let prior: Vec<&Record> = resumed
        .iter()
        .filter(|r| selected.contains(r.unit.as_str()))
        .collect();
    let tally = Tally::default();
    for r in &prior {
        tally.add(r);
    }
    let todo_turns: u64 = todo.iter().map(|u| u.turns.len() as u64).sum();
    let bar = ProgressBar::new(todo_turns);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} [{bar:30}] {pos}/{len} {elapsed_precise} eta {eta} · {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_prefix(format!("{} {}", args.format.name(), predictor.name()));
    bar.set_message(tally.message());
    if !prior.is_empty() {
        eprintln!(
            "continuing {}: {} answers already recorded",
            run_dir.display(),
            prior.len()
        );
    }

    let appender = Mutex::new(Appender::open(&run_dir)?);
    let fresh: Mutex<Vec<Record>> = Mutex::new(Vec::new());
    let conversational = args.format.conversational();
    let results: Vec<Result<()>> = futures::stream::iter(todo.iter().copied())
        .map(|unit| {
            let (predictor, scorer, appender, fresh, tally, bar) =
                (&predictor, &scorer, &appender, &fresh, &tally, &bar);
            async move {
                runner::run_unit(predictor.as_ref(), scorer, unit, conversational, |rec| {
                    appender
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .append(&rec)?;
                    tally.add(&rec);
                    bar.inc(1);
                    bar.set_message(tally.message());
                    fresh.lock().unwrap_or_else(|p| p.into_inner()).push(rec);
                    Ok(())
                })
                .await
            }
        })
        .buffer_unordered(jobs)
        .collect()
        .await;
    bar.finish_and_clear();
    appender.lock().unwrap_or_else(|p| p.into_inner()).sync()?;
    for r in results {
        r?;
    }

    let order: HashMap<&str, usize> = ds
        .units
        .iter()
        .flat_map(|u| u.turns.iter())
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    let resumed_records = prior.len();
    let mut all: Vec<Record> = prior.into_iter().cloned().collect();
    all.extend(fresh.into_inner().unwrap_or_else(|p| p.into_inner()));
    all.sort_by_key(|r| order.get(r.id.as_str()).copied().unwrap_or(usize::MAX));

    let report = report::build(
        &report::Context {
            format: args.format,
            model: predictor.name().to_string(),
            data: meta.data.clone(),
            run_dir: run_dir.clone(),
            questions,
            skipped_by_db,
            gold_repairs: ds.gold_repairs,
            keep_distinct: args.keep_distinct,
            wall_time: started.elapsed(),
            resumed_records,
        },
        &all,
    );
    write_reports(&run_dir, &report)?;
    print!("{}", report::summary(&report));
    if let Some(missing) = ds.units.iter().find(|u| !u.db_path.is_file()) {
        eprintln!(
            "note: database files not found are skipped, e.g. {} (see --db-dir)",
            missing.db_path.display()
        );
    }
    Ok(())
}

/// The path without `.`, `..` or symbolic links where it exists, for comparing runs.
fn full_path(p: &Path) -> PathBuf {
    std::fs::canonicalize(p)
        .or_else(|_| std::path::absolute(p))
        .unwrap_or_else(|_| p.to_path_buf())
}

fn write_reports(dir: &Path, report: &report::Report) -> Result<()> {
    record::write_atomic(
        &dir.join("report.json"),
        serde_json::to_string_pretty(report)?.as_bytes(),
    )?;
    record::write_atomic(&dir.join("report.md"), report::markdown(report).as_bytes())?;
    Ok(())
}

/// Running accuracy for the progress bar.
#[derive(Debug, Default)]
struct Tally {
    scored: AtomicUsize,
    test_suite: AtomicUsize,
    bird: AtomicUsize,
}

impl Tally {
    fn add(&self, r: &Record) {
        if r.scored() {
            self.scored.fetch_add(1, Ordering::Relaxed);
            self.test_suite
                .fetch_add(usize::from(r.correct_test_suite), Ordering::Relaxed);
            self.bird
                .fetch_add(usize::from(r.correct_bird), Ordering::Relaxed);
        }
    }

    fn message(&self) -> String {
        let n = self.scored.load(Ordering::Relaxed);
        if n == 0 {
            return "test-suite –  BIRD –".to_string();
        }
        let pct = |c: &AtomicUsize| 100.0 * c.load(Ordering::Relaxed) as f64 / n as f64;
        format!(
            "test-suite {:.1}%  BIRD {:.1}%",
            pct(&self.test_suite),
            pct(&self.bird)
        )
    }
}

#[cfg(test)]
pub(crate) mod testdata {
    use std::path::PathBuf;

    /// The shared benchmark folder: `$CBI_DATASETS`, else `../shared/datasets` beside the
    /// workspace. Tests that need it fail loudly when it is missing.
    pub fn datasets() -> PathBuf {
        let dir = std::env::var_os("CBI_DATASETS").map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets"),
            PathBuf::from,
        );
        assert!(
            dir.join("spider/dev.json").is_file(),
            "benchmark data not found at {} (set CBI_DATASETS)",
            dir.display()
        );
        dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_names_are_folder_safe_and_name_jsonl_files() {
        let spider = run_name(Format::Spider, Path::new("x/dev.json"), "openai:gpt-4o");
        assert_eq!(spider, "spider-openai-gpt-4o");
        let a = run_name(Format::Jsonl, Path::new("f/questions.jsonl"), "embedded");
        let b = run_name(Format::Jsonl, Path::new("f/holdout.jsonl"), "embedded");
        assert_eq!(a, "jsonl-f-questions-embedded");
        assert_ne!(a, b);
        // Two sets whose files share a name keep their runs apart.
        let c = run_name(
            Format::Jsonl,
            Path::new("/d/bizdev/questions.jsonl"),
            "embedded",
        );
        assert_eq!(c, "jsonl-bizdev-questions-embedded");
        assert_eq!(
            run_name(Format::Jsonl, Path::new("questions.jsonl"), "embedded"),
            "jsonl-questions-embedded"
        );
    }
}
