//! The hostile corpus (`fixtures/hostile/corpus.yaml`): hundreds of attacks through every door
//! cbi has — SQL typed into `cbi sql`, questions, and a semantic file's verified queries,
//! filters and measures — on SQLite, PostgreSQL and MariaDB, connected as a superuser (the
//! worst case a user can hand us).
//!
//! Each input must be refused or run harmlessly, and the proof is taken from outside: a
//! separate admin connection compares the database before and after the whole corpus — rows,
//! tables, sequences, statistics counters and their reset times, BRIN summaries, locks,
//! settings, files — and every input must finish within its time limit plus a small margin,
//! with the process's peak memory bounded. A count of outcomes by category and backend is
//! printed (`cargo test -p cbi-engine --test it hostile -- --nocapture`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cbi_engine::ConversationalBiEngine;
use cbi_testkit::{ScratchDb, Server};
use cbi_types::{BusinessTerm, Config, SemanticModel, TermTarget, VerifiedQuery};
use serde::Deserialize;

/// The time limit every hostile statement runs under.
const LIMIT: Duration = Duration::from_millis(500);
/// How far past [`LIMIT`] an input may take: the server connectors wait one second past the
/// limit before cancelling from the client, and a question is parsed, planned and validated
/// around its statement.
const MARGIN: Duration = Duration::from_millis(2500);
/// The process's peak resident memory after the corpus (all tests of this binary included).
const MEMORY_BOUND: u64 = 2 << 30;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    category: String,
    surface: Surface,
    #[serde(default)]
    backends: Option<Vec<Backend>>,
    expect: Expect,
    input: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Surface {
    Sql,
    Ask,
    Verified,
    TermFilter,
    Measure,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Backend {
    Sqlite,
    Postgres,
    Mysql,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Expect {
    Refused,
    Any,
}

fn corpus_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/hostile/corpus.yaml")
}

fn corpus() -> Vec<Entry> {
    let path = corpus_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let entries: Vec<Entry> =
        serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let ids: BTreeSet<&str> = entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), entries.len(), "corpus ids repeat");
    entries
}

#[test]
fn the_corpus_is_large_and_covers_every_door() {
    let entries = corpus();
    assert!(entries.len() >= 500, "{} entries", entries.len());
    let by_surface = |s: &[Surface]| entries.iter().filter(|e| s.contains(&e.surface)).count();
    assert!(by_surface(&[Surface::Sql]) >= 300);
    assert!(by_surface(&[Surface::Ask]) >= 50);
    assert!(by_surface(&[Surface::Verified, Surface::TermFilter, Surface::Measure]) >= 50);
    for backend in [Backend::Sqlite, Backend::Postgres, Backend::Mysql] {
        let n = entries.iter().filter(|e| applies(e, backend)).count();
        assert!(n >= 200, "{backend:?}: {n} entries");
    }
}

fn applies(e: &Entry, backend: Backend) -> bool {
    e.backends.as_ref().is_none_or(|b| b.contains(&backend))
}

/// How one input ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// The validator, the semantic check or the guard said no.
    Refused,
    /// It ran into a limit: time, bytes.
    Limited,
    /// The database rejected it (an error, nothing done).
    Failed,
    /// It ran and returned rows, or the question was answered or asked back.
    Ran,
}

struct Run {
    outcome: Outcome,
    elapsed: Duration,
    detail: String,
}

fn classify(e: &cbi_engine::Error) -> Outcome {
    use cbi_engine::Error as E;
    use cbi_types::Error as T;
    match e {
        E::Database(T::Timeout(_) | T::ResultTooLarge { .. }) => Outcome::Limited,
        E::Database(T::Query { .. }) => Outcome::Failed,
        _ => Outcome::Refused,
    }
}

/// Runs the corpus against one attached database; returns a line per failure and the counts.
async fn run_corpus(
    url: &str,
    backend: Backend,
) -> (Vec<String>, BTreeMap<(String, Outcome), usize>) {
    let mut config = Config::default();
    config.performance.query_timeout_secs = LIMIT.as_secs_f64();
    let engine = Arc::new(crate::common::engine_with(config, false));
    let conn = cbi_db::connect(url, &cbi_db::ConnectOptions::default())
        .await
        .unwrap();
    engine.attach_connection("plain", conn.clone(), SemanticModel::default());
    let mut failures = Vec::new();
    let mut counts: BTreeMap<(String, Outcome), usize> = BTreeMap::new();
    for (n, entry) in corpus().iter().filter(|e| applies(e, backend)).enumerate() {
        let started = Instant::now();
        let run = run_one(&engine, &conn, n, entry).await;
        let elapsed = started.elapsed().max(run.elapsed);
        if elapsed > LIMIT + MARGIN {
            failures.push(format!(
                "{}: took {elapsed:?}, past {LIMIT:?} + {MARGIN:?} ({})",
                entry.id, run.detail
            ));
        }
        if entry.expect == Expect::Refused && run.outcome == Outcome::Ran {
            failures.push(format!(
                "{}: ran, should be refused: {}",
                entry.id, run.detail
            ));
        }
        *counts
            .entry((entry.category.clone(), run.outcome))
            .or_default() += 1;
    }
    (failures, counts)
}

