//! `cargo xtask bench`: the latency distribution of the embedded generator (understanding,
//! linking and SQL rendering of one question, without execution), where criterion only gives
//! means and medians.
//!
//! Three corpora: the retail demo's question set on the demo database (SMALL, with its semantic
//! file), Spider dev on its databases, and template questions over the deterministic synthetic
//! schema of 1,000 tables that the criterion bench uses too (its code is included from
//! `crates/cbi-nl2sql/benches/common/`). Each schema is introspected and augmented first, then
//! its [`Prepared`] index is built once (timed on its own: a per-schema cost); then every
//! question is generated once untimed to warm up, and `--iterations` more times timed. Every
//! generation counts, failed ones included: an error is an answer too, and it took time.
//!
//! Writes `<out>/generate.json` (default `target/bench/` in the workspace) and prints a short
//! table. The product target is p50 under 1 ms and p99 under 5 ms; only a release build
//! (`cargo run --release -p xtask -- bench`) says anything about it.

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
use cbi_nl2sql::{GenerateOptions, Prepared, generate};
use cbi_types::{AugmentedSchema, SemanticModel};
use serde::{Deserialize, Serialize};

#[path = "../../crates/cbi-nl2sql/benches/common/corpora.rs"]
mod corpora;
#[path = "../../crates/cbi-nl2sql/benches/common/synthetic.rs"]
mod synthetic;

/// The documented command; a debug build's numbers are not representative.
const COMMAND: &str = "cargo run --release -p xtask -- bench";

/// The product target, in microseconds.
const TARGET_P50_US: f64 = 1_000.0;
const TARGET_P99_US: f64 = 5_000.0;

/// Arguments of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Run it in release mode; a debug build is 10-50x slower:
  cargo run --release -p xtask -- bench
  cargo run --release -p xtask -- bench --corpus synthetic --iterations 100")]
pub struct BenchArgs {
    /// Folder for generate.json (and the demo database) [default: target/bench in the
    /// workspace].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Timed generations of each question, after one untimed warm-up.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    iterations: u32,
    /// Only these corpora (repeat the flag or separate with commas) [default: all].
    #[arg(long = "corpus", value_enum, value_delimiter = ',')]
    corpora: Vec<CorpusKind>,
    /// The shared benchmark data, holding `spider/dev.json` and `spider/database/`
    /// [default: ../shared/datasets beside the workspace].
    #[arg(long, env = "CBI_DATASETS", value_name = "DIR")]
    datasets: Option<PathBuf>,
    /// Tables of the synthetic schema.
    #[arg(long, default_value_t = synthetic::TABLES)]
    synthetic_tables: usize,
}

/// A question set with the schemas it is asked of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
enum CorpusKind {
    /// The retail demo's question set on the demo database.
    Demo,
    /// Spider dev on its databases.
    Spider,
    /// Template questions over the synthetic many-table schema.
    Synthetic,
}

/// One schema of a corpus and the questions asked of it.
struct Schema {
    db: String,
    aug: Arc<AugmentedSchema>,
    questions: Vec<String>,
    /// The construct or template of each question, where the corpus says.
    kinds: Vec<Option<String>>,
}

/// A corpus ready to be measured.
struct Corpus {
    name: String,
    schemas: Vec<Schema>,
    /// Questions left out because their database is missing (Spider's `wta_1`).
    skipped: usize,
    /// Introspection and augmentation of all schemas (not part of generation; for context).
    load: Duration,
}

/// A latency distribution, in microseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Distribution {
    pub count: usize,
    pub mean_us: f64,
    pub p50_us: f64,
    pub p95_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
}

impl Distribution {
    /// The distribution of `samples` (nanoseconds); percentiles by the nearest-rank method,
    /// so every reported figure is a time that was actually measured.
    pub fn of(samples: &mut [u64]) -> Distribution {
        samples.sort_unstable();
        let us = |ns: u64| ns as f64 / 1_000.0;
        let rank = |p: f64| {
            if samples.is_empty() {
                return 0.0;
            }
            let r = (p / 100.0 * samples.len() as f64).ceil() as usize;
            us(samples[r.clamp(1, samples.len()) - 1])
        };
        let total: u128 = samples.iter().map(|&s| u128::from(s)).sum();
        Distribution {
            count: samples.len(),
            mean_us: if samples.is_empty() {
                0.0
            } else {
                total as f64 / samples.len() as f64 / 1_000.0
            },
            p50_us: rank(50.0),
            p95_us: rank(95.0),
            p99_us: rank(99.0),
            max_us: samples.last().copied().map_or(0.0, us),
        }
    }
}

