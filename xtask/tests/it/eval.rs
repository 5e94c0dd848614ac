//! `cargo xtask eval` on the shared benchmark sets: the oracle models must score exactly what
//! the data says (100% for `gold`, the known few hits for `select1`), skips and gold errors
//! must be counted, and runs must resume.
//!
//! The sets live outside the repository (`$CBI_DATASETS`, default `../shared/datasets` beside
//! the workspace); these tests fail loudly when they are missing.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn datasets() -> PathBuf {
    let dir = std::env::var_os("CBI_DATASETS").map_or_else(
        || {
            let beside = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets");
            if beside.is_dir() {
                beside
            } else {
                PathBuf::from("/work/shared/datasets")
            }
        },
        PathBuf::from,
    );
    assert!(
        dir.join("spider/dev.json").is_file(),
        "benchmark data not found at {} (set CBI_DATASETS)",
        dir.display()
    );
    dir
}

fn xtask(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Runs `eval` and returns its report.json.
fn eval(out: &Path, args: &[&str]) -> Value {
    let out_s = out.to_str().unwrap();
    let mut all = vec!["eval"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", out_s, "--jobs", "2"]);
    let o = xtask(&all, &[]);
    assert!(
        o.status.success(),
        "eval {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let run = args
        .windows(2)
        .find(|w| w[0] == "--run")
        .map(|w| w[1].to_string())
        .unwrap_or_else(|| {
            let model = args.windows(2).find(|w| w[0] == "--model").unwrap()[1];
            if args[0] == "jsonl" {
                let data = args.windows(2).find(|w| w[0] == "--data").unwrap()[1];
                let path = Path::new(data);
                let stem = path.file_stem().unwrap().to_str().unwrap();
                let folder = path
                    .parent()
                    .unwrap()
                    .file_name()
                    .unwrap()
                    .to_str()
                    .unwrap();
                format!("jsonl-{folder}-{stem}-{model}")
            } else {
                format!("{}-{model}", args[0])
            }
        });
    let text = std::fs::read_to_string(out.join(run).join("report.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn data(sub: &str) -> String {
    datasets().join(sub).to_str().unwrap().to_string()
}

/// (scored, test-suite hits, BIRD hits, skipped, gold errors)
fn counts(r: &Value) -> (u64, u64, u64, u64, u64) {
    (
        r["scored"].as_u64().unwrap(),
        r["accuracy"]["test_suite"].as_u64().unwrap(),
        r["accuracy"]["bird"].as_u64().unwrap(),
        r["skipped"].as_u64().unwrap(),
        r["gold_errors"].as_u64().unwrap(),
    )
}

#[test]
fn oracles_score_what_the_data_says() {
    let out = tempfile::tempdir().unwrap();
    // (format, folder, gold: (scored, skipped, gold errors), select1 hits: (test-suite, BIRD));
    // the select1 hits were recounted independently with Python's sqlite3.
    let cases = [
        ("spider", "spider", (972, 62, 0), (9, 9)),
        ("sparc", "sparc", (1143, 59, 1), (16, 18)),
        ("cosql", "cosql", (947, 59, 1), (24, 25)),
        ("geoquery", "geoquery", (872, 0, 5), (6, 6)),
    ];
    for (format, folder, (scored, skipped, gold_errors), (ts1, bird1)) in cases {
        let d = data(folder);
        let gold = eval(out.path(), &[format, "--data", &d, "--model", "gold"]);
        assert_eq!(
            counts(&gold),
            (scored, scored, scored, skipped, gold_errors),
            "{format} gold"
        );
        let s1 = eval(out.path(), &[format, "--data", &d, "--model", "select1"]);
        assert_eq!(
            counts(&s1),
            (scored, ts1, bird1, skipped, gold_errors),
            "{format} select1"
        );
        if format == "sparc" || format == "cosql" {
            let it = &gold["interactions"];
            assert_eq!(it["test_suite"], it["total"], "{format} interactions");
            assert_eq!(it["excluded_gold_error"], 1);
            assert_eq!(gold["by_turn"].as_array().unwrap().len(), 4);
            assert_eq!(s1["interactions"]["test_suite"], 0);
        }
        if format == "spider" {
            let levels: Vec<(&str, u64)> = gold["by_hardness"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| (s["key"].as_str().unwrap(), s["total"].as_u64().unwrap()))
                .collect();
            // the official levels of the 972 executable questions (wta_1's 62 left out)
            assert_eq!(levels.iter().map(|l| l.1).sum::<u64>(), 972);
            assert_eq!(levels.len(), 4);
            assert_eq!(gold["skipped_by_db"]["wta_1"], 62);
        }
        let run = out.path().join(format!("{format}-gold"));
        let lines = std::fs::read_to_string(run.join("predictions.jsonl")).unwrap();
        assert_eq!(lines.lines().count() as u64, scored + gold_errors);
        assert!(
            std::fs::read_to_string(run.join("report.md"))
                .unwrap()
                .contains("test-suite")
        );
    }
}

#[test]
fn bird_mini_dev_without_databases_is_all_skipped() {
    let out = tempfile::tempdir().unwrap();
    let r = eval(
        out.path(),
        &["bird", "--data", &data("bird-minidev"), "--model", "gold"],
    );
    assert_eq!(r["questions"], 500);
    assert_eq!(r["skipped"], 500);
    assert_eq!(r["answered"], 0);
    assert_eq!(r["scored"], 0);
    assert_eq!(r["skipped_by_db"]["formula_1"], 66);
}

#[test]
fn an_interrupted_run_continues_and_a_different_one_is_refused() {
    let out = tempfile::tempdir().unwrap();
    let d = data("sparc");
    let args = |limit: &'static str| {
        vec![
            "sparc",
            "--data",
            d.as_str(),
            "--model",
            "gold",
            "--db",
            "concert_singer",
            "--limit",
            limit,
            "--run",
            "r",
        ]
    };
    let first = eval(out.path(), &args("5"));
    let after_first = first["answered"].as_u64().unwrap();
    assert!(after_first > 5, "interactions have several turns");
    // a crash mid-line, then the same command with a larger selection
    let preds = out.path().join("r/predictions.jsonl");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&preds)
        .unwrap();
    f.write_all(b"{\"id\":\"99/1\",\"unit\":\"9").unwrap();
    drop(f);
    let second = eval(out.path(), &args("10"));
    assert_eq!(second["resumed_records"].as_u64().unwrap(), after_first);
    let answered = second["answered"].as_u64().unwrap();
    assert!(answered > after_first);
    assert_eq!(second["accuracy"]["test_suite"], second["scored"]);
    let text = std::fs::read_to_string(&preds).unwrap();
    assert_eq!(
        text.lines().count() as u64,
        answered,
        "no duplicate, no torn line"
    );
    // the same folder for another model is refused…
    let mut other = args("10");
    other[4] = "select1";
    let o = xtask(
        &[
            &["eval"],
            &other[..],
            &["--out", out.path().to_str().unwrap()],
        ]
        .concat(),
        &[],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--restart"));
    // …unless asked to start over
    other.push("--restart");
    let r = eval(out.path(), &other);
    assert_eq!(r["resumed_records"], 0);
    assert_eq!(r["model"], "select1");
}

#[test]
fn jsonl_questions_with_several_accepted_answers() {
    let out = tempfile::tempdir().unwrap();
    let spider_db = datasets().join("spider/database");
    let file = out.path().join("mine.jsonl");
    let lines = [
        // accepted answers separated by `;`; the first one is what `gold` answers
        r#"{"id":"a","question":"How many singers?","db_id":"concert_singer","gold_sql":"SELECT count(*) FROM singer; SELECT count(Singer_ID) FROM singer"}"#,
        r#"{"id":"b","question":"Oldest singer?","db_id":"concert_singer","evidence":"age is in years","gold_sql":["SELECT name FROM singer ORDER BY age DESC LIMIT 1"]}"#,
        r#"{"id":"c","question":"Broken gold","db_id":"concert_singer","gold_sql":"SELECT nothing FROM nowhere"}"#,
        r#"{"id":"d","question":"Missing database","db_id":"no_such_db","gold_sql":"SELECT 1"}"#,
    ];
    std::fs::write(&file, lines.join("\n")).unwrap();
    let r = eval(
        out.path(),
        &[
            "jsonl",
            "--data",
            file.to_str().unwrap(),
            "--db-dir",
            spider_db.to_str().unwrap(),
            "--model",
            "gold",
        ],
    );
    assert_eq!(counts(&r), (2, 2, 2, 1, 1));
    assert_eq!(r["gold_error_list"][0]["id"], "c");
    assert_eq!(r["skipped_by_db"]["no_such_db"], 1);
}

/// Serves one canned HTTP response per connection, forever.
fn serve(body: Vec<u8>, status: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    format!("http://{addr}/dev.zip")
}

#[test]
fn bird_download_url_can_be_overridden_and_a_wrong_file_is_refused() {
    let cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let url = serve(b"not the BIRD archive".to_vec(), "200 OK");
    let o = xtask(
        &[
            "eval",
            "bird",
            "--model",
            "gold",
            "--out",
            out.path().to_str().unwrap(),
        ],
        &[
            ("CBI_BIRD_URL", url.as_str()),
            ("CBI_CACHE_DIR", cache.path().to_str().unwrap()),
        ],
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("size mismatch"), "{err}");
    assert!(!cache.path().join("bird/dev.zip").exists());
    assert!(!cache.path().join("bird/dev.zip.part").exists());
    // --data never touches the network: the same bad URL is not even asked
    let unreachable = xtask(
        &[
            "eval",
            "bird",
            "--data",
            &data("bird-minidev"),
            "--model",
            "gold",
            "--out",
            out.path().to_str().unwrap(),
        ],
        &[("CBI_BIRD_URL", "http://127.0.0.1:9/dev.zip")],
    );
    assert!(unreachable.status.success());
}
