use std::time::Duration;

use cbi_types::{Clarification, Intent, QueryResult, SessionId, Value};
use serde::Serialize;

/// How sure the engine is, in words a person can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfidenceBand {
    /// Verified, or everything in the question was understood.
    High,
    /// Probably right; worth a glance at the SQL.
    Medium,
    /// A guess: check the SQL, or rephrase.
    Low,
}

impl ConfidenceBand {
    pub fn of(confidence: f32) -> Self {
        if confidence >= 0.9 {
            ConfidenceBand::High
        } else if confidence >= 0.7 {
            ConfidenceBand::Medium
        } else {
            ConfidenceBand::Low
        }
    }
}

/// Where the time went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Timings {
    #[serde(with = "micros")]
    pub schema: Duration,
    #[serde(with = "micros")]
    pub generate: Duration,
    #[serde(with = "micros")]
    pub validate: Duration,
    #[serde(with = "micros")]
    pub execute: Duration,
    #[serde(with = "micros")]
    pub total: Duration,
}

mod micros {
    use std::time::Duration;

    use serde::Serializer;

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64() * 1000.0)
    }
}

/// The engine's answer to one question.
#[derive(Debug, Clone, Serialize)]
pub struct QueryResponse {
    pub session_id: SessionId,
    pub turn_id: u32,
    pub question: String,
    pub intent: Intent,
    /// The SQL that ran (after validation), unless a clarifying question was asked.
    pub sql: Option<String>,
    /// The same SQL as a person reads it: without the row-cap `LIMIT` the validator added
    /// (the cap still applied).
    pub shown_sql: Option<String>,
    pub result: Option<QueryResult>,
    /// 0..1.
    pub confidence: f32,
    pub confidence_band: ConfidenceBand,
    /// What lowered the confidence.
    pub reasons: Vec<String>,
    /// A plain-English sentence of what was computed.
    pub explanation: String,
    /// A one-line summary of the result ("3 rows; West has the highest total revenue").
    pub summary: Option<String>,
    /// Answered with a verified query from the semantic file.
    pub verified: bool,
    /// A question back to the person, with the choices to pick from.
    pub clarification: Option<Clarification>,
    /// A file name the person asked to export to ("export that to sales.csv").
    pub export_path: Option<String>,
    pub timings: Timings,
    /// Which generator wrote the SQL (`embedded`, `hybrid:openai:gpt-4o-mini`, …).
    pub generator: String,
    /// Model tokens spent on this answer (zero for the embedded generator).
    pub usage: cbi_types::TokenUsage,
    /// Their estimated cost in US dollars, where the model's price is known.
    pub cost_usd: f64,
    /// What came from the engine's caches instead of being worked out again.
    pub cache: CacheUse,
}

/// Which parts of an answer were reused: the SQL (the same question read against the same
/// conversation, schema, semantic file, generator and permissions) and the rows (the same
/// validated SQL on the same database, within the rows' time to live).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct CacheUse {
    pub sql: bool,
    pub rows: bool,
}

impl QueryResponse {
    /// Whether the rows shown came from the cache (they may be up to the configured time to
    /// live old; ask for a fresh run to read the database again).
    pub fn cached(&self) -> bool {
        self.cache.rows
    }

    /// The answer as JSON, in the one shape every front end gives (`cbi ask --json`, the
    /// HTTP API, MCP): rows as arrays of plain JSON values in column order, numbers as
    /// numbers, dates as ISO 8601 strings.
    pub fn to_json(&self) -> serde_json::Value {
        let (columns, rows, truncated) = match &self.result {
            Some(r) => (
                r.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
                r.rows_json(),
                r.truncated,
            ),
            None => (Vec::new(), Vec::new(), false),
        };
        serde_json::json!({
            "session_id": self.session_id,
            "turn_id": self.turn_id,
            "question": self.question,
            "intent": self.intent,
            "sql": self.sql,
            "shown_sql": self.shown_sql,
            "columns": columns,
            "row_count": rows.len(),
            "rows": rows,
            "truncated": truncated,
            "confidence": self.confidence,
            "confidence_band": self.confidence_band,
            "reasons": self.reasons,
            "explanation": self.explanation,
            "summary": self.summary,
            "verified": self.verified,
            "clarification": self.clarification,
            "generator": self.generator,
            "timings_ms": self.timings,
            "usage": self.usage,
            "cost_usd": self.cost_usd,
            "cached": self.cached(),
            "cache": self.cache,
        })
    }
}

/// A statement's rows as JSON, in the shape every front end gives for SQL a person ran:
/// `sql` (as it ran), `columns`, `rows` (arrays of plain values), `row_count`, `truncated`.
pub fn result_json(sql: &str, r: &QueryResult) -> serde_json::Value {
    let rows = r.rows_json();
    serde_json::json!({
        "sql": sql,
        "columns": r.columns.iter().map(|c| &c.name).collect::<Vec<_>>(),
        "row_count": rows.len(),
        "rows": rows,
        "truncated": r.truncated,
    })
}

/// Statements longer than this are shown as they are: a layout is for reading, and nobody
/// reads one this long.
const FORMAT_MAX_BYTES: usize = 16 << 10;

/// SQL laid out for reading: one clause per line, short lists kept on one line, joins as
/// clauses of their own, words and literals untouched. Only for showing; what runs is the
/// validated text itself.
pub fn format_sql(sql: &str) -> String {
    if sql.len() > FORMAT_MAX_BYTES {
        return sql.to_string();
    }
    let options = sqlformat::FormatOptions {
        indent: sqlformat::Indent::Spaces(2),
        max_inline_block: 60,
        max_inline_arguments: Some(72),
        max_inline_top_level: Some(72),
        joins_as_top_level: true,
        ..sqlformat::FormatOptions::default()
    };
    let formatted = sqlformat::format(sql, &sqlformat::QueryParams::None, &options);
    // The layout changes only whitespace; anything else is shown as it ran.
    if squeeze(&formatted) == squeeze(sql) {
        formatted.trim().to_string()
    } else {
        sql.to_string()
    }
}

