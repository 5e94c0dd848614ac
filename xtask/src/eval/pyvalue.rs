//! Result cells that compare, hash and print the way the official Python scripts see them.
//!
//! Python's `sqlite3` hands back storage classes: `int`, `float`, `str`, `bytes`, `None`. The
//! scoring rules lean on Python's semantics for those: `1 == 1.0` (and both hash alike, so they
//! meet in a set), `None == None`, strings and bytes compared exactly, and `str(x)` used as a
//! sort key. This module reproduces exactly that, so a score here is a score there.

use std::hash::{Hash, Hasher};

use cbi_types::Value;

/// One result cell with Python's equality.
#[derive(Debug, Clone)]
pub enum PyValue {
    None,
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
}

impl PyValue {
    /// The cell as Python's `sqlite3` would have returned it. Connections opened with raw values
    /// only produce storage classes; anything richer is mapped to what Python would hold.
    pub fn from_value(v: &Value) -> PyValue {
        match v {
            Value::Null => PyValue::None,
            Value::Int(i) => PyValue::Int(*i),
            Value::Float(f) => PyValue::Float(*f),
            Value::Bool(b) => PyValue::Int(i64::from(*b)),
            Value::Text(s) => PyValue::Str(s.clone()),
            Value::Bytes(b) => PyValue::Bytes(b.clone()),
            Value::Decimal(d) => v
                .as_f64()
                .map_or_else(|| PyValue::Str(d.to_string()), PyValue::Float),
            other => PyValue::Str(other.to_string()),
        }
    }

    /// Python's `str(x)`.
    pub fn py_str(&self) -> String {
        match self {
            PyValue::None => "None".to_string(),
            PyValue::Int(i) => i.to_string(),
            PyValue::Float(f) => py_float_repr(*f),
            PyValue::Str(s) => s.clone(),
            PyValue::Bytes(b) => py_bytes_repr(b),
        }
    }

    /// Python's `str(type(x))`.
    pub fn py_type(&self) -> &'static str {
        match self {
            PyValue::None => "<class 'NoneType'>",
            PyValue::Int(_) => "<class 'int'>",
            PyValue::Float(_) => "<class 'float'>",
            PyValue::Str(_) => "<class 'str'>",
            PyValue::Bytes(_) => "<class 'bytes'>",
        }
    }
}

/// Whether an integer and a float are the same number, exactly, as Python compares them.
fn int_eq_float(i: i64, f: f64) -> bool {
    // Every i64 fits an i128 exactly; a float compares equal only when it is integral and in range.
    f.fract() == 0.0 && f >= -(2f64.powi(63)) && f < 2f64.powi(63) && (f as i64) == i
}

impl PartialEq for PyValue {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (PyValue::None, PyValue::None) => true,
            (PyValue::Int(a), PyValue::Int(b)) => a == b,
            // NaN cannot come out of SQLite (it stores NULL instead); treating it as equal to
            // itself keeps `Eq` lawful for hashing.
            (PyValue::Float(a), PyValue::Float(b)) => a == b || (a.is_nan() && b.is_nan()),
            (PyValue::Int(i), PyValue::Float(f)) | (PyValue::Float(f), PyValue::Int(i)) => {
                int_eq_float(*i, *f)
            }
            (PyValue::Str(a), PyValue::Str(b)) => a == b,
            (PyValue::Bytes(a), PyValue::Bytes(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for PyValue {}

impl Hash for PyValue {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            PyValue::None => 0u8.hash(state),
            PyValue::Int(i) => {
                1u8.hash(state);
                i.hash(state);
            }
            PyValue::Float(f) => {
                if f.fract() == 0.0 && *f >= -(2f64.powi(63)) && *f < 2f64.powi(63) {
                    // hashes like the equal integer (this also folds -0.0 into 0)
                    1u8.hash(state);
                    (*f as i64).hash(state);
                } else if f.is_nan() {
                    2u8.hash(state);
                } else {
                    3u8.hash(state);
                    f.to_bits().hash(state);
                }
            }
            PyValue::Str(s) => {
                4u8.hash(state);
                s.hash(state);
            }
            PyValue::Bytes(b) => {
                5u8.hash(state);
                b.hash(state);
            }
        }
    }
}

/// Python's `repr(float)` (which `str(float)` equals): the shortest digits that round-trip, in
/// positional notation when the decimal exponent is in `[-4, 16)`, else scientific
/// (`1e+16`, `1.5e-05`).
pub fn py_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    // `{:e}` gives the shortest round-trip digits: "-1.2345e-7".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        let body = if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if (point as usize) >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            format!(
                "{}.{}",
                &digits[..point as usize],
                &digits[point as usize..]
            )
        };
        format!("{sign}{body}")
    } else {
        let mant = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mant}e{esign}{:02}", exp.abs())
    }
}

