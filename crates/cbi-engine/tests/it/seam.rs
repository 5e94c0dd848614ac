//! The generator seam: the engine asks whatever `SqlGenerator` it is given, and what that
//! generator writes goes through the same validator and limits as the embedded planner's SQL.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use cbi_nl2sql::{GenerationRequest, SqlCandidate, SqlGenerator};
use cbi_types::SemanticModel;

use crate::common::*;

/// A generator that answers every question with the same SQL, and remembers what it was asked.
#[derive(Debug)]
struct Scripted {
    sql: String,
    asked: Mutex<Vec<(String, usize)>>,
}

#[async_trait]
impl SqlGenerator for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }

    async fn generate(&self, r: &GenerationRequest) -> cbi_nl2sql::Result<Vec<SqlCandidate>> {
        self.asked
            .lock()
            .unwrap()
            .push((r.question.clone(), r.context.turns.len()));
        Ok(vec![SqlCandidate {
            sql: Some(self.sql.clone()),
            confidence: 0.5,
            generator: "scripted".into(),
            ..SqlCandidate::default()
        }])
    }
}

async fn ask_with(
    sql: &str,
    questions: &[&str],
) -> (
    Vec<cbi_engine::Result<cbi_engine::QueryResponse>>,
    Arc<Scripted>,
) {
    let demo = Demo::of(cbi_demo::DemoSize::TINY);
    let generator = Arc::new(Scripted {
        sql: sql.into(),
        asked: Mutex::new(Vec::new()),
    });
    let engine = engine(false).with_generator(generator.clone());
    assert_eq!(engine.generator().name(), "scripted");
    let key = engine
        .attach(&demo.path.to_string_lossy(), SemanticModel::default())
        .await
        .unwrap();
    let s = engine.create_session_for("t", &key).await.unwrap();
    let mut out = Vec::new();
    for q in questions {
        out.push(engine.process_query(s, q).await);
    }
    (out, generator)
}

#[tokio::test]
async fn another_generator_answers_through_the_validator() {
    let (out, generator) = ask_with(
        "SELECT name FROM regions ORDER BY name",
        &["anything at all", "and again"],
    )
    .await;
    let r = out[0].as_ref().unwrap();
    assert_eq!(r.result.as_ref().unwrap().rows.len(), 5);
    assert!(
        r.sql.as_deref().unwrap().ends_with("LIMIT 10001"),
        "{:?}",
        r.sql
    );
    // The second question sees the first turn in its context.
    assert_eq!(
        *generator.asked.lock().unwrap(),
        [
            ("anything at all".to_string(), 0),
            ("and again".to_string(), 1)
        ]
    );
}

#[tokio::test]
async fn what_another_generator_writes_is_refused_like_anything_else() {
    for sql in [
        "DELETE FROM orders",
        "SELECT pg_sleep(1), randomblob(10) FROM regions",
        "SELECT secret FROM regions",
    ] {
        let (out, _) = ask_with(sql, &["q"]).await;
        assert!(
            matches!(out[0], Err(cbi_engine::Error::Invalid(_))),
            "{sql}: {:?}",
            out[0].as_ref().map(|r| r.sql.clone())
        );
    }
}

