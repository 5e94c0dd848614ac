//! Replaying conversations through a predictor and scoring every answer under both rules.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use super::dataset::{Turn, Unit};
use super::exec::{Executor, Outcome, Rows};
use super::predictor::{AnsweredTurn, Conversation, Prediction, Predictor, Question};
use super::record::Record;
use super::scoring::{bird_eq, order_matters, test_suite_eq};
use super::sqltext::{official_postprocess, remove_distinct, replace_cur_year};

/// How answers are scored.
#[derive(Debug)]
pub struct Scorer {
    pub exec: Arc<Executor>,
    /// Keep `DISTINCT` under the test-suite rule (`--keep_distinct` of the official script).
    pub keep_distinct: bool,
    /// Run test-suite comparisons on every `*.sqlite*` file of the database's folder.
    pub database_suites: bool,
}

/// The databases the test-suite rule runs on: the question's own, then (for the sets scored
/// with test suites) every other file in its folder with `.sqlite` in the name, as
/// test-suite-sql-eval lists them, leaving out SQLite's own journal files.
pub fn suite_of(db: &Path, database_suites: bool) -> Vec<PathBuf> {
    let mut out = vec![db.to_path_buf()];
    if !database_suites {
        return out;
    }
    let Some(folder) = db.parent() else {
        return out;
    };
    let Ok(entries) = std::fs::read_dir(folder) else {
        return out;
    };
    let mut others: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p != db && p.is_file())
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            name.is_some_and(|n| {
                n.contains(".sqlite")
                    && !n.ends_with("-journal")
                    && !n.ends_with("-wal")
                    && !n.ends_with("-shm")
            })
        })
        .collect();
    others.sort();
    out.extend(others);
    out
}

/// The verdict on one answer.
#[derive(Debug, Default)]
pub struct Verdict {
    pub correct_test_suite: bool,
    pub correct_bird: bool,
    pub error: Option<String>,
    pub gold_error: Option<String>,
    pub execution_ms: f64,
}

/// One accepted gold answer, run: its rows under the BIRD rule (as written, on the question's
/// database) and under the test-suite rule (post-processed, on each suite database).
struct GoldRun {
    bird: Arc<Rows>,
    test_suite: Vec<Arc<Rows>>,
    order_matters: bool,
}

impl Scorer {
    /// The text the test-suite rule executes, as `eval_exec_match` and `exec_on_db` prepare it.
    fn test_suite_text(&self, sql: &str) -> String {
        let s = official_postprocess(sql);
        let s = if self.keep_distinct {
            s
        } else {
            remove_distinct(&s)
        };
        replace_cur_year(&s)
    }

    async fn run_gold(&self, suite: &[PathBuf], gold: &str) -> Result<GoldRun, String> {
        let ts_text = self.test_suite_text(gold);
        let bird = self
            .exec
            .run_gold(&suite[0], gold)
            .await
            .map_err(|e| format!("gold SQL failed: {e}"))?;
        let mut test_suite = Vec::with_capacity(suite.len());
        for db in suite {
            let rows = self.exec.run_gold(db, &ts_text).await.map_err(|e| {
                format!(
                    "gold SQL failed as the test-suite rule runs it on {}: {e}",
                    db.display()
                )
            })?;
            test_suite.push(rows);
        }
        Ok(GoldRun {
            bird,
            order_matters: order_matters(&ts_text),
            test_suite,
        })
    }

