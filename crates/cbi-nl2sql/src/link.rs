//! Schema linking: which spans of the question name which tables, columns, business terms and
//! cell values.
//!
//! Spans are found longest first over the question's lemmas (so "song name" beats "name"),
//! glue words inside a span are ignored ("number of products" names `Number_products`), word
//! order does not matter, and a single unknown word one typo away from a schema word is
//! corrected. Cell values are looked up in the value index by their normalised text, both as
//! written and in singular form.

use cbi_types::normalize_value;

use crate::index::{Element, GLUE, SchemaIndex};
use crate::text::{Token, TokenKind};

/// A cell value the span matched: `(table, column, stored value)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueMatch {
    pub table: usize,
    pub column: usize,
    pub value: String,
}

/// One linked span `[start, end)` of tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct Mention {
    pub start: usize,
    pub end: usize,
    /// Schema elements named by the span, best first.
    pub elements: Vec<(Element, f32)>,
    /// Cell values equal to the span.
    pub values: Vec<ValueMatch>,
    /// The span is a quoted string (always a value, even when no column holds it).
    pub quoted: Option<String>,
    /// A typo was corrected to link it.
    pub corrected: bool,
    /// The values only contain the quoted text (or are contained in it): a substring match.
    pub partial: bool,
}

impl Mention {
    pub fn best_element(&self) -> Option<Element> {
        self.elements.first().map(|(e, _)| *e)
    }

    /// The weight of the best element (elements are sorted best first).
    fn top(&self) -> f32 {
        self.elements.first().map_or(0.0, |e| e.1)
    }

    /// Tables the span names about as well as its best reading ("cars" → `cars_data`; not the
    /// weak table reading of a span that names a column exactly).
    pub fn tables(&self) -> impl Iterator<Item = usize> + '_ {
        let top = self.top();
        self.elements.iter().filter_map(move |(e, s)| match e {
            Element::Table(t) if *s >= top - 0.051 => Some(*t),
            _ => None,
        })
    }

    pub fn columns(&self) -> impl Iterator<Item = (usize, usize, f32)> + '_ {
        self.elements.iter().filter_map(|(e, s)| match e {
            Element::Column(t, c) => Some((*t, *c, *s)),
            _ => None,
        })
    }

    pub fn has_table(&self) -> bool {
        self.tables().next().is_some()
    }

    pub fn has_column(&self) -> bool {
        let top = self.top();
        self.columns().any(|c| c.2 >= top - 0.051)
    }

    pub fn is_value(&self) -> bool {
        !self.values.is_empty() || self.quoted.is_some()
    }
}

/// Words that never start or end a linked span on their own.
pub const STOP: &[&str] = &[
    "what",
    "which",
    "who",
    "whom",
    "whose",
    "where",
    "when",
    "how",
    "why",
    "be",
    "do",
    "have",
    "the",
    "a",
    "an",
    "of",
    "in",
    "on",
    "at",
    "for",
    "to",
    "by",
    "with",
    "from",
    "and",
    "or",
    "that",
    "this",
    "there",
    "those",
    "it",
    "its",
    "they",
    "them",
    "their",
    "he",
    "she",
    "his",
    "her",
    "all",
    "each",
    "every",
    "any",
    "some",
    "many",
    "much",
    "me",
    "i",
    "we",
    "you",
    "our",
    "your",
    "list",
    "show",
    "give",
    "find",
    "return",
    "tell",
    "display",
    "get",
    "please",
    "can",
    "could",
    "would",
    "will",
    "than",
    "as",
    "not",
    "no",
    "'s",
    "also",
    "both",
    "either",
    "neither",
    "only",
    "just",
    "whole",
    "other",
    "than",
    "more",
    "most",
    "less",
    "least",
    "same",
    "different",
    "distinct",
    "unique",
    "is",
    "are",
    "was",
    "were",
    "but",
    "if",
    "into",
    "about",
    "after",
    "before",
    "between",
    "under",
    "over",
    "above",
    "below",
    "up",
    "down",
    "out",
    "off",
    "then",
    "so",
    "such",
    "ever",
    "never",
    "one",
    "ones",
    "whether",
];