/// The text without whitespace, to check a layout changed nothing else.
fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// A one-line summary of a result for people and for the conversation history.
pub fn summarize_result(r: &QueryResult) -> String {
    let rows = r.rows.len();
    let count = if r.truncated {
        format!("{rows}+ rows (truncated)")
    } else if rows == 1 {
        "1 row".to_string()
    } else {
        format!("{rows} rows")
    };
    if let Some(v) = r.scalar() {
        let shown = match v {
            Value::Int(_) | Value::Float(_) | Value::Decimal(_) => {
                v.as_f64().map_or_else(|| v.to_string(), readable_number)
            }
            other => other.to_string(),
        };
        return format!("{} = {shown}", r.columns[0].name);
    }
    // A label column and a numeric column: name the top one.
    if rows > 1 && r.columns.len() >= 2 {
        let label = (0..r.columns.len()).find(|&c| {
            r.rows
                .iter()
                .all(|row| matches!(row.get(c), Some(Value::Text(_)) | Some(Value::Null)))
        });
        let measure = (0..r.columns.len()).rev().find(|&c| {
            r.rows.iter().all(|row| {
                row.get(c)
                    .is_some_and(|v| v.as_f64().is_some() || v.is_null())
            })
        });
        if let (Some(l), Some(m)) = (label, measure) {
            if l != m {
                let best = r
                    .rows
                    .iter()
                    .filter_map(|row| Some((row.get(l)?, row.get(m)?.as_f64()?)))
                    .max_by(|a, b| a.1.total_cmp(&b.1));
                if let Some((name, value)) = best {
                    return format!(
                        "{count}; {name} has the highest {} ({})",
                        r.columns[m].name,
                        readable_number(value)
                    );
                }
            }
        }
    }
    count
}

/// A number as people read it: whole numbers as they are, others to two decimals, thousands
/// grouped (`1,234,567.89`).
fn readable_number(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let text = if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.2}")
    };
    let (sign, rest) = match text.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", text.as_str()),
    };
    let (whole, fraction) = rest
        .split_once('.')
        .map_or((rest, None), |(w, f)| (w, Some(f)));
    // Past u64 (1e20 and up): the digits as they are.
    let grouped = whole
        .parse::<u64>()
        .map_or_else(|_| whole.to_string(), cbi_types::group_digits);
    match fraction {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use cbi_types::ColumnMeta;

    use super::*;

    #[test]
    fn sql_is_laid_out_for_reading_without_changing_it() {
        let sql = "SELECT regions.name AS region, SUM(order_items.quantity * order_items.unit_price) AS revenue FROM order_items JOIN orders ON orders.order_id = order_items.order_id JOIN stores ON stores.store_id = orders.store_id JOIN regions ON regions.region_id = stores.region_id WHERE orders.status <> 'Returned  twice' GROUP BY regions.name ORDER BY revenue DESC";
        let shown = format_sql(sql);
        assert!(shown.lines().count() >= 6, "{shown}");
        assert!(shown.starts_with("SELECT"), "{shown}");
        assert!(shown.contains("'Returned  twice'"), "{shown}");
        assert!(
            shown
                .lines()
                .any(|l| l.trim_start().starts_with("JOIN regions")),
            "{shown}"
        );
        assert_eq!(squeeze(&shown), squeeze(sql));
        // Short statements stay short.
        assert_eq!(
            format_sql("SELECT COUNT(*) FROM customers"),
            "SELECT COUNT(*)\nFROM customers"
        );
    }

    #[test]
    fn very_long_sql_is_shown_as_it_is() {
        let sql = format!("SELECT 1 WHERE x IN ({})", vec!["1"; 10_000].join(", "));
        assert_eq!(format_sql(&sql), sql);
    }

    fn result(cols: &[&str], rows: Vec<Vec<Value>>) -> QueryResult {
        QueryResult {
            columns: cols
                .iter()
                .map(|c| ColumnMeta {
                    name: c.to_string(),
                    type_name: String::new(),
                })
                .collect(),
            rows,
            truncated: false,
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn summaries() {
        assert_eq!(
            summarize_result(&result(&["n"], vec![vec![Value::Int(42)]])),
            "n = 42"
        );
        let r = result(
            &["region", "revenue"],
            vec![
                vec![Value::Text("East".into()), Value::Float(10.5)],
                vec![Value::Text("West".into()), Value::Float(99.25)],
            ],
        );
        assert_eq!(
            summarize_result(&r),
            "2 rows; West has the highest revenue (99.25)"
        );
        assert_eq!(summarize_result(&result(&["a", "b"], vec![])), "0 rows");
        // Numbers read as people read them.
        assert_eq!(
            summarize_result(&result(
                &["revenue"],
                vec![vec![Value::Float(91924.50600000001)]]
            )),
            "revenue = 91,924.51"
        );
        assert_eq!(
            summarize_result(&result(&["n"], vec![vec![Value::Int(1234567)]])),
            "n = 1,234,567"
        );
        for (v, shown) in [
            (0.0, "0"),
            (-1234.5, "-1,234.50"),
            (999.0, "999"),
            (1000.0, "1,000"),
            (535091.49, "535,091.49"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(readable_number(v), shown);
        }
        assert_eq!(ConfidenceBand::of(0.95), ConfidenceBand::High);
        assert_eq!(ConfidenceBand::of(0.5), ConfidenceBand::Low);
    }
}
