//! What the reading left unexplained, and the clarifying question for an unknown word.

use super::*;

impl Planner<'_> {
    /// "What is the churn by region?": an unknown word where the thing to compute should be.
    /// Rather than answer something else, ask which measure or column it means.
    pub(super) fn unknown_measure(&mut self) {
        if self.ambiguity.is_some() {
            return;
        }
        let nothing_measured = !self.select.iter().any(|s| s.expr.is_aggregate())
            && !self.order.iter().any(|o| o.expr.is_aggregate())
            && self.having.is_empty();
        if !(self.defaulted_select || (!self.group.is_empty() && nothing_measured)) {
            return;
        }
        let head_end = self.first_filter_cue(1);
        let unknown = (0..head_end.min(self.toks.len())).find(|&i| {
            let t = &self.toks[i];
            !self.cue[i]
                && self.mention_at(i).is_none()
                && content_word(t)
                && !is_filler_word(&t.lemma)
                                && !t.capitalized
                // verbs ("sold", "placed", "shipping") describe; nouns are what is measured
                && !t.lemma.ends_with("ed")
                && !t.lemma.ends_with("ing")
                && agg_word(&t.lemma).is_none()
                && superlative(&t.lemma).is_none()
        });
        let Some(i) = unknown else {
            return;
        };
        let word = self.toks[i].text.clone();
        let options = self.options_for_unknown(&self.toks[i].lemma.clone());
        if options.is_empty() {
            return;
        }
        self.penalize(0.5, format!("does not know what \"{word}\" means here"));
        self.ambiguity = Some(Ambiguity {
            phrase: word,
            options,
        });
    }

    /// What to offer for an unknown word: the business measures and columns related to it —
    /// by name (jaro-winkler), by the lexicon's synonyms, or by its related words ("age" is
    /// about a birth year) — most related first. When nothing is related, the measure columns
    /// of the tables in play; only when there are none, the business measures.
    pub(super) fn options_for_unknown(&self, lemma: &str) -> Vec<(Element, String)> {
        /// How alike a name must be to count as related.
        const RELATED: f64 = 0.88;
        const MOST: usize = 5;
        let mut in_play: Vec<usize> = self.subject.into_iter().collect();
        in_play.extend(self.tables.iter().copied());
        let mut related: Vec<(f64, bool, Element, String)> = Vec::new();
        let terms = &self.idx.aug.semantic.business_terms;
        for (ti, term) in terms.iter().enumerate() {
            if !matches!(term.target, cbi_types::TermTarget::Measure(_)) {
                continue;
            }
            let words: Vec<String> = std::iter::once(&term.name)
                .chain(term.synonyms.iter())
                .flat_map(|n| n.split_whitespace().map(crate::text::lemma_of))
                .collect();
            let score = relatedness(lemma, &words);
            if score >= RELATED {
                related.push((score, true, Element::Term(ti), term.name.clone()));
            }
        }
        for (t, info) in self.idx.tables.iter().enumerate() {
            for c in 0..info.column_words.len() {
                if info.pk == Some(c) || self.is_join_column(t, c) {
                    continue;
                }
                let mut words = info.column_words[c].clone();
                if let Some(p) = self.idx.aug.tables.get(t).and_then(|p| p.columns.get(c)) {
                    words.extend(
                        p.synonyms
                            .iter()
                            .flat_map(|s| s.split_whitespace().map(crate::text::lemma_of)),
                    );
                }
                let score = relatedness(lemma, &words);
                if score >= RELATED {
                    let name = format!("{}.{}", self.idx.table(t).name, self.idx.column_name(t, c));
                    related.push((score, in_play.contains(&t), Element::Column(t, c), name));
                }
            }
        }
        if related.is_empty() {
            for &t in &in_play {
                for c in 0..self.idx.table(t).columns.len() {
                    if self.is_measure_column(t, c) {
                        let name =
                            format!("{}.{}", self.idx.table(t).name, self.idx.column_name(t, c));
                        let score = relatedness(lemma, &self.idx.tables[t].column_words[c]);
                        related.push((score, true, Element::Column(t, c), name));
                    }
                }
            }
        }
        if related.is_empty() {
            for (ti, term) in terms.iter().enumerate() {
                if matches!(term.target, cbi_types::TermTarget::Measure(_)) {
                    let score = strsim::jaro_winkler(lemma, &term.name.to_lowercase());
                    related.push((score, true, Element::Term(ti), term.name.clone()));
                }
            }
        }
        related.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
        let mut seen = Vec::new();
        related.retain(|r| {
            let fresh = !seen.contains(&r.2);
            seen.push(r.2);
            fresh
        });
        related.truncate(MOST);
        related.into_iter().map(|(_, _, e, l)| (e, l)).collect()
    }

    /// Whether a column links its table to another (a key column joins are made of).
    fn is_join_column(&self, t: usize, c: usize) -> bool {
        self.idx
            .graph
            .edges
            .iter()
            .any(|e| (e.a == t && e.a_cols.contains(&c)) || (e.b == t && e.b_cols.contains(&c)))
    }

    /// Content words nothing explained lower the confidence.
    pub(super) fn pass_unexplained(&mut self) {
        let mut unexplained = Vec::new();
        for (i, t) in self.toks.iter().enumerate() {
            if self.cue[i] || self.mention_at(i).is_some_and(|m| self.used[m]) {
                continue;
            }
            if let Some(m) = self.mention_at(i) {
                // A linked span nobody used.
                if i == self.ments[m].start {
                    unexplained.push(self.span_text(self.ments[m].start, self.ments[m].end));
                }
                continue;
            }
            if content_word(t) && !is_filler_word(&t.lemma) {
                unexplained.push(t.text.clone());
            }
        }
        if !unexplained.is_empty() {
            let f = 0.85f32.powi(unexplained.len().min(4) as i32);
            self.penalize(f, format!("not used: {}", unexplained.join(", ")));
        }
        self.unknown_measure();
        // Words that change the answer's shape weigh more when nothing used them: a number, a
        // quoted value, a grouping, ordering, superlative or negation word.
        let mut lost = Vec::new();
        for (i, t) in self.toks.iter().enumerate() {
            if self.cue[i] || self.mention_at(i).is_some_and(|m| self.used[m]) {
                continue;
            }
            let w = t.lemma.as_str();
            let shaping = t.number().is_some_and(|_| !t.spelled || t.lemma != "one")
                || t.quoted().is_some()
                || matches!(
                    w,
                    "each"
                        | "per"
                        | "every"
                        | "order"
                        | "ordered"
                        | "sorted"
                        | "sort"
                        | "not"
                        | "no"
                        | "never"
                        | "without"
                        | "both"
                        | "except"
                        | "than"
                        | "average"
                        | "total"
                        | "most"
                        | "least"
                )
                || superlative(w).is_some();
            if shaping {
                lost.push(t.text.clone());
            }
        }
        if !lost.is_empty() {
            self.penalize(
                0.75f32.powi(lost.len().min(3) as i32),
                format!("did not use: {}", lost.join(", ")),
            );
        }
        for m in self.ments {
            if m.corrected {
                self.penalties.push((
                    0.9,
                    format!(
                        "read \"{}\" as a misspelling",
                        self.span_text(m.start, m.end)
                    ),
                ));
            }
        }
    }
}

