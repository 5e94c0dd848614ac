//! `cargo xtask load`: answers per second and latency of a running `cbi serve`, from many
//! concurrent clients on the same machine.
//!
//! Loopback only (the URL must name 127.0.0.1, ::1 or localhost), bounded both by a duration
//! and a request count. Each client sends `POST /v1/ask` questions one after another, taken in
//! turn from the demo's question set (`fixtures/demo/questions.jsonl`), each a new
//! conversation (the server ends the caller's least recently used one when it must make
//! room). Every response counts, errors included: throughput is answers with status 200, and
//! the latency percentiles are over every request.
//!
//! `--sessions N` measures memory instead: it holds N conversations open (one answered
//! question each) and reads the server's resident memory from `/proc/<pid>/status`
//! (`--pid`). The server must allow that many sessions for one user
//! (`session.max_sessions_per_user`).
//!
//! Writes `target/bench/load.json` and prints a summary.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde::Serialize;

/// Arguments of `cargo xtask load`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Start the server first, then measure it:
  cbi serve --addr 127.0.0.1:8080 &
  cargo run --release -p xtask -- load --url http://127.0.0.1:8080 --clients 64 --seconds 20")]
pub struct LoadArgs {
    /// The server (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=1024))]
    clients: u32,
    /// Stop after this many seconds.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=600))]
    seconds: u64,
    /// Stop after this many requests in all.
    #[arg(long, default_value_t = 1_000_000)]
    max_requests: u64,
    /// Requests sent first and not counted (warms the schema and the generator).
    #[arg(long, default_value_t = 200)]
    warmup: u64,
    /// Bearer token, when the server has users.
    #[arg(long, env = "CBI_TOKEN")]
    token: Option<String>,
    /// Questions, one JSON object with a `question` per line [default: the demo's set].
    #[arg(long, value_name = "FILE")]
    questions: Option<PathBuf>,
    /// Measure memory with this many open conversations instead of throughput.
    #[arg(long, value_name = "N")]
    sessions: Option<u32>,
    /// The server's process id, for its resident memory (with --sessions).
    #[arg(long)]
    pid: Option<u32>,
}

#[derive(Debug, Serialize)]
struct Report {
    url: String,
    clients: u32,
    seconds: f64,
    requests: u64,
    answered: u64,
    failed: u64,
    answers_per_second: f64,
    /// Responses by HTTP status (0: none).
    statuses: std::collections::BTreeMap<u16, u64>,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    questions: usize,
}

pub fn run(args: LoadArgs) -> Result<()> {
    let url = reqwest::Url::parse(&args.url).context("--url")?;
    match url.host_str() {
        Some("127.0.0.1" | "localhost" | "[::1]" | "::1") => {}
        other => bail!("load tests go to loopback only; --url names {other:?}"),
    }
    let root = workspace_root();
    let questions = read_questions(
        &args
            .questions
            .clone()
            .unwrap_or_else(|| root.join("fixtures/demo/questions.jsonl")),
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match args.sessions {
            Some(n) => sessions(&args, n, &questions).await,
            None => throughput(&args, questions, &root).await,
        }
    })
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

fn read_questions(path: &std::path::Path) -> Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line)?;
        if let Some(q) = v["question"].as_str() {
            out.push(q.to_string());
        }
    }
    if out.is_empty() {
        bail!("no questions in {}", path.display());
    }
    Ok(out)
}

fn client(token: Option<&str>) -> Result<reqwest::Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(t) = token {
        headers.insert(
            reqwest::header::AUTHORIZATION,
            reqwest::header::HeaderValue::from_str(&format!("Bearer {t}"))?,
        );
    }
    Ok(reqwest::Client::builder()
        .default_headers(headers)
        .pool_max_idle_per_host(1024)
        .build()?)
}

