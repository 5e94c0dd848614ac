//! From prediction records to `report.json`, `report.md` and the summary printed at the end.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::dataset::Format;
use super::hardness::Hardness;
use super::predictor::AnswerKind;
use super::record::Record;

/// Correct answers under both rules in some group of scored questions.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Score {
    pub key: String,
    pub total: usize,
    pub test_suite: usize,
    pub bird: usize,
    pub test_suite_accuracy: f64,
    pub bird_accuracy: f64,
}

impl Score {
    fn add(&mut self, ts: bool, bird: bool) {
        self.total += 1;
        self.test_suite += usize::from(ts);
        self.bird += usize::from(bird);
    }

    fn finish(mut self) -> Self {
        self.test_suite_accuracy = ratio(self.test_suite, self.total);
        self.bird_accuracy = ratio(self.bird, self.total);
        self
    }
}

fn ratio(n: usize, d: usize) -> f64 {
    if d == 0 { 0.0 } else { n as f64 / d as f64 }
}

fn group<'a>(
    records: impl Iterator<Item = &'a Record>,
    key: impl Fn(&Record) -> Option<String>,
    order: impl Fn(&str) -> usize,
) -> Vec<Score> {
    let mut map: BTreeMap<String, Score> = BTreeMap::new();
    for r in records {
        if let Some(k) = key(r) {
            map.entry(k.clone())
                .or_insert_with(|| Score {
                    key: k,
                    ..Score::default()
                })
                .add(r.correct_test_suite, r.correct_bird);
        }
    }
    let mut out: Vec<Score> = map.into_values().map(Score::finish).collect();
    out.sort_by(|a, b| order(&a.key).cmp(&order(&b.key)).then(a.key.cmp(&b.key)));
    out
}

/// Nearest-rank percentiles.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    fn of(mut values: Vec<f64>) -> Self {
        if values.is_empty() {
            return Percentiles::default();
        }
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let at = |p: f64| values[((p / 100.0 * n as f64).ceil() as usize).clamp(1, n) - 1];
        Percentiles {
            mean: values.iter().sum::<f64>() / n as f64,
            p50: at(50.0),
            p95: at(95.0),
            p99: at(99.0),
            max: values[n - 1],
        }
    }
}

/// Dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Price {
    pub prompt_per_million: f64,
    pub completion_per_million: f64,
}

/// List prices in USD per million tokens (prompt, completion) by model-name prefix, as the
/// vendors published them in early 2025; only an estimate. Local models and the oracles cost
/// nothing.
const PRICES: &[(&str, f64, f64)] = &[
    ("gold", 0.0, 0.0),
    ("select1", 0.0, 0.0),
    ("embedded", 0.0, 0.0),
    ("gguf", 0.0, 0.0),
    ("ollama", 0.0, 0.0),
    ("gpt-4o-mini", 0.15, 0.60),
    ("gpt-4o", 2.50, 10.00),
    ("gpt-4.1-mini", 0.40, 1.60),
    ("gpt-4.1", 2.00, 8.00),
    ("claude-3-5-haiku", 0.80, 4.00),
    ("claude-3-5-sonnet", 3.00, 15.00),
    ("claude-3-7-sonnet", 3.00, 15.00),
];

/// The price of a model, by the longest matching prefix of its name (a `provider/` prefix is
/// ignored); `None` when the table does not know it.
pub fn price(model: &str) -> Option<Price> {
    let name = model.rsplit('/').next().unwrap_or(model);
    PRICES
        .iter()
        .filter(|(prefix, _, _)| name.starts_with(prefix))
        .max_by_key(|(prefix, _, _)| prefix.len())
        .map(|&(_, p, c)| Price {
            prompt_per_million: p,
            completion_per_million: c,
        })
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Tokens {
    pub prompt_per_question: f64,
    pub completion_per_question: f64,
    pub price: Option<Price>,
    /// `None` when the model is not in the price table.
    pub estimated_cost_per_question_usd: Option<f64>,
}

/// One confidence band of the calibration table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Band {
    pub band: String,
    pub mean_confidence: f64,
    #[serde(flatten)]
    pub score: Score,
}

const BANDS: [(f64, f64, &str); 4] = [
    (0.0, 0.5, "[0, 0.5)"),
    (0.5, 0.7, "[0.5, 0.7)"),
    (0.7, 0.9, "[0.7, 0.9)"),
    (0.9, f64::INFINITY, "[0.9, 1]"),
];

