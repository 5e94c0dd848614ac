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
