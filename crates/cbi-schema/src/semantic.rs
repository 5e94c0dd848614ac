//! The user's semantic file: descriptions, synonyms, business terms and verified queries, in
//! YAML, checked against the schema it describes.
//!
//! ```yaml
//! tables:
//!   orders:
//!     description: One row per order a customer placed.
//!     synonyms: [purchases]
//!     columns:
//!       order_date: { description: Day the order was placed, synonyms: [purchase date] }
//! business_terms:
//!   - name: revenue
//!     synonyms: [sales, turnover]
//!     measure: SUM(order_items.quantity * order_items.unit_price)
//!   - name: region
//!     column: regions.name
//!   - name: returned orders
//!     filter: orders.status = 'returned'
//! verified_queries:
//!   - question: How many orders were placed in 2023?
//!     sql: SELECT COUNT(*) FROM orders WHERE order_date >= '2023-01-01' AND order_date < '2024-01-01'
//! ```

use std::path::{Path, PathBuf};

use cbi_types::{DatabaseSchema, SemanticModel, TermTarget};

use crate::{Error, Result};

/// Parses a semantic file's text. `origin` names it in errors.
pub fn parse_semantic(text: &str, origin: &Path) -> Result<SemanticModel> {
    let err = |message: String| Error::SemanticFile {
        path: origin.to_path_buf(),
        message,
    };
    if text.trim().is_empty() {
        return Ok(SemanticModel::default());
    }
    let de = serde_yaml_ng::Deserializer::from_str(text);
    let model: SemanticModel = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if path == "." {
            err(inner)
        } else {
            err(format!("{path}: {inner}"))
        }
    })?;
    let mut problems = Vec::new();
    for (i, term) in model.business_terms.iter().enumerate() {
        if term.name.trim().is_empty() {
            problems.push(format!("business_terms[{i}].name: must not be empty"));
        }
        let expr = match &term.target {
            TermTarget::Column(c) | TermTarget::Measure(c) | TermTarget::Filter(c) => c,
        };
        if expr.trim().is_empty() {
            problems.push(format!(
                "business_terms[{i}] ({}): its target is empty",
                term.name
            ));
        }
    }
    for (i, q) in model.verified_queries.iter().enumerate() {
        if q.question.trim().is_empty() || q.sql.trim().is_empty() {
            problems.push(format!(
                "verified_queries[{i}]: question and sql must both be given"
            ));
        }
    }
    if problems.is_empty() {
        Ok(model)
    } else {
        Err(err(problems.join("; ")))
    }
}

/// Reads and parses a semantic file.
pub fn load_semantic(path: &Path) -> Result<SemanticModel> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::SemanticFile {
        path: path.to_path_buf(),
        message: format!("cannot read: {e}"),
    })?;
    parse_semantic(&text, path)
}

