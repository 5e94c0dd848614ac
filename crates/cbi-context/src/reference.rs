//! [`ReferenceResolver`]: a follow-up read as an edit of the answer in focus.
//!
//! The follow-up is read into its parts ([`Reading`]): a ranking ("which had the highest?",
//! "top 3 of those"), groupings ("by month", "per category"), values and time ranges ("only
//! 2023", "what about the West?"), a measure or an aggregate ("the average instead", "show
//! profit"), a table to list ("the orders behind that"), comparison and correction cues. Then
//! small named rules ([`crate::rules`]) edit the previous query with them, each saying what it
//! did. A follow-up whose parts no rule could place is never answered as something else: it is
//! [`Resolution::Unclear`], or [`Resolution::Standalone`] when nothing marks it as a follow-up.

use cbi_nl2sql::SchemaIndex;
use cbi_nl2sql::index::Element;
use cbi_nl2sql::lexicon::{agg_word, comparison, superlative};
use cbi_nl2sql::link::{Mention, STOP};
use cbi_nl2sql::plan::{PlanOptions, plan, understand};
use cbi_nl2sql::query::{AggFunc, CmpOp, ColumnRef, Expr, SemanticQuery, TimeGrain};
use cbi_nl2sql::text::{Token, TokenKind};
use cbi_nl2sql::time::{TimeFilter, resolve_time};
use chrono::NaiveDate;
use serde::Serialize;

use crate::rules::{self, Edit};
use crate::tracker::Focus;
use crate::words::{self, Cue};

/// Knobs of the resolver.
#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    /// "Today", for relative dates; the latest date in the data when absent.
    pub reference_date: Option<NaiveDate>,
}

/// What the resolver made of a question.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// Not a follow-up, or nothing to refer back to: answer it as a new question.
    Standalone,
    /// The follow-up as a complete query, made by editing the answer in focus.
    Resolved(Box<Resolved>),
    /// A follow-up whose reference could not be read: say so, never guess.
    Unclear(Unclear),
}

/// A follow-up turned into a complete query.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub query: SemanticQuery,
    /// The edits made, in order.
    pub edits: Vec<Edit>,
    /// 0..1: how sure the resolver is.
    pub confidence: f32,
    /// What lowered the confidence.
    pub reasons: Vec<String>,
    /// What was done, in plain words ("the previous answer, ranked by revenue, highest first").
    pub explanation: String,
}

/// A follow-up the resolver could not read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unclear {
    /// The words that refer back ("that", "those") or that no rule could place.
    pub phrase: String,
    /// What to tell the person.
    pub message: String,
}

/// A linked value of the follow-up: `column = value` (or `<>` when negated).
#[derive(Debug, Clone, PartialEq)]
pub struct ValueRef {
    pub column: ColumnRef,
    pub value: String,
    pub negated: bool,
}

/// The parts of a follow-up.
#[derive(Debug, Clone, Default)]
pub struct Reading {
    pub tokens: Vec<Token>,
    pub mentions: Vec<Mention>,
    /// Token explained by some part.
    pub used: Vec<bool>,
    /// "it", "those", a standing "that".
    pub anaphor: Option<String>,
    /// Starts like a follow-up ("and", "what about", "only").
    pub opener: bool,
    /// `(descending, how many)`.
    pub rank: Option<(bool, Option<u64>)>,
    pub agg: Option<AggFunc>,
    /// Groupings asked for, and whether they add to the old ones ("also by").
    pub groups: Vec<Expr>,
    pub add: bool,
    pub time: Option<TimeFilter>,
    pub values: Vec<ValueRef>,
    /// A measure named (a business term or a numeric column), as the words that name it.
    pub measure: Option<(usize, usize)>,
    /// Tables named (not as groupings).
    pub tables: Vec<usize>,
    /// Non-numeric columns named (not as groupings or values).
    pub columns: Vec<ColumnRef>,
    pub drill: bool,
    pub compare: bool,
    pub correction: bool,
    pub instead: bool,
    /// "versus the average".
    pub versus_average: bool,
    /// "how many of them", "count them".
    pub count: bool,
    /// "Sort by seats, biggest first": the key and whether descending.
    pub order: Option<(Expr, bool)>,
    /// Every column and table the follow-up names is one the focus already uses.
    pub within_focus: bool,
    /// Every aggregate word, in order ("the maximum and the minimum").
    pub aggs: Vec<AggFunc>,
    /// "More than 3", "at least 1000": the operator and the number ("how about after?": the
    /// operator alone).
    pub compare_number: Option<(CmpOp, Option<f64>)>,
    /// "Show the distinct values", "filter out duplicates".
    pub distinct: bool,
    /// "Limit it to one", "just the first 5".
    pub limit: Option<u64>,
    /// "Sort them in decreasing order": a direction with no key.
    pub sort: Option<bool>,
    /// "All the models except those", "the rest".
    pub complement: bool,
    /// "For each of them": per row of the answer in focus.
    pub each: bool,
    /// Quoted text no column holds ("same for 'HMS Atlanta'").
    pub quoted: Vec<String>,
}

