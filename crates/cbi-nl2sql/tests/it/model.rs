//! The model path with a scripted model: prompts (snapshot), SQL extraction, self-correction
//! with every validator problem fed back, bounded attempts, and the hybrid's choice.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use cbi_nl2sql::{
    GenerationRequest, HybridGenerator, ModelGenerator, ModelOptions, PromptBuilder, SqlGenerator,
    TrialOutcome, TrialRunner, extract_sql, vote,
};
use cbi_types::{
    ChatRole, Completion, CompletionRequest, ConversationTurn, Intent, LanguageModel, SqlDialect,
    TokenUsage,
};

use crate::generate::demo_schema;

/// Answers with the scripted texts in order, and keeps every request.
#[derive(Debug)]
struct Scripted {
    answers: Mutex<Vec<String>>,
    seen: Mutex<Vec<CompletionRequest>>,
}

impl Scripted {
    fn new(answers: &[&str]) -> Arc<Scripted> {
        Arc::new(Scripted {
            answers: Mutex::new(answers.iter().rev().map(|s| s.to_string()).collect()),
            seen: Mutex::new(Vec::new()),
        })
    }
}

#[async_trait]
impl LanguageModel for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }

    async fn complete(&self, request: &CompletionRequest) -> cbi_types::Result<Completion> {
        self.seen.lock().unwrap().push(request.clone());
        let text = self
            .answers
            .lock()
            .unwrap()
            .pop()
            .ok_or_else(|| cbi_types::Error::Model("no more answers".into()))?;
        // "a\n===\nb" scripts several choices of one call (`n > 1`).
        let choices: Vec<String> = if text.contains("\n===\n") {
            text.split("\n===\n").map(str::to_string).collect()
        } else {
            Vec::new()
        };
        Ok(Completion {
            text: choices.first().cloned().unwrap_or(text),
            choices,
            usage: TokenUsage {
                prompt_tokens: 100,
                completion_tokens: 10,
            },
            model: "scripted".into(),
            ..Completion::default()
        })
    }
}

fn request(question: &str) -> GenerationRequest {
    GenerationRequest::new(question, demo_schema(), SqlDialect::Sqlite)
}

/// Runs a future on a runtime of its own (the demo fixture blocks on one while it is built, so
/// requests are made before entering this).
fn run<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn extraction() {
    let check = |text: &str, expect: Option<&str>| {
        assert_eq!(extract_sql(text).as_deref(), expect, "{text}");
    };
    check("```sql\nSELECT 1;\n```", Some("SELECT 1"));
    check(
        "Here you go:\n```SQL\nSELECT a\nFROM t\n```\nThis counts.",
        Some("SELECT a\nFROM t"),
    );
    check(
        "```\nWITH x AS (SELECT 1) SELECT * FROM x\n```",
        Some("WITH x AS (SELECT 1) SELECT * FROM x"),
    );
    check(
        "The answer is SELECT count(*) FROM t; because…",
        Some("SELECT count(*) FROM t"),
    );
    check("I selected nothing, sorry.", None);
    check("", None);
}

#[test]
fn the_prompt_is_pruned_and_carries_examples_history_and_evidence() {
    let mut r = request("What was the revenue by region in 2023?");
    r.evidence = Some("revenue counts order lines after discount".into());
    r.context.push_turn(
        ConversationTurn {
            turn_id: 1,
            timestamp: chrono::DateTime::from_timestamp(0, 0).unwrap(),
            user_query: "How many orders are there?".into(),
            sql: Some("SELECT COUNT(*) FROM orders".into()),
            results_summary: Some("1 row".into()),
            entities_mentioned: vec!["orders".into()],
            intent: Intent::Query,
            plan: None,
        },
        10,
    );
    let b = PromptBuilder {
        opts: ModelOptions {
            schema_budget_chars: 1_500,
            ..ModelOptions::default()
        },
    };
    let examples = vec![cbi_nl2sql::Example {
        question: "What was total revenue by region in 2024?".into(),
        sql: "SELECT regions.name, SUM(1)\nFROM regions GROUP BY regions.name".into(),
    }];
    let m = b.messages(
        &r,
        &["orders".into(), "regions".into()],
        &["orders.status = 'cancelled'".into()],
        &examples,
        Some("SELECT 1"),
    );
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].role, ChatRole::System);
    let user = &m[1].content;
    assert!(user.contains("Verified examples:"), "{user}");
    assert!(
        user.contains("Q: How many orders are there?\nSQL: SELECT COUNT(*) FROM orders"),
        "{user}"
    );
    assert!(
        user.contains("Known facts: revenue counts order lines"),
        "{user}"
    );
    assert!(user.contains("```sql\nSELECT 1\n```"), "{user}");
    assert!(
        user.contains("as the database stores them:\n- orders.status = 'cancelled'\n"),
        "{user}"
    );
    assert!(
        user.ends_with("Question: What was the revenue by region in 2023?\n"),
        "{user}"
    );
    insta::assert_snapshot!("model_prompt", format!("{}\n---\n{}", m[0].content, user));
}

