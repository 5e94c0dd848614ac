//! Printing the engine's answers for people, the same in `cbi ask` and `cbi chat`: the rows (the
//! first few; the rest are counted), the SQL that produced them, how confident cbi is and why,
//! what was computed, and whether a verified query answered. Also clarifying questions, and
//! writing a result to a CSV or JSON file.

use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context as _, bail};
use cbi_engine::{ConfidenceBand, QueryResponse};
use cbi_types::{Clarification, QueryResult};

use crate::output::{self, thousands};

/// Rows shown of a long result unless asked for more.
pub const SHOWN_ROWS: usize = 20;

/// How an answer is printed.
#[derive(Debug, Clone)]
pub struct View {
    /// Most rows shown; the rest are counted in a `… N more rows` line.
    pub max_shown: usize,
    /// Appended to the `… N more rows` line: how to see them.
    pub more_hint: &'static str,
    /// Dim the SQL (a terminal that shows ANSI styles).
    pub dim: bool,
}

/// Whether stdout is a terminal that should get ANSI styles (`NO_COLOR` turns them off).
pub fn styled_stdout() -> bool {
    use std::io::IsTerminal;
    io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// `high`, `medium`, `low`.
pub fn band_name(band: ConfidenceBand) -> &'static str {
    match band {
        ConfidenceBand::High => "high",
        ConfidenceBand::Medium => "medium",
        ConfidenceBand::Low => "low",
    }
}

/// `confidence: high (0.97)`.
pub fn confidence_line(r: &QueryResponse) -> String {
    format!(
        "confidence: {} ({:.2})",
        band_name(r.confidence_band),
        r.confidence
    )
}

/// An answer: rows, SQL, confidence (with its reasons when it is not high), explanation,
/// summary, and `verified answer` when the semantic file's verified query answered.
pub fn write_answer(out: &mut dyn Write, r: &QueryResponse, view: &View) -> io::Result<()> {
    if let Some(result) = &r.result {
        write_rows(out, result, view)?;
        if let Some(chart) = output::bar_chart(result) {
            write!(out, "{chart}")?;
        }
    }
    if let Some(sql) = r.shown_sql.as_ref().or(r.sql.as_ref()) {
        writeln!(out)?;
        write_sql(out, sql, view.dim)?;
        writeln!(out)?;
    }
    writeln!(out, "{}", confidence_line(r))?;
    if r.confidence_band != ConfidenceBand::High {
        write_reasons(out, &r.reasons)?;
    }
    if !r.explanation.trim().is_empty() {
        writeln!(out, "{}", r.explanation.trim())?;
    }
    if let Some(summary) = r.summary.as_deref().filter(|s| !s.trim().is_empty()) {
        writeln!(out, "summary: {}", summary.trim())?;
    }
    if r.verified {
        writeln!(out, "verified answer (from the semantic file)")?;
    }
    if r.cached() {
        writeln!(
            out,
            "from cache (ask again with --fresh, or :fresh in chat, to read the database)"
        )?;
    }
    Ok(())
}

/// The reasons that lowered the confidence, one per line.
pub fn write_reasons(out: &mut dyn Write, reasons: &[String]) -> io::Result<()> {
    for reason in reasons {
        writeln!(out, "  - {reason}")?;
    }
    Ok(())
}

/// The first `view.max_shown` rows as a table, a `… N more rows` line for the rest, and the
/// footer (`N rows in X ms`).
pub fn write_rows(out: &mut dyn Write, result: &QueryResult, view: &View) -> io::Result<()> {
    let shown = view.max_shown.min(result.rows.len());
    if !result.columns.is_empty() {
        let head = QueryResult {
            columns: result.columns.clone(),
            rows: result.rows[..shown].to_vec(),
            truncated: false,
            elapsed: result.elapsed,
        };
        writeln!(out, "{}", output::result_table(&head))?;
    }
    let more = result.rows.len() - shown;
    if more > 0 {
        let noun = if more == 1 { "row" } else { "rows" };
        writeln!(
            out,
            "… {} more {noun}{}",
            thousands(more as u64),
            view.more_hint
        )?;
    }
    writeln!(out, "{}", output::footer(result))
}

/// The SQL, indented by four spaces (and dimmed when `dim`), one line per line.
pub fn write_sql(out: &mut dyn Write, sql: &str, dim: bool) -> io::Result<()> {
    for line in sql.trim().lines() {
        if dim {
            writeln!(out, "    \x1b[2m{line}\x1b[0m")?;
        } else {
            writeln!(out, "    {line}")?;
        }
    }
    Ok(())
}

/// A clarifying question and its numbered options, then `hint` (how to answer).
pub fn write_clarification(out: &mut dyn Write, c: &Clarification, hint: &str) -> io::Result<()> {
    writeln!(out, "{}", c.question.trim())?;
    for (i, option) in c.options.iter().enumerate() {
        writeln!(out, "  {}. {}", i + 1, option.label)?;
    }
    if !hint.is_empty() {
        writeln!(out, "{hint}")?;
    }
    Ok(())
}

/// The file formats a result can be exported to, chosen by the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

impl ExportFormat {
    /// `.csv` or `.json` (any case); anything else is refused rather than guessed.
    pub fn of(path: &Path) -> anyhow::Result<ExportFormat> {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("csv") => Ok(ExportFormat::Csv),
            Some("json") => Ok(ExportFormat::Json),
            _ => bail!(
                "cannot export to {}: the file name must end in .csv or .json",
                path.display()
            ),
        }
    }
}