async fn run_one(
    engine: &ConversationalBiEngine,
    conn: &Arc<dyn cbi_types::Connection>,
    n: usize,
    entry: &Entry,
) -> Run {
    let started = Instant::now();
    let done = |outcome, detail: String| Run {
        outcome,
        elapsed: started.elapsed(),
        detail,
    };
    match entry.surface {
        Surface::Sql => match engine.run_sql("plain", &entry.input).await {
            Ok((sql, r)) => done(Outcome::Ran, format!("{} rows from {sql}", r.rows.len())),
            Err(e) => done(classify(&e), e.to_string()),
        },
        Surface::Ask => ask(engine, "plain", &entry.input, started).await,
        Surface::Verified | Surface::TermFilter | Surface::Measure => {
            let (model, question) = semantic_attack(entry);
            let key = format!("semantic-{n}");
            engine.attach_connection(&key, conn.clone(), model);
            ask(engine, &key, &question, started).await
        }
    }
}

async fn ask(engine: &ConversationalBiEngine, key: &str, question: &str, started: Instant) -> Run {
    let session = match engine.create_session_for("hostile", key).await {
        Ok(s) => s,
        Err(e) => {
            return Run {
                outcome: classify(&e),
                elapsed: started.elapsed(),
                detail: e.to_string(),
            };
        }
    };
    let out = engine.process_query(session, question).await;
    let _ = engine.sessions().delete(session).await;
    match out {
        Ok(r) if r.result.is_some() => Run {
            outcome: Outcome::Ran,
            elapsed: started.elapsed(),
            detail: r.sql.unwrap_or_default(),
        },
        Ok(r) => Run {
            outcome: Outcome::Refused,
            elapsed: started.elapsed(),
            detail: format!("asked back: {}", r.explanation),
        },
        Err(e) => Run {
            outcome: classify(&e),
            elapsed: started.elapsed(),
            detail: e.to_string(),
        },
    }
}

/// A semantic file carrying the attack, and the question that reaches it.
fn semantic_attack(entry: &Entry) -> (SemanticModel, String) {
    let mut model = SemanticModel::default();
    let question = match entry.surface {
        Surface::Verified => {
            let q = "What did the auditors verify last week?".to_string();
            model.verified_queries.push(VerifiedQuery {
                question: q.clone(),
                sql: entry.input.clone(),
                description: None,
            });
            q
        }
        Surface::TermFilter => {
            model.business_terms.push(BusinessTerm {
                name: "flagged".into(),
                synonyms: Vec::new(),
                description: None,
                target: TermTarget::Filter(entry.input.clone()),
            });
            "How many orders are flagged?".to_string()
        }
        _ => {
            model.business_terms.push(BusinessTerm {
                name: "hostile total".into(),
                synonyms: Vec::new(),
                description: None,
                target: TermTarget::Measure(entry.input.clone()),
            });
            "What is the hostile total by region?".to_string()
        }
    };
    (model, question)
}

fn report(backend: Backend, counts: &BTreeMap<(String, Outcome), usize>) {
    let mut by_cat: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
    for ((cat, outcome), n) in counts {
        let i = match outcome {
            Outcome::Refused => 0,
            Outcome::Limited => 1,
            Outcome::Failed => 2,
            Outcome::Ran => 3,
        };
        by_cat.entry(cat.as_str()).or_default()[i] += n;
    }
    let mut out = format!(
        "hostile corpus on {backend:?}\n{:<16} {:>8} {:>8} {:>8} {:>8}\n",
        "category", "refused", "limited", "db-error", "ran"
    );
    let mut total = [0usize; 4];
    for (cat, c) in &by_cat {
        out.push_str(&format!(
            "{cat:<16} {:>8} {:>8} {:>8} {:>8}\n",
            c[0], c[1], c[2], c[3]
        ));
        for i in 0..4 {
            total[i] += c[i];
        }
    }
    out.push_str(&format!(
        "{:<16} {:>8} {:>8} {:>8} {:>8}\n",
        "total", total[0], total[1], total[2], total[3]
    ));
    eprintln!("{out}");
}