/// Links a tokenised question against the index.
pub fn link(tokens: &[Token], idx: &SchemaIndex) -> Vec<Mention> {
    let values = &idx.aug.value_index;
    let max_value_words = values.max_words().max(1);
    let max_len = idx.max_phrase_words.max(max_value_words).min(8);
    let mut mentions = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let tok = &tokens[i];
        match &tok.kind {
            TokenKind::Quoted(q) => {
                let mut vals = value_matches(idx, &normalize_value(q));
                let mut partial = false;
                if vals.is_empty() {
                    vals = contains_matches(idx, q);
                    partial = !vals.is_empty();
                }
                let elements = if vals.is_empty() {
                    lookup_words(
                        idx,
                        &q.split_whitespace()
                            .map(crate::text::lemma_of)
                            .collect::<Vec<_>>(),
                    )
                } else {
                    Vec::new()
                };
                mentions.push(Mention {
                    start: i,
                    end: i + 1,
                    elements,
                    values: vals,
                    quoted: Some(q.clone()),
                    corrected: false,
                    partial,
                });
                i += 1;
                continue;
            }
            TokenKind::Punct => {
                i += 1;
                continue;
            }
            TokenKind::Word | TokenKind::Number(_) => {}
        }
        let mut found: Option<Mention> = None;
        for len in (1..=max_len.min(tokens.len() - i)).rev() {
            let span = &tokens[i..i + len];
            if span
                .iter()
                .any(|t| !matches!(t.kind, TokenKind::Word | TokenKind::Number(_)))
            {
                continue;
            }
            let first = &span[0];
            let last = &span[len - 1];
            // A span starting or ending with glue names no schema element; it can still be a
            // stored value ("in transit" for `IN_TRANSIT`).
            let glue_edge = is_glue(first) || is_glue(last);
            if glue_edge && len < 2 {
                continue;
            }
            // "returns" (a plural noun) is not the verb "return".
            let single_stop = len == 1
                && STOP.contains(&first.lemma.as_str())
                && !(i > 0
                    && (first.norm == format!("{}s", first.lemma)
                        || first.norm == format!("{}es", first.lemma)));
            // Only these may sit inside a name ("number of products" for `Number_products`);
            // "and", "for", "with" join separate things.
            if !glue_edge
                && span.iter().any(|t| {
                    GLUE.contains(&t.lemma.as_str()) && !INNER_GLUE.contains(&t.lemma.as_str())
                })
            {
                continue;
            }
            // Schema phrases.
            let content: Vec<&str> = span
                .iter()
                .filter(|t| !GLUE.contains(&t.lemma.as_str()))
                .map(|t| t.lemma.as_str())
                .collect();
            let mut elements =
                if glue_edge || single_stop || content.is_empty() || first.number().is_some() {
                    Vec::new()
                } else {
                    let hits = idx.lookup(&content);
                    let glued = content.len() != span.len();
                    let mut els: Vec<(Element, f32)> = hits
                        .iter()
                        // Across "of", the words must come in the name's own order: "number of
                        // products" is `Number_products`, but "id of courses" is not `course_id`.
                        .filter(|&&pi| {
                            !glued
                                || idx.phrases[pi]
                                    .words
                                    .iter()
                                    .map(String::as_str)
                                    .eq(content.iter().copied())
                        })
                        .map(|&pi| (idx.phrases[pi].element, idx.phrases[pi].weight))
                        .collect();
                    dedup_best(&mut els);
                    els
                };
            // A span containing glue must match exactly as a multi-word name, or it is noise.
            if content.len() != span.len() && content.len() < 2 {
                elements.clear();
            }
            // Cell values.
            let norm: String = span
                .iter()
                .map(|t| t.norm.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let mut vals = if single_stop && !first.capitalized {
                Vec::new()
            } else {
                value_matches(idx, &normalize_value(&norm))
            };
            if vals.is_empty() && !single_stop && first.number().is_none() {
                let lem: String = span
                    .iter()
                    .map(|t| t.lemma.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                if lem != norm {
                    vals = value_matches(idx, &normalize_value(&lem));
                }
            }
            // "opening date" for `opened_dt`: the same words in another verb form, when they
            // are no stored value ("returned" is a status before it is the `returns` table).
            // Only plain words: no glue, no stop word.
            let plain = content.len() == span.len()
                && !span.iter().any(|t| STOP.contains(&t.lemma.as_str()));
            if elements.is_empty() && vals.is_empty() && plain && first.number().is_none() {
                elements = idx
                    .lookup_stemmed(&content)
                    .iter()
                    .map(|&pi| (idx.phrases[pi].element, idx.phrases[pi].weight * 0.9))
                    .collect();
                dedup_best(&mut elements);
            }
            // "life expectancy" for `LifeExpectancy`, "zip code" for `zipcode`: words a name
            // runs together, matched by their concatenation.
            if elements.is_empty() && vals.is_empty() && plain && (2..=3).contains(&len) {
                let joined = content.concat();
                elements = lookup_scaled(idx, &[joined.as_str()], 0.95);
            }
            // Bare numbers are comparisons or limits, not values, unless part of a longer value.
            if len == 1 && first.number().is_some() {
                vals.clear();
            }
            if !elements.is_empty() || !vals.is_empty() {
                found = Some(Mention {
                    start: i,
                    end: i + len,
                    elements,
                    values: vals,
                    quoted: None,
                    corrected: false,
                    partial: false,
                });
                break;
            }
        }
        // "ordered", "purchased", "rated": the verb names the thing ("order", "purchase").
        if found.is_none()
            && tok.kind == TokenKind::Word
            && tok.lemma.len() > 4
            && tok.lemma.ends_with("ed")
            && !STOP.contains(&tok.lemma.as_str())
        {
            let w = &tok.lemma;
            found = [&w[..w.len() - 2], &w[..w.len() - 1]]
                .into_iter()
                .find_map(|stem| word_mention(i, lookup_scaled(idx, &[stem], 0.8), false));
        }
        // "nation" for `country`: an everyday synonym the schema does not use.
        if found.is_none() && tok.kind == TokenKind::Word && !STOP.contains(&tok.lemma.as_str()) {
            let syn = crate::lexicon::synonyms(&tok.lemma);
            if !syn.is_empty() {
                found = word_mention(i, lookup_scaled(idx, syn, 0.9), false);
            }
        }
        // "salary" for `AnnualSalary`: the last word of exactly one column's name.
        if found.is_none()
            && tok.kind == TokenKind::Word
            && !STOP.contains(&tok.lemma.as_str())
            && !GLUE.contains(&tok.lemma.as_str())
        {
            let heads = idx.columns_by_head(&tok.lemma);
            found = word_mention(i, heads.iter().map(|&e| (e, 0.8)).collect(), false);
        }
        // "custmers": one typo away from a schema word.
        if found.is_none()
            && tok.kind == TokenKind::Word
            && !STOP.contains(&tok.lemma.as_str())
            && !idx.knows_word(&tok.lemma)
        {
            if let Some(fixed) = idx.correct(&tok.lemma) {
                found = word_mention(i, lookup_scaled(idx, &[fixed], 0.85), true);
            }
        }
        match found {
            Some(mut m) => {
                prefer_tables_over_their_references(&mut m, idx);
                i = m.end;
                mentions.push(m);
            }
            None => i += 1,
        }
    }
    share_modifiers(tokens, idx, &mut mentions);
    compound_nouns(idx, &mut mentions);
    mentions
}

/// "population density": two numeric columns of one table named by adjacent single words,
/// with nothing between them, are one compound noun, headed by its last word (`density`); the
/// first word only says which density. A list says "population and density".
fn compound_nouns(idx: &SchemaIndex, mentions: &mut Vec<Mention>) {
    let plain =
        |m: &Mention| m.end - m.start == 1 && !m.is_value() && !m.corrected && !m.has_table();
    let numeric = |t: usize, c: usize| {
        idx.aug
            .schema
            .tables
            .get(t)
            .and_then(|tb| tb.columns.get(c))
            .is_some_and(|col| col.type_class().is_numeric())
    };
    let mut k = 1;
    while k < mentions.len() {
        let (prev, cur) = (&mentions[k - 1], &mentions[k]);
        let head = match cur.best_element() {
            Some(Element::Column(t, c)) if numeric(t, c) => Some((t, c)),
            _ => None,
        };
        let compound = prev.end == cur.start
            && plain(prev)
            && plain(cur)
            && head.is_some_and(|(t, c)| {
                let top = prev.top();
                prev.columns()
                    .any(|(pt, pc, w)| w >= top - 0.051 && pt == t && pc != c && numeric(pt, pc))
            });
        if compound {
            let head = mentions.remove(k);
            mentions[k - 1] = Mention {
                start: mentions[k - 1].start,
                ..head
            };
        } else {
            k += 1;
        }
    }
}

/// "continent" names both the `continents` table and `countries.Continent`, a foreign key to
/// it: the word means the table; the column is only how rows point at it.
fn prefer_tables_over_their_references(m: &mut Mention, idx: &SchemaIndex) {
    let tables: Vec<(usize, f32)> = m
        .elements
        .iter()
        .filter_map(|(e, s)| match e {
            Element::Table(t) => Some((*t, *s)),
            _ => None,
        })
        .collect();
    if tables.is_empty() {
        return;
    }
    m.elements.retain(|(e, s)| match e {
        Element::Column(ct, cc) => !tables.iter().any(|&(t, ts)| {
            ts >= *s - 0.051
                && idx.graph.edges.iter().any(|edge| {
                    (edge.a == *ct && edge.a_cols == [*cc] && edge.b == t)
                        || (edge.b == *ct && edge.b_cols == [*cc] && edge.a == t)
                })
        }),
        _ => true,
    });
}

/// "template type codes and descriptions": the second item borrows the first one's modifiers
/// when that names a column ("template type description") and its own word alone does not
/// name one as well.
fn share_modifiers(tokens: &[Token], idx: &SchemaIndex, mentions: &mut [Mention]) {
    let mut k = 1;
    while k < mentions.len() {
        let (prev, cur) = (&mentions[k - 1], &mentions[k]);
        let between: Vec<&str> = tokens[prev.end..cur.start]
            .iter()
            .map(|t| t.lemma.as_str())
            .collect();
        let joined =
            !between.is_empty() && between.iter().all(|w| matches!(*w, "and" | "," | "or"));
        let prev_words: Vec<&str> = tokens[prev.start..prev.end]
            .iter()
            .filter(|t| !GLUE.contains(&t.lemma.as_str()))
            .map(|t| t.lemma.as_str())
            .collect();
        if joined
            && prev.has_column()
            && prev_words.len() >= 2
            && cur.end - cur.start == 1
            && !cur.is_value()
        {
            let mut words: Vec<&str> = prev_words[..prev_words.len() - 1].to_vec();
            words.push(tokens[cur.start].lemma.as_str());
            let mut els: Vec<(Element, f32)> = idx
                .lookup(&words)
                .iter()
                .map(|&pi| (idx.phrases[pi].element, idx.phrases[pi].weight))
                .filter(|(e, _)| matches!(e, Element::Column(..)))
                .collect();
            dedup_best(&mut els);
            if !els.is_empty() && els[0].1 >= cur.elements.first().map_or(0.0, |e| e.1) {
                mentions[k].elements = els;
            }
        }
        k += 1;
    }
}

/// Glue words allowed inside a multi-word name.
const INNER_GLUE: &[&str] = &["of", "the", "a", "'s"];

fn is_glue(t: &Token) -> bool {
    GLUE.contains(&t.lemma.as_str())
}

/// Elements named by exactly these words, each weight scaled by `factor`, best first.
fn lookup_scaled(idx: &SchemaIndex, words: &[&str], factor: f32) -> Vec<(Element, f32)> {
    let mut els: Vec<(Element, f32)> = idx
        .lookup(words)
        .iter()
        .map(|&pi| (idx.phrases[pi].element, idx.phrases[pi].weight * factor))
        .collect();
    dedup_best(&mut els);
    els
}

/// A one-token mention of schema elements (from a fallback reading of the token).
fn word_mention(i: usize, elements: Vec<(Element, f32)>, corrected: bool) -> Option<Mention> {
    (!elements.is_empty()).then_some(Mention {
        start: i,
        end: i + 1,
        elements,
        values: Vec::new(),
        quoted: None,
        corrected,
        partial: false,
    })
}

fn lookup_words(idx: &SchemaIndex, lemmas: &[String]) -> Vec<(Element, f32)> {
    let refs: Vec<&str> = lemmas.iter().map(String::as_str).collect();
    let mut els: Vec<(Element, f32)> = idx
        .lookup(&refs)
        .iter()
        .map(|&pi| (idx.phrases[pi].element, idx.phrases[pi].weight))
        .collect();
    dedup_best(&mut els);
    els
}

/// Keeps each element once with its best weight, best first (ties: tables before columns).
fn dedup_best(els: &mut Vec<(Element, f32)>) {
    els.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut seen = Vec::new();
    els.retain(|(e, _)| {
        if seen.contains(e) {
            false
        } else {
            seen.push(*e);
            true
        }
    });
}

fn value_matches(idx: &SchemaIndex, key: &str) -> Vec<ValueMatch> {
    let schema = &idx.aug.schema;
    idx.aug
        .value_index
        .get_normalized(key)
        .iter()
        .filter_map(|h| {
            let t = schema.table_index(&h.table)?;
            let c = schema.tables[t].column_index(&h.column)?;
            Some(ValueMatch {
                table: t,
                column: c,
                value: h.value.clone(),
            })
        })
        .collect()
}

/// For a quoted string no column holds exactly: values that contain it or that it contains
/// (case-insensitive), if few.
fn contains_matches(idx: &SchemaIndex, q: &str) -> Vec<ValueMatch> {
    let needle = normalize_value(q);
    if needle.len() < 3 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (key, hits) in idx.aug.value_index.iter() {
        if key.contains(needle.as_str()) || (key.len() >= 4 && needle.contains(key)) {
            for h in hits {
                let schema = &idx.aug.schema;
                if let Some(t) = schema.table_index(&h.table) {
                    if let Some(c) = schema.tables[t].column_index(&h.column) {
                        out.push(ValueMatch {
                            table: t,
                            column: c,
                            value: h.value.clone(),
                        });
                    }
                }
            }
            if out.len() > 8 {
                return Vec::new();
            }
        }
    }
    // The index is a hash map: make the order (and so the choice) deterministic.
    out.sort_by(|a, b| (a.table, a.column, &a.value).cmp(&(b.table, b.column, &b.value)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{index, typed};
    use crate::text::tokenize;

    /// Each mention as `words → first element or value`.
    fn check(question: &str, expect: &[&str]) {
        let idx = index(
            vec![
                typed(
                    "orders",
                    &[
                        "order_id integer pk",
                        "status text!",
                        "shipped_at timestamp",
                        "handling_fee real",
                        "tracking_number text",
                        "zipcode text",
                    ],
                ),
                typed("returns", &["return_id integer pk", "order_id integer"]),
                typed("warehouses", &["wh_id text pk", "wh_opened_dt date"]),
            ],
            &[
                ("orders", "status", "IN_TRANSIT"),
                ("orders", "status", "returned"),
            ],
        );
        let toks = tokenize(question);
        let got: Vec<String> = link(&toks, &idx)
            .iter()
            .map(|m| {
                let words: Vec<&str> = toks[m.start..m.end]
                    .iter()
                    .map(|t| t.text.as_str())
                    .collect();
                let what = match (m.values.first(), m.best_element()) {
                    (Some(v), _) => format!("'{}'", v.value),
                    (None, Some(Element::Table(t))) => idx.table(t).name.clone(),
                    (None, Some(Element::Column(t, c))) => {
                        format!("{}.{}", idx.table(t).name, idx.column_name(t, c))
                    }
                    _ => "?".into(),
                };
                format!("{} → {what}", words.join(" "))
            })
            .collect();
        assert_eq!(got, expect, "{question}");
    }

    #[test]
    fn values_starting_with_glue() {
        check(
            "orders in transit",
            &["orders → orders", "in transit → 'IN_TRANSIT'"],
        );
    }

    #[test]
    fn values_before_stems() {
        check(
            "orders returned",
            &["orders → orders", "returned → 'returned'"],
        );
        check("list the returns", &["returns → returns"]);
    }

    #[test]
    fn stems_link_other_verb_forms() {
        check(
            "opening date of warehouses",
            &[
                "opening date → warehouses.wh_opened_dt",
                "warehouses → warehouses",
            ],
        );
    }

    /// A column's last word names it when no other column ends with it, unless that word
    /// only says what kind of value it is ("number").
    #[test]
    fn head_nouns_and_run_together_names() {
        check(
            "fee of orders",
            &["fee → orders.handling_fee", "orders → orders"],
        );
        check("number of orders", &["orders → orders"]);
        check(
            "orders by zip code",
            &["orders → orders", "zip code → orders.zipcode"],
        );
    }
}
