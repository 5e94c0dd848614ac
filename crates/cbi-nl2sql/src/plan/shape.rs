//! The answer's shape: explicit ordering, grouping, superlatives and top-N.

use super::*;

impl Planner<'_> {
    /// "ordered by X", "sorted by X descending", "in descending order of X", "alphabetically".
    pub(super) fn pass_order(&mut self) {
        let n = self.toks.len();
        let mut cue = None;
        for i in 0..n {
            // The surface form: "orders by shipping cost" is a table and a ranking, not "order by".
            let a = self.toks[i].norm.as_str();
            let b = self.lemma(i + 1);
            let is_sort = matches!(
                a,
                "order"
                    | "ordered"
                    | "sort"
                    | "sorted"
                    | "rank"
                    | "ranked"
                    | "arrange"
                    | "arranged"
                    | "organize"
                    | "organized"
            ) && matches!(b, "by" | "in" | "of" | "from" | "according");
            let is_order_of = a == "order" && matches!(b, "of" | "by");
            // "ordered" and "order" may also have linked to an `orders` table: here they are
            // the sorting cue (a one-word mention of it is consumed as such).
            let single_word = self
                .mention_at(i)
                .is_none_or(|m| self.ments[m].end - self.ments[m].start == 1);
            if (is_sort || is_order_of) && single_word {
                cue = Some(i);
                break;
            }
            if matches!(a, "alphabetically" | "alphabetical") {
                cue = Some(i);
                break;
            }
        }
        // "Sort employee names by their age": a sorting verb first, its keys after "by".
        if cue.is_none() && matches!(self.lemma(0), "sort" | "order" | "rank" | "arrange") {
            if let Some(by) =
                (1..n).find(|&k| self.lemma(k) == "by" && self.mention_at(k).is_none())
            {
                self.cue[0] = true;
                cue = Some(by - 1);
            }
        }
        let Some(start) = cue else {
            return;
        };
        // The sorting words themselves ("in alphabetical order", "in descending order", "sorted
        // by") are cues, even where a word also names a table.
        for k in start.saturating_sub(3)..n {
            let w = self.lemma(k);
            let sorting = matches!(
                w,
                "order"
                    | "ordered"
                    | "sort"
                    | "sorted"
                    | "alphabetical"
                    | "alphabetically"
                    | "descending"
                    | "ascending"
                    | "increasing"
                    | "decreasing"
                    | "reverse"
            ) && (k >= start || matches!(self.lemma(k + 1), "order" | "by"));
            if sorting {
                self.cue[k] = true;
                if let Some(m) = self.mention_at(k) {
                    if self.ments[m].end - self.ments[m].start == 1 {
                        self.used[m] = true;
                    }
                }
            }
        }
        let mut desc = false;
        let mut explicit_dir = false;
        for i in start.saturating_sub(3)..n {
            if self.mention_at(i).is_some() {
                continue;
            }
            let w = self.lemma(i);
            if matches!(w, "descending" | "desc" | "decreasing" | "reverse")
                || (w == "high" || w == "highest" || w == "most" || w == "largest") && i > start
            {
                if !(i > 0 && matches!(self.lemma(i - 1), "to")) {
                    desc = true;
                    explicit_dir = true;
                }
                self.cue[i] = true;
            } else if matches!(
                w,
                "ascending" | "asc" | "increasing" | "alphabetical" | "alphabetically"
            ) || (w == "low" || w == "lowest") && i > start
            {
                if !(i > 0 && matches!(self.lemma(i - 1), "to")) {
                    explicit_dir = true;
                }
                self.cue[i] = true;
            }
        }
        // "from the oldest to the youngest", "from highest to lowest"
        for i in start..n {
            if self.lemma(i) != "from" {
                continue;
            }
            let j = if self.lemma(i + 1) == "the" {
                i + 2
            } else {
                i + 1
            };
            let w = self.lemma(j);
            let dir = superlative(w)
                .or_else(|| implied_column(w).map(|(_, more)| more))
                .or(match w {
                    "high" | "large" | "big" | "most" | "old" | "many" | "more" => Some(true),
                    "low" | "small" | "least" | "young" | "few" | "less" => Some(false),
                    _ => None,
                });
            if let Some(d) = dir {
                desc = d;
                explicit_dir = true;
                let mut k = i;
                while k < n && k <= j + 3 {
                    let l = self.lemma(k);
                    if k > j
                        && !matches!(l, "to" | "the")
                        && superlative(l).is_none()
                        && implied_column(l).is_none()
                        && !matches!(
                            l,
                            "high"
                                | "low"
                                | "large"
                                | "small"
                                | "old"
                                | "young"
                                | "few"
                                | "many"
                                | "least"
                                | "most"
                        )
                    {
                        break;
                    }
                    self.cue[k] = true;
                    k += 1;
                }
            }
        }
        let _ = explicit_dir;
        self.cue[start] = true;
        if start + 1 < n {
            self.cue[start + 1] = true;
        }
        let mut items = Vec::new();
        let mut i = start + 1;
        while i < n {
            let Some(mi) = self.mention_at(i) else {
                let w = self.lemma(i);
                if matches!(
                    w,
                    "," | "and"
                        | "then"
                        | "the"
                        | "their"
                        | "its"
                        | "of"
                        | "by"
                        | "in"
                        | "descending"
                        | "ascending"
                        | "order"
                        | "decreasing"
                        | "increasing"
                        | "from"
                        | "to"
                        | "high"
                        | "low"
                        | "highest"
                        | "lowest"
                        | "alphabetical"
                        | "alphabetically"
                        | "number"
                        | "value"
                        | "count"
                ) || self.toks[i].kind == TokenKind::Punct && w == ","
                {
                    i += 1;
                    continue;
                }
                if agg_word(w).is_some() {
                    i += 1;
                    continue;
                }
                break;
            };
            let m = &self.ments[mi];
            if m.has_column() {
                if let Some((t, c)) = self.resolve(mi) {
                    let agg = self.agg_before(m.start);
                    let e = match agg {
                        Some((f, _)) => Expr::agg(f, self.col_expr(t, c)),
                        None => self.col_expr(t, c),
                    };
                    items.push(e);
                    self.used[mi] = true;
                }
            } else if m.has_table()
                && (self.lemma(m.start.saturating_sub(1)) == "of"
                    && self.lemma(m.start.saturating_sub(2)) == "number")
            {
                items.push(Expr::CountStar);
                self.used[mi] = true;
            } else {
                break;
            }
            i = self.ments[mi].end;
        }
        if items.is_empty() {
            // "alphabetically", "in descending order": order by the first selected column, decided
            // after the select list is known.
            self.order.push(OrderItem {
                expr: Expr::Literal(Literal::Null),
                desc,
            });
            return;
        }
        for e in items {
            self.order.push(OrderItem { expr: e, desc });
        }
    }

    /// An aggregation word right before token `i` (skipping "the"), with its position.
    pub(super) fn agg_before(&self, i: usize) -> Option<(AggFunc, usize)> {
        let mut j = i;
        let mut skipped = false;
        while j > 0 {
            j -= 1;
            let w = self.lemma(j);
            if matches!(w, "the" | "of" | "all" | "'s") {
                continue;
            }
            if w == "number" || w == "count" {
                return Some((AggFunc::Count, j));
            }
            if let Some(f) = agg_word(w) {
                return Some((f, j));
            }
            // "average expected life expectancy": one unknown adjective in between.
            if !skipped
                && self.mention_at(j).is_none()
                && content_word(&self.toks[j])
                && !self.cue[j]
                && agg_word(self.lemma(j.wrapping_sub(1))).is_some()
            {
                skipped = true;
                continue;
            }
            // "the minimum product price": a table named as a modifier in between.
            if !skipped {
                if let Some(m) = self.mention_at(j) {
                    let m = &self.ments[m];
                    let modifier = m.has_table()
                        || m.columns().next().is_some_and(|(t, c, _)| {
                            !self.idx.tables[t].column_class[c].is_numeric()
                        });
                    if modifier && m.end == j + 1 && i == j + 1 {
                        skipped = true;
                        j = m.start;
                        continue;
                    }
                }
            }
            return None;
        }
        None
    }

    /// "for each X", "per X", "by X", "in each X", "of each X", "each X's".
    pub(super) fn pass_group(&mut self) {
        let n = self.toks.len();
        let mut i = 0;
        while i < n {
            let w = self.lemma(i).to_string();
            let w = w.as_str();
            let prev = if i > 0 {
                self.toks[i - 1].norm.as_str()
            } else {
                ""
            };
            let start = match w {
                "each" | "every" if matches!(prev, "for" | "in" | "of" | "from" | "to" | "by") => {
                    Some(i + 1)
                }
                "each" | "every" if i == 0 || self.mention_before(i, &[]).is_none() => Some(i + 1),
                "per" => Some(i + 1),
                // "the maximum accelerate for different number of cylinders"
                "different" | "distinct"
                    if prev == "for"
                        || (prev == "the"
                            && self.lemma(i.wrapping_sub(2)) == "all"
                            && self.lemma(i.wrapping_sub(3)) == "for") =>
                {
                    Some(
                        if self.lemma(i + 1) == "number" && self.lemma(i + 2) == "of" {
                            i + 3
                        } else {
                            i + 1
                        },
                    )
                }
                "by" if !matches!(
                    prev,
                    "order"
                        | "ordered"
                        | "sort"
                        | "sorted"
                        | "rank"
                        | "ranked"
                        | "group"
                        | "grouped"
                        | "directed"
                        | "written"
                        | "produced"
                        | "made"
                        | "owned"
                        | "played"
                        | "performed"
                        | "sung"
                        | "taught"
                        | "arranged"
                        | "organized"
                ) && self.mention_at(i).is_none()
                    && !self.cue[i] =>
                {
                    Some(i + 1)
                }
                "group" | "grouped" | "broken" | "breakdown"
                    if matches!(self.lemma(i + 1), "by") =>
                {
                    Some(i + 2)
                }
                "broken" if self.lemma(i + 1) == "down" && self.lemma(i + 2) == "by" => Some(i + 3),
                _ => None,
            };
            let Some(s) = start else {
                i += 1;
                continue;
            };
            let Some(mi) =
                self.mention_after(s, &["the", "different", "distinct", "their", "its", "a"])
            else {
                i += 1;
                continue;
            };
            if self.used[mi] {
                i += 1;
                continue;
            }
            // "top 3 brands by units sold", "the 3 largest orders by shipping cost": with a
            // ranking, "by" names what to rank by, not a grouping.
            if self.lemma(i) == "by" && self.ranking() {
                if let Some((e, agg)) = self.measure_of(mi) {
                    self.used[mi] = true;
                    self.cue[i] = true;
                    let desc = !self.toks.iter().any(|t| {
                        matches!(
                            t.lemma.as_str(),
                            "bottom"
                                | "worst"
                                | "lowest"
                                | "smallest"
                                | "least"
                                | "fewest"
                                | "cheapest"
                        )
                    });
                    if agg && self.group.is_empty() {
                        self.group_by_subject();
                    }
                    // The things ranked are shown by their label.
                    if self.select.is_empty() {
                        if let Some(s) = self.subject {
                            for l in self.label_exprs(s) {
                                if agg && !self.group.contains(&l) {
                                    self.group.push(l.clone());
                                }
                                self.select.push(SelectItem {
                                    expr: l,
                                    alias: None,
                                });
                            }
                        }
                    }
                    // Show what was ranked by, beside the things ranked.
                    if !self.select.iter().any(|s| s.expr == e) {
                        let alias = match &e {
                            Expr::Raw { label, .. } => Some(label.clone()),
                            _ => None,
                        };
                        self.select.push(SelectItem {
                            expr: e.clone(),
                            alias,
                        });
                    }
                    for k in 0..self.toks.len() {
                        if matches!(
                            self.lemma(k),
                            "best"
                                | "worst"
                                | "largest"
                                | "biggest"
                                | "highest"
                                | "lowest"
                                | "smallest"
                        ) {
                            self.cue[k] = true;
                        }
                    }
                    self.order.push(OrderItem { expr: e, desc });
                    i = self.ments[mi].end;
                    continue;
                }
            }
            let m = &self.ments[mi];
            let expr = if m.has_column()
                && (!m.has_table() || m.columns().next().is_some_and(|c| c.2 >= 1.0))
            {
                let Some((t, c)) = self.resolve(mi) else {
                    i += 1;
                    continue;
                };
                self.col_expr(t, c)
            } else if let Some(t) = m.tables().next() {
                if self.subject == Some(t) && self.count.is_none() && w == "by" {
                    i += 1;
                    continue;
                }
                if !self.tables.contains(&t) {
                    self.tables.push(t);
                }
                // A column of that table asked for up front ("template ids … for each
                // template") is the group key itself.
                if let Some((hm, ht, hc)) = self.head_column_in(t) {
                    self.used[hm] = true;
                    self.used[mi] = true;
                    for k in i..s {
                        self.cue[k] = true;
                    }
                    // Rows of the table are the groups: its key keeps equal names apart (a
                    // type or status column groups by its values).
                    let kinds = self.idx.tables[ht].column_words[hc]
                        .last()
                        .is_some_and(|w| is_category_word(w));
                    if let Some(pk) = self.idx.tables[t].pk {
                        if ht == t && hc != pk && !kinds {
                            let k = self.col_expr(t, pk);
                            if !self.group.contains(&k) {
                                self.group.push(k);
                            }
                        }
                    }
                    let e = self.col_expr(ht, hc);
                    if !self.group.contains(&e) {
                        self.group.push(e.clone());
                    }
                    if !self.select.iter().any(|x| x.expr == e) {
                        self.select.insert(
                            0,
                            SelectItem {
                                expr: e,
                                alias: None,
                            },
                        );
                    }
                    i = self.ments[mi].end;
                    continue;
                }
                match self.idx.tables[t].display.or(self.idx.tables[t].pk) {
                    Some(c) => {
                        // Group by the key when there is one, show the name.
                        if let (Some(pk), Some(d)) =
                            (self.idx.tables[t].pk, self.idx.tables[t].display)
                        {
                            if pk != d {
                                self.group.push(self.col_expr(t, pk));
                            }
                        }
                        if let Some(x) = self.idx.tables[t].display_extra {
                            let e = self.col_expr(t, x);
                            self.group.push(e.clone());
                            self.select.insert(
                                0,
                                SelectItem {
                                    expr: e,
                                    alias: None,
                                },
                            );
                        }
                        self.col_expr(t, c)
                    }
                    None => {
                        i += 1;
                        continue;
                    }
                }
            } else if let Some(Element::Term(ti)) = m.best_element() {
                match self.idx.term(ti).clone() {
                    cbi_types::TermTarget::Column(c) => match self.term_column(&c) {
                        Some((t, c)) => self.col_expr(t, c),
                        None => {
                            i += 1;
                            continue;
                        }
                    },
                    _ => {
                        i += 1;
                        continue;
                    }
                }
            } else {
                i += 1;
                continue;
            };
            self.used[mi] = true;
            for k in i..s {
                self.cue[k] = true;
            }
            if !self.group.contains(&expr) {
                self.group.push(expr.clone());
            }
            // The group shows up in the answer.
            if !self.select.iter().any(|s| s.expr == expr) {
                self.select.insert(0, SelectItem { expr, alias: None });
            }
            i = self.ments[mi].end;
        }
    }

    /// "the highest X", "the most Y", "the oldest", "top 5", "most common X".
    pub(super) fn pass_superlatives(&mut self) {
        let n = self.toks.len();
        // top-N: "top 5", "the 3 countries with the fewest people", "first 10"
        for i in 0..n {
            let w = self.lemma(i);
            if matches!(w, "top" | "first" | "bottom" | "last") && !self.cue[i] {
                if let Some(v) = self.toks.get(i + 1).and_then(|t| t.number()) {
                    if v >= 1.0 && v.fract() == 0.0 {
                        self.limit = Some(v as u64);
                        self.cue[i] = true;
                        self.cue[i + 1] = true;
                    }
                }
            }
        }
        if self.limit.is_none() {
            // "the 3 countries", "5 largest"
            for i in 0..n {
                if let Some(v) = self.toks[i].number() {
                    let before = if i > 0 { self.lemma(i - 1) } else { "" };
                    let after_sup = self.toks.get(i + 1).is_some_and(|t| {
                        superlative(&t.lemma).is_some() || implied_column(&t.lemma).is_some()
                    });
                    // "which 3 cities": the things counted, a table or a column's values.
                    let noun_after = self.mention_after(i + 1, &[]).is_some_and(|m| {
                        self.ments[m].has_table()
                            || (matches!(before, "which" | "what") && self.ments[m].has_column())
                    });
                    // "the 3 countries …", "which 3 employees …"
                    let counted_noun = matches!(before, "the" | "which" | "what") && noun_after;
                    if v >= 1.0 && v.fract() == 0.0 && (after_sup || counted_noun) {
                        let has_sup = self.toks.iter().any(|t| {
                            superlative(&t.lemma).is_some()
                                || implied_column(&t.lemma)
                                    .is_some_and(|_| t.lemma.ends_with("est"))
                        });
                        if has_sup {
                            self.limit = Some(v as u64);
                            self.cue[i] = true;
                        }
                    }
                }
            }
        }
        let mut i = 0;
        while i < n {
            if self.cue[i]
                || self.mention_at(i).is_some_and(|m| {
                    self.ments[m].has_column() && superlative(self.lemma(i)).is_none()
                })
            {
                i += 1;
                continue;
            }
            let w = self.lemma(i).to_string();
            // "most common/popular/frequent X": the mode.
            if matches!(w.as_str(), "most" | "least")
                && matches!(
                    self.lemma(i + 1),
                    "common" | "popular" | "frequent" | "frequently" | "often" | "used"
                )
            {
                let desc = w == "most";
                let target = self
                    .mention_after(i + 2, &["the", "a", "an", "used", "type", "of"])
                    .filter(|&m| !self.used[m])
                    .or_else(|| {
                        self.mention_before(i, &["the", "be", "a", "what", "which", "is"])
                            .filter(|&m| !self.used[m])
                    });
                self.cue[i] = true;
                self.cue[i + 1] = true;
                if let Some(mi) = target {
                    if let Some((t, c)) = if self.ments[mi].has_column() {
                        self.resolve(mi)
                    } else {
                        None
                    } {
                        let e = self.col_expr(t, c);
                        self.used[mi] = true;
                        if !self.group.contains(&e) {
                            self.group.push(e.clone());
                        }
                        if !self.select.iter().any(|s| s.expr == e) {
                            self.select.push(SelectItem {
                                expr: e,
                                alias: None,
                            });
                        }
                    } else if let Some(t) = self.ments[mi].tables().next() {
                        self.used[mi] = true;
                        self.group_by_table(t);
                    }
                }
                self.order.push(OrderItem {
                    expr: Expr::CountStar,
                    desc,
                });
                self.limit.get_or_insert(1);
                i += 2;
                continue;
            }
            // "the most expensive product", "the least expensive": an adjective that implies a
            // column, made superlative.
            if matches!(w.as_str(), "most" | "least") {
                let adj = self.lemma(i + 1).to_string();
                if implied_column(&adj).is_some() {
                    if let Some((t, c, more)) = self.implied(&adj) {
                        let desc = if w == "most" { more } else { !more };
                        self.cue[i] = true;
                        self.cue[i + 1] = true;
                        let col = self.col_expr(t, c);
                        self.order.push(OrderItem { expr: col, desc });
                        self.limit.get_or_insert(1);
                        if !self.tables.contains(&t) {
                            self.tables.push(t);
                        }
                        i += 2;
                        continue;
                    }
                }
            }
            let sup = superlative(&w);
            let implied = implied_column(&w).is_some() && (w.ends_with("est") || w == "eldest");
            if sup.is_none() && !implied {
                i += 1;
                continue;
            }
            // "at least", "at most" are comparisons.
            if i > 0 && self.lemma(i - 1) == "at" {
                i += 1;
                continue;
            }
            if matches!(w.as_str(), "most" | "least") && matches!(self.lemma(i + 1), "than") {
                i += 1;
                continue;
            }
            // "the maximum age" asked for is an aggregate, left to the aggregate pass.
            if matches!(w.as_str(), "maximum" | "minimum" | "max" | "min")
                && i < self.first_filter_cue(1)
                && (self.is_aggregate_head(i)
                    || matches!(
                        self.lemma(i.wrapping_sub(1)),
                        "and" | "," | "the" | "its" | "their"
                    ))
                && !matches!(
                    self.lemma(i.wrapping_sub(1)),
                    "with" | "has" | "have" | "had"
                )
            {
                i += 1;
                continue;
            }
            let desc = sup.unwrap_or(true);
            // What is maximised: the next mention ("highest age", "most number of concerts",
            // "the largest capacity"), or the implied column ("oldest").
            let filler = [
                "number",
                "of",
                "amount",
                "count",
                "total",
                "the",
                "a",
                "value",
                "average",
                "avg",
                "mean",
                "sum",
                "different",
                "distinct",
            ];
            let next = self
                .mention_after(i + 1, &filler)
                .filter(|&m| !self.used[m]);
            let counted = (i + 1..next.map_or(i + 1, |m| self.ments[m].start))
                .any(|k| matches!(self.lemma(k), "number" | "count"));
            let agg = (i + 1..next.map_or(i + 1, |m| self.ments[m].start)).find_map(|k| {
                agg_word(self.lemma(k)).filter(|f| *f != AggFunc::Max && *f != AggFunc::Min)
            });
            self.cue[i] = true;
            let aggregate_head = self.is_aggregate_head(i);
            match next.map(|m| (m, &self.ments[m])) {
                Some((mi, m))
                    if m.has_column()
                        && !counted
                        && (!m.has_table() || m.columns().next().is_some_and(|c| c.2 >= 1.0))
                        && (!implied || !self.next_is_table(mi)) =>
                {
                    let Some((t, c)) = self.resolve(mi) else {
                        i += 1;
                        continue;
                    };
                    self.used[mi] = true;
                    let col = self.col_expr(t, c);
                    if aggregate_head && agg.is_none() {
                        let f = if desc { AggFunc::Max } else { AggFunc::Min };
                        self.select.push(SelectItem {
                            expr: Expr::agg(f, col),
                            alias: None,
                        });
                    } else if self.count.is_some()
                        && agg.is_none()
                        && self.subject.is_some_and(|s| s != t)
                    {
                        // "the number of concerts in the stadium with the largest capacity"
                        let f = if desc { AggFunc::Max } else { AggFunc::Min };
                        let sub = SemanticQuery {
                            select: vec![SelectItem {
                                expr: Expr::agg(f, col.clone()),
                                alias: None,
                            }],
                            tables: vec![self.table_name(t)],
                            ..Default::default()
                        };
                        self.filters.push(Condition::Compare {
                            left: col,
                            op: CmpOp::Eq,
                            right: Operand::Query(Box::new(sub)),
                        });
                        if !self.tables.contains(&t) {
                            self.tables.push(t);
                        }
                    } else {
                        // "Which brand sold the most units?": a quantity from another table than
                        // the thing asked about is summed per that thing.
                        // "Which 3 employees logged the most overtime hours?": the same for
                        // a quantity of the subject's events (rows that point at it).
                        let head = self.head_column(i);
                        // Only "most"/"least" accumulate: "the biggest bonus" is one bonus.
                        let of_events = head.is_none()
                            && matches!(w.as_str(), "most" | "least" | "fewest")
                            && self.subject.is_some_and(|s| {
                                s != t && self.idx.graph.edges.iter().any(|e| e.a == t && e.b == s)
                            });
                        let per_head = agg.is_none()
                            && self.is_measure_column(t, c)
                            && (head.is_some_and(|(_, ht, _)| ht != t) || of_events);
                        let e = match agg {
                            Some(f) => Expr::agg(f, col),
                            None if per_head => Expr::agg(AggFunc::Sum, col),
                            None => col,
                        };
                        if matches!(e, Expr::Agg { .. }) && self.group.is_empty() {
                            self.group_by_subject();
                        }
                        self.order.push(OrderItem { expr: e, desc });
                        self.limit.get_or_insert(1);
                    }
                    i = self.ments[mi].end;
                    continue;
                }
                Some((mi, m)) if (m.has_table() || counted) && !implied => {
                    // "the most concerts", "the fewest number of players": count per subject
                    // (or per the column the question asks about: "which year has the most").
                    let t = m.tables().next();
                    self.used[mi] = true;
                    if let Some(t) = t {
                        if !self.tables.contains(&t) {
                            self.tables.push(t);
                        }
                    }
                    if self.group.is_empty() {
                        match self.head_column(i) {
                            Some((hm, t, c)) => {
                                self.used[hm] = true;
                                let e = self.col_expr(t, c);
                                self.group.push(e.clone());
                                self.select.push(SelectItem {
                                    expr: e,
                                    alias: None,
                                });
                            }
                            None => self.group_by_subject(),
                        }
                    }
                    self.order.push(OrderItem {
                        expr: Expr::CountStar,
                        desc,
                    });
                    self.limit.get_or_insert(1);
                    i = self.ments[mi].end;
                    continue;
                }
                Some((mi, m)) if matches!(m.best_element(), Some(Element::Term(_))) => {
                    let ti = match m.best_element() {
                        Some(Element::Term(ti)) => ti,
                        _ => 0,
                    };
                    if let cbi_types::TermTarget::Measure(_) = self.idx.term(ti) {
                        self.used[mi] = true;
                        let e = self.term_expr(ti);
                        if self.group.is_empty() {
                            self.group_by_subject();
                        }
                        self.order.push(OrderItem { expr: e, desc });
                        self.limit.get_or_insert(1);
                        i = self.ments[mi].end;
                        continue;
                    }
                }
                _ => {}
            }
            if implied {
                if let Some((t, c, more)) = self.implied(&w) {
                    let col = self.col_expr(t, c);
                    // "the cheapest product" picks a product; "the oldest age" would be a value.
                    let picks_row = self
                        .mention_after(i + 1, &["the", "a"])
                        .is_some_and(|m| self.ments[m].has_table());
                    if aggregate_head && !picks_row {
                        let f = if more { AggFunc::Max } else { AggFunc::Min };
                        self.select.push(SelectItem {
                            expr: Expr::agg(f, col),
                            alias: None,
                        });
                    } else {
                        self.order.push(OrderItem {
                            expr: col,
                            desc: more,
                        });
                        self.limit.get_or_insert(1);
                    }
                    if !self.tables.contains(&t) {
                        self.tables.push(t);
                    }
                    i += 1;
                    continue;
                }
            }
            if matches!(w.as_str(), "most" | "least" | "fewest") {
                // "which X has the most?" with nothing after: count per subject.
                if self.group.is_empty() {
                    self.group_by_subject();
                }
                self.order.push(OrderItem {
                    expr: Expr::CountStar,
                    desc,
                });
                self.limit.get_or_insert(1);
            } else {
                self.cue[i] = false;
            }
            i += 1;
        }
    }

    /// "surface area … together", "sales in total": a sum cue after a measure column.
    pub(super) fn total_after(&self, mi: usize) -> Option<(AggFunc, usize)> {
        let m = &self.ments[mi];
        let (t, c, _) = m.columns().next()?;
        if !self.is_measure_column(t, c) {
            return None;
        }
        (m.end..(m.end + 6).min(self.toks.len())).find_map(|k| {
            match (self.lemma(k), self.lemma(k + 1)) {
                ("in", "total") => Some((AggFunc::Sum, k + 1)),
                ("altogether" | "together" | "combined" | "overall", _) => Some((AggFunc::Sum, k)),
                _ => None,
            }
        })
    }

    /// Whether the question ranks things ("top 5", "the 3 largest", "worst").
    pub(super) fn ranking(&self) -> bool {
        self.toks.iter().any(|t| {
            matches!(
                t.lemma.as_str(),
                "top"
                    | "bottom"
                    | "best"
                    | "worst"
                    | "largest"
                    | "biggest"
                    | "highest"
                    | "lowest"
                    | "smallest"
                    | "most"
                    | "least"
            )
        })
    }

    pub(super) fn next_is_table(&self, mi: usize) -> bool {
        let m = &self.ments[mi];
        m.has_table() && !m.columns().next().is_some_and(|c| c.2 >= 1.0)
    }

    /// Whether a superlative at token `i` is the thing asked for ("what is the highest age")
    /// rather than a way of picking rows ("the singer with the highest age").
    pub(super) fn is_aggregate_head(&self, i: usize) -> bool {
        // Nothing but head words before it, and no entity or column that is asked for before.
        let before_ok = (0..i).all(|k| {
            let w = self.lemma(k);
            is_head_word(w)
                || matches!(
                    w,
                    "the" | "of" | "be" | "what" | "is" | "and" | "," | "their"
                )
                || self.cue[k]
        });
        if !before_ok {
            return false;
        }
        // "What is the highest age of singers" vs "Which singer is the oldest"; and a ranking
        // ("top 3 highest rated") picks rows.
        !matches!(self.lemma(0), "which" | "who") && !self.has_word("whose") && self.limit.is_none()
    }

    pub(super) fn group_by_table(&mut self, t: usize) {
        if !self.tables.contains(&t) {
            self.tables.push(t);
        }
        let info = &self.idx.tables[t];
        if let Some(pk) = info.pk {
            self.group.push(self.col_expr(t, pk));
        } else if let Some(d) = info.display {
            self.group.push(self.col_expr(t, d));
        }
        for e in self.label_exprs(t) {
            if !self.select.iter().any(|s| s.expr == e) {
                self.select.push(SelectItem {
                    expr: e,
                    alias: None,
                });
            }
        }
    }

    /// Groups by the subject table's key (for "the X with the most Y").
    pub(super) fn group_by_subject(&mut self) {
        // "Which brands have more than 10 products": the column the question asks about is
        // the group, when it asks about a column rather than a table.
        let head_end = self.first_filter_cue(1);
        if let Some((hm, t, c)) = self.head_column(head_end) {
            self.used[hm] = true;
            let e = self.col_expr(t, c);
            self.group.push(e.clone());
            if !self.select.iter().any(|s| s.expr == e) {
                self.select.push(SelectItem {
                    expr: e,
                    alias: None,
                });
            }
            return;
        }
        let Some(s) = self.subject else {
            return;
        };
        let info = &self.idx.tables[s];
        if let Some(pk) = info.pk {
            self.group.push(self.col_expr(s, pk));
        } else if let Some(d) = info.display {
            self.group.push(self.col_expr(s, d));
        } else if let Some(c) = (0..self.idx.table(s).columns.len()).next() {
            self.group.push(self.col_expr(s, c));
        }
    }
}
