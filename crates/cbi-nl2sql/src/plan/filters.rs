//! Which rows: comparisons, ranges, value filters (equality, negation, substrings), and counts
//! of related rows.

use super::*;

impl Planner<'_> {
    /// Comparisons: "age greater than 30", "older than 30", "with more than 3 car makers",
    /// "above the average age", "between 10 and 20".
    pub(super) fn pass_comparisons(&mut self) {
        let n = self.toks.len();
        let mut i = 0;
        while i < n {
            if self.cue[i] {
                i += 1;
                continue;
            }
            // "between one and two paragraphs", "1 to 2 paragraphs": a range of related rows.
            {
                let (a_at, sep) = if self.lemma(i) == "between" {
                    (i + 1, "and")
                } else {
                    (i, "to")
                };
                if let (Some(a), true, Some(b)) = (
                    self.toks.get(a_at).and_then(Token::number),
                    self.lemma(a_at + 1) == sep,
                    self.toks.get(a_at + 2).and_then(Token::number),
                ) {
                    if let Some(mi) = self
                        .mention_after(a_at + 3, &["different", "distinct"])
                        .filter(|&m| self.ments[m].has_table() && !self.used[m])
                    {
                        self.having_count_of(
                            mi,
                            Condition::Between {
                                expr: Expr::CountStar,
                                low: num_lit(a),
                                high: num_lit(b),
                            },
                        );
                        for k in i..a_at + 3 {
                            self.cue[k] = true;
                        }
                        i = self.ments[mi].end;
                        continue;
                    }
                }
            }
            // "between A and B"
            if self.lemma(i) == "between" {
                if let (Some(a), "and", Some(b)) = (
                    self.toks.get(i + 1).and_then(Token::number),
                    self.lemma(i + 2),
                    self.toks.get(i + 3).and_then(Token::number),
                ) {
                    if let Some((left, is_count)) = self.comparison_left(i, None, i + 4) {
                        let cond = Condition::Between {
                            expr: left,
                            low: num_lit(a),
                            high: num_lit(b),
                        };
                        if is_count {
                            self.having.push(cond)
                        } else {
                            self.filters.push(cond)
                        }
                        for k in i..i + 4 {
                            self.cue[k] = true;
                        }
                        i += 4;
                        continue;
                    }
                }
            }
            let words = self.words_from(i, 3);
            let Some((mut op, len, implied)) = comparison(&words) else {
                i += 1;
                continue;
            };
            // "not more than"/"isn't above" flip.
            let negated =
                i > 0 && matches!(self.lemma(i - 1), "not") && !matches!(words[0], "no" | "not");
            if negated {
                op = op.negate();
            }
            let rhs_at = i + len;
            // "2014 or after", "3 or more": the number came first.
            if words[0] == "or" {
                // "2 or more paragraphs": a count of related rows.
                if let Some(v) = i.checked_sub(1).and_then(|k| self.toks[k].number()) {
                    if let Some(mi) = self
                        .mention_after(rhs_at, &["different", "distinct"])
                        .filter(|&m| self.ments[m].has_table() && !self.used[m] && !self.cue[i - 1])
                    {
                        self.having_count_of(
                            mi,
                            Condition::Compare {
                                left: Expr::CountStar,
                                op,
                                right: Operand::Literal(num_lit(v)),
                            },
                        );
                        for k in i - 1..rhs_at {
                            self.cue[k] = true;
                        }
                        i = self.ments[mi].end;
                        continue;
                    }
                }
                if let Some(v) = i.checked_sub(1).and_then(|k| self.toks[k].number()) {
                    if !self.cue[i - 1] {
                        if let Some((left, is_count)) =
                            self.comparison_left(i - 1, implied, rhs_at).or_else(|| {
                                let (t, c) = self.year_column_near(i - 1)?;
                                Some((self.col_expr(t, c), false))
                            })
                        {
                            let cond = Condition::Compare {
                                left,
                                op,
                                right: Operand::Literal(num_lit(v)),
                            };
                            if is_count {
                                self.having.push(cond)
                            } else {
                                self.filters.push(cond)
                            }
                            for k in i - 1..rhs_at {
                                self.cue[k] = true;
                            }
                            i = rhs_at;
                            continue;
                        }
                    }
                }
            }
            // "above age 20": comparison, column, number.
            if let Some(mi) = self
                .mention_after(rhs_at, &["the", "an", "a"])
                .filter(|&m| {
                    !self.used[m] && self.ments[m].has_column() && !self.ments[m].is_value()
                })
            {
                if let Some(v) = self.toks.get(self.ments[mi].end).and_then(Token::number) {
                    if let Some((t, c)) = self.resolve(mi) {
                        self.used[mi] = true;
                        let left = self.col_expr(t, c);
                        let (op, lit) = adjust_for_implied(op, implied, &left, v, self);
                        self.filters.push(Condition::Compare {
                            left,
                            op,
                            right: Operand::Literal(lit),
                        });
                        let end = self.ments[mi].end;
                        for k in i..=end {
                            self.cue[k] = true;
                        }
                        i = end + 1;
                        continue;
                    }
                }
            }
            // Right-hand side.
            let rhs_tok = self.toks.get(rhs_at);
            let avg_sub = matches!(self.lemma(rhs_at), "the" | "an")
                && matches!(self.lemma(rhs_at + 1), "average" | "avg" | "mean")
                || matches!(self.lemma(rhs_at), "average" | "avg" | "mean");
            let number = rhs_tok.and_then(Token::number);
            let value_m = self
                .mention_after(rhs_at, &["the", "a", "an", "that", "of"])
                .filter(|&m| {
                    self.ments[m].is_value()
                        && !self.ments[m].has_column()
                        && !self.ments[m].has_table()
                });
            if let Some(v) = number {
                // "more than 3 car makers": a count of related rows.
                let after = self.mention_after(rhs_at + 1, &["different", "distinct"]);
                let count_of_table = after.filter(|&m| {
                    self.ments[m].has_table()
                        && !self.ments[m].columns().next().is_some_and(|c| c.2 >= 1.0)
                });
                if let Some(mi) = count_of_table {
                    self.having_count_of(
                        mi,
                        Condition::Compare {
                            left: Expr::CountStar,
                            op,
                            right: Operand::Literal(num_lit(v)),
                        },
                    );
                    for k in i.saturating_sub(negated as usize)..=rhs_at {
                        self.cue[k] = true;
                    }
                    i = self.ments[mi].end;
                    continue;
                }
                let unit_col = after.filter(|&m| self.ments[m].has_column() && !self.used[m]);
                if let Some((left, is_count)) =
                    self.comparison_left(i, implied, rhs_at + 1).or_else(|| {
                        // "with 8 cylinders"-like: "more than 100 points" → the column after.
                        let mi = unit_col?;
                        let (t, c) = self.resolve(mi)?;
                        self.used[mi] = true;
                        Some((self.col_expr(t, c), false))
                    })
                {
                    let (op, lit) = adjust_for_implied(op, implied, &left, v, self);
                    let cond = Condition::Compare {
                        left,
                        op,
                        right: Operand::Literal(lit),
                    };
                    if is_count {
                        self.having.push(cond)
                    } else {
                        self.filters.push(cond)
                    }
                    for k in i.saturating_sub(negated as usize)..=rhs_at {
                        self.cue[k] = true;
                    }
                    i = rhs_at + 1;
                    continue;
                }
            } else if avg_sub {
                let avg_at = if matches!(self.lemma(rhs_at), "the" | "an") {
                    rhs_at + 1
                } else {
                    rhs_at
                };
                let col_after = self
                    .mention_after(avg_at + 1, &["of", "the", "all"])
                    .filter(|&m| self.ments[m].has_column());
                let left = self.comparison_left(i, implied, avg_at + 1).or_else(|| {
                    let mi = col_after?;
                    let (t, c) = self.resolve(mi)?;
                    Some((self.col_expr(t, c), false))
                });
                if let Some((left, _)) = left {
                    let sub_col = match col_after {
                        Some(mi) => {
                            self.used[mi] = true;
                            self.resolve(mi).map(|(t, c)| self.col_expr(t, c))
                        }
                        None => Some(left.clone()),
                    };
                    if let Some(sc) = sub_col {
                        let mut tables = Vec::new();
                        sc.tables(&mut tables);
                        let sub = SemanticQuery {
                            select: vec![SelectItem {
                                expr: Expr::agg(AggFunc::Avg, sc),
                                alias: None,
                            }],
                            tables,
                            ..Default::default()
                        };
                        self.filters.push(Condition::Compare {
                            left,
                            op,
                            right: Operand::Query(Box::new(sub)),
                        });
                        for k in i..=avg_at {
                            self.cue[k] = true;
                        }
                        i = avg_at + 1;
                        continue;
                    }
                }
            } else if let Some(mi) = value_m {
                if let Some((left, _)) = self.comparison_left(i, implied, self.ments[mi].end) {
                    let text = self.ments[mi]
                        .quoted
                        .clone()
                        .or_else(|| self.ments[mi].values.first().map(|v| v.value.clone()))
                        .unwrap_or_default();
                    self.used[mi] = true;
                    self.filters.push(Condition::Compare {
                        left,
                        op,
                        right: Operand::Literal(Literal::Text(text)),
                    });
                    for k in i..self.ments[mi].start {
                        self.cue[k] = true;
                    }
                    i = self.ments[mi].end;
                    continue;
                }
            }
            i += 1;
        }
        // "aged 32 or 33", "with 8 cylinders", "in 1974": a column right before a bare number.
        let mut last: Option<Expr> = None;
        for i in 0..n {
            if self.cue[i] {
                continue;
            }
            let Some(v) = self.toks[i].number() else {
                continue;
            };
            if self.toks[i].spelled && v == 1.0 {
                continue;
            }
            let prev = if i > 0 {
                self.lemma(i - 1).to_string()
            } else {
                String::new()
            };
            let prev = prev.as_str();
            // "2014 or 2015", "32 and 33": the same column as the number before.
            if matches!(prev, "or" | "and" | "," | "nor") {
                if let Some(e) = last.clone() {
                    self.cue[i] = true;
                    self.push_eq_filter(e, num_lit(v), i);
                    continue;
                }
            }
            // column then number: "age 32", "cylinders = 8"
            let before = self
                .mention_before(
                    i,
                    &[
                        "be", "of", "=", "is", "equal", "to", "exactly", "either", "both",
                    ],
                )
                .filter(|&m| !self.used[m] && self.ments[m].has_column());
            let after = self.mention_after(i + 1, &[]).filter(|&m| {
                !self.used[m] && self.ments[m].has_column() && !self.ments[m].has_table()
            });
            let target = before.or(after);
            if let Some(mi) = target {
                if let Some((t, c)) = self.resolve(mi) {
                    if self.idx.tables[t].column_class[c].is_numeric()
                        || self.idx.tables[t].column_class[c] == TypeClass::Text
                            && self.idx.tables[t].column_words[c]
                                .iter()
                                .any(|w| w == "year")
                    {
                        self.used[mi] = true;
                        self.cue[i] = true;
                        let e = self.col_expr(t, c);
                        last = Some(e.clone());
                        self.push_eq_filter(e, num_lit(v), i);
                        continue;
                    }
                }
            }
            // "in 2014": a year column in play.
            if (1000.0..=2100.0).contains(&v)
                && v.fract() == 0.0
                && matches!(
                    prev,
                    "in" | "of"
                        | "year"
                        | "during"
                        | "from"
                        | "both"
                        | "either"
                        | "since"
                        | "for"
                        | "on"
                )
            {
                if let Some((t, c)) = self.year_column_near(i) {
                    self.cue[i] = true;
                    let e = self.col_expr(t, c);
                    last = Some(e.clone());
                    self.push_eq_filter(e, num_lit(v), i);
                }
            }
        }
    }

    /// "more than 3 car makers", "2 or more paragraphs", "between 1 and 2 paragraphs": a
    /// condition on how many rows of the table mention `mi` names go with each subject row.
    pub(super) fn having_count_of(&mut self, mi: usize, cond: Condition) {
        self.used[mi] = true;
        if let Some(t) = self.ments[mi].tables().next() {
            if !self.tables.contains(&t) {
                self.tables.push(t);
            }
        }
        if self.group.is_empty() {
            self.group_by_subject();
        }
        self.having.push(cond);
    }

    /// Adds `e = v`, or merges with an earlier equality on the same column joined by "or"/"and".
    pub(super) fn push_eq_filter(&mut self, e: Expr, v: Literal, at: usize) {
        let joined_by = if at > 0 { self.lemma(at - 1) } else { "" };
        let prev = self.filters.iter().position(|f| matches!(f, Condition::Compare { left, op: CmpOp::Eq, .. } if *left == e)
            || matches!(f, Condition::Or(cs) if cs.iter().any(|c| matches!(c, Condition::Compare { left, .. } if *left == e))));
        match prev {
            Some(pi)
                if joined_by == "or"
                    || joined_by == "either"
                    || (joined_by == "and" && !self.has_word("both") && self.on_subject(&e)) =>
            {
                let old = self.filters.remove(pi);
                let new = Condition::Compare {
                    left: e,
                    op: CmpOp::Eq,
                    right: Operand::Literal(v),
                };
                let mut parts = match old {
                    Condition::Or(cs) => cs,
                    other => vec![other],
                };
                parts.push(new);
                self.filters.insert(pi, Condition::Or(parts));
            }
            Some(_) if joined_by == "and" => {
                // "both 2014 and 2015": rows meeting each, intersected.
                let new = Condition::Compare {
                    left: e,
                    op: CmpOp::Eq,
                    right: Operand::Literal(v),
                };
                self.compound = Some((SetOp::Intersect, vec![new]));
            }
            _ => self.filters.push(Condition::Compare {
                left: e,
                op: CmpOp::Eq,
                right: Operand::Literal(v),
            }),
        }
    }

    pub(super) fn year_column(&self) -> Option<(usize, usize)> {
        self.year_column_near(self.toks.len())
    }

    /// A year column, preferring a column named exactly "year" in the table mentioned closest
    /// before token `at`, then the subject and other tables in play.
    pub(super) fn year_column_near(&self, at: usize) -> Option<(usize, usize)> {
        let mut tables: Vec<usize> = Vec::new();
        for m in self.ments.iter().rev().filter(|m| m.end <= at) {
            tables.extend(m.tables());
            tables.extend(m.columns().map(|c| c.0));
        }
        tables.extend(self.subject);
        tables.extend(self.tables.iter().copied());
        for m in self.ments {
            tables.extend(m.tables());
        }
        for exact in [true, false] {
            for &t in &tables {
                let info = &self.idx.tables[t];
                let hit = info.column_words.iter().position(|w| {
                    if exact {
                        w.len() == 1 && w[0] == "year"
                    } else {
                        w.last().is_some_and(|x| x == "year")
                    }
                });
                if let Some(c) = hit {
                    return Some((t, c));
                }
            }
        }
        None
    }

    /// The left side of a comparison at token `at`: the column mentioned just before (or right
    /// after the value), or the column an adjective implies; `true` when it is a count.
    pub(super) fn comparison_left(
        &mut self,
        at: usize,
        implied: Option<&str>,
        after: usize,
    ) -> Option<(Expr, bool)> {
        let filler = [
            "be", "is", "are", "was", "were", "of", "that", "which", "value", "the", "whose",
            "with", "have", "a", "an", "number", "total", "average", "avg", "not", "do", "'s",
            "their", "its", "score", "amount",
        ];
        if let Some(mi) = self.mention_before(at, &filler).filter(|&m| !self.used[m]) {
            let m = &self.ments[mi];
            if m.has_column()
                && !(m.has_table()
                    && !m.columns().next().is_some_and(|c| c.2 >= 1.0)
                    && implied.is_some())
            {
                let (t, c) = self.resolve(mi)?;
                self.used[mi] = true;
                let col = self.col_expr(t, c);
                // "average age above 30", "number of X more than": aggregated → HAVING.
                // "categories with an average price above 100": a condition on groups.
                if let Some((f, at)) = self.agg_before(m.start) {
                    if f != AggFunc::Count || !self.cue[at] {
                        self.cue[at] = true;
                        if self.group.is_empty() && self.count.is_none() {
                            self.group_by_subject();
                        }
                        if !self.group.is_empty() || self.count.is_some() {
                            return Some((Expr::agg(f, col), true));
                        }
                    }
                }
                return Some((col, false));
            }
            if let Some(Element::Term(ti)) = m.best_element() {
                self.used[mi] = true;
                let e = self.term_expr(ti);
                let agg = e.is_aggregate();
                if agg && self.group.is_empty() {
                    self.group_by_subject();
                }
                return Some((e, agg));
            }
        }
        if let Some(adj) = implied {
            if let Some((t, c, _)) = self.implied(adj) {
                if !self.tables.contains(&t) {
                    self.tables.push(t);
                }
                return Some((self.col_expr(t, c), false));
            }
            // "after 2010": a year or date column.
            if matches!(adj, "later" | "earlier") {
                if let Some((t, c)) = self.year_column() {
                    return Some((self.col_expr(t, c), false));
                }
            }
        }
        // "number of X is more than": count in HAVING.
        let _ = after;
        None
    }

    /// Value mentions → equality filters on the column holding the value.
    pub(super) fn pass_values(&mut self) {
        let mut value_ments: Vec<usize> = (0..self.ments.len())
            .filter(|&mi| !self.used[mi] && self.ments[mi].is_value())
            .collect();
        // A mention that is also a schema element is a value only when quoted, capitalised,
        // or not usable as a column/table in place.
        value_ments.retain(|&mi| {
            let m = &self.ments[mi];
            // "How many people …": what is counted, not a department called 'People' ("how
            // many dog pets": a value modifying the noun after it stays one).
            let counted = m.start >= 2
                && self.lemma(m.start - 2) == "how"
                && matches!(self.lemma(m.start - 1), "many" | "much")
                && self.mention_at(m.end).is_none();
            if counted && m.quoted.is_none() && !self.toks[m.start].capitalized {
                return false;
            }
            if m.quoted.is_some() || m.elements.is_empty() {
                return true;
            }
            // "How many orders were shipped?": `shipped_at` is named, but with no time in the
            // question to scope, the word is the status 'shipped'.
            let only_dates = !m.has_table()
                && m.columns()
                    .all(|(t, c, _)| self.idx.tables[t].temporal.contains(&c));
            if only_dates {
                return true;
            }
            let capital = self.toks[m.start].capitalized;
            // "outlet stores": the table is named right beside it, so the word is its value.
            let named_beside = [mi.checked_sub(1), Some(mi + 1)]
                .into_iter()
                .flatten()
                .any(|o| {
                    self.ments.get(o).is_some_and(|om| {
                        (om.end == m.start || om.start == m.end)
                            && om.tables().any(|t| {
                                m.tables().any(|x| x == t) || m.values.iter().any(|v| v.table == t)
                            })
                    })
                });
            (capital && !m.has_table()) || named_beside
        });
        for mi in value_ments {
            let m = &self.ments[mi];
            // A column named right before it says which column holds it: "whose nationality is
            // Russia", "with name 'John'".
            let col_before = self
                .mention_before(
                    m.start,
                    &[
                        "be", "is", "are", "of", "=", "named", "called", "the", "not", "equal",
                        "to", "as", "by", "from", "with",
                    ],
                )
                .filter(|&p| !self.used[p] && self.ments[p].has_column());
            let col_after = self
                .mention_after(m.end, &["as", "their", "its", "the", "for", "in", "a"])
                .filter(|&p| {
                    !self.used[p] && self.ments[p].has_column() && !self.ments[p].is_value()
                });
            let mut target: Option<(usize, usize, String)> = None;
            for hint in [col_before, col_after].into_iter().flatten() {
                let cands: Vec<(usize, usize, f32)> = self.ments[hint].columns().collect();
                if let Some(v) = m
                    .values
                    .iter()
                    .find(|v| cands.iter().any(|c| c.0 == v.table && c.1 == v.column))
                {
                    target = Some((v.table, v.column, v.value.clone()));
                    self.used[hint] = true;
                    break;
                }
                if m.values.is_empty() {
                    if let Some(q) = &m.quoted {
                        if let Some((t, c)) = self.resolve(hint) {
                            target = Some((t, c, q.clone()));
                            self.used[hint] = true;
                            break;
                        }
                    }
                }
            }
            if target.is_none() && !m.values.is_empty() {
                target = self.choose_value_column(mi);
            }
            if target.is_none() {
                if let Some(q) = &m.quoted {
                    // Quoted text no column holds: the subject's name column is the best guess.
                    if let Some(s) = self.subject {
                        if let Some(d) = self.idx.tables[s].display {
                            target = Some((s, d, q.clone()));
                            self.penalize(
                                0.7,
                                format!(
                                    "no column holds '{q}'; guessed {}",
                                    self.idx.column_name(s, d)
                                ),
                            );
                        }
                    }
                }
            }
            let Some((t, c, value)) = target else {
                continue;
            };
            self.used[mi] = true;
            // The data holds the value with stray spaces ("Aberdeen "): right for this data, but
            // a sign the question and the data disagree.
            let folded = self.folded_value(t, c, &value);
            if value.trim() != value && folded.is_none() {
                self.penalize(
                    0.8,
                    format!("the stored value '{value}' has leading or trailing spaces"),
                );
            }
            let negated = self.negated_before(self.ments[mi].start);
            // Substrings: "with 'Hey' in its name", "containing", "starting with".
            let like = self.like_pattern(mi);
            if let Some(pattern) = like {
                let e = self.col_expr(t, c);
                self.filters.push(Condition::Like {
                    expr: e,
                    pattern,
                    negated,
                });
                if !self.tables.contains(&t) && self.subject != Some(t) {
                    self.tables.push(t);
                }
                continue;
            }
            let mut e = self.col_expr(t, c);
            let mut lit = match self.idx.tables[t].column_class[c] {
                k if k.is_numeric() => value
                    .parse::<f64>()
                    .map(num_lit)
                    .unwrap_or(Literal::Text(value.clone())),
                _ => Literal::Text(value.clone()),
            };
            // The column stores this label in several spellings: compare them all.
            if let Some(folded) = folded {
                e = Expr::Folded(ColumnRef {
                    table: self.table_name(t),
                    column: self.idx.column_name(t, c).to_string(),
                });
                lit = Literal::Text(folded);
            }
            // "students who do not have a cat": the value lives in a related table, so the
            // negation is about the relationship, not the row.
            let related = self.subject.is_some_and(|s| s != t);
            if negated && related {
                if let Some(Condition::InQuery {
                    expr,
                    mut query,
                    negated: _,
                }) = self.not_in_related(t)
                {
                    query.filters.push(Condition::Compare {
                        left: e,
                        op: CmpOp::Eq,
                        right: Operand::Literal(lit),
                    });
                    self.filters.push(Condition::InQuery {
                        expr,
                        query,
                        negated: true,
                    });
                    continue;
                }
            }
            if negated {
                self.filters.push(Condition::Compare {
                    left: e,
                    op: CmpOp::NotEq,
                    right: Operand::Literal(lit),
                });
            } else {
                self.push_eq_filter(e, lit, self.ments[mi].start);
            }
            if !self.tables.contains(&t) && self.subject != Some(t) {
                self.tables.push(t);
            }
        }
    }

    /// The value in lower case without surrounding spaces when the column holds it in more than
    /// one spelling (`'Retail'`, `'retail '`), which only a folded comparison finds together.
    pub(super) fn folded_value(&self, t: usize, c: usize, value: &str) -> Option<String> {
        if self.idx.tables[t].column_class[c] != TypeClass::Text {
            return None;
        }
        let (table, column) = (&self.idx.table(t).name, self.idx.column_name(t, c));
        let spellings = self
            .idx
            .aug
            .value_index
            .lookup(value)
            .iter()
            .filter(|h| h.table == *table && h.column == column)
            .count();
        let folded = value.trim().to_lowercase();
        // The fold must be the same value: `normalize_value` also joins words across `_`.
        (spellings > 1 && !folded.is_empty()).then_some(folded)
    }

    /// The LIKE pattern for a value mention when the question asks for a substring.
    pub(super) fn like_pattern(&self, mi: usize) -> Option<String> {
        let m = &self.ments[mi];
        let text = m
            .quoted
            .clone()
            .or_else(|| m.values.first().map(|v| v.value.clone()))?;
        let esc = text.replace(['%', '_'], "");
        let lo = m.start.saturating_sub(4);
        let before: Vec<&str> = (lo..m.start).map(|k| self.lemma(k)).collect();
        let after: Vec<&str> = (m.end..(m.end + 3).min(self.toks.len()))
            .map(|k| self.lemma(k))
            .collect();
        let has = |ws: &[&str], w: &[&str]| ws.iter().any(|x| w.contains(x));
        if has(
            &before,
            &[
                "start",
                "starting",
                "begin",
                "beginning",
                "starts",
                "begins",
                "prefix",
            ],
        ) {
            return Some(format!("{esc}%"));
        }
        if has(&before, &["end", "ending", "ends", "suffix"]) {
            return Some(format!("%{esc}"));
        }
        let substring_words = [
            "contain",
            "containing",
            "contains",
            "include",
            "including",
            "includes",
            "substring",
            "like",
            "word",
            "mention",
            "mentioning",
        ];
        if has(&before, &substring_words)
            || (after.first() == Some(&"in") && m.quoted.is_some())
            || m.partial
        {
            return Some(format!("%{esc}%"));
        }
        None
    }

    pub(super) fn negated_before(&self, start: usize) -> bool {
        let lo = start.saturating_sub(3);
        (lo..start).any(|k| {
            matches!(
                self.lemma(k),
                "not" | "no" | "except" | "excluding" | "without" | "never" | "nor"
            ) || (self.lemma(k) == "other" && self.lemma(k + 1) == "than")
        })
    }

    /// The column a value belongs to: in the subject, in a table in play, closest to the subject.
    pub(super) fn choose_value_column(&mut self, mi: usize) -> Option<(usize, usize, String)> {
        self.cache_subject_distances();
        let m = &self.ments[mi];
        let vals = &m.values;
        // A column another value of the question already filters ("code PP or PPT").
        let same_column = vals.iter().find(|v| {
            let e = self.col_expr(v.table, v.column);
            self.filters.iter().any(|f| match f {
                Condition::Compare {
                    left,
                    op: CmpOp::Eq,
                    ..
                } => *left == e,
                Condition::Or(cs) => cs
                    .iter()
                    .any(|c| matches!(c, Condition::Compare { left, .. } if *left == e)),
                _ => false,
            })
        });
        let in_subject = same_column.or_else(|| {
            self.subject
                .and_then(|s| vals.iter().find(|v| v.table == s))
        });
        let in_play = vals.iter().find(|v| self.tables.contains(&v.table));
        let nearest = self.subject.and_then(|s| {
            vals.iter()
                .filter_map(|v| self.distance_from_subject(s, v.table).map(|d| (d, v)))
                .min_by_key(|(d, v)| (*d, self.idx.tables[v.table].row_count))
                .map(|(_, v)| v)
        });
        let pick = in_subject.or(in_play).or(nearest).or(vals.first())?;
        let distinct_cols = {
            let mut c: Vec<(usize, usize)> = vals.iter().map(|v| (v.table, v.column)).collect();
            c.sort();
            c.dedup();
            c.len()
        };
        // Several columns of the same standing hold the value ("wyoming": a city's name and
        // its state's name): the pick is a guess, however near the table.
        let rivals = |keep: &dyn Fn(usize) -> bool| {
            let mut c: Vec<(usize, usize)> = vals
                .iter()
                .filter(|v| keep(v.table))
                .map(|v| (v.table, v.column))
                .collect();
            c.sort();
            c.dedup();
            c.len()
        };
        let guessed = if same_column.is_some() {
            false
        } else if in_subject.is_some() {
            rivals(&|t| Some(t) == self.subject) > 1
        } else if in_play.is_some() {
            rivals(&|t| self.tables.contains(&t)) > 1
        } else {
            distinct_cols > 1
        };
        if guessed {
            self.penalize(0.8, format!("'{}' appears in several columns", pick.value));
        }
        Some((pick.table, pick.column, pick.value.clone()))
    }
}
