//! How long schema intelligence takes on a real database: introspection (catalog plus
//! inference) and augmentation (data profiling and the value index), each timed on its own.
//!
//! ```text
//! cargo run --release -p cbi-schema --example introspect_timing -- /tmp/cbi-large.sqlite
//! cargo run --release -p cbi-schema --example introspect_timing -- postgres://postgres@127.0.0.1/db
//! ```
//!
//! Give `--runs N` after the connection string to repeat both steps on the same connection
//! (the later runs show the warm-cache figures).

use std::process::ExitCode;
use std::time::Instant;

use cbi_db::ConnectOptions;
use cbi_schema::{SchemaAugmenter, SchemaIntrospector};
use cbi_types::SemanticModel;

fn usage() -> ExitCode {
    eprintln!("usage: introspect_timing CONNECTION_STRING [--runs N]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (url, runs) = match args.as_slice() {
        [url] => (url.clone(), 1),
        [url, flag, n] if flag == "--runs" => match n.parse::<usize>() {
            Ok(n) if n > 0 => (url.clone(), n),
            _ => return usage(),
        },
        _ => return usage(),
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(&url, runs)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(url: &str, runs: usize) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let conn = cbi_db::connect(url, &ConnectOptions::default()).await?;
    println!(
        "database `{}` ({}), connected in {:.1} ms",
        conn.database_name(),
        conn.dialect(),
        ms(started)
    );
    let augmenter = SchemaAugmenter::default();
    for run in 1..=runs {
        let t = Instant::now();
        let schema = SchemaIntrospector::new(conn.clone()).introspect().await?;
        let introspect_ms = ms(t);
        let (tables, columns) = (schema.tables.len(), schema.column_count());
        let declared = schema.relationships.iter().filter(|r| !r.inferred).count();
        let inferred = schema.relationships.len() - declared;
        let t = Instant::now();
        let aug = augmenter
            .augment(conn.as_ref(), schema, SemanticModel::default())
            .await?;
        let augment_ms = ms(t);
        // Columns that got a distinct count (text) or a range (numbers, dates); a text column
        // with more distinct values than the index takes (e-mail addresses) gets neither.
        let profiled = aug
            .tables
            .iter()
            .flat_map(|t| &t.columns)
            .filter(|c| c.distinct_count.is_some() || c.min.is_some())
            .count();
        println!(
            "run {run}: introspect {introspect_ms:.1} ms, augment {augment_ms:.1} ms; \
             {tables} tables, {columns} columns ({profiled} profiled), \
             {declared} declared + {inferred} inferred relationships, \
             value index {} values (longest {} words)",
            aug.value_index.len(),
            aug.value_index.max_words(),
        );
    }
    Ok(())
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}