/// Whole-interaction accuracy for conversational sets.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Interactions {
    #[serde(flatten)]
    pub score: Score,
    /// Interactions left out because a gold query of theirs failed.
    pub excluded_gold_error: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GoldError {
    pub id: String,
    pub db_id: String,
    pub error: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    pub format: String,
    pub model: String,
    pub data: PathBuf,
    pub run_dir: PathBuf,
    /// Questions selected (after `--db`, `--every` and `--limit`), skipped ones included.
    pub questions: usize,
    /// Questions whose database is missing: neither asked nor scored.
    pub skipped: usize,
    pub skipped_by_db: BTreeMap<String, usize>,
    /// Questions answered so far (equals `questions - skipped` when the run is complete).
    pub answered: usize,
    pub gold_errors: usize,
    pub gold_error_list: Vec<GoldError>,
    /// Answered questions whose gold ran: the denominator of accuracy.
    pub scored: usize,
    pub accuracy: Score,
    pub by_hardness: Vec<Score>,
    pub by_difficulty: Vec<Score>,
    pub by_category: Vec<Score>,
    pub by_db: Vec<Score>,
    pub by_turn: Vec<Score>,
    pub interactions: Option<Interactions>,
    /// Predictions without SQL.
    pub no_sql: usize,
    /// Predicted SQL that failed to run (or hit the row cap).
    pub failed_sql: usize,
    pub generation_latency_ms: Percentiles,
    pub execution_ms: Percentiles,
    pub tokens: Tokens,
    pub calibration: Option<Vec<Band>>,
    pub verified: Option<Score>,
    pub clarifications: Option<Score>,
    /// SParC/CoSQL gold queries whose space tokenisation was repaired.
    pub gold_repairs: usize,
    pub rules: BTreeMap<&'static str, String>,
    pub wall_time_s: f64,
    /// Records carried over from an interrupted run.
    pub resumed_records: usize,
}

/// What the report is about, beyond the records.
#[derive(Debug, Clone)]
pub struct Context {
    pub format: Format,
    pub model: String,
    pub data: PathBuf,
    pub run_dir: PathBuf,
    pub questions: usize,
    pub skipped_by_db: BTreeMap<String, usize>,
    pub gold_repairs: usize,
    pub keep_distinct: bool,
    pub wall_time: Duration,
    pub resumed_records: usize,
}

fn turn_key(r: &Record) -> Option<String> {
    r.turn.map(|t| {
        if t >= 4 {
            "4+".to_string()
        } else {
            t.to_string()
        }
    })
}