impl Reading {
    /// The lemmas of the follow-up.
    pub fn lemmas(&self) -> Vec<&str> {
        self.tokens.iter().map(|t| t.lemma.as_str()).collect()
    }

    fn mark(&mut self, from: usize, n: usize) {
        for u in self.used.iter_mut().skip(from).take(n) {
            *u = true;
        }
    }

    fn add_group(&mut self, e: Expr) {
        if !self.groups.contains(&e) {
            self.groups.push(e);
        }
    }

    fn mention_at(&self, i: usize) -> Option<usize> {
        self.mentions.iter().position(|m| m.start <= i && i < m.end)
    }

    /// Content words no part explained.
    pub fn unexplained(&self) -> Vec<String> {
        self.tokens
            .iter()
            .enumerate()
            .filter(|(i, t)| {
                !self.used[*i]
                    && t.kind == TokenKind::Word
                    && t.lemma.len() > 1
                    && !STOP.contains(&t.lemma.as_str())
                    && !FILLER.contains(&t.lemma.as_str())
            })
            .map(|(_, t)| t.text.clone())
            .collect()
    }

    /// Whether the follow-up says what to show on its own: a table to list, columns, a count.
    pub fn names_what_to_show(&self) -> bool {
        !self.tables.is_empty() || !self.columns.is_empty() || self.count
    }

    /// Nothing but words pointing back ("what are they?", "list them").
    pub fn only_points_back(&self) -> bool {
        self.anaphor.is_some()
            && self.tables.is_empty()
            && self.columns.is_empty()
            && self.measure.is_none()
            && self.values.is_empty()
            && self.time.is_none()
            && self.rank.is_none()
            && self.aggs.is_empty()
            && self.groups.is_empty()
            && !self.count
            && self.compare_number.is_none()
            && self.order.is_none()
            && self.sort.is_none()
    }

    /// Whether words of the follow-up point back at the answer in focus ("those", "and …",
    /// "instead", "behind that", "also"), beyond merely naming what it shows.
    pub fn points_back(&self) -> bool {
        self.anaphor.is_some()
            || self.opener
            || self.drill
            || self.each
            || self.add
            || self.complement
            || self.instead
            || self.correction
            || self.compare
            || self.order.is_some()
            || self.sort.is_some()
    }

    /// Whether anything marks the question as a follow-up.
    pub fn is_follow_up(&self) -> bool {
        self.anaphor.is_some()
            || self.opener
            || self.drill
            || self.correction
            || self.add
            || self.instead
            || self.compare
            || self.within_focus
            || (self.tables.is_empty() && self.columns.is_empty() && self.measure.is_none())
    }
}

