//! Time expressions: the date column they apply to and the range or grain they ask for.

use super::*;

impl Planner<'_> {
    pub(super) fn pass_time(&mut self) {
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
        if let (Some(range), Some(today)) = (&range, reference) {
            self.note_relative_date(&tokens, range, today, t, c);
        }
        for &i in &tokens {
            self.cue[i] = true;
        }
        // A mention inside the time expression ("2024-11-25", a stored date) is part of it.
        for (mi, m) in self.ments.iter().enumerate() {
            if m.is_value() && (m.start..m.end).all(|k| tokens.contains(&k)) {
                self.used[mi] = true;
            }
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

    /// A range that moves with "today" ("last year", "this month") is said in the explanation:
    /// which dates it became, and the day it counted from.
    fn note_relative_date(
        &mut self,
        tokens: &[usize],
        range: &(String, String),
        today: chrono::NaiveDate,
        t: usize,
        c: usize,
    ) {
        // Relative when another "today" gives another range.
        let elsewhere = today.checked_sub_days(chrono::Days::new(800));
        let moved = resolve_time(self.toks, elsewhere).and_then(|f| f.range);
        if moved.as_ref() == Some(range) {
            return;
        }
        let mut idx: Vec<usize> = tokens.to_vec();
        idx.sort_unstable();
        let phrase: Vec<&str> = idx
            .iter()
            .filter_map(|&i| self.toks.get(i))
            .map(|tok| tok.text.as_str())
            .collect();
        let from = if self.opts.reference_date.is_some() {
            "the reference date given".to_string()
        } else {
            let column = self
                .idx
                .aug
                .schema
                .tables
                .get(t)
                .and_then(|tab| tab.columns.get(c))
                .map(|col| cbi_schema::names::readable_name(&col.name))
                .unwrap_or_else(|| "date".into());
            format!("the latest {column} in the data")
        };
        self.notes.push(format!(
            "\"{}\" is read as {}, counting from {today}, {from}.",
            phrase.join(" "),
            describe_range(range)
        ));
    }

    pub(super) fn latest_date(&self, t: usize, c: usize) -> Option<chrono::NaiveDate> {
        let p = self.idx.aug.tables.get(t)?.columns.get(c)?;
        let max = p.max.as_ref()?;
        chrono::NaiveDate::parse_from_str(max.get(..10)?, "%Y-%m-%d").ok()
    }

    /// The date column a time expression applies to.
    pub(super) fn date_column(&mut self) -> Option<(usize, usize)> {
        // A mentioned temporal column wins.
        for mi in 0..self.ments.len() {
            // "total spend": summed, so a measure, whatever date column shares the word.
            if self
                .agg_before(self.ments[mi].start)
                .is_some_and(|(f, _)| matches!(f, AggFunc::Sum | AggFunc::Avg))
            {
                continue;
            }
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
        if let Some(hit) = self.date_in_or_near(&measures, None) {
            return Some(hit);
        }
        // "accounts that made the most API calls in May": the rows that point at the subject
        // (usage events of an account) are the events a time scope dates, not the subject's
        // own signup date.
        if let Some(s) = self.subject {
            let facts = self.fact_tables(s);
            if let Some(hit) = self.date_in_or_near(&facts, Some(s)) {
                return Some(hit);
            }
        }
        self.date_in_or_near(&others, None)
    }

    /// Tables in play (named, or holding a named value or column) that point at the subject:
    /// its events.
    fn fact_tables(&self, subject: usize) -> Vec<usize> {
        let mut out = Vec::new();
        for m in self.ments {
            let named = m
                .tables()
                .chain(m.columns().map(|(t, _, _)| t))
                .chain(m.values.iter().map(|v| v.table));
            for t in named {
                let points_at_subject = self
                    .idx
                    .graph
                    .edges
                    .iter()
                    .any(|e| e.a == t && e.b == subject);
                if t != subject && points_at_subject && !out.contains(&t) {
                    out.push(t);
                }
            }
        }
        out
    }

    /// The first temporal column of these tables, else of a table they point to (order_items
    /// → orders.order_date), else of one pointing at them.
    /// `skip`: a table whose dates are not wanted among the neighbours (the subject, when
    /// these are its events).
    pub(super) fn date_in_or_near(
        &self,
        tables: &[usize],
        skip: Option<usize>,
    ) -> Option<(usize, usize)> {
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
                if Some(other) == skip {
                    continue;
                }
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
}

/// `[2023-01-01, 2024-01-01)` → "2023"; `[2024-12-01, 2025-01-01)` → "2024-12"; otherwise
/// "2024-10-01 to 2024-12-31".
fn describe_range((lo, hi): &(String, String)) -> String {
    use chrono::{Datelike, NaiveDate};
    let parse = |s: &str| NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d").ok();
    let (Some(a), Some(b)) = (parse(lo), parse(hi)) else {
        return format!("{lo} up to {hi}");
    };
    if a.day() == 1
        && a.month() == 1
        && b == NaiveDate::from_ymd_opt(a.year() + 1, 1, 1).unwrap_or(b)
    {
        return a.year().to_string();
    }
    let next_month = if a.month() == 12 {
        NaiveDate::from_ymd_opt(a.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(a.year(), a.month() + 1, 1)
    };
    if a.day() == 1 && Some(b) == next_month {
        return format!("{}-{:02}", a.year(), a.month());
    }
    let last = b.pred_opt().unwrap_or(b);
    format!("{a} to {last}")
}

#[cfg(test)]
mod range_tests {
    use super::describe_range;

    #[test]
    fn ranges_read_as_years_months_or_days() {
        for (lo, hi, said) in [
            ("2023-01-01", "2024-01-01", "2023"),
            ("2024-12-01", "2025-01-01", "2024-12"),
            ("2024-02-01", "2024-03-01", "2024-02"),
            ("2024-10-01", "2025-01-01", "2024-10-01 to 2024-12-31"),
            ("2024-12-02", "2025-01-01", "2024-12-02 to 2024-12-31"),
            ("bad", "2025-01-01", "bad up to 2025-01-01"),
        ] {
            assert_eq!(describe_range(&(lo.into(), hi.into())), said);
        }
    }
}