pub fn build(ctx: &Context, records: &[Record]) -> Report {
    let scored: Vec<&Record> = records.iter().filter(|r| r.scored()).collect();
    let mut accuracy = Score {
        key: "all".into(),
        ..Score::default()
    };
    for r in &scored {
        accuracy.add(r.correct_test_suite, r.correct_bird);
    }
    let hardness_order = |k: &str| {
        Hardness::ALL
            .iter()
            .position(|h| h.as_str() == k)
            .unwrap_or(9)
    };
    let difficulty_order = |k: &str| {
        [
            "easy",
            "simple",
            "medium",
            "moderate",
            "hard",
            "challenging",
        ]
        .iter()
        .position(|d| *d == k)
        .unwrap_or(9)
    };
    let by_hardness = group(
        scored.iter().copied(),
        |r| r.hardness.map(|h| h.as_str().to_string()),
        hardness_order,
    );
    let by_difficulty = group(
        scored.iter().copied(),
        |r| r.difficulty.clone(),
        difficulty_order,
    );
    let by_category = group(scored.iter().copied(), |r| r.category.clone(), |_| 0);
    let by_db = group(scored.iter().copied(), |r| Some(r.db_id.clone()), |_| 0);
    let by_turn = group(scored.iter().copied(), turn_key, |k| {
        k.trim_end_matches('+').parse().unwrap_or(99)
    });

    let interactions = ctx.format.conversational().then(|| {
        let mut units: BTreeMap<&str, Vec<&Record>> = BTreeMap::new();
        for r in records {
            units.entry(r.unit.as_str()).or_default().push(r);
        }
        let mut it = Interactions {
            score: Score {
                key: "interaction".into(),
                ..Score::default()
            },
            ..Interactions::default()
        };
        for turns in units.values() {
            if turns.iter().any(|r| !r.scored()) {
                it.excluded_gold_error += 1;
            } else {
                it.score.add(
                    turns.iter().all(|r| r.correct_test_suite),
                    turns.iter().all(|r| r.correct_bird),
                );
            }
        }
        it.score = it.score.finish();
        it
    });

    let gold_error_list: Vec<GoldError> = records
        .iter()
        .filter_map(|r| {
            r.gold_error.as_ref().map(|e| GoldError {
                id: r.id.clone(),
                db_id: r.db_id.clone(),
                error: e.clone(),
            })
        })
        .collect();

    let n = records.len().max(1) as f64;
    let price = price(&ctx.model);
    // (folds from +0.0: an empty float `sum` is -0.0)
    let prompt = records
        .iter()
        .fold(0.0, |a, r| a + f64::from(r.prompt_tokens))
        / n;
    let completion = records
        .iter()
        .fold(0.0, |a, r| a + f64::from(r.completion_tokens))
        / n;
    let tokens = Tokens {
        prompt_per_question: prompt,
        completion_per_question: completion,
        price,
        estimated_cost_per_question_usd: price
            .map(|p| (prompt * p.prompt_per_million + completion * p.completion_per_million) / 1e6),
    };

    let with_confidence: Vec<&Record> = scored
        .iter()
        .copied()
        .filter(|r| r.confidence.is_some())
        .collect();
    let calibration = (!with_confidence.is_empty()).then(|| {
        BANDS
            .iter()
            .map(|&(lo, hi, name)| {
                let in_band: Vec<&Record> = with_confidence
                    .iter()
                    .copied()
                    .filter(|r| r.confidence.is_some_and(|c| c >= lo && c < hi))
                    .collect();
                let mut score = Score {
                    key: name.to_string(),
                    ..Score::default()
                };
                for r in &in_band {
                    score.add(r.correct_test_suite, r.correct_bird);
                }
                Band {
                    band: name.to_string(),
                    mean_confidence: ratio_f(
                        in_band.iter().filter_map(|r| r.confidence).sum(),
                        in_band.len(),
                    ),
                    score: score.finish(),
                }
            })
            .collect()
    });
    let kind_score = |kind: AnswerKind, key: &str| {
        let mut s = Score {
            key: key.into(),
            ..Score::default()
        };
        for r in scored.iter().filter(|r| r.kind == Some(kind)) {
            s.add(r.correct_test_suite, r.correct_bird);
        }
        (s.total > 0).then(|| s.finish())
    };

    let mut rules = BTreeMap::new();
    rules.insert(
        "test_suite",
        format!(
            "test-suite-sql-eval result_eq: bag of rows under any column permutation; row order checked only when the gold SQL contains `order by`; empty equals empty; column counts must match; DISTINCT {} before execution{}",
            if ctx.keep_distinct { "kept (--keep-distinct)" } else { "removed from both queries (the official default)" },
            if ctx.format.uses_database_suites() { "; run on every *.sqlite* file of the database's folder" } else { "" },
        ),
    );
    rules.insert(
        "bird",
        "BIRD evaluation.py: set(predicted rows) == set(gold rows), columns in order".to_string(),
    );

    Report {
        format: ctx.format.name().to_string(),
        model: ctx.model.clone(),
        data: ctx.data.clone(),
        run_dir: ctx.run_dir.clone(),
        questions: ctx.questions,
        skipped: ctx.skipped_by_db.values().sum(),
        skipped_by_db: ctx.skipped_by_db.clone(),
        answered: records.len(),
        gold_errors: gold_error_list.len(),
        gold_error_list,
        scored: scored.len(),
        accuracy: accuracy.finish(),
        by_hardness,
        by_difficulty,
        by_category,
        by_db,
        by_turn,
        interactions,
        no_sql: scored.iter().filter(|r| r.predicted_sql.is_none()).count(),
        failed_sql: scored
            .iter()
            .filter(|r| r.predicted_sql.is_some() && r.error.is_some())
            .count(),
        generation_latency_ms: Percentiles::of(records.iter().map(|r| r.generation_ms).collect()),
        execution_ms: Percentiles::of(
            records
                .iter()
                .filter(|r| r.predicted_sql.is_some())
                .map(|r| r.execution_ms)
                .collect(),
        ),
        tokens,
        calibration,
        verified: kind_score(AnswerKind::Verified, "verified"),
        clarifications: kind_score(AnswerKind::Clarification, "clarification"),
        gold_repairs: ctx.gold_repairs,
        rules,
        wall_time_s: ctx.wall_time.as_secs_f64(),
        resumed_records: ctx.resumed_records,
    }
}

