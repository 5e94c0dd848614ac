//! How fast a GGUF model answers in process, and what the KV-cache prefix reuse saves.
//!
//! ```text
//! cargo run --release -p cbi-models --features local --example local_bench -- <model.gguf> [threads]
//! ```
//!
//! Loads the model, then asks questions that share one system prompt (a schema of about 600
//! tokens): the first evaluates the whole prompt, the others only what follows the schema; the
//! third is constrained by a GBNF grammar. The last two sample the four candidates of a vote
//! (temperature 0.7): as four requests one after another, then as one request for four choices,
//! which decodes them side by side. Prints prompt and generation speeds
//! and the time of each question, then the same figures as one JSON line. A benchmark, not a
//! test: it needs a real model file, which CI does not have.

use std::time::Instant;

use cbi_models::{LocalGguf, LocalOptions, LocalStats};
use cbi_types::{ChatMessage, CompletionRequest, LanguageModel};

const SCHEMA: &str = "You translate questions into one SQLite SELECT statement for this database. \
Answer with the SQL only, no explanation.

CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT UNIQUE,
  country TEXT NOT NULL,        -- ISO code, e.g. 'DE', 'FR', 'US'
  segment TEXT,                 -- 'consumer', 'corporate' or 'home office'
  signed_up_on DATE NOT NULL
);
CREATE TABLE regions (
  code TEXT PRIMARY KEY,        -- 'north', 'south', 'east', 'west'
  name TEXT NOT NULL,
  manager TEXT NOT NULL
);
CREATE TABLE stores (
  id INTEGER PRIMARY KEY,
  city TEXT NOT NULL,
  region_code TEXT NOT NULL REFERENCES regions(code),
  opened_on DATE,
  floor_area_m2 REAL
);
CREATE TABLE products (
  id INTEGER PRIMARY KEY,
  sku TEXT UNIQUE NOT NULL,
  name TEXT NOT NULL,
  category TEXT NOT NULL,       -- 'furniture', 'office supplies', 'technology'
  unit_price REAL NOT NULL,     -- in euros
  discontinued INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  store_id INTEGER REFERENCES stores(id),   -- NULL for online orders
  ordered_at TIMESTAMP NOT NULL,
  status TEXT NOT NULL,         -- 'placed', 'shipped', 'delivered', 'returned'
  channel TEXT NOT NULL         -- 'store' or 'online'
);
CREATE TABLE order_items (
  order_id INTEGER NOT NULL REFERENCES orders(id),
  product_id INTEGER NOT NULL REFERENCES products(id),
  quantity INTEGER NOT NULL,
  unit_price REAL NOT NULL,     -- price paid, in euros, after discount
  discount REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (order_id, product_id)
);
CREATE TABLE returns (
  order_id INTEGER NOT NULL REFERENCES orders(id),
  product_id INTEGER NOT NULL REFERENCES products(id),
  returned_on DATE NOT NULL,
  reason TEXT
);
CREATE TABLE employees (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  store_id INTEGER REFERENCES stores(id),
  role TEXT NOT NULL,           -- 'cashier', 'manager', 'stock'
  hired_on DATE NOT NULL,
  salary REAL
);
CREATE TABLE targets (
  region_code TEXT NOT NULL REFERENCES regions(code),
  year INTEGER NOT NULL,
  revenue_target REAL NOT NULL,
  PRIMARY KEY (region_code, year)
);
Revenue is SUM(order_items.quantity * order_items.unit_price). Returned orders do not count.";

const GRAMMAR: &str = r#"root ::= "SELECT " [^;]+ ";""#;

struct Run {
    label: &'static str,
    seconds: f64,
    prompt_tokens: u64,
    reused: u64,
    evaluated: u64,
    generated: u64,
    prompt_micros: u64,
    generation_micros: u64,
    text: String,
}