/// Peak resident memory of this process, from /proc.
fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// No file the corpus tries to write appeared.
fn no_written_files() -> Vec<String> {
    std::fs::read_dir("/tmp")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("cbi_hostile"))
                .collect()
        })
        .unwrap_or_default()
}

fn finish(backend: Backend, failures: Vec<String>, changed: Vec<String>) {
    let files = no_written_files();
    let rss = peak_rss();
    let mut all = failures;
    all.extend(changed.into_iter().map(|c| format!("state changed: {c}")));
    all.extend(files.into_iter().map(|f| format!("file written: /tmp/{f}")));
    if rss > MEMORY_BOUND {
        all.push(format!("peak memory {} MiB", rss >> 20));
    }
    assert!(
        all.is_empty(),
        "{backend:?}: {} problems:\n{}",
        all.len(),
        all.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// SQLite

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_corpus_on_sqlite() {
    let demo = crate::common::Demo::of(cbi_demo::DemoSize::TINY);
    let dir = demo.path.parent().unwrap().to_path_buf();
    let snapshot = || {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let name = e.file_name().to_string_lossy().into_owned();
                (name, std::fs::read(e.path()).unwrap_or_default())
            })
            .collect();
        files.sort();
        files
    };
    let before = snapshot();
    let (failures, counts) = run_corpus(&demo.path.to_string_lossy(), Backend::Sqlite).await;
    let after = snapshot();
    let mut changed = Vec::new();
    if before != after {
        let names = |s: &[(String, Vec<u8>)]| s.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
        changed.push(format!(
            "the database's directory: {:?} → {:?} (or a file's bytes)",
            names(&before),
            names(&after)
        ));
    }
    report(Backend::Sqlite, &counts);
    finish(Backend::Sqlite, failures, changed);
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

/// Objects the corpus attacks beyond the demo's tables: a sequence, and a BRIN index whose
/// ranges are left unsummarized (autovacuum off for its table) so that a summary taken by an
/// attack would show.
const PG_EXTRAS: &[&str] = &[
    "CREATE SEQUENCE hostile_seq",
    "SELECT nextval('hostile_seq')",
    "CREATE TABLE hostile_seq_probe (id integer, d date) WITH (autovacuum_enabled = false)",
    "CREATE INDEX hostile_brin ON hostile_seq_probe USING brin (d) \
     WITH (pages_per_range = 1, autosummarize = off)",
    "INSERT INTO hostile_seq_probe SELECT g, date '2020-01-01' + g FROM generate_series(1, 5000) g",
    "SELECT count(*) FROM orders",
];

async fn pg_admin(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
}

/// Everything an attack could have changed, as text lines.
async fn pg_snapshot(admin: &tokio_postgres::Client) -> BTreeMap<String, String> {
    let mut s = BTreeMap::new();
    let text = |q: &'static str| async move {
        let rows = admin
            .query(q, &[])
            .await
            .unwrap_or_else(|e| panic!("{q}: {e}"));
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| r.get::<_, Option<String>>(i).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    s.insert(
        "tables".into(),
        text(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables \
              WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
        )
        .await,
    );
    for t in [
        "regions",
        "stores",
        "customers",
        "categories",
        "products",
        "orders",
        "order_items",
        "returns",
        "hostile_seq_probe",
    ] {
        let q = format!(
            "SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {t} t"
        );
        let row = admin.query_one(&q, &[]).await.unwrap();
        s.insert(format!("rows of {t}"), row.get::<_, String>(0));
    }
    s.insert(
        "sequence".into(),
        text("SELECT last_value::text || ' ' || is_called::text FROM hostile_seq").await,
    );
    s.insert(
        "database stats reset".into(),
        text(
            "SELECT coalesce(stats_reset::text, 'never') FROM pg_stat_database \
              WHERE datname = current_database()",
        )
        .await,
    );
    s.insert(
        "bgwriter stats reset".into(),
        text("SELECT coalesce(stats_reset::text, 'never') FROM pg_stat_bgwriter").await,
    );
    s.insert(
        "advisory locks".into(),
        text("SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory'").await,
    );
    s.insert(
        "relation locks held by others".into(),
        text(
            "SELECT count(*)::text FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
              WHERE a.datname = current_database() AND l.pid <> pg_backend_pid() \
              AND l.locktype = 'relation' AND l.granted",
        )
        .await,
    );
    s.insert(
        "file settings".into(),
        text(
            "SELECT coalesce(sourcefile, '') || ':' || coalesce(name, '') || '=' || \
              coalesce(setting, '') FROM pg_file_settings ORDER BY 1",
        )
        .await,
    );
    s.insert(
        "role and database settings".into(),
        text(
            "SELECT setdatabase::text || ' ' || setrole::text || ' ' || setconfig::text \
              FROM pg_db_role_setting ORDER BY 1",
        )
        .await,
    );
    s.insert(
        "roles".into(),
        text("SELECT rolname || ' ' || rolsuper::text FROM pg_roles ORDER BY 1").await,
    );
    s.insert(
        "large objects".into(),
        text("SELECT count(*)::text FROM pg_largeobject_metadata").await,
    );
    s.insert(
        "extensions".into(),
        text("SELECT extname FROM pg_extension ORDER BY 1").await,
    );
    s
}

/// Table counters only grow; a reset would bring them back to zero.
async fn pg_counters(admin: &tokio_postgres::Client) -> BTreeMap<String, i64> {
    let _ = admin.query("SELECT pg_stat_clear_snapshot()", &[]).await;
    admin
        .query(
            "SELECT relname::text, coalesce(seq_scan, 0) + coalesce(idx_scan, 0) \
             FROM pg_stat_user_tables",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1)))
        .collect()
}