fn ratio_f(sum: f64, n: usize) -> f64 {
    if n == 0 { 0.0 } else { sum / n as f64 }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn score_rows(out: &mut String, first: &str, scores: &[Score]) {
    let _ = writeln!(out, "| {first} | questions | test-suite | BIRD |");
    let _ = writeln!(out, "|---|---:|---:|---:|");
    for s in scores {
        let _ = writeln!(
            out,
            "| {} | {} | {} ({}) | {} ({}) |",
            s.key,
            s.total,
            pct(s.test_suite_accuracy),
            s.test_suite,
            pct(s.bird_accuracy),
            s.bird
        );
    }
    out.push('\n');
}

/// `report.md`: every table of the report.
pub fn markdown(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Evaluation: {} with `{}`\n", r.format, r.model);
    let _ = writeln!(out, "Data: `{}`  ", r.data.display());
    let _ = writeln!(
        out,
        "Questions: {} selected, {} skipped (database missing), {} answered, {} gold errors excluded, {} scored.\n",
        r.questions, r.skipped, r.answered, r.gold_errors, r.scored
    );
    let _ = writeln!(out, "## Execution accuracy\n");
    if r.scored == 0 {
        let _ = writeln!(out, "No question could be scored.\n");
    } else {
        score_rows(&mut out, "set", std::slice::from_ref(&r.accuracy));
    }
    if let Some(it) = &r.interactions {
        let _ = writeln!(
            out,
            "Interaction match (every turn right): test-suite {} ({}/{}), BIRD {} ({}/{}); {} interactions excluded for a gold error.\n",
            pct(it.score.test_suite_accuracy),
            it.score.test_suite,
            it.score.total,
            pct(it.score.bird_accuracy),
            it.score.bird,
            it.score.total,
            it.excluded_gold_error
        );
    }
    for (title, first, scores) in [
        ("By hardness (Spider levels)", "hardness", &r.by_hardness),
        ("By difficulty", "difficulty", &r.by_difficulty),
        ("By category", "category", &r.by_category),
        ("By turn", "turn", &r.by_turn),
        ("By database", "database", &r.by_db),
    ] {
        if !scores.is_empty() {
            let _ = writeln!(out, "## {title}\n");
            score_rows(&mut out, first, scores);
        }
    }
    if r.skipped > 0 {
        let _ = writeln!(out, "## Skipped (database file missing)\n");
        let _ = writeln!(out, "| database | questions |\n|---|---:|");
        for (db, n) in &r.skipped_by_db {
            let _ = writeln!(out, "| {db} | {n} |");
        }
        out.push('\n');
    }
    if !r.gold_error_list.is_empty() {
        let _ = writeln!(out, "## Gold errors (excluded from accuracy)\n");
        let _ = writeln!(out, "| id | database | error |\n|---|---|---|");
        for g in &r.gold_error_list {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                g.id,
                g.db_id,
                g.error.replace('|', "\\|")
            );
        }
        out.push('\n');
    }
    if let Some(bands) = &r.calibration {
        let _ = writeln!(out, "## Calibration\n");
        let _ = writeln!(
            out,
            "| confidence | questions | mean confidence | test-suite | BIRD |\n|---|---:|---:|---:|---:|"
        );
        for b in bands {
            let _ = writeln!(
                out,
                "| {} | {} | {:.2} | {} | {} |",
                b.band,
                b.score.total,
                b.mean_confidence,
                pct(b.score.test_suite_accuracy),
                pct(b.score.bird_accuracy)
            );
        }
        out.push('\n');
    }
    let extra: Vec<&Score> = [&r.verified, &r.clarifications]
        .into_iter()
        .flatten()
        .collect();
    if !extra.is_empty() {
        let _ = writeln!(out, "## Answer kinds\n");
        let owned: Vec<Score> = extra.into_iter().cloned().collect();
        score_rows(&mut out, "kind", &owned);
    }
    let l = &r.generation_latency_ms;
    let e = &r.execution_ms;
    let _ = writeln!(out, "## Cost and speed\n");
    let _ = writeln!(
        out,
        "| | mean | p50 | p95 | p99 | max |\n|---|---:|---:|---:|---:|---:|"
    );
    let _ = writeln!(
        out,
        "| generation (ms) | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
        l.mean, l.p50, l.p95, l.p99, l.max
    );
    let _ = writeln!(
        out,
        "| predicted SQL execution (ms) | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |\n",
        e.mean, e.p50, e.p95, e.p99, e.max
    );
    let _ = writeln!(
        out,
        "Tokens per question: {:.1} prompt, {:.1} completion; estimated cost per question: {}.\n",
        r.tokens.prompt_per_question,
        r.tokens.completion_per_question,
        r.tokens.estimated_cost_per_question_usd.map_or(
            "unknown (model not in the price table)".to_string(),
            |c| format!("${c:.6}")
        )
    );
    let _ = writeln!(
        out,
        "Predictions without SQL: {}; predicted SQL that failed to run: {}.  ",
        r.no_sql, r.failed_sql
    );
    let _ = writeln!(
        out,
        "Wall time: {:.1} s ({} records carried over from an interrupted run).\n",
        r.wall_time_s, r.resumed_records
    );
    if r.gold_repairs > 0 {
        let _ = writeln!(
            out,
            "Gold SQL repaired for space tokenisation: {} queries.\n",
            r.gold_repairs
        );
    }
    let _ = writeln!(out, "## Rules\n");
    for (k, v) in &r.rules {
        let _ = writeln!(out, "- {k}: {v}");
    }
    out
}

