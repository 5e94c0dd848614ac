//! Rendering query results for people (a table) and for programs (JSON, CSV).
//!
//! Shared by every command that prints rows (`sql` today, `ask` later), so results look the same
//! everywhere: `NULL` is shown as `NULL` in tables and as an empty field in CSV, numbers are
//! right-aligned, and JSON keeps each value's type.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use cbi_types::{QueryResult, Value};
use comfy_table::{CellAlignment, ContentArrangement, Table, presets};

/// How rows are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// Longest text shown in one table cell; the rest is elided (JSON and CSV are never cut).
const MAX_CELL_CHARS: usize = 120;

/// A table in the house style, for results and schema views alike.
pub fn new_table() -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    t
}

/// Writes a result in `format`. Table output ends with the [`footer`] line; JSON and CSV are the
/// data only.
///
/// Inside a query's deadline: JSON and CSV are written row by row and stop
/// with a `TimedOut` error once `deadline` passes, so formatting a huge result cannot outlast
/// the time limit the query itself obeyed. (Tables are built from cells cut to a few dozen
/// characters, so they stay quick.)
pub fn write_result_by(
    out: &mut dyn Write,
    r: &QueryResult,
    format: Format,
    deadline: Option<Instant>,
) -> io::Result<()> {
    match format {
        Format::Table => {
            if !r.columns.is_empty() {
                writeln!(out, "{}", result_table(r))?;
            }
            writeln!(out, "{}", footer(r))
        }
        Format::Json => write_json_by(out, r, deadline),
        Format::Csv => write_csv_by(out, r, deadline),
    }
}

/// `TimedOut` once `deadline` has passed.
fn in_time(deadline: Option<Instant>) -> io::Result<()> {
    match deadline {
        Some(d) if Instant::now() >= d => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "writing the result ran past the query's time limit; the output is incomplete",
        )),
        _ => Ok(()),
    }
}

/// The rows as a table, numeric columns right-aligned.
pub fn result_table(r: &QueryResult) -> Table {
    let mut t = new_table();
    t.set_header(r.columns.iter().map(|c| c.name.as_str()));
    let grouped: Vec<bool> = r.columns.iter().map(|c| groups_digits(&c.name)).collect();
    let mut cells: Vec<Vec<String>> = r
        .rows
        .iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .map(|(i, v)| {
                    number_text(v, grouped.get(i).copied().unwrap_or(true))
                        .unwrap_or_else(|| cell_text(v))
                })
                .collect()
        })
        .collect();
    align_decimals(r, &mut cells);
    for row in cells {
        t.add_row(row);
    }
    for i in 0..r.columns.len() {
        let mut values = r
            .rows
            .iter()
            .filter_map(|row| row.get(i))
            .filter(|v| !v.is_null());
        let mut any = false;
        let numeric = values.all(|v| {
            any = true;
            is_number(v)
        });
        if any && numeric {
            if let Some(col) = t.column_mut(i) {
                col.set_cell_alignment(CellAlignment::Right);
            }
        }
    }
    t
}

fn is_number(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::Float(_) | Value::Decimal(_))
}

/// Widest bar of [`bar_chart`], in character cells.
const BAR_WIDTH: usize = 32;

/// A small bar chart of a grouped result — one label column and one numeric column, 2 to 20
/// rows, no negative values — drawn with block characters (eighths for the fractional end):
/// the shape of the answer at a glance, under its table. `None` for any other shape.
pub fn bar_chart(r: &QueryResult) -> Option<String> {
    if r.columns.len() != 2 || !(2..=20).contains(&r.rows.len()) {
        return None;
    }
    let mut bars = Vec::with_capacity(r.rows.len());
    for row in &r.rows {
        let label = match &row[0] {
            Value::Null => "NULL".to_string(),
            v if is_number(v) => return None,
            v => cell_text(v),
        };
        let value = row[1].as_f64().filter(|v| v.is_finite() && *v >= 0.0)?;
        bars.push((
            label,
            value,
            number_text(&row[1], groups_digits(&r.columns[1].name))?,
        ));
    }
    // The values as the table shows them, decimals aligned.
    let mut shown: Vec<Vec<String>> = bars
        .iter()
        .map(|b| vec![String::new(), b.2.clone()])
        .collect();
    align_decimals(r, &mut shown);
    for (b, s) in bars.iter_mut().zip(shown) {
        b.2 = s[1].clone();
    }
    let max = bars.iter().map(|b| b.1).fold(0.0, f64::max);
    if max <= 0.0 {
        return None;
    }
    let label_width = bars
        .iter()
        .map(|b| b.0.chars().count())
        .max()
        .unwrap_or(0)
        .min(24);
    const EIGHTHS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let mut out = String::new();
    for (label, value, shown) in bars {
        let label: String = if label.chars().count() > label_width {
            let mut cut: String = label.chars().take(label_width - 1).collect();
            cut.push('…');
            cut
        } else {
            label
        };
        let eighths = (value / max * (BAR_WIDTH * 8) as f64).round() as usize;
        let mut bar = "█".repeat(eighths / 8);
        if eighths % 8 > 0 {
            bar.push(EIGHTHS[eighths % 8]);
        }
        out.push_str(&format!("{label:<label_width$}  {bar} {shown}\n"));
    }
    Some(out)
}

