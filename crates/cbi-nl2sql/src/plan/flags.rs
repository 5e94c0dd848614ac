//! Rules for columns that say yes or no about a row: flags (`is_public`, `is_test`,
//! `fragile_yn`) and the dates of events that may not have happened yet (`closed_dt`).

use cbi_types::{SqlDialect, TypeClass};

use super::Planner;
use crate::index::Element;
use crate::query::{CmpOp, Condition, Expr, Literal, Operand};

/// Words that, right before an event's word, say the event happened ("have closed", "were
/// delivered").
const HAPPENED_WORDS: &[&str] = &["have", "has", "be", "been", "already"];
/// Words that, right before a column's name, say the row has no value there ("no sales
/// owner", "without a manager").
const NONE_WORDS: &[&str] = &["no", "without"];
/// Words between such a word and the column's name.
const ARTICLES: &[&str] = &["a", "an", "any", "the"];
/// Verbs of having, after a negation ("doesn't have a manager").
const HAVE_WORDS: &[&str] = &["have", "has", "had"];
/// Words that ask for the rows still in force ("current employees", "still open").
const CURRENT_WORDS: &[&str] = &["current", "currently", "still"];
/// Words of a date column that ends a row's life: set once it is over (`TerminationDate`,
/// `cancelled_at`, `exc_resolved_at`, `wh_closed_dt`).
const END_WORDS: &[&str] = &[
    "end",
    "ended",
    "termination",
    "terminated",
    "left",
    "leave",
    "close",
    "closed",
    "resolve",
    "resolved",
    "cancel",
    "cancelled",
    "canceled",
    "cancellation",
    "churn",
    "churned",
    "exit",
    "departure",
    "expire",
    "expired",
    "deleted",
];

