//! What to show: aggregates, the select list, and relationships to other tables (including
//! their negation).

use super::*;

/// `x` when a measure's SQL is exactly `SUM(x)`.
pub(super) fn sum_argument(e: &Expr) -> Option<&str> {
    let Expr::Raw { sql, .. } = e else {
        return None;
    };
    let t = sql.trim();
    let inner = t
        .strip_prefix("SUM(")
        .or_else(|| t.strip_prefix("sum("))?
        .strip_suffix(')')?;
    // Only a single SUM(...) wrapping the whole expression.
    let mut depth = 0i32;
    for c in inner.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return None;
                }
            }
            _ => {}
        }
    }
    (depth == 0).then_some(inner)
}

impl Planner<'_> {
    /// "the average, minimum and maximum age": several aggregations of one column.
    pub(super) fn pass_agg_lists(&mut self) {
        let n = self.toks.len();
        let mut i = 0;
        while i < n {
            let Some(f0) = agg_word(self.lemma(i)).filter(|_| !self.cue[i]) else {
                i += 1;
                continue;
            };
            let mut aggs = vec![(f0, i)];
            let mut j = i + 1;
            loop {
                let mut k = j;
                while k < n && matches!(self.lemma(k), "," | "and" | "or" | "the") {
                    k += 1;
                }
                match agg_word(self.lemma(k)) {
                    Some(f) if k > j => {
                        aggs.push((f, k));
                        j = k + 1;
                    }
                    _ => break,
                }
            }
            if aggs.len() < 2 {
                i += 1;
                continue;
            }
            let Some(mi) = self
                .mention_after(j, &["the", "of"])
                .filter(|&m| !self.used[m] && self.ments[m].has_column())
            else {
                i = j;
                continue;
            };
            let Some((t, c)) = self.resolve(mi) else {
                i = j;
                continue;
            };
            self.used[mi] = true;
            for (f, at) in aggs {
                self.cue[at] = true;
                if let Some(am) = self.mention_at(at) {
                    self.used[am] = true;
                }
                self.select.push(SelectItem {
                    expr: Expr::agg(f, self.col_expr(t, c)),
                    alias: None,
                });
            }
            i = self.ments[mi].end;
        }
    }

    /// "average age", "total sales", "maximum capacity", "number of different countries".
    pub(super) fn pass_aggregates(&mut self) {
        for mi in 0..self.ments.len() {
            if self.used[mi] {
                continue;
            }
            let m = &self.ments[mi];
            let Some((f, at)) = self.agg_before(m.start).or_else(|| self.total_after(mi)) else {
                continue;
            };
            if self.cue[at] && f == AggFunc::Count {
                continue;
            }
            // "the minimum product price": "product" only modifies the numeric column after it.
            let modifies_next = f != AggFunc::Count
                && self.ments.get(mi + 1).is_some_and(|n| {
                    n.start == m.end
                        && n.columns()
                            .any(|(t, c, _)| self.idx.tables[t].column_class[c].is_numeric())
                })
                && !m
                    .columns()
                    .next()
                    .is_some_and(|(t, c, _)| self.idx.tables[t].column_class[c].is_numeric());
            if modifies_next {
                self.used[mi] = true;
                continue;
            }
            if m.has_column() && !(f == AggFunc::Count && m.has_table()) {
                let Some((t, mut c)) = self.resolve(mi) else {
                    continue;
                };
                // "total spend" where `spend_dt` is what "spend" names: a sum is of money.
                if matches!(f, AggFunc::Sum) && self.idx.tables[t].temporal.contains(&c) {
                    if let Some(money) = self.money_column(t) {
                        c = money;
                    }
                }
                let distinct = (at..m.start)
                    .any(|k| matches!(self.lemma(k), "different" | "distinct" | "unique"));
                let e = Expr::Agg {
                    func: f,
                    arg: Box::new(self.col_expr(t, c)),
                    distinct: distinct && f == AggFunc::Count,
                };
                self.select.push(SelectItem {
                    expr: e,
                    alias: None,
                });
                self.used[mi] = true;
                self.cue[at] = true;
                if let Some(am) = self.mention_at(at) {
                    self.used[am] = true;
                }
            } else if let Some(t) = m.tables().next().filter(|_| f == AggFunc::Count) {
                self.used[mi] = true;
                self.cue[at] = true;
                if !self.tables.contains(&t) && self.subject != Some(t) {
                    self.tables.push(t);
                }
                self.select.push(SelectItem {
                    expr: Expr::CountStar,
                    alias: None,
                });
                if self.group.is_empty() && self.subject.is_some_and(|s| s != t) {
                    self.group_by_subject();
                }
            } else if let Some((t, c)) = m
                .tables()
                .next()
                .filter(|_| matches!(f, AggFunc::Sum | AggFunc::Avg))
                .and_then(|t| Some((t, self.money_column(t)?)))
            {
                // "total spend" where `ad_spend_daily` is what "spend" names: its money.
                self.used[mi] = true;
                self.cue[at] = true;
                if !self.tables.contains(&t) && self.subject != Some(t) {
                    self.tables.push(t);
                }
                self.select.push(SelectItem {
                    expr: Expr::agg(f, self.col_expr(t, c)),
                    alias: None,
                });
            } else if let Some(Element::Term(ti)) = m.best_element().filter(|e| {
                // A filter term ("active subscriptions") says which rows, not what to add up.
                !matches!(e, Element::Term(ti) if matches!(self.idx.term(*ti), cbi_types::TermTarget::Filter(_)))
            }) {
                self.used[mi] = true;
                self.cue[at] = true;
                let mut e = self.term_expr(ti);
                let name = self.idx.aug.semantic.business_terms[ti].name.clone();
                let mut alias = Some(name.clone());
                if !e.is_aggregate() {
                    e = Expr::agg(f, e);
                } else if let Some(inner) =
                    sum_argument(&e).filter(|_| f != AggFunc::Sum && f != AggFunc::Count)
                {
                    // "the average refund" of a measure defined as SUM(x) is AVG(x).
                    e = Expr::Raw {
                        sql: format!("{}({inner})", f.sql()),
                        tables: self.term_tables(ti),
                        label: format!("{} {name}", f.word()),
                    };
                    alias = Some(format!("{} {name}", f.word()));
                }
                self.select.push(SelectItem { expr: e, alias });
            }
        }
        // "how many X": the counted thing.
        if let Some(ch) = self.count {
            let item = match ch.mention {
                Some(mi)
                    if !self.used[mi]
                        && self.ments[mi].has_column()
                        && (ch.distinct || !self.ments[mi].has_table()) =>
                {
                    self.used[mi] = true;
                    match self.resolve(mi) {
                        // "how many different countries": distinct values; "how many models":
                        // rows of the table holding them.
                        Some((t, c)) if ch.distinct => Expr::Agg {
                            func: AggFunc::Count,
                            arg: Box::new(self.col_expr(t, c)),
                            distinct: true,
                        },
                        // "how many units were sold": a quantity is summed, not counted — unless
                        // one row is picked ("how many cylinders does the fastest car have").
                        Some((t, c))
                            if self.is_measure_column(t, c)
                                && self.limit.is_none()
                                && self.order.is_empty() =>
                        {
                            if self.subject.is_none() {
                                self.subject = Some(t);
                            } else if self.subject != Some(t) && !self.tables.contains(&t) {
                                self.tables.push(t);
                            }
                            Expr::agg(AggFunc::Sum, self.col_expr(t, c))
                        }
                        Some((t, c)) if self.is_measure_column(t, c) => self.col_expr(t, c),
                        Some((t, _)) => {
                            if self.subject.is_none() {
                                self.subject = Some(t);
                            } else if self.subject != Some(t) && !self.tables.contains(&t) {
                                self.tables.push(t);
                            }
                            Expr::CountStar
                        }
                        None => Expr::CountStar,
                    }
                }
                Some(mi) => {
                    let mut item = Expr::CountStar;
                    if let Some(t) = self.ments[mi].tables().next() {
                        if !self.used[mi] {
                            self.used[mi] = true;
                            if self.subject != Some(t) && !self.tables.contains(&t) {
                                self.tables.push(t);
                            }
                        }
                        // "how many different templates do documents use": distinct rows of
                        // the counted table once other tables are joined in.
                        if ch.distinct {
                            if let Some(pk) = self.idx.tables[t].pk {
                                item = Expr::Agg {
                                    func: AggFunc::Count,
                                    arg: Box::new(self.col_expr(t, pk)),
                                    distinct: true,
                                };
                            }
                        }
                    }
                    item
                }
                None => Expr::CountStar,
            };
            // "how many units were sold in total": already answered by the sum above.
            let answered = ch
                .mention
                .is_some_and(|mi| self.used[mi] && !self.ments[mi].has_table())
                && self.select.iter().any(|s| s.expr.is_aggregate());
            if !answered && !self.select.iter().any(|s| s.expr == item) {
                self.select.push(SelectItem {
                    expr: item,
                    alias: None,
                });
            }
        }
        // Business-term measures named without an aggregation word ("revenue by region").
        for mi in 0..self.ments.len() {
            if self.used[mi] {
                continue;
            }
            if let Some(Element::Term(ti)) = self.ments[mi].best_element() {
                match self.idx.term(ti).clone() {
                    cbi_types::TermTarget::Measure(_) => {
                        self.used[mi] = true;
                        let e = self.term_expr(ti);
                        let label = self.idx.aug.semantic.business_terms[ti].name.clone();
                        self.select.push(SelectItem {
                            expr: e,
                            alias: Some(label),
                        });
                    }
                    cbi_types::TermTarget::Filter(sql) => {
                        self.used[mi] = true;
                        let tables = self.term_tables(ti);
                        let label = self.idx.aug.semantic.business_terms[ti].name.clone();
                        let negated = self.negated_before(self.ments[mi].start);
                        let cond = Condition::Raw {
                            sql: if negated { format!("NOT ({sql})") } else { sql },
                            tables,
                            label,
                        };
                        self.filters.push(cond);
                    }
                    cbi_types::TermTarget::Column(_) => {}
                }
            }
        }
    }

    /// The select list: columns named before the first filter cue (and those chained to them
    /// with "and"), else the subject's display column.
    /// The one measure column of a table that holds money (`amt_usd` beside `clk_cnt`), if
    /// exactly one does.
    pub(super) fn money_column(&self, t: usize) -> Option<usize> {
        let words = &self.idx.tables[t].column_words;
        let hits: Vec<usize> = (0..words.len())
            .filter(|&c| {
                self.is_measure_column(t, c)
                    && words[c].iter().any(|w| MONEY_WORDS.contains(&w.as_str()))
            })
            .collect();
        if let [c] = hits.as_slice() {
            return Some(*c);
        }
        // Several (subtotal, tax, total): the one that says it is the whole amount.
        for whole in ["total", "amount"] {
            let mut named = hits
                .iter()
                .filter(|&&c| words[c].first().is_some_and(|w| w == whole));
            if let (Some(&c), None) = (named.next(), named.next()) {
                return Some(c);
            }
        }
        None
    }

    /// "MRR by plan name", "tax per currency": a measure column shown beside a grouping
    /// ("by", "per") is totalled per group (averaged when it is a price, rate or score), never
    /// listed row by row.
    pub(super) fn total_measures_by_group(&mut self) {
        let measured = self.select.iter().any(|s| s.expr.is_aggregate())
            || self.order.iter().any(|o| o.expr.is_aggregate())
            || !self.having.is_empty();
        if self.group.is_empty() || measured || !(self.has_word("by") || self.has_word("per")) {
            return;
        }
        for k in 0..self.select.len() {
            let e = &self.select[k].expr;
            if !matches!(e, Expr::Column(_)) || self.group.contains(e) {
                continue;
            }
            let Some((t, c)) = self.column_of(e) else {
                continue;
            };
            if !self.is_measure_column(t, c) {
                continue;
            }
            let averaged = self.idx.tables[t].column_words[c]
                .iter()
                .any(|w| is_averaged_word(w));
            let f = if averaged { AggFunc::Avg } else { AggFunc::Sum };
            let col = self.select[k].expr.clone();
            self.select[k].expr = Expr::agg(f, col);
        }
    }

    /// "List all IT support specialists with their hire dates": the rows listed are shown by
    /// their label, then what comes "with their" (or "with its").
    pub(super) fn label_before_with_their(&mut self) {
        let Some(w) = self
            .has_phrase(&["with", "their"])
            .or_else(|| self.has_phrase(&["with", "its"]))
        else {
            return;
        };
        let Some(s) = self.subject else { return };
        // The subject must be what is listed before "with": no column asked for up front.
        // A flag read as a filter ("the preferred carriers with their …") asks for nothing.
        let filtered = |m: &crate::link::Mention| match m.best_element() {
            Some(Element::Column(t, c)) => {
                let e = self.col_expr(t, c);
                self.filters
                    .iter()
                    .any(|f| matches!(f, Condition::Compare { left, .. } if *left == e))
            }
            _ => false,
        };
        let asked_before = self.ments.iter().any(|m| {
            m.end <= w && m.has_column() && !m.is_value() && !m.has_table() && !filtered(m)
        });
        if asked_before || !self.group.is_empty() {
            return;
        }
        if self.select.iter().any(|i| i.expr.is_aggregate()) {
            return;
        }
        let labels = self.label_exprs(s);
        if labels.is_empty()
            || labels
                .iter()
                .any(|l| self.select.iter().any(|i| &i.expr == l))
        {
            return;
        }
        for (k, l) in labels.into_iter().enumerate() {
            self.select.insert(
                k,
                SelectItem {
                    expr: l,
                    alias: None,
                },
            );
        }
    }

    /// "Leads created per month", "parcel count per warehouse": rows grouped with nothing
    /// measured are counted — a grouping never shows bare columns alone.
    pub(super) fn count_grouped_rows(&mut self) {
        let measured = self.select.iter().any(|s| s.expr.is_aggregate())
            || self.order.iter().any(|o| o.expr.is_aggregate())
            || !self.having.is_empty();
        // Grouping by a row's own key ("the name of each teacher") lists rows; it counts nothing.
        let per_row = self.group.iter().any(|g| match g {
            Expr::Column(c) => self.idx.aug.schema.table_index(&c.table).is_some_and(|t| {
                let info = &self.idx.tables[t];
                let key = self.idx.table(t).column_index(&c.column);
                key.is_some() && (key == info.pk || key == info.display)
            }),
            _ => false,
        });
        if self.group.is_empty() || per_row || measured || self.ambiguity.is_some() {
            return;
        }
        self.select.push(SelectItem {
            expr: Expr::CountStar,
            alias: None,
        });
    }

    /// "How much did we invoice?": an amount, the sum of the subject's money, when nothing else
    /// was asked to be shown.
    ///
    /// The same when all that would be shown is a row's key or label ("How much did we invoice
    /// in Q4?" read `invoice` as `invoice_id`): "how much" asks for an amount.
    pub(super) fn how_much_is_money(&mut self) {
        if self.has_phrase(&["how", "much"]).is_none() {
            return;
        }
        let only_labels = !self.select.is_empty()
            && self.select.iter().all(|item| {
                matches!(item.expr, Expr::Column(_))
                    && self.column_of(&item.expr).is_some_and(|(t, c)| {
                        let info = &self.idx.tables[t];
                        let key = info.pk == Some(c)
                            || info.column_words[c].last().is_some_and(|w| w == "id");
                        key || !info.column_class[c].is_numeric()
                    })
            });
        // "How much were the exceptions in total?": the one amount shown, summed.
        if let [item] = self.select.as_slice() {
            let measure = matches!(item.expr, Expr::Column(_))
                && self
                    .column_of(&item.expr)
                    .is_some_and(|(t, c)| self.is_measure_column(t, c));
            if measure && self.group.is_empty() && self.order.is_empty() {
                let col = self.select[0].expr.clone();
                self.select[0].expr = Expr::agg(AggFunc::Sum, col);
                return;
            }
        }
        if !self.defaulted_select && !only_labels {
            return;
        }
        let money = self.subject.and_then(|s| Some((s, self.money_column(s)?)));
        let Some((s, c)) = money else {
            self.penalize(
                0.6,
                "\"how much\" asks for an amount, and no one money column is it",
            );
            return;
        };
        self.select = vec![SelectItem {
            expr: Expr::agg(AggFunc::Sum, self.col_expr(s, c)),
            alias: None,
        }];
        self.defaulted_select = false;
        self.group.clear();
    }

    /// Equalities on one column that no row can meet at once (`status = 'a' AND status = 'b'`,
    /// or an OR of values beside another value) read the question wrong: never a sure answer.
    pub(super) fn contradictory_filters(&mut self) {
        let eq_values = |c: &Condition| -> Option<(Expr, Vec<Literal>)> {
            match c {
                Condition::Compare {
                    left,
                    op: CmpOp::Eq,
                    right: Operand::Literal(l),
                } => Some((left.clone(), vec![l.clone()])),
                Condition::InList {
                    expr,
                    values,
                    negated: false,
                } => Some((expr.clone(), values.clone())),
                Condition::Or(parts) => {
                    let mut col: Option<Expr> = None;
                    let mut vals = Vec::new();
                    for p in parts {
                        let Condition::Compare {
                            left,
                            op: CmpOp::Eq,
                            right: Operand::Literal(l),
                        } = p
                        else {
                            return None;
                        };
                        if col.as_ref().is_some_and(|c| c != left) {
                            return None;
                        }
                        col = Some(left.clone());
                        vals.push(l.clone());
                    }
                    col.map(|c| (c, vals))
                }
                _ => None,
            }
        };
        let sets: Vec<(Expr, Vec<Literal>)> = self.filters.iter().filter_map(eq_values).collect();
        for (i, (a, va)) in sets.iter().enumerate() {
            for (b, vb) in &sets[i + 1..] {
                if a == b && !va.iter().any(|v| vb.contains(v)) {
                    self.penalize(
                        0.5,
                        "asks for rows where one column has two different values",
                    );
                    return;
                }
            }
        }
    }

    /// "Where is Austin?" answered with `city_name` where `city_name = 'austin'`: every column
    /// shown is pinned to a value by the question, so the answer only repeats it.
    pub(super) fn answer_repeats_question(&mut self) {
        let pinned = |e: &Expr| {
            self.filters.iter().any(|f| {
                matches!(f, Condition::Compare { left, op: CmpOp::Eq, right: Operand::Literal(_) } if left == e)
            })
        };
        if !self.select.is_empty() && self.select.iter().all(|s| pinned(&s.expr)) {
            self.penalize(
                0.5,
                "the answer would only repeat the values in the question",
            );
        }
    }

    /// A shown column beside an aggregate is a grouping: never a bare column, whose value
    /// would be arbitrary on SQLite and an error on PostgreSQL.
    /// The same holds when the query groups, or ranks or filters by an aggregate ("the
    /// stadium with the most concerts": its name and capacity are both groupings).
    pub(super) fn group_shown_columns(&mut self) {
        let aggregated = !self.group.is_empty()
            || self.select.iter().any(|s| s.expr.is_aggregate())
            || self.order.iter().any(|o| o.expr.is_aggregate())
            || !self.having.is_empty();
        if !aggregated {
            return;
        }
        let plain: Vec<Expr> = self
            .select
            .iter()
            .filter(|s| {
                matches!(
                    s.expr,
                    Expr::Column(_) | Expr::Folded(_) | Expr::TimeBucket { .. }
                )
            })
            .map(|s| s.expr.clone())
            .collect();
        for e in plain {
            if !self.group.contains(&e) {
                self.group.push(e);
            }
        }
        self.fold_spellings_of_groups();
        // An ordering by a column the groups do not have names no value of a group: it was
        // misread, and the question's ranking is not what runs.
        let before = self.order.len();
        let group = &self.group;
        self.order.retain(|o| {
            !matches!(o.expr, Expr::Column(_) | Expr::Folded(_)) || group.contains(&o.expr)
        });
        if self.order.len() < before {
            self.penalize(0.7, "an ordering column is not a grouping");
        }
    }

    /// A grouping by a column that stores one label several ways ("Acme", "acme ") groups
    /// the folded label, so each customer is one group (shown folded too).
    pub(super) fn fold_spellings_of_groups(&mut self) {
        let fold = |idx: &crate::index::SchemaIndex, e: &Expr| -> Option<Expr> {
            let Expr::Column(r) = e else { return None };
            let t = idx.aug.schema.table_index(&r.table)?;
            let c = idx
                .table(t)
                .columns
                .iter()
                .position(|c| c.name == r.column)?;
            idx.spelled_several_ways
                .contains(&(t, c))
                .then(|| Expr::Folded(r.clone()))
        };
        for k in 0..self.group.len() {
            let Some(folded) = fold(self.idx, &self.group[k]) else {
                continue;
            };
            let plain = std::mem::replace(&mut self.group[k], folded.clone());
            for item in &mut self.select {
                if item.expr == plain {
                    item.expr = folded.clone();
                }
            }
            for o in &mut self.order {
                if o.expr == plain {
                    o.expr = folded.clone();
                }
            }
        }
    }

    /// "Top 5 customers by number of shipments": a top-N with no ordering word ranks by the
    /// one measure shown, largest first ("bottom 5": smallest first).
    pub(super) fn order_top_n_by_measure(&mut self) {
        if self.limit.is_none() || !self.order.is_empty() {
            return;
        }
        let mut measures = self.select.iter().filter(|s| s.expr.is_aggregate());
        let (Some(m), None) = (measures.next(), measures.next()) else {
            return;
        };
        let desc = !self.has_word("bottom");
        self.order.push(OrderItem {
            expr: m.expr.clone(),
            desc,
        });
    }

    /// "Top 3 destination countries by freight spend", "top 5 countries by number of
    /// sessions": a top-N of a column's values ranked by a measure named after "by" groups by
    /// the column and shows the measure — a sum of a measure column (an average after
    /// "average"), or the number of rows.
    pub(super) fn rank_values_by_measure(&mut self) {
        if self.limit.is_none()
            || !self.group.is_empty()
            || !self.order.is_empty()
            || self.select.iter().any(|s| s.expr.is_aggregate())
        {
            return;
        }
        // "by" may have been read as a grouping cue that found nothing to group by.
        let Some(by) = (1..self.toks.len()).find(|&i| self.lemma(i) == "by") else {
            return;
        };
        // The ranked values: the last column named before "by" and shown, not a measure.
        let Some((ct, cc)) = self
            .ments
            .iter()
            .filter(|m| m.end <= by && !m.is_value())
            .filter_map(|m| {
                m.columns().map(|(t, c, _)| (t, c)).find(|&(t, c)| {
                    !self.is_measure_column(t, c)
                        && self.select.iter().any(|s| s.expr == self.col_expr(t, c))
                })
            })
            .next_back()
        else {
            return;
        };
        let ranked = self.col_expr(ct, cc);
        let words_after = |n: usize| -> Vec<&str> {
            (by + 1..(by + 1 + n).min(self.toks.len()))
                .map(|k| self.lemma(k))
                .collect()
        };
        let counted = matches!(words_after(2).as_slice(), ["number" | "count", "of", ..]);
        let averaged = words_after(2)
            .iter()
            .any(|w| matches!(*w, "average" | "avg" | "mean"));
        let after = self
            .ments
            .iter()
            .find(|m| m.start > by && m.start <= by + 4 && !m.is_value())
            .and_then(|m| m.best_element());
        // "by freight spend": money no column is named for, the money column of the ranked
        // values' table the other words name.
        let money = || {
            let words = words_after(4);
            if !words.iter().any(|w| MONEY_WORDS.contains(w)) {
                return None;
            }
            let info = &self.idx.tables[ct];
            let moneys: Vec<usize> = (0..info.column_words.len())
                .filter(|&c| {
                    self.is_measure_column(ct, c)
                        && info.column_words[c]
                            .iter()
                            .any(|w| MONEY_WORDS.contains(&w.as_str()))
                })
                .collect();
            match moneys.as_slice() {
                [one] => Some(*one),
                _ => moneys.into_iter().find(|&c| {
                    info.column_words[c]
                        .iter()
                        .any(|w| !MONEY_WORDS.contains(&w.as_str()) && words.contains(&w.as_str()))
                }),
            }
        };
        let agg = if averaged { AggFunc::Avg } else { AggFunc::Sum };
        let named = match after {
            Some(Element::Column(t, c)) if self.is_measure_column(t, c) => Some((t, c)),
            _ => None,
        };
        let measure = if counted || (named.is_none() && matches!(after, Some(Element::Table(_)))) {
            Expr::CountStar
        } else if let Some((t, c)) = named {
            if !self.tables.contains(&t) && self.subject != Some(t) {
                self.tables.push(t);
            }
            Expr::agg(agg, self.col_expr(t, c))
        } else if let Some(c) = money() {
            Expr::agg(agg, self.col_expr(ct, c))
        } else {
            return;
        };
        self.cue[by] = true;
        self.select = vec![
            SelectItem {
                expr: ranked.clone(),
                alias: None,
            },
            SelectItem {
                expr: measure.clone(),
                alias: None,
            },
        ];
        self.group = vec![ranked];
        self.order = vec![OrderItem {
            expr: measure,
            desc: !self.has_word("bottom"),
        }];
        self.distinct = false;
    }

    /// "Top 5 campaigns by total spend": a top-N of a table whose only answer is a measure
    /// ranks the table's rows by it, each shown by its label beside the measure.
    pub(super) fn rank_subject_by_measure(&mut self) {
        if self.limit.is_none_or(|n| n <= 1)
            || !self.group.is_empty()
            || self.select.is_empty()
            || !self.select.iter().all(|s| s.expr.is_aggregate())
        {
            return;
        }
        let Some(s) = self.subject else { return };
        // The subject must be named in the question, not only implied by the measure.
        let named = self.ments.iter().any(|m| m.tables().any(|t| t == s));
        if !named {
            return;
        }
        let measures = std::mem::take(&mut self.select);
        self.group_by_table(s);
        self.select.extend(measures);
        if self.order.is_empty() {
            if let Some(m) = self.select.iter().find(|s| s.expr.is_aggregate()) {
                self.order.push(OrderItem {
                    expr: m.expr.clone(),
                    desc: !self.has_word("bottom"),
                });
            }
        }
    }

    /// "The 5 campaigns with the most leads": a ranking of several shows what it ranks by,
    /// so the reader sees why each row is there.
    pub(super) fn show_ranked_measure(&mut self) {
        if self.limit.is_none_or(|n| n <= 1) {
            return;
        }
        let ranked: Vec<Expr> = self
            .order
            .iter()
            .filter(|o| o.expr.is_aggregate())
            .map(|o| o.expr.clone())
            .collect();
        for e in ranked {
            if !self.select.iter().any(|s| s.expr == e) {
                self.select.push(SelectItem {
                    expr: e,
                    alias: None,
                });
            }
        }
    }

    pub(super) fn pass_select(&mut self) {
        let head_end = self.first_filter_cue(1);
        let mut picked = Vec::new();
        for mi in 0..self.ments.len() {
            if self.used[mi] {
                continue;
            }
            let m = &self.ments[mi];
            let in_head = m.start < head_end;
            let chained = !in_head
                && picked.last().is_some_and(|&p: &usize| {
                    let pm = &self.ments[p];
                    (pm.end..m.start).all(|k| {
                        matches!(
                            self.lemma(k),
                            "and"
                                | ","
                                | "the"
                                | "their"
                                | "its"
                                | "also"
                                | "as"
                                | "well"
                                | "along"
                                | "with"
                                | "together"
                                | "corresponding"
                                | "respective"
                                | "plus"
                        )
                    })
                });
            if !(in_head || chained) {
                continue;
            }
            // A count question shows the count, not the columns it mentions on the way.
            if self.count.is_some() && self.group.is_empty() && m.has_column() && !m.has_table() {
                continue;
            }
            if m.has_column()
                && (!m.has_table()
                    || m.columns().next().is_some_and(|c| c.2 >= 1.0)
                        && self.subject.is_some_and(|s| m.columns().any(|c| c.0 == s)))
            {
                if let Some((t, c)) = self.resolve(mi) {
                    self.used[mi] = true;
                    let e = self.col_expr(t, c);
                    if !self.select.iter().any(|s| s.expr == e) {
                        self.select.push(SelectItem {
                            expr: e,
                            alias: None,
                        });
                    }
                    picked.push(mi);
                }
            } else if let Some(Element::Term(ti)) = m.best_element() {
                if let cbi_types::TermTarget::Column(_) = self.idx.term(ti) {
                    self.used[mi] = true;
                    let e = self.term_expr(ti);
                    self.select.push(SelectItem {
                        expr: e,
                        alias: None,
                    });
                    picked.push(mi);
                }
            } else if chained && !picked.is_empty() {
                // "names of teachers and the courses they teach": another table's label.
                if let Some(t) = m.tables().next().filter(|&t| Some(t) != self.subject) {
                    if let Some(d) = self.idx.tables[t].display.or(self.idx.tables[t].pk) {
                        self.used[mi] = true;
                        if !self.tables.contains(&t) {
                            self.tables.push(t);
                        }
                        let e = self.col_expr(t, d);
                        if !self.select.iter().any(|s| s.expr == e) {
                            self.select.push(SelectItem {
                                expr: e,
                                alias: None,
                            });
                        }
                        picked.push(mi);
                    }
                }
            }
        }
        if let Some(s) = self.subject {
            if !self.tables.contains(&s) {
                self.tables.insert(0, s);
            } else if let Some(pos) = self.tables.iter().position(|&t| t == s) {
                self.tables.remove(pos);
                self.tables.insert(0, s);
            }
        }
        let has_plain = self.select.iter().any(|s| !s.expr.is_aggregate());
        let has_any = !self.select.is_empty();
        let _ = has_plain;
        if !has_any {
            self.defaulted_select = true;
            // Nothing named: the subject's name (or everything for "show X").
            if let Some(s) = self.subject {
                let info = &self.idx.tables[s];
                let wants_all = self.has_word("information")
                    || self.has_word("info")
                    || self.has_word("detail")
                    || self.has_word("everything")
                    || self.has_word("record")
                    || self.intent == Intent::Explore;
                if wants_all || (info.display.is_none() && info.pk.is_none()) {
                    for c in 0..self.idx.table(s).columns.len() {
                        self.select.push(SelectItem {
                            expr: self.col_expr(s, c),
                            alias: None,
                        });
                    }
                    if self.intent != Intent::Explore && !wants_all {
                        self.penalize(0.8, "nothing specific was asked for; showing every column");
                    }
                } else {
                    let labels = self.label_exprs(s);
                    let grouped_elsewhere = labels.first().is_some_and(|e| {
                        !self.group.is_empty()
                            && !self.group.contains(e)
                            && self.group.iter().all(|g| g.is_aggregate() || !matches!(g, Expr::Column(c) if c.table == self.idx.table(s).name))
                    });
                    if !grouped_elsewhere {
                        for (k, e) in labels.into_iter().enumerate() {
                            self.select.insert(
                                k,
                                SelectItem {
                                    expr: e,
                                    alias: None,
                                },
                            );
                        }
                    }
                }
            }
        }
        // Deferred "order by the first selected column" (alphabetically, "in descending order").
        if let Some(pos) = self
            .order
            .iter()
            .position(|o| o.expr == Expr::Literal(Literal::Null))
        {
            let desc = self.order[pos].desc;
            match self.select.first() {
                Some(s) => {
                    self.order[pos] = OrderItem {
                        expr: s.expr.clone(),
                        desc,
                    }
                }
                None => {
                    self.order.remove(pos);
                }
            }
        }
        // Distinct: "different", "distinct", "unique" before a plain select.
        if (self.has_word("different") || self.has_word("distinct") || self.has_word("unique"))
            && !self.select.iter().any(|s| s.expr.is_aggregate())
            && self.group.is_empty()
        {
            self.distinct = true;
        }
    }

    /// Tables named but not yet used: relationships ("singers who performed in a concert"),
    /// negated ones ("countries with no car makers").
    pub(super) fn pass_tables(&mut self) {
        for mi in 0..self.ments.len() {
            if self.used[mi] {
                continue;
            }
            let m = &self.ments[mi];
            let Some(t) = m.tables().next() else { continue };
            self.used[mi] = true;
            if Some(t) == self.subject {
                continue;
            }
            let negated = self.negated_before(m.start)
                || (m.start >= 2
                    && self.lemma(m.start - 1) == "any"
                    && self.negated_before(m.start - 1));
            if negated {
                if let Some(mut cond) = self.not_in_related(t) {
                    // Filters on the negated side belong inside: "stadiums that did not have a
                    // concert in 2014".
                    if let Condition::InQuery { query, .. } = &mut cond {
                        let inner: Vec<String> = query.tables.clone();
                        let subject_name =
                            self.subject.map(|s| self.table_name(s)).unwrap_or_default();
                        let mut keep = Vec::new();
                        for f in std::mem::take(&mut self.filters) {
                            let mut ts = Vec::new();
                            f.tables(&mut ts);
                            let inside = !ts.is_empty()
                                && ts.iter().all(|x| {
                                    inner.iter().any(|y| y.eq_ignore_ascii_case(x))
                                        && !x.eq_ignore_ascii_case(&subject_name)
                                });
                            if inside {
                                query.filters.push(f);
                            } else {
                                keep.push(f);
                            }
                        }
                        self.filters = keep;
                        self.tables.retain(|&x| {
                            !inner
                                .iter()
                                .any(|y| y.eq_ignore_ascii_case(&self.idx.table(x).name))
                        });
                    }
                    self.filters.push(cond);
                    continue;
                }
            }
            if !self.tables.contains(&t) {
                self.tables.push(t);
            }
        }
        // A join that only checks existence duplicates subject rows: ask for distinct rows when
        // nothing is aggregated.
        if self.tables.len() > 1
            && self.group.is_empty()
            && !self.select.iter().any(|s| s.expr.is_aggregate())
        {
            let subject = self.subject;
            let selected_only_subject = self.select.iter().all(|s| {
                let mut ts = Vec::new();
                s.expr.tables(&mut ts);
                ts.iter().all(|x| {
                    subject.is_some_and(|st| self.idx.table(st).name.eq_ignore_ascii_case(x))
                })
            });
            if selected_only_subject && self.order.is_empty() {
                self.distinct = true;
            }
        }
    }

    /// `subject.key NOT IN (SELECT fk FROM t)` for "X with no T" / "X that do not have any T".
    pub(super) fn not_in_related(&mut self, t: usize) -> Option<Condition> {
        let s = self.subject?;
        let tree = self.idx.graph.connect(&[s, t])?;
        let (ei, _) = *tree.joins.first()?;
        let e = &self.idx.graph.edges[ei];
        let (s_cols, other, o_cols) = if e.a == s {
            (&e.a_cols, e.b, &e.b_cols)
        } else {
            (&e.b_cols, e.a, &e.a_cols)
        };
        if s_cols.len() != 1 {
            return None;
        }
        let sub = SemanticQuery {
            select: vec![SelectItem {
                expr: self.col_expr(other, o_cols[0]),
                alias: None,
            }],
            tables: tree
                .tables
                .iter()
                .skip(1)
                .map(|&x| self.table_name(x))
                .collect(),
            ..Default::default()
        };
        let _ = t;
        Some(Condition::InQuery {
            expr: self.col_expr(s, s_cols[0]),
            query: Box::new(sub),
            negated: true,
        })
    }
}