#[test]
fn every_problem_goes_back_and_the_corrected_query_is_answered() {
    let r = request("List the regions");
    let model = Scripted::new(&[
        "```sql\nSELECT regoin, pg_sleep(1) FROM regions\n```",
        "Sorry:\n```sql\nSELECT name FROM regions ORDER BY name;\n```",
    ]);
    let g = ModelGenerator::new(model.clone(), ModelOptions::default());
    let c = run(g.generate(&r)).unwrap();
    assert_eq!(
        c[0].sql.as_deref(),
        Some("SELECT name FROM regions ORDER BY name")
    );
    assert_eq!(c[0].usage.prompt_tokens, 200);
    assert!(c[0].reasons[0].contains("corrected after 2 attempts"));
    let seen = model.seen.lock().unwrap();
    // The demo's verified queries are retrieved into the first prompt.
    assert!(
        seen[0].messages[1]
            .content
            .contains("Verified examples:\nQ: ")
    );
    let feedback = &seen[1].messages.last().unwrap().content;
    // Both problems at once: the unknown column and the refused function.
    assert!(feedback.contains("`regoin`"), "{feedback}");
    assert!(feedback.contains("`pg_sleep` is not allowed"), "{feedback}");
    assert_eq!(seen[1].messages.len(), 4);
}

#[test]
fn a_column_named_through_the_wrong_alias_is_repaired_without_asking_again() {
    let r = request("First names of customers with their region");
    let model = Scripted::new(&[
        "```sql\nSELECT T1.first_name, T1.name FROM regions AS T1 JOIN customers AS T2 \
         ON T1.region_id = T2.region_id\n```",
    ]);
    let g = ModelGenerator::new(model.clone(), ModelOptions::default());
    let c = run(g.generate(&r)).unwrap();
    assert_eq!(
        c[0].sql.as_deref(),
        Some(
            "SELECT T2.first_name, T1.name FROM regions AS T1 JOIN customers AS T2 \
             ON T1.region_id = T2.region_id"
        )
    );
    assert_eq!(
        c[0].reasons,
        ["column references repaired: `T1.first_name` → `T2.first_name`"]
    );
    assert_eq!(model.seen.lock().unwrap().len(), 1);
}

#[test]
fn attempts_are_bounded() {
    let r = request("List the regions");
    let model = Scripted::new(&["no idea", "DELETE FROM orders", "still nothing"]);
    let g = ModelGenerator::new(
        model.clone(),
        ModelOptions {
            max_attempts: 3,
            ..ModelOptions::default()
        },
    );
    let e = run(g.generate(&r)).unwrap_err();
    assert!(e.to_string().contains("in 3 attempts"), "{e}");
    assert_eq!(model.seen.lock().unwrap().len(), 3);
}

#[test]
fn the_hybrid_keeps_confident_embedded_answers_and_asks_the_model_otherwise() {
    let known = request("How many customers are there?");
    let unknown = request("qwzx flurb snorkel gadget thingamajig");
    let model = Scripted::new(&["```sql\nSELECT COUNT(*) FROM customers\n```"]);
    let h = HybridGenerator::new(
        ModelGenerator::new(model.clone(), ModelOptions::default()),
        0.9,
    );
    let c = run(h.generate(&known)).unwrap();
    assert_eq!(c[0].generator, "embedded");
    assert!(model.seen.lock().unwrap().is_empty());
    // Words the embedded generator cannot place: the model answers, shown the draft if any.
    let c = run(h.generate(&unknown)).unwrap();
    assert_eq!(c[0].generator, "scripted");
    assert_eq!(model.seen.lock().unwrap().len(), 1);
}

/// A database stand-in: each SQL text maps to an outcome (rows, fingerprint) or an error;
/// anything else fails as an unknown query. Keeps what it was asked to run.
/// A query's scripted outcome: rows and fingerprint, or the database's error.
type ScriptedRun = Result<(usize, u64), &'static str>;

