//! Generation latency of the embedded generator: understanding, linking and SQL rendering of
//! one question, without execution, against a schema whose index was prepared beforehand.
//!
//! The product target is p50 under 1 ms and p99 under 5 ms, also on a schema of 1,000 tables.
//! Criterion reports each benchmark's mean and median; the tail (p95, p99, max) over whole
//! question sets comes from `cargo run --release -p xtask -- bench`, which records every
//! generation.
//!
//! - `generate/demo/<construct>`: one retail-demo question per construct (count, filter,
//!   group: a grouped measure, top-n, time: a time expression, nesting: a nested comparison);
//! - `generate/demo/all`: the whole demo question set per iteration, reported per question;
//! - `generate/synthetic-1000/<kind>` and `…/all`: template questions over a deterministic
//!   synthetic schema of 1,000 tables;
//! - `prepare/demo`, `prepare/synthetic-1000`: building the per-schema index
//!   ([`Prepared::new`]), paid once per schema, not per question.
//!
//! Run with `cargo bench -p cbi-nl2sql --bench generate`. Setup (writing the demo database,
//! augmenting it, building the synthetic schema) happens before anything is timed.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cbi_nl2sql::{GenerateOptions, Prepared, generate};
use cbi_types::AugmentedSchema;
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

mod common;

use common::corpora;
use common::synthetic::{KINDS, QUESTIONS_PER_KIND, Synthetic, TABLES as SYNTHETIC_TABLES};

/// One question of the demo set per construct, named as the set names it (count, filter,
/// grouped measure, top-N, time expression, nested comparison), timed on its own: what a
/// typical question of each shape costs.
const DEMO_CONSTRUCTS: &[(&str, &str)] = &[
    ("count", "How many customers are there?"),
    ("filter", "How many orders were cancelled?"),
    ("group", "Total revenue by region"),
    ("top-n", "What are the top 5 products by revenue?"),
    ("time", "What was the revenue in 2023?"),
    (
        "nesting",
        "Which products are priced above the average price?",
    ),
];

/// Everything the benchmarks need, built once.
struct Fixtures {
    demo: Arc<AugmentedSchema>,
    demo_questions: Vec<corpora::SetQuestion>,
    synthetic: Synthetic,
}

fn fixtures() -> Fixtures {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("creating a temporary folder: {e}"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("starting the async runtime: {e}"));
    let demo = runtime
        .block_on(corpora::demo_schema(dir.path()))
        .unwrap_or_else(|e| panic!("building the retail demo: {e}"));
    let demo_questions = corpora::jsonl_questions(&root.join(corpora::DEMO_QUESTIONS))
        .unwrap_or_else(|e| panic!("{e}"));
    Fixtures {
        demo: Arc::new(demo),
        demo_questions,
        synthetic: Synthetic::new(SYNTHETIC_TABLES, QUESTIONS_PER_KIND),
    }
}

/// Options of a benchmark run: always answer, never ask back, as `cargo xtask eval` does.
fn options() -> GenerateOptions {
    GenerateOptions {
        clarify: false,
        ..GenerateOptions::default()
    }
}

/// Generates once outside the timing, so a question that stopped producing SQL is reported
/// instead of silently timing an error path.
fn check(prepared: &Prepared, question: &str, opts: &GenerateOptions) {
    match generate(prepared, question, opts) {
        Ok(g) if g.sql.is_some() => {}
        Ok(g) => panic!("no SQL for {question:?}: {}", g.explanation),
        Err(e) => panic!("generation failed for {question:?}: {e}"),
    }
}

/// Times each question on its own, then the whole set per iteration. `sampling` is criterion's
/// sampling mode for the single questions: flat where some take milliseconds.
fn bench_questions<'q>(
    c: &mut Criterion,
    group: &str,
    prepared: &Prepared,
    singles: impl IntoIterator<Item = (&'q str, &'q str)>,
    all: &[&str],
    sampling: SamplingMode,
) {
    let opts = options();
    let mut g = c.benchmark_group(group);
    g.sampling_mode(sampling);
    for (name, question) in singles {
        check(prepared, question, &opts);
        g.bench_function(name, |b| {
            b.iter(|| generate(prepared, black_box(question), &opts))
        });
    }
    g.throughput(Throughput::Elements(all.len() as u64));
    // A whole set per iteration is slow (seconds on the synthetic schema): few, flat samples.
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.bench_function("all", |b| {
        b.iter(|| {
            for q in all {
                // Errors are answers too: the set is timed as asked, failures included.
                let _ = black_box(generate(prepared, black_box(q), &opts));
            }
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let f = fixtures();

    for &(construct, question) in DEMO_CONSTRUCTS {
        assert!(
            f.demo_questions
                .iter()
                .any(|q| q.question == question && q.construct.as_deref() == Some(construct)),
            "{question:?} is not a `{construct}` question of {}",
            corpora::DEMO_QUESTIONS
        );
    }
    let demo = Prepared::new(f.demo.clone());
    let demo_all: Vec<&str> = f
        .demo_questions
        .iter()
        .map(|q| q.question.as_str())
        .collect();
    bench_questions(
        c,
        "generate/demo",
        &demo,
        DEMO_CONSTRUCTS.iter().copied(),
        &demo_all,
        SamplingMode::Auto,
    );

    let synthetic_schema = Arc::new(f.synthetic.schema.clone());
    let synthetic = Prepared::new(synthetic_schema.clone());
    // The first question of each template that yields SQL stands for its kind.
    let opts = options();
    let singles: Vec<(&str, &str)> = KINDS
        .iter()
        .filter_map(|&kind| {
            f.synthetic
                .questions
                .iter()
                .filter(|q| q.kind == kind)
                .find(|q| generate(&synthetic, &q.text, &opts).is_ok_and(|g| g.sql.is_some()))
                .map(|q| (kind, q.text.as_str()))
        })
        .collect();
    let synthetic_all: Vec<&str> = f
        .synthetic
        .questions
        .iter()
        .map(|q| q.text.as_str())
        .collect();
    bench_questions(
        c,
        &format!("generate/synthetic-{SYNTHETIC_TABLES}"),
        &synthetic,
        singles,
        &synthetic_all,
        SamplingMode::Flat,
    );

    let mut g = c.benchmark_group("prepare");
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.bench_function("demo", |b| b.iter(|| Prepared::new(f.demo.clone())));
    g.bench_function(format!("synthetic-{SYNTHETIC_TABLES}"), |b| {
        b.iter(|| Prepared::new(synthetic_schema.clone()))
    });
    g.finish();
}

criterion_group! {
    name = generation;
    // Modest settings so the whole bench finishes in a few minutes on two cores.
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(generation);
