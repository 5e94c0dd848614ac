//! The schema grammar against real queries: the gold SQL of the bizdev set (business databases
//! the generators were not tuned on), each read against its own database's grammar. A grammar
//! that refused a correct answer would cost accuracy silently, since a constrained model can
//! then only write something else.

use cbi_nl2sql::{SqlGrammar, SqlValidator};
use cbi_types::SqlDialect;

fn datasets() -> std::path::PathBuf {
    std::env::var_os("CBI_DATASETS")
        .map(Into::into)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets")
        })
}

#[tokio::test]
async fn the_grammar_admits_the_gold_answers_of_unseen_business_databases() {
    let dir = datasets().join("bizdev");
    let text = std::fs::read_to_string(dir.join("questions.jsonl"))
        .unwrap_or_else(|e| panic!("bizdev questions in {}: {e}", dir.display()));
    let mut grammars = std::collections::HashMap::new();
    let (mut total, mut admitted, mut refused) = (0, 0, Vec::new());
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let q: serde_json::Value = serde_json::from_str(line).unwrap();
        let db = q["db_id"].as_str().unwrap().to_string();
        let gold = q["gold_sql"].as_str().unwrap().trim().to_string();
        if !grammars.contains_key(&db) {
            let path = dir.join("databases").join(&db).join(format!("{db}.sqlite"));
            let conn = cbi_db::connect(&path.to_string_lossy(), &cbi_db::ConnectOptions::default())
                .await
                .unwrap();
            let schema = conn.introspect().await.unwrap();
            let validator =
                SqlValidator::new(SqlDialect::Sqlite, std::sync::Arc::new(schema.clone()));
            grammars.insert(
                db.clone(),
                (
                    SqlGrammar::for_schema(&schema, SqlDialect::Sqlite),
                    validator,
                ),
            );
        }
        let (grammar, validator) = &grammars[&db];
        // Only answers the validator takes count: the grammar need not admit more.
        if validator.validate(&gold).is_err() {
            continue;
        }
        total += 1;
        if grammar.accepts(&gold) {
            admitted += 1;
        } else {
            refused.push(gold);
        }
    }
    let share = admitted as f64 / total as f64;
    eprintln!(
        "the grammar admits {admitted} of {total} gold answers ({:.1}%); refused, first few:\n{}",
        share * 100.0,
        refused
            .iter()
            .take(15)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(total > 300, "{total} gold answers read");
    assert!(share >= 0.9, "only {:.1}% admitted", share * 100.0);
}
