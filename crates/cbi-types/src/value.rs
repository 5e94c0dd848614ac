use std::fmt;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One cell of a query result, typed the way the database typed it.
///
/// Connectors map their native types onto these variants; anything without a natural home
/// (arrays, JSON, geometry, intervals) comes back as `Text` in the database's own rendering, so
/// no value is ever lost or invented.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Exact numerics (`NUMERIC`, `DECIMAL`) that fit a 96-bit decimal.
    Decimal(Decimal),
    Text(String),
    Date(NaiveDate),
    Time(NaiveTime),
    Timestamp(NaiveDateTime),
    TimestampTz(DateTime<Utc>),
    Bytes(Vec<u8>),
}

impl Value {
    /// A value as JSON, keeping its type: numbers stay numbers, dates and times become ISO 8601
    /// strings, bytes a `0x…` hex string. A decimal becomes a number when a JSON reader gets exactly
    /// the same value back, else a string, so no digit is silently lost; non-finite floats become
    /// strings too (`"NaN"`), since JSON has no such numbers.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(J::Number)
                .unwrap_or_else(|| J::String(f.to_string())),
            Value::Decimal(d) => decimal_json(d),
            Value::Text(s) => J::String(s.clone()),
            Value::Date(d) => J::String(d.format("%Y-%m-%d").to_string()),
            Value::Time(t) => J::String(t.format("%H:%M:%S%.f").to_string()),
            Value::Timestamp(t) => J::String(t.format("%Y-%m-%dT%H:%M:%S%.f").to_string()),
            Value::TimestampTz(t) => J::String(t.to_rfc3339()),
            Value::Bytes(b) => J::String(to_hex(b)),
        }
    }

    /// About how many bytes the value holds: the length of text and blobs, 8 for anything
    /// else. What result byte caps count.
    pub fn approx_bytes(&self) -> usize {
        match self {
            Value::Text(s) => s.len().max(8),
            Value::Bytes(b) => b.len().max(8),
            Value::Decimal(_) => 16,
            _ => 8,
        }
    }

    /// Whether the value is SQL `NULL`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value as a float when it is numeric, for charts, comparisons and summaries.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Decimal(d) => d.to_string().parse().ok(),
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            _ => None,
        }
    }

    /// The value as text when it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// A short name of the variant, for column type summaries.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Decimal(_) => "decimal",
            Value::Text(_) => "text",
            Value::Date(_) => "date",
            Value::Time(_) => "time",
            Value::Timestamp(_) => "timestamp",
            Value::TimestampTz(_) => "timestamptz",
            Value::Bytes(_) => "bytes",
        }
    }
}

/// Renders the value the way a table cell or CSV field shows it (`NULL` is empty in CSV but
/// shown as `NULL` here; callers choose).
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => {
                if x.fract() == 0.0 && x.abs() < 1e15 {
                    write!(f, "{x:.1}")
                } else {
                    write!(f, "{x}")
                }
            }
            Value::Decimal(d) => write!(f, "{d}"),
            Value::Text(s) => f.write_str(s),
            Value::Date(d) => write!(f, "{d}"),
            Value::Time(t) => write!(f, "{t}"),
            Value::Timestamp(t) => write!(f, "{}", t.format("%Y-%m-%d %H:%M:%S%.f")),
            Value::TimestampTz(t) => write!(f, "{}", t.format("%Y-%m-%d %H:%M:%S%.f%:z")),
            Value::Bytes(b) => {
                f.write_str("0x")?;
                for byte in b.iter().take(32) {
                    write!(f, "{byte:02x}")?;
                }
                if b.len() > 32 {
                    write!(f, "… ({} bytes)", b.len())?;
                }
                Ok(())
            }
        }
    }
}

/// A result column: its name and the database's own name for its type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnMeta {
    pub name: String,
    /// The declared or reported type (`INTEGER`, `numeric`, `varchar`), empty when unknown.
    pub type_name: String,
}

/// The rows a read-only query returned, with what was left out.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct QueryResult {
    pub columns: Vec<ColumnMeta>,
    pub rows: Vec<Vec<Value>>,
    /// True when the row cap stopped reading before the database ran out of rows.
    pub truncated: bool,
    /// Wall time spent in the database, including fetching.
    #[serde(with = "duration_ms")]
    pub elapsed: Duration,
}

impl QueryResult {
    /// The rows as arrays of plain JSON values in column order ([`Value::to_json`]): how
    /// every front end writes rows.
    pub fn rows_json(&self) -> Vec<Vec<serde_json::Value>> {
        self.rows
            .iter()
            .map(|row| row.iter().map(Value::to_json).collect())
            .collect()
    }

    /// Number of rows returned (after the cap).
    pub fn row_count(&self) -> usize {
        self.rows.len()
    }

    /// Column names in order.
    pub fn column_names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }

    /// The single value of a one-row, one-column result (a count, a total), if that is its shape.
    pub fn scalar(&self) -> Option<&Value> {
        match (self.rows.as_slice(), self.columns.len()) {
            ([row], 1) => row.first(),
            _ => None,
        }
    }
}

mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64() * 1000.0)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let ms = f64::deserialize(d)?;
        Ok(Duration::from_secs_f64((ms.max(0.0)) / 1000.0))
    }
}

fn decimal_json(d: &rust_decimal::Decimal) -> serde_json::Value {
    let text = d.normalize().to_string();
    if let Ok(i) = text.parse::<i64>() {
        return serde_json::Value::from(i);
    }
    match text
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
    {
        Some(n) if n.to_string() == text => serde_json::Value::Number(n),
        _ => serde_json::Value::String(d.to_string()),
    }
}

/// Whole-number digits with a comma between groups of three (`1234567` → `1,234,567`), as
/// every front end shows quantities.
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes as a `0x…` hex string, as results show them.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 + bytes.len() * 2);
    s.push_str("0x");
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_numeric_views() {
        assert_eq!(Value::Float(3.0).to_string(), "3.0");
        assert_eq!(Value::Float(2.5).to_string(), "2.5");
        assert_eq!(Value::Int(7).as_f64(), Some(7.0));
        assert_eq!(Value::Decimal(Decimal::new(1234, 2)).as_f64(), Some(12.34));
        assert_eq!(Value::Text("x".into()).as_f64(), None);
        assert_eq!(Value::Bytes(vec![1, 255]).to_string(), "0x01ff");
    }

    #[test]
    fn results_round_trip_through_json() {
        let r = QueryResult {
            columns: vec![ColumnMeta {
                name: "n".into(),
                type_name: "INTEGER".into(),
            }],
            rows: vec![vec![Value::Int(3)]],
            truncated: false,
            elapsed: Duration::from_millis(12),
        };
        let json = serde_json::to_string(&r).unwrap();
        let back: QueryResult = serde_json::from_str(&json).unwrap();
        assert_eq!(back.rows, r.rows);
        assert_eq!(back.scalar(), Some(&Value::Int(3)));
        assert_eq!(back.elapsed.as_millis(), 12);
    }
}