#[derive(Debug, Default)]
struct FakeDb {
    answers: Vec<(&'static str, ScriptedRun)>,
    ran: Mutex<Vec<String>>,
}

#[async_trait]
impl TrialRunner for FakeDb {
    async fn trial(&self, sql: &str) -> Result<TrialOutcome, String> {
        self.ran.lock().unwrap().push(sql.to_string());
        match self.answers.iter().find(|(s, _)| *s == sql) {
            Some((_, Ok((rows, fingerprint)))) => Ok(TrialOutcome {
                rows: *rows,
                columns: 1,
                fingerprint: *fingerprint,
            }),
            Some((_, Err(e))) => Err(e.to_string()),
            None => Err(format!("unexpected query {sql}")),
        }
    }
}

fn with_db(question: &str, db: FakeDb) -> (GenerationRequest, Arc<FakeDb>) {
    let db = Arc::new(db);
    let mut r = request(question);
    r.trial = Some(db.clone());
    (r, db)
}

#[test]
fn requests_carry_the_schema_grammar_when_constrained() {
    let model = Scripted::new(&["SELECT name FROM regions", "SELECT name FROM regions"]);
    let g = ModelGenerator::new(
        model.clone(),
        ModelOptions {
            constrain: true,
            ..ModelOptions::default()
        },
    );
    run(g.generate(&request("List the regions"))).unwrap();
    let off = ModelGenerator::new(model.clone(), ModelOptions::default());
    run(off.generate(&request("List the regions"))).unwrap();
    let seen = model.seen.lock().unwrap();
    let grammar = seen[0].grammar.as_deref().expect("a grammar");
    assert!(grammar.starts_with("root ::= "), "{grammar}");
    assert!(
        grammar.contains("\"regions\""),
        "the schema's tables are in it"
    );
    assert!(seen[1].grammar.is_none());
}

#[test]
fn a_database_error_goes_back_to_the_model() {
    let (r, db) = with_db(
        "List the regions",
        FakeDb {
            answers: vec![
                (
                    "SELECT name FROM regions WHERE name > 1",
                    Err("operator does not exist: text > integer"),
                ),
                ("SELECT name FROM regions", Ok((4, 7))),
            ],
            ..FakeDb::default()
        },
    );
    let model = Scripted::new(&[
        "SELECT name FROM regions WHERE name > 1",
        "SELECT name FROM regions",
    ]);
    let g = ModelGenerator::new(model.clone(), ModelOptions::default());
    let c = run(g.generate(&r)).unwrap();
    assert_eq!(c[0].sql.as_deref(), Some("SELECT name FROM regions"));
    let seen = model.seen.lock().unwrap();
    let feedback = &seen[1].messages.last().unwrap().content;
    assert!(
        feedback.contains("failed when run on the database: operator does not exist"),
        "{feedback}"
    );
    assert_eq!(db.ran.lock().unwrap().len(), 2);
}

#[test]
fn a_doubtful_answer_is_put_to_an_execution_vote() {
    // The greedy answer returns nothing; three of four samples agree on another answer.
    let (r, _db) = with_db(
        "Which regions have customers?",
        FakeDb {
            answers: vec![
                ("SELECT name FROM regions WHERE name = 'x'", Ok((0, 1))),
                ("SELECT DISTINCT region_id FROM customers", Ok((4, 42))),
                (
                    "SELECT region_id FROM customers GROUP BY region_id",
                    Ok((4, 42)),
                ),
                ("SELECT name FROM regions", Ok((5, 9))),
            ],
            ..FakeDb::default()
        },
    );
    let model = Scripted::new(&[
        "SELECT name FROM regions WHERE name = 'x'",
        "SELECT DISTINCT region_id FROM customers\n===\nSELECT region_id FROM customers GROUP BY region_id\n===\nSELECT name FROM regions\n===\nDROP TABLE regions",
    ]);
    let g = ModelGenerator::new(model.clone(), ModelOptions::default());
    let c = run(g.generate(&r)).unwrap();
    assert_eq!(
        c[0].sql.as_deref(),
        Some("SELECT DISTINCT region_id FROM customers")
    );
    assert!(
        c[0].reasons[0].contains("2 of 3 candidates agree"),
        "{:?}",
        c[0].reasons
    );
    let seen = model.seen.lock().unwrap();
    assert_eq!(seen[1].n, Some(4));
    assert_eq!(seen[1].temperature, Some(0.7));
    // The samples were asked the first prompt, not the conversation of corrections.
    assert_eq!(seen[1].messages, seen[0].messages);
    assert_eq!(c[0].usage.prompt_tokens, 200);
}

#[test]
fn when_no_correction_runs_fresh_samples_are_voted_on() {
    let (r, db) = with_db(
        "List the regions",
        FakeDb {
            answers: vec![
                (
                    "SELECT name FROM regions WHERE name > 1",
                    Err("bad operator"),
                ),
                ("SELECT name FROM regions ORDER BY 1", Ok((5, 9))),
                ("SELECT name FROM regions", Ok((5, 9))),
            ],
            ..FakeDb::default()
        },
    );
    let failing = "SELECT name FROM regions WHERE name > 1";
    let model = Scripted::new(&[
        failing,
        failing,
        failing,
        "SELECT name FROM regions\n===\nSELECT nam FROM regions\n===\nSELECT name FROM regions ORDER BY 1",
    ]);
    let g = ModelGenerator::new(model.clone(), ModelOptions::default());
    let c = run(g.generate(&r)).unwrap();
    assert_eq!(c[0].sql.as_deref(), Some("SELECT name FROM regions"));
    assert!(
        c[0].reasons[0].contains("after 3 attempts") && c[0].reasons[0].contains("2 of 2 agree"),
        "{:?}",
        c[0].reasons
    );
    assert!(c[0].confidence < 0.75, "{}", c[0].confidence);
    assert_eq!(c[0].usage.prompt_tokens, 400);
    // Three tries of the chain, then the two samples the validator let through.
    assert_eq!(db.ran.lock().unwrap().len(), 5);
    // Nothing runs even then: the error says what was tried.
    let (r, _db) = with_db("List the regions", FakeDb::default());
    let model = Scripted::new(&["DELETE FROM orders", "no idea", "still nothing", "nothing"]);
    let g = ModelGenerator::new(model.clone(), ModelOptions::default());
    let e = run(g.generate(&r)).unwrap_err();
    assert!(e.to_string().contains("in 3 attempts"), "{e}");
    assert_eq!(model.seen.lock().unwrap().len(), 4);
}

#[test]
fn a_sure_answer_is_not_voted_on() {
    let (r, _db) = with_db(
        "List the regions",
        FakeDb {
            answers: vec![("SELECT name FROM regions", Ok((5, 9)))],
            ..FakeDb::default()
        },
    );
    let model = Scripted::new(&["SELECT name FROM regions"]);
    let g = ModelGenerator::new(model.clone(), ModelOptions::default());
    let c = run(g.generate(&r)).unwrap();
    assert_eq!(c[0].confidence, 0.75);
    assert_eq!(model.seen.lock().unwrap().len(), 1);
}

#[test]
fn voting() {
    let o = |rows, fingerprint| TrialOutcome {
        rows,
        columns: 1,
        fingerprint,
    };
    let check = |ballots: &[(usize, u64)], expect: (usize, usize, usize)| {
        let b: Vec<(String, TrialOutcome)> = ballots
            .iter()
            .enumerate()
            .map(|(i, &(rows, f))| (format!("q{i}"), o(rows, f)))
            .collect();
        assert_eq!(vote(&b), expect, "{ballots:?}");
    };
    // Majority by result.
    check(&[(1, 1), (1, 2), (1, 2)], (1, 2, 3));
    // Ties go to the first ballot.
    check(&[(1, 1), (1, 2)], (0, 1, 2));
    // Answers with rows outvote empty ones, however many.
    check(&[(0, 5), (0, 5), (0, 5), (2, 8)], (3, 1, 1));
    // All empty: they count.
    check(&[(0, 5), (0, 6), (0, 6)], (1, 2, 3));
}

#[test]
fn the_cell_values_a_question_names_are_spelled_as_stored() {
    let index = cbi_nl2sql::SchemaIndex::new(demo_schema());
    let check = |question: &str, expect: &[&str]| {
        let found = cbi_nl2sql::model::matched_values(&index, question);
        for e in expect {
            assert!(
                found.iter().any(|f| f == e),
                "{question}: {found:?} lacks {e}"
            );
        }
        found
    };
    check(
        "How many small business customers are in the west?",
        &[
            "customers.segment = 'Small Business'",
            "regions.name = 'West'",
        ],
    );
    check(
        "Cancelled orders by month",
        &["orders.status = 'cancelled'"],
    );
    // No value named: nothing to spell out.
    assert_eq!(
        check("How many orders are there?", &[]),
        Vec::<String>::new()
    );
}