    /// Scores a prediction against every accepted gold answer; right if any matches.
    pub async fn judge(&self, suite: &[PathBuf], turn: &Turn, prediction: &Prediction) -> Verdict {
        let mut golds = Vec::new();
        let mut first_gold_error = None;
        for g in &turn.gold {
            match self.run_gold(suite, g).await {
                Ok(run) => golds.push(run),
                Err(e) => {
                    first_gold_error.get_or_insert(e);
                }
            }
        }
        if golds.is_empty() {
            return Verdict {
                gold_error: Some(first_gold_error.unwrap_or_else(|| "no gold SQL".to_string())),
                error: prediction.error.clone(),
                ..Verdict::default()
            };
        }
        let Some(sql) = prediction.sql.as_deref() else {
            return Verdict {
                error: Some(format!(
                    "no SQL: {}",
                    prediction
                        .error
                        .as_deref()
                        .unwrap_or("the predictor gave no answer")
                )),
                ..Verdict::default()
            };
        };
        let started = Instant::now();
        let bird_pred: Outcome = self.exec.run(&suite[0], sql).await;
        // the official evaluate() replaces a model's ` value ` placeholders before scoring
        let ts_text = self.test_suite_text(&sql.replace(" value ", " 1 "));
        let mut ts_pred: Vec<Outcome> = Vec::with_capacity(suite.len());
        for (i, db) in suite.iter().enumerate() {
            if i == 0 && ts_text == sql {
                ts_pred.push(bird_pred.clone());
            } else {
                ts_pred.push(self.exec.run(db, &ts_text).await);
            }
        }
        let execution_ms = started.elapsed().as_secs_f64() * 1000.0;
        let error = bird_pred
            .as_ref()
            .err()
            .or_else(|| ts_pred.iter().find_map(|o| o.as_ref().err()))
            .map(|e| format!("prediction failed: {e}"));
        let correct_bird = bird_pred
            .as_ref()
            .is_ok_and(|p| golds.iter().any(|g| bird_eq(&g.bird.rows, &p.rows)));
        let correct_test_suite = golds.iter().any(|g| {
            g.test_suite.iter().zip(&ts_pred).all(|(gold_rows, pred)| {
                pred.as_ref()
                    .is_ok_and(|p| test_suite_eq(&gold_rows.rows, &p.rows, g.order_matters))
            })
        });
        Verdict {
            correct_test_suite,
            correct_bird,
            error: error.or_else(|| prediction.error.clone()),
            gold_error: None,
            execution_ms,
        }
    }
}