/// Gives the fractional numbers of a column the same number of decimals, up to two
/// (`1,884,650.4` beside `1,640,771.73` becomes `1,884,650.40`), so amounts line up.
fn align_decimals(r: &QueryResult, cells: &mut [Vec<String>]) {
    for col in 0..r.columns.len() {
        let fractional =
            |row: &[Value]| matches!(row.get(col), Some(Value::Float(_) | Value::Decimal(_)));
        let decimals = r
            .rows
            .iter()
            .zip(cells.iter())
            .filter(|(row, _)| fractional(row))
            .filter_map(|(_, c)| c.get(col))
            .map(|text| text.split_once('.').map_or(0, |(_, f)| f.len()))
            .max()
            .unwrap_or(0);
        if decimals == 0 || decimals > 2 {
            continue;
        }
        for (row, c) in r.rows.iter().zip(cells.iter_mut()) {
            if !fractional(row) {
                continue;
            }
            if let Some(text) = c.get_mut(col) {
                let have = text.split_once('.').map_or(0, |(_, f)| f.len());
                if have == 0 {
                    text.push('.');
                }
                text.push_str(&"0".repeat(decimals - have));
            }
        }
    }
}

/// Column-name words that mark numbers read as labels, not quantities (ids, years, codes):
/// shown without digit groups.
const LABEL_NUMBER_WORDS: &[&str] = &[
    "id", "year", "code", "zip", "postcode", "phone", "number", "no", "num", "key", "version",
];

/// Whether a column's whole numbers are shown in groups of three (`27,500`), from its name:
/// not for identifiers, years, codes and the like.
fn groups_digits(column: &str) -> bool {
    let lower = column.to_ascii_lowercase();
    !lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .any(|w| LABEL_NUMBER_WORDS.contains(&w))
}

/// A number as a person reads it in a table: fractions rounded to two decimals (four
/// significant digits below 1), trailing zeros dropped (`120000.000000000000` → `120,000`),
/// digits grouped where the column holds quantities. `None` for anything else. Exact values
/// stay available through `--json` and `--csv`.
fn number_text(v: &Value, grouped: bool) -> Option<String> {
    let (negative, int_part, frac) = match v {
        Value::Int(i) => (*i < 0, i.unsigned_abs().to_string(), String::new()),
        // Past what digit groups make readable: scientific notation.
        Value::Float(f) if f.is_finite() && f.abs() >= 1e15 => return Some(format!("{f:e}")),
        Value::Float(f) if f.is_finite() => split_decimal(&rounded(*f)),
        Value::Decimal(d) => {
            let f = d.to_string().parse::<f64>().ok()?;
            if f.abs() >= 1e15 {
                return Some(d.normalize().to_string());
            }
            split_decimal(&rounded(f))
        }
        _ => return None,
    };
    let int_text = if grouped {
        match int_part.parse::<u64>() {
            Ok(n) => thousands(n),
            Err(_) => int_part,
        }
    } else {
        int_part
    };
    let sign = if negative { "-" } else { "" };
    Some(if frac.is_empty() {
        format!("{sign}{int_text}")
    } else {
        format!("{sign}{int_text}.{frac}")
    })
}

/// `f` printed with two decimals at or above 1 in size, four significant digits below it,
/// without trailing zeros.
fn rounded(f: f64) -> String {
    let text = if f.abs() >= 1.0 || f == 0.0 {
        format!("{f:.2}")
    } else {
        // 0.012345 → 0.01235: four significant digits.
        let digits = (-f.abs().log10().floor()) as usize + 3;
        format!("{f:.digits$}")
    };
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// `-1234.5` → (true, "1234", "5").
fn split_decimal(text: &str) -> (bool, String, String) {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int_part, frac) = body.split_once('.').unwrap_or((body, ""));
    // "-0" after rounding a tiny negative number is plain zero.
    let negative = negative && (!int_part.trim_start_matches('0').is_empty() || !frac.is_empty());
    (negative, int_part.to_string(), frac.to_string())
}

