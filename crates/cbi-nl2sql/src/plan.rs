//! The embedded planner: question → [`SemanticQuery`] with a confidence and its reasons.
//!
//! It works in passes over the linked question. Each pass recognises one kind of construct —
//! counting, explicit ordering, grouping, superlatives and top-N, comparisons, value filters,
//! aggregates, the select list, relationships to other tables, time expressions — and consumes
//! the mentions it explains. What no pass explains lowers the confidence, so an answer that
//! left meaning on the table never claims to be sure.

use cbi_types::{Intent, TypeClass};

use crate::index::{Element, SchemaIndex};
use crate::lexicon::*;
use crate::link::{Mention, STOP, link};
use crate::query::*;
use crate::text::{Token, TokenKind, tokenize};
use crate::time::{TimeFilter, resolve_time};
use crate::{Error, Result};

/// A candidate interpretation when a phrase could mean several things.
#[derive(Debug, Clone, PartialEq)]
pub struct Ambiguity {
    /// The words of the question that were ambiguous.
    pub phrase: String,
    /// The competing elements, best first, as `table.column` or table names, with a short label.
    pub options: Vec<(Element, String)>,
}

/// What the planner made of a question.
#[derive(Debug, Clone)]
pub struct Plan {
    pub query: SemanticQuery,
    pub intent: Intent,
    /// 0..1: how sure the planner is that the query means what the question asks.
    pub confidence: f32,
    /// Why the confidence is what it is, in plain words (what lowered it).
    pub reasons: Vec<String>,
    /// A material ambiguity worth asking the person about.
    pub ambiguity: Option<Ambiguity>,
}

/// Knobs of the planner.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// The date "today" is for "last quarter" and friends (ISO). Defaults to the latest date in
    /// the data.
    pub reference_date: Option<chrono::NaiveDate>,
    /// Choices made in answer to earlier clarifying questions: phrase → element.
    pub choices: Vec<(String, Element)>,
}

/// Plans a question against an indexed schema.
pub fn plan(question: &str, idx: &SchemaIndex, opts: &PlanOptions) -> Result<Plan> {
    let (tokens, mentions) = read(question, idx, opts);
    let mut p = Planner::new(idx, &tokens, &mentions, opts);
    p.run()?;
    p.finish()
}

/// Tokens and ranked links of a question, with the person's earlier choices applied.
fn read(question: &str, idx: &SchemaIndex, opts: &PlanOptions) -> (Vec<Token>, Vec<Mention>) {
    let mut tokens = tokenize(question);
    correct_cue_words(&mut tokens, idx);
    let mut mentions = link(&tokens, idx);
    apply_choices(&tokens, &mut mentions, &opts.choices);
    rank_by_context(&mut mentions, idx);
    (tokens, mentions)
}

/// The tokens and links of a question, for debugging and explanations.
pub fn understand(question: &str, idx: &SchemaIndex) -> (Vec<Token>, Vec<Mention>) {
    read(question, idx, &PlanOptions::default())
}

/// A phrase the person has said what they mean by (answering a clarifying question) names that
/// element, whatever the linker made of it.
fn apply_choices(tokens: &[Token], mentions: &mut Vec<Mention>, choices: &[(String, Element)]) {
    for (phrase, element) in choices {
        let words: Vec<String> = phrase
            .split_whitespace()
            .map(|w| w.to_lowercase())
            .collect();
        if words.is_empty() {
            continue;
        }
        let n = words.len();
        let Some(start) = (0..tokens.len().saturating_sub(n - 1)).find(|&i| {
            (0..n).all(|k| {
                tokens[i + k].norm == words[k] || tokens[i + k].text.to_lowercase() == words[k]
            })
        }) else {
            continue;
        };
        let end = start + n;
        mentions.retain(|m| m.end <= start || m.start >= end);
        let at = mentions
            .iter()
            .position(|m| m.start >= end)
            .unwrap_or(mentions.len());
        mentions.insert(
            at,
            Mention {
                start,
                end,
                elements: vec![(*element, 1.0)],
                values: Vec::new(),
                quoted: None,
                corrected: false,
                partial: false,
            },
        );
    }
}

struct Planner<'a> {
    idx: &'a SchemaIndex,
    toks: &'a [Token],
    ments: &'a [Mention],
    opts: &'a PlanOptions,
    /// Mention consumed by some pass.
    used: Vec<bool>,
    /// Token consumed as a cue.
    cue: Vec<bool>,
    /// Resolved (table, column) per column mention, once decided.
    resolved: Vec<Option<(usize, usize)>>,
    subject: Option<usize>,
    count: Option<CountHead>,
    select: Vec<SelectItem>,
    filters: Vec<Condition>,
    group: Vec<Expr>,
    having: Vec<Condition>,
    order: Vec<OrderItem>,
    limit: Option<u64>,
    distinct: bool,
    tables: Vec<usize>,
    compound: Option<(SetOp, Vec<Condition>)>,
    penalties: Vec<(f32, String)>,
    ambiguity: Option<Ambiguity>,
    intent: Intent,
    time_grain: Option<TimeGrain>,
    /// Nothing in the question said what to show: the select list is the subject's label.
    defaulted_select: bool,
    /// "year over year": each period is compared with the one before.
    over_previous: bool,
    /// Hops from the subject to every table, computed once when first needed.
    subject_distances: Option<(usize, Vec<Option<usize>>)>,
}

#[derive(Debug, Clone, Copy)]
struct CountHead {
    /// Mention counted, if any ("how many singers").
    mention: Option<usize>,
    distinct: bool,
}

fn content_word(t: &Token) -> bool {
    t.kind == TokenKind::Word
        && !STOP.contains(&t.lemma.as_str())
        && !is_head_word(&t.lemma)
        && t.lemma.len() > 1
}

impl<'a> Planner<'a> {
    fn new(
        idx: &'a SchemaIndex,
        toks: &'a [Token],
        ments: &'a [Mention],
        opts: &'a PlanOptions,
    ) -> Self {
        Planner {
            idx,
            toks,
            ments,
            opts,
            used: vec![false; ments.len()],
            cue: vec![false; toks.len()],
            resolved: vec![None; ments.len()],
            subject: None,
            count: None,
            select: Vec::new(),
            filters: Vec::new(),
            group: Vec::new(),
            having: Vec::new(),
            order: Vec::new(),
            limit: None,
            distinct: false,
            tables: Vec::new(),
            compound: None,
            penalties: Vec::new(),
            ambiguity: None,
            intent: Intent::Query,
            time_grain: None,
            defaulted_select: false,
            over_previous: false,
            subject_distances: None,
        }
    }

    // ----- small helpers over tokens and mentions -------------------------------------------

    fn lemma(&self, i: usize) -> &str {
        self.toks.get(i).map_or("", |t| t.lemma.as_str())
    }

    fn words_from(&self, i: usize, n: usize) -> Vec<&str> {
        (i..(i + n).min(self.toks.len()))
            .map(|k| self.lemma(k))
            .collect()
    }

    fn has_word(&self, w: &str) -> bool {
        self.toks.iter().any(|t| t.lemma == w || t.norm == w)
    }

    fn has_phrase(&self, words: &[&str]) -> Option<usize> {
        (0..self.toks.len()).find(|&i| {
            words.iter().enumerate().all(|(k, w)| {
                self.toks
                    .get(i + k)
                    .is_some_and(|t| t.lemma == *w || t.norm == *w)
            })
        })
    }

    /// The mention covering token `i`.
    fn mention_at(&self, i: usize) -> Option<usize> {
        self.ments.iter().position(|m| m.start <= i && i < m.end)
    }

    /// The first mention starting at or after token `i`, skipping only the given filler words.
    fn mention_after(&self, mut i: usize, filler: &[&str]) -> Option<usize> {
        while i < self.toks.len() {
            if let Some(m) = self.ments.iter().position(|m| m.start == i) {
                return Some(m);
            }
            let l = self.lemma(i);
            if filler.contains(&l) {
                i += 1;
                continue;
            }
            return None;
        }
        None
    }

    /// The last mention ending at or before token `i` (exclusive end), skipping filler words.
    fn mention_before(&self, i: usize, filler: &[&str]) -> Option<usize> {
        let mut j = i;
        loop {
            if let Some(m) = self.ments.iter().position(|m| m.end == j) {
                return Some(m);
            }
            if j == 0 {
                return None;
            }
            let l = self.lemma(j - 1);
            if filler.contains(&l) {
                j -= 1;
                continue;
            }
            return None;
        }
    }

    fn table_name(&self, t: usize) -> String {
        self.idx.table(t).name.clone()
    }

    fn col_expr(&self, t: usize, c: usize) -> Expr {
        Expr::col(&self.idx.table(t).name, self.idx.column_name(t, c))
    }

    fn penalize(&mut self, factor: f32, why: impl Into<String>) {
        self.penalties.push((factor, why.into()));
    }

    fn first_filter_cue(&self, from: usize) -> usize {
        (from..self.toks.len())
            .find(|&i| {
                is_filter_cue(self.lemma(i))
                    && self.mention_at(i).is_none()
                    // "along with", "together with" continue the list of things asked for.
                    && !(self.lemma(i) == "with" && matches!(self.lemma(i.wrapping_sub(1)), "along" | "together"))
            })
            .unwrap_or(self.toks.len())
    }

    // ----- column resolution -----------------------------------------------------------------

    /// Decides which table's column a column mention means.
    fn resolve(&mut self, mi: usize) -> Option<(usize, usize)> {
        self.cache_subject_distances();
        if let Some(r) = self.resolved[mi] {
            return Some(r);
        }
        let m = &self.ments[mi];
        let cands: Vec<(usize, usize, f32)> = m.columns().collect();
        if cands.is_empty() {
            return None;
        }
        let phrase = self.span_text(m.start, m.end);
        if let Some((_, Element::Column(t, c))) = self
            .opts
            .choices
            .iter()
            .find(|(p, _)| p.eq_ignore_ascii_case(&phrase))
        {
            let (t, c) = (*t, *c);
            self.resolved[mi] = Some((t, c));
            return Some((t, c));
        }
        let best = cands[0].2;
        let top: Vec<(usize, usize, f32)> = cands
            .iter()
            .copied()
            .filter(|c| c.2 >= best - 0.051)
            .collect();
        // The subject's own reading may be a little weaker ("age" is `Pets.pet_age` in a
        // question about pets, even though `Student.Age` matches the word exactly).
        let near: Vec<(usize, usize, f32)> = cands
            .iter()
            .copied()
            .filter(|c| c.2 >= best - 0.151)
            .collect();
        let pick = |t: usize| top.iter().find(|c| c.0 == t).map(|c| (c.0, c.1));
        let pick_near = |t: usize| near.iter().find(|c| c.0 == t).map(|c| (c.0, c.1));
        let in_play: Vec<usize> = self.resolved.iter().flatten().map(|r| r.0).collect();
        // 1. A table named right next to it: "stadium name", "singer's age", "name of the stadium".
        let adjacent = self.adjacent_table(mi);
        let choice = adjacent
            .and_then(|t| cands.iter().find(|c| c.0 == t).map(|c| (c.0, c.1)))
            .or_else(|| self.subject.and_then(pick))
            .or_else(|| self.subject.and_then(pick_near))
            .or_else(|| self.tables.iter().find_map(|&t| pick(t)))
            .or_else(|| in_play.iter().find_map(|&t| pick(t)))
            .or_else(|| {
                // Closest to the subject over relationships, then the most central table.
                let subject = self.subject?;
                top.iter()
                    .filter_map(|c| self.distance_from_subject(subject, c.0).map(|d| (d, c)))
                    .min_by_key(|(d, _)| *d)
                    .map(|(_, c)| (c.0, c.1))
            })
            .unwrap_or((top[0].0, top[0].1));
        if adjacent.is_none() && self.subject.is_none_or(|s| s != choice.0) && top.len() > 1 {
            let distinct_tables = top.iter().filter(|c| c.0 != choice.0).count();
            if distinct_tables > 0 && !self.tables.contains(&choice.0) {
                self.penalize(
                    0.85,
                    format!("\"{phrase}\" could be a column of several tables"),
                );
                if self.ambiguity.is_none() {
                    self.ambiguity = Some(Ambiguity {
                        phrase: phrase.clone(),
                        options: top
                            .iter()
                            .map(|c| {
                                (
                                    Element::Column(c.0, c.1),
                                    format!(
                                        "{}.{}",
                                        self.idx.table(c.0).name,
                                        self.idx.column_name(c.0, c.1)
                                    ),
                                )
                            })
                            .collect(),
                    });
                }
            }
        }
        self.resolved[mi] = Some(choice);
        Some(choice)
    }