/// How long building the per-schema index took.
#[derive(Debug, Clone, Serialize)]
struct PrepareTimes {
    count: usize,
    mean_ms: f64,
    max_ms: f64,
    total_ms: f64,
}

/// A question among the slowest, with its own figures.
#[derive(Debug, Clone, Serialize)]
struct Slow {
    db: String,
    question: String,
    p50_us: f64,
    max_us: f64,
}

/// An error message and how many questions got it.
#[derive(Debug, Clone, Serialize)]
struct ErrorCount {
    message: String,
    questions: usize,
}

/// The figures of one construct (demo) or template (synthetic).
#[derive(Debug, Clone, Serialize)]
struct KindReport {
    kind: String,
    questions: usize,
    failed: usize,
    generation: Distribution,
}

/// What was measured on one corpus.
#[derive(Debug, Clone, Serialize)]
struct CorpusReport {
    name: String,
    databases: usize,
    tables: usize,
    columns: usize,
    questions: usize,
    skipped_questions: usize,
    /// Every timed generation, failed ones included.
    generation: Distribution,
    /// Timed generations that returned an error.
    failed: usize,
    /// Questions whose generation returned an error (each is failed `iterations` times).
    failed_questions: usize,
    /// Successful generations without SQL (a clarification; should not happen with
    /// `clarify: false`).
    no_sql: usize,
    errors: Vec<ErrorCount>,
    /// Per construct or template, slowest p99 first (empty when the corpus has none).
    by_kind: Vec<KindReport>,
    prepare: PrepareTimes,
    load_ms: f64,
    meets_target: bool,
    slowest: Vec<Slow>,
}

/// The whole of `generate.json`.
#[derive(Debug, Clone, Serialize)]
struct Report {
    command: &'static str,
    build: &'static str,
    /// False for a debug build, whose numbers say nothing about the product target.
    representative: bool,
    iterations: u32,
    warmup: u32,
    target_p50_us: f64,
    target_p99_us: f64,
    synthetic_seed: u64,
    corpora: Vec<CorpusReport>,
}

/// The workspace root, whatever the current directory.
fn workspace() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).to_path_buf()
}

pub fn run(args: BenchArgs) -> Result<()> {
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| workspace().join("target").join("bench"));
    let report = measure(&args, &out)?;
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let file = out.join("generate.json");
    let json = serde_json::to_string_pretty(&report)?;
    std::fs::write(&file, json + "\n").with_context(|| format!("writing {}", file.display()))?;
    print!("{}", summary(&report));
    println!("wrote {}", file.display());
    Ok(())
}

/// Loads and measures every chosen corpus.
fn measure(args: &BenchArgs, out: &Path) -> Result<Report> {
    let mut kinds = args.corpora.clone();
    if kinds.is_empty() {
        kinds = vec![CorpusKind::Demo, CorpusKind::Spider, CorpusKind::Synthetic];
    }
    kinds.sort();
    kinds.dedup();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let mut corpora = Vec::new();
    for kind in kinds {
        let started = Instant::now();
        let mut corpus = match kind {
            CorpusKind::Demo => runtime.block_on(demo(out))?,
            CorpusKind::Spider => runtime.block_on(spider(&datasets(args)?))?,
            CorpusKind::Synthetic => synthetic(args.synthetic_tables),
        };
        corpus.load = started.elapsed();
        eprintln!(
            "{}: {} questions on {} schema(s), loaded in {:.1} s; measuring",
            corpus.name,
            corpus
                .schemas
                .iter()
                .map(|s| s.questions.len())
                .sum::<usize>(),
            corpus.schemas.len(),
            corpus.load.as_secs_f64()
        );
        corpora.push(measure_corpus(&corpus, args.iterations));
    }
    let debug = cfg!(debug_assertions);
    Ok(Report {
        command: COMMAND,
        build: if debug { "debug" } else { "release" },
        representative: !debug,
        iterations: args.iterations,
        warmup: 1,
        target_p50_us: TARGET_P50_US,
        target_p99_us: TARGET_P99_US,
        synthetic_seed: synthetic::SEED,
        corpora,
    })
}