/// Python's `repr(bytes)`: `b'…'` with `\\`, `\t`, `\n`, `\r` and non-printable bytes escaped,
/// using double quotes only when the content has a single quote and no double quote.
pub fn py_bytes_repr(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::from("b");
    out.push(quote as char);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c as char);
            }
            0x20..=0x7e => out.push(c as char),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push(quote as char);
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ints_and_floats_meet_like_in_python() {
        assert_eq!(PyValue::Int(1), PyValue::Float(1.0));
        assert_ne!(PyValue::Int(1), PyValue::Float(1.5));
        assert_eq!(PyValue::Float(0.0), PyValue::Float(-0.0));
        assert_eq!(PyValue::Int(0), PyValue::Float(-0.0));
        assert_ne!(PyValue::Int(1), PyValue::Str("1".into()));
        assert_ne!(PyValue::Str("a".into()), PyValue::Bytes(b"a".to_vec()));
        assert_eq!(PyValue::None, PyValue::None);
        assert_ne!(PyValue::None, PyValue::Int(0));
        // exactness: 2^53 + 1 is not the float 2^53
        assert_ne!(PyValue::Int((1 << 53) + 1), PyValue::Float(2f64.powi(53)));
        assert_eq!(PyValue::Int(1 << 53), PyValue::Float(2f64.powi(53)));
        assert_ne!(PyValue::Int(i64::MAX), PyValue::Float(2f64.powi(63)));
        let set: HashSet<PyValue> = [PyValue::Int(3), PyValue::Float(3.0), PyValue::Float(-0.0)]
            .into_iter()
            .collect();
        assert_eq!(set.len(), 2);
        assert!(set.contains(&PyValue::Int(0)));
    }

    #[test]
    fn str_matches_python() {
        let check = |f: f64, expect: &str| assert_eq!(py_float_repr(f), expect, "{f:e}");
        check(1.0, "1.0");
        check(-2.5, "-2.5");
        check(0.1, "0.1");
        check(1e16, "1e+16");
        check(1.5e16, "1.5e+16");
        check(123456789012345.6, "123456789012345.6");
        check(1e15, "1000000000000000.0");
        check(0.0001, "0.0001");
        check(1.5e-5, "1.5e-05");
        check(1e-100, "1e-100");
        check(2.0f64.powi(70), "1.1805916207174113e+21");
        check(-0.0, "-0.0");
        check(100.0, "100.0");
        check(0.30000000000000004, "0.30000000000000004");
        assert_eq!(py_bytes_repr(b"a'b\x00\\"), "b\"a'b\\x00\\\\\"");
        assert_eq!(py_bytes_repr(b"a\"'\n"), "b'a\"\\'\\n'");
        assert_eq!(PyValue::None.py_str(), "None");
        assert_eq!(PyValue::Int(-7).py_str(), "-7");
    }

    #[test]
    fn values_map_from_connector_cells() {
        assert_eq!(PyValue::from_value(&Value::Bool(true)), PyValue::Int(1));
        assert_eq!(PyValue::from_value(&Value::Null), PyValue::None);
        assert_eq!(
            PyValue::from_value(&Value::Text("x".into())),
            PyValue::Str("x".into())
        );
    }
}