/// A value as a table cell shows it: `NULL`, and long text elided.
fn cell_text(v: &Value) -> String {
    // Long text and blobs are cut before they are formatted: a 64 MiB blob is never turned
    // into 128 MiB of hex only to show its first few bytes.
    let s = match v {
        Value::Text(t) if t.len() > 4 * MAX_CELL_CHARS => {
            t.chars().take(MAX_CELL_CHARS).collect::<String>()
        }
        Value::Bytes(b) if b.len() > MAX_CELL_CHARS => {
            let mut s = cbi_types::to_hex(&b[..MAX_CELL_CHARS]);
            s.push('…');
            s
        }
        other => other.to_string(),
    };
    if s.chars().count() > MAX_CELL_CHARS {
        let mut cut: String = s.chars().take(MAX_CELL_CHARS - 1).collect();
        cut.push('…');
        cut
    } else {
        s
    }
}

/// `N rows in X ms`, or `N rows (truncated at N) in X ms` when the row cap cut the result.
pub fn footer(r: &QueryResult) -> String {
    let n = r.row_count();
    let rows = if n == 1 { "row" } else { "rows" };
    let truncated = if r.truncated {
        format!(" (truncated at {n})")
    } else {
        String::new()
    };
    format!("{n} {rows}{truncated} in {}", duration(r.elapsed))
}

/// A short human duration: `850 ms`, `1.2 s`.
pub fn duration(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// `27500` → `27,500`.
pub fn thousands(n: u64) -> String {
    cbi_types::group_digits(n)
}

/// Writes `[` one object per row, keys in column order `]`.
///
/// Keys are the column names; a name that repeats (`SELECT a.id, b.id`) gets `_2`, `_3` … so no
/// value is lost to a duplicate key.
pub fn write_json(out: &mut dyn Write, r: &QueryResult) -> io::Result<()> {
    write_json_by(out, r, None)
}

fn write_json_by(
    out: &mut dyn Write,
    r: &QueryResult,
    deadline: Option<Instant>,
) -> io::Result<()> {
    let keys: Vec<String> = unique_keys(r.columns.iter().map(|c| c.name.as_str()))
        .iter()
        .map(|k| serde_json::Value::String(k.clone()).to_string())
        .collect();
    if r.rows.is_empty() {
        return writeln!(out, "[]");
    }
    writeln!(out, "[")?;
    for (n, row) in r.rows.iter().enumerate() {
        in_time(deadline)?;
        write!(out, "  {{")?;
        for (i, (key, value)) in keys.iter().zip(row).enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(out, "{sep}{key}: {}", json_value(value))?;
        }
        let comma = if n + 1 == r.rows.len() { "" } else { "," };
        writeln!(out, "}}{comma}")?;
    }
    writeln!(out, "]")
}

fn unique_keys<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for name in names {
        let mut key = name.to_string();
        let mut n = 2;
        while keys.contains(&key) {
            key = format!("{name}_{n}");
            n += 1;
        }
        keys.push(key);
    }
    keys
}

/// A value as JSON, keeping its type (see [`Value::to_json`]).
pub fn json_value(v: &Value) -> serde_json::Value {
    v.to_json()
}

/// Writes RFC 4180 CSV: a header row, then one record per row, NULL as an empty field.
pub fn write_csv(out: &mut dyn Write, r: &QueryResult) -> io::Result<()> {
    write_csv_by(out, r, None)
}

fn write_csv_by(out: &mut dyn Write, r: &QueryResult, deadline: Option<Instant>) -> io::Result<()> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    w.write_record(r.columns.iter().map(|c| c.name.as_str()))
        .map_err(csv_io)?;
    for row in &r.rows {
        in_time(deadline)?;
        w.write_record(row.iter().map(csv_field)).map_err(csv_io)?;
    }
    w.flush()
}

fn csv_field(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bytes(b) => cbi_types::to_hex(b),
        Value::Timestamp(_) | Value::TimestampTz(_) | Value::Date(_) | Value::Time(_) => {
            match json_value(v) {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            }
        }
        other => other.to_string(),
    }
}