    fn span_text(&self, start: usize, end: usize) -> String {
        self.toks[start..end]
            .iter()
            .map(|t| t.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A table mention directly attached to a column mention.
    fn adjacent_table(&self, mi: usize) -> Option<usize> {
        let m = &self.ments[mi];
        // "stadium name", "singer 's age"
        if let Some(prev) = self.mention_before(m.start, &["'s"]) {
            if let Some(t) = self.ments[prev].tables().next() {
                return Some(t);
            }
        }
        // "name of the stadium", "age of all singers", "capacity for each stadium"
        if let Some(next) = self.mention_after(
            m.end,
            &[
                "of", "for", "in", "the", "all", "each", "every", "a", "an", "any",
            ],
        ) {
            let gap_has_of = (m.end..self.ments[next].start)
                .any(|i| matches!(self.lemma(i), "of" | "for" | "in"));
            if gap_has_of {
                if let Some(t) = self.ments[next].tables().next() {
                    return Some(t);
                }
            }
        }
        None
    }

    /// A column of table `t` whose words contain one of `words`, preferring numeric ones.
    fn find_column(&self, t: usize, words: &[&str], numeric: bool) -> Option<usize> {
        let info = &self.idx.tables[t];
        let mut best: Option<(usize, i32)> = None;
        for (ci, cw) in info.column_words.iter().enumerate() {
            for (rank, w) in words.iter().enumerate() {
                if cw.iter().any(|x| x == w) {
                    let class = info.column_class[ci];
                    let ok = !numeric
                        || class.is_numeric()
                        || class.is_temporal()
                        || class == TypeClass::Text && w.contains("date");
                    if ok {
                        let score = 100 - rank as i32 * 10 - cw.len() as i32;
                        if best.is_none_or(|(_, s)| score > s) {
                            best = Some((ci, score));
                        }
                    }
                }
            }
        }
        best.map(|(c, _)| c)
    }

    /// The column an adjective implies, in the subject or any table in play.
    fn implied(&self, adjective: &str) -> Option<(usize, usize, bool)> {
        let (words, more_is_greater) = implied_column(adjective)?;
        let mut tables: Vec<usize> = self.subject.into_iter().collect();
        tables.extend(self.tables.iter().copied());
        tables.extend(
            self.ments
                .iter()
                .flat_map(|m| m.columns().map(|c| c.0).chain(m.tables())),
        );
        for t in tables {
            if let Some(c) = self.find_column(t, words, true) {
                let cw = &self.idx.tables[t].column_words[c];
                // Birth dates and years run the other way: older means earlier.
                let age_word = matches!(
                    adjective,
                    "oldest" | "older" | "eldest" | "elder" | "youngest" | "younger"
                );
                let inverted = cw.iter().any(|w| w == "birth" || w == "born" || w == "dob")
                    || ((cw.iter().any(|w| w == "year")
                        || self.idx.tables[t].temporal.contains(&c))
                        && age_word);
                return Some((t, c, more_is_greater != inverted));
            }
        }
        None
    }

    // ----- the passes ---------------------------------------------------------------------------

    fn run(&mut self) -> Result<()> {
        if self.ments.is_empty() {
            return Err(Error::NotUnderstood(
                "no table, column or value of the database is mentioned".into(),
            ));
        }
        self.detect_intent();
        self.pick_subject();
        self.pass_count_head();
        self.pass_time();
        self.pass_order();
        self.pass_group();
        self.pass_superlatives();
        self.pass_comparisons();
        self.pass_values();
        self.pass_agg_lists();
        self.pass_aggregates();
        self.pass_select();
        self.pass_tables();
        self.pass_unexplained();
        Ok(())
    }

    fn detect_intent(&mut self) {
        let has = |p: &Self, ws: &[&str]| ws.iter().any(|w| p.has_word(w));
        self.intent = if has(self, &["export", "download", "csv"]) {
            Intent::Export
        } else if has(self, &["compare", "versus", "vs", "comparison"]) {
            Intent::Compare
        } else if has(
            self,
            &[
                "trend",
                "monthly",
                "quarterly",
                "yearly",
                "weekly",
                "daily",
                "growth",
                "over",
            ],
        ) && self.has_time_grain_word()
        {
            Intent::Analyze
        } else if self.toks.first().is_some_and(|t| {
            matches!(
                t.lemma.as_str(),
                "only" | "just" | "exclude" | "filter" | "restrict"
            )
        }) {
            Intent::Filter
        } else if self.toks.len() <= 4
            && self
                .toks
                .first()
                .is_some_and(|t| matches!(t.lemma.as_str(), "show" | "list" | "browse" | "explore"))
        {
            Intent::Explore
        } else {
            Intent::Query
        };
    }

    fn has_time_grain_word(&self) -> bool {
        self.toks.iter().any(|t| {
            matches!(
                t.lemma.as_str(),
                "monthly"
                    | "quarterly"
                    | "yearly"
                    | "annual"
                    | "annually"
                    | "weekly"
                    | "daily"
                    | "trend"
                    | "month"
                    | "quarter"
                    | "week"
            )
        })
    }

    /// The table the question is about: the first table named outside ordering/grouping
    /// phrases; else the table that explains the most mentions.
    fn pick_subject(&mut self) {
        for (mi, m) in self.ments.iter().enumerate() {
            // Part of a table's name ("series" for `TV_series`) is weak evidence: such tables
            // compete below on how many mentions they explain.
            if m.elements.first().is_some_and(|e| e.1 < 0.9) {
                continue;
            }
            // "document ids", "singer names": a column phrase that names its own table.
            if !m.has_table() && m.has_column() {
                let lemmas: Vec<&str> = self.toks[m.start..m.end]
                    .iter()
                    .map(|t| t.lemma.as_str())
                    .collect();
                let top = m.elements.first().map_or(0.0, |e| e.1);
                let named = m.columns().find(|&(t, _, w)| {
                    w >= top - 0.051
                        && !self.idx.tables[t].words.is_empty()
                        && self.idx.tables[t]
                            .words
                            .iter()
                            .all(|x| lemmas.contains(&x.as_str()))
                });
                if let Some((t, _, _)) = named {
                    let prev = m.start.checked_sub(1).map_or("", |i| self.lemma(i));
                    if !matches!(prev, "each" | "every" | "per" | "by") {
                        self.subject = Some(t);
                        return;
                    }
                }
                continue;
            }
            if let Some(t) = m.tables().next() {
                // A table named right after "for each"/"per"/"by" is a grouping, not the subject.
                let prev = m.start.checked_sub(1).map_or("", |i| self.lemma(i));
                let prev2 = m.start.checked_sub(2).map_or("", |i| self.lemma(i));
                let by_group = (prev == "by" || (prev == "the" && prev2 == "by"))
                    && !matches!(
                        self.lemma(m.start.saturating_sub(if prev == "by" { 2 } else { 3 })),
                        "order" | "ordered" | "sort" | "sorted" | "rank" | "ranked"
                    );
                if (prev == "each" || prev == "every") && matches!(prev2, "for" | "in" | "of")
                    || prev == "per"
                    || by_group
                {
                    continue;
                }
                // A table that is really a column of another mentioned table ("country" in
                // "singers by country") keeps going.
                if m.is_value() && !m.has_column() && m.quoted.is_some() {
                    continue;
                }
                let _ = mi;
                self.subject = Some(t);
                return;
            }
        }
        // No table named: the table covering most mentions.
        let n = self.idx.tables.len();
        let mut score = vec![0.0f32; n];
        for m in self.ments {
            // What the answer is broken down by ("by region", "per store") is not its subject.
            let before = m
                .start
                .checked_sub(1)
                .map_or("", |i| self.toks[i].norm.as_str());
            let weight = if matches!(before, "by" | "per" | "each" | "every") {
                0.5
            } else {
                1.0
            };
            let mut seen = Vec::new();
            for (t, _, s) in m.columns() {
                if !seen.contains(&t) {
                    score[t] += s * weight;
                    seen.push(t);
                }
            }
            // A measure is about its fact table ("revenue" → order_items).
            if let Some(Element::Term(ti)) = m.best_element() {
                if matches!(self.idx.term(ti), cbi_types::TermTarget::Measure(_)) {
                    for name in self.term_tables(ti).iter().take(1) {
                        if let Some(t) = self.idx.aug.schema.table_index(name) {
                            if !seen.contains(&t) {
                                score[t] += 1.0;
                                seen.push(t);
                            }
                        }
                    }
                }
            }
            for v in &m.values {
                if !seen.contains(&v.table) {
                    score[v.table] += 0.8;
                    seen.push(v.table);
                }
            }
            for t in m.tables() {
                if !seen.contains(&t) {
                    score[t] += m.elements.first().map_or(0.0, |e| e.1) * weight;
                    seen.push(t);
                }
            }
            if let Some(Element::Term(ti)) = m.best_element() {
                let _ = ti;
            }
        }
        // Prefer fact-like tables (more rows) on ties.
        let best = (0..n).filter(|&t| score[t] > 0.0).max_by(|&a, &b| {
            score[a]
                .total_cmp(&score[b])
                .then(
                    self.idx.tables[a]
                        .row_count
                        .cmp(&self.idx.tables[b].row_count),
                )
                .then(b.cmp(&a))
        });
        // Several unrelated tables explain the question equally well: which one is meant is a
        // real question ("the total amount" of online or of store sales?).
        if let Some(b) = best {
            let tied: Vec<usize> = (0..n)
                .filter(|&t| {
                    t != b
                        && (score[t] - score[b]).abs() < 0.01
                        && self.idx.graph.distance(t, b).is_none()
                })
                .collect();
            if !tied.is_empty() {
                let mention = self.ments.iter().find(|m| {
                    m.columns().any(|c| c.0 == b) && m.columns().any(|c| tied.contains(&c.0))
                });
                if let Some(m) = mention {
                    let phrase = self.span_text(m.start, m.end);
                    // Answered already: the person picked one of them.
                    let chosen = self
                        .opts
                        .choices
                        .iter()
                        .find(|(p, _)| p.eq_ignore_ascii_case(&phrase))
                        .and_then(|(_, e)| match e {
                            Element::Column(t, _) | Element::Table(t) => Some(*t),
                            Element::Term(_) => None,
                        });
                    if let Some(t) = chosen {
                        self.subject = Some(t);
                        return;
                    }
                    let options: Vec<(Element, String)> = m
                        .columns()
                        .filter(|c| c.0 == b || tied.contains(&c.0))
                        .map(|c| {
                            (
                                Element::Column(c.0, c.1),
                                format!(
                                    "{}.{}",
                                    self.idx.table(c.0).name,
                                    self.idx.column_name(c.0, c.1)
                                ),
                            )
                        })
                        .collect();
                    self.penalize(0.6, format!("\"{phrase}\" is in several unrelated tables"));
                    if self.ambiguity.is_none() {
                        self.ambiguity = Some(Ambiguity { phrase, options });
                    }
                }
            }
        }
        if best.is_none() {
            // Only business terms: their tables.
            for m in self.ments {
                if let Some(Element::Term(ti)) = m.best_element() {
                    let tabs = self.term_tables(ti);
                    if let Some(t) = tabs
                        .first()
                        .and_then(|t| self.idx.aug.schema.table_index(t))
                    {
                        self.subject = Some(t);
                        return;
                    }
                }
            }
        }
        self.subject = best;
    }

    fn term_tables(&self, ti: usize) -> Vec<String> {
        let sql = match self.idx.term(ti) {
            cbi_types::TermTarget::Column(s)
            | cbi_types::TermTarget::Measure(s)
            | cbi_types::TermTarget::Filter(s) => s,
        };
        let mut out = Vec::new();
        for (t, _) in cbi_schema::qualified_refs(sql) {
            if let Some(ti) = self.idx.aug.schema.table_index(&t) {
                push_unique(&mut out, &self.idx.table(ti).name);
            }
        }
        out
    }

    /// "How many X", "count the X", "the number of X" (when it is what the question asks).
    fn pass_count_head(&mut self) {
        let start = if let Some(i) = self.has_phrase(&["how", "many"]) {
            Some(i + 2)
        } else if let Some(i) = self
            .has_phrase(&["number", "of"])
            .filter(|&i| !self.is_column_word(i) && self.only_head_before(i))
        {
            Some(i + 2)
        } else if self.lemma(0) == "count" {
            Some(1)
        } else {
            None
        };
        let Some(start) = start else {
            return;
        };
        for k in start.saturating_sub(2)..start {
            self.cue[k] = true;
        }
        // "how many people live in …": a population total, when there is such a column.
        if matches!(
            self.lemma(start),
            "person" | "people" | "resident" | "inhabitant" | "citizen"
        ) {
            let mut tables: Vec<usize> = self.subject.into_iter().collect();
            for m in self.ments {
                tables.extend(m.tables());
                tables.extend(m.values.iter().map(|v| v.table));
            }
            let hit = tables
                .iter()
                .find_map(|&t| self.find_column(t, &["population"], true).map(|c| (t, c)));
            if let Some((t, c)) = hit {
                self.cue[start] = true;
                if matches!(self.lemma(start + 1), "live" | "living" | "reside") {
                    self.cue[start + 1] = true;
                }
                self.select.push(SelectItem {
                    expr: Expr::agg(AggFunc::Sum, self.col_expr(t, c)),
                    alias: None,
                });
                if self.subject.is_none() {
                    self.subject = Some(t);
                }
                return;
            }
        }
        // "total number of" is a count, not a sum.
        if start >= 3 && self.lemma(start - 3) == "total" {
            self.cue[start - 3] = true;
        }
        // A cue word that also names a column ("number" for `FlightNo`) is the cue here.
        for k in start.saturating_sub(3)..start {
            if self.cue[k] {
                if let Some(m) = self.mention_at(k) {
                    if self.ments[m].end - self.ments[m].start == 1 {
                        self.used[m] = true;
                    }
                }
            }
        }
        let distinct_words = ["different", "distinct", "unique"];
        let filler = [
            "the",
            "a",
            "an",
            "all",
            "different",
            "distinct",
            "unique",
            "of",
            "total",
            "number",
            "each",
        ];
        let mention = self.mention_after(start, &filler);
        let distinct = (start..mention.map_or(start, |m| self.ments[m].start))
            .any(|i| distinct_words.contains(&self.lemma(i)));
        self.count = Some(CountHead { mention, distinct });
        if let Some(mi) = mention {
            let m = &self.ments[mi];
            if let Some(t) = m.tables().next() {
                if !m.has_column() || !distinct {
                    self.subject = Some(t);
                }
            }
        }
    }

    /// Whether only question words (and a leading "for each X," clause) come before token `i`.
    fn only_head_before(&self, i: usize) -> bool {
        let mut k = 0;
        if matches!(self.lemma(0), "for" | "in") && matches!(self.lemma(1), "each" | "every") {
            match (0..i).find(|&j| self.lemma(j) == ",") {
                Some(comma) => k = comma + 1,
                None => return false,
            }
        }
        (k..i).all(|j| {
            let w = self.lemma(j);
            is_head_word(w)
                || matches!(w, "the" | "total" | "of" | "," | "'s" | "and")
                || self.cue[j]
        })
    }

    /// Whether the token is part of a column mention ("number" in `Number_products`).
    fn is_column_word(&self, i: usize) -> bool {
        self.mention_at(i).is_some_and(|m| {
            let m = &self.ments[m];
            (m.has_column() || matches!(m.best_element(), Some(Element::Term(_))))
                && m.end - m.start > 1
        })
    }

    fn pass_time(&mut self) {
        // Is there a time expression at all? (Any reference date will do to find out.)
        let probe = chrono::NaiveDate::from_ymd_opt(2000, 6, 15);
        if resolve_time(self.toks, probe).is_none() {
            return;
        }
        // "born after 1990" compares a year column; that is the comparisons' job.
        let year_column = self.ments.iter().any(|m| {
            m.columns().any(|(t, c, _)| {
                !self.idx.tables[t].temporal.contains(&c)
                    && self.idx.tables[t].column_words[c]
                        .iter()
                        .any(|w| w == "year" || w == "birth")
            })
        });
        if year_column {
            return;
        }
        // The date column: one mentioned, else the measures' or the subject's main date.
        let Some((t, c)) = self.date_column() else {
            return;
        };
        // "Last quarter" is relative to the latest date in that column unless told otherwise.
        let reference = self.opts.reference_date.or_else(|| self.latest_date(t, c));
        let Some(tf) = resolve_time(self.toks, reference) else {
            return;
        };
        let TimeFilter {
            range,
            grain,
            tokens,
            over_previous,
        } = tf;
        self.over_previous = over_previous && grain.is_some();
        for i in tokens {
            self.cue[i] = true;
        }
        let col = self.col_expr(t, c);
        if let Some((lo, hi)) = range {
            if self.idx.tables[t].column_class[c] == TypeClass::Integer {
                // A year column.
                let y0: i64 = lo.get(..4).and_then(|s| s.parse().ok()).unwrap_or(0);
                let y1: i64 = hi.get(..4).and_then(|s| s.parse().ok()).unwrap_or(0);
                self.filters.push(Condition::Compare {
                    left: col.clone(),
                    op: CmpOp::GtEq,
                    right: Operand::Literal(Literal::Int(y0)),
                });
                self.filters.push(Condition::Compare {
                    left: col.clone(),
                    op: CmpOp::Lt,
                    right: Operand::Literal(Literal::Int(y1)),
                });
            } else {
                self.filters.push(Condition::Compare {
                    left: col.clone(),
                    op: CmpOp::GtEq,
                    right: Operand::Literal(Literal::Date(lo)),
                });
                self.filters.push(Condition::Compare {
                    left: col.clone(),
                    op: CmpOp::Lt,
                    right: Operand::Literal(Literal::Date(hi)),
                });
            }
        }
        if let Some(g) = grain {
            self.time_grain = Some(g);
            let ref_ = ColumnRef {
                table: self.table_name(t),
                column: self.idx.column_name(t, c).to_string(),
            };
            let e = if self.idx.tables[t].column_class[c] == TypeClass::Integer {
                Expr::Column(ref_)
            } else {
                Expr::TimeBucket {
                    grain: g,
                    column: ref_,
                }
            };
            self.group.push(e.clone());
            self.select.push(SelectItem {
                expr: e.clone(),
                alias: Some(g.word().to_string()),
            });
            self.order.push(OrderItem {
                expr: e,
                desc: false,
            });
            self.intent = Intent::Analyze;
        }
        if !self.tables.contains(&t) {
            self.tables.push(t);
        }
    }

    fn latest_date(&self, t: usize, c: usize) -> Option<chrono::NaiveDate> {
        let p = self.idx.aug.tables.get(t)?.columns.get(c)?;
        let max = p.max.as_ref()?;
        chrono::NaiveDate::parse_from_str(max.get(..10)?, "%Y-%m-%d").ok()
    }

    /// The date column a time expression applies to.
    fn date_column(&mut self) -> Option<(usize, usize)> {
        // A mentioned temporal column wins.
        for mi in 0..self.ments.len() {
            let cands: Vec<(usize, usize, f32)> = self.ments[mi].columns().collect();
            for (t, c, _) in cands {
                if self.idx.tables[t].temporal.contains(&c) {
                    self.used[mi] = true;
                    return Some((t, c));
                }
            }
        }
        // Measures date by their facts: "revenue in 2024" is about when orders were placed, not
        // when products launched. Their tables (and neighbours) come first, then the rest.
        let mut measures: Vec<usize> = Vec::new();
        let mut others: Vec<usize> = self.subject.into_iter().collect();
        for m in self.ments {
            for (t, _, _) in m.columns() {
                others.push(t);
            }
            if let Some(Element::Term(ti)) = m.best_element() {
                let measure = matches!(self.idx.term(ti), cbi_types::TermTarget::Measure(_));
                for name in self.term_tables(ti) {
                    if let Some(t) = self.idx.aug.schema.table_index(&name) {
                        if measure {
                            measures.push(t)
                        } else {
                            others.push(t)
                        }
                    }
                }
            }
        }
        for group in [measures, others] {
            if let Some(hit) = self.date_in_or_near(&group) {
                return Some(hit);
            }
        }
        None
    }

    /// The first temporal column of these tables, else of a table they point to (order_items
    /// → orders.order_date), else of one pointing at them.
    fn date_in_or_near(&self, tables: &[usize]) -> Option<(usize, usize)> {
        for &t in tables {
            if let Some(&c) = self.idx.tables[t].temporal.first() {
                return Some((t, c));
            }
        }
        for &t in tables {
            let mut best: Option<(usize, usize)> = None;
            for e in &self.idx.graph.edges {
                let other = if e.a == t {
                    e.b
                } else if e.b == t {
                    e.a
                } else {
                    continue;
                };
                if let Some(&c) = self.idx.tables[other].temporal.first() {
                    if e.a == t {
                        best = Some((other, c));
                        break;
                    }
                    best.get_or_insert((other, c));
                }
            }
            if best.is_some() {
                return best;
            }
        }
        None
    }

    /// "ordered by X", "sorted by X descending", "in descending order of X", "alphabetically".
    fn pass_order(&mut self) {
        let n = self.toks.len();
        let mut cue = None;
        for i in 0..n {
            // The surface form: "orders by shipping cost" is a table and a ranking, not "order by".
            let a = self.toks[i].norm.as_str();
            let b = self.lemma(i + 1);
            let is_sort = matches!(
                a,
                "order"
                    | "ordered"
                    | "sort"
                    | "sorted"
                    | "rank"
                    | "ranked"
                    | "arrange"
                    | "arranged"
                    | "organize"
                    | "organized"
            ) && matches!(b, "by" | "in" | "of" | "from" | "according");
            let is_order_of = a == "order" && matches!(b, "of" | "by");
            // "ordered" and "order" may also have linked to an `orders` table: here they are
            // the sorting cue (a one-word mention of it is consumed as such).
            let single_word = self
                .mention_at(i)
                .is_none_or(|m| self.ments[m].end - self.ments[m].start == 1);
            if (is_sort || is_order_of) && single_word {
                cue = Some(i);
                break;
            }
            if matches!(a, "alphabetically" | "alphabetical") {
                cue = Some(i);
                break;
            }
        }
        // "Sort employee names by their age": a sorting verb first, its keys after "by".
        if cue.is_none() && matches!(self.lemma(0), "sort" | "order" | "rank" | "arrange") {
            if let Some(by) =
                (1..n).find(|&k| self.lemma(k) == "by" && self.mention_at(k).is_none())
            {
                self.cue[0] = true;
                cue = Some(by - 1);
            }
        }
        let Some(start) = cue else {
            return;
        };
        // The sorting words themselves ("in alphabetical order", "in descending order", "sorted
        // by") are cues, even where a word also names a table.
        for k in start.saturating_sub(3)..n {
            let w = self.lemma(k);
            let sorting = matches!(
                w,
                "order"
                    | "ordered"
                    | "sort"
                    | "sorted"
                    | "alphabetical"
                    | "alphabetically"
                    | "descending"
                    | "ascending"
                    | "increasing"
                    | "decreasing"
                    | "reverse"
            ) && (k >= start || matches!(self.lemma(k + 1), "order" | "by"));
            if sorting {
                self.cue[k] = true;
                if let Some(m) = self.mention_at(k) {
                    if self.ments[m].end - self.ments[m].start == 1 {
                        self.used[m] = true;
                    }
                }
            }
        }
        let mut desc = false;
        let mut explicit_dir = false;
        for i in start.saturating_sub(3)..n {
            if self.mention_at(i).is_some() {
                continue;
            }
            let w = self.lemma(i);
            if matches!(w, "descending" | "desc" | "decreasing" | "reverse")
                || (w == "high" || w == "highest" || w == "most" || w == "largest") && i > start
            {
                if !(i > 0 && matches!(self.lemma(i - 1), "to")) {
                    desc = true;
                    explicit_dir = true;
                }
                self.cue[i] = true;
            } else if matches!(
                w,
                "ascending" | "asc" | "increasing" | "alphabetical" | "alphabetically"
            ) || (w == "low" || w == "lowest") && i > start
            {
                if !(i > 0 && matches!(self.lemma(i - 1), "to")) {
                    explicit_dir = true;
                }
                self.cue[i] = true;
            }
        }
        // "from the oldest to the youngest", "from highest to lowest"
        for i in start..n {
            if self.lemma(i) != "from" {
                continue;
            }
            let j = if self.lemma(i + 1) == "the" {
                i + 2
            } else {
                i + 1
            };
            let w = self.lemma(j);
            let dir = superlative(w)
                .or_else(|| implied_column(w).map(|(_, more)| more))
                .or(match w {
                    "high" | "large" | "big" | "most" | "old" | "many" | "more" => Some(true),
                    "low" | "small" | "least" | "young" | "few" | "less" => Some(false),
                    _ => None,
                });
            if let Some(d) = dir {
                desc = d;
                explicit_dir = true;
                let mut k = i;
                while k < n && k <= j + 3 {
                    let l = self.lemma(k);
                    if k > j
                        && !matches!(l, "to" | "the")
                        && superlative(l).is_none()
                        && implied_column(l).is_none()
                        && !matches!(
                            l,
                            "high"
                                | "low"
                                | "large"
                                | "small"
                                | "old"
                                | "young"
                                | "few"
                                | "many"
                                | "least"
                                | "most"
                        )
                    {
                        break;
                    }
                    self.cue[k] = true;
                    k += 1;
                }
            }
        }
        let _ = explicit_dir;
        self.cue[start] = true;
        if start + 1 < n {
            self.cue[start + 1] = true;
        }
        let mut items = Vec::new();
        let mut i = start + 1;
        while i < n {
            let Some(mi) = self.mention_at(i) else {
                let w = self.lemma(i);
                if matches!(
                    w,
                    "," | "and"
                        | "then"
                        | "the"
                        | "their"
                        | "its"
                        | "of"
                        | "by"
                        | "in"
                        | "descending"
                        | "ascending"
                        | "order"
                        | "decreasing"
                        | "increasing"
                        | "from"
                        | "to"
                        | "high"
                        | "low"
                        | "highest"
                        | "lowest"
                        | "alphabetical"
                        | "alphabetically"
                        | "number"
                        | "value"
                        | "count"
                ) || self.toks[i].kind == TokenKind::Punct && w == ","
                {
                    i += 1;
                    continue;
                }
                if agg_word(w).is_some() {
                    i += 1;
                    continue;
                }
                break;
            };
            let m = &self.ments[mi];
            if m.has_column() {
                if let Some((t, c)) = self.resolve(mi) {
                    let agg = self.agg_before(m.start);
                    let e = match agg {
                        Some((f, _)) => Expr::agg(f, self.col_expr(t, c)),
                        None => self.col_expr(t, c),
                    };
                    items.push(e);
                    self.used[mi] = true;
                }
            } else if m.has_table()
                && (self.lemma(m.start.saturating_sub(1)) == "of"
                    && self.lemma(m.start.saturating_sub(2)) == "number")
            {
                items.push(Expr::CountStar);
                self.used[mi] = true;
            } else {
                break;
            }
            i = self.ments[mi].end;
        }
        if items.is_empty() {
            // "alphabetically", "in descending order": order by the first selected column, decided
            // after the select list is known.
            self.order.push(OrderItem {
                expr: Expr::Literal(Literal::Null),
                desc,
            });
            return;
        }
        for e in items {
            self.order.push(OrderItem { expr: e, desc });
        }
    }

    /// An aggregation word right before token `i` (skipping "the"), with its position.
    fn agg_before(&self, i: usize) -> Option<(AggFunc, usize)> {
        let mut j = i;
        let mut skipped = false;
        while j > 0 {
            j -= 1;
            let w = self.lemma(j);
            if matches!(w, "the" | "of" | "all" | "'s") {
                continue;
            }
            if w == "number" || w == "count" {
                return Some((AggFunc::Count, j));
            }
            if let Some(f) = agg_word(w) {
                return Some((f, j));
            }
            // "average expected life expectancy": one unknown adjective in between.
            if !skipped
                && self.mention_at(j).is_none()
                && content_word(&self.toks[j])
                && !self.cue[j]
                && agg_word(self.lemma(j.wrapping_sub(1))).is_some()
            {
                skipped = true;
                continue;
            }
            // "the minimum product price": a table named as a modifier in between.
            if !skipped {
                if let Some(m) = self.mention_at(j) {
                    let m = &self.ments[m];
                    let modifier = m.has_table()
                        || m.columns().next().is_some_and(|(t, c, _)| {
                            !self.idx.tables[t].column_class[c].is_numeric()
                        });
                    if modifier && m.end == j + 1 && i == j + 1 {
                        skipped = true;
                        j = m.start;
                        continue;
                    }
                }
            }
            return None;
        }
        None
    }

    /// "for each X", "per X", "by X", "in each X", "of each X", "each X's".
    fn pass_group(&mut self) {
        let n = self.toks.len();
        let mut i = 0;
        while i < n {
            let w = self.lemma(i).to_string();
            let w = w.as_str();
            let prev = if i > 0 {
                self.toks[i - 1].norm.as_str()
            } else {
                ""
            };
            let start = match w {
                "each" | "every" if matches!(prev, "for" | "in" | "of" | "from" | "to" | "by") => {
                    Some(i + 1)
                }
                "each" | "every" if i == 0 || self.mention_before(i, &[]).is_none() => Some(i + 1),
                "per" => Some(i + 1),
                // "the maximum accelerate for different number of cylinders"
                "different" | "distinct"
                    if prev == "for"
                        || (prev == "the"
                            && self.lemma(i.wrapping_sub(2)) == "all"
                            && self.lemma(i.wrapping_sub(3)) == "for") =>
                {
                    Some(
                        if self.lemma(i + 1) == "number" && self.lemma(i + 2) == "of" {
                            i + 3
                        } else {
                            i + 1
                        },
                    )
                }
                "by" if !matches!(
                    prev,
                    "order"
                        | "ordered"
                        | "sort"
                        | "sorted"
                        | "rank"
                        | "ranked"
                        | "group"
                        | "grouped"
                        | "directed"
                        | "written"
                        | "produced"
                        | "made"
                        | "owned"
                        | "played"
                        | "performed"
                        | "sung"
                        | "taught"
                        | "arranged"
                        | "organized"
                ) && self.mention_at(i).is_none()
                    && !self.cue[i] =>
                {
                    Some(i + 1)
                }
                "group" | "grouped" | "broken" | "breakdown"
                    if matches!(self.lemma(i + 1), "by") =>
                {
                    Some(i + 2)
                }
                "broken" if self.lemma(i + 1) == "down" && self.lemma(i + 2) == "by" => Some(i + 3),
                _ => None,
            };
            let Some(s) = start else {
                i += 1;
                continue;
            };
            let Some(mi) =
                self.mention_after(s, &["the", "different", "distinct", "their", "its", "a"])
            else {
                i += 1;
                continue;
            };
            if self.used[mi] {
                i += 1;
                continue;
            }
            // "top 3 brands by units sold", "the 3 largest orders by shipping cost": with a
            // ranking, "by" names what to rank by, not a grouping.
            if self.lemma(i) == "by" && self.ranking() {
                if let Some((e, agg)) = self.measure_of(mi) {
                    self.used[mi] = true;
                    self.cue[i] = true;
                    let desc = !self.toks.iter().any(|t| {
                        matches!(
                            t.lemma.as_str(),
                            "bottom"
                                | "worst"
                                | "lowest"
                                | "smallest"
                                | "least"
                                | "fewest"
                                | "cheapest"
                        )
                    });
                    if agg && self.group.is_empty() {
                        self.group_by_subject();
                    }
                    // The things ranked are shown by their label.
                    if self.select.is_empty() {
                        if let Some(s) = self.subject {
                            for l in self.label_exprs(s) {
                                if agg && !self.group.contains(&l) {
                                    self.group.push(l.clone());
                                }
                                self.select.push(SelectItem {
                                    expr: l,
                                    alias: None,
                                });
                            }
                        }
                    }
                    // Show what was ranked by, beside the things ranked.
                    if !self.select.iter().any(|s| s.expr == e) {
                        let alias = match &e {
                            Expr::Raw { label, .. } => Some(label.clone()),
                            _ => None,
                        };
                        self.select.push(SelectItem {
                            expr: e.clone(),
                            alias,
                        });
                    }
                    for k in 0..self.toks.len() {
                        if matches!(
                            self.lemma(k),
                            "best"
                                | "worst"
                                | "largest"
                                | "biggest"
                                | "highest"
                                | "lowest"
                                | "smallest"
                        ) {
                            self.cue[k] = true;
                        }
                    }
                    self.order.push(OrderItem { expr: e, desc });
                    i = self.ments[mi].end;
                    continue;
                }
            }
            let m = &self.ments[mi];
            let expr = if m.has_column()
                && (!m.has_table() || m.columns().next().is_some_and(|c| c.2 >= 1.0))
            {
                let Some((t, c)) = self.resolve(mi) else {
                    i += 1;
                    continue;
                };
                self.col_expr(t, c)
            } else if let Some(t) = m.tables().next() {
                if self.subject == Some(t) && self.count.is_none() && w == "by" {
                    i += 1;
                    continue;
                }
                if !self.tables.contains(&t) {
                    self.tables.push(t);
                }
                // A column of that table asked for up front ("template ids … for each
                // template") is the group key itself.
                if let Some((hm, ht, hc)) = self.head_column_in(t) {
                    self.used[hm] = true;
                    self.used[mi] = true;
                    for k in i..s {
                        self.cue[k] = true;
                    }
                    // Rows of the table are the groups: its key keeps equal names apart.
                    if let Some(pk) = self.idx.tables[t].pk {
                        if ht == t && hc != pk {
                            let k = self.col_expr(t, pk);
                            if !self.group.contains(&k) {
                                self.group.push(k);
                            }
                        }
                    }
                    let e = self.col_expr(ht, hc);
                    if !self.group.contains(&e) {
                        self.group.push(e.clone());
                    }
                    if !self.select.iter().any(|x| x.expr == e) {
                        self.select.insert(
                            0,
                            SelectItem {
                                expr: e,
                                alias: None,
                            },
                        );
                    }
                    i = self.ments[mi].end;
                    continue;
                }
                match self.idx.tables[t].display.or(self.idx.tables[t].pk) {
                    Some(c) => {
                        // Group by the key when there is one, show the name.
                        if let (Some(pk), Some(d)) =
                            (self.idx.tables[t].pk, self.idx.tables[t].display)
                        {
                            if pk != d {
                                self.group.push(self.col_expr(t, pk));
                            }
                        }
                        if let Some(x) = self.idx.tables[t].display_extra {
                            let e = self.col_expr(t, x);
                            self.group.push(e.clone());
                            self.select.insert(
                                0,
                                SelectItem {
                                    expr: e,
                                    alias: None,
                                },
                            );
                        }
                        self.col_expr(t, c)
                    }
                    None => {
                        i += 1;
                        continue;
                    }
                }
            } else if let Some(Element::Term(ti)) = m.best_element() {
                match self.idx.term(ti).clone() {
                    cbi_types::TermTarget::Column(c) => match self.term_column(&c) {
                        Some((t, c)) => self.col_expr(t, c),
                        None => {
                            i += 1;
                            continue;
                        }
                    },
                    _ => {
                        i += 1;
                        continue;
                    }
                }
            } else {
                i += 1;
                continue;
            };
            self.used[mi] = true;
            for k in i..s {
                self.cue[k] = true;
            }
            if !self.group.contains(&expr) {
                self.group.push(expr.clone());
            }
            // The group shows up in the answer.
            if !self.select.iter().any(|s| s.expr == expr) {
                self.select.insert(0, SelectItem { expr, alias: None });
            }
            i = self.ments[mi].end;
        }
    }

    fn term_column(&self, qualified: &str) -> Option<(usize, usize)> {
        let (t, c) = qualified.split_once('.')?;
        let ti = self.idx.aug.schema.table_index(t.trim())?;
        let ci = self.idx.table(ti).column_index(c.trim())?;
        Some((ti, ci))
    }

    /// "the highest X", "the most Y", "the oldest", "top 5", "most common X".
    fn pass_superlatives(&mut self) {
        let n = self.toks.len();
        // top-N: "top 5", "the 3 countries with the fewest people", "first 10"
        for i in 0..n {
            let w = self.lemma(i);
            if matches!(w, "top" | "first" | "bottom" | "last") && !self.cue[i] {
                if let Some(v) = self.toks.get(i + 1).and_then(|t| t.number()) {
                    if v >= 1.0 && v.fract() == 0.0 {
                        self.limit = Some(v as u64);
                        self.cue[i] = true;
                        self.cue[i + 1] = true;
                    }
                }
            }
        }
        if self.limit.is_none() {
            // "the 3 countries", "5 largest"
            for i in 0..n {
                if let Some(v) = self.toks[i].number() {
                    let before = if i > 0 { self.lemma(i - 1) } else { "" };
                    let after_sup = self.toks.get(i + 1).is_some_and(|t| {
                        superlative(&t.lemma).is_some() || implied_column(&t.lemma).is_some()
                    });
                    let noun_after = self
                        .mention_after(i + 1, &[])
                        .is_some_and(|m| self.ments[m].has_table());
                    if v >= 1.0 && v.fract() == 0.0 && (after_sup || before == "the" && noun_after)
                    {
                        let has_sup = self.toks.iter().any(|t| {
                            superlative(&t.lemma).is_some()
                                || implied_column(&t.lemma)
                                    .is_some_and(|_| t.lemma.ends_with("est"))
                        });
                        if has_sup {
                            self.limit = Some(v as u64);
                            self.cue[i] = true;
                        }
                    }
                }
            }
        }
        let mut i = 0;
        while i < n {
            if self.cue[i]
                || self.mention_at(i).is_some_and(|m| {
                    self.ments[m].has_column() && superlative(self.lemma(i)).is_none()
                })
            {
                i += 1;
                continue;
            }
            let w = self.lemma(i).to_string();
            // "most common/popular/frequent X": the mode.
            if matches!(w.as_str(), "most" | "least")
                && matches!(
                    self.lemma(i + 1),
                    "common" | "popular" | "frequent" | "frequently" | "often" | "used"
                )
            {
                let desc = w == "most";
                let target = self
                    .mention_after(i + 2, &["the", "a", "an", "used", "type", "of"])
                    .filter(|&m| !self.used[m])
                    .or_else(|| {
                        self.mention_before(i, &["the", "be", "a", "what", "which", "is"])
                            .filter(|&m| !self.used[m])
                    });
                self.cue[i] = true;
                self.cue[i + 1] = true;
                if let Some(mi) = target {
                    if let Some((t, c)) = if self.ments[mi].has_column() {
                        self.resolve(mi)
                    } else {
                        None
                    } {
                        let e = self.col_expr(t, c);
                        self.used[mi] = true;
                        if !self.group.contains(&e) {
                            self.group.push(e.clone());
                        }
                        if !self.select.iter().any(|s| s.expr == e) {
                            self.select.push(SelectItem {
                                expr: e,
                                alias: None,
                            });
                        }
                    } else if let Some(t) = self.ments[mi].tables().next() {
                        self.used[mi] = true;
                        self.group_by_table(t);
                    }
                }
                self.order.push(OrderItem {
                    expr: Expr::CountStar,
                    desc,
                });
                self.limit.get_or_insert(1);
                i += 2;
                continue;
            }
            // "the most expensive product", "the least expensive": an adjective that implies a
            // column, made superlative.
            if matches!(w.as_str(), "most" | "least") {
                let adj = self.lemma(i + 1).to_string();
                if implied_column(&adj).is_some() {
                    if let Some((t, c, more)) = self.implied(&adj) {
                        let desc = if w == "most" { more } else { !more };
                        self.cue[i] = true;
                        self.cue[i + 1] = true;
                        let col = self.col_expr(t, c);
                        self.order.push(OrderItem { expr: col, desc });
                        self.limit.get_or_insert(1);
                        if !self.tables.contains(&t) {
                            self.tables.push(t);
                        }
                        i += 2;
                        continue;
                    }
                }
            }
            let sup = superlative(&w);
            let implied = implied_column(&w).is_some() && (w.ends_with("est") || w == "eldest");
            if sup.is_none() && !implied {
                i += 1;
                continue;
            }
            // "at least", "at most" are comparisons.
            if i > 0 && self.lemma(i - 1) == "at" {
                i += 1;
                continue;
            }
            if matches!(w.as_str(), "most" | "least") && matches!(self.lemma(i + 1), "than") {
                i += 1;
                continue;
            }
            // "the maximum age" asked for is an aggregate, left to the aggregate pass.
            if matches!(w.as_str(), "maximum" | "minimum" | "max" | "min")
                && i < self.first_filter_cue(1)
                && (self.is_aggregate_head(i)
                    || matches!(
                        self.lemma(i.wrapping_sub(1)),
                        "and" | "," | "the" | "its" | "their"
                    ))
                && !matches!(
                    self.lemma(i.wrapping_sub(1)),
                    "with" | "has" | "have" | "had"
                )
            {
                i += 1;
                continue;
            }
            let desc = sup.unwrap_or(true);
            // What is maximised: the next mention ("highest age", "most number of concerts",
            // "the largest capacity"), or the implied column ("oldest").
            let filler = [
                "number",
                "of",
                "amount",
                "count",
                "total",
                "the",
                "a",
                "value",
                "average",
                "avg",
                "mean",
                "sum",
                "different",
                "distinct",
            ];
            let next = self
                .mention_after(i + 1, &filler)
                .filter(|&m| !self.used[m]);
            let counted = (i + 1..next.map_or(i + 1, |m| self.ments[m].start))
                .any(|k| matches!(self.lemma(k), "number" | "count"));
            let agg = (i + 1..next.map_or(i + 1, |m| self.ments[m].start)).find_map(|k| {
                agg_word(self.lemma(k)).filter(|f| *f != AggFunc::Max && *f != AggFunc::Min)
            });
            self.cue[i] = true;
            let aggregate_head = self.is_aggregate_head(i);
            match next.map(|m| (m, &self.ments[m])) {
                Some((mi, m))
                    if m.has_column()
                        && !counted
                        && (!m.has_table() || m.columns().next().is_some_and(|c| c.2 >= 1.0))
                        && (!implied || !self.next_is_table(mi)) =>
                {
                    let Some((t, c)) = self.resolve(mi) else {
                        i += 1;
                        continue;
                    };
                    self.used[mi] = true;
                    let col = self.col_expr(t, c);
                    if aggregate_head && agg.is_none() {
                        let f = if desc { AggFunc::Max } else { AggFunc::Min };
                        self.select.push(SelectItem {
                            expr: Expr::agg(f, col),
                            alias: None,
                        });
                    } else if self.count.is_some()
                        && agg.is_none()
                        && self.subject.is_some_and(|s| s != t)
                    {
                        // "the number of concerts in the stadium with the largest capacity"
                        let f = if desc { AggFunc::Max } else { AggFunc::Min };
                        let sub = SemanticQuery {
                            select: vec![SelectItem {
                                expr: Expr::agg(f, col.clone()),
                                alias: None,
                            }],
                            tables: vec![self.table_name(t)],
                            ..Default::default()
                        };
                        self.filters.push(Condition::Compare {
                            left: col,
                            op: CmpOp::Eq,
                            right: Operand::Query(Box::new(sub)),
                        });
                        if !self.tables.contains(&t) {
                            self.tables.push(t);
                        }
                    } else {
                        let e = match agg {
                            Some(f) => Expr::agg(f, col),
                            None => col,
                        };
                        if matches!(e, Expr::Agg { .. }) && self.group.is_empty() {
                            self.group_by_subject();
                        }
                        self.order.push(OrderItem { expr: e, desc });
                        self.limit.get_or_insert(1);
                    }
                    i = self.ments[mi].end;
                    continue;
                }
                Some((mi, m)) if (m.has_table() || counted) && !implied => {
                    // "the most concerts", "the fewest number of players": count per subject
                    // (or per the column the question asks about: "which year has the most").
                    let t = m.tables().next();
                    self.used[mi] = true;
                    if let Some(t) = t {
                        if !self.tables.contains(&t) {
                            self.tables.push(t);
                        }
                    }
                    if self.group.is_empty() {
                        match self.head_column(i) {
                            Some((hm, t, c)) => {
                                self.used[hm] = true;
                                let e = self.col_expr(t, c);
                                self.group.push(e.clone());
                                self.select.push(SelectItem {
                                    expr: e,
                                    alias: None,
                                });
                            }
                            None => self.group_by_subject(),
                        }
                    }
                    self.order.push(OrderItem {
                        expr: Expr::CountStar,
                        desc,
                    });
                    self.limit.get_or_insert(1);
                    i = self.ments[mi].end;
                    continue;
                }
                Some((mi, m)) if matches!(m.best_element(), Some(Element::Term(_))) => {
                    let ti = match m.best_element() {
                        Some(Element::Term(ti)) => ti,
                        _ => 0,
                    };
                    if let cbi_types::TermTarget::Measure(_) = self.idx.term(ti) {
                        self.used[mi] = true;
                        let e = self.term_expr(ti);
                        if self.group.is_empty() {
                            self.group_by_subject();
                        }
                        self.order.push(OrderItem { expr: e, desc });
                        self.limit.get_or_insert(1);
                        i = self.ments[mi].end;
                        continue;
                    }
                }
                _ => {}
            }
            if implied {
                if let Some((t, c, more)) = self.implied(&w) {
                    let col = self.col_expr(t, c);
                    // "the cheapest product" picks a product; "the oldest age" would be a value.
                    let picks_row = self
                        .mention_after(i + 1, &["the", "a"])
                        .is_some_and(|m| self.ments[m].has_table());
                    if aggregate_head && !picks_row {
                        let f = if more { AggFunc::Max } else { AggFunc::Min };
                        self.select.push(SelectItem {
                            expr: Expr::agg(f, col),
                            alias: None,
                        });
                    } else {
                        self.order.push(OrderItem {
                            expr: col,
                            desc: more,
                        });
                        self.limit.get_or_insert(1);
                    }
                    if !self.tables.contains(&t) {
                        self.tables.push(t);
                    }
                    i += 1;
                    continue;
                }
            }
            if matches!(w.as_str(), "most" | "least" | "fewest") {
                // "which X has the most?" with nothing after: count per subject.
                if self.group.is_empty() {
                    self.group_by_subject();
                }
                self.order.push(OrderItem {
                    expr: Expr::CountStar,
                    desc,
                });
                self.limit.get_or_insert(1);
            } else {
                self.cue[i] = false;
            }
            i += 1;
        }
    }

    /// The column a "which/what COLUMN ..." question asks about, before token `before`.
    fn head_column(&mut self, before: usize) -> Option<(usize, usize, usize)> {
        let first = self.lemma(0);
        if !matches!(
            first,
            "which"
                | "what"
                | "show"
                | "find"
                | "list"
                | "give"
                | "return"
                | "tell"
                | "top"
                | "bottom"
        ) {
            return None;
        }
        // Skip question words and a count ("Top 3 brands", "Show the 5 cheapest").
        let mut start = 1;
        while start < before
            && (self.toks[start].number().is_some()
                || matches!(self.lemma(start), "top" | "bottom" | "first"))
        {
            start += 1;
        }
        let mi = self.mention_after(
            start,
            &[
                "the", "be", "is", "are", "was", "were", "me", "a", "an", "of",
            ],
        )?;
        if self.used[mi] || self.ments[mi].start >= before {
            return None;
        }
        let m = &self.ments[mi];
        if !m.has_column() || (m.has_table() && !m.columns().next().is_some_and(|c| c.2 >= 1.0)) {
            return None;
        }
        let (t, c) = self.resolve(mi)?;
        Some((mi, t, c))
    }

    /// "surface area … together", "sales in total": a sum cue after a measure column.
    fn total_after(&self, mi: usize) -> Option<(AggFunc, usize)> {
        let m = &self.ments[mi];
        let (t, c, _) = m.columns().next()?;
        if !self.is_measure_column(t, c) {
            return None;
        }
        (m.end..(m.end + 6).min(self.toks.len())).find_map(|k| {
            match (self.lemma(k), self.lemma(k + 1)) {
                ("in", "total") => Some((AggFunc::Sum, k + 1)),
                ("altogether" | "together" | "combined" | "overall", _) => Some((AggFunc::Sum, k)),
                _ => None,
            }
        })
    }

    /// Where in the question an answer column comes from (for ordering the select list).
    fn position_of(&self, e: &Expr) -> usize {
        let find_col = |table: &str, column: &str| -> Option<usize> {
            let t = self.idx.aug.schema.table_index(table)?;
            let c = self.idx.table(t).column_index(column)?;
            let resolved = (0..self.ments.len()).find(|&mi| self.resolved[mi] == Some((t, c)));
            let named = || {
                (0..self.ments.len()).find(|&mi| {
                    self.used[mi] && self.ments[mi].columns().any(|x| x.0 == t && x.1 == c)
                })
            };
            let labelled = || {
                (0..self.ments.len()).find(|&mi| {
                    self.ments[mi].tables().any(|x| x == t)
                        && (self.idx.tables[t].display == Some(c)
                            || self.idx.tables[t].display_extra == Some(c)
                            || self.idx.tables[t].pk == Some(c))
                })
            };
            resolved
                .or_else(named)
                .or_else(labelled)
                .map(|mi| self.ments[mi].start)
        };
        match e {
            Expr::Column(c) => find_col(&c.table, &c.column).unwrap_or(usize::MAX / 2),
            Expr::Agg { arg, .. } => match arg.as_ref() {
                Expr::Column(c) => find_col(&c.table, &c.column).map_or(usize::MAX / 2, |p| p.saturating_sub(1)),
                other => self.position_of(other),
            },
            Expr::CountStar => (0..self.toks.len())
                .find(|&k| matches!(self.lemma(k), "count" | "number" | "many"))
                .unwrap_or(usize::MAX / 2),
            Expr::Raw { label, .. } => (0..self.ments.len())
                .find(|&mi| matches!(self.ments[mi].best_element(), Some(Element::Term(ti)) if self.idx.aug.semantic.business_terms[ti].name == *label))
                .map_or(usize::MAX / 2, |mi| self.ments[mi].start),
            Expr::TimeBucket { grain, .. } => (0..self.toks.len())
                .find(|&k| self.lemma(k).starts_with(grain.word()) || matches!((self.lemma(k), grain), ("daily", TimeGrain::Day) | ("yearly" | "annual" | "annually", TimeGrain::Year)))
                .unwrap_or(usize::MAX / 2),
            _ => usize::MAX / 2,
        }
    }

    fn cache_subject_distances(&mut self) {
        if let Some(s) = self.subject {
            if self.subject_distances.as_ref().is_none_or(|(x, _)| *x != s) {
                self.subject_distances = Some((s, self.idx.graph.distances_from(s)));
            }
        }
    }

    /// Hops from `subject` to `t`, from one cached breadth-first search.
    fn distance_from_subject(&self, subject: usize, t: usize) -> Option<usize> {
        match &self.subject_distances {
            Some((s, d)) if *s == subject => d.get(t).copied().flatten(),
            _ => self.idx.graph.distance(subject, t),
        }
    }

    /// Whether the question ranks things ("top 5", "the 3 largest", "worst").
    fn ranking(&self) -> bool {
        self.toks.iter().any(|t| {
            matches!(
                t.lemma.as_str(),
                "top"
                    | "bottom"
                    | "best"
                    | "worst"
                    | "largest"
                    | "biggest"
                    | "highest"
                    | "lowest"
                    | "smallest"
                    | "most"
                    | "least"
            )
        })
    }

    /// The measure a mention names (a business-term measure or a numeric measure column), and
    /// whether it aggregates.
    fn measure_of(&mut self, mi: usize) -> Option<(Expr, bool)> {
        let m = &self.ments[mi];
        if let Some(Element::Term(ti)) = m.best_element() {
            if let cbi_types::TermTarget::Measure(_) = self.idx.term(ti) {
                return Some((self.term_expr(ti), true));
            }
            return None;
        }
        if !m.has_column() {
            return None;
        }
        let (t, c) = self.resolve(mi)?;
        self.is_measure_column(t, c)
            .then(|| (self.col_expr(t, c), false))
    }

    /// A numeric column that measures an amount (not a key, code, year or rank).
    fn is_measure_column(&self, t: usize, c: usize) -> bool {
        let info = &self.idx.tables[t];
        let words = &info.column_words[c];
        info.column_class[c].is_numeric()
            && info.pk != Some(c)
            && !words.iter().any(|w| {
                matches!(
                    w.as_str(),
                    "id" | "code" | "key" | "year" | "rank" | "number" | "no" | "zip" | "phone"
                )
            })
            && !self
                .idx
                .graph
                .edges
                .iter()
                .any(|e| (e.a == t && e.a_cols.contains(&c)) || (e.b == t && e.b_cols.contains(&c)))
    }

    fn next_is_table(&self, mi: usize) -> bool {
        let m = &self.ments[mi];
        m.has_table() && !m.columns().next().is_some_and(|c| c.2 >= 1.0)
    }

    /// Whether a superlative at token `i` is the thing asked for ("what is the highest age")
    /// rather than a way of picking rows ("the singer with the highest age").
    fn is_aggregate_head(&self, i: usize) -> bool {
        // Nothing but head words before it, and no entity or column that is asked for before.
        let before_ok = (0..i).all(|k| {
            let w = self.lemma(k);
            is_head_word(w)
                || matches!(
                    w,
                    "the" | "of" | "be" | "what" | "is" | "and" | "," | "their"
                )
                || self.cue[k]
        });
        if !before_ok {
            return false;
        }
        // "What is the highest age of singers" vs "Which singer is the oldest"; and a ranking
        // ("top 3 highest rated") picks rows.
        !matches!(self.lemma(0), "which" | "who") && !self.has_word("whose") && self.limit.is_none()
    }

    /// The columns that name a row of a table: its label (and second label), else its key.
    fn label_exprs(&self, t: usize) -> Vec<Expr> {
        let info = &self.idx.tables[t];
        match (info.display, info.display_extra, info.pk) {
            (Some(d), Some(x), _) => vec![self.col_expr(t, d), self.col_expr(t, x)],
            (Some(d), None, _) => vec![self.col_expr(t, d)],
            (None, _, Some(pk)) => vec![self.col_expr(t, pk)],
            _ => Vec::new(),
        }
    }

    fn group_by_table(&mut self, t: usize) {
        if !self.tables.contains(&t) {
            self.tables.push(t);
        }
        let info = &self.idx.tables[t];
        if let Some(pk) = info.pk {
            self.group.push(self.col_expr(t, pk));
        } else if let Some(d) = info.display {
            self.group.push(self.col_expr(t, d));
        }
        for e in self.label_exprs(t) {
            if !self.select.iter().any(|s| s.expr == e) {
                self.select.push(SelectItem {
                    expr: e,
                    alias: None,
                });
            }
        }
    }

    /// Groups by the subject table's key (for "the X with the most Y").
    fn group_by_subject(&mut self) {
        // "Which brands have more than 10 products": the column the question asks about is
        // the group, when it asks about a column rather than a table.
        let head_end = self.first_filter_cue(1);
        if let Some((hm, t, c)) = self.head_column(head_end) {
            self.used[hm] = true;
            let e = self.col_expr(t, c);
            self.group.push(e.clone());
            if !self.select.iter().any(|s| s.expr == e) {
                self.select.push(SelectItem {
                    expr: e,
                    alias: None,
                });
            }
            return;
        }
        let Some(s) = self.subject else {
            return;
        };
        let info = &self.idx.tables[s];
        if let Some(pk) = info.pk {
            self.group.push(self.col_expr(s, pk));
        } else if let Some(d) = info.display {
            self.group.push(self.col_expr(s, d));
        } else if let Some(c) = (0..self.idx.table(s).columns.len()).next() {
            self.group.push(self.col_expr(s, c));
        }
    }

    fn term_expr(&self, ti: usize) -> Expr {
        let term = &self.idx.aug.semantic.business_terms[ti];
        match &term.target {
            cbi_types::TermTarget::Column(c) => match self.term_column(c) {
                Some((t, c)) => self.col_expr(t, c),
                None => Expr::Raw {
                    sql: c.clone(),
                    tables: self.term_tables(ti),
                    label: term.name.clone(),
                },
            },
            cbi_types::TermTarget::Measure(sql) | cbi_types::TermTarget::Filter(sql) => Expr::Raw {
                sql: sql.clone(),
                tables: self.term_tables(ti),
                label: term.name.clone(),
            },
        }
    }

    /// Comparisons: "age greater than 30", "older than 30", "with more than 3 car makers",
    /// "above the average age", "between 10 and 20".
    fn pass_comparisons(&mut self) {
        let n = self.toks.len();
        let mut i = 0;
        while i < n {
            if self.cue[i] {
                i += 1;
                continue;
            }
            // "between one and two paragraphs", "1 to 2 paragraphs": a range of related rows.
            {
                let (a_at, sep) = if self.lemma(i) == "between" {
                    (i + 1, "and")
                } else {
                    (i, "to")
                };
                if let (Some(a), true, Some(b)) = (
                    self.toks.get(a_at).and_then(Token::number),
                    self.lemma(a_at + 1) == sep,
                    self.toks.get(a_at + 2).and_then(Token::number),
                ) {
                    if let Some(mi) = self
                        .mention_after(a_at + 3, &["different", "distinct"])
                        .filter(|&m| self.ments[m].has_table() && !self.used[m])
                    {
                        self.having_count_of(
                            mi,
                            Condition::Between {
                                expr: Expr::CountStar,
                                low: num_lit(a),
                                high: num_lit(b),
                            },
                        );
                        for k in i..a_at + 3 {
                            self.cue[k] = true;
                        }
                        i = self.ments[mi].end;
                        continue;
                    }
                }
            }
            // "between A and B"
            if self.lemma(i) == "between" {
                if let (Some(a), "and", Some(b)) = (
                    self.toks.get(i + 1).and_then(Token::number),
                    self.lemma(i + 2),
                    self.toks.get(i + 3).and_then(Token::number),
                ) {
                    if let Some((left, is_count)) = self.comparison_left(i, None, i + 4) {
                        let cond = Condition::Between {
                            expr: left,
                            low: num_lit(a),
                            high: num_lit(b),
                        };
                        if is_count {
                            self.having.push(cond)
                        } else {
                            self.filters.push(cond)
                        }
                        for k in i..i + 4 {
                            self.cue[k] = true;
                        }
                        i += 4;
                        continue;
                    }
                }
            }
            let words = self.words_from(i, 3);
            let Some((mut op, len, implied)) = comparison(&words) else {
                i += 1;
                continue;
            };
            // "not more than"/"isn't above" flip.
            let negated =
                i > 0 && matches!(self.lemma(i - 1), "not") && !matches!(words[0], "no" | "not");
            if negated {
                op = op.negate();
            }
            let rhs_at = i + len;
            // "2014 or after", "3 or more": the number came first.
            if words[0] == "or" {
                // "2 or more paragraphs": a count of related rows.
                if let Some(v) = i.checked_sub(1).and_then(|k| self.toks[k].number()) {
                    if let Some(mi) = self
                        .mention_after(rhs_at, &["different", "distinct"])
                        .filter(|&m| self.ments[m].has_table() && !self.used[m] && !self.cue[i - 1])
                    {
                        self.having_count_of(
                            mi,
                            Condition::Compare {
                                left: Expr::CountStar,
                                op,
                                right: Operand::Literal(num_lit(v)),
                            },
                        );
                        for k in i - 1..rhs_at {
                            self.cue[k] = true;
                        }
                        i = self.ments[mi].end;
                        continue;
                    }
                }
                if let Some(v) = i.checked_sub(1).and_then(|k| self.toks[k].number()) {
                    if !self.cue[i - 1] {
                        if let Some((left, is_count)) =
                            self.comparison_left(i - 1, implied, rhs_at).or_else(|| {
                                let (t, c) = self.year_column_near(i - 1)?;
                                Some((self.col_expr(t, c), false))
                            })
                        {
                            let cond = Condition::Compare {
                                left,
                                op,
                                right: Operand::Literal(num_lit(v)),
                            };
                            if is_count {
                                self.having.push(cond)
                            } else {
                                self.filters.push(cond)
                            }
                            for k in i - 1..rhs_at {
                                self.cue[k] = true;
                            }
                            i = rhs_at;
                            continue;
                        }
                    }
                }
            }
            // "above age 20": comparison, column, number.
            if let Some(mi) = self
                .mention_after(rhs_at, &["the", "an", "a"])
                .filter(|&m| {
                    !self.used[m] && self.ments[m].has_column() && !self.ments[m].is_value()
                })
            {
                if let Some(v) = self.toks.get(self.ments[mi].end).and_then(Token::number) {
                    if let Some((t, c)) = self.resolve(mi) {
                        self.used[mi] = true;
                        let left = self.col_expr(t, c);
                        let (op, lit) = adjust_for_implied(op, implied, &left, v, self);
                        self.filters.push(Condition::Compare {
                            left,
                            op,
                            right: Operand::Literal(lit),
                        });
                        let end = self.ments[mi].end;
                        for k in i..=end {
                            self.cue[k] = true;
                        }
                        i = end + 1;
                        continue;
                    }
                }
            }
            // Right-hand side.
            let rhs_tok = self.toks.get(rhs_at);
            let avg_sub = matches!(self.lemma(rhs_at), "the" | "an")
                && matches!(self.lemma(rhs_at + 1), "average" | "avg" | "mean")
                || matches!(self.lemma(rhs_at), "average" | "avg" | "mean");
            let number = rhs_tok.and_then(Token::number);
            let value_m = self
                .mention_after(rhs_at, &["the", "a", "an", "that", "of"])
                .filter(|&m| {
                    self.ments[m].is_value()
                        && !self.ments[m].has_column()
                        && !self.ments[m].has_table()
                });
            if let Some(v) = number {
                // "more than 3 car makers": a count of related rows.
                let after = self.mention_after(rhs_at + 1, &["different", "distinct"]);
                let count_of_table = after.is_some_and(|m| {
                    self.ments[m].has_table()
                        && !self.ments[m].columns().next().is_some_and(|c| c.2 >= 1.0)
                });
                if count_of_table {
                    let mi = after.unwrap_or(0);
                    self.having_count_of(
                        mi,
                        Condition::Compare {
                            left: Expr::CountStar,
                            op,
                            right: Operand::Literal(num_lit(v)),
                        },
                    );
                    for k in i.saturating_sub(negated as usize)..=rhs_at {
                        self.cue[k] = true;
                    }
                    i = self.ments[mi].end;
                    continue;
                }
                let unit_col = after.filter(|&m| self.ments[m].has_column() && !self.used[m]);
                if let Some((left, is_count)) =
                    self.comparison_left(i, implied, rhs_at + 1).or_else(|| {
                        // "with 8 cylinders"-like: "more than 100 points" → the column after.
                        let mi = unit_col?;
                        let (t, c) = self.resolve(mi)?;
                        self.used[mi] = true;
                        Some((self.col_expr(t, c), false))
                    })
                {
                    let (op, lit) = adjust_for_implied(op, implied, &left, v, self);
                    let cond = Condition::Compare {
                        left,
                        op,
                        right: Operand::Literal(lit),
                    };
                    if is_count {
                        self.having.push(cond)
                    } else {
                        self.filters.push(cond)
                    }
                    for k in i.saturating_sub(negated as usize)..=rhs_at {
                        self.cue[k] = true;
                    }
                    i = rhs_at + 1;
                    continue;
                }
            } else if avg_sub {
                let avg_at = if matches!(self.lemma(rhs_at), "the" | "an") {
                    rhs_at + 1
                } else {
                    rhs_at
                };
                let col_after = self
                    .mention_after(avg_at + 1, &["of", "the", "all"])
                    .filter(|&m| self.ments[m].has_column());
                let left = self.comparison_left(i, implied, avg_at + 1).or_else(|| {
                    let mi = col_after?;
                    let (t, c) = self.resolve(mi)?;
                    Some((self.col_expr(t, c), false))
                });
                if let Some((left, _)) = left {
                    let sub_col = match col_after {
                        Some(mi) => {
                            self.used[mi] = true;
                            self.resolve(mi).map(|(t, c)| self.col_expr(t, c))
                        }
                        None => Some(left.clone()),
                    };
                    if let Some(sc) = sub_col {
                        let mut tables = Vec::new();
                        sc.tables(&mut tables);
                        let sub = SemanticQuery {
                            select: vec![SelectItem {
                                expr: Expr::agg(AggFunc::Avg, sc),
                                alias: None,
                            }],
                            tables,
                            ..Default::default()
                        };
                        self.filters.push(Condition::Compare {
                            left,
                            op,
                            right: Operand::Query(Box::new(sub)),
                        });
                        for k in i..=avg_at {
                            self.cue[k] = true;
                        }
                        i = avg_at + 1;
                        continue;
                    }
                }
            } else if let Some(mi) = value_m {
                if let Some((left, _)) = self.comparison_left(i, implied, self.ments[mi].end) {
                    let text = self.ments[mi]
                        .quoted
                        .clone()
                        .or_else(|| self.ments[mi].values.first().map(|v| v.value.clone()))
                        .unwrap_or_default();
                    self.used[mi] = true;
                    self.filters.push(Condition::Compare {
                        left,
                        op,
                        right: Operand::Literal(Literal::Text(text)),
                    });
                    for k in i..self.ments[mi].start {
                        self.cue[k] = true;
                    }
                    i = self.ments[mi].end;
                    continue;
                }
            }
            i += 1;
        }
        // "aged 32 or 33", "with 8 cylinders", "in 1974": a column right before a bare number.
        let mut last: Option<Expr> = None;
        for i in 0..n {
            if self.cue[i] {
                continue;
            }
            let Some(v) = self.toks[i].number() else {
                continue;
            };
            if self.toks[i].spelled && v == 1.0 {
                continue;
            }
            let prev = if i > 0 {
                self.lemma(i - 1).to_string()
            } else {
                String::new()
            };
            let prev = prev.as_str();
            // "2014 or 2015", "32 and 33": the same column as the number before.
            if matches!(prev, "or" | "and" | "," | "nor") {
                if let Some(e) = last.clone() {
                    self.cue[i] = true;
                    self.push_eq_filter(e, num_lit(v), i);
                    continue;
                }
            }
            // column then number: "age 32", "cylinders = 8"
            let before = self
                .mention_before(
                    i,
                    &[
                        "be", "of", "=", "is", "equal", "to", "exactly", "either", "both",
                    ],
                )
                .filter(|&m| !self.used[m] && self.ments[m].has_column());
            let after = self.mention_after(i + 1, &[]).filter(|&m| {
                !self.used[m] && self.ments[m].has_column() && !self.ments[m].has_table()
            });
            let target = before.or(after);
            if let Some(mi) = target {
                if let Some((t, c)) = self.resolve(mi) {
                    if self.idx.tables[t].column_class[c].is_numeric()
                        || self.idx.tables[t].column_class[c] == TypeClass::Text
                            && self.idx.tables[t].column_words[c]
                                .iter()
                                .any(|w| w == "year")
                    {
                        self.used[mi] = true;
                        self.cue[i] = true;
                        let e = self.col_expr(t, c);
                        last = Some(e.clone());
                        self.push_eq_filter(e, num_lit(v), i);
                        continue;
                    }
                }
            }
            // "in 2014": a year column in play.
            if (1000.0..=2100.0).contains(&v)
                && v.fract() == 0.0
                && matches!(
                    prev,
                    "in" | "of"
                        | "year"
                        | "during"
                        | "from"
                        | "both"
                        | "either"
                        | "since"
                        | "for"
                        | "on"
                )
            {
                if let Some((t, c)) = self.year_column_near(i) {
                    self.cue[i] = true;
                    let e = self.col_expr(t, c);
                    last = Some(e.clone());
                    self.push_eq_filter(e, num_lit(v), i);
                }
            }
        }
    }

    /// "more than 3 car makers", "2 or more paragraphs", "between 1 and 2 paragraphs": a
    /// condition on how many rows of the table mention `mi` names go with each subject row.
    fn having_count_of(&mut self, mi: usize, cond: Condition) {
        self.used[mi] = true;
        if let Some(t) = self.ments[mi].tables().next() {
            if !self.tables.contains(&t) {
                self.tables.push(t);
            }
        }
        if self.group.is_empty() {
            self.group_by_subject();
        }
        self.having.push(cond);
    }

    /// Adds `e = v`, or merges with an earlier equality on the same column joined by "or"/"and".
    fn push_eq_filter(&mut self, e: Expr, v: Literal, at: usize) {
        let joined_by = if at > 0 { self.lemma(at - 1) } else { "" };
        let prev = self.filters.iter().position(|f| matches!(f, Condition::Compare { left, op: CmpOp::Eq, .. } if *left == e)
            || matches!(f, Condition::Or(cs) if cs.iter().any(|c| matches!(c, Condition::Compare { left, .. } if *left == e))));
        match prev {
            Some(pi)
                if joined_by == "or"
                    || joined_by == "either"
                    || (joined_by == "and" && !self.has_word("both") && self.on_subject(&e)) =>
            {
                let old = self.filters.remove(pi);
                let new = Condition::Compare {
                    left: e,
                    op: CmpOp::Eq,
                    right: Operand::Literal(v),
                };
                let mut parts = match old {
                    Condition::Or(cs) => cs,
                    other => vec![other],
                };
                parts.push(new);
                self.filters.insert(pi, Condition::Or(parts));
            }
            Some(_) if joined_by == "and" => {
                // "both 2014 and 2015": rows meeting each, intersected.
                let new = Condition::Compare {
                    left: e,
                    op: CmpOp::Eq,
                    right: Operand::Literal(v),
                };
                self.compound = Some((SetOp::Intersect, vec![new]));
            }
            _ => self.filters.push(Condition::Compare {
                left: e,
                op: CmpOp::Eq,
                right: Operand::Literal(v),
            }),
        }
    }

    /// An unused column mention before the first filter cue that belongs to table `t` (or is a
    /// foreign key into it).
    fn head_column_in(&mut self, t: usize) -> Option<(usize, usize, usize)> {
        let head_end = self.first_filter_cue(1);
        for mi in 0..self.ments.len() {
            let m = &self.ments[mi];
            if self.used[mi]
                || m.start >= head_end
                || !m.has_column()
                || m.has_table()
                || self.agg_before(m.start).is_some()
            {
                continue;
            }
            let hit = m.columns().find(|&(ct, cc, _)| {
                (ct == t && !self.is_measure_column(ct, cc))
                    || self.idx.graph.edges.iter().any(|e| {
                        (e.a == ct && e.a_cols == [cc] && e.b == t)
                            || (e.b == ct && e.b_cols == [cc] && e.a == t)
                    })
            });
            if let Some((ct, cc, _)) = hit {
                // Prefer the table's own column when both readings exist.
                let own = m.columns().find(|c| c.0 == t).map(|c| (c.0, c.1));
                let (ct, cc) = own.unwrap_or((ct, cc));
                self.resolved[mi] = Some((ct, cc));
                return Some((mi, ct, cc));
            }
        }
        None
    }

    /// Whether an expression reads only the subject table.
    fn on_subject(&self, e: &Expr) -> bool {
        let mut ts = Vec::new();
        e.tables(&mut ts);
        let Some(s) = self.subject else { return true };
        ts.iter()
            .all(|t| t.eq_ignore_ascii_case(&self.idx.table(s).name))
    }

    fn year_column(&self) -> Option<(usize, usize)> {
        self.year_column_near(self.toks.len())
    }

    /// A year column, preferring a column named exactly "year" in the table mentioned closest
    /// before token `at`, then the subject and other tables in play.
    fn year_column_near(&self, at: usize) -> Option<(usize, usize)> {
        let mut tables: Vec<usize> = Vec::new();
        for m in self.ments.iter().rev().filter(|m| m.end <= at) {
            tables.extend(m.tables());
            tables.extend(m.columns().map(|c| c.0));
        }
        tables.extend(self.subject);
        tables.extend(self.tables.iter().copied());
        for m in self.ments {
            tables.extend(m.tables());
        }
        for exact in [true, false] {
            for &t in &tables {
                let info = &self.idx.tables[t];
                let hit = info.column_words.iter().position(|w| {
                    if exact {
                        w.len() == 1 && w[0] == "year"
                    } else {
                        w.last().is_some_and(|x| x == "year")
                    }
                });
                if let Some(c) = hit {
                    return Some((t, c));
                }
            }
        }
        None
    }

    /// The left side of a comparison at token `at`: the column mentioned just before (or right
    /// after the value), or the column an adjective implies; `true` when it is a count.
    fn comparison_left(
        &mut self,
        at: usize,
        implied: Option<&str>,
        after: usize,
    ) -> Option<(Expr, bool)> {
        let filler = [
            "be", "is", "are", "was", "were", "of", "that", "which", "value", "the", "whose",
            "with", "have", "a", "an", "number", "total", "average", "avg", "not", "do", "'s",
            "their", "its", "score", "amount",
        ];
        if let Some(mi) = self.mention_before(at, &filler).filter(|&m| !self.used[m]) {
            let m = &self.ments[mi];
            if m.has_column()
                && !(m.has_table()
                    && !m.columns().next().is_some_and(|c| c.2 >= 1.0)
                    && implied.is_some())
            {
                let (t, c) = self.resolve(mi)?;
                self.used[mi] = true;
                let col = self.col_expr(t, c);
                // "average age above 30", "number of X more than": aggregated → HAVING.
                // "categories with an average price above 100": a condition on groups.
                if let Some((f, at)) = self.agg_before(m.start) {
                    if f != AggFunc::Count || !self.cue[at] {
                        self.cue[at] = true;
                        if self.group.is_empty() && self.count.is_none() {
                            self.group_by_subject();
                        }
                        if !self.group.is_empty() || self.count.is_some() {
                            return Some((Expr::agg(f, col), true));
                        }
                    }
                }
                return Some((col, false));
            }
            if let Some(Element::Term(ti)) = m.best_element() {
                self.used[mi] = true;
                let e = self.term_expr(ti);
                let agg = e.is_aggregate();
                if agg && self.group.is_empty() {
                    self.group_by_subject();
                }
                return Some((e, agg));
            }
        }
        if let Some(adj) = implied {
            if let Some((t, c, _)) = self.implied(adj) {
                if !self.tables.contains(&t) {
                    self.tables.push(t);
                }
                return Some((self.col_expr(t, c), false));
            }
            // "after 2010": a year or date column.
            if matches!(adj, "later" | "earlier") {
                if let Some((t, c)) = self.year_column() {
                    return Some((self.col_expr(t, c), false));
                }
            }
        }
        // "number of X is more than": count in HAVING.
        let _ = after;
        None
    }

    /// Value mentions → equality filters on the column holding the value.
    fn pass_values(&mut self) {
        let mut value_ments: Vec<usize> = (0..self.ments.len())
            .filter(|&mi| !self.used[mi] && self.ments[mi].is_value())
            .collect();
        // A mention that is also a schema element is a value only when quoted, capitalised,
        // or not usable as a column/table in place.
        value_ments.retain(|&mi| {
            let m = &self.ments[mi];
            if m.quoted.is_some() || m.elements.is_empty() {
                return true;
            }
            let capital = self.toks[m.start].capitalized;
            // "outlet stores": the table is named right beside it, so the word is its value.
            let named_beside = [mi.checked_sub(1), Some(mi + 1)]
                .into_iter()
                .flatten()
                .any(|o| {
                    self.ments.get(o).is_some_and(|om| {
                        (om.end == m.start || om.start == m.end)
                            && om.tables().any(|t| {
                                m.tables().any(|x| x == t) || m.values.iter().any(|v| v.table == t)
                            })
                    })
                });
            (capital && !m.has_table()) || named_beside
        });
        for mi in value_ments {
            let m = &self.ments[mi];
            // A column named right before it says which column holds it: "whose nationality is
            // Russia", "with name 'John'".
            let col_before = self
                .mention_before(
                    m.start,
                    &[
                        "be", "is", "are", "of", "=", "named", "called", "the", "not", "equal",
                        "to", "as", "by", "from", "with",
                    ],
                )
                .filter(|&p| !self.used[p] && self.ments[p].has_column());
            let col_after = self
                .mention_after(m.end, &["as", "their", "its", "the", "for", "in", "a"])
                .filter(|&p| {
                    !self.used[p] && self.ments[p].has_column() && !self.ments[p].is_value()
                });
            let mut target: Option<(usize, usize, String)> = None;
            for hint in [col_before, col_after].into_iter().flatten() {
                let cands: Vec<(usize, usize, f32)> = self.ments[hint].columns().collect();
                if let Some(v) = m
                    .values
                    .iter()
                    .find(|v| cands.iter().any(|c| c.0 == v.table && c.1 == v.column))
                {
                    target = Some((v.table, v.column, v.value.clone()));
                    self.used[hint] = true;
                    break;
                }
                if m.values.is_empty() {
                    if let Some(q) = &m.quoted {
                        if let Some((t, c)) = self.resolve(hint) {
                            target = Some((t, c, q.clone()));
                            self.used[hint] = true;
                            break;
                        }
                    }
                }
            }
            if target.is_none() && !m.values.is_empty() {
                target = self.choose_value_column(mi);
            }
            if target.is_none() {
                if let Some(q) = &m.quoted {
                    // Quoted text no column holds: the subject's name column is the best guess.
                    if let Some(s) = self.subject {
                        if let Some(d) = self.idx.tables[s].display {
                            target = Some((s, d, q.clone()));
                            self.penalize(
                                0.7,
                                format!(
                                    "no column holds '{q}'; guessed {}",
                                    self.idx.column_name(s, d)
                                ),
                            );
                        }
                    }
                }
            }
            let Some((t, c, value)) = target else {
                continue;
            };
            self.used[mi] = true;
            // The data holds the value with stray spaces ("Aberdeen "): right for this data, but
            // a sign the question and the data disagree.
            if value.trim() != value {
                self.penalize(
                    0.8,
                    format!("the stored value '{value}' has leading or trailing spaces"),
                );
            }
            let negated = self.negated_before(self.ments[mi].start);
            // Substrings: "with 'Hey' in its name", "containing", "starting with".
            let like = self.like_pattern(mi);
            if let Some(pattern) = like {
                let e = self.col_expr(t, c);
                self.filters.push(Condition::Like {
                    expr: e,
                    pattern,
                    negated,
                });
                if !self.tables.contains(&t) && self.subject != Some(t) {
                    self.tables.push(t);
                }
                continue;
            }
            let e = self.col_expr(t, c);
            let lit = match self.idx.tables[t].column_class[c] {
                k if k.is_numeric() => value
                    .parse::<f64>()
                    .map(num_lit)
                    .unwrap_or(Literal::Text(value.clone())),
                _ => Literal::Text(value.clone()),
            };
            // "students who do not have a cat": the value lives in a related table, so the
            // negation is about the relationship, not the row.
            let related = self.subject.is_some_and(|s| s != t);
            if negated && related {
                if let Some(Condition::InQuery {
                    expr,
                    mut query,
                    negated: _,
                }) = self.not_in_related(t)
                {
                    query.filters.push(Condition::Compare {
                        left: e,
                        op: CmpOp::Eq,
                        right: Operand::Literal(lit),
                    });
                    self.filters.push(Condition::InQuery {
                        expr,
                        query,
                        negated: true,
                    });
                    continue;
                }
            }
            if negated {
                self.filters.push(Condition::Compare {
                    left: e,
                    op: CmpOp::NotEq,
                    right: Operand::Literal(lit),
                });
            } else {
                self.push_eq_filter(e, lit, self.ments[mi].start);
            }
            if !self.tables.contains(&t) && self.subject != Some(t) {
                self.tables.push(t);
            }
        }
    }

    /// The LIKE pattern for a value mention when the question asks for a substring.
    fn like_pattern(&self, mi: usize) -> Option<String> {
        let m = &self.ments[mi];
        let text = m
            .quoted
            .clone()
            .or_else(|| m.values.first().map(|v| v.value.clone()))?;
        let esc = text.replace(['%', '_'], "");
        let lo = m.start.saturating_sub(4);
        let before: Vec<&str> = (lo..m.start).map(|k| self.lemma(k)).collect();
        let after: Vec<&str> = (m.end..(m.end + 3).min(self.toks.len()))
            .map(|k| self.lemma(k))
            .collect();
        let has = |ws: &[&str], w: &[&str]| ws.iter().any(|x| w.contains(x));
        if has(
            &before,
            &[
                "start",
                "starting",
                "begin",
                "beginning",
                "starts",
                "begins",
                "prefix",
            ],
        ) {
            return Some(format!("{esc}%"));
        }
        if has(&before, &["end", "ending", "ends", "suffix"]) {
            return Some(format!("%{esc}"));
        }
        let substring_words = [
            "contain",
            "containing",
            "contains",
            "include",
            "including",
            "includes",
            "substring",
            "like",
            "word",
            "mention",
            "mentioning",
        ];
        if has(&before, &substring_words)
            || (after.first() == Some(&"in") && m.quoted.is_some())
            || m.partial
        {
            return Some(format!("%{esc}%"));
        }
        None
    }

    fn negated_before(&self, start: usize) -> bool {
        let lo = start.saturating_sub(3);
        (lo..start).any(|k| {
            matches!(
                self.lemma(k),
                "not" | "no" | "except" | "excluding" | "without" | "never" | "nor"
            ) || (self.lemma(k) == "other" && self.lemma(k + 1) == "than")
        })
    }

    /// The column a value belongs to: in the subject, in a table in play, closest to the subject.
    fn choose_value_column(&mut self, mi: usize) -> Option<(usize, usize, String)> {
        self.cache_subject_distances();
        let m = &self.ments[mi];
        let vals = &m.values;
        // A column another value of the question already filters ("code PP or PPT").
        let same_column = vals.iter().find(|v| {
            let e = self.col_expr(v.table, v.column);
            self.filters.iter().any(|f| match f {
                Condition::Compare {
                    left,
                    op: CmpOp::Eq,
                    ..
                } => *left == e,
                Condition::Or(cs) => cs
                    .iter()
                    .any(|c| matches!(c, Condition::Compare { left, .. } if *left == e)),
                _ => false,
            })
        });
        let in_subject = same_column.or_else(|| {
            self.subject
                .and_then(|s| vals.iter().find(|v| v.table == s))
        });
        let in_play = vals.iter().find(|v| self.tables.contains(&v.table));
        let nearest = self.subject.and_then(|s| {
            vals.iter()
                .filter_map(|v| self.distance_from_subject(s, v.table).map(|d| (d, v)))
                .min_by_key(|(d, v)| (*d, self.idx.tables[v.table].row_count))
                .map(|(_, v)| v)
        });
        let pick = in_subject.or(in_play).or(nearest).or(vals.first())?;
        let distinct_cols = {
            let mut c: Vec<(usize, usize)> = vals.iter().map(|v| (v.table, v.column)).collect();
            c.sort();
            c.dedup();
            c.len()
        };
        if distinct_cols > 1 && in_subject.is_none() && in_play.is_none() {
            self.penalize(0.85, format!("'{}' appears in several columns", pick.value));
        }
        Some((pick.table, pick.column, pick.value.clone()))
    }

    /// "the average, minimum and maximum age": several aggregations of one column.
    fn pass_agg_lists(&mut self) {
        let n = self.toks.len();
        let mut i = 0;
        while i < n {
            let Some(f0) = agg_word(self.lemma(i)).filter(|_| !self.cue[i]) else {
                i += 1;
                continue;
            };
            let mut aggs = vec![(f0, i)];
            let mut j = i + 1;
            loop {
                let mut k = j;
                while k < n && matches!(self.lemma(k), "," | "and" | "or" | "the") {
                    k += 1;
                }
                match agg_word(self.lemma(k)) {
                    Some(f) if k > j => {
                        aggs.push((f, k));
                        j = k + 1;
                    }
                    _ => break,
                }
            }
            if aggs.len() < 2 {
                i += 1;
                continue;
            }
            let Some(mi) = self
                .mention_after(j, &["the", "of"])
                .filter(|&m| !self.used[m] && self.ments[m].has_column())
            else {
                i = j;
                continue;
            };
            let Some((t, c)) = self.resolve(mi) else {
                i = j;
                continue;
            };
            self.used[mi] = true;
            for (f, at) in aggs {
                self.cue[at] = true;
                if let Some(am) = self.mention_at(at) {
                    self.used[am] = true;
                }
                self.select.push(SelectItem {
                    expr: Expr::agg(f, self.col_expr(t, c)),
                    alias: None,
                });
            }
            i = self.ments[mi].end;
        }
    }

    /// "average age", "total sales", "maximum capacity", "number of different countries".
    fn pass_aggregates(&mut self) {
        for mi in 0..self.ments.len() {
            if self.used[mi] {
                continue;
            }
            let m = &self.ments[mi];
            let Some((f, at)) = self.agg_before(m.start).or_else(|| self.total_after(mi)) else {
                continue;
            };
            if self.cue[at] && f == AggFunc::Count {
                continue;
            }
            // "the minimum product price": "product" only modifies the numeric column after it.
            let modifies_next = f != AggFunc::Count
                && self.ments.get(mi + 1).is_some_and(|n| {
                    n.start == m.end
                        && n.columns()
                            .any(|(t, c, _)| self.idx.tables[t].column_class[c].is_numeric())
                })
                && !m
                    .columns()
                    .next()
                    .is_some_and(|(t, c, _)| self.idx.tables[t].column_class[c].is_numeric());
            if modifies_next {
                self.used[mi] = true;
                continue;
            }
            if m.has_column() && !(f == AggFunc::Count && m.has_table()) {
                let Some((t, c)) = self.resolve(mi) else {
                    continue;
                };
                let distinct = (at..m.start)
                    .any(|k| matches!(self.lemma(k), "different" | "distinct" | "unique"));
                let e = Expr::Agg {
                    func: f,
                    arg: Box::new(self.col_expr(t, c)),
                    distinct: distinct && f == AggFunc::Count,
                };
                self.select.push(SelectItem {
                    expr: e,
                    alias: None,
                });
                self.used[mi] = true;
                self.cue[at] = true;
                if let Some(am) = self.mention_at(at) {
                    self.used[am] = true;
                }
            } else if f == AggFunc::Count && m.has_table() {
                let t = m.tables().next().unwrap_or(0);
                self.used[mi] = true;
                self.cue[at] = true;
                if !self.tables.contains(&t) && self.subject != Some(t) {
                    self.tables.push(t);
                }
                self.select.push(SelectItem {
                    expr: Expr::CountStar,
                    alias: None,
                });
                if self.group.is_empty() && self.subject.is_some_and(|s| s != t) {
                    self.group_by_subject();
                }
            } else if let Some(Element::Term(ti)) = m.best_element() {
                self.used[mi] = true;
                self.cue[at] = true;
                let mut e = self.term_expr(ti);
                if !e.is_aggregate() {
                    e = Expr::agg(f, e);
                }
                self.select.push(SelectItem {
                    expr: e,
                    alias: Some(self.idx.aug.semantic.business_terms[ti].name.clone()),
                });
            }
        }
        // "how many X": the counted thing.
        if let Some(ch) = self.count {
            let item = match ch.mention {
                Some(mi)
                    if !self.used[mi]
                        && self.ments[mi].has_column()
                        && (ch.distinct || !self.ments[mi].has_table()) =>
                {
                    self.used[mi] = true;
                    match self.resolve(mi) {
                        // "how many different countries": distinct values; "how many models":
                        // rows of the table holding them.
                        Some((t, c)) if ch.distinct => Expr::Agg {
                            func: AggFunc::Count,
                            arg: Box::new(self.col_expr(t, c)),
                            distinct: true,
                        },
                        // "how many units were sold": a quantity is summed, not counted — unless
                        // one row is picked ("how many cylinders does the fastest car have").
                        Some((t, c))
                            if self.is_measure_column(t, c)
                                && self.limit.is_none()
                                && self.order.is_empty() =>
                        {
                            if self.subject.is_none() {
                                self.subject = Some(t);
                            } else if self.subject != Some(t) && !self.tables.contains(&t) {
                                self.tables.push(t);
                            }
                            Expr::agg(AggFunc::Sum, self.col_expr(t, c))
                        }
                        Some((t, c)) if self.is_measure_column(t, c) => self.col_expr(t, c),
                        Some((t, _)) => {
                            if self.subject.is_none() {
                                self.subject = Some(t);
                            } else if self.subject != Some(t) && !self.tables.contains(&t) {
                                self.tables.push(t);
                            }
                            Expr::CountStar
                        }
                        None => Expr::CountStar,
                    }
                }
                Some(mi) => {
                    let mut item = Expr::CountStar;
                    if let Some(t) = self.ments[mi].tables().next() {
                        if !self.used[mi] {
                            self.used[mi] = true;
                            if self.subject != Some(t) && !self.tables.contains(&t) {
                                self.tables.push(t);
                            }
                        }
                        // "how many different templates do documents use": distinct rows of
                        // the counted table once other tables are joined in.
                        if ch.distinct {
                            if let Some(pk) = self.idx.tables[t].pk {
                                item = Expr::Agg {
                                    func: AggFunc::Count,
                                    arg: Box::new(self.col_expr(t, pk)),
                                    distinct: true,
                                };
                            }
                        }
                    }
                    item
                }
                None => Expr::CountStar,
            };
            // "how many units were sold in total": already answered by the sum above.
            let answered = ch
                .mention
                .is_some_and(|mi| self.used[mi] && !self.ments[mi].has_table())
                && self.select.iter().any(|s| s.expr.is_aggregate());
            if !answered && !self.select.iter().any(|s| s.expr == item) {
                self.select.push(SelectItem {
                    expr: item,
                    alias: None,
                });
            }
        }
        // Business-term measures named without an aggregation word ("revenue by region").
        for mi in 0..self.ments.len() {
            if self.used[mi] {
                continue;
            }
            if let Some(Element::Term(ti)) = self.ments[mi].best_element() {
                match self.idx.term(ti).clone() {
                    cbi_types::TermTarget::Measure(_) => {
                        self.used[mi] = true;
                        let e = self.term_expr(ti);
                        let label = self.idx.aug.semantic.business_terms[ti].name.clone();
                        self.select.push(SelectItem {
                            expr: e,
                            alias: Some(label),
                        });
                    }
                    cbi_types::TermTarget::Filter(sql) => {
                        self.used[mi] = true;
                        let tables = self.term_tables(ti);
                        let label = self.idx.aug.semantic.business_terms[ti].name.clone();
                        let negated = self.negated_before(self.ments[mi].start);
                        let cond = Condition::Raw {
                            sql: if negated { format!("NOT ({sql})") } else { sql },
                            tables,
                            label,
                        };
                        self.filters.push(cond);
                    }
                    cbi_types::TermTarget::Column(_) => {}
                }
            }
        }
    }

    /// The select list: columns named before the first filter cue (and those chained to them
    /// with "and"), else the subject's display column.
    fn pass_select(&mut self) {
        let head_end = self.first_filter_cue(1);
        let mut picked = Vec::new();
        for mi in 0..self.ments.len() {
            if self.used[mi] {
                continue;
            }
            let m = &self.ments[mi];
            let in_head = m.start < head_end;
            let chained = !in_head
                && picked.last().is_some_and(|&p: &usize| {
                    let pm = &self.ments[p];
                    (pm.end..m.start).all(|k| {
                        matches!(
                            self.lemma(k),
                            "and"
                                | ","
                                | "the"
                                | "their"
                                | "its"
                                | "also"
                                | "as"
                                | "well"
                                | "along"
                                | "with"
                                | "together"
                                | "corresponding"
                                | "respective"
                                | "plus"
                        )
                    })
                });
            if !(in_head || chained) {
                continue;
            }
            // A count question shows the count, not the columns it mentions on the way.
            if self.count.is_some() && self.group.is_empty() && m.has_column() && !m.has_table() {
                continue;
            }
            if m.has_column()
                && (!m.has_table()
                    || m.columns().next().is_some_and(|c| c.2 >= 1.0)
                        && self.subject.is_some_and(|s| m.columns().any(|c| c.0 == s)))
            {
                if let Some((t, c)) = self.resolve(mi) {
                    self.used[mi] = true;
                    let e = self.col_expr(t, c);
                    if !self.select.iter().any(|s| s.expr == e) {
                        self.select.push(SelectItem {
                            expr: e,
                            alias: None,
                        });
                    }
                    picked.push(mi);
                }
            } else if let Some(Element::Term(ti)) = m.best_element() {
                if let cbi_types::TermTarget::Column(_) = self.idx.term(ti) {
                    self.used[mi] = true;
                    let e = self.term_expr(ti);
                    self.select.push(SelectItem {
                        expr: e,
                        alias: None,
                    });
                    picked.push(mi);
                }
            } else if chained && !picked.is_empty() {
                // "names of teachers and the courses they teach": another table's label.
                if let Some(t) = m.tables().next().filter(|&t| Some(t) != self.subject) {
                    if let Some(d) = self.idx.tables[t].display.or(self.idx.tables[t].pk) {
                        self.used[mi] = true;
                        if !self.tables.contains(&t) {
                            self.tables.push(t);
                        }
                        let e = self.col_expr(t, d);
                        if !self.select.iter().any(|s| s.expr == e) {
                            self.select.push(SelectItem {
                                expr: e,
                                alias: None,
                            });
                        }
                        picked.push(mi);
                    }
                }
            }
        }
        if let Some(s) = self.subject {
            if !self.tables.contains(&s) {
                self.tables.insert(0, s);
            } else if let Some(pos) = self.tables.iter().position(|&t| t == s) {
                self.tables.remove(pos);
                self.tables.insert(0, s);
            }
        }
        let has_plain = self.select.iter().any(|s| !s.expr.is_aggregate());
        let has_any = !self.select.is_empty();
        let _ = has_plain;
        if !has_any {
            self.defaulted_select = true;
            // Nothing named: the subject's name (or everything for "show X").
            if let Some(s) = self.subject {
                let info = &self.idx.tables[s];
                let wants_all = self.has_word("information")
                    || self.has_word("info")
                    || self.has_word("detail")
                    || self.has_word("everything")
                    || self.has_word("record")
                    || self.intent == Intent::Explore;
                if wants_all || (info.display.is_none() && info.pk.is_none()) {
                    for c in 0..self.idx.table(s).columns.len() {
                        self.select.push(SelectItem {
                            expr: self.col_expr(s, c),
                            alias: None,
                        });
                    }
                    if self.intent != Intent::Explore && !wants_all {
                        self.penalize(0.8, "nothing specific was asked for; showing every column");
                    }
                } else {
                    let labels = self.label_exprs(s);
                    let grouped_elsewhere = labels.first().is_some_and(|e| {
                        !self.group.is_empty()
                            && !self.group.contains(e)
                            && self.group.iter().all(|g| g.is_aggregate() || !matches!(g, Expr::Column(c) if c.table == self.idx.table(s).name))
                    });
                    if !grouped_elsewhere {
                        for (k, e) in labels.into_iter().enumerate() {
                            self.select.insert(
                                k,
                                SelectItem {
                                    expr: e,
                                    alias: None,
                                },
                            );
                        }
                    }
                }
            }
        }
        // Deferred "order by the first selected column" (alphabetically, "in descending order").
        if let Some(pos) = self
            .order
            .iter()
            .position(|o| o.expr == Expr::Literal(Literal::Null))
        {
            let desc = self.order[pos].desc;
            match self.select.first() {
                Some(s) => {
                    self.order[pos] = OrderItem {
                        expr: s.expr.clone(),
                        desc,
                    }
                }
                None => {
                    self.order.remove(pos);
                }
            }
        }
        // Distinct: "different", "distinct", "unique" before a plain select.
        if (self.has_word("different") || self.has_word("distinct") || self.has_word("unique"))
            && !self.select.iter().any(|s| s.expr.is_aggregate())
            && self.group.is_empty()
        {
            self.distinct = true;
        }
    }

    /// Tables named but not yet used: relationships ("singers who performed in a concert"),
    /// negated ones ("countries with no car makers").
    fn pass_tables(&mut self) {
        for mi in 0..self.ments.len() {
            if self.used[mi] {
                continue;
            }
            let m = &self.ments[mi];
            let Some(t) = m.tables().next() else { continue };
            self.used[mi] = true;
            if Some(t) == self.subject {
                continue;
            }
            let negated = self.negated_before(m.start)
                || (m.start >= 2
                    && self.lemma(m.start - 1) == "any"
                    && self.negated_before(m.start - 1));
            if negated {
                if let Some(mut cond) = self.not_in_related(t) {
                    // Filters on the negated side belong inside: "stadiums that did not have a
                    // concert in 2014".
                    if let Condition::InQuery { query, .. } = &mut cond {
                        let inner: Vec<String> = query.tables.clone();
                        let subject_name =
                            self.subject.map(|s| self.table_name(s)).unwrap_or_default();
                        let mut keep = Vec::new();
                        for f in std::mem::take(&mut self.filters) {
                            let mut ts = Vec::new();
                            f.tables(&mut ts);
                            let inside = !ts.is_empty()
                                && ts.iter().all(|x| {
                                    inner.iter().any(|y| y.eq_ignore_ascii_case(x))
                                        && !x.eq_ignore_ascii_case(&subject_name)
                                });
                            if inside {
                                query.filters.push(f);
                            } else {
                                keep.push(f);
                            }
                        }
                        self.filters = keep;
                        self.tables.retain(|&x| {
                            !inner
                                .iter()
                                .any(|y| y.eq_ignore_ascii_case(&self.idx.table(x).name))
                        });
                    }
                    self.filters.push(cond);
                    continue;
                }
            }
            if !self.tables.contains(&t) {
                self.tables.push(t);
            }
        }
        // A join that only checks existence duplicates subject rows: ask for distinct rows when
        // nothing is aggregated.
        if self.tables.len() > 1
            && self.group.is_empty()
            && !self.select.iter().any(|s| s.expr.is_aggregate())
        {
            let subject = self.subject;
            let selected_only_subject = self.select.iter().all(|s| {
                let mut ts = Vec::new();
                s.expr.tables(&mut ts);
                ts.iter().all(|x| {
                    subject.is_some_and(|st| self.idx.table(st).name.eq_ignore_ascii_case(x))
                })
            });
            if selected_only_subject && self.order.is_empty() {
                self.distinct = true;
            }
        }
    }

    /// `subject.key NOT IN (SELECT fk FROM t)` for "X with no T" / "X that do not have any T".
    fn not_in_related(&mut self, t: usize) -> Option<Condition> {
        let s = self.subject?;
        let tree = self.idx.graph.connect(&[s, t])?;
        let (ei, _) = *tree.joins.first()?;
        let e = &self.idx.graph.edges[ei];
        let (s_cols, other, o_cols) = if e.a == s {
            (&e.a_cols, e.b, &e.b_cols)
        } else {
            (&e.b_cols, e.a, &e.a_cols)
        };
        if s_cols.len() != 1 {
            return None;
        }
        let sub = SemanticQuery {
            select: vec![SelectItem {
                expr: self.col_expr(other, o_cols[0]),
                alias: None,
            }],
            tables: tree
                .tables
                .iter()
                .skip(1)
                .map(|&x| self.table_name(x))
                .collect(),
            ..Default::default()
        };
        let _ = t;
        Some(Condition::InQuery {
            expr: self.col_expr(s, s_cols[0]),
            query: Box::new(sub),
            negated: true,
        })
    }

    /// "What is the churn by region?": an unknown word where the thing to compute should be.
    /// Rather than answer something else, ask which measure or column it means.
    fn unknown_measure(&mut self) {
        if self.ambiguity.is_some() {
            return;
        }
        let nothing_measured = !self.select.iter().any(|s| s.expr.is_aggregate());
        if !(self.defaulted_select || (!self.group.is_empty() && nothing_measured)) {
            return;
        }
        let head_end = self.first_filter_cue(1);
        let unknown = (0..head_end.min(self.toks.len())).find(|&i| {
            let t = &self.toks[i];
            !self.cue[i]
                && self.mention_at(i).is_none()
                && content_word(t)
                && !is_filler_word(&t.lemma)
                && !t.capitalized
                && agg_word(&t.lemma).is_none()
                && superlative(&t.lemma).is_none()
        });
        let Some(i) = unknown else {
            return;
        };
        let word = self.toks[i].text.clone();
        // Candidates: the business measures, then numeric measure columns of the tables in play,
        // most alike the word first.
        let mut options: Vec<(f64, Element, String)> = Vec::new();
        for (ti, term) in self.idx.aug.semantic.business_terms.iter().enumerate() {
            if matches!(term.target, cbi_types::TermTarget::Measure(_)) {
                let sim = strsim::jaro_winkler(&word.to_lowercase(), &term.name.to_lowercase());
                options.push((sim + 0.1, Element::Term(ti), term.name.clone()));
            }
        }
        let mut tables: Vec<usize> = self.subject.into_iter().collect();
        tables.extend(self.tables.iter().copied());
        for &t in &tables {
            for c in 0..self.idx.table(t).columns.len() {
                if self.is_measure_column(t, c) {
                    let name = format!("{}.{}", self.idx.table(t).name, self.idx.column_name(t, c));
                    let sim = strsim::jaro_winkler(
                        &word.to_lowercase(),
                        &self.idx.column_name(t, c).to_lowercase(),
                    );
                    options.push((sim, Element::Column(t, c), name));
                }
            }
        }
        if options.is_empty() {
            return;
        }
        options.sort_by(|a, b| b.0.total_cmp(&a.0));
        options.truncate(6);
        self.penalize(0.5, format!("does not know what \"{word}\" means here"));
        self.ambiguity = Some(Ambiguity {
            phrase: word,
            options: options.into_iter().map(|(_, e, l)| (e, l)).collect(),
        });
    }

    /// Content words nothing explained lower the confidence.
    fn pass_unexplained(&mut self) {
        let mut unexplained = Vec::new();
        for (i, t) in self.toks.iter().enumerate() {
            if self.cue[i] || self.mention_at(i).is_some_and(|m| self.used[m]) {
                continue;
            }
            if let Some(m) = self.mention_at(i) {
                // A linked span nobody used.
                if i == self.ments[m].start {
                    unexplained.push(self.span_text(self.ments[m].start, self.ments[m].end));
                }
                continue;
            }
            if content_word(t) && !is_filler_word(&t.lemma) {
                unexplained.push(t.text.clone());
            }
        }
        if !unexplained.is_empty() {
            let f = 0.85f32.powi(unexplained.len().min(4) as i32);
            self.penalize(f, format!("not used: {}", unexplained.join(", ")));
        }
        self.unknown_measure();
        // Words that change the answer's shape weigh more when nothing used them: a number, a
        // quoted value, a grouping, ordering, superlative or negation word.
        let mut lost = Vec::new();
        for (i, t) in self.toks.iter().enumerate() {
            if self.cue[i] || self.mention_at(i).is_some_and(|m| self.used[m]) {
                continue;
            }
            let w = t.lemma.as_str();
            let shaping = t.number().is_some_and(|_| !t.spelled || t.lemma != "one")
                || t.quoted().is_some()
                || matches!(
                    w,
                    "each"
                        | "per"
                        | "every"
                        | "order"
                        | "ordered"
                        | "sorted"
                        | "sort"
                        | "not"
                        | "no"
                        | "never"
                        | "without"
                        | "both"
                        | "except"
                        | "than"
                        | "average"
                        | "total"
                        | "most"
                        | "least"
                )
                || superlative(w).is_some();
            if shaping {
                lost.push(t.text.clone());
            }
        }
        if !lost.is_empty() {
            self.penalize(
                0.75f32.powi(lost.len().min(3) as i32),
                format!("did not use: {}", lost.join(", ")),
            );
        }
        for m in self.ments {
            if m.corrected {
                self.penalties.push((
                    0.9,
                    format!(
                        "read \"{}\" as a misspelling",
                        self.span_text(m.start, m.end)
                    ),
                ));
            }
        }
    }

    fn finish(mut self) -> Result<Plan> {
        if std::env::var_os("CBI_DEBUG_PLAN").is_some() {
            eprintln!(
                "subject={:?} tables={:?} group={:?} select={:?} used={:?}",
                self.subject.map(|s| self.table_name(s)),
                self.tables,
                self.group,
                self.select.len(),
                self.used
            );
        }
        if self.select.is_empty() {
            return Err(Error::NotUnderstood("could not tell what to show".into()));
        }
        let Some(subject) = self.subject.or_else(|| self.tables.first().copied()) else {
            return Err(Error::NotUnderstood(
                "could not tell which table the question is about".into(),
            ));
        };
        let mut tables: Vec<String> = Vec::new();
        push_unique(&mut tables, &self.table_name(subject));
        for &t in &self.tables {
            push_unique(&mut tables, &self.table_name(t));
        }
        // "Compare the revenue of West and East": the compared values become groups.
        if self.intent == Intent::Compare {
            let compared: Option<Expr> = self.filters.iter().find_map(|f| match f {
                Condition::Or(parts) => match parts.first() {
                    Some(Condition::Compare {
                        left,
                        op: CmpOp::Eq,
                        ..
                    }) => Some(left.clone()),
                    _ => None,
                },
                Condition::InList {
                    expr,
                    negated: false,
                    ..
                } => Some(expr.clone()),
                _ => None,
            });
            if let Some(e) = compared {
                if !self.group.contains(&e) && self.select.iter().any(|s| s.expr.is_aggregate()) {
                    self.group.insert(0, e.clone());
                    self.select.insert(
                        0,
                        SelectItem {
                            expr: e,
                            alias: None,
                        },
                    );
                }
            }
        }
        // "the average quantity per order line": grouping by the very rows being aggregated
        // is no grouping at all.
        if !self.group.is_empty() {
            let mut group_tables = Vec::new();
            for g in &self.group {
                g.tables(&mut group_tables);
            }
            let agg_args: Vec<&Expr> = self
                .select
                .iter()
                .filter_map(|s| match &s.expr {
                    Expr::Agg { arg, .. } => Some(arg.as_ref()),
                    _ => None,
                })
                .collect();
            let only_rows = group_tables.len() == 1
                && !agg_args.is_empty()
                && agg_args.iter().all(|a| matches!(a, Expr::Column(c) if c.table.eq_ignore_ascii_case(&group_tables[0])))
                && self.group.iter().all(|g| matches!(g, Expr::Column(c) if {
                    let t = self.idx.aug.schema.table_index(&c.table);
                    t.is_some_and(|t| {
                        let info = &self.idx.tables[t];
                        let ci = self.idx.table(t).column_index(&c.column);
                        ci.is_some() && (ci == info.pk || ci == info.display || ci == info.display_extra)
                    })
                }));
            if only_rows && self.having.is_empty() {
                let gs = std::mem::take(&mut self.group);
                self.select.retain(|s| !gs.contains(&s.expr));
            }
        }
        // Columns in the order the question names them ("count the employees for each city" →
        // the count, then the city).
        // In a breakdown, the dimensions come first and the measures after, as BI tables show
        // them ("revenue by region" → region, revenue).
        let grouped = !self.group.is_empty();
        let mut keyed: Vec<((bool, usize), SelectItem)> = std::mem::take(&mut self.select)
            .into_iter()
            .map(|s| {
                (
                    (grouped && s.expr.is_aggregate(), self.position_of(&s.expr)),
                    s,
                )
            })
            .collect();
        keyed.sort_by_key(|(p, _)| *p);
        self.select = keyed.into_iter().map(|(_, s)| s).collect();
        // A generic label ("name") from a table other than the subject, or in a breakdown, is
        // named after its table: `regions.name AS region`.
        let several =
            !self.group.is_empty() || self.tables.iter().any(|&t| Some(t) != self.subject);
        if several {
            for item in &mut self.select {
                if let (Expr::Column(c), None) = (&item.expr, &item.alias) {
                    if matches!(c.column.to_lowercase().as_str(), "name" | "title") {
                        let label = cbi_schema::names::singular(&cbi_schema::names::readable_name(
                            &c.table,
                        ));
                        if !label.is_empty() {
                            item.alias = Some(label);
                        }
                    }
                }
            }
        }
        // "Revenue year over year": beside each period's measure, its change from the previous
        // period.
        if self.over_previous {
            let period = self
                .group
                .iter()
                .find(|g| matches!(g, Expr::TimeBucket { .. } | Expr::Column(_)))
                .cloned();
            let measures: Vec<Expr> = self
                .select
                .iter()
                .filter(|s| s.expr.is_aggregate())
                .map(|s| s.expr.clone())
                .collect();
            if let (Some(p), [m]) = (period, measures.as_slice()) {
                self.select.push(SelectItem {
                    expr: Expr::Growth {
                        measure: Box::new(m.clone()),
                        period: Box::new(p),
                    },
                    alias: Some("change_pct".to_string()),
                });
            }
        }
        // The same item asked twice ("the maximum weight … list the maximum weight") once.
        let mut seen: Vec<Expr> = Vec::new();
        self.select.retain(|s| {
            if seen.contains(&s.expr) {
                false
            } else {
                seen.push(s.expr.clone());
                true
            }
        });
        // "each battle" without anything to aggregate means every battle, not a grouping.
        let aggregates = self.select.iter().any(|s| s.expr.is_aggregate())
            || !self.having.is_empty()
            || self.order.iter().any(|o| o.expr.is_aggregate());
        if !aggregates && !self.group.is_empty() && self.time_grain.is_none() {
            self.group.clear();
        }
        // "the lowest version number, along with its template type code": one MIN/MAX with plain
        // columns and no grouping means the row holding the extreme.
        let aggs: Vec<usize> = (0..self.select.len())
            .filter(|&k| self.select[k].expr.is_aggregate())
            .collect();
        if self.group.is_empty()
            && self.order.is_empty()
            && aggs.len() == 1
            && self.select.len() > 1
        {
            if let Expr::Agg {
                func: f @ (AggFunc::Min | AggFunc::Max),
                arg,
                distinct: false,
            } = self.select[aggs[0]].expr.clone()
            {
                // "Which model has the minimum horsepower?" asks for the model only.
                if matches!(self.lemma(0), "which" | "who")
                    || self.select.iter().any(|s| s.expr == *arg)
                {
                    self.select.remove(aggs[0]);
                } else {
                    self.select[aggs[0]].expr = (*arg).clone();
                }
                self.order.push(OrderItem {
                    expr: *arg,
                    desc: f == AggFunc::Max,
                });
                self.limit.get_or_insert(1);
            }
        }
        // Aggregates mixed with plain columns need the plain ones grouped.
        let has_agg = self.select.iter().any(|s| s.expr.is_aggregate());
        if has_agg && self.group.is_empty() {
            let plain: Vec<Expr> = self
                .select
                .iter()
                .filter(|s| !s.expr.is_aggregate())
                .map(|s| s.expr.clone())
                .collect();
            if !plain.is_empty() && self.order.is_empty() {
                self.group = plain;
            }
        }
        // Complexity lowers certainty a little.
        if !self.having.is_empty() {
            self.penalize(0.95, "filters on groups");
        }
        if self.compound.is_some() {
            self.penalize(0.9, "combines two queries");
        }
        if self.filters.iter().any(|f| {
            matches!(
                f,
                Condition::InQuery { .. }
                    | Condition::Compare {
                        right: Operand::Query(_),
                        ..
                    }
            )
        }) {
            self.penalize(0.95, "uses a subquery");
        }
        let mut query = SemanticQuery {
            select: self.select,
            tables,
            filters: self.filters,
            group_by: self.group,
            having: self.having,
            order_by: self.order,
            limit: self.limit,
            distinct: self.distinct,
            compound: None,
        };
        if let Some((op, extra)) = self.compound {
            // The second query: same shape, the last equality replaced.
            let mut other = query.clone();
            other.order_by.clear();
            other.limit = None;
            if let Some(Condition::Compare { left, .. }) = extra.first() {
                other.filters.retain(|f| !matches!(f, Condition::Compare { left: l, op: CmpOp::Eq, .. } if l == left));
            }
            other.filters.extend(extra);
            query.compound = Some(Box::new((op, other)));
        }
        // Joins: a path must exist.
        let all: Vec<usize> = query
            .all_tables()
            .iter()
            .filter_map(|t| self.idx.aug.schema.table_index(t))
            .collect();
        let tree = self.idx.graph.connect(&all);
        if tree.is_none() {
            return Err(Error::NotUnderstood(format!(
                "the question involves tables that no foreign key connects: {}",
                query.all_tables().join(", ")
            )));
        }
        if let Some(tree) = &tree {
            // Every join is a guess about which path and which table's column was meant — the
            // largest source of confident mistakes — except joins a business term defines.
            let mut term_tables: Vec<Vec<usize>> = Vec::new();
            for s in &query.select {
                if let Expr::Raw { tables, .. } = &s.expr {
                    term_tables.push(
                        tables
                            .iter()
                            .filter_map(|t| self.idx.aug.schema.table_index(t))
                            .collect(),
                    );
                }
            }
            let guessed = tree
                .joins
                .iter()
                .filter(|(ei, _)| {
                    let e = &self.idx.graph.edges[*ei];
                    !term_tables
                        .iter()
                        .any(|ts| ts.contains(&e.a) && ts.contains(&e.b))
                })
                .count();
            if guessed > 0 {
                let f = 0.92 * 0.95f32.powi(guessed as i32 - 1);
                self.penalties
                    .push((f, format!("joins {} tables", tree.tables.len())));
            }
            if tree
                .joins
                .iter()
                .any(|(ei, _)| self.idx.graph.edges[*ei].cost > 10)
            {
                self.penalties
                    .push((0.9, "joins on a relationship inferred from names".into()));
            }
        }
        let mut confidence = 0.97f32;
        let mut reasons = Vec::new();
        for (f, why) in &self.penalties {
            confidence *= f;
            reasons.push(why.clone());
        }
        Ok(Plan {
            query,
            intent: self.intent,
            confidence: confidence.clamp(0.0, 1.0),
            reasons,
            ambiguity: self.ambiguity,
        })
    }
}

/// Orders each mention's equally good readings by how well they fit the rest of the question:
/// "cars" (`car_makers`, `car_names`, `cars_data`) in "cars with more than 4 cylinders" means
/// `cars_data`, the table holding the other mention, `Cylinders`.
fn rank_by_context(ments: &mut [Mention], idx: &SchemaIndex) {
    let tables_of = |m: &Mention| -> Vec<usize> {
        let mut ts: Vec<usize> = m
            .elements
            .iter()
            .filter_map(|(e, _)| match e {
                Element::Table(t) | Element::Column(t, _) => Some(*t),
                Element::Term(_) => None,
            })
            .collect();
        ts.extend(m.values.iter().map(|v| v.table));
        ts.sort_unstable();
        ts.dedup();
        ts
    };
    let all: Vec<Vec<usize>> = ments.iter().map(tables_of).collect();
    for (k, m) in ments.iter_mut().enumerate() {
        if m.elements.len() < 2 {
            continue;
        }
        let score = |t: usize| -> f32 {
            let mut s = 0.0;
            for (j, others) in all.iter().enumerate() {
                if j == k {
                    continue;
                }
                if others.contains(&t) {
                    s += 1.0;
                } else if others.iter().any(|&o| idx.graph.linked(o, t)) {
                    s += 0.3;
                }
            }
            s
        };
        let table_of = |e: &Element| match e {
            Element::Table(t) | Element::Column(t, _) => Some(*t),
            Element::Term(_) => None,
        };
        let mut scored: Vec<((Element, f32), f32)> = m
            .elements
            .iter()
            .map(|&(e, w)| ((e, w), table_of(&e).map_or(0.0, score)))
            .collect();
        // Weights within a hair of each other are ties that context breaks.
        scored.sort_by(|a, b| {
            let wa = (a.0.1 * 20.0).round();
            let wb = (b.0.1 * 20.0).round();
            wb.total_cmp(&wa).then(b.1.total_cmp(&a.1))
        });
        m.elements = scored.into_iter().map(|(e, _)| e).collect();
    }
}

/// Misspelt question words ("totl", "averge", "maximun") are read as the word meant, when the
/// schema does not know the misspelling and exactly one cue word is one edit away.
fn correct_cue_words(tokens: &mut [Token], idx: &SchemaIndex) {
    const CUES: &[&str] = &[
        "total",
        "average",
        "maximum",
        "minimum",
        "number",
        "count",
        "highest",
        "lowest",
        "largest",
        "smallest",
        "most",
        "least",
        "each",
        "every",
        "between",
        "greater",
        "less",
        "more",
        "than",
        "ordered",
        "sorted",
        "descending",
        "ascending",
        "distinct",
        "different",
        "many",
    ];
    for t in tokens.iter_mut() {
        // Names ("East") and cell values are never misspellings of cue words.
        if t.kind != TokenKind::Word
            || t.lemma.len() < 4
            || t.capitalized
            || STOP.contains(&t.lemma.as_str())
            || idx.knows_word(&t.lemma)
            || !idx.aug.value_index.lookup(&t.norm).is_empty()
        {
            continue;
        }
        if CUES.contains(&t.lemma.as_str()) {
            continue;
        }
        let hits: Vec<&str> = CUES
            .iter()
            .copied()
            .filter(|c| strsim::damerau_levenshtein(c, &t.lemma) == 1)
            .collect();
        if let [one] = hits.as_slice() {
            t.lemma = (*one).to_string();
            t.norm = (*one).to_string();
        }
    }
}

fn is_filler_word(w: &str) -> bool {
    matches!(
        w,
        "everything"
            | "information"
            | "info"
            | "detail"
            | "record"
            | "result"
            | "data"
            | "value"
            | "entry"
            | "row"
            | "together"
            | "also"
            | "along"
            | "corresponding"
            | "respectively"
            | "respective"
            | "ever"
            | "currently"
            | "total"
            | "overall"
            | "altogether"
            | "both"
            | "ordered"
            | "sorted"
            | "descending"
            | "ascending"
            | "order"
            | "different"
            | "distinct"
            | "unique"
            | "number"
            | "count"
            | "amount"
            | "each"
            | "every"
            | "there"
            | "we"
            | "have"
            | "own"
            | "kind"
            | "sort"
            | "type"
            | "category"
    )
}

fn num_lit(v: f64) -> Literal {
    if v.fract() == 0.0 && v.abs() < 9e15 {
        Literal::Int(v as i64)
    } else {
        Literal::Float(v)
    }
}

/// "younger than 30" on an age column is `age < 30`; on a birth-year column it flips.
fn adjust_for_implied(
    op: CmpOp,
    implied: Option<&str>,
    left: &Expr,
    v: f64,
    p: &Planner<'_>,
) -> (CmpOp, Literal) {
    let lit = num_lit(v);
    let Some(adj) = implied else { return (op, lit) };
    let Expr::Column(c) = left else {
        return (op, lit);
    };
    let words = crate::index::words_of(&c.column);
    // Only age words run against birth years and dates: "older than 30" on a birth year is
    // an earlier year, while "born after 1990" is simply a later one.
    let age_word = matches!(adj, "older" | "younger");
    let birth = age_word
        && words
            .iter()
            .any(|w| w == "birth" || w == "born" || w == "dob" || w == "year");
    let _ = p;
    if birth { (flip(op), lit) } else { (op, lit) }
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::GtEq => CmpOp::LtEq,
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::LtEq => CmpOp::GtEq,
        o => o,
    }
}
