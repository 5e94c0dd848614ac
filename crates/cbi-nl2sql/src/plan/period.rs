//! Periods ranked by a measure: "which month of 2024 had the highest invoiced total?", "on
//! which day were the most shipments created?".

use super::*;
use crate::lexicon::superlative;

/// The calendar period a word names.
fn grain_of(w: &str) -> Option<TimeGrain> {
    Some(match w {
        "day" | "date" => TimeGrain::Day,
        "week" => TimeGrain::Week,
        "month" => TimeGrain::Month,
        "quarter" => TimeGrain::Quarter,
        "year" => TimeGrain::Year,
        _ => return None,
    })
}

impl Planner<'_> {
    /// "Which/what <period> … most/highest/lowest …", where the period is no column of the
    /// schema: the rows grouped by that period of their date (the one a time scope used, else
    /// the rows' own moment), ranked by the measure — the sum of a measure column named, else
    /// the aggregate already read, else the count of rows — best first, with the measure shown.
    pub(super) fn rank_periods(&mut self) {
        if self.time_grain.is_some() || self.compound.is_some() {
            return;
        }
        let Some((at, grain)) = (1..self.toks.len()).find_map(|i| {
            let asks = matches!(self.lemma(i - 1), "which" | "what");
            let named_column = self
                .mention_at(i)
                .is_some_and(|m| self.ments[m].has_column() || self.ments[m].has_table());
            (asks && !named_column)
                .then(|| grain_of(self.lemma(i)).map(|g| (i, g)))
                .flatten()
        }) else {
            return;
        };
        let Some(desc) = self.toks.iter().find_map(|t| superlative(&t.lemma)) else {
            return;
        };
        let scoped = self.filters.iter().find_map(|f| match f {
            Condition::Compare {
                left,
                right: Operand::Literal(Literal::Date(_)),
                ..
            } => self.column_of(left),
            _ => None,
        });
        let Some((t, c)) = scoped.or_else(|| self.date_column()) else {
            return;
        };
        // One measure column shown is what is summed; among several (every column of a table
        // listed), the money of the subject when the question speaks of money ("spend").
        let shown: Vec<Expr> = self
            .select
            .iter()
            .filter(|s| {
                self.column_of(&s.expr)
                    .is_some_and(|(mt, mc)| self.is_measure_column(mt, mc))
            })
            .map(|s| s.expr.clone())
            .collect();
        let money_asked = self
            .toks
            .iter()
            .any(|tok| MONEY_WORDS.contains(&tok.lemma.as_str()));
        let shown_measure = match shown.as_slice() {
            [one] => Some(Expr::agg(AggFunc::Sum, one.clone())),
            _ => self.subject.filter(|_| money_asked).and_then(|s| {
                Some(Expr::agg(
                    AggFunc::Sum,
                    self.col_expr(s, self.money_column(s)?),
                ))
            }),
        };
        let measure = shown_measure
            .or_else(|| {
                self.select
                    .iter()
                    .map(|s| &s.expr)
                    .chain(self.order.iter().map(|o| &o.expr))
                    .find(|e| e.is_aggregate())
                    .cloned()
            })
            .unwrap_or(Expr::CountStar);
        let column = ColumnRef {
            table: self.table_name(t),
            column: self.idx.column_name(t, c).to_string(),
        };
        let bucket = Expr::TimeBucket { grain, column };
        self.cue[at] = true;
        self.time_grain = Some(grain);
        if !self.tables.contains(&t) && self.subject != Some(t) {
            self.tables.push(t);
        }
        self.select = vec![
            SelectItem {
                expr: bucket.clone(),
                alias: Some(grain.word().to_string()),
            },
            SelectItem {
                expr: measure.clone(),
                alias: None,
            },
        ];
        self.group = vec![bucket.clone()];
        // Ties go to the earliest period, so the answer does not depend on the database's mood.
        self.order = vec![
            OrderItem {
                expr: measure,
                desc,
            },
            OrderItem {
                expr: bucket,
                desc: false,
            },
        ];
        self.limit = Some(self.limit.unwrap_or(1));
        self.distinct = false;
    }
}