/// Writes a whole result to `path` as CSV (RFC 4180, header row) or JSON (an array of objects),
/// by the file's extension. Written to a temporary file beside `path` and renamed into place,
/// so a failed export never leaves half a file (nor destroys an older one).
pub fn export(path: &Path, result: &QueryResult) -> anyhow::Result<ExportFormat> {
    let format = ExportFormat::of(path)?;
    let mut bytes = Vec::new();
    match format {
        ExportFormat::Csv => output::write_csv(&mut bytes, result)?,
        ExportFormat::Json => output::write_json(&mut bytes, result)?,
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::write(&tmp, &bytes).and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.with_context(|| format!("cannot write {}", path.display()))?;
    Ok(format)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use cbi_engine::Timings;
    use cbi_types::{ClarificationOption, ColumnMeta, Intent, SessionId, Value};

    use super::*;

    fn result(n: i64) -> QueryResult {
        QueryResult {
            columns: vec![
                ColumnMeta {
                    name: "id".into(),
                    type_name: String::new(),
                },
                ColumnMeta {
                    name: "name".into(),
                    type_name: String::new(),
                },
            ],
            rows: (1..=n)
                .map(|i| vec![Value::Int(i), Value::Text(format!("n{i}"))])
                .collect(),
            truncated: false,
            elapsed: Duration::from_millis(4),
        }
    }

    fn response(rows: i64, confidence: f32) -> QueryResponse {
        QueryResponse {
            session_id: SessionId::new(),
            turn_id: 1,
            question: "q".into(),
            intent: Intent::Query,
            sql: Some("SELECT id, name\nFROM t\nLIMIT 10000".into()),
            shown_sql: None,
            result: Some(result(rows)),
            confidence,
            confidence_band: ConfidenceBand::of(confidence),
            reasons: vec!["`name` could mean two columns".into()],
            explanation: "Lists the ids and names.".into(),
            summary: Some(format!("{rows} rows")),
            verified: false,
            clarification: None,
            export_path: None,
            timings: Timings::default(),
            generator: "embedded".into(),
            usage: cbi_types::TokenUsage::default(),
            cost_usd: 0.0,
            cache: Default::default(),
        }
    }

    fn render(r: &QueryResponse, max_shown: usize) -> String {
        let mut out = Vec::new();
        let view = View {
            max_shown,
            more_hint: " (hint)",
            dim: false,
        };
        write_answer(&mut out, r, &view).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_long_answer_shows_its_head_and_counts_the_rest() {
        let text = render(&response(25, 0.75), SHOWN_ROWS);
        assert!(text.contains(" n20 "), "{text}");
        assert!(!text.contains(" n21 "), "{text}");
        assert!(
            text.contains("\n… 5 more rows (hint)\n25 rows in 4 ms\n"),
            "{text}"
        );
        assert!(
            text.contains("\n    SELECT id, name\n    FROM t\n    LIMIT 10000\n"),
            "{text}"
        );
        assert!(
            text.contains("confidence: medium (0.75)\n  - `name` could mean two columns\n"),
            "{text}"
        );
        assert!(
            text.ends_with("Lists the ids and names.\nsummary: 25 rows\n"),
            "{text}"
        );
        assert!(!text.contains("verified"));
    }

    #[test]
    fn a_confident_verified_answer_keeps_its_reasons_to_itself() {
        let mut r = response(1, 1.0);
        r.verified = true;
        let text = render(&r, SHOWN_ROWS);
        assert!(text.contains("confidence: high (1.00)\n"), "{text}");
        assert!(!text.contains("could mean"), "{text}");
        assert!(!text.contains("more row"), "{text}");
        assert!(text.contains("1 row in 4 ms"), "{text}");
        assert!(
            text.ends_with("verified answer (from the semantic file)\n"),
            "{text}"
        );
        let text = render(&response(3, 0.5), 2);
        assert!(text.contains("… 1 more row (hint)\n"), "{text}");
        assert!(text.contains("confidence: low (0.50)"), "{text}");
    }

    #[test]
    fn clarifications_are_numbered() {
        let c = Clarification {
            question: "Which 'price' do you mean?".into(),
            options: vec![
                ClarificationOption {
                    label: "products.unit_price".into(),
                    payload: serde_json::Value::Null,
                },
                ClarificationOption {
                    label: "order_items.unit_price".into(),
                    payload: serde_json::Value::Null,
                },
            ],
            original_query: "average price".into(),
        };
        let mut out = Vec::new();
        write_clarification(&mut out, &c, "answer with a number").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Which 'price' do you mean?\n  1. products.unit_price\n  2. order_items.unit_price\nanswer with a number\n"
        );
    }

    #[test]
    fn exports_by_extension() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("out.CSV");
        assert_eq!(export(&csv, &result(2)).unwrap(), ExportFormat::Csv);
        assert_eq!(
            std::fs::read_to_string(&csv).unwrap(),
            "id,name\r\n1,n1\r\n2,n2\r\n"
        );
        let json = dir.path().join("out.json");
        assert_eq!(export(&json, &result(1)).unwrap(), ExportFormat::Json);
        let back: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(back, serde_json::json!([{"id": 1, "name": "n1"}]));

        let e = export(&dir.path().join("out.xlsx"), &result(1)).unwrap_err();
        assert!(e.to_string().contains("must end in .csv or .json"), "{e}");
        let e = export(&dir.path().join("missing/out.csv"), &result(1)).unwrap_err();
        assert!(e.to_string().starts_with("cannot write "), "{e}");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 2, "no temporary files left: {names:?}");
    }
}