fn csv_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn amounts_in_a_column_share_their_decimals() {
        let r = result(
            &["region", "revenue"],
            vec![
                vec![Value::Text("North".into()), Value::Float(1640771.726)],
                vec![Value::Text("South".into()), Value::Float(1884650.3955)],
                vec![Value::Text("East".into()), Value::Float(2.0)],
                vec![Value::Text("West".into()), Value::Null],
            ],
        );
        let text = result_table(&r).to_string();
        for shown in ["1,640,771.73", "1,884,650.40", "2.00", "NULL"] {
            assert!(text.contains(shown), "{shown}: {text}");
        }
        // Small values keep their significant digits; nothing is padded to five decimals.
        let r = result(
            &["rate"],
            vec![vec![Value::Float(0.012345)], vec![Value::Float(1.5)]],
        );
        let text = result_table(&r).to_string();
        assert!(text.contains("0.01235") && text.contains(" 1.5 "), "{text}");
    }

    #[test]
    fn grouped_results_get_a_bar_chart() {
        let r = result(
            &["region", "revenue"],
            vec![
                vec![Value::Text("West".into()), Value::Float(2000.0)],
                vec![
                    Value::Text("a very long region name indeed".into()),
                    Value::Float(1000.0),
                ],
                vec![Value::Text("North".into()), Value::Float(0.0)],
            ],
        );
        let chart = super::bar_chart(&r).unwrap();
        let lines: Vec<&str> = chart.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(
            lines[0].starts_with("West ") && lines[0].ends_with(" 2,000"),
            "{chart}"
        );
        assert_eq!(lines[0].matches('█').count(), super::BAR_WIDTH, "{chart}");
        assert_eq!(
            lines[1].matches('█').count(),
            super::BAR_WIDTH / 2,
            "{chart}"
        );
        assert!(lines[1].starts_with("a very long region name…"), "{chart}");
        assert!(lines[2].ends_with("  0"), "{chart}");
        // Other shapes get none: one row, a negative value, a numeric label, three columns.
        let one = result(
            &["a", "n"],
            vec![vec![Value::Text("x".into()), Value::Int(1)]],
        );
        assert!(super::bar_chart(&one).is_none());
        let negative = result(
            &["a", "n"],
            vec![
                vec![Value::Text("x".into()), Value::Int(1)],
                vec![Value::Text("y".into()), Value::Int(-1)],
            ],
        );
        assert!(super::bar_chart(&negative).is_none());
        let numeric_label = result(
            &["year", "n"],
            vec![
                vec![Value::Int(2023), Value::Int(1)],
                vec![Value::Int(2024), Value::Int(2)],
            ],
        );
        assert!(super::bar_chart(&numeric_label).is_none());
    }

    #[test]
    fn numbers_read_well() {
        use rust_decimal::Decimal;
        use std::str::FromStr;
        let dec = |s: &str| Value::Decimal(Decimal::from_str(s).unwrap());
        for (value, grouped, shown) in [
            (Value::Float(91924.50600000001), true, "91,924.51"),
            (dec("120000.000000000000"), true, "120,000"),
            (dec("-1234.5"), true, "-1,234.5"),
            (Value::Float(0.012345), true, "0.01235"),
            (Value::Float(-0.0000001), true, "-0.0000001"),
            (Value::Float(0.0), true, "0"),
            (Value::Float(2.0), true, "2"),
            (Value::Float(-0.001), true, "-0.001"),
            (Value::Int(27500), true, "27,500"),
            (Value::Int(-27500), true, "-27,500"),
            (Value::Int(2024), false, "2024"),
            (Value::Int(i64::MIN), true, "-9,223,372,036,854,775,808"),
            (Value::Float(1e300), true, "1e300"),
            (Value::Float(-2.5e16), true, "-2.5e16"),
        ] {
            let got = super::number_text(&value, grouped).unwrap();
            assert_eq!(got, shown, "{value:?}");
        }
        assert_eq!(super::number_text(&Value::Text("7".into()), true), None);
        assert_eq!(super::number_text(&Value::Float(f64::NAN), true), None);
        for (column, grouped) in [
            ("revenue", true),
            ("COUNT(*)", true),
            ("customer_id", false),
            ("id", false),
            ("order year", false),
            ("zip_code", false),
            ("paid", true),
            ("valid_orders", true),
        ] {
            assert_eq!(super::groups_digits(column), grouped, "{column}");
        }
    }

    use cbi_types::ColumnMeta;
    use chrono_free::*;
    use rust_decimal::Decimal;

    use super::*;

    /// Dates without a chrono dependency of our own: built through serde from cbi-types' format.
    mod chrono_free {
        use cbi_types::Value;

        pub fn date(s: &str) -> Value {
            serde_json::from_value(serde_json::json!({"type": "date", "value": s})).unwrap()
        }

        pub fn timestamp(s: &str) -> Value {
            serde_json::from_value(serde_json::json!({"type": "timestamp", "value": s})).unwrap()
        }
    }

    fn result(names: &[&str], rows: Vec<Vec<Value>>) -> QueryResult {
        QueryResult {
            columns: names
                .iter()
                .map(|n| ColumnMeta {
                    name: (*n).into(),
                    type_name: String::new(),
                })
                .collect(),
            rows,
            truncated: false,
            elapsed: Duration::from_millis(7),
        }
    }

    fn render(r: &QueryResult, f: Format) -> String {
        let mut out = Vec::new();
        write_result_by(&mut out, r, f, None).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_keeps_types_and_order() {
        let r = result(
            &["z", "a", "a", "when", "price", "blob"],
            vec![vec![
                Value::Int(1),
                Value::Text("x\"y".into()),
                Value::Null,
                date("2024-02-29"),
                Value::Decimal(Decimal::new(1999, 2)),
                Value::Bytes(vec![0, 255]),
            ]],
        );
        assert_eq!(
            render(&r, Format::Json),
            "[\n  {\"z\": 1, \"a\": \"x\\\"y\", \"a_2\": null, \"when\": \"2024-02-29\", \"price\": 19.99, \"blob\": \"0x00ff\"}\n]\n"
        );
        assert_eq!(render(&result(&["a"], vec![]), Format::Json), "[]\n");
    }

    #[test]
    fn decimals_too_precise_for_json_numbers_stay_strings() {
        let d = Decimal::from_str_exact("12345678901234567890.123").unwrap();
        assert_eq!(
            json_value(&Value::Decimal(d)),
            serde_json::json!("12345678901234567890.123")
        );
        assert_eq!(
            json_value(&Value::Decimal(Decimal::new(500, 2))),
            serde_json::json!(5)
        );
        assert_eq!(
            json_value(&Value::Float(f64::NAN)),
            serde_json::json!("NaN")
        );
        assert_eq!(
            json_value(&timestamp("2024-01-02T03:04:05")),
            serde_json::json!("2024-01-02T03:04:05")
        );
    }

    #[test]
    fn csv_is_rfc_4180() {
        let r = result(
            &["id", "name"],
            vec![
                vec![Value::Int(1), Value::Text("a, \"b\"\nc".into())],
                vec![Value::Int(2), Value::Null],
            ],
        );
        assert_eq!(
            render(&r, Format::Csv),
            "id,name\r\n1,\"a, \"\"b\"\"\nc\"\r\n2,\r\n"
        );
    }

    #[test]
    fn table_shows_null_and_footer() {
        let mut r = result(
            &["n", "s"],
            vec![
                vec![Value::Int(5), Value::Null],
                vec![Value::Float(2.5), Value::Text("x".repeat(300))],
            ],
        );
        r.truncated = true;
        let text = render(&r, Format::Table);
        assert!(text.contains("NULL"), "{text}");
        assert!(text.contains(&format!("{}…", "x".repeat(MAX_CELL_CHARS - 1))));
        assert!(!text.contains(&"x".repeat(MAX_CELL_CHARS)));
        assert!(
            text.ends_with("2 rows (truncated at 2) in 7 ms\n"),
            "{text}"
        );
        // Numbers are right-aligned: the short one is padded on the left.
        assert!(text.contains("   5 ┆"), "{text}");
        r.rows.truncate(1);
        r.truncated = false;
        assert_eq!(footer(&r), "1 row in 7 ms");
        assert_eq!(duration(Duration::from_millis(1250)), "1.2 s");
    }

    #[test]
    fn numbers_get_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(27_500), "27,500");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    proptest::proptest! {
        #[test]
        fn csv_and_json_round_trip_any_text(cells in proptest::collection::vec("\\PC{0,12}", 1..5)) {
            let names: Vec<String> = (0..cells.len()).map(|i| format!("c{i}")).collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let row: Vec<Value> = cells.iter().map(|c| Value::Text(c.clone())).collect();
            let r = result(&names, vec![row]);

            let csv_text = render(&r, Format::Csv);
            let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
            let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
            proptest::prop_assert_eq!(records.len(), 1);
            let back: Vec<&str> = records[0].iter().collect();
            proptest::prop_assert_eq!(back, cells.iter().map(String::as_str).collect::<Vec<_>>());

            let json: serde_json::Value = serde_json::from_str(&render(&r, Format::Json)).unwrap();
            for (i, cell) in cells.iter().enumerate() {
                proptest::prop_assert_eq!(json[0][format!("c{i}")].as_str(), Some(cell.as_str()));
            }
        }
    }
}