fn diff<K: Ord + std::fmt::Debug, V: PartialEq + std::fmt::Debug>(
    before: &BTreeMap<K, V>,
    after: &BTreeMap<K, V>,
) -> Vec<String> {
    before
        .iter()
        .filter(|(k, v)| after.get(k) != Some(v))
        .map(|(k, v)| format!("{k:?}: {v:?} → {:?}", after.get(k)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_corpus_on_postgres() {
    let db = ScratchDb::create(Server::Postgres, "cbi_hostile").await;
    cbi_demo::write_postgres(&db.url, cbi_demo::DemoSize::TINY)
        .await
        .unwrap();
    db.execute(PG_EXTRAS).await;
    let admin = pg_admin(&db.url).await;
    let before = pg_snapshot(&admin).await;
    let counters_before = pg_counters(&admin).await;
    let (failures, counts) = run_corpus(&db.url, Backend::Postgres).await;
    let after = pg_snapshot(&admin).await;
    let counters_after = pg_counters(&admin).await;
    let mut changed = diff(&before, &after);
    for (table, n) in &counters_before {
        if counters_after.get(table).is_some_and(|m| m < n) {
            changed.push(format!(
                "scan counter of {table} went back: {n} → {counters_after:?}"
            ));
        }
    }
    // Nobody summarized the BRIN ranges: summarizing them now still finds work.
    let summarized: i32 = admin
        .query_one("SELECT brin_summarize_new_values('hostile_brin')", &[])
        .await
        .unwrap()
        .get(0);
    if summarized == 0 {
        changed.push("the BRIN index hostile_brin was summarized by an attack".into());
    }
    report(Backend::Postgres, &counts);
    finish(Backend::Postgres, failures, changed);
}

// ---------------------------------------------------------------------------------------------
// MariaDB

const MY_EXTRAS: &[&str] = &[
    "CREATE SEQUENCE hostile_seq",
    "CREATE TABLE hostile_seq_probe (id INTEGER, d DATE)",
    "INSERT INTO hostile_seq_probe VALUES (1, '2020-01-01'), (2, '2020-01-02')",
];

/// Global variables that move on their own.
const MY_VOLATILE: &[&str] = &[
    "gtid_binlog_pos",
    "gtid_binlog_state",
    "gtid_current_pos",
    "gtid_slave_pos",
    "timestamp",
    "last_insert_id",
    "rand_seed1",
    "rand_seed2",
    "pseudo_thread_id",
];

async fn my_snapshot(admin: &mut mysql_async::Conn, db: &str) -> BTreeMap<String, String> {
    use mysql_async::prelude::Queryable;
    let mut s = BTreeMap::new();
    let tables: Vec<String> = admin
        .exec(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY 1",
            (db,),
        )
        .await
        .unwrap();
    s.insert("tables".into(), tables.join(","));
    let data: Vec<String> = tables
        .iter()
        .filter(|t| *t != "hostile_seq")
        .cloned()
        .collect();
    let sums: Vec<(String, Option<u64>)> = admin
        .query(format!("CHECKSUM TABLE {}", data.join(", ")))
        .await
        .unwrap();
    for (t, c) in sums {
        s.insert(format!("rows of {t}"), format!("{c:?}"));
    }
    let seq: Vec<mysql_async::Row> = admin.query("SELECT * FROM hostile_seq").await.unwrap();
    s.insert(
        "sequence".into(),
        format!(
            "{:?}",
            seq.into_iter()
                .map(mysql_async::Row::unwrap)
                .collect::<Vec<_>>()
        ),
    );
    let vars: Vec<(String, Option<String>)> = admin.query("SHOW GLOBAL VARIABLES").await.unwrap();
    for (name, value) in vars {
        if !MY_VOLATILE.contains(&name.to_ascii_lowercase().as_str()) {
            s.insert(format!("global {name}"), value.unwrap_or_default());
        }
    }
    let users: Vec<(String, String)> = admin
        .query("SELECT CONCAT(user, '@', host), priv FROM mysql.global_priv ORDER BY 1")
        .await
        .unwrap();
    s.insert("users".into(), format!("{users:?}"));
    // Named locks anyone could have taken with GET_LOCK from the corpus's names.
    for name in lock_names() {
        let holder: Option<Option<u64>> = admin
            .exec_first("SELECT IS_USED_LOCK(?)", (name.clone(),))
            .await
            .unwrap();
        s.insert(format!("lock {name}"), format!("{holder:?}"));
    }
    s
}

/// The names the corpus passes to MySQL's lock functions, and a few common ones.
fn lock_names() -> BTreeSet<String> {
    let mut names: BTreeSet<String> = ["x", "a", "lock", "cbi", "hostile", "test"]
        .into_iter()
        .map(String::from)
        .collect();
    for e in corpus() {
        let lower = e.input.to_ascii_lowercase();
        for (at, _) in lower.match_indices("lock(") {
            let rest = &e.input[at + 5..];
            if let Some(q) = rest.strip_prefix('\'') {
                if let Some(end) = q.find('\'') {
                    names.insert(q[..end].to_string());
                }
            }
        }
    }
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_corpus_on_mariadb() {
    let db = ScratchDb::create(Server::MySql, "cbi_hostile").await;
    cbi_demo::write_mysql(&db.url, cbi_demo::DemoSize::TINY)
        .await
        .unwrap();
    db.execute(MY_EXTRAS).await;
    let mut admin = mysql_async::Conn::from_url(&db.url).await.unwrap();
    let before = my_snapshot(&mut admin, &db.name).await;
    let (failures, counts) = run_corpus(&db.url, Backend::Mysql).await;
    let after = my_snapshot(&mut admin, &db.name).await;
    let changed = diff(&before, &after);
    let _ = admin.disconnect().await;
    report(Backend::Mysql, &counts);
    finish(Backend::Mysql, failures, changed);
}

/// The reproduction of the MySQL bypass, checked cell by cell: under `NO_BACKSLASH_ESCAPES`
/// the server reads the validated text as the validator did, so what an attacker meant as SQL
/// comes back as the second column's text, and `sleep` never runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_backslash_bypass_comes_back_as_data() {
    let db = ScratchDb::create(Server::MySql, "cbi_hostile").await;
    cbi_demo::write_mysql(&db.url, cbi_demo::DemoSize::TINY)
        .await
        .unwrap();
    let mut config = Config::default();
    config.performance.query_timeout_secs = 5.0;
    let engine = crate::common::engine_with(config, false);
    let key = engine
        .attach(&db.url, SemanticModel::default())
        .await
        .unwrap();
    for (sql, tail) in [
        (
            r"SELECT '\\' AS a, ', (SELECT group_concat(schema_name) FROM information_schema.schemata) AS s -- ' AS b FROM regions",
            ", (SELECT group_concat(schema_name) FROM information_schema.schemata) AS s -- ",
        ),
        (
            r"SELECT '\' AS a, ', (SELECT sleep(3)) AS s -- ' AS b FROM regions",
            ", (SELECT sleep(3)) AS s -- ",
        ),
    ] {
        let started = Instant::now();
        let (ran, r) = engine.run_sql(&key, sql).await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(2), "{ran}");
        let backslashes = sql.split('\'').nth(1).unwrap();
        assert_eq!(r.rows.len(), 5, "{ran}");
        assert_eq!(
            r.rows[0],
            vec![
                cbi_types::Value::Text(backslashes.into()),
                cbi_types::Value::Text(tail.into())
            ],
            "{ran}"
        );
    }
}
