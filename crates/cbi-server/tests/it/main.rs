#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The server end to end: real HTTP on 127.0.0.1:0 over the demo database, a conversation, the
//! answer stages as server-sent events, users with allow-lists, limits, metrics, and two
//! servers sharing one conversation through Redis.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use cbi_engine::{Access, ConversationalBiEngine, EngineOptions, Principal};
use cbi_server::{ServerOptions, User, Users};
use cbi_session::{MemoryStore, SessionManager};
use cbi_types::{Config, SessionStore};
use reqwest::StatusCode;
use serde_json::{Value, json};

mod web;

/// The small demo database and its semantic file, in a temporary directory.
struct Demo {
    _dir: tempfile::TempDir,
    db: String,
    semantic: std::path::PathBuf,
}

fn demo() -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("retail.sqlite");
    cbi_demo::write_sqlite(&path, cbi_demo::DemoSize::SMALL).unwrap();
    let semantic = dir.path().join("retail.semantic.yaml");
    std::fs::write(&semantic, cbi_demo::SEMANTIC_YAML).unwrap();
    Demo {
        db: path.display().to_string(),
        semantic,
        _dir: dir,
    }
}

async fn engine_over(
    demo: &Demo,
    store: Arc<dyn SessionStore>,
) -> (Arc<ConversationalBiEngine>, String) {
    let config = Config::default();
    let sessions = Arc::new(SessionManager::new(store, (&config.session).into()));
    let engine = ConversationalBiEngine::with_sessions(config, sessions, EngineOptions::default());
    let key = engine.open(&demo.db, Some(&demo.semantic)).await.unwrap();
    (Arc::new(engine), key)
}

/// A running server; stops when dropped.
struct Running {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<cbi_server::Result<()>>>,
}