/// Words that carry no meaning of their own in a follow-up.
const FILLER: &[&str] = &[
    "show", "me", "give", "list", "display", "please", "now", "again", "just", "only", "then",
    "ok", "okay", "one", "ones", "instead", "also", "well", "too", "see", "want", "like", "do",
    "can", "you", "could", "would", "let", "u", "break", "down", "split", "it", "them", "they",
    "those", "these", "that", "this", "their", "its", "same", "rather", "thing", "value", "number",
    "had", "have", "ha", "get", "got", "tell", "happen", "look", "about", "how", "what", "which",
    "who", "where", "when", "i", "mean", "meant", "no", "sorry", "actually", "out", "result",
    "answer", "row", "figure",
];

/// The planner's confidence above which a question that does not point back is answered on
/// its own rather than as an edit of the answer in focus.
const STANDS_ALONE: f32 = 0.8;

/// Grain words a "by" may name.
fn grain_word(w: &str) -> Option<TimeGrain> {
    Some(match w {
        "day" | "daily" | "date" => TimeGrain::Day,
        "week" | "weekly" => TimeGrain::Week,
        "month" | "monthly" => TimeGrain::Month,
        "quarter" | "quarterly" => TimeGrain::Quarter,
        "year" | "yearly" | "annual" | "annually" => TimeGrain::Year,
        _ => return None,
    })
}

/// Turns follow-ups into complete queries over one schema.
#[derive(Debug)]
pub struct ReferenceResolver<'a> {
    pub idx: &'a SchemaIndex,
    pub opts: ResolveOptions,
}

impl<'a> ReferenceResolver<'a> {
    pub fn new(idx: &'a SchemaIndex, opts: ResolveOptions) -> Self {
        ReferenceResolver { idx, opts }
    }

    /// Reads `question` as a follow-up to `focus`.
    pub fn resolve(&self, question: &str, focus: Option<&Focus>) -> Resolution {
        let Some(focus) = focus else {
            return Resolution::Standalone;
        };
        let reading = self.read(question, focus);
        if !reading.is_follow_up() {
            return Resolution::Standalone;
        }
        // A complete question that does not point back ("count the people from Russia", "how
        // many car makers are there in total?") is answered on its own when the planner is
        // sure of it.
        if !reading.points_back() {
            let alone = plan(
                question,
                self.idx,
                &PlanOptions {
                    reference_date: self.opts.reference_date,
                    ..PlanOptions::default()
                },
            );
            if alone.is_ok_and(|p| p.confidence >= STANDS_ALONE) {
                return Resolution::Standalone;
            }
        }
        let Some(prev) = focus.query.as_ref() else {
            // An answer with no structured query (a verified answer, a model's SQL): nothing
            // to edit here; a model reads the follow-up with the conversation instead.
            return match &reading.anaphor {
                Some(a) => Resolution::Unclear(unclear(a, focus)),
                None => Resolution::Standalone,
            };
        };
        match rules::apply(self, &reading, focus, prev) {
            Some(r) => Resolution::Resolved(Box::new(r)),
            None => match &reading.anaphor {
                Some(a) => Resolution::Unclear(unclear(a, focus)),
                None if reading.opener || reading.mentions.is_empty() => {
                    let phrase = question
                        .trim()
                        .trim_end_matches(['?', '.', '!'])
                        .to_string();
                    Resolution::Unclear(unclear(&phrase, focus))
                }
                None => Resolution::Standalone,
            },
        }
    }