/// A configured OpenAI-compatible server answers what the embedded generator cannot place,
/// through the hybrid, the router and the same validator; a confident embedded answer never
/// reaches the model.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_model_answers_through_the_hybrid() {
    use axum::routing::post;
    let calls = Arc::new(Mutex::new(Vec::<serde_json::Value>::new()));
    let seen = calls.clone();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(move |axum::Json(body): axum::Json<serde_json::Value>| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(body);
                axum::Json(serde_json::json!({
                    "id": "x", "object": "chat.completion", "model": "m",
                    "choices": [{"index": 0, "finish_reason": "stop",
                        "message": {"role": "assistant",
                            "content": "```sql\nSELECT name FROM regions ORDER BY name\n```"}}],
                    "usage": {"prompt_tokens": 321, "completion_tokens": 12, "total_tokens": 333}
                }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut config = cbi_types::Config::default();
    config.models.primary = Some(cbi_types::config::ModelConfig {
        provider: "openai-compatible".into(),
        model: "m".into(),
        api_key: None,
        base_url: Some(format!("http://{addr}/v1")),
        path: None,
        max_tokens: None,
        temperature: None,
        timeout_secs: Some(5),
    });
    let generator = cbi_engine::generator_from_config(&config).unwrap();
    assert_eq!(generator.name(), "hybrid:openai-compatible:m");
    let demo = Demo::of(cbi_demo::DemoSize::TINY);
    let engine = engine_with(config, false).with_generator(generator);
    let key = engine
        .attach(&demo.path.to_string_lossy(), SemanticModel::default())
        .await
        .unwrap();
    let s = engine.create_session_for("t", &key).await.unwrap();
    let r = engine
        .process_query(s, "How many customers are there?")
        .await
        .unwrap();
    assert_eq!(r.result.unwrap().rows[0][0], cbi_types::Value::Int(142));
    assert!(
        calls.lock().unwrap().is_empty(),
        "a confident embedded answer asks no model"
    );
    let r = engine
        .process_query(s, "qwzx flurb snorkel gadget thingamajig")
        .await
        .unwrap();
    assert_eq!(r.result.unwrap().rows.len(), 5);
    let calls = calls.lock().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["model"], "m");
    let prompt = calls[0]["messages"][1]["content"].as_str().unwrap();
    assert!(prompt.contains("CREATE TABLE regions"), "{prompt}");
    assert!(
        prompt.contains("Q: How many customers are there?"),
        "{prompt}"
    );
}

/// A generator that tries candidates on the database through the request's trial runner
/// before answering, and keeps what each trial said.
#[derive(Debug, Default)]
struct Trying {
    said: Mutex<Vec<Result<cbi_nl2sql::TrialOutcome, String>>>,
}

#[async_trait]
impl SqlGenerator for Trying {
    fn name(&self) -> &str {
        "trying"
    }

    async fn generate(&self, r: &GenerationRequest) -> cbi_nl2sql::Result<Vec<SqlCandidate>> {
        let trial = r.trial.as_ref().expect("the engine offers trial runs");
        for sql in [
            "SELECT name FROM regions",
            "SELECT name FROM regions ORDER BY name DESC",
            "DELETE FROM regions",
            "SELECT json_extract('not json', '$.a') FROM regions",
        ] {
            let outcome = trial.trial(sql).await;
            self.said.lock().unwrap().push(outcome);
        }
        Ok(vec![SqlCandidate {
            sql: Some("SELECT COUNT(*) FROM regions".into()),
            generator: "trying".into(),
            ..SqlCandidate::default()
        }])
    }
}

#[tokio::test]
async fn generators_can_try_candidates_read_only_through_the_validator() {
    let demo = Demo::of(cbi_demo::DemoSize::TINY);
    let generator = Arc::new(Trying::default());
    let engine = engine(false).with_generator(generator.clone());
    let key = engine
        .attach(&demo.path.to_string_lossy(), SemanticModel::default())
        .await
        .unwrap();
    let s = engine.create_session_for("t", &key).await.unwrap();
    let r = engine.process_query(s, "how many regions").await.unwrap();
    let said = generator.said.lock().unwrap();
    let first = said[0].as_ref().unwrap();
    assert_eq!((first.rows, first.columns), (5, 1));
    // The same rows in another order are the same answer.
    assert_eq!(said[1].as_ref().unwrap().fingerprint, first.fingerprint);
    // A write is refused by the validator, never run: the regions are all still there.
    let refused = said[2].as_ref().unwrap_err();
    assert!(refused.contains("read-only"), "{refused}");
    // A database error comes back as text for the model.
    let failed = said[3].as_ref().unwrap_err();
    assert!(failed.contains("JSON"), "{failed}");
    assert_eq!(
        r.result.unwrap().rows[0][0],
        cbi_types::Value::Int(5),
        "the answer ran after the trials"
    );
}