async fn demo(out: &Path) -> Result<Corpus> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let aug = corpora::demo_schema(out)
        .await
        .map_err(|e| anyhow!(e))
        .context("building the retail demo")?;
    let set = corpora::jsonl_questions(&workspace().join(corpora::DEMO_QUESTIONS))
        .map_err(|e| anyhow!(e))?;
    Ok(Corpus {
        name: "demo".into(),
        schemas: vec![Schema {
            db: "retail".into(),
            aug: Arc::new(aug),
            kinds: set.iter().map(|q| q.construct.clone()).collect(),
            questions: set.into_iter().map(|q| q.question).collect(),
        }],
        skipped: 0,
        load: Duration::ZERO,
    })
}

fn datasets(args: &BenchArgs) -> Result<PathBuf> {
    let dir = args
        .datasets
        .clone()
        .unwrap_or_else(|| workspace().join("../shared/datasets"));
    if !dir.join("spider/dev.json").is_file() {
        bail!(
            "Spider not found: {} has no spider/dev.json (pass --datasets or set CBI_DATASETS, \
             or leave Spider out with --corpus demo,synthetic)",
            dir.display()
        );
    }
    Ok(dir)
}

#[derive(Deserialize)]
struct SpiderItem {
    db_id: String,
    question: String,
}

/// Spider dev, grouped by database; questions on a database that is not there are counted
/// as skipped.
async fn spider(datasets: &Path) -> Result<Corpus> {
    let file = datasets.join("spider/dev.json");
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let items: Vec<SpiderItem> =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
    let mut by_db: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for item in items {
        by_db.entry(item.db_id).or_default().push(item.question);
    }
    let mut schemas = Vec::new();
    let mut skipped = 0;
    for (db, questions) in by_db {
        let path = datasets
            .join("spider/database")
            .join(&db)
            .join(format!("{db}.sqlite"));
        if !path.is_file() {
            skipped += questions.len();
            continue;
        }
        let aug = corpora::augment_sqlite(&path, SemanticModel::default())
            .await
            .map_err(|e| anyhow!(e))
            .with_context(|| format!("augmenting {}", path.display()))?;
        schemas.push(Schema {
            db,
            aug: Arc::new(aug),
            kinds: vec![None; questions.len()],
            questions,
        });
    }
    if schemas.is_empty() {
        bail!("none of Spider's databases is under {}", datasets.display());
    }
    Ok(Corpus {
        name: "spider-dev".into(),
        schemas,
        skipped,
        load: Duration::ZERO,
    })
}

fn synthetic(tables: usize) -> Corpus {
    let s = synthetic::Synthetic::new(tables, synthetic::QUESTIONS_PER_KIND);
    Corpus {
        name: format!("synthetic-{tables}"),
        schemas: vec![Schema {
            db: s.schema.schema.name.clone(),
            aug: Arc::new(s.schema),
            kinds: s
                .questions
                .iter()
                .map(|q| Some(q.kind.to_string()))
                .collect(),
            questions: s.questions.into_iter().map(|q| q.text).collect(),
        }],
        skipped: 0,
        load: Duration::ZERO,
    }
}