impl Planner<'_> {
    /// The type class of a plain column expression, if it is one.
    fn class_of(&self, e: &Expr) -> Option<TypeClass> {
        let (t, c) = self.column_of(e)?;
        Some(self.idx.tables[t].column_class[c])
    }

    /// Readings that make no sense whatever the data: never sure answers.
    ///
    /// - "the largest capital" ranked by the capital's *name*: a size superlative over text;
    /// - `length > 'red'`: a number compared with a word;
    /// - "where is …" answered with no column that says where.
    pub(super) fn sense_checks(&mut self) {
        let text = |c: Option<TypeClass>| c == Some(TypeClass::Text);
        let size_word = self
            .toks
            .iter()
            .any(|t| superlative(&t.lemma).is_some() || implied_column(&t.lemma).is_some());
        let ranks_text = self.order.iter().any(|o| text(self.class_of(&o.expr)))
            || self.select.iter().any(|s| {
                matches!(&s.expr, Expr::Agg { func, arg, .. }
                    if *func != AggFunc::Count && text(self.class_of(arg)))
            });
        if size_word && ranks_text {
            self.penalize(0.6, "ranks or measures a text column by size");
        }
        let word_for_number = self.filters.iter().any(|f| {
            matches!(f, Condition::Compare { left, op, right: Operand::Literal(Literal::Text(_)) }
                if *op != CmpOp::Eq && *op != CmpOp::NotEq
                    && self.class_of(left).is_some_and(TypeClass::is_numeric))
        });
        if word_for_number {
            self.penalize(0.5, "compares a number with a word");
        }
        if self.lemma(0) == "where" {
            let says_where = self.select.iter().any(|s| {
                let (Expr::Column(r) | Expr::Folded(r)) = &s.expr else {
                    return false;
                };
                // A city's own name says which city, not where it is.
                let own = crate::index::words_of(&r.table);
                crate::index::words_of(&r.column)
                    .iter()
                    .any(|w| is_location_word(w) && !own.contains(w))
            });
            if !says_where {
                self.penalize(0.6, "asks where, and no column says where");
            }
        }
    }
}

/// How related a (lemmatised) word is to a name's words: 1 when the name uses it, 0.95 when
/// the lexicon says the name means it or is what it is about, else the closest spelling.
fn relatedness(lemma: &str, words: &[String]) -> f64 {
    if words.iter().any(|w| w == lemma) {
        return 1.0;
    }
    let known = crate::lexicon::related_words(lemma)
        .iter()
        .chain(crate::lexicon::synonyms(lemma))
        .any(|r| words.iter().any(|w| w == r));
    if known {
        return 0.95;
    }
    words
        .iter()
        .filter(|w| w.len() > 2)
        .map(|w| strsim::jaro_winkler(lemma, w))
        .fold(0.0, f64::max)
}
