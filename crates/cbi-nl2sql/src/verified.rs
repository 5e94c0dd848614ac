//! Verified answers: questions from the semantic file whose SQL a person checked, matched
//! exactly or as a paraphrase with the same linked values.

use std::collections::BTreeSet;

use crate::index::SchemaIndex;
use crate::link::{STOP, link};
use crate::text::{TokenKind, tokenize};

/// A question's comparable form: its content lemmas and the values it names.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shape {
    words: BTreeSet<String>,
    values: BTreeSet<String>,
    numbers: BTreeSet<String>,
}

fn shape(question: &str, idx: &SchemaIndex) -> Shape {
    let toks = tokenize(question);
    let ments = link(&toks, idx);
    let mut words = BTreeSet::new();
    let mut numbers = BTreeSet::new();
    for t in &toks {
        match &t.kind {
            TokenKind::Word if !STOP.contains(&t.lemma.as_str()) => {
                words.insert(t.lemma.clone());
            }
            TokenKind::Number(n) => {
                numbers.insert(n.to_string());
            }
            _ => {}
        }
    }
    let values = ments
        .iter()
        .filter(|m| m.is_value())
        .map(|m| {
            m.quoted
                .clone()
                .or_else(|| m.values.first().map(|v| v.value.clone()))
                .unwrap_or_default()
                .to_lowercase()
        })
        .collect();
    Shape {
        words,
        values,
        numbers,
    }
}

/// The verified queries of a schema, ready to match.
#[derive(Debug, Clone, Default)]
pub struct VerifiedSet {
    entries: Vec<(Shape, String, String)>,
}

/// A verified answer that matched.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedMatch {
    pub question: String,
    pub sql: String,
    /// 1.0 for the same question; less for a paraphrase.
    pub similarity: f32,
}

impl VerifiedSet {
    pub fn new(idx: &SchemaIndex) -> Self {
        let entries = idx
            .aug
            .semantic
            .verified_queries
            .iter()
            .map(|v| (shape(&v.question, idx), v.question.clone(), v.sql.clone()))
            .collect();
        VerifiedSet { entries }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The verified question this one repeats or paraphrases (same values and numbers, at
    /// least 80% of content words shared), if any.
    pub fn find(&self, question: &str, idx: &SchemaIndex) -> Option<VerifiedMatch> {
        if self.entries.is_empty() {
            return None;
        }
        let norm = |s: &str| s.trim().trim_end_matches(['?', '.', '!']).to_lowercase();
        if let Some((_, q, sql)) = self
            .entries
            .iter()
            .find(|(_, q, _)| norm(q) == norm(question))
        {
            return Some(VerifiedMatch {
                question: q.clone(),
                sql: sql.clone(),
                similarity: 1.0,
            });
        }
        let s = shape(question, idx);
        self.entries
            .iter()
            .filter(|(e, _, _)| e.values == s.values && e.numbers == s.numbers)
            .map(|(e, q, sql)| {
                let inter = e.words.intersection(&s.words).count() as f32;
                let union = e.words.union(&s.words).count().max(1) as f32;
                (inter / union, q, sql)
            })
            .filter(|(j, _, _)| *j >= 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(j, q, sql)| VerifiedMatch {
                question: q.clone(),
                sql: sql.clone(),
                similarity: j,
            })
    }
}
