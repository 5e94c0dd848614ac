//! A check of `MiniLm` on the real all-MiniLM-L6-v2: speed at batch 1 and 32, and whether
//! paraphrases land closer than unrelated questions.
//!
//! ```text
//! cargo xtask models --only minilm
//! cargo run --release -p cbi-models --features minilm --example minilm_bench -- ~/.cache/cbi/models/all-MiniLM-L6-v2
//! ```

use std::time::Instant;

use cbi_models::MiniLm;

/// Questions a person might ask of a sales database, varied in length.
const QUESTIONS: &[&str] = &[
    "total sales by region",
    "revenue per area",
    "how many orders were placed last month",
    "which customers spent the most in 2023",
    "average order value by product category and quarter",
    "number of employees hired in 2020",
    "top 10 products by units sold in the north region",
    "show me the monthly trend of returns for electronics",
];

/// (a, b, paraphrase?)
const PAIRS: &[(&str, &str, bool)] = &[
    ("total sales by region", "revenue per area", true),
    (
        "how many customers do we have",
        "count of distinct clients",
        true,
    ),
    (
        "top 5 products by revenue",
        "best selling items ranked by sales",
        true,
    ),
    (
        "total sales by region",
        "number of employees hired in 2020",
        false,
    ),
    (
        "how many customers do we have",
        "average delivery time per warehouse",
        false,
    ),
    (
        "top 5 products by revenue",
        "list the employees in the marketing department",
        false,
    ),
];

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    // the vectors have unit length
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(dir) = std::env::args().nth(1) else {
        return Err(
            "usage: minilm_bench <folder with model.safetensors, tokenizer.json, config.json>"
                .into(),
        );
    };
    let started = Instant::now();
    let model = MiniLm::load(&dir)?;
    println!(
        "loaded {dir} in {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );

    let one_each: Vec<Vec<String>> = QUESTIONS.iter().map(|q| vec![q.to_string()]).collect();
    let batch: Vec<String> = QUESTIONS
        .iter()
        .cycle()
        .take(32)
        .map(|q| q.to_string())
        .collect();
    // warm up the allocator and the kernels
    model.embed_blocking(&batch)?;

    let rounds = 10;
    let t = Instant::now();
    for _ in 0..rounds {
        for q in &one_each {
            model.embed_blocking(q)?;
        }
    }
    let per_one = t.elapsed().as_secs_f64() * 1e3 / (rounds * one_each.len()) as f64;
    let t = Instant::now();
    for _ in 0..rounds {
        model.embed_blocking(&batch)?;
    }
    let per_batched = t.elapsed().as_secs_f64() * 1e3 / (rounds * batch.len()) as f64;
    println!("batch 1:  {per_one:.2} ms/sentence");
    println!("batch 32: {per_batched:.2} ms/sentence");

    println!("cosine:");
    let (mut close, mut far) = (Vec::new(), Vec::new());
    for (a, b, paraphrase) in PAIRS {
        let v = model.embed_blocking(&[a.to_string(), b.to_string()])?;
        let c = cosine(&v[0], &v[1]);
        let kind = if *paraphrase { "same " } else { "other" };
        println!("  {c:.3}  {kind} {a:?} / {b:?}");
        if *paraphrase { &mut close } else { &mut far }.push(c);
    }
    let lowest_close = close.iter().copied().fold(f32::INFINITY, f32::min);
    let highest_far = far.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    println!(
        "lowest paraphrase {lowest_close:.3} vs highest unrelated {highest_far:.3}: {}",
        if lowest_close > highest_far {
            "separated"
        } else {
            "NOT separated"
        }
    );
    Ok(())
}