/// Replays one conversation: every turn is predicted (seeing only this predictor's own earlier
/// answers), scored, and handed to `on_record` as soon as it is known.
pub async fn run_unit(
    predictor: &dyn Predictor,
    scorer: &Scorer,
    unit: &Unit,
    conversational: bool,
    mut on_record: impl FnMut(Record) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let suite = suite_of(&unit.db_path, scorer.database_suites);
    let mut conversation = Conversation::new(unit.db_id.clone(), unit.db_path.clone());
    for (i, turn) in unit.turns.iter().enumerate() {
        let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let question = Question {
            id: turn.id.clone(),
            text: turn.question.clone(),
            evidence: turn.evidence.clone(),
            turn: number,
        };
        let started = Instant::now();
        let mut prediction = predictor.predict(&mut conversation, &question).await;
        prediction.latency = started.elapsed();
        prediction.confidence = prediction
            .confidence
            .filter(|c| c.is_finite())
            .map(|c| c.clamp(0.0, 1.0));
        conversation.history.push(AnsweredTurn {
            question: turn.question.clone(),
            evidence: turn.evidence.clone(),
            sql: prediction.sql.clone(),
        });
        let verdict = scorer.judge(&suite, turn, &prediction).await;
        on_record(Record {
            id: turn.id.clone(),
            unit: unit.id.clone(),
            db_id: unit.db_id.clone(),
            question: turn.question.clone(),
            turn: conversational.then_some(number),
            predicted_sql: prediction.sql,
            gold_sql: turn.gold_text.clone(),
            correct_test_suite: verdict.correct_test_suite,
            correct_bird: verdict.correct_bird,
            error: verdict.error,
            gold_error: verdict.gold_error,
            hardness: turn.hardness,
            difficulty: turn.difficulty.clone(),
            category: turn.category.clone(),
            generation_ms: prediction.latency.as_secs_f64() * 1000.0,
            execution_ms: verdict.execution_ms,
            prompt_tokens: prediction.usage.prompt_tokens,
            completion_tokens: prediction.usage.completion_tokens,
            confidence: prediction.confidence,
            kind: prediction.kind,
            reasons: prediction.reasons,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use async_trait::async_trait;

    use super::*;
    use crate::eval::hardness::Hardness;

    /// A database with a table `t(id, a, name)` holding duplicates in `a`.
    fn make_db(path: &Path, rows: &[(i64, i64, &str)]) {
        let db = rusqlite::Connection::open(path).unwrap();
        db.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, name TEXT);")
            .unwrap();
        for (id, a, name) in rows {
            db.execute(
                "INSERT INTO t VALUES (?1, ?2, ?3)",
                rusqlite::params![id, a, name],
            )
            .unwrap();
        }
    }

    const ROWS: &[(i64, i64, &str)] = &[(1, 10, "x"), (2, 10, "y"), (3, 20, "z")];

    fn scorer(max_rows: usize, timeout_ms: u64, keep_distinct: bool, suites: bool) -> Scorer {
        Scorer {
            exec: Arc::new(Executor::new(
                max_rows,
                Duration::from_millis(timeout_ms),
                2,
            )),
            keep_distinct,
            database_suites: suites,
        }
    }

    fn turn(gold: &[&str]) -> Turn {
        Turn {
            id: "q".into(),
            question: "?".into(),
            evidence: None,
            gold: gold.iter().map(|s| s.to_string()).collect(),
            gold_text: gold.join("; "),
            hardness: Some(Hardness::Easy),
            difficulty: None,
            category: None,
        }
    }

    async fn judge(s: &Scorer, db: &Path, gold: &[&str], pred: Option<&str>) -> Verdict {
        let suite = suite_of(db, s.database_suites);
        let p = match pred {
            Some(sql) => Prediction::sql(sql),
            None => Prediction::failed("model timed out"),
        };
        s.judge(&suite, &turn(gold), &p).await
    }

    #[tokio::test]
    async fn verdicts_follow_both_rules() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("d.sqlite");
        make_db(&db, ROWS);
        let s = scorer(1000, 5000, false, false);

        // any accepted answer will do
        let v = judge(
            &s,
            &db,
            &["SELECT 1", "SELECT name FROM t WHERE id = 1"],
            Some("SELECT 'x'"),
        )
        .await;
        assert!(v.correct_test_suite && v.correct_bird && v.error.is_none());

        // a failing alternative is ignored; all failing is a gold error
        let v = judge(
            &s,
            &db,
            &["SELECT nope FROM t", "SELECT count(*) FROM t"],
            Some("SELECT 3"),
        )
        .await;
        assert!(v.correct_test_suite && v.gold_error.is_none());
        let v = judge(&s, &db, &["SELECT nope FROM t"], Some("SELECT 3")).await;
        assert!(!v.correct_test_suite && !v.correct_bird);
        assert!(v.gold_error.unwrap().contains("nope"));

        // predictions that fail or are missing are wrong, with the reason
        let v = judge(&s, &db, &["SELECT a FROM t"], Some("SELECT b FROM t")).await;
        assert!(!v.correct_test_suite && !v.correct_bird);
        let e = v.error.unwrap();
        assert!(
            e.starts_with("prediction failed:") && e.contains('b'),
            "{e}"
        );
        let v = judge(&s, &db, &["SELECT a FROM t"], None).await;
        assert_eq!(v.error.as_deref(), Some("no SQL: model timed out"));

        // bag versus set
        let v = judge(
            &s,
            &db,
            &["SELECT a FROM t"],
            Some("SELECT a FROM t WHERE id > 1"),
        )
        .await;
        assert!(!v.correct_test_suite && v.correct_bird);
        // column order
        let v = judge(
            &s,
            &db,
            &["SELECT id, name FROM t"],
            Some("SELECT name, id FROM t"),
        )
        .await;
        assert!(v.correct_test_suite && !v.correct_bird);
        // row order only with ORDER BY in the gold
        let v = judge(
            &s,
            &db,
            &["SELECT id FROM t ORDER BY id"],
            Some("SELECT id FROM t ORDER BY id DESC"),
        )
        .await;
        assert!(!v.correct_test_suite && v.correct_bird);
        let v = judge(
            &s,
            &db,
            &["SELECT id FROM t"],
            Some("SELECT id FROM t ORDER BY id DESC"),
        )
        .await;
        assert!(v.correct_test_suite && v.correct_bird);
        // int versus float
        let v = judge(&s, &db, &["SELECT sum(a) FROM t"], Some("SELECT 40.0")).await;
        assert!(v.correct_test_suite && v.correct_bird);
    }

    #[tokio::test]
    async fn distinct_is_dropped_under_the_test_suite_rule_unless_kept() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("d.sqlite");
        make_db(&db, ROWS);
        let gold = ["SELECT count(DISTINCT a) FROM t"];
        let v = judge(
            &scorer(1000, 5000, false, false),
            &db,
            &gold,
            Some("SELECT count(a) FROM t"),
        )
        .await;
        assert!(
            v.correct_test_suite,
            "the official default removes DISTINCT from both"
        );
        assert!(!v.correct_bird);
        let v = judge(
            &scorer(1000, 5000, true, false),
            &db,
            &gold,
            Some("SELECT count(a) FROM t"),
        )
        .await;
        assert!(!v.correct_test_suite);
    }

    #[tokio::test]
    async fn limits_turn_into_errors() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("d.sqlite");
        make_db(&db, ROWS);
        let v = judge(
            &scorer(2, 5000, false, false),
            &db,
            &["SELECT 1"],
            Some("SELECT id FROM t"),
        )
        .await;
        assert!(!v.correct_test_suite && !v.correct_bird);
        assert!(v.error.unwrap().contains("more than 2 rows"));
        let v = judge(
            &scorer(2, 5000, false, false),
            &db,
            &["SELECT id FROM t"],
            Some("SELECT id FROM t"),
        )
        .await;
        assert!(
            v.gold_error.unwrap().contains("more than 2 rows"),
            "a capped gold is not comparable"
        );
        let slow = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) SELECT max(x) FROM c";
        let started = Instant::now();
        let v = judge(
            &scorer(10, 200, false, false),
            &db,
            &["SELECT 1"],
            Some(slow),
        )
        .await;
        assert!(started.elapsed() < Duration::from_secs(5));
        let e = v.error.unwrap();
        assert!(e.contains("time limit"), "{e}");
    }

    #[tokio::test]
    async fn test_suite_databases_must_all_agree() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("d");
        std::fs::create_dir(&folder).unwrap();
        let db = folder.join("d.sqlite");
        make_db(&db, ROWS);
        make_db(
            &folder.join("d_variant.sqlite"),
            &[(1, 10, "x"), (2, 30, "y")],
        );
        std::fs::write(folder.join("d.sqlite-journal"), b"").unwrap();
        assert_eq!(suite_of(&db, true).len(), 2);
        assert_eq!(suite_of(&db, false).len(), 1);
        // right on the question's database, wrong on the variant
        let gold = ["SELECT name FROM t WHERE a = 10"];
        let pred = Some("SELECT name FROM t WHERE id < 3");
        let v = judge(&scorer(1000, 5000, false, true), &db, &gold, pred).await;
        assert!(!v.correct_test_suite && v.correct_bird);
        let v = judge(&scorer(1000, 5000, false, false), &db, &gold, pred).await;
        assert!(v.correct_test_suite && v.correct_bird);
    }

    /// Answers each turn with the SQL of the question text and remembers what it was shown.
    #[derive(Debug, Default)]
    struct Echo {
        seen: Mutex<Vec<(u32, Vec<Option<String>>)>>,
    }

    #[async_trait]
    impl Predictor for Echo {
        fn name(&self) -> &str {
            "echo"
        }

        async fn predict(
            &self,
            conversation: &mut Conversation,
            question: &Question,
        ) -> Prediction {
            let history = conversation.history.iter().map(|t| t.sql.clone()).collect();
            self.seen.lock().unwrap().push((question.turn, history));
            *conversation.state::<u32>() += 1;
            Prediction {
                confidence: Some(7.0),
                ..Prediction::sql(question.text.clone())
            }
        }
    }

    #[tokio::test]
    async fn conversations_see_their_own_answers_only() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("d.sqlite");
        make_db(&db, ROWS);
        let mut t1 = turn(&["SELECT count(*) FROM t"]);
        t1.id = "0/1".into();
        t1.question = "SELECT 3".into();
        let mut t2 = turn(&["SELECT name FROM t"]);
        t2.id = "0/2".into();
        t2.question = "SELECT 'wrong'".into();
        let unit = Unit {
            id: "0".into(),
            db_id: "d".into(),
            db_path: db,
            turns: vec![t1, t2],
        };
        let echo = Echo::default();
        let mut records = Vec::new();
        run_unit(&echo, &scorer(1000, 5000, false, false), &unit, true, |r| {
            records.push(r);
            Ok(())
        })
        .await
        .unwrap();
        let seen = echo.seen.lock().unwrap().clone();
        assert_eq!(
            seen,
            vec![(1, vec![]), (2, vec![Some("SELECT 3".to_string())])]
        );
        assert_eq!(records.len(), 2);
        assert_eq!(
            (records[0].turn, records[0].correct_test_suite),
            (Some(1), true)
        );
        assert_eq!(
            (records[1].turn, records[1].correct_test_suite),
            (Some(2), false)
        );
        assert_eq!(
            records[1].confidence,
            Some(1.0),
            "confidence is clamped to [0, 1]"
        );
        assert_eq!(records[1].unit, "0");
        assert_eq!(records[1].gold_sql, "SELECT name FROM t");
    }
}