/// The status of one ask (0 when no response came), its body read in full: an answer is not
/// received until its rows are.
async fn ask(c: &reqwest::Client, url: &str, question: &str) -> u16 {
    match c
        .post(url)
        .json(&serde_json::json!({ "question": question }))
        .send()
        .await
    {
        Ok(r) => {
            let status = r.status().as_u16();
            if r.bytes().await.is_ok() { status } else { 0 }
        }
        Err(_) => 0,
    }
}

async fn throughput(args: &LoadArgs, questions: Vec<String>, root: &std::path::Path) -> Result<()> {
    let c = client(args.token.as_deref())?;
    let ask_url = format!("{}/v1/ask", args.url.trim_end_matches('/'));
    let questions = Arc::new(questions);
    for i in 0..args.warmup {
        ask(&c, &ask_url, &questions[i as usize % questions.len()]).await;
    }
    let next = Arc::new(AtomicUsize::new(0));
    let sent = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.clients {
        let (c, url, qs, next, sent) = (
            c.clone(),
            ask_url.clone(),
            questions.clone(),
            next.clone(),
            sent.clone(),
        );
        let max = args.max_requests;
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut statuses = Vec::new();
            while Instant::now() < deadline && sent.fetch_add(1, Ordering::Relaxed) < max {
                let q = &qs[next.fetch_add(1, Ordering::Relaxed) % qs.len()];
                let s = Instant::now();
                statuses.push(ask(&c, &url, q).await);
                lat.push(s.elapsed());
            }
            (statuses, lat)
        }));
    }
    let mut lat = Vec::new();
    let mut statuses = std::collections::BTreeMap::new();
    for t in tasks {
        let (s, l) = t.await?;
        for code in s {
            *statuses.entry(code).or_insert(0u64) += 1;
        }
        lat.extend(l);
    }
    let answered = statuses.get(&200).copied().unwrap_or(0);
    let elapsed = t0.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let report = Report {
        url: args.url.clone(),
        clients: args.clients,
        seconds: elapsed,
        requests: lat.len() as u64,
        answered,
        failed: lat.len() as u64 - answered,
        answers_per_second: answered as f64 / elapsed,
        statuses,
        p50_ms: pct(0.50),
        p90_ms: pct(0.90),
        p99_ms: pct(0.99),
        max_ms: lat.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        questions: questions.len(),
    };
    let out = root.join("target/bench");
    std::fs::create_dir_all(&out)?;
    std::fs::write(
        out.join("load.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    println!(
        "{} requests from {} clients in {:.1} s: {:.0} answers/s ({} failed: {:?}); latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.1} ms",
        report.requests,
        report.clients,
        report.seconds,
        report.answers_per_second,
        report.failed,
        report
            .statuses
            .iter()
            .filter(|(k, _)| **k != 200)
            .collect::<Vec<_>>(),
        report.p50_ms,
        report.p90_ms,
        report.p99_ms,
        report.max_ms
    );
    Ok(())
}

async fn sessions(args: &LoadArgs, n: u32, questions: &[String]) -> Result<()> {
    let Some(pid) = args.pid else {
        bail!("--sessions needs --pid, the server's process id");
    };
    let rss = || -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .context("no VmRSS")
    };
    let c = client(args.token.as_deref())?;
    let ask_url = format!("{}/v1/ask", args.url.trim_end_matches('/'));
    let list_url = format!("{}/v1/sessions", args.url.trim_end_matches('/'));
    let before = rss()?;
    let mut ok = 0;
    for i in 0..n {
        if ask(&c, &ask_url, &questions[i as usize % questions.len()]).await == 200 {
            ok += 1;
        }
    }
    let listed: serde_json::Value = c.get(&list_url).send().await?.json().await?;
    let open = listed["sessions"].as_array().map_or(0, Vec::len);
    let after = rss()?;
    println!(
        "{ok} of {n} questions answered; {open} sessions open; server resident memory {:.1} MiB before, {:.1} MiB after ({:.1} KiB per session)",
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        (after.saturating_sub(before)) as f64 / f64::from(n.max(1))
    );
    if open < n as usize {
        println!("note: fewer sessions open than asked for; raise session.max_sessions_per_user");
    }
    Ok(())
}
