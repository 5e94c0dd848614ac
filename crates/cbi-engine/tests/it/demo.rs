//! The retail demo's business questions (fixtures/demo/questions.jsonl) through the whole
//! pipeline: generation, validation, read-only execution. The bar is 90%.

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_questions_are_answered_correctly() {
    let demo = Demo::small();
    let engine = engine(false);
    let key = engine
        .attach(&demo.path.to_string_lossy(), semantic())
        .await
        .unwrap();
    let questions = demo_questions();
    assert!(
        questions.len() >= 120,
        "the demo set has {} questions",
        questions.len()
    );
    let mut right = 0;
    let mut wrong = Vec::new();
    for (id, question, gold) in &questions {
        let session = engine.create_session_for("test", &key).await.unwrap();
        let answer = engine.process_query(session, question).await;
        let ok = match &answer {
            Ok(r) => r.result.as_ref().is_some_and(|res| {
                gold.iter()
                    .any(|g| same_answer(res, &sqlite_rows(&demo.path, g), g))
            }),
            Err(_) => false,
        };
        if ok {
            right += 1;
        } else {
            wrong.push(format!("{id} {question}: {:?}", answer.map(|r| r.sql)));
        }
    }
    let accuracy = right as f64 / questions.len() as f64;
    assert!(
        accuracy >= 0.90,
        "{right}/{} right ({accuracy:.3}); wrong:\n{}",
        questions.len(),
        wrong.join("\n")
    );
}

#[tokio::test]
async fn verified_questions_are_marked_and_paraphrases_match() {
    let demo = Demo::small();
    let (engine, s) = chat_on(&demo.path, semantic()).await;
    let exact = engine
        .process_query(s, "What was total revenue by region in 2024?")
        .await
        .unwrap();
    assert!(exact.verified);
    assert_eq!(exact.confidence, 1.0);
    assert_eq!(exact.result.unwrap().rows.len(), 5);
    let paraphrase = engine
        .process_query(s, "show me the return rate for each category")
        .await
        .unwrap();
    assert!(paraphrase.verified, "{:?}", paraphrase.reasons);
    // A different value is a different question, not a paraphrase.
    let other = engine
        .process_query(s, "What was total revenue by region in 2023?")
        .await
        .unwrap();
    assert!(!other.verified);
}

#[tokio::test]
async fn responses_explain_and_summarise() {
    let demo = Demo::small();
    let (engine, s) = chat_on(&demo.path, semantic()).await;
    let r = engine
        .process_query(s, "Total revenue by region")
        .await
        .unwrap();
    let sql = r.sql.as_deref().unwrap();
    assert!(sql.contains("GROUP BY"), "{sql}");
    assert!(r.explanation.contains("revenue"), "{}", r.explanation);
    assert!(
        r.summary
            .as_deref()
            .unwrap()
            .contains("has the highest revenue"),
        "{:?}",
        r.summary
    );
    assert_eq!(r.result.unwrap().rows.len(), 5);
    assert!(r.timings.total >= r.timings.generate);
    // The turn is in the session, with its SQL and plan.
    let session = engine.sessions().get(s).await.unwrap();
    assert_eq!(session.turn_count, 1, "one question is one turn");
    let turn = session.context.last_turn().unwrap();
    assert_eq!(turn.turn_id, 1);
    assert_eq!(turn.sql.as_deref(), Some(sql));
    assert!(turn.plan.is_some());
    assert!(session.context.mentioned_tables.contains("regions"));
}