/// The one-screen summary printed when a run ends.
pub fn summary(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} · model {} · {} questions ({} skipped, {} gold errors) · {:.1} s",
        r.format, r.model, r.questions, r.skipped, r.gold_errors, r.wall_time_s
    );
    if r.scored == 0 {
        let _ = writeln!(
            out,
            "  execution accuracy  n/a: no question could be scored"
        );
    } else {
        let _ = writeln!(
            out,
            "  execution accuracy  test-suite {:>6} ({}/{})   BIRD {:>6} ({}/{})",
            pct(r.accuracy.test_suite_accuracy),
            r.accuracy.test_suite,
            r.scored,
            pct(r.accuracy.bird_accuracy),
            r.accuracy.bird,
            r.scored
        );
    }
    if let Some(it) = &r.interactions {
        let _ = writeln!(
            out,
            "  interaction match   test-suite {:>6} ({}/{})   BIRD {:>6}",
            pct(it.score.test_suite_accuracy),
            it.score.test_suite,
            it.score.total,
            pct(it.score.bird_accuracy)
        );
    }
    for (label, scores) in [
        ("hardness", &r.by_hardness),
        ("difficulty", &r.by_difficulty),
        ("turn", &r.by_turn),
    ] {
        if scores.is_empty() {
            continue;
        }
        let parts: Vec<String> = scores
            .iter()
            .map(|s| {
                format!(
                    "{} {}/{}",
                    s.key,
                    pct(s.test_suite_accuracy),
                    pct(s.bird_accuracy)
                )
            })
            .collect();
        let _ = writeln!(out, "  by {label:<10} (ts/bird) {}", parts.join(" · "));
    }
    if r.skipped > 0 {
        let dbs: Vec<String> = r
            .skipped_by_db
            .iter()
            .map(|(db, n)| format!("{db} {n}"))
            .collect();
        let _ = writeln!(out, "  skipped (no database): {}", dbs.join(", "));
    }
    let _ = writeln!(
        out,
        "  no SQL {} · failed SQL {} · generation p50/p95/p99 {:.1}/{:.1}/{:.1} ms · tokens/question {:.0} · cost/question {}",
        r.no_sql,
        r.failed_sql,
        r.generation_latency_ms.p50,
        r.generation_latency_ms.p95,
        r.generation_latency_ms.p99,
        r.tokens.prompt_per_question + r.tokens.completion_per_question,
        r.tokens
            .estimated_cost_per_question_usd
            .map_or("unknown".to_string(), |c| format!("${c:.4}"))
    );
    let _ = writeln!(out, "  report: {}", r.run_dir.join("report.md").display());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, unit: &str, turn: Option<u32>, ts: bool, bird: bool) -> Record {
        Record {
            id: id.into(),
            unit: unit.into(),
            db_id: "db".into(),
            question: "q".into(),
            turn,
            predicted_sql: Some("SELECT 1".into()),
            gold_sql: "SELECT 1".into(),
            correct_test_suite: ts,
            correct_bird: bird,
            error: None,
            gold_error: None,
            hardness: Some(Hardness::Easy),
            difficulty: None,
            category: None,
            generation_ms: 10.0,
            execution_ms: 1.0,
            prompt_tokens: 1000,
            completion_tokens: 100,
            confidence: None,
            kind: None,
            reasons: Vec::new(),
        }
    }

    fn ctx(format: Format, model: &str) -> Context {
        Context {
            format,
            model: model.into(),
            data: "/d".into(),
            run_dir: "/r".into(),
            questions: 0,
            skipped_by_db: BTreeMap::from([("wta_1".to_string(), 2)]),
            gold_repairs: 0,
            keep_distinct: false,
            wall_time: Duration::from_secs(1),
            resumed_records: 0,
        }
    }

    #[test]
    fn gold_errors_are_excluded_and_interactions_need_every_turn() {
        let mut bad = rec("1/2", "1", Some(2), false, false);
        bad.gold_error = Some("no such column".into());
        let records = vec![
            rec("0/1", "0", Some(1), true, true),
            rec("0/2", "0", Some(2), true, false),
            rec("1/1", "1", Some(1), true, true),
            bad,
            rec("2/1", "2", Some(1), true, true),
            rec("2/2", "2", Some(2), true, true),
            rec("2/3", "2", Some(3), false, true),
            rec("2/4", "2", Some(4), true, true),
            rec("2/5", "2", Some(5), true, true),
        ];
        let r = build(&ctx(Format::Sparc, "gold"), &records);
        assert_eq!(r.answered, 9);
        assert_eq!(r.gold_errors, 1);
        assert_eq!(r.scored, 8);
        assert_eq!((r.accuracy.test_suite, r.accuracy.bird), (7, 7));
        let it = r.interactions.clone().unwrap();
        assert_eq!(it.excluded_gold_error, 1);
        assert_eq!(
            (it.score.total, it.score.test_suite, it.score.bird),
            (2, 1, 1)
        );
        let turns: Vec<(&str, usize)> = r
            .by_turn
            .iter()
            .map(|s| (s.key.as_str(), s.total))
            .collect();
        assert_eq!(turns, [("1", 3), ("2", 2), ("3", 1), ("4+", 2)]);
        assert_eq!(r.skipped, 2);
        assert!(markdown(&r).contains("Interaction match"));
    }

    #[test]
    fn categories_and_difficulties_are_scored_apart() {
        let tagged = |id: &str, category: &str, difficulty: &str, ok: bool| Record {
            category: Some(category.into()),
            difficulty: Some(difficulty.into()),
            ..rec(id, id, None, ok, ok)
        };
        let records = vec![
            tagged("1", "top_n", "hard", true),
            tagged("2", "top_n", "easy", false),
            tagged("3", "anti_join", "medium", false),
            rec("4", "4", None, true, true),
        ];
        let r = build(&ctx(Format::Jsonl, "gold"), &records);
        let cats: Vec<(&str, usize, usize)> = r
            .by_category
            .iter()
            .map(|s| (s.key.as_str(), s.test_suite, s.total))
            .collect();
        assert_eq!(cats, [("anti_join", 0, 1), ("top_n", 1, 2)]);
        let levels: Vec<&str> = r.by_difficulty.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(levels, ["easy", "medium", "hard"]);
        assert!(markdown(&r).contains("## By category"));
    }

    #[test]
    fn calibration_bands_and_costs() {
        let mut records = Vec::new();
        for (c, ok) in [
            (0.2, false),
            (0.95, true),
            (1.0, true),
            (0.6, true),
            (0.6, false),
        ] {
            let mut r = rec("x", "x", None, ok, ok);
            r.confidence = Some(c);
            records.push(r);
        }
        let r = build(&ctx(Format::Spider, "openai/gpt-4o-mini-2024"), &records);
        let bands = r.calibration.unwrap();
        let totals: Vec<usize> = bands.iter().map(|b| b.score.total).collect();
        assert_eq!(totals, [1, 2, 0, 2]);
        assert_eq!(bands[1].score.test_suite, 1);
        assert_eq!(bands[3].score.test_suite_accuracy, 1.0);
        // 1000 prompt tokens at $0.15/M + 100 completion tokens at $0.60/M
        let cost = r.tokens.estimated_cost_per_question_usd.unwrap();
        assert!((cost - 0.00021).abs() < 1e-12, "{cost}");
        assert!(
            build(&ctx(Format::Spider, "mystery"), &records)
                .tokens
                .estimated_cost_per_question_usd
                .is_none()
        );
        assert_eq!(price("gold").unwrap().prompt_per_million, 0.0);
        assert_eq!(price("gpt-4o-2024-08-06").unwrap().prompt_per_million, 2.5);
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let p = Percentiles::of((1..=100).map(f64::from).collect());
        assert_eq!((p.p50, p.p95, p.p99, p.max), (50.0, 95.0, 99.0, 100.0));
        assert_eq!(Percentiles::of(vec![]).p50, 0.0);
    }
}
