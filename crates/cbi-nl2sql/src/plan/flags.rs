//! Rules for columns that say yes or no about a row: flags (`is_public`, `is_test`,
//! `fragile_yn`) and the dates of events that may not have happened yet (`closed_dt`).

use cbi_types::{SqlDialect, TypeClass};

use super::Planner;
use crate::index::Element;
use crate::query::{CmpOp, Condition, Literal, Operand};

/// First words of a flag column's name (as lemmas: `is_public` → be public).
const FLAG_FIRST_WORDS: &[&str] = &["be", "has", "have"];
/// Last words of a flag column's name.
const FLAG_LAST_WORDS: &[&str] = &["flag", "yn"];
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

impl Planner<'_> {
    /// The literals a yes/no flag holds for yes and for no, when column `c` of table `t` is
    /// one: a boolean, or a number or text under a flag's name (`is_test`, `fragile_yn`) — text
    /// only when its values are a yes/no pair.
    fn flag_literals(&self, t: usize, c: usize) -> Option<(Literal, Literal)> {
        let info = &self.idx.tables[t];
        let words = &info.column_words[c];
        let named = words.len() >= 2
            && (FLAG_FIRST_WORDS.contains(&words[0].as_str())
                || words
                    .last()
                    .is_some_and(|w| FLAG_LAST_WORDS.contains(&w.as_str())));
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
}