impl Running {
    async fn start(engine: Arc<ConversationalBiEngine>, opts: ServerOptions) -> Running {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = cbi_server::router(engine, opts);
        let done = tokio::spawn(cbi_server::serve(listener, app, async {
            let _ = rx.await;
        }));
        Running {
            base: format!("http://{addr}"),
            stop: Some(tx),
            done: Some(done),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Graceful shutdown: the serve future ends without error.
    async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(done) = self.done.take() {
            tokio::time::timeout(Duration::from_secs(10), done)
                .await
                .expect("the server stops within 10 s")
                .unwrap()
                .unwrap();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

async fn post(
    c: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    let mut req = c.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn get(c: &reqwest::Client, url: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut req = c.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_over_http() {
    let demo = demo();
    let (engine, key) = engine_over(&demo, Arc::new(MemoryStore::new())).await;
    let server = Running::start(engine, ServerOptions::open(key)).await;
    let c = reqwest::Client::new();

    let (s, health) = get(&c, &server.url("/healthz"), None).await;
    assert_eq!((s, health["status"].as_str()), (StatusCode::OK, Some("ok")));

    // First turn: a new session.
    let (s, a) = post(
        &c,
        &server.url("/v1/ask"),
        None,
        json!({"question": "total revenue by region"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    let sid = a["session_id"].as_str().unwrap().to_string();
    assert_eq!(a["columns"], json!(["region", "revenue"]));
    assert_eq!(a["row_count"], json!(5));
    assert!(a["sql"].as_str().unwrap().contains("GROUP BY"), "{a}");
    // What ran carries the row-cap probe; what a person reads does not.
    assert!(a["sql"].as_str().unwrap().ends_with("LIMIT 10001"), "{a}");
    // It is laid out on lines; only whitespace differs.
    let shown = a["shown_sql"].as_str().unwrap();
    assert!(shown.lines().count() > 3, "{shown}");
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(
        format!("{} LIMIT 10001", words(shown))
            .replace("( ", "(")
            .replace(" )", ")"),
        a["sql"].as_str().unwrap()
    );
    assert!(a["confidence"].as_f64().unwrap() > 0.0);
    assert!(!a["explanation"].as_str().unwrap().is_empty());
    let best = a["rows"]
        .as_array()
        .unwrap()
        .iter()
        .max_by(|x, y| x[1].as_f64().unwrap().total_cmp(&y[1].as_f64().unwrap()))
        .unwrap()[0]
        .clone();

    // A follow-up in the same session reads against the first answer.
    let (s, b) = post(
        &c,
        &server.url("/v1/ask"),
        None,
        json!({"question": "which had the highest?", "session_id": sid}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["rows"].as_array().unwrap().len(), 1, "{b}");
    assert_eq!(b["rows"][0][0], best);
    assert_eq!(b["turn_id"], json!(2));

    // The same as server-sent events: the stages in order, then the answer.
    let res = c
        .post(server.url("/v1/ask/stream"))
        .json(&json!({"question": "show that by month", "session_id": sid}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let text = res.text().await.unwrap();
    let events: Vec<(&str, Value)> = text
        .split("\n\n")
        .filter_map(|block| {
            let event = block.lines().find_map(|l| l.strip_prefix("event: "))?;
            let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
            Some((event, serde_json::from_str(data).unwrap()))
        })
        .collect();
    let names: Vec<String> = events
        .iter()
        .map(|(e, d)| match d["stage"].as_str() {
            Some(stage) => format!("{e}:{stage}"),
            None => e.to_string(),
        })
        .collect();
    assert_eq!(
        names,
        [
            "stage:understood",
            "stage:validated",
            "stage:rows",
            "stage:summary",
            "answer"
        ],
        "{text}"
    );
    let answer = &events[4].1;
    assert_eq!(answer["columns"][0], json!("month"), "{answer}");
    assert_eq!(
        events[1].1["sql"], answer["sql"],
        "the validated SQL is what ran"
    );

    // The session is listed, can be read back, exported, and ended.
    let (_, list) = get(&c, &server.url("/v1/sessions"), None).await;
    let listed = &list["sessions"][0];
    assert_eq!(listed["id"].as_str(), Some(sid.as_str()));
    assert_eq!(listed["turns"], json!(3));
    let (_, session) = get(&c, &server.url(&format!("/v1/sessions/{sid}")), None).await;
    assert_eq!(session["turns"].as_array().unwrap().len(), 3);
    assert_eq!(
        session["turns"][1]["question"],
        json!("which had the highest?")
    );
    let csv = c
        .get(server.url(&format!("/v1/sessions/{sid}/export?turn=1&format=csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("region,revenue\r\n"), "{csv}");
    assert_eq!(csv.lines().count(), 6, "{csv}");

    // "This is right" on the first answer: a new session asking it gets a verified answer.
    let (s, f) = post(
        &c,
        &server.url("/v1/feedback"),
        None,
        json!({"session_id": sid, "turn_id": 1, "correct": true}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{f}");
    assert!(
        !f["sql"].as_str().unwrap().contains("10001"),
        "the row-cap probe is not kept: {f}"
    );
    // A follow-up is refused as an example: on its own it means something else.
    let (s, f) = post(
        &c,
        &server.url("/v1/feedback"),
        None,
        json!({"session_id": sid, "turn_id": 2, "correct": true}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{f}");
    let (_, again) = post(
        &c,
        &server.url("/v1/ask"),
        None,
        json!({"question": "total revenue by region"}),
    )
    .await;
    assert_eq!(again["verified"], json!(true), "{again}");
    assert_eq!(again["rows"], a["rows"]);

    let del = c
        .delete(server.url(&format!("/v1/sessions/{sid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), StatusCode::NO_CONTENT);
    let (s, e) = post(
        &c,
        &server.url("/v1/ask"),
        None,
        json!({"question": "and by month?", "session_id": sid}),
    )
    .await;
    assert_eq!(
        (s, e["error"]["kind"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );

    // Refusals are JSON with a kind: unsafe SQL, malformed bodies, unknown sessions.
    let (s, e) = post(
        &c,
        &server.url("/v1/sql"),
        None,
        json!({"sql": "DELETE FROM orders"}),
    )
    .await;
    assert_eq!(
        (s, e["error"]["kind"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid"))
    );
    let (s, e) = post(&c, &server.url("/v1/ask"), None, json!({"question": 5})).await;
    assert_eq!(
        (s, e["error"]["kind"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("bad_request"))
    );
    let (s, _) = get(&c, &server.url("/v1/sessions/not-a-uuid"), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, e) = post(
        &c,
        &server.url("/v1/clarify"),
        None,
        json!({"session_id": again["session_id"], "choice": "1"}),
    )
    .await;
    assert_eq!(
        (s, e["error"]["kind"].as_str()),
        (StatusCode::CONFLICT, Some("no_clarification"))
    );

    // Metrics: every series is cbi_*, requests are counted by route pattern.
    let metrics = c
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for series in [
        "cbi_http_requests_total{route=\"/v1/ask\",status=\"200\"}",
        "cbi_http_request_seconds_bucket",
        "cbi_answer_stage_seconds_bucket{le=",
        "cbi_answers_total{band=\"high\"}",
        "cbi_model_tokens_total{kind=\"prompt\"} 0",
        "cbi_feedback_total{band=\"accepted\"} 1",
        "cbi_cache_lookups_total{part=\"sql\",outcome=\"miss\"}",
        "route=\"/v1/sessions/{id}\"",
    ] {
        assert!(metrics.contains(series), "{series} missing:\n{metrics}");
    }
    for line in metrics
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        assert!(line.starts_with("cbi_"), "{line}");
    }
    // Questions without a session never hit the per-user session limit (10 by default): the
    // least recently used conversation is ended to make room.
    for _ in 0..12 {
        let (s, a) = post(
            &c,
            &server.url("/v1/ask"),
            None,
            json!({"question": "how many stores are there?"}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{a}");
    }
    let (_, list) = get(&c, &server.url("/v1/sessions"), None).await;
    assert_eq!(list["sessions"].as_array().unwrap().len(), 10);
    // An explicit new session is refused instead, with the limit's kind.
    let res = c.post(server.url("/v1/sessions")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);

    let (s, doc) = get(&c, &server.url("/openapi.json"), None).await;
    assert_eq!(
        (s, doc["openapi"].as_str()),
        (StatusCode::OK, Some("3.1.0"))
    );

    server.shutdown().await;
}

fn restricted_users() -> Users {
    let mut ann_tables = BTreeMap::new();
    ann_tables.insert("orders".to_string(), vec!["*".to_string()]);
    ann_tables.insert(
        "customers".to_string(),
        vec![
            "customer_id".to_string(),
            "first_name".to_string(),
            "segment".to_string(),
        ],
    );
    Users::with_tokens([
        (
            "ann-token".to_string(),
            User {
                principal: Principal::new("ann").with_access(Access {
                    tables: Some(ann_tables),
                }),
                rate_per_minute: 1000,
                max_concurrent: 4,
            },
        ),
        (
            "bob-token".to_string(),
            User {
                principal: Principal::new("bob"),
                rate_per_minute: 3,
                max_concurrent: 4,
            },
        ),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_allow_lists_and_limits() {
    let demo = demo();
    let (engine, key) = engine_over(&demo, Arc::new(MemoryStore::new())).await;
    let mut opts = ServerOptions::open(key);
    opts.users = restricted_users();
    opts.max_body_bytes = 4096;
    let server = Running::start(engine, opts).await;
    let c = reqwest::Client::new();
    let ann = Some("ann-token");

    // No token, a wrong token: 401 with a JSON error and a challenge.
    for token in [None, Some("wrong")] {
        let (s, e) = post(
            &c,
            &server.url("/v1/ask"),
            token,
            json!({"question": "how many orders?"}),
        )
        .await;
        assert_eq!(
            (s, e["error"]["kind"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthorized"))
        );
    }
    // Health and metrics stay open to probes.
    assert_eq!(
        get(&c, &server.url("/healthz"), None).await.0,
        StatusCode::OK
    );

    // The schema ann sees has only her tables and columns.
    let (s, schema) = get(&c, &server.url("/v1/schema"), ann).await;
    assert_eq!(s, StatusCode::OK, "{schema}");
    let tables: Vec<&str> = schema["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(tables, ["customers", "orders"]);
    let text = schema.to_string();
    for hidden in ["email", "products", "order_items", "last_name"] {
        assert!(!text.contains(hidden), "{hidden} shown to ann: {text}");
    }

    // Her suggested first questions are about what she sees, and each one is answered.
    let (s, suggested) = get(&c, &server.url("/v1/suggestions"), ann).await;
    assert_eq!(s, StatusCode::OK, "{suggested}");
    let questions = suggested["questions"].as_array().unwrap();
    assert!(!questions.is_empty(), "{suggested}");
    for q in questions {
        let q = q.as_str().unwrap();
        assert!(
            !q.to_lowercase().contains("revenue"),
            "{q} needs hidden tables"
        );
        let (s, a) = post(&c, &server.url("/v1/ask"), ann, json!({"question": q})).await;
        assert_eq!(s, StatusCode::OK, "{q}: {a}");
        assert!(a["sql"].is_string(), "{q}: {a}");
        for hidden in ["order_items", "products", "email"] {
            assert!(!a["sql"].as_str().unwrap().contains(hidden), "{q}: {a}");
        }
    }

    // Her SQL is checked against what she may see: hidden columns, hidden tables and
    // wildcards over a cut table are refused, and no suggestion names a hidden column.
    for (sql, says) in [
        ("SELECT emial FROM customers", "emial"),
        ("SELECT last_nam FROM customers", "last_nam"),
        ("SELECT name FROM products", "products"),
        ("SELECT * FROM customers", "`*`"),
        ("SELECT c.* FROM customers c", "`*`"),
    ] {
        let (s, e) = post(&c, &server.url("/v1/sql"), ann, json!({"sql": sql})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{sql}: {e}");
        let msg = e["error"]["message"].as_str().unwrap();
        assert!(msg.contains(says), "{sql}: {msg}");
        for hidden in ["email", "last_name", "order_items"] {
            assert!(!msg.contains(hidden), "{sql}: {msg}");
        }
    }
    let (s, ok) = post(
        &c,
        &server.url("/v1/sql"),
        ann,
        json!({"sql": "SELECT * FROM orders LIMIT 2"}),
    )
    .await;
    assert_eq!(
        (s, ok["row_count"].as_u64()),
        (StatusCode::OK, Some(2)),
        "{ok}"
    );
    let (s, ok) = post(
        &c,
        &server.url("/v1/sql"),
        ann,
        json!({"sql": "SELECT COUNT(*) FROM customers"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{ok}");

    // Questions are answered over her view too: nothing she asks reads a hidden column.
    for q in [
        "list customer emails",
        "customers by segment",
        "total revenue by product",
    ] {
        let (s, a) = post(&c, &server.url("/v1/ask"), ann, json!({"question": q})).await;
        // What the engine produced (not the question echoed back).
        let labels: Vec<&Value> = a["clarification"]["options"]
            .as_array()
            .map(|o| o.iter().map(|o| &o["label"]).collect())
            .unwrap_or_default();
        let text = json!([a["sql"], a["columns"], a["rows"], labels, a["error"]]).to_string();
        for hidden in ["email", "last_name", "order_items", "products."] {
            assert!(!text.contains(hidden), "{q} ({s}) shows {hidden}: {text}");
        }
    }

    // Sessions are private: bob cannot read, continue or end ann's.
    let (_, a) = post(
        &c,
        &server.url("/v1/ask"),
        ann,
        json!({"question": "how many orders are there?"}),
    )
    .await;
    let sid = a["session_id"].as_str().unwrap().to_string();
    let bob = Some("bob-token");
    let (s, _) = get(&c, &server.url(&format!("/v1/sessions/{sid}")), bob).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = post(
        &c,
        &server.url("/v1/ask"),
        bob,
        json!({"question": "and by month?", "session_id": sid}),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // bob has used 2 of his 3 requests a minute; the 4th is refused with Retry-After.
    let (s, list) = get(&c, &server.url("/v1/sessions"), bob).await;
    assert_eq!(
        (s, list["sessions"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(0))
    );
    let res = c
        .get(server.url("/v1/sessions"))
        .bearer_auth("bob-token")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    // ann is not slowed down by bob's limit.
    assert_eq!(
        get(&c, &server.url("/v1/sessions"), ann).await.0,
        StatusCode::OK
    );

    // Bodies past the cap are refused before they are read.
    let big = "x".repeat(8192);
    let (s, e) = post(&c, &server.url("/v1/ask"), ann, json!({"question": big})).await;
    assert_eq!(
        (s, e["error"]["kind"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large"))
    );

    let metrics = c
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("cbi_refused_requests_total{reason=\"unauthorized\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("cbi_refused_requests_total{reason=\"rate\"} 1"),
        "{metrics}"
    );
    server.shutdown().await;
}

/// A generator that takes its time, to hold a request in flight.
#[derive(Debug)]
struct Slow(Arc<dyn cbi_nl2sql::SqlGenerator>);

#[async_trait::async_trait]
impl cbi_nl2sql::SqlGenerator for Slow {
    fn name(&self) -> &str {
        "slow"
    }

    async fn generate(
        &self,
        request: &cbi_nl2sql::GenerationRequest,
    ) -> cbi_nl2sql::Result<Vec<cbi_nl2sql::SqlCandidate>> {
        tokio::time::sleep(Duration::from_millis(400)).await;
        self.0.generate(request).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_is_limited_per_user() {
    let demo = demo();
    let config = Config::default();
    let sessions = Arc::new(SessionManager::new(
        Arc::new(MemoryStore::new()),
        (&config.session).into(),
    ));
    let engine =
        ConversationalBiEngine::with_sessions(config.clone(), sessions, EngineOptions::default());
    let slow = Slow(engine.generator().clone());
    let engine = engine.with_generator(Arc::new(slow));
    let key = engine.open(&demo.db, Some(&demo.semantic)).await.unwrap();
    let mut opts = ServerOptions::open(key);
    opts.users = Users::with_tokens([(
        "t".to_string(),
        User {
            principal: Principal::new("carol"),
            rate_per_minute: 100,
            max_concurrent: 1,
        },
    )]);
    let server = Running::start(Arc::new(engine), opts).await;
    let c = reqwest::Client::new();
    let first = {
        let c = c.clone();
        let url = server.url("/v1/ask");
        tokio::spawn(async move {
            post(
                &c,
                &url,
                Some("t"),
                json!({"question": "how many stores are there?"}),
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    let (s, e) = post(
        &c,
        &server.url("/v1/ask"),
        Some("t"),
        json!({"question": "how many regions?"}),
    )
    .await;
    assert_eq!(
        (s, e["error"]["kind"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("too_many_in_flight"))
    );
    let (s, a) = first.await.unwrap();
    assert_eq!(s, StatusCode::OK, "{a}");
    // The slot is free again once the first is done.
    let (s, _) = post(
        &c,
        &server.url("/v1/ask"),
        Some("t"),
        json!({"question": "how many regions?"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_a_conversation_through_redis() {
    let demo = demo();
    let prefix = cbi_testkit::RedisPrefix::new("cbi_server");
    let store = || async {
        Arc::new(
            cbi_session::RedisStore::connect(
                &prefix.url,
                prefix.prefix.clone(),
                Duration::from_secs(600),
            )
            .await
            .unwrap(),
        ) as Arc<dyn SessionStore>
    };
    let (e1, k1) = engine_over(&demo, store().await).await;
    let (e2, k2) = engine_over(&demo, store().await).await;
    assert_eq!(k1, k2);
    let a = Running::start(e1, ServerOptions::open(k1)).await;
    let b = Running::start(e2, ServerOptions::open(k2)).await;
    let c = reqwest::Client::new();

    let (_, first) = post(
        &c,
        &a.url("/v1/ask"),
        None,
        json!({"question": "total revenue by region"}),
    )
    .await;
    let sid = first["session_id"].clone();
    let (s, second) = post(
        &c,
        &b.url("/v1/ask"),
        None,
        json!({"question": "which had the highest?", "session_id": sid}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{second}");
    assert_eq!(second["rows"].as_array().unwrap().len(), 1, "{second}");
    assert_eq!(
        second["generator"],
        json!("context"),
        "server B read the follow-up against A's answer"
    );
    let (s, third) = post(
        &c,
        &a.url("/v1/ask"),
        None,
        json!({"question": "only 2024", "session_id": sid}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{third}");
    assert_eq!(third["turn_id"], json!(3), "{third}");
    assert_eq!(third["generator"], json!("context"), "{third}");
    let (_, listed) = get(
        &c,
        &b.url(&format!("/v1/sessions/{}", sid.as_str().unwrap())),
        None,
    )
    .await;
    assert_eq!(listed["turns"].as_array().unwrap().len(), 3);
    a.shutdown().await;
    b.shutdown().await;
}