/// Checks that every table, column and `table.column` reference in the model exists in the
/// schema, returning every problem at once with a "did you mean" where one is close.
pub fn check_semantic(model: &SemanticModel, schema: &DatabaseSchema, origin: &Path) -> Result<()> {
    let mut problems = Vec::new();
    for (tname, t) in &model.tables {
        let Some(table) = schema.table(tname) else {
            problems.push(format!(
                "tables.{tname}: no such table{}",
                did_you_mean(tname, schema.tables.iter().map(|t| t.name.as_str()))
            ));
            continue;
        };
        for cname in t.columns.keys() {
            if table.column(cname).is_none() {
                problems.push(format!(
                    "tables.{tname}.columns.{cname}: no such column in `{}`{}",
                    table.name,
                    did_you_mean(cname, table.columns.iter().map(|c| c.name.as_str()))
                ));
            }
        }
    }
    for term in &model.business_terms {
        let (expr, is_column) = match &term.target {
            TermTarget::Column(c) => (c, true),
            TermTarget::Measure(e) | TermTarget::Filter(e) => (e, false),
        };
        if is_column && qualified_refs(expr).len() != 1 {
            problems.push(format!(
                "business term `{}`: column must be written as table.column, got `{expr}`",
                term.name
            ));
            continue;
        }
        for (t, c) in qualified_refs(expr) {
            match schema.table(&t) {
                None => problems.push(format!(
                    "business term `{}`: no table `{t}`{}",
                    term.name,
                    did_you_mean(&t, schema.tables.iter().map(|t| t.name.as_str()))
                )),
                Some(table) if table.column(&c).is_none() => problems.push(format!(
                    "business term `{}`: no column `{c}` in `{}`{}",
                    term.name,
                    table.name,
                    did_you_mean(&c, table.columns.iter().map(|c| c.name.as_str()))
                )),
                Some(_) => {}
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::SemanticMismatch {
            path: PathBuf::from(origin),
            problems,
        })
    }
}

/// `table.column` references in an expression, outside string literals.
pub fn qualified_refs(expr: &str) -> Vec<(String, String)> {
    let mut refs = Vec::new();
    let mut chars = expr.char_indices().peekable();
    let bytes = expr;
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            // skip a string literal ('' escapes)
            while let Some((_, c2)) = chars.next() {
                if c2 == '\'' {
                    if chars.peek().is_some_and(|(_, n)| *n == '\'') {
                        chars.next();
                    } else {
                        break;
                    }
                }
            }
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let mut end = i + c.len_utf8();
            while let Some(&(j, n)) = chars.peek() {
                if n.is_alphanumeric() || n == '_' || n == '.' {
                    end = j + n.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            let word = &bytes[i..end];
            let parts: Vec<&str> = word.split('.').collect();
            if let [t, c] = parts.as_slice() {
                if !t.is_empty() && !c.is_empty() && !c.chars().all(|x| x.is_ascii_digit()) {
                    refs.push((t.to_string(), c.to_string()));
                }
            }
        }
    }
    refs
}

/// "; did you mean `x`?" when a candidate is close to `name`, else "".
pub fn did_you_mean<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    let lower = name.to_lowercase();
    let best = candidates
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((_, c)) => format!("; did you mean `{c}`?"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use cbi_types::{ColumnSchema, TableSchema};

    use super::*;

    const EXAMPLE: &str = r#"
tables:
  orders:
    description: One row per order.
    synonyms: [purchases]
    columns:
      order_date: { description: Day the order was placed, synonyms: [purchase date] }
business_terms:
  - name: revenue
    synonyms: [sales]
    measure: SUM(order_items.quantity * order_items.unit_price)
  - name: returned orders
    filter: orders.status = 'it''s.returned'
  - name: region
    column: regions.name
verified_queries:
  - question: How many orders are there?
    sql: SELECT COUNT(*) FROM orders
"#;

    fn schema() -> DatabaseSchema {
        let t = |name: &str, cols: &[&str]| TableSchema {
            name: name.into(),
            columns: cols
                .iter()
                .map(|c| ColumnSchema {
                    name: c.to_string(),
                    data_type: "text".into(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        DatabaseSchema {
            tables: vec![
                t("orders", &["order_id", "order_date", "status"]),
                t("order_items", &["quantity", "unit_price"]),
                t("regions", &["name"]),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn parses_and_checks_the_example() {
        let m = parse_semantic(EXAMPLE, Path::new("s.yaml")).unwrap();
        assert_eq!(m.business_terms.len(), 3);
        assert_eq!(m.verified_queries.len(), 1);
        assert_eq!(m.tables["orders"].synonyms, ["purchases"]);
        check_semantic(&m, &schema(), Path::new("s.yaml")).unwrap();
    }

    #[test]
    fn mismatches_are_all_reported_with_suggestions() {
        let text = EXAMPLE
            .replace("  orders:\n    description", "  ordres:\n    description")
            .replace("order_items.unit_price", "order_items.unit_prise")
            .replace("column: regions.name", "column: region.name");
        let m = parse_semantic(&text, Path::new("s.yaml")).unwrap();
        let e = check_semantic(&m, &schema(), Path::new("s.yaml")).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("tables.ordres: no such table; did you mean `orders`?"),
            "{msg}"
        );
        assert!(
            msg.contains("no column `unit_prise` in `order_items`; did you mean `unit_price`?"),
            "{msg}"
        );
        assert!(
            msg.contains("no table `region`; did you mean `regions`?"),
            "{msg}"
        );
    }

    #[test]
    fn corrupt_files_give_one_clear_error() {
        for (text, needle) in [
            ("tables: [1, 2", "s.yaml"),
            (
                "tables:\n  orders:\n    colums: {}\n",
                "unknown field `colums`",
            ),
            ("business_terms:\n  - name: x\n", "business_terms[0]"),
            (
                "verified_queries:\n  - question: q\n",
                "verified_queries[0]",
            ),
            (
                "business_terms:\n  - name: x\n    measure: ''\n",
                "target is empty",
            ),
        ] {
            let e = parse_semantic(text, Path::new("s.yaml"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(needle), "{text:?} gave {e}");
            assert!(!e.contains('\n'), "one line: {e}");
        }
        assert!(parse_semantic("", Path::new("s.yaml")).unwrap().is_empty());
    }

    #[test]
    fn qualified_references_skip_literals() {
        assert_eq!(
            qualified_refs("SUM(a.b * c.d) + 'x.y' + 1.5"),
            [("a".to_string(), "b".to_string()), ("c".into(), "d".into())]
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
            if let Ok(m) = parse_semantic(&text, Path::new("p.yaml")) {
                let _ = check_semantic(&m, &schema(), Path::new("p.yaml"));
            }
        }

        #[test]
        fn arbitrary_names_never_panic(t in "\\PC{0,20}", c in "\\PC{0,20}", e in "\\PC{0,40}") {
            let text = format!("tables:\n  {t:?}:\n    columns:\n      {c:?}: {{}}\nbusiness_terms:\n  - name: {t:?}\n    measure: {e:?}\n");
            if let Ok(m) = parse_semantic(&text, Path::new("p.yaml")) {
                let _ = check_semantic(&m, &schema(), Path::new("p.yaml"));
            }
            let _ = qualified_refs(&e);
        }
    }
}