    /// The parts of a follow-up.
    pub fn read(&self, question: &str, focus: &Focus) -> Reading {
        let (tokens, mentions) = understand(question, self.idx);
        let n = tokens.len();
        let mut r = Reading {
            tokens,
            mentions,
            used: vec![false; n],
            ..Reading::default()
        };
        let lemmas: Vec<String> = r.tokens.iter().map(|t| t.lemma.clone()).collect();
        let norms: Vec<String> = r.tokens.iter().map(|t| t.norm.clone()).collect();
        let w: Vec<&str> = norms.iter().map(String::as_str).collect();
        let l: Vec<&str> = lemmas.iter().map(String::as_str).collect();

        // Cues.
        r.opener = words::phrase_at(Cue::Opener, &w, 0).is_some();
        for (i, k) in words::find(Cue::Anaphor, &w) {
            if r.mention_at(i).is_none() {
                r.anaphor.get_or_insert_with(|| w[i..i + k].join(" "));
                r.mark(i, k);
            }
        }
        for (i, _) in words::find(Cue::Demonstrative, &w) {
            let next = w.get(i + 1).copied().unwrap_or("");
            let prev = if i > 0 { w[i - 1] } else { "" };
            let stands = next.is_empty()
                || r.tokens[i + 1].kind == TokenKind::Punct
                || matches!(
                    next,
                    "by" | "per"
                        | "for"
                        | "in"
                        | "instead"
                        | "again"
                        | "only"
                        | "over"
                        | "broken"
                        | "split"
                        | "but"
                        | "compared"
                        | "versus"
                        | "vs"
                        | "to"
                        | "as"
                        | "across"
                        | "without"
                        | "excluding"
                        | "with"
                        | "one"
                        | "from"
                        | "down"
                        | "into"
                )
                || matches!(
                    prev,
                    "show"
                        | "of"
                        | "behind"
                        | "about"
                        | "break"
                        | "sort"
                        | "is"
                        | "was"
                        | "do"
                        | "did"
                        | "chart"
                        | "plot"
                        | "list"
                        | "make"
                        | "rank"
                        | "order"
                        | "filter"
                        | "see"
                        | "compare"
                        | "redo"
                        | "repeat"
                        | "split"
                );
            // "this cartoon", "those singers": a table the answer in focus is about.
            let names_focus = r.mentions.iter().any(|m| {
                m.start == i + 1
                    && m.tables().any(|t| {
                        let name = &self.idx.table(t).name;
                        focus.tables.iter().any(|x| x.eq_ignore_ascii_case(name))
                    })
            });
            if (stands || names_focus) && r.mention_at(i).is_none() {
                r.anaphor.get_or_insert_with(|| w[i].to_string());
                r.used[i] = true;
            }
        }
        for (i, k) in words::find(Cue::Each, &w) {
            // "for each type" groups by the type; "for each of them" by the rows in focus.
            if k > 1 && w[i + k - 1] != "each" || k == 1 {
                let names_group = r.mentions.iter().any(|m| {
                    m.start == i + k || (m.start == i + k + 1 && w.get(i + k) == Some(&"the"))
                });
                if !names_group {
                    r.each = true;
                    r.anaphor.get_or_insert_with(|| w[i..i + k].join(" "));
                    r.mark(i, k);
                }
            }
        }
        for (i, k) in words::find(Cue::Complement, &w) {
            r.complement = true;
            r.anaphor.get_or_insert_with(|| w[i..i + k].join(" "));
            r.mark(i, k);
        }
        for (i, k) in words::find(Cue::Drill, &w) {
            r.drill = true;
            r.mark(i, k);
        }
        for (i, k) in words::find(Cue::Compare, &w) {
            r.compare = true;
            r.mark(i, k);
        }
        if words::phrase_at(Cue::Correction, &w, 0).is_some()
            || words::find(Cue::Correction, &w)
                .iter()
                .any(|&(i, k)| k > 1 || w[i] == "meant")
        {
            r.correction = true;
            for (i, k) in words::find(Cue::Correction, &w) {
                if r.mention_at(i).is_none() {
                    r.mark(i, k);
                }
            }
        }
        for (i, k) in words::find(Cue::Instead, &w) {
            if w[i] != "not" {
                r.instead = true;
                r.mark(i, k);
            }
        }
        for (i, k) in words::find(Cue::Add, &w) {
            if w[i] != "and" || w.get(i + 1) == Some(&"by") {
                r.add = true;
                r.mark(i, k.min(if w[i] == "and" { 1 } else { k }));
            }
        }
        if let Some((i, k)) = words::find(Cue::Opener, &w).first().copied() {
            if i == 0 && r.mention_at(0).is_none() && !matches!(w[0], "by" | "per") {
                r.mark(i, k);
            }
        }
        // "how many of them", "count those".
        if l.windows(2).any(|p| p == ["how", "many"]) || l.first() == Some(&"count") {
            r.count = true;
            for (i, x) in l.iter().enumerate() {
                if matches!(*x, "how" | "many" | "count" | "number") {
                    r.used[i] = true;
                }
            }
        }

        // "How about more than 3?": a comparison with a number and no column of its own.
        for i in 0..n {
            if r.used[i] {
                continue;
            }
            let Some((op, k, implied)) = comparison(&l[i..]) else {
                continue;
            };
            let _ = implied;
            if let Some(TokenKind::Number(x)) = r.tokens.get(i + k).map(|t| &t.kind) {
                r.compare_number = Some((op, Some(*x)));
                r.mark(i, k + 1);
                break;
            }
            // "How about after?": the operator alone, the number stays.
            if r.tokens
                .get(i + k)
                .is_none_or(|t| t.kind == TokenKind::Punct)
            {
                r.compare_number = Some((op, None));
                r.mark(i, k);
                break;
            }
        }
        // Time: ranges read against the focus's own period ("the second half of the year").
        let reference = focus
            .time
            .as_ref()
            .and_then(|t| t.to.as_deref())
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .and_then(|d| d.pred_opt())
            .or(self.opts.reference_date);
        if let Some(t) = resolve_time(&r.tokens, reference) {
            for &i in &t.tokens {
                if let Some(u) = r.used.get_mut(i) {
                    *u = true;
                }
            }
            r.time = Some(t);
        }

        // Orderings: what follows "sort by".
        for (i, k) in words::find(Cue::Order, &w) {
            let mut j = i + k;
            while j < n && matches!(l[j], "the" | "their" | "its") {
                j += 1;
            }
            let Some(mi) = r.mentions.iter().position(|m| m.start == j) else {
                continue;
            };
            if let Some(e) = self.group_expr(&r.mentions[mi]) {
                let end = r.mentions[mi].end;
                r.mark(i, end - i);
                // Ascending unless told otherwise, as SQL and spreadsheets sort.
                let mut desc = words::has(Cue::Descending, &w);
                for (a, b) in words::find(Cue::Ascending, &w)
                    .into_iter()
                    .chain(words::find(Cue::Descending, &w))
                {
                    r.mark(a, b);
                }
                // "biggest first" is the direction, not a ranking.
                for x in end..n {
                    if let (Some(d), Some(&"first")) = (superlative(l[x]), l.get(x + 1)) {
                        desc = d;
                        r.mark(x, 2);
                    }
                }
                r.order = Some((e, desc));
            }
        }
        // Groupings: what follows "by", "per", "for each".
        for (i, k) in words::find(Cue::Regroup, &w) {
            let mut j = i + k;
            while j < n && matches!(l[j], "the" | "a" | "each" | "every") {
                j += 1;
            }
            if j >= n {
                continue;
            }
            if let Some(g) = grain_word(l[j]) {
                if let Some(col) = rules::date_column(self.idx, focus) {
                    r.add_group(Expr::TimeBucket {
                        grain: g,
                        column: col,
                    });
                    r.mark(i, j + 1 - i);
                    if let Some(t) = &mut r.time {
                        t.grain = None;
                    }
                }
                continue;
            }
            let Some(mi) = r.mentions.iter().position(|m| m.start == j) else {
                continue;
            };
            if r.used[j] {
                continue;
            }
            if let Some(e) = self.group_expr(&r.mentions[mi]) {
                r.add_group(e);
                let end = r.mentions[mi].end;
                r.mark(i, end - i);
            }
        }
        // A grain without "by" ("monthly", "show it per month" read by the time parser).
        if let Some(g) = r.time.as_ref().and_then(|t| t.grain) {
            if let Some(col) = rules::date_column(self.idx, focus) {
                r.add_group(Expr::TimeBucket {
                    grain: g,
                    column: col,
                });
            }
        }

        // Ranking: superlatives, "top 3", "bottom 5".
        for (i, &li) in l.iter().enumerate() {
            if r.used[i]
                || r.mention_at(i)
                    .is_some_and(|m| r.mentions[m].end - r.mentions[m].start > 1)
            {
                continue;
            }
            let top = words::phrase_at(Cue::Top, &w, i).map(|k| (true, k));
            let bottom = words::phrase_at(Cue::Bottom, &w, i).map(|k| (false, k));
            // "the average and maximum number": an aggregate, not a ranking.
            let sup = superlative(li)
                .filter(|_| agg_word(li).is_none())
                .map(|d| (d, 1));
            let Some((desc, k)) = top.or(bottom).or(sup) else {
                continue;
            };
            // "Order by richest first": a direction, not a ranking.
            if l.get(i + k) == Some(&"first") {
                r.sort = Some(desc);
                r.mark(i, k + 1);
                for (j, x) in l.iter().enumerate() {
                    if matches!(*x, "order" | "sort" | "ordered" | "sorted" | "by" | "rank") {
                        r.used[j] = true;
                    }
                }
                break;
            }
            let number = |j: usize| match r.tokens.get(j).map(|t| &t.kind) {
                Some(TokenKind::Number(x)) if *x >= 1.0 && x.fract() == 0.0 => Some(*x as u64),
                _ => None,
            };
            let after = number(i + k);
            let before = i.checked_sub(1).and_then(number);
            r.rank = Some((desc, after.or(before)));
            r.mark(i, k);
            if after.is_some() {
                r.used[i + k] = true;
            } else if before.is_some() {
                r.used[i - 1] = true;
            }
            break;
        }
        // "the average instead".
        for (i, &li) in l.iter().enumerate() {
            if r.used[i] {
                continue;
            }
            if let Some(f) = agg_word(li) {
                if li == "average" && r.compare {
                    r.versus_average = true;
                } else {
                    r.agg.get_or_insert(f);
                    r.aggs.push(f);
                }
                r.used[i] = true;
            }
        }
        for (i, k) in words::find(Cue::Distinct, &w) {
            r.distinct = true;
            r.mark(i, k);
        }
        // "limit it to one", "just the first 5".
        if let Some((i, k)) = words::find(Cue::Limit, &w).first().copied() {
            let mut j = i + k;
            while j < n && matches!(w[j], "it" | "them" | "that" | "those" | "to" | "the") {
                j += 1;
            }
            if let Some(TokenKind::Number(x)) = r.tokens.get(j).map(|t| &t.kind) {
                if *x >= 1.0 && x.fract() == 0.0 && !r.used[j] {
                    r.limit = Some(*x as u64);
                    r.mark(i, j + 1 - i);
                }
            }
        }
        // "in decreasing order", "sort them descending".
        if l.iter()
            .any(|x| matches!(*x, "sort" | "order" | "sorted" | "ordered"))
        {
            for (i, x) in l.iter().enumerate() {
                let d = match *x {
                    "decreasing" | "descending" | "desc" => Some(true),
                    "increasing" | "ascending" | "asc" | "alphabetical" | "alphabetically" => {
                        Some(false)
                    }
                    _ => None,
                };
                if let Some(d) = d {
                    r.sort = Some(d);
                    r.used[i] = true;
                }
            }
            if r.sort.is_some() {
                for (i, x) in l.iter().enumerate() {
                    if matches!(*x, "sort" | "order" | "sorted" | "ordered") {
                        r.used[i] = true;
                    }
                }
            }
        }

        // What the mentions name.
        for mi in 0..r.mentions.len() {
            let m = r.mentions[mi].clone();
            if (m.start..m.end).all(|i| r.used[i]) {
                continue;
            }
            let negated = (m.start.saturating_sub(3)..m.start)
                .any(|i| words::phrase_at(Cue::Negation, &w, i).is_some());
            if m.is_value() && !m.values.is_empty() {
                // Prefer a value of a column the focus already uses.
                let v = m
                    .values
                    .iter()
                    .enumerate()
                    .max_by_key(|(k, v)| {
                        (
                            self.value_fit(focus, v.table, v.column),
                            std::cmp::Reverse(*k),
                        )
                    })
                    .map(|(_, v)| v)
                    .cloned();
                let explicit_element = m.best_element().is_some_and(|e| {
                    m.elements.first().is_some_and(|x| x.1 >= 1.0) && !matches!(e, Element::Term(_))
                });
                if let (Some(v), false) = (v, explicit_element && m.values.len() > 1) {
                    r.values.push(ValueRef {
                        column: self.column_ref(v.table, v.column),
                        value: v.value.clone(),
                        negated,
                    });
                    r.mark(m.start, m.end - m.start);
                    if negated {
                        for i in m.start.saturating_sub(3)..m.start {
                            if let Some(k) = words::phrase_at(Cue::Negation, &w, i) {
                                r.mark(i, k);
                            }
                        }
                    }
                    continue;
                }
            }
            // "the ones with 4 cylinders", "age 32": a number naming a numeric column's value.
            if let Some(Element::Column(t, c)) = m.best_element() {
                let before = m.start.checked_sub(1).filter(|&b| !r.used[b]);
                let after = Some(m.end).filter(|&a| a < n && !r.used[a]);
                for (at, from, len) in [
                    (before, m.start.saturating_sub(1), m.end - m.start + 1),
                    (after, m.start, m.end - m.start + 1),
                ] {
                    let Some(at) = at else { continue };
                    if let TokenKind::Number(x) = r.tokens[at].kind {
                        if self.is_measure_column(t, c) {
                            r.values.push(ValueRef {
                                column: self.column_ref(t, c),
                                value: x.to_string(),
                                negated,
                            });
                            r.mark(from, len);
                            break;
                        }
                    }
                }
                if (m.start..m.end).all(|i| r.used[i]) {
                    continue;
                }
            }
            // Quoted text no column holds: a value of the focus's condition ("same for 'X'").
            if let (Some(q), true) = (&m.quoted, m.values.is_empty()) {
                r.quoted.push(q.clone());
                r.mark(m.start, m.end - m.start);
                continue;
            }
            match m.best_element() {
                Some(Element::Term(ti)) => {
                    if matches!(self.idx.term(ti), cbi_types::TermTarget::Measure(_)) {
                        r.measure.get_or_insert((m.start, m.end));
                        r.mark(m.start, m.end - m.start);
                    }
                }
                Some(Element::Table(t)) => {
                    r.tables.push(t);
                    r.mark(m.start, m.end - m.start);
                }
                Some(Element::Column(t, c)) => {
                    if m.has_table() {
                        if let Some(t) = m.tables().next() {
                            r.tables.push(t);
                            r.mark(m.start, m.end - m.start);
                            continue;
                        }
                    }
                    if self.is_measure_column(t, c) {
                        r.measure.get_or_insert((m.start, m.end));
                    } else {
                        r.columns.push(self.column_ref(t, c));
                    }
                    r.mark(m.start, m.end - m.start);
                }
                None => {}
            }
        }
        // "Which region had the highest?" after revenue by region: it names only what the
        // answer in focus already shows.
        let named: Vec<ColumnRef> = r
            .mentions
            .iter()
            .filter(|m| !m.is_value())
            .filter_map(|m| match m.best_element() {
                Some(Element::Column(t, c)) => Some(self.column_ref(t, c)),
                Some(Element::Table(t)) => {
                    let c = self.idx.tables[t].display.or(self.idx.tables[t].pk)?;
                    Some(self.column_ref(t, c))
                }
                _ => None,
            })
            .collect();
        r.within_focus =
            !named.is_empty() && r.measure.is_none() && named.iter().all(|c| focus_shows(focus, c));
        r
    }

