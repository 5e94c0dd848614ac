//! Which table's column a mention means, the labels of tables, business terms, and where in
//! the question an answer column comes from.

use super::*;

impl Planner<'_> {
    /// Decides which table's column a column mention means.
    pub(super) fn resolve(&mut self, mi: usize) -> Option<(usize, usize)> {
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

    /// A table mention directly attached to a column mention.
    pub(super) fn adjacent_table(&self, mi: usize) -> Option<usize> {
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
    pub(super) fn find_column(&self, t: usize, words: &[&str], numeric: bool) -> Option<usize> {
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
    pub(super) fn implied(&self, adjective: &str) -> Option<(usize, usize, bool)> {
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

    pub(super) fn term_tables(&self, ti: usize) -> Vec<String> {
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

    pub(super) fn term_column(&self, qualified: &str) -> Option<(usize, usize)> {
        let (t, c) = qualified.split_once('.')?;
        let ti = self.idx.aug.schema.table_index(t.trim())?;
        let ci = self.idx.table(ti).column_index(c.trim())?;
        Some((ti, ci))
    }

    /// The column a "which/what COLUMN ..." question asks about, before token `before`.
    pub(super) fn head_column(&mut self, before: usize) -> Option<(usize, usize, usize)> {
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

    /// Where in the question an answer column comes from (for ordering the select list).
    pub(super) fn position_of(&self, e: &Expr) -> usize {
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

    pub(super) fn cache_subject_distances(&mut self) {
        if let Some(s) = self.subject {
            if self.subject_distances.as_ref().is_none_or(|(x, _)| *x != s) {
                self.subject_distances = Some((s, self.idx.graph.distances_from(s)));
            }
        }
    }

    /// Hops from `subject` to `t`, from one cached breadth-first search.
    pub(super) fn distance_from_subject(&self, subject: usize, t: usize) -> Option<usize> {
        match &self.subject_distances {
            Some((s, d)) if *s == subject => d.get(t).copied().flatten(),
            _ => self.idx.graph.distance(subject, t),
        }
    }

    /// The measure a mention names (a business-term measure or a numeric measure column), and
    /// whether it aggregates.
    pub(super) fn measure_of(&mut self, mi: usize) -> Option<(Expr, bool)> {
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
    pub(super) fn is_measure_column(&self, t: usize, c: usize) -> bool {
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

    /// The columns that name a row of a table: its label (and second label), else its key.
    /// The `(table, column)` a plain (or folded) column expression reads.
    pub(super) fn column_of(&self, e: &Expr) -> Option<(usize, usize)> {
        let (Expr::Column(r) | Expr::Folded(r)) = e else {
            return None;
        };
        let t = self.idx.aug.schema.table_index(&r.table)?;
        let c = self.idx.table(t).column_index(&r.column)?;
        Some((t, c))
    }

    pub(super) fn label_exprs(&self, t: usize) -> Vec<Expr> {
        let info = &self.idx.tables[t];
        match (info.display, info.display_extra, info.pk) {
            (Some(d), Some(x), _) => vec![self.col_expr(t, d), self.col_expr(t, x)],
            (Some(d), None, _) => vec![self.col_expr(t, d)],
            (None, _, Some(pk)) => vec![self.col_expr(t, pk)],
            _ => Vec::new(),
        }
    }

    pub(super) fn term_expr(&self, ti: usize) -> Expr {
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

    /// An unused column mention before the first filter cue that belongs to table `t` (or is a
    /// foreign key into it).
    pub(super) fn head_column_in(&mut self, t: usize) -> Option<(usize, usize, usize)> {
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
    pub(super) fn on_subject(&self, e: &Expr) -> bool {
        let mut ts = Vec::new();
        e.tables(&mut ts);
        let Some(s) = self.subject else { return true };
        ts.iter()
            .all(|t| t.eq_ignore_ascii_case(&self.idx.table(s).name))
    }
}