impl Planner<'_> {
    /// The literals a yes/no flag holds for yes and for no, when column `c` of table `t` is
    /// one: a boolean, or a number or text under a flag's name (`is_test`, `fragile_yn`) — text
    /// only when its values are a yes/no pair.
    fn flag_literals(&self, t: usize, c: usize) -> Option<(Literal, Literal)> {
        let info = &self.idx.tables[t];
        let named = crate::lexicon::is_flag_name(&info.column_words[c]);
        match info.column_class[c] {
            TypeClass::Boolean if self.idx.aug.schema.dialect == SqlDialect::PostgreSql => {
                Some((Literal::Text("true".into()), Literal::Text("false".into())))
            }
            TypeClass::Boolean => Some((Literal::Int(1), Literal::Int(0))),
            TypeClass::Integer if named => Some((Literal::Int(1), Literal::Int(0))),
            TypeClass::Text if named => {
                let profile = self.idx.aug.tables.get(t)?.columns.get(c)?;
                let values: Vec<&str> = profile.samples.iter().map(String::as_str).collect();
                let (yes, no) = crate::draft::yes_no(&values)?;
                Some((Literal::Text(yes), Literal::Text(no)))
            }
            _ => None,
        }
    }

    /// "public plans", "internal test accounts", "non-fragile parcels": a flag's word right
    /// before a table's name is a filter on the flag (true, or false when negated), not a
    /// column to show or group by.
    pub(super) fn flag_adjectives(&mut self) {
        for mi in 0..self.ments.len() {
            if self.used[mi] || self.ments[mi].is_value() {
                continue;
            }
            let Some(Element::Column(t, c)) = self.ments[mi].best_element() else {
                continue;
            };
            let Some((yes, no)) = self.flag_literals(t, c) else {
                continue;
            };
            let end = self.ments[mi].end;
            let before_table = self
                .mention_after(end, &[])
                .is_some_and(|n| self.ments[n].tables().any(|nt| nt == t));
            if !before_table {
                continue;
            }
            let start = self.ments[mi].start;
            let negated = start > 0 && matches!(self.lemma(start - 1), "non" | "not" | "un");
            let yes = if negated { no } else { yes };
            self.used[mi] = true;
            self.filters.push(Condition::Compare {
                left: self.col_expr(t, c),
                op: CmpOp::Eq,
                right: Operand::Literal(yes),
            });
            if !self.tables.contains(&t) && self.subject != Some(t) {
                self.tables.push(t);
            }
        }
    }

    /// "Which warehouses have closed?": the date of an event, named by its verb after "have"
    /// or "were", with no time to scope it, asks whether the event happened (the date is
    /// set), not for the date.
    pub(super) fn events_that_happened(&mut self) {
        for mi in 0..self.ments.len() {
            let m = &self.ments[mi];
            if self.used[mi] || m.is_value() || m.end - m.start != 1 || m.start == 0 {
                continue;
            }
            let tok = &self.toks[m.start];
            // The event ends the clause: "have closed?", not "have shipped from SIN1".
            let after = if self.lemma(m.end) == "yet" {
                m.end + 1
            } else {
                m.end
            };
            let last = self
                .toks
                .get(after)
                .is_none_or(|t| t.kind == crate::text::TokenKind::Punct);
            if !tok.norm.ends_with("ed") || !last {
                continue;
            }
            // Back over "have", "been", "not" ("haven't been shipped"): at least one word
            // of having happened.
            let mut k = m.start;
            let mut negated = false;
            let mut happened = false;
            while k > 0 && m.start - k < 4 {
                let w = self.lemma(k - 1);
                if w == "not" || w == "never" {
                    negated = true;
                } else if HAPPENED_WORDS.contains(&w) {
                    happened = true;
                } else {
                    break;
                }
                k -= 1;
            }
            if !happened {
                continue;
            }
            let Some(Element::Column(t, c)) = m.best_element() else {
                continue;
            };
            let info = &self.idx.tables[t];
            if !info.temporal.contains(&c) {
                continue;
            }
            // A time in the question scopes the event ("delivered in March"): left to the time
            // rules.
            if self.time_filter_present() {
                continue;
            }
            self.used[mi] = true;
            self.filters.push(Condition::IsNull {
                expr: self.col_expr(t, c),
                negated: !negated,
            });
            if !self.tables.contains(&t) && self.subject != Some(t) {
                self.tables.push(t);
            }
        }
    }

    fn time_filter_present(&self) -> bool {
        self.filters.iter().any(|f| {
            matches!(
                f,
                Condition::Between {
                    low: Literal::Date(_),
                    ..
                } | Condition::Compare {
                    right: Operand::Literal(Literal::Date(_)),
                    ..
                }
            )
        }) || self.toks.iter().any(|t| {
            t.number()
                .is_some_and(|n| (1900.0..2100.0).contains(&n) && n.fract() == 0.0)
        })
    }

    /// "accounts with no sales owner", "leads without a score", "who doesn't have a manager":
    /// rows with no value in the column named.
    pub(super) fn missing_values(&mut self) {
        for mi in 0..self.ments.len() {
            let m = &self.ments[mi];
            if self.used[mi] || m.is_value() {
                continue;
            }
            let Some(Element::Column(t, c)) = m.best_element() else {
                continue;
            };
            let mut k = m.start;
            while k > 0 && ARTICLES.contains(&self.lemma(k - 1)) {
                k -= 1;
            }
            let none = k > 0 && NONE_WORDS.contains(&self.lemma(k - 1));
            let not_have = k > 1
                && HAVE_WORDS.contains(&self.lemma(k - 1))
                && matches!(self.lemma(k - 2), "not" | "never");
            if !(none || not_have) {
                continue;
            }
            self.used[mi] = true;
            for j in k.saturating_sub(2)..m.start {
                if matches!(
                    self.lemma(j),
                    "no" | "without" | "not" | "never" | "have" | "has" | "had"
                ) {
                    self.cue[j] = true;
                }
            }
            self.filters.push(Condition::IsNull {
                expr: self.col_expr(t, c),
                negated: false,
            });
            if !self.tables.contains(&t) && self.subject != Some(t) {
                self.tables.push(t);
            }
        }
    }

    /// "current employees", "how many contractors are currently engaged", "exceptions still
    /// unresolved": the rows whose end date (the one nullable date that ends a row's life) is
    /// not set. "Current" before the rows applies always; "currently" and "still" only when
    /// no value of the table already says which state is meant ("currently past due").
    pub(super) fn current_rows(&mut self) {
        let Some(at) = (0..self.toks.len()).find(|&i| CURRENT_WORDS.contains(&self.lemma(i)))
        else {
            return;
        };
        // The rows: the first table named within a few words after "current", else the subject.
        let named = (at + 1..(at + 5).min(self.toks.len())).find_map(|i| {
            let m = self.ments.iter().find(|m| m.start == i)?;
            m.tables().next()
        });
        let Some(t) = named.or(self.subject) else {
            return;
        };
        let table = self.idx.table(t);
        let ends: Vec<usize> = self.idx.tables[t]
            .temporal
            .iter()
            .copied()
            .filter(|&c| {
                table.columns[c].nullable
                    && self.idx.tables[t].column_words[c]
                        .iter()
                        .any(|w| END_WORDS.contains(&w.as_str()))
            })
            .collect();
        let [end] = ends.as_slice() else {
            return;
        };
        let end_expr = self.col_expr(t, *end);
        let state_named = self.filters.iter().any(|f| self.is_state_filter(f, t));
        let said = self.filters.iter().any(|f| {
            matches!(f, Condition::IsNull { expr, .. } if *expr == end_expr)
                || matches!(f, Condition::Compare { left, .. } if *left == end_expr)
        });
        let adjective = self.lemma(at) == "current";
        if said || (!adjective && state_named) {
            return;
        }
        self.cue[at] = true;
        self.filters.push(Condition::IsNull {
            expr: end_expr,
            negated: false,
        });
        if !self.tables.contains(&t) && self.subject != Some(t) {
            self.tables.push(t);
        }
    }

    /// A condition on a status (or state, or stage) column of table `t`: it names the state
    /// the rows are in.
    fn is_state_filter(&self, f: &Condition, t: usize) -> bool {
        let on_state = |e: &Expr| {
            self.column_of(e).is_some_and(|(ft, c)| {
                ft == t
                    && self.idx.tables[t].column_words[c]
                        .last()
                        .is_some_and(|w| matches!(w.as_str(), "status" | "state" | "stage"))
            })
        };
        match f {
            Condition::Compare { left, .. } => on_state(left),
            Condition::InList { expr, .. } => on_state(expr),
            Condition::Or(cs) => cs.iter().any(|c| self.is_state_filter(c, t)),
            _ => false,
        }
    }

    /// "… are marked fragile", "… were non-refundable": a flag named after the verb of a
    /// percentage, as the condition its rows meet (yes, or no when negated).
    pub(super) fn flag_after(&self, from: usize) -> Option<(usize, Condition)> {
        self.ments.iter().enumerate().find_map(|(mi, m)| {
            // Used or not: the select list it may have landed in is replaced by the percentage.
            // The verb may be inside the name ("employees are remote" reads `is_remote`).
            if m.end <= from + 1 || m.is_value() {
                return None;
            }
            let Some(Element::Column(t, c)) = m.best_element() else {
                return None;
            };
            let e = self.col_expr(t, c);
            if self
                .filters
                .iter()
                .any(|f| matches!(f, Condition::Compare { left, .. } if *left == e))
            {
                return None;
            }
            let (yes, no) = self.flag_literals(t, c)?;
            let negated = m.start > 0 && matches!(self.lemma(m.start - 1), "non" | "not" | "un");
            Some((
                mi,
                Condition::Compare {
                    left: self.col_expr(t, c),
                    op: CmpOp::Eq,
                    right: Operand::Literal(if negated { no } else { yes }),
                },
            ))
        })
    }
}