fn per_second(tokens: u64, micros: u64) -> f64 {
    if micros == 0 {
        0.0
    } else {
        tokens as f64 * 1e6 / micros as f64
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: local_bench <model.gguf> [threads]")?;
    let threads = args.next().map(|t| t.parse()).transpose()?;
    let options = LocalOptions {
        threads,
        context_size: 4096,
        ..LocalOptions::default()
    };
    let started = Instant::now();
    let model = LocalGguf::load(&path, options)?;
    let load_seconds = started.elapsed().as_secs_f64();
    println!("{}: loaded in {load_seconds:.2} s", model.name());

    // label, question, grammar, temperature, choices per request, requests
    type Question = (
        &'static str,
        &'static str,
        Option<&'static str>,
        f32,
        u32,
        u32,
    );
    let vote = "Which store had the most online orders last year?";
    let questions: [Question; 5] = [
        (
            "cold",
            "What was the revenue per region in 2024?",
            None,
            0.0,
            1,
            1,
        ),
        (
            "warm",
            "Which five products were returned most often?",
            None,
            0.0,
            1,
            1,
        ),
        (
            "warm+grammar",
            "How many customers signed up in each country?",
            Some(GRAMMAR),
            0.0,
            1,
            1,
        ),
        ("vote 4, apart", vote, None, 0.7, 1, 4),
        ("vote 4, n=4", vote, None, 0.7, 4, 1),
    ];
    let mut runs = Vec::new();
    let mut before: LocalStats = model.stats();
    for (label, question, grammar, temperature, n, requests) in questions {
        let request = CompletionRequest {
            messages: vec![ChatMessage::system(SCHEMA), ChatMessage::user(question)],
            max_tokens: Some(64),
            temperature: Some(temperature),
            n: Some(n),
            grammar: grammar.map(str::to_owned),
            ..CompletionRequest::default()
        };
        let started = Instant::now();
        let mut completion = model.complete(&request).await?;
        for _ in 1..requests {
            completion = model.complete(&request).await?;
        }
        let seconds = started.elapsed().as_secs_f64();
        let after = model.stats();
        runs.push(Run {
            label,
            seconds,
            prompt_tokens: after.prompt_tokens - before.prompt_tokens,
            reused: after.reused_tokens - before.reused_tokens,
            evaluated: after.evaluated_tokens - before.evaluated_tokens,
            generated: after.generated_tokens - before.generated_tokens,
            prompt_micros: after.prompt_micros - before.prompt_micros,
            generation_micros: after.generation_micros - before.generation_micros,
            text: completion.text,
        });
        before = after;
    }

    println!(
        "{:<14} {:>7} {:>7} {:>7} {:>9} {:>9} {:>11} {:>9}",
        "question", "prompt", "reused", "eval'd", "prompt/s", "generated", "generated/s", "total s"
    );
    for r in &runs {
        println!(
            "{:<14} {:>7} {:>7} {:>7} {:>9.1} {:>9} {:>11.1} {:>9.2}",
            r.label,
            r.prompt_tokens,
            r.reused,
            r.evaluated,
            per_second(r.evaluated, r.prompt_micros),
            r.generated,
            per_second(r.generated, r.generation_micros),
            r.seconds
        );
    }
    for r in &runs {
        println!("{}: {}", r.label, r.text.trim().replace('\n', " "));
    }
    let json: Vec<serde_json::Value> = runs
        .iter()
        .map(|r| {
            serde_json::json!({
                "question": r.label,
                "seconds": r.seconds,
                "prompt_tokens": r.prompt_tokens,
                "reused_tokens": r.reused,
                "evaluated_tokens": r.evaluated,
                "prompt_tokens_per_second": per_second(r.evaluated, r.prompt_micros),
                "generated_tokens": r.generated,
                "generated_tokens_per_second": per_second(r.generated, r.generation_micros),
            })
        })
        .collect();
    println!(
        "{}",
        serde_json::json!({"model": model.name(), "load_seconds": load_seconds, "runs": json})
    );
    Ok(())
}
