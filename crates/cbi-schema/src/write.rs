//! Writing a semantic model back as a semantic file a person can read and edit.
//!
//! The layout is the one the bundled demo's file uses: a block per table, one line per column
//! in flow style, business terms as a list. Scalars are written plain when YAML reads them back
//! unchanged and double-quoted (JSON escapes, which YAML shares) otherwise, so any text — a
//! value with a colon, a name like `yes`, a newline — survives a round trip through
//! [`crate::parse_semantic`].

use std::fmt::Write as _;

use cbi_types::{SemanticColumn, SemanticModel, TermTarget};

/// The model as semantic-file text. `header` lines are written first, each as a `#` comment.
pub fn render_semantic(model: &SemanticModel, header: &[String]) -> String {
    let mut out = String::new();
    for line in header {
        if line.is_empty() {
            out.push_str("#\n");
        } else {
            for part in line.lines() {
                let _ = writeln!(out, "# {}", comment(part));
            }
        }
    }
    if !header.is_empty() {
        out.push('\n');
    }
    if !model.tables.is_empty() {
        out.push_str("tables:\n");
        for (name, table) in &model.tables {
            let _ = writeln!(out, "  {}:", key(name));
            if let Some(d) = &table.description {
                let _ = writeln!(out, "    description: {}", scalar(d));
            }
            if !table.synonyms.is_empty() {
                let _ = writeln!(out, "    synonyms: {}", list(&table.synonyms));
            }
            if !table.columns.is_empty() {
                out.push_str("    columns:\n");
                for (cname, col) in &table.columns {
                    let _ = writeln!(out, "      {}: {}", key(cname), column(col));
                }
            }
            if table.description.is_none() && table.synonyms.is_empty() && table.columns.is_empty()
            {
                out.truncate(out.len() - 1);
                out.push_str(" {}\n");
            }
        }
    }
    if !model.business_terms.is_empty() {
        out.push_str("\nbusiness_terms:\n");
        for term in &model.business_terms {
            let _ = writeln!(out, "  - name: {}", scalar(&term.name));
            if !term.synonyms.is_empty() {
                let _ = writeln!(out, "    synonyms: {}", list(&term.synonyms));
            }
            if let Some(d) = &term.description {
                let _ = writeln!(out, "    description: {}", scalar(d));
            }
            let (kind, expr) = match &term.target {
                TermTarget::Column(e) => ("column", e),
                TermTarget::Measure(e) => ("measure", e),
                TermTarget::Filter(e) => ("filter", e),
            };
            let _ = writeln!(out, "    {kind}: {}", scalar(expr));
        }
    }
    if !model.verified_queries.is_empty() {
        out.push_str("\nverified_queries:\n");
        for q in &model.verified_queries {
            let _ = writeln!(out, "  - question: {}", scalar(&q.question));
            if let Some(d) = &q.description {
                let _ = writeln!(out, "    description: {}", scalar(d));
            }
            let _ = writeln!(out, "    sql: {}", scalar(&q.sql));
        }
    }
    out
}

fn column(col: &SemanticColumn) -> String {
    let mut parts = Vec::new();
    if let Some(d) = &col.description {
        parts.push(format!("description: {}", scalar(d)));
    }
    if !col.synonyms.is_empty() {
        parts.push(format!("synonyms: {}", list(&col.synonyms)));
    }
    if parts.is_empty() {
        "{}".to_string()
    } else {
        format!("{{ {} }}", parts.join(", "))
    }
}

fn list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| scalar(s)).collect();
    format!("[{}]", inner.join(", "))
}

/// Words YAML 1.1 or 1.2 read as something other than a string when plain.
const RESERVED: &[&str] = &[
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
];

/// A mapping key: plain for an ordinary identifier, quoted otherwise.
fn key(s: &str) -> String {
    let ident = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ident && !RESERVED.contains(&s.to_ascii_lowercase().as_str()) {
        s.to_string()
    } else {
        quoted(s)
    }
}

/// A scalar inside flow or block context: plain when that is unambiguous, quoted otherwise.
fn scalar(s: &str) -> String {
    let plain = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && !s.ends_with(' ')
        && !s.contains(": ")
        && !s.contains(" #")
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    ' ' | '_' | '.' | '(' | ')' | '\'' | '/' | '-' | '=' | '<' | '>' | '*' | '+'
                )
        })
        && !RESERVED.contains(&s.to_ascii_lowercase().as_str());
    if plain { s.to_string() } else { quoted(s) }
}