/// What one question did over all its timed runs.
struct QuestionTimes {
    schema: usize,
    question: usize,
    samples: Vec<u64>,
    failed: usize,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Prepares each schema (timed), warms up, then times every question `iterations` times.
fn measure_corpus(corpus: &Corpus, iterations: u32) -> CorpusReport {
    let opts = GenerateOptions {
        clarify: false,
        ..GenerateOptions::default()
    };
    let mut prepare_ns = Vec::new();
    let prepared: Vec<Prepared> = corpus
        .schemas
        .iter()
        .map(|s| {
            let t = Instant::now();
            let p = Prepared::new(s.aug.clone());
            prepare_ns.push(nanos(t.elapsed()));
            p
        })
        .collect();

    // Warm-up, untimed; it also records which questions fail and why (the generator is
    // deterministic, so a question fails on every run or on none).
    let mut errors: HashMap<String, usize> = HashMap::new();
    for (s, p) in corpus.schemas.iter().zip(&prepared) {
        for q in &s.questions {
            if let Err(e) = generate(p, q, &opts) {
                *errors.entry(e.to_string()).or_default() += 1;
            }
        }
    }

    let mut per_question: Vec<QuestionTimes> = corpus
        .schemas
        .iter()
        .enumerate()
        .flat_map(|(si, s)| {
            (0..s.questions.len()).map(move |qi| QuestionTimes {
                schema: si,
                question: qi,
                samples: Vec::with_capacity(iterations as usize),
                failed: 0,
            })
        })
        .collect();
    let mut no_sql = 0;
    for _ in 0..iterations {
        for qt in &mut per_question {
            let question = corpus.schemas[qt.schema].questions[qt.question].as_str();
            let p = &prepared[qt.schema];
            let t = Instant::now();
            let answer = generate(p, black_box(question), &opts);
            let elapsed = t.elapsed();
            match &answer {
                Ok(g) if g.sql.is_none() => no_sql += 1,
                Ok(_) => {}
                Err(_) => qt.failed += 1,
            }
            drop(black_box(answer));
            qt.samples.push(nanos(elapsed));
        }
    }

    let mut all: Vec<u64> = per_question
        .iter()
        .flat_map(|q| q.samples.iter().copied())
        .collect();
    let generation = Distribution::of(&mut all);
    let failed = per_question.iter().map(|q| q.failed).sum();
    let mut kinds: BTreeMap<&str, (usize, usize, Vec<u64>)> = BTreeMap::new();
    for q in &per_question {
        if let Some(kind) = &corpus.schemas[q.schema].kinds[q.question] {
            let k = kinds.entry(kind.as_str()).or_default();
            k.0 += 1;
            k.1 += q.failed;
            k.2.extend_from_slice(&q.samples);
        }
    }
    let mut by_kind: Vec<KindReport> = kinds
        .into_iter()
        .map(|(kind, (questions, failed, mut samples))| KindReport {
            kind: kind.to_string(),
            questions,
            failed,
            generation: Distribution::of(&mut samples),
        })
        .collect();
    by_kind.sort_by(|a, b| b.generation.p99_us.total_cmp(&a.generation.p99_us));
    let mut slowest: Vec<Slow> = per_question
        .iter_mut()
        .map(|q| {
            let d = Distribution::of(&mut q.samples);
            let s = &corpus.schemas[q.schema];
            Slow {
                db: s.db.clone(),
                question: s.questions[q.question].clone(),
                p50_us: d.p50_us,
                max_us: d.max_us,
            }
        })
        .collect();
    slowest.sort_by(|a, b| b.p50_us.total_cmp(&a.p50_us));
    slowest.truncate(5);
    let mut errors: Vec<ErrorCount> = errors
        .into_iter()
        .map(|(message, questions)| ErrorCount { message, questions })
        .collect();
    errors.sort_by(|a, b| {
        b.questions
            .cmp(&a.questions)
            .then(a.message.cmp(&b.message))
    });

    let prepare_total: u64 = prepare_ns.iter().sum();
    let ms = |ns: u64| ns as f64 / 1e6;
    CorpusReport {
        name: corpus.name.clone(),
        databases: corpus.schemas.len(),
        tables: corpus
            .schemas
            .iter()
            .map(|s| s.aug.schema.tables.len())
            .sum(),
        columns: corpus
            .schemas
            .iter()
            .map(|s| s.aug.schema.column_count())
            .sum(),
        questions: per_question.len(),
        skipped_questions: corpus.skipped,
        meets_target: generation.p50_us < TARGET_P50_US && generation.p99_us < TARGET_P99_US,
        generation,
        failed,
        failed_questions: errors.iter().map(|e| e.questions).sum(),
        no_sql,
        errors,
        by_kind,
        prepare: PrepareTimes {
            count: prepare_ns.len(),
            mean_ms: ms(prepare_total) / prepare_ns.len().max(1) as f64,
            max_ms: ms(prepare_ns.iter().copied().max().unwrap_or(0)),
            total_ms: ms(prepare_total),
        },
        load_ms: corpus.load.as_secs_f64() * 1e3,
        slowest,
    }
}

/// A duration in microseconds, readably.
fn time(us: f64) -> String {
    if us >= 10_000.0 {
        format!("{:.0} ms", us / 1_000.0)
    } else if us >= 1_000.0 {
        format!("{:.2} ms", us / 1_000.0)
    } else {
        format!("{us:.0} µs")
    }
}

/// The table for people.
fn summary(r: &Report) -> String {
    let mut out = String::new();
    if !r.representative {
        out.push_str(&format!(
            "NOTE: debug build; these times are not representative. Run `{}`.\n",
            r.command
        ));
    }
    out.push_str(&format!(
        "generation latency ({} build, {} timed runs per question after {} warm-up; target p50 < {}, p99 < {})\n",
        r.build,
        r.iterations,
        r.warmup,
        time(r.target_p50_us),
        time(r.target_p99_us)
    ));
    out.push_str(&format!(
        "{:<16} {:>4} {:>6} {:>9} {:>11} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10}  target\n",
        "corpus",
        "dbs",
        "tables",
        "questions",
        "generations",
        "failed",
        "mean",
        "p50",
        "p95",
        "p99",
        "max",
        "prepare"
    ));
    for c in &r.corpora {
        let g = &c.generation;
        out.push_str(&format!(
            "{:<16} {:>4} {:>6} {:>9} {:>11} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10}  {}\n",
            c.name,
            c.databases,
            c.tables,
            c.questions,
            g.count,
            c.failed,
            time(g.mean_us),
            time(g.p50_us),
            time(g.p95_us),
            time(g.p99_us),
            time(g.max_us),
            time(c.prepare.max_ms * 1_000.0),
            if c.meets_target { "met" } else { "MISSED" }
        ));
    }
    out.push_str("(prepare: the slowest per-schema index build; failed: generations that returned an error)\n");
    for c in &r.corpora {
        if c.skipped_questions > 0 {
            out.push_str(&format!(
                "{}: {} questions skipped (database missing)\n",
                c.name, c.skipped_questions
            ));
        }
        if let Some(s) = c.slowest.first() {
            out.push_str(&format!(
                "{}: slowest question (p50 {}, max {}) on {}: {}\n",
                c.name,
                time(s.p50_us),
                time(s.max_us),
                s.db,
                s.question.chars().take(80).collect::<String>(),
            ));
        }
        if !c.by_kind.is_empty() {
            let worst: Vec<String> = c
                .by_kind
                .iter()
                .take(3)
                .map(|k| {
                    format!(
                        "{} p50 {} p99 {}",
                        k.kind,
                        time(k.generation.p50_us),
                        time(k.generation.p99_us)
                    )
                })
                .collect();
            out.push_str(&format!(
                "{}: slowest kinds: {}\n",
                c.name,
                worst.join("; ")
            ));
        }
        if let Some(e) = c.errors.first() {
            out.push_str(&format!(
                "{}: {} of {} questions fail; most often ({}x): {}\n",
                c.name,
                c.failed_questions,
                c.questions,
                e.questions,
                e.message.chars().take(100).collect::<String>(),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::synthetic::{KINDS, Synthetic};
    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: BenchArgs,
    }

    #[test]
    fn percentiles_are_measured_values_by_nearest_rank() {
        fn check(samples: &[u64], expect: [f64; 6]) {
            let d = Distribution::of(&mut samples.to_vec());
            let got = [
                d.count as f64,
                d.mean_us,
                d.p50_us,
                d.p95_us,
                d.p99_us,
                d.max_us,
            ];
            assert_eq!(got, expect, "{samples:?}");
        }
        check(&[], [0.0; 6]);
        check(&[5_000], [1.0, 5.0, 5.0, 5.0, 5.0, 5.0]);
        check(&[4_000, 2_000], [2.0, 3.0, 2.0, 4.0, 4.0, 4.0]);
        // 1..=100 µs, shuffled: the p-th percentile is p µs.
        let mut v: Vec<u64> = (1..=100).map(|i| i * 1_000).collect();
        v.reverse();
        v.swap(3, 70);
        check(&v, [100.0, 50.5, 50.0, 95.0, 99.0, 100.0]);
        // One slow outlier in 1,000 does not move p99 but is the max.
        let mut v = vec![1_000u64; 999];
        v.push(9_000_000);
        let d = Distribution::of(&mut v);
        assert_eq!((d.p99_us, d.max_us), (1.0, 9_000.0));
    }

    #[test]
    fn arguments() {
        let a = Cli::try_parse_from(["x"]).unwrap().args;
        assert_eq!(a.iterations, 20);
        assert!(a.corpora.is_empty() && a.out.is_none());
        assert_eq!(a.synthetic_tables, 1_000);
        let a = Cli::try_parse_from(["x", "--corpus", "demo,synthetic", "--iterations", "3"])
            .unwrap()
            .args;
        assert_eq!(a.corpora, [CorpusKind::Demo, CorpusKind::Synthetic]);
        assert_eq!(a.iterations, 3);
        assert!(Cli::try_parse_from(["x", "--iterations", "0"]).is_err());
        assert!(Cli::try_parse_from(["x", "--corpus", "bird"]).is_err());
    }

    #[test]
    fn synthetic_schema_is_deterministic_unique_and_linked() {
        let a = Synthetic::new(1_000, 30);
        let b = Synthetic::new(1_000, 30);
        assert_eq!(a.schema, b.schema);
        assert_eq!(a.questions, b.questions);
        let s = &a.schema.schema;
        assert_eq!(s.tables.len(), 1_000);
        let mut names: Vec<&str> = s.tables.iter().map(|t| t.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 1_000, "table names are unique");
        assert!(names.iter().any(|n| n.ends_with(char::is_numeric)));
        for (t, p) in s.tables.iter().zip(&a.schema.tables) {
            assert!((5..=25).contains(&t.columns.len()), "{}", t.name);
            assert_eq!(t.columns.len(), p.columns.len());
            assert_eq!(t.primary_key, ["id"]);
            assert!(t.row_count.is_some());
        }
        assert!(
            s.relationships.len() >= 999,
            "every table but the first has a key"
        );
        for r in &s.relationships {
            let from = s.table(&r.from_table).unwrap();
            assert!(from.column(&r.from_columns[0]).is_some(), "{r:?}");
            assert!(s.table(&r.to_table).is_some(), "{r:?}");
        }
        let hits: usize = a.schema.value_index.iter().map(|(_, h)| h.len()).sum();
        assert!(hits > 2_000, "{hits} indexed values");
        assert_eq!(a.questions.len(), 30 * KINDS.len());
        assert!(a.questions.len() >= 200);
        // Questions name real values: every quoted value is in the value index.
        for q in a.questions.iter().filter(|q| q.kind == "filter") {
            let value = q.text.split('\'').nth(1).unwrap();
            assert!(!a.schema.value_index.lookup(value).is_empty(), "{}", q.text);
        }
    }

    /// The whole command on the synthetic corpus (small, so a debug build stays quick): every
    /// generation is counted and the figures are ordered.
    #[test]
    fn measures_every_generation() {
        let out = tempfile::tempdir().unwrap();
        let args = Cli::try_parse_from([
            "x",
            "--corpus",
            "synthetic",
            "--iterations",
            "2",
            "--synthetic-tables",
            "60",
            "--out",
            out.path().to_str().unwrap(),
        ])
        .unwrap()
        .args;
        run(args).unwrap();
        let text = std::fs::read_to_string(out.path().join("generate.json")).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["representative"], !cfg!(debug_assertions));
        let c = &json["corpora"][0];
        assert_eq!(c["name"], "synthetic-60");
        assert_eq!(c["tables"], 60);
        let questions = c["questions"].as_u64().unwrap();
        assert_eq!(questions, 30 * KINDS.len() as u64);
        let g = &c["generation"];
        assert_eq!(g["count"].as_u64().unwrap(), 2 * questions);
        let f = |k: &str| g[k].as_f64().unwrap();
        assert!(0.0 < f("p50_us") && f("p50_us") <= f("p95_us"));
        assert!(f("p95_us") <= f("p99_us") && f("p99_us") <= f("max_us"));
        assert!(c["failed"].as_u64().unwrap() <= 2 * questions);
        assert_eq!(
            c["failed"].as_u64().unwrap(),
            2 * c["failed_questions"].as_u64().unwrap()
        );
        assert_eq!(c["prepare"]["count"], 1);
        let kinds = c["by_kind"].as_array().unwrap();
        assert_eq!(kinds.len(), KINDS.len());
        assert!(
            kinds
                .iter()
                .all(|k| k["questions"] == 30 && k["generation"]["count"] == 60)
        );
        assert_eq!(c["slowest"].as_array().unwrap().len(), 5);
    }
}