    fn column_ref(&self, t: usize, c: usize) -> ColumnRef {
        ColumnRef {
            table: self.idx.table(t).name.clone(),
            column: self.idx.column_name(t, c).to_string(),
        }
    }

    /// How well a column holding a follow-up's value fits the focus: one the focus filters on
    /// (a value swapped: "what about the East?") best, then one of the tables it reads that it
    /// does not break down by ("only online" beside a breakdown by store type), then a
    /// breakdown's own column, then any other.
    fn value_fit(&self, focus: &Focus, t: usize, c: usize) -> u8 {
        let col = self.column_ref(t, c);
        let Some(q) = &focus.query else {
            return 0;
        };
        let mut filtered = false;
        for f in &q.filters {
            crate::tracker::cond_columns(f, &mut |x| filtered |= *x == col);
        }
        if filtered {
            return 3;
        }
        let grouped = q
            .group_by
            .iter()
            .any(|g| matches!(g, Expr::Column(x) | Expr::Folded(x) if *x == col));
        let named: Vec<usize> = focus
            .tables
            .iter()
            .filter_map(|x| self.idx.aug.schema.table_index(x))
            .collect();
        let read = self
            .idx
            .graph
            .connect(&named)
            .map_or(named, |tree| tree.tables);
        match (read.contains(&t), grouped) {
            (true, false) => 2,
            (_, true) => 1,
            _ => 0,
        }
    }