fn quoted(s: &str) -> String {
    // JSON string escapes are YAML double-quoted escapes; JSON leaves alone a few characters
    // YAML reads as line breaks (U+0085, U+2028, U+2029) or refuses (DEL, C1 controls, BOM,
    // U+FFFE/F), so those are escaped too.
    let json = serde_json::to_string(s).unwrap_or_else(|_| format!("\"{}\"", s.escape_default()));
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if yaml_unsafe(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn yaml_unsafe(c: char) -> bool {
    matches!(
        c,
        '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
    )
}

/// A comment line: anything YAML would read as a line break or refuse becomes a space.
fn comment(line: &str) -> String {
    line.chars()
        .map(|c| {
            if c.is_control() || yaml_unsafe(c) {
                ' '
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use cbi_types::{BusinessTerm, SemanticTable, VerifiedQuery};
    use proptest::prelude::*;

    use super::*;
    use crate::parse_semantic;

    fn model(text: &str) -> SemanticModel {
        SemanticModel {
            tables: BTreeMap::from([(
                "orders".to_string(),
                SemanticTable {
                    description: Some(text.to_string()),
                    synonyms: vec![text.to_string(), "purchases".into()],
                    columns: BTreeMap::from([
                        (
                            text.to_string(),
                            SemanticColumn {
                                description: Some(text.to_string()),
                                synonyms: vec![text.to_string()],
                            },
                        ),
                        ("bare".to_string(), SemanticColumn::default()),
                    ]),
                },
            )]),
            business_terms: vec![BusinessTerm {
                name: format!("x{text}"),
                synonyms: vec![text.to_string()],
                description: Some(text.to_string()),
                target: TermTarget::Filter(format!("orders.status = '{text}'")),
            }],
            verified_queries: vec![VerifiedQuery {
                question: format!("q{text}"),
                sql: format!("SELECT '{text}'"),
                description: None,
            }],
        }
    }

    fn round_trip(m: &SemanticModel) -> SemanticModel {
        let text = render_semantic(
            m,
            &[
                "a header".into(),
                String::new(),
                "two\nlines".into(),
                "odd\u{2028}break\rand\u{85}more".into(),
            ],
        );
        parse_semantic(&text, Path::new("draft.yaml"))
            .unwrap_or_else(|e| panic!("{e}\n---\n{text}"))
    }

    #[test]
    fn awkward_text_survives_a_round_trip() {
        for text in [
            "plain words",
            "yes",
            "No",
            "null",
            "a: b",
            "# not a comment",
            "x #y",
            "[1, 2]",
            "{a}",
            "tab\there",
            "line\nbreak",
            "quote \" and 'single'",
            "  padded  ",
            "",
            "-1.5",
            "100%",
            "é ü 中文",
            "@at",
            "`tick`",
            "a, b",
            "*alias",
            "&anchor",
            "!tag",
            "| pipe",
            "> fold",
            "?",
        ] {
            let m = model(text);
            assert_eq!(round_trip(&m), m, "{text:?}");
        }
    }

    #[test]
    fn the_layout_is_the_demo_files() {
        let m = SemanticModel {
            tables: BTreeMap::from([(
                "orders".to_string(),
                SemanticTable {
                    description: Some("One row per order.".into()),
                    synonyms: vec!["purchases".into(), "sales: all".into()],
                    columns: BTreeMap::from([
                        (
                            "order_date".to_string(),
                            SemanticColumn {
                                description: Some("Day the order was placed".into()),
                                synonyms: vec!["purchase date".into()],
                            },
                        ),
                        ("bare".to_string(), SemanticColumn::default()),
                    ]),
                },
            )]),
            business_terms: vec![
                BusinessTerm {
                    name: "revenue".into(),
                    synonyms: vec![],
                    description: None,
                    target: TermTarget::Measure("SUM(orders.total)".into()),
                },
                BusinessTerm {
                    name: "yes".into(),
                    synonyms: vec!["paid, settled".into()],
                    description: Some("Orders paid".into()),
                    target: TermTarget::Filter("orders.status = 'paid'".into()),
                },
            ],
            verified_queries: vec![],
        };
        let text = render_semantic(&m, &["Drafted.".into(), String::new(), "Joins:".into()]);
        insta::assert_snapshot!(text, @r#"
        # Drafted.
        #
        # Joins:

        tables:
          orders:
            description: One row per order.
            synonyms: [purchases, "sales: all"]
            columns:
              bare: {}
              order_date: { description: Day the order was placed, synonyms: [purchase date] }

        business_terms:
          - name: revenue
            measure: SUM(orders.total)
          - name: "yes"
            synonyms: ["paid, settled"]
            description: Orders paid
            filter: orders.status = 'paid'
        "#);
        assert_eq!(round_trip(&m), m);
    }

    #[test]
    fn an_empty_model_is_an_empty_file() {
        assert_eq!(render_semantic(&SemanticModel::default(), &[]), "");
        let m = SemanticModel {
            tables: BTreeMap::from([("t".to_string(), SemanticTable::default())]),
            ..SemanticModel::default()
        };
        assert_eq!(render_semantic(&m, &[]), "tables:\n  t: {}\n");
        assert_eq!(round_trip(&m), m);
    }

    proptest! {
        #[test]
        fn any_text_survives_a_round_trip(text in "\\PC{0,40}") {
            let m = model(&text);
            prop_assert_eq!(round_trip(&m), m);
        }
    }
}
