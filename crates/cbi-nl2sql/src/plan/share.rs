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