    /// A column holding numbers, keys included.
    pub fn is_numeric_column(&self, t: usize, c: usize) -> bool {
        matches!(
            self.idx.tables[t].column_class.get(c),
            Some(
                cbi_types::TypeClass::Integer
                    | cbi_types::TypeClass::Decimal
                    | cbi_types::TypeClass::Float
            )
        )
    }

    /// A numeric column that is not a key: something to add up or average.
    pub fn is_measure_column(&self, t: usize, c: usize) -> bool {
        let info = &self.idx.tables[t];
        let numeric = matches!(
            info.column_class.get(c),
            Some(
                cbi_types::TypeClass::Integer
                    | cbi_types::TypeClass::Decimal
                    | cbi_types::TypeClass::Float
            )
        );
        let col = &self.idx.table(t).columns[c];
        let key = info.pk == Some(c)
            || col.name.to_ascii_lowercase().ends_with("_id")
            || col.name.eq_ignore_ascii_case("id");
        numeric && !key && !info.temporal.contains(&c)
    }

    /// What "by <mention>" groups by: a column, or a table's label column.
    fn group_expr(&self, m: &Mention) -> Option<Expr> {
        match m.best_element()? {
            Element::Column(t, c) => Some(Expr::Column(self.column_ref(t, c))),
            Element::Table(t) => {
                let c = self.idx.tables[t].display.or(self.idx.tables[t].pk)?;
                Some(Expr::Column(self.column_ref(t, c)))
            }
            Element::Term(_) => None,
        }
    }

    /// Plans words of the follow-up over the focus's tables (the planner's own reading, for
    /// a measure or a table's rows).
    pub fn plan_over(&self, text: &str, focus: &Focus) -> Option<cbi_nl2sql::Plan> {
        let opts = PlanOptions {
            reference_date: self.opts.reference_date,
            choices: Vec::new(),
            scope: focus.tables.clone(),
        };
        plan(text, self.idx, &opts).ok()
    }
}

/// Whether the answer in focus shows or groups by `col`.
fn focus_shows(focus: &Focus, col: &ColumnRef) -> bool {
    let Some(q) = &focus.query else {
        return false;
    };
    q.select
        .iter()
        .map(|s| &s.expr)
        .chain(&q.group_by)
        .any(|e| matches!(e, Expr::Column(c) | Expr::Folded(c) if c == col))
}

/// What to say when a reference cannot be read.
fn unclear(phrase: &str, focus: &Focus) -> Unclear {
    Unclear {
        phrase: phrase.to_string(),
        message: format!(
            "I couldn't tell what \"{phrase}\" refers to — did you mean the previous answer (\"{}\")? Please ask it as a full question, or rephrase the follow-up (for example \"which had the highest?\", \"by month\", \"only 2024\").",
            focus.question
        ),
    }
}
