//! The question's intent, its subject table, and "how many" heads.

use super::*;

impl Planner<'_> {
    pub(super) fn detect_intent(&mut self) {
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

    pub(super) fn has_time_grain_word(&self) -> bool {
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
    pub(super) fn pick_subject(&mut self) {
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
        // A follow-up that names no table is about the conversation's tables, the subject
        // first, when they hold what it mentions.
        for (k, name) in self.opts.scope.iter().enumerate() {
            if let Some(t) = self.idx.aug.schema.table_index(name) {
                if score[t] > 0.0 {
                    score[t] += if k == 0 { 0.6 } else { 0.3 };
                }
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

    /// "How many X", "count the X", "the number of X" (when it is what the question asks).
    pub(super) fn pass_count_head(&mut self) {
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
        // "how many people live in …": people are counted by a population column, when there
        // is one. A place the question names by its label has its own population; otherwise
        // the rows in play add up.
        if PEOPLE_WORDS.contains(&self.lemma(start)) {
            let mut tables: Vec<usize> = self.subject.into_iter().collect();
            for m in self.ments {
                tables.extend(m.tables());
                tables.extend(m.values.iter().map(|v| v.table));
            }
            let named_row = self.ments.iter().flat_map(|m| &m.values).find_map(|v| {
                let info = &self.idx.tables[v.table];
                (info.display == Some(v.column))
                    .then(|| self.find_column(v.table, &["population"], true))
                    .flatten()
                    .map(|c| (v.table, c))
            });
            let hit = named_row.map(|h| (h, false)).or_else(|| {
                tables.iter().find_map(|&t| {
                    self.find_column(t, &["population"], true)
                        .map(|c| ((t, c), true))
                })
            });
            if let Some(((t, c), total)) = hit {
                self.cue[start] = true;
                if matches!(self.lemma(start + 1), "live" | "living" | "reside") {
                    self.cue[start + 1] = true;
                }
                let col = self.col_expr(t, c);
                self.select.push(SelectItem {
                    expr: if total {
                        Expr::agg(AggFunc::Sum, col)
                    } else {
                        col
                    },
                    alias: None,
                });
                if !total {
                    self.subject = Some(t);
                }
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
    pub(super) fn only_head_before(&self, i: usize) -> bool {
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
    pub(super) fn is_column_word(&self, i: usize) -> bool {
        self.mention_at(i).is_some_and(|m| {
            let m = &self.ments[m];
            (m.has_column() || matches!(m.best_element(), Some(Element::Term(_))))
                && m.end - m.start > 1
        })
    }
}
