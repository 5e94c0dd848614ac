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

mod confidence;
mod filters;
mod flags;
mod period;
mod resolve;
mod select;
mod shape;
mod share;
mod subject;
#[cfg(test)]
mod tests;
mod when;

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
    /// What the person should be told about how the question was read (a relative date and
    /// the day it counts from), in plain words.
    pub notes: Vec<String>,
}

/// Knobs of the planner.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// The date "today" is for "last quarter" and friends (ISO). Defaults to the latest date in
    /// the data.
    pub reference_date: Option<chrono::NaiveDate>,
    /// Choices made in answer to earlier clarifying questions: phrase → element.
    pub choices: Vec<(String, Element)>,
    /// Tables the conversation is about (the previous answer's, its subject first). A
    /// follow-up that names no table of its own ("what are their names?") is read over them.
    pub scope: Vec<String>,
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
    notes: Vec<String>,
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
            notes: Vec::new(),
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

    /// "How many returns had a refund over 100?": a condition on `SUM(x)` per row of the one
    /// table read, grouped by that table's key, is a condition on each row's `x`. Moves such
    /// HAVING conditions to WHERE, and drops the grouping when nothing else needs it.
    fn per_row_having(&mut self, group_tables: &[String]) {
        let [gt] = group_tables else {
            return;
        };
        let Some(t) = self.idx.aug.schema.table_index(gt) else {
            return;
        };
        if self.having.is_empty() || self.tables.iter().any(|&u| u != t) {
            return;
        }
        let info = &self.idx.tables[t];
        let Some(pk) = info.pk else {
            return;
        };
        if self.group != [self.col_expr(t, pk)] {
            return;
        }
        let row_value = |e: &Expr| match e {
            Expr::Agg {
                func: AggFunc::Sum | AggFunc::Avg | AggFunc::Min | AggFunc::Max,
                arg,
                distinct: false,
            } if matches!(arg.as_ref(), Expr::Column(c) if c.table.eq_ignore_ascii_case(gt)) => {
                Some(arg.as_ref().clone())
            }
            // A business measure defined as `SUM(x)` over this table.
            Expr::Raw { tables, label, .. }
                if tables.len() == 1 && tables[0].eq_ignore_ascii_case(gt) =>
            {
                select::sum_argument(e).map(|x| Expr::Raw {
                    sql: x.to_string(),
                    tables: tables.clone(),
                    label: label.clone(),
                })
            }
            _ => None,
        };
        let movable = self.having.iter().all(|h| match h {
            Condition::Compare { left, right, .. } => {
                row_value(left).is_some() && matches!(right, Operand::Literal(_))
            }
            Condition::Between { expr, .. } => row_value(expr).is_some(),
            _ => false,
        });
        if !movable {
            return;
        }
        for h in std::mem::take(&mut self.having) {
            self.filters.push(match h {
                Condition::Compare { left, op, right } => Condition::Compare {
                    left: row_value(&left).unwrap_or(left),
                    op,
                    right,
                },
                Condition::Between { expr, low, high } => Condition::Between {
                    expr: row_value(&expr).unwrap_or(expr),
                    low,
                    high,
                },
                other => other,
            });
        }
        // Only totals asked for ("how many"): they are over all the rows that pass.
        if self.select.iter().all(|s| s.expr.is_aggregate()) {
            self.group.clear();
        }
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
                    // "with their hire dates": more to show, not a condition.
                    && !(self.lemma(i) == "with" && matches!(self.lemma(i + 1), "their" | "its"))
            })
            .unwrap_or(self.toks.len())
    }

    // ----- column resolution -----------------------------------------------------------------

    fn span_text(&self, start: usize, end: usize) -> String {
        self.toks[start..end]
            .iter()
            .map(|t| t.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

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
        self.flag_adjectives();
        self.events_that_happened();
        self.missing_values();
        self.pass_order();
        self.pass_group();
        self.pass_superlatives();
        self.pass_comparisons();
        self.pass_values();
        self.pass_agg_lists();
        self.pass_aggregates();
        self.pass_select();
        self.label_before_with_their();
        self.pass_tables();
        self.current_rows();
        self.shares();
        self.split_by_values();
        self.pass_unexplained();
        self.how_much_is_money();
        self.total_measures_by_group();
        self.count_grouped_rows();
        self.rank_subject_by_measure();
        self.rank_values_by_measure();
        self.order_top_n_by_measure();
        self.show_ranked_measure();
        self.contradictory_filters();
        self.answer_repeats_question();
        self.rank_periods();
        Ok(())
    }

    fn finish(mut self) -> Result<Plan> {
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
            self.per_row_having(&group_tables);
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
        self.group_shown_columns();
        self.sense_checks();
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
            notes: self.notes,
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
            | "current"
            | "now"
            | "today"
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
