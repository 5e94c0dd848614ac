//! Percentages: "what percent of December shipments used express service?" (the share of rows
//! meeting a condition) and "what percent of 2025 spend went to each carrier mode?" (each
//! group's share of a total).

use cbi_types::TypeClass;

use super::*;
use crate::lexicon::{is_share_verb, is_share_word};

impl Planner<'_> {
    /// After the other passes read the filters and the grouping: with a word of shares
    /// ("percent", "fraction", "share"), the conditions named after the rows' verb ("… were
    /// involuntary", "… used express service") are the part counted, the others (and any time
    /// scope) the whole; with no such condition and a grouping, each group's share of the
    /// total of what was measured (rows when nothing was).
    pub(super) fn shares(&mut self) {
        let Some(at) = (0..self.toks.len()).find(|&i| is_share_word(self.lemma(i))) else {
            return;
        };
        if self.compound.is_some() || self.subject.is_none() {
            return;
        }
        // The verb after the share word splits the whole ("of 2024 shipments") from the part.
        let verb = (at + 1..self.toks.len()).find(|&i| is_share_verb(self.lemma(i)));
        let (mut part, mut whole): (Vec<Condition>, Vec<Condition>) = (Vec::new(), Vec::new());
        for f in std::mem::take(&mut self.filters) {
            match (verb, self.condition_start(&f)) {
                (Some(v), Some(start)) if start > v && !self.is_time_condition(&f) => part.push(f),
                _ => whole.push(f),
            }
        }
        if part.is_empty()
            && let Some(v) = verb
            && let Some((mi, flag)) = self.flag_after(v)
        {
            self.used[mi] = true;
            part.push(flag);
        }
        if part.len() > 1 {
            // Several conditions make the part ("express and fragile"): not a shape read here.
            whole.append(&mut part);
            self.filters = whole;
            return;
        }
        self.filters = whole;
        let expr = if let Some(cond) = part.pop() {
            Expr::Share {
                part: Box::new(cond),
            }
        } else if !self.group.is_empty() {
            let measure = self
                .select
                .iter()
                .find(|s| s.expr.is_aggregate())
                .map(|s| s.expr.clone())
                .or_else(|| self.measure_shown())
                .unwrap_or(Expr::CountStar);
            Expr::ShareOfTotal {
                measure: Box::new(measure),
            }
        } else {
            return;
        };
        self.cue[at] = true;
        if let Some(v) = verb {
            self.cue[v] = true;
        }
        self.select = self
            .group
            .iter()
            .map(|g| SelectItem {
                expr: g.clone(),
                alias: None,
            })
            .collect();
        self.select.push(SelectItem {
            expr,
            alias: Some("pct".to_string()),
        });
        self.order.clear();
        self.limit = None;
        self.having.clear();
        self.distinct = false;
    }

    /// A numeric measure column shown as is ("freight spend" before "went to each mode"): the
    /// thing whose total is shared out, as a sum.
    fn measure_shown(&self) -> Option<Expr> {
        self.select.iter().find_map(|s| {
            let (t, c) = self.column_of(&s.expr)?;
            (self.is_measure_column(t, c) && !self.group.contains(&s.expr))
                .then(|| Expr::agg(AggFunc::Sum, s.expr.clone()))
        })
    }

    /// "For each region, how many subscriptions are active and how many cancelled?", "per
    /// warehouse, count delivered, cancelled and returned shipments", "won versus lost":
    /// several values of one column asked for side by side in a breakdown are one column of
    /// counts each (sums when a measure is asked for), in the order the question names them —
    /// not conditions no row can meet together.
    pub(super) fn split_by_values(&mut self) {
        // Something is counted or measured per group ("how many", "count", a sum).
        let measured = self.count.is_some()
            || self.select.iter().any(|s| s.expr.is_aggregate())
            || ["count", "number", "total"]
                .iter()
                .any(|w| self.has_word(w));
        if self.group.is_empty() || self.compound.is_some() || !measured {
            return;
        }
        // The value conditions of each column, an OR of one column's values counting as many;
        // `filters_on` counts the separate (AND-ed) filters on the column: one OR alone ("a
        // cat or a dog") is a filter, two conditions no row meets together are a comparison.
        let mut by_column: Vec<(Expr, Vec<Condition>)> = Vec::new();
        let mut filters_on: Vec<(Expr, usize)> = Vec::new();
        for f in &self.filters {
            let parts: Vec<&Condition> = match f {
                Condition::Or(cs) => cs.iter().collect(),
                c => vec![c],
            };
            for (k, p) in parts.into_iter().enumerate() {
                let col = match p {
                    Condition::Compare {
                        left,
                        op: CmpOp::Eq | CmpOp::NotEq,
                        right: Operand::Literal(Literal::Text(_) | Literal::Int(_)),
                    } => left.clone(),
                    Condition::IsNull { expr, .. } => expr.clone(),
                    _ => continue,
                };
                match by_column.iter_mut().find(|(c, _)| *c == col) {
                    Some((_, cs)) => cs.push(p.clone()),
                    None => by_column.push((col.clone(), vec![p.clone()])),
                }
                // A filter counts once, through its first part.
                if k == 0 {
                    match filters_on.iter_mut().find(|(c, _)| *c == col) {
                        Some((_, n)) => *n += 1,
                        None => filters_on.push((col, 1)),
                    }
                }
            }
        }
        let anded = |c: &Expr| filters_on.iter().any(|(x, n)| x == c && *n >= 2);
        let Some((col, mut parts)) = by_column
            .into_iter()
            .find(|(c, cs)| cs.len() >= 2 && anded(c) && !self.group.contains(c))
        else {
            return;
        };
        // Every filter on that column goes; the rest stay.
        self.filters.retain(|f| {
            let mut on = Vec::new();
            match f {
                Condition::Or(cs) => on.extend(cs.iter()),
                c => on.push(c),
            }
            !on.iter().any(|p| match p {
                Condition::Compare { left, .. } => *left == col,
                Condition::IsNull { expr, .. } => *expr == col,
                _ => false,
            })
        });
        parts.sort_by_key(|p| self.condition_start(p).unwrap_or(usize::MAX));
        let measure = self.select.iter().find_map(|s| match &s.expr {
            Expr::Agg {
                func: AggFunc::Sum,
                arg,
                distinct: false,
            } => Some(arg.clone()),
            _ => None,
        });
        self.select.retain(|s| !s.expr.is_aggregate());
        for p in parts {
            self.select.push(SelectItem {
                expr: Expr::CountIf {
                    cond: Box::new(p),
                    measure: measure.clone(),
                },
                alias: None,
            });
        }
        self.order.retain(|o| !o.expr.is_aggregate());
        self.having.clear();
    }

    /// Where in the question the words behind a condition start: the mention holding its value
    /// (or naming its column, for a flag or a missing value).
    fn condition_start(&self, c: &Condition) -> Option<usize> {
        match c {
            Condition::Or(cs) => cs.iter().filter_map(|c| self.condition_start(c)).min(),
            Condition::Compare { left, right, .. } => {
                let col = self.column_of(left)?;
                let value = match right {
                    Operand::Literal(Literal::Text(v)) => Some(v.as_str()),
                    _ => None,
                };
                self.mention_of(col, value)
            }
            Condition::InList { expr, .. }
            | Condition::Like { expr, .. }
            | Condition::IsNull { expr, .. } => self.mention_of(self.column_of(expr)?, None),
            _ => None,
        }
    }

    /// The first used mention holding `value` in column `col` (any value when `None`), or
    /// naming the column.
    fn mention_of(&self, col: (usize, usize), value: Option<&str>) -> Option<usize> {
        self.ments
            .iter()
            .enumerate()
            .filter(|(mi, _)| self.used[*mi])
            .find(|(_, m)| {
                let holds = m.values.iter().any(|v| {
                    (v.table, v.column) == col
                        && value.is_none_or(|x| v.value.eq_ignore_ascii_case(x))
                });
                holds || m.best_element() == Some(Element::Column(col.0, col.1))
            })
            .map(|(_, m)| m.start)
    }

    /// A condition on a date ("in 2024"): the scope of the whole, never the part.
    fn is_time_condition(&self, c: &Condition) -> bool {
        let temporal = |e: &Expr| {
            self.column_of(e).is_some_and(|(t, c)| {
                self.idx.tables[t].temporal.contains(&c)
                    || matches!(
                        self.idx.tables[t].column_class[c],
                        TypeClass::Date | TypeClass::Timestamp
                    )
            })
        };
        match c {
            Condition::Compare { left, .. } => temporal(left),
            Condition::Between { expr, .. } => temporal(expr),
            Condition::Or(cs) => cs.iter().any(|c| self.is_time_condition(c)),
            _ => false,
        }
    }
}
