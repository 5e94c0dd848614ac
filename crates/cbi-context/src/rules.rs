//! The edit rules: each a small named unit that changes the query in focus by one part of a
//! follow-up's [`Reading`], and says what it did. [`apply`] runs them in order.

use cbi_nl2sql::SchemaIndex;
use cbi_nl2sql::query::{
    AggFunc, CmpOp, ColumnRef, Condition, Expr, Literal, Operand, OrderItem, SelectItem,
    SemanticQuery, TimeGrain,
};
use cbi_types::{SqlDialect, TypeClass};
use serde::Serialize;

use crate::reference::{Reading, ReferenceResolver, Resolved};
use crate::tracker::{Focus, cond_columns, expr_columns};

/// The kinds of edit a follow-up makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Edit {
    /// A new question over the same rows ("what are their names?", "the orders behind that").
    CarryOver,
    /// Another measure or aggregate ("the average instead", "show profit").
    MeasureSwap,
    /// "No, I meant revenue".
    Correction,
    /// Another breakdown ("by month", "per category instead").
    Regroup,
    /// A value filter added or changed ("only online", "what about the West?").
    Filter,
    /// A time range added or changed ("only 2023", "the second half").
    Time,
    /// Side by side with another period or value ("compared with last year").
    Compare,
    /// "Which had the highest?", "top 3 of those".
    Rank,
    /// "Sort by seats, biggest first".
    Reorder,
    /// "How many are there?": the rows in focus counted.
    Count,
    /// "The maximum and the minimum": aggregates of the column listed.
    Summarize,
    /// "How about more than 3?": the number of a comparison changed.
    Recompare,
    /// "Filter out duplicates".
    Distinct,
    /// "Limit it to one".
    Limit,
    /// "All the models except those": the focus's condition negated.
    Complement,
    /// "What are they?" after a count: the rows or values counted.
    ListCounted,
}

impl Edit {
    pub fn name(self) -> &'static str {
        match self {
            Edit::CarryOver => "carry_over",
            Edit::MeasureSwap => "measure_swap",
            Edit::Correction => "correction",
            Edit::Regroup => "regroup",
            Edit::Filter => "filter",
            Edit::Time => "time",
            Edit::Compare => "compare",
            Edit::Rank => "rank",
            Edit::Reorder => "reorder",
            Edit::Count => "count",
            Edit::Summarize => "summarize",
            Edit::Recompare => "recompare",
            Edit::Distinct => "distinct",
            Edit::Limit => "limit",
            Edit::Complement => "complement",
            Edit::ListCounted => "list_counted",
        }
    }
}

/// What the rules work on.
pub struct Cx<'a, 'b> {
    pub res: &'a ReferenceResolver<'b>,
    pub reading: &'a Reading,
    pub focus: &'a Focus,
    pub query: SemanticQuery,
    /// What each edit did, in words.
    pub notes: Vec<String>,
    pub edits: Vec<Edit>,
    /// Values already placed by an earlier rule (by index in the reading).
    pub values_done: Vec<bool>,
    pub confidence: f32,
    pub reasons: Vec<String>,
}

impl std::fmt::Debug for Cx<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cx")
            .field("query", &self.query)
            .field("edits", &self.edits)
            .finish()
    }
}

/// One edit rule.
pub trait Rule {
    fn name(&self) -> &'static str;
    /// Edits `cx.query`; the edit made, if any.
    fn apply(&self, cx: &mut Cx<'_, '_>) -> Option<Edit>;
}

/// The rules, in the order they run. [`CarryOver`] ends the run when it applies: the
/// follow-up is a question of its own over the same rows.
pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(ListCounted),
        Box::new(Complement),
        Box::new(CountRows),
        Box::new(Summarize),
        Box::new(SwapMeasure),
        Box::new(CompareWith),
        Box::new(Regroup),
        Box::new(Refilter),
        Box::new(Retime),
        Box::new(Reorder),
        Box::new(Recompare),
        Box::new(Rank),
        Box::new(Distinct),
        Box::new(Limit),
    ]
}

/// Runs the rules on the query in focus; the complete query, or `None` when no rule could
/// place the follow-up.
pub fn apply(
    res: &ReferenceResolver<'_>,
    reading: &Reading,
    focus: &Focus,
    prev: &SemanticQuery,
) -> Option<Resolved> {
    let mut cx = Cx {
        res,
        reading,
        focus,
        query: prev.clone(),
        notes: Vec::new(),
        edits: Vec::new(),
        values_done: vec![false; reading.values.len()],
        confidence: 0.95,
        reasons: Vec::new(),
    };
    if let Some(e) = CarryOver.apply(&mut cx) {
        cx.edits.push(e);
    } else {
        for rule in rules() {
            if let Some(e) = rule.apply(&mut cx) {
                cx.edits.push(e);
            }
        }
    }
    if cx.edits.is_empty() {
        return None;
    }
    if cx.edits == [Edit::CarryOver] {
        // The planner accounted for the words itself.
    } else {
        let left = reading.unexplained();
        if !left.is_empty() {
            cx.confidence *= 0.8f32.powi(left.len().min(4) as i32);
            cx.reasons.push(format!(
                "the follow-up's words \"{}\" were not used",
                left.join(" ")
            ));
        }
        if reading.versus_average {
            cx.confidence *= 0.5;
            cx.reasons
                .push("a comparison with the average is not made here".to_string());
        }
    }
    // Every edit must still make a query the schema can answer.
    cbi_nl2sql::sql::render(&cx.query, res.idx, SqlDialect::Sqlite).ok()?;
    let explanation = if cx.edits == [Edit::CarryOver] {
        format!(
            "Follow-up to \"{}\": {}",
            focus.question,
            cx.notes.join("; ")
        )
    } else {
        format!(
            "Follow-up to \"{}\": the same answer, {}.",
            focus.question,
            cx.notes.join(", ")
        )
    };
    Some(Resolved {
        query: cx.query,
        edits: cx.edits,
        confidence: cx.confidence.clamp(0.0, 1.0),
        reasons: cx.reasons,
        explanation,
    })
}

// ----- helpers ---------------------------------------------------------------------------------

/// The date column a follow-up's period or "by month" is about: the one the focus already
/// uses, else the first date column of its tables (subject first), else of a table next to
/// the subject (its events first).
pub fn date_column(idx: &SchemaIndex, focus: &Focus) -> Option<ColumnRef> {
    if let Some(t) = &focus.time {
        return Some(t.column.clone());
    }
    for d in &focus.dimensions {
        if let Expr::TimeBucket { column, .. } = d {
            return Some(column.clone());
        }
    }
    let schema = &idx.aug.schema;
    let col = |t: usize| {
        idx.tables[t].temporal.first().map(|&c| ColumnRef {
            table: idx.table(t).name.clone(),
            column: idx.column_name(t, c).to_string(),
        })
    };
    // Measures date by their facts ("revenue in 2024" is when the orders were placed, not when
    // the stores opened): the measures' tables, then the tables next to them (their events,
    // the busiest first), then the rest.
    let mut facts: Vec<String> = Vec::new();
    for m in &focus.measures {
        m.tables(&mut facts);
    }
    if facts.is_empty() || focus.measures.contains(&Expr::CountStar) {
        facts.extend(focus.subject.iter().cloned());
    }
    let facts: Vec<usize> = facts.iter().filter_map(|t| schema.table_index(t)).collect();
    for &t in &facts {
        if let Some(c) = col(t) {
            return Some(c);
        }
    }
    for &t in &facts {
        let mut near: Vec<usize> = (0..idx.tables.len())
            .filter(|&u| u != t && idx.graph.distance(t, u) == Some(1))
            .collect();
        near.sort_by_key(|&u| std::cmp::Reverse(idx.tables[u].row_count));
        if let Some(c) = near.into_iter().find_map(col) {
            return Some(c);
        }
    }
    focus
        .tables
        .iter()
        .filter_map(|t| schema.table_index(t))
        .find_map(col)
}

fn columns_of_cond(c: &Condition) -> Vec<ColumnRef> {
    let mut out = Vec::new();
    cond_columns(c, &mut |x| out.push(x.clone()));
    out
}

/// Whether a filter is an equality-like condition on `col` (`=`, `<>`, `IN`).
fn is_value_filter_on(c: &Condition, col: &ColumnRef) -> bool {
    let on = |e: &Expr| matches!(e, Expr::Column(x) | Expr::Folded(x) if x == col);
    match c {
        Condition::Compare {
            left,
            op: CmpOp::Eq | CmpOp::NotEq,
            right: Operand::Literal(_),
        } => on(left),
        Condition::InList { expr, .. } | Condition::Like { expr, .. } => on(expr),
        Condition::Or(parts) => parts.iter().all(|p| is_value_filter_on(p, col)),
        _ => false,
    }
}

/// Whether a filter limits a date column to a period.
fn is_time_filter(idx: &SchemaIndex, c: &Condition) -> bool {
    let temporal = |col: &ColumnRef| {
        idx.aug.schema.table_index(&col.table).is_some_and(|t| {
            idx.table(t)
                .column_index(&col.column)
                .is_some_and(|ci| idx.tables[t].temporal.contains(&ci))
        })
    };
    match c {
        Condition::Compare {
            left: Expr::Column(col),
            right: Operand::Literal(Literal::Date(_)),
            ..
        }
        | Condition::Between {
            expr: Expr::Column(col),
            low: Literal::Date(_),
            ..
        } => temporal(col),
        _ => false,
    }
}

/// Whether a text column stores one label several ways (case, spaces).
fn several_ways(idx: &SchemaIndex, col: &ColumnRef) -> bool {
    idx.aug.schema.table_index(&col.table).is_some_and(|t| {
        idx.table(t)
            .column_index(&col.column)
            .is_some_and(|c| idx.spelled_several_ways.contains(&(t, c)))
    })
}

fn literal_for(idx: &SchemaIndex, col: &ColumnRef, value: &str) -> Literal {
    let class = idx
        .aug
        .schema
        .table_index(&col.table)
        .and_then(|t| {
            let c = idx.table(t).column_index(&col.column)?;
            idx.tables[t].column_class.get(c).copied()
        })
        .unwrap_or(TypeClass::Text);
    match class {
        TypeClass::Integer => value
            .parse()
            .map(Literal::Int)
            .unwrap_or_else(|_| Literal::Text(value.to_string())),
        TypeClass::Float | TypeClass::Decimal => value
            .parse()
            .map(Literal::Float)
            .unwrap_or_else(|_| Literal::Text(value.to_string())),
        _ => Literal::Text(value.to_string()),
    }
}

/// The columns that name a row of table `t` (a name; a first and last name), or with
/// `or_key`, its key when it has no name.
fn label_columns(idx: &SchemaIndex, t: usize, or_key: bool) -> Vec<Expr> {
    let info = &idx.tables[t];
    let cols: Vec<usize> = match (info.display, info.display_extra, info.pk) {
        (Some(d), x, _) => std::iter::once(d).chain(x).collect(),
        (None, _, Some(pk)) if or_key => vec![pk],
        _ => Vec::new(),
    };
    cols.into_iter()
        .map(|c| Expr::col(&idx.table(t).name, idx.column_name(t, c)))
        .collect()
}

/// Puts the label columns (a name, a first and last name) of the table a list shows before
/// its columns, when they are not shown yet.
fn prepend_labels(idx: &SchemaIndex, q: &mut SemanticQuery) {
    let Some(table) = q.select.iter().find_map(|s| match &s.expr {
        Expr::Column(c) => Some(c.table.clone()),
        _ => None,
    }) else {
        return;
    };
    let Some(t) = idx.aug.schema.table_index(&table) else {
        return;
    };
    let labels: Vec<Expr> = label_columns(idx, t, false)
        .into_iter()
        .filter(|e| !q.select.iter().any(|s| s.expr == *e))
        .collect();
    for (k, e) in labels.into_iter().enumerate() {
        q.select.insert(
            k,
            SelectItem {
                expr: e,
                alias: None,
            },
        );
    }
}

fn first_measure(q: &SemanticQuery) -> Option<Expr> {
    q.select
        .iter()
        .find(|s| s.expr.is_aggregate())
        .map(|s| s.expr.clone())
}

fn label(e: &Expr) -> String {
    match e {
        Expr::Column(c) | Expr::Folded(c) => c.column.replace('_', " "),
        Expr::TimeBucket { grain, .. } => grain.word().to_string(),
        Expr::Agg { func, arg, .. } => format!("{} {}", func.word(), label(arg)),
        Expr::CountStar => "the count".into(),
        Expr::Raw { label, .. } => label.clone(),
        _ => "the measure".into(),
    }
}

// ----- the rules -------------------------------------------------------------------------------

/// A question of its own over the rows in focus: "what are their names?", "how many of them
/// are Corporate?", "list the orders behind that". The follow-up is planned over the focus's
/// tables and keeps the focus's filters (and time range) that it does not change itself.
#[derive(Debug)]
pub struct CarryOver;

impl Rule for CarryOver {
    fn name(&self) -> &'static str {
        "carry_over"
    }

    fn apply(&self, cx: &mut Cx<'_, '_>) -> Option<Edit> {
        let r = cx.reading;
        let named: Vec<usize> = cx
            .focus
            .tables
            .iter()
            .filter_map(|t| cx.res.idx.aug.schema.table_index(t))
            .collect();
        // The tables the answer joined through count as in focus too.
        let focus_tables = cx
            .res
            .idx
            .graph
            .connect(&named)
            .map_or(named, |tree| tree.tables);
        let new_table = r.tables.iter().any(|t| !focus_tables.contains(t));
        let aggregate = cx.query.is_aggregate();
        let grouped = !cx.query.group_by.is_empty();
        // "How many returns instead?" over a breakdown swaps the measure, keeping the groups.
        if r.instead && grouped && (r.count || r.measure.is_some()) {
            return None;
        }
        let lemmas = r.lemmas();
        let lists = matches!(
            lemmas.first(),
            Some(&("list" | "show" | "give" | "which" | "who"))
        );
        // "Which payment methods were they on?" over a breakdown: the same measure by that
        // column (the breakdown rule's), not a list.
        if grouped
            && r.anaphor.is_some()
            && !r.columns.is_empty()
            && r.tables.is_empty()
            && !r.count
            && !r.drill
            && !r.each
        {
            return None;
        }
        let wants = r.drill
            || r.each
            || r.count
            || new_table
            || (!r.columns.is_empty() && !aggregate)
            // "What is the surface area of each of those countries?": a column of the rows listed.
            || (r.measure.is_some() && !aggregate && r.groups.is_empty() && r.agg.is_none() && r.rank.is_none())
            || (!r.columns.is_empty() && r.anaphor.is_some() && r.groups.is_empty())
            // "List the ones who signed up in 2024" after a count: the rows counted.
            || (lists && r.anaphor.is_some() && aggregate && !grouped && r.rank.is_none());
        if !wants {
            return None;
        }
        // The words pointing back ("of those", "their") are the focus's job, not the
        // planner's.
        let question: String = r
            .tokens
            .iter()
            .filter(|t| {
                !matches!(
                    t.norm.as_str(),
                    "those" | "these" | "them" | "their" | "they" | "it" | "its"
                )
            })
            .map(|t| t.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let planned = cx.res.plan_over(&question, cx.focus)?;
        let mut q = planned.query;
        if q.compound.is_some() {
            return None;
        }
        let mut carried = Vec::new();
        let own = q.filters.clone();
        for f in &cx.focus.filters {
            let cols = columns_of_cond(f);
            let changed = own.iter().any(|g| {
                let gc = columns_of_cond(g);
                cols.iter().any(|c| gc.contains(c))
            });
            if !changed && !q.filters.contains(f) {
                q.filters.push(f.clone());
                carried.push(f.clone());
            }
        }
        // Tables the focus needed for its meaning (a relationship) come along with its filters.
        if !carried.is_empty() {
            for t in &cx.focus.tables {
                let mut in_filters = Vec::new();
                for f in &carried {
                    f.tables(&mut in_filters);
                }
                if in_filters.iter().any(|x| x.eq_ignore_ascii_case(t))
                    && !q.tables.iter().any(|x| x.eq_ignore_ascii_case(t))
                {
                    q.tables.push(t.clone());
                }
            }
        }
        // "Also show the nation for those singers": the list in focus, with more columns.
        if r.add && !aggregate && cx.focus.limit.is_none() {
            // "Also, how much do they weigh?": each row's value, not a total.
            if r.agg.is_none() && q.group_by.is_empty() {
                if let [
                    SelectItem {
                        expr: Expr::Agg { arg, .. },
                        ..
                    },
                ] = q.select.as_slice()
                {
                    if matches!(arg.as_ref(), Expr::Column(_)) {
                        q.select = vec![SelectItem {
                            expr: arg.as_ref().clone(),
                            alias: None,
                        }];
                    }
                }
            }
            if !q.is_aggregate() {
                let mut select: Vec<SelectItem> = cx
                    .query
                    .select
                    .iter()
                    .filter(|s| !q.select.iter().any(|x| x.expr == s.expr))
                    .cloned()
                    .collect();
                select.append(&mut q.select);
                q.select = select;
                q.distinct = cx.query.distinct;
            }
        }
        // "What are their emails?" after a count: whose, shown first.
        if r.anaphor
            .as_deref()
            .is_some_and(|a| matches!(a, "their" | "its"))
            && aggregate
            && !grouped
            && !q.is_aggregate()
        {
            prepend_labels(cx.res.idx, &mut q);
        }
        // "How many pets does each of them have?": the measure per row of the list in focus.
        if r.each && !aggregate && q.is_aggregate() && q.group_by.is_empty() {
            let rows: Vec<Expr> = cx
                .focus
                .query
                .iter()
                .flat_map(|f| f.select.iter())
                .filter(|s| matches!(s.expr, Expr::Column(_) | Expr::Folded(_)))
                .map(|s| s.expr.clone())
                .collect();
            if !rows.is_empty() {
                for (k, e) in rows.iter().enumerate() {
                    q.group_by.push(e.clone());
                    q.select.insert(
                        k,
                        SelectItem {
                            expr: e.clone(),
                            alias: None,
                        },
                    );
                }
                q.distinct = false;
            }
        }
        // "What is its id?" after "the museum with the most staff": the same one row.
        let singular = r.anaphor.as_deref().is_some_and(|a| {
            matches!(
                a,
                "it" | "its" | "he" | "she" | "him" | "his" | "her" | "that one" | "this one"
            )
        });
        // "Just show their names" after a sorted list: still sorted.
        let keeps_order = (singular || cx.focus.limit.is_none()) && r.anaphor.is_some();
        if (keeps_order || (r.anaphor.as_deref() == Some("they") && cx.focus.limit.is_some()))
            && !cx.focus.order.is_empty()
            && q.limit.is_none()
            && q.order_by.is_empty()
            && !q.is_aggregate()
            && !cx.focus.order.iter().any(|o| o.expr.is_aggregate())
        {
            q.order_by = cx.focus.order.clone();
            q.limit = cx.focus.limit;
            for o in &q.order_by {
                let mut t = Vec::new();
                o.expr.tables(&mut t);
                for t in t {
                    if !q.tables.iter().any(|x| x.eq_ignore_ascii_case(&t)) {
                        q.tables.push(t);
                    }
                }
            }
        }
        cx.confidence = planned.confidence.min(0.95);
        cx.reasons.extend(planned.reasons);
        cx.notes.push(if carried.is_empty() {
            "read over the same tables".to_string()
        } else {
            format!(
                "keeping its {} condition{}",
                carried.len(),
                if carried.len() == 1 { "" } else { "s" }
            )
        });
        cx.query = q;
        Some(Edit::CarryOver)
    }
}

/// Another measure ("show units sold instead", "no, I meant revenue") or another aggregate of
/// the same one ("the average instead").
#[derive(Debug)]
pub struct SwapMeasure;

impl Rule for SwapMeasure {
    fn name(&self) -> &'static str {
        "swap_measure"
    }

    fn apply(&self, cx: &mut Cx<'_, '_>) -> Option<Edit> {
        let r = cx.reading;
        if cx.edits.contains(&Edit::Summarize) || cx.edits.contains(&Edit::Count) {
            return None;
        }
        let edit = if r.correction {
            Edit::Correction
        } else {
            Edit::MeasureSwap
        };
        let Some(old) = first_measure(&cx.query) else {
            // A list given a measure with a breakdown ("for each type, the average weight"):
            // the measure joins the select list, the breakdown rule groups it.
            let (s, e) = r.measure?;
            if r.groups.is_empty() {
                return None;
            }
            let m = measure_named(cx, s, e)?;
            cx.query.select.clear();
            cx.query.order_by.clear();
            cx.query.distinct = false;
            cx.query.select.push(SelectItem {
                expr: m.clone(),
                alias: None,
            });
            cx.notes.push(format!("with {}", label(&m)));
            return Some(edit);
        };
        let counted = (r.count && r.instead)
            .then(|| {
                r.mentions.iter().find(|m| {
                    m.has_table()
                        || matches!(m.best_element(), Some(cbi_nl2sql::index::Element::Term(_)))
                })
            })
            .flatten();
        let new = if let Some(m) = counted {
            // "How many returns instead?": those rows, counted per group.
            let words: Vec<&str> = r.tokens[m.start..m.end]
                .iter()
                .map(|t| t.text.as_str())
                .collect();
            let planned = cx
                .res
                .plan_over(&format!("how many {}", words.join(" ")), cx.focus)?;
            let mut measure = first_measure(&planned.query)?;
            let counted_tables = planned.query.all_tables();
            let subject = counted_tables.first()?.clone();
            // Counted over a join with other tables, each row once.
            if measure == Expr::CountStar {
                let t = cx.res.idx.aug.schema.table_index(&subject)?;
                if let Some(pk) = cx.res.idx.tables[t].pk {
                    measure = Expr::Agg {
                        func: AggFunc::Count,
                        arg: Box::new(Expr::col(&subject, cx.res.idx.column_name(t, pk))),
                        distinct: true,
                    };
                }
            }
            // The rows counted are the new subject: the old one goes unless something else
            // needs it.
            let mut others: Vec<String> = Vec::new();
            for s in cx.query.select.iter().filter(|s| !s.expr.is_aggregate()) {
                s.expr.tables(&mut others);
            }
            for f in &cx.query.filters {
                f.tables(&mut others);
            }
            for g in &cx.query.group_by {
                g.tables(&mut others);
            }
            cx.query
                .tables
                .retain(|t| others.iter().any(|o| o.eq_ignore_ascii_case(t)));
            for t in counted_tables.into_iter().rev() {
                if !cx.query.tables.iter().any(|x| x.eq_ignore_ascii_case(&t)) {
                    cx.query.tables.insert(0, t);
                }
            }
            measure
        } else if let Some((s, e)) = r.measure {
            measure_named(cx, s, e)?
        } else {
            let f = r.agg?;
            if r.rank.is_some() && matches!(f, AggFunc::Max | AggFunc::Min) {
                return None;
            }
            // "How about the minimum and maximum?": each of them.
            if r.aggs.len() > 1 && !r.add {
                let all: Option<Vec<Expr>> = r.aggs.iter().map(|&g| reaggregate(&old, g)).collect();
                let all = all?;
                cx.query.select.retain(|s| !s.expr.is_aggregate());
                for e in &all {
                    cx.query.select.push(SelectItem {
                        expr: e.clone(),
                        alias: None,
                    });
                }
                cx.query.order_by.retain(|o| !o.expr.is_aggregate());
                cx.notes.push(format!(
                    "with {} instead of {}",
                    all.iter().map(label).collect::<Vec<_>>().join(" and "),
                    label(&old)
                ));
                return Some(edit);
            }
            reaggregate(&old, f)?
        };
        if new == old {
            return None;
        }
        // "Also show the maximum": beside the old one.
        if r.add && counted.is_none() {
            cx.query.select.push(SelectItem {
                expr: new.clone(),
                alias: None,
            });
            cx.notes.push(format!("with {} as well", label(&new)));
            return Some(edit);
        }
        for s in &mut cx.query.select {
            if s.expr == old {
                s.expr = new.clone();
                s.alias = None;
            }
        }
        // Other measures beside the old one go: the follow-up asked for this one.
        let mut seen = false;
        cx.query.select.retain(|s| {
            if !s.expr.is_aggregate() {
                return true;
            }
            let keep = !seen && s.expr == new;
            seen |= keep;
            keep
        });
        for o in &mut cx.query.order_by {
            if o.expr.is_aggregate() {
                o.expr = new.clone();
            }
        }
        let mut tables = Vec::new();
        new.tables(&mut tables);
        cx.notes
            .push(format!("with {} instead of {}", label(&new), label(&old)));
        Some(edit)
    }
}

/// The measure the follow-up's words `[s, e)` name (with its aggregate word, if any), as the
/// planner reads them over the focus's tables: a business measure, an aggregate, or a numeric
/// column totalled (averaged for prices and rates).
fn measure_named(cx: &Cx<'_, '_>, s: usize, e: usize) -> Option<Expr> {
    let r = cx.reading;
    let words: Vec<&str> = r.tokens[s..e].iter().map(|t| t.text.as_str()).collect();
    let text = match r.agg {
        Some(f) => format!(
            "{} {}",
            f.word().replace("number of", "count of"),
            words.join(" ")
        ),
        None => words.join(" "),
    };
    let planned = cx.res.plan_over(&text, cx.focus)?;
    if let Some(m) = first_measure(&planned.query) {
        return Some(m);
    }
    let col = planned.query.select.iter().find_map(|s| match &s.expr {
        Expr::Column(c) => Some(c.clone()),
        _ => None,
    })?;
    let averaged =
        cbi_nl2sql::lexicon::is_averaged_word(col.column.rsplit('_').next().unwrap_or(""));
    let func = r
        .agg
        .unwrap_or(if averaged { AggFunc::Avg } else { AggFunc::Sum });
    Some(Expr::agg(func, Expr::Column(col)))
}

/// The same measure under another aggregate: `SUM(x)` → `AVG(x)`; a business measure defined
/// as `SUM(…)` likewise.
fn reaggregate(old: &Expr, f: AggFunc) -> Option<Expr> {
    match old {
        Expr::Agg { arg, distinct, .. } => {
            if f == AggFunc::Count || matches!(arg.as_ref(), Expr::CountStar) {
                return None;
            }
            Some(Expr::Agg {
                func: f,
                arg: arg.clone(),
                distinct: *distinct,
            })
        }
        Expr::Raw { sql, tables, label } => {
            let inner = sql.trim().strip_prefix("SUM(")?.strip_suffix(')')?;
            // Only one aggregate, over the whole definition.
            if inner.to_ascii_uppercase().contains("SUM(") || f == AggFunc::Count {
                return None;
            }
            let word = f.word();
            Some(Expr::Raw {
                sql: format!("{}({inner})", f.sql()),
                tables: tables.clone(),
                label: format!("{word} {label}"),
            })
        }
        _ => None,
    }
}

/// "Compared with last year", "versus 2023", "versus the East": the focus's period or value
/// and the new one side by side, grouped by period or by the value's column.
#[derive(Debug)]
pub struct CompareWith;

impl Rule for CompareWith {
    fn name(&self) -> &'static str {
        "compare_with"
    }

    fn apply(&self, cx: &mut Cx<'_, '_>) -> Option<Edit> {
        let r = cx.reading;
        if !r.compare {
            return None;
        }
        if let (Some((from, to)), Some(old)) = (
            r.time.as_ref().and_then(|t| t.range.clone()),
            cx.focus.time.clone(),
        ) {
            let (Some(of), Some(ot)) = (old.from.clone(), old.to.clone()) else {
                return None;
            };
            let lo = if from < of { from.clone() } else { of.clone() };
            let hi = if to > ot { to.clone() } else { ot.clone() };
            let days = |a: &str, b: &str| {
                let p = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
                match (p(a), p(b)) {
                    (Some(a), Some(b)) => (b - a).num_days(),
                    _ => 365,
                }
            };
            let span = days(&of, &ot).min(days(&from, &to));
            let grain = if span >= 360 {
                TimeGrain::Year
            } else if span >= 85 {
                TimeGrain::Quarter
            } else if span >= 28 {
                TimeGrain::Month
            } else {
                TimeGrain::Day
            };
            let idx = cx.res.idx;
            cx.query.filters.retain(|f| !is_time_filter(idx, f));
            push_range(&mut cx.query, &old.column, &lo, &hi);
            let bucket = Expr::TimeBucket {
                grain,
                column: old.column.clone(),
            };
            add_group_front(&mut cx.query, bucket);
            cx.query.limit = None;
            cx.query.order_by.retain(|o| !o.expr.is_aggregate());
            order_by_period(&mut cx.query);
            cx.notes
                .push(format!("from {lo} to {hi}, by {}", grain.word()));
            return Some(Edit::Compare);
        }
        // "versus the East": the old value and the new one, side by side.
        for (k, v) in r.values.iter().enumerate() {
            let Some(old) = cx.query.filters.iter().position(|f| {
                matches!(f, Condition::Compare { left: Expr::Column(c) | Expr::Folded(c), op: CmpOp::Eq, right: Operand::Literal(_) } if *c == v.column)
            }) else {
                continue;
            };
            let Condition::Compare {
                left,
                right: Operand::Literal(was),
                ..
            } = cx.query.filters.remove(old)
            else {
                continue;
            };
            // A label stored several ways is compared folded, as the old value was.
            let new = match (&left, literal_for(cx.res.idx, &v.column, &v.value)) {
                (Expr::Folded(_), Literal::Text(t)) => Literal::Text(t.trim().to_lowercase()),
                (_, l) => l,
            };
            cx.query.filters.push(Condition::InList {
                expr: left.clone(),
                values: vec![was, new],
                negated: false,
            });
            add_group_front(&mut cx.query, left);
            cx.query.limit = None;
            cx.values_done[k] = true;
            cx.notes.push(format!("side by side with {}", v.value));
            return Some(Edit::Compare);
        }
        None
    }
}

fn push_range(q: &mut SemanticQuery, col: &ColumnRef, from: &str, to: &str) {
    q.filters.push(Condition::Compare {
        left: Expr::Column(col.clone()),
        op: CmpOp::GtEq,
        right: Operand::Literal(Literal::Date(from.to_string())),
    });
    q.filters.push(Condition::Compare {
        left: Expr::Column(col.clone()),
        op: CmpOp::Lt,
        right: Operand::Literal(Literal::Date(to.to_string())),
    });
}

/// Adds a grouping before the others (and its column first in the select list).
fn add_group_front(q: &mut SemanticQuery, e: Expr) {
    if !q.group_by.contains(&e) {
        q.group_by.insert(0, e.clone());
    }
    if !q.select.iter().any(|s| s.expr == e) {
        q.select.insert(0, group_item(e));
    }
}

/// A grouping as a select item: a calendar bucket named after its grain (`AS month`).
fn group_item(e: Expr) -> SelectItem {
    let alias = match &e {
        Expr::TimeBucket { grain, .. } => Some(grain.word().to_string()),
        _ => None,
    };
    SelectItem { expr: e, alias }
}

/// A breakdown over time reads in time order, unless it is ranked.
fn order_by_period(q: &mut SemanticQuery) {
    if q.limit.is_some() || q.order_by.iter().any(|o| o.expr.is_aggregate()) {
        return;
    }
    if let Some(b) = q
        .group_by
        .iter()
        .find(|g| matches!(g, Expr::TimeBucket { .. }))
        .cloned()
    {
        if !q.order_by.iter().any(|o| o.expr == b) {
            q.order_by.push(OrderItem {
                expr: b,
                desc: false,
            });
        }
    }
}

/// "By month", "per category instead", "also by channel": another breakdown of the measure.
#[derive(Debug)]
pub struct Regroup;

impl Rule for Regroup {
    fn name(&self) -> &'static str {
        "regroup"
    }

    fn apply(&self, cx: &mut Cx<'_, '_>) -> Option<Edit> {
        let r = cx.reading;
        let asked: Vec<Expr> = if r.groups.is_empty()
            && !cx.query.group_by.is_empty()
            && r.anaphor.is_some()
            && r.tables.is_empty()
            && !r.count
        {
            // "Which payment methods were they on?": the columns named are the new breakdown.
            r.columns.iter().cloned().map(Expr::Column).collect()
        } else {
            r.groups.clone()
        };
        let groups: Vec<Expr> = asked
            .iter()
            .filter(|g| !cx.query.group_by.contains(g))
            .cloned()
            .collect();
        if groups.is_empty() {
            return None;
        }
        let q = &mut cx.query;
        if !q.is_aggregate() {
            // A list regrouped is counted per group.
            q.select.clear();
            q.order_by.clear();
            q.distinct = false;
            q.select.push(SelectItem {
                expr: Expr::CountStar,
                alias: None,
            });
        }
        if !r.add {
            let old = std::mem::take(&mut q.group_by);
            q.select.retain(|s| !old.contains(&s.expr));
            q.order_by.retain(|o| o.expr.is_aggregate());
            // "EMEA by month": the value the old breakdown was by becomes a filter (another
            // rule adds it); a filter on the new grouping's own column goes.
        }
        let at = q
            .select
            .iter()
            .take_while(|s| !s.expr.is_aggregate())
            .count();
        for (k, g) in groups.iter().enumerate() {
            q.group_by.push(g.clone());
            q.select.insert(at + k, group_item(g.clone()));
        }
        if r.rank.is_none() {
            q.limit = None;
            q.order_by.retain(|o| !o.expr.is_aggregate());
            order_by_period(q);
        }
        let names: Vec<String> = groups.iter().map(label).collect();
        cx.notes.push(format!(
            "{} {}",
            if r.add { "also by" } else { "by" },
            names.join(" and ")
        ));
        Some(Edit::Regroup)
    }
}

/// "Only online", "what about the West?", "exclude cancelled": a value filter added, or one on
/// the same column changed.
#[derive(Debug)]
pub struct Refilter;

impl Rule for Refilter {
    fn name(&self) -> &'static str {
        "refilter"
    }

    fn apply(&self, cx: &mut Cx<'_, '_>) -> Option<Edit> {
        let mut placed = Vec::new();
        for (k, v) in cx.reading.values.iter().enumerate() {
            if cx.values_done[k] {
                continue;
            }
            // "Dutch or English": the values of one column together.
            let same: Vec<usize> = (k..cx.reading.values.len())
                .filter(|&j| {
                    !cx.values_done[j]
                        && cx.reading.values[j].column == v.column
                        && cx.reading.values[j].negated == v.negated
                })
                .collect();
            let lit = literal_for(cx.res.idx, &v.column, &v.value);
            let cond = if same.len() > 1 {
                let values = same
                    .iter()
                    .map(|&j| literal_for(cx.res.idx, &v.column, &cx.reading.values[j].value))
                    .collect();
                for &j in &same {
                    cx.values_done[j] = true;
                }
                Condition::InList {
                    expr: Expr::Column(v.column.clone()),
                    values,
                    negated: v.negated,
                }
            } else if several_ways(cx.res.idx, &v.column) {
                // A label stored several ways ("Retail", "retail "): compared folded.
                Condition::Compare {
                    left: Expr::Folded(v.column.clone()),
                    op: if v.negated { CmpOp::NotEq } else { CmpOp::Eq },
                    right: Operand::Literal(Literal::Text(v.value.trim().to_lowercase())),
                }
            } else {
                Condition::Compare {
                    left: Expr::Column(v.column.clone()),
                    op: if v.negated { CmpOp::NotEq } else { CmpOp::Eq },
                    right: Operand::Literal(lit),
                }
            };
            let replaced = cx.query.filters.len();
            cx.query
                .filters
                .retain(|f| !is_value_filter_on(f, &v.column));
            let replaced = replaced != cx.query.filters.len();
            cx.query.filters.push(cond);
            cx.values_done[k] = true;
            placed.push(format!(
                "{} {} {}{}",
                if replaced { "now for" } else { "only for" },
                v.column.column.replace('_', " "),
                if v.negated { "other than " } else { "" },
                v.value
            ));
        }
        // "Same for 'HMS Atlanta'": the quoted text in place of the one text value the focus
        // is filtered on.
        if let [quoted] = cx.reading.quoted.as_slice() {
            let text_filters: Vec<usize> = cx
                .query
                .filters
                .iter()
                .enumerate()
                .filter(|(_, f)| {
                    matches!(
                        f,
                        Condition::Compare {
                            op: CmpOp::Eq,
                            right: Operand::Literal(Literal::Text(_)),
                            ..
                        }
                    )
                })
                .map(|(k, _)| k)
                .collect();
            if let [k] = text_filters.as_slice() {
                if let Condition::Compare {
                    right: Operand::Literal(Literal::Text(v)),
                    ..
                } = &mut cx.query.filters[*k]
                {
                    *v = quoted.clone();
                    placed.push(format!("now for {quoted}"));
                }
            }
        }
        if placed.is_empty() {
            return None;
        }
        cx.notes.push(placed.join(", "));
        Some(Edit::Filter)
    }
}

/// "Only 2023", "the second half of the year", "and in March?": the period changed or added.
#[derive(Debug)]
pub struct Retime;

impl Rule for Retime {
    fn name(&self) -> &'static str {
        "retime"
    }

    fn apply(&self, cx: &mut Cx<'_, '_>) -> Option<Edit> {
        if cx.edits.contains(&Edit::Compare) {
            return None;
        }
        let (from, to) = cx.reading.time.as_ref()?.range.clone()?;
        let col = date_column(cx.res.idx, cx.focus)?;
        let idx = cx.res.idx;
        cx.query.filters.retain(|f| !is_time_filter(idx, f));
        push_range(&mut cx.query, &col, &from, &to);
        cx.notes.push(format!(
            "for {} from {from} up to {to}",
            col.column.replace('_', " ")
        ));
        Some(Edit::Time)
    }
}

/// "Which had the highest?", "and the lowest?", "top 3 of those": the rows ranked by the
/// measure shown.
#[derive(Debug)]
pub struct Rank;

impl Rule for Rank {
    fn name(&self) -> &'static str {
        "rank"
    }

    fn apply(&self, cx: &mut Cx<'_, '_>) -> Option<Edit> {
        let (desc, n) = cx.reading.rank?;
        let q = &mut cx.query;
        // "How about the highest?" after "the lowest acceleration": MIN becomes MAX.
        if q.group_by.is_empty() && cx.reading.measure.is_none() {
            if let [
                SelectItem {
                    expr: Expr::Agg { func, .. },
                    ..
                },
            ] = q.select.as_mut_slice()
            {
                if matches!(func, AggFunc::Min | AggFunc::Max) {
                    *func = if desc { AggFunc::Max } else { AggFunc::Min };
                    cx.notes.push(format!("the {}", func.word()));
                    return Some(Edit::Rank);
                }
            }
        }
        let key = if !q.group_by.is_empty() {
            first_measure(q)?
        } else if let Some(o) = q.order_by.first() {
            o.expr.clone()
        } else if !q.is_aggregate() {
            // A list: its first numeric column shown.
            let idx = cx.res.idx;
            let numeric = |measure_only: bool| {
                q.select.iter().find_map(|s| match &s.expr {
                    Expr::Column(c) => {
                        let t = idx.aug.schema.table_index(&c.table)?;
                        let ci = idx.table(t).column_index(&c.column)?;
                        let ok = if measure_only {
                            cx.res.is_measure_column(t, ci)
                        } else {
                            cx.res.is_numeric_column(t, ci)
                        };
                        ok.then(|| s.expr.clone())
                    }
                    _ => None,
                })
            };
            // "What is the largest one?" over a list of codes: the number shown.
            numeric(true).or_else(|| numeric(false))?
        } else {
            return None;
        };
        q.order_by = vec![OrderItem {
            expr: key.clone(),
            desc,
        }];
        q.limit = Some(n.unwrap_or(1));
        cx.notes.push(format!(
            "{} by {}, {} first",
            match n {
                Some(k) => format!("the {} {k}", if desc { "top" } else { "bottom" }),
                None => "ranked".to_string(),
            },
            label(&key),
            if desc { "highest" } else { "lowest" }
        ));
        Some(Edit::Rank)
    }
}

/// "Sort by seats, biggest first", "order them by date": the same rows in another order.
#[derive(Debug)]
pub struct Reorder;

impl Rule for Reorder {
    fn name(&self) -> &'static str {
        "reorder"
    }

    fn apply(&self, cx: &mut Cx<'_, '_>) -> Option<Edit> {
        let (key, desc) = match (cx.reading.order.clone(), cx.reading.sort) {
            (Some(o), _) => o,
            // "Sort them in decreasing order": by what the answer is already sorted by, else
            // by its measure.
            (None, Some(d)) => {
                let idx = cx.res.idx;
                let numeric = cx.query.select.iter().find_map(|s| match &s.expr {
                    Expr::Column(c) => {
                        let t = idx.aug.schema.table_index(&c.table)?;
                        let ci = idx.table(t).column_index(&c.column)?;
                        cx.res.is_measure_column(t, ci).then(|| s.expr.clone())
                    }
                    _ => None,
                });
                let key = cx
                    .query
                    .order_by
                    .first()
                    .map(|o| o.expr.clone())
                    .or_else(|| first_measure(&cx.query))
                    .or(numeric)
                    .or_else(|| cx.query.select.first().map(|s| s.expr.clone()))?;
                (key, d)
            }
            (None, None) => return None,
        };
        let q = &mut cx.query;
        // In a breakdown, a key that is not a grouping sorts by its total.
        let key = if !q.group_by.is_empty() && !q.group_by.contains(&key) {
            q.select
                .iter()
                .find(|s| {
                    s.expr.is_aggregate() && {
                        let mut uses = false;
                        expr_columns(&s.expr, &mut |c| {
                            uses |= matches!(&key, Expr::Column(k) if k == c)
                        });
                        uses
                    }
                })
                .map(|s| s.expr.clone())
                .unwrap_or_else(|| Expr::agg(AggFunc::Sum, key.clone()))
        } else {
            key
        };
        q.order_by = vec![OrderItem {
            expr: key.clone(),
            desc,
        }];
        // DISTINCT rows can only be sorted by what they show.
        if q.distinct && !q.select.iter().any(|s| s.expr == key) && !key.is_aggregate() {
            q.select.push(SelectItem {
                expr: key.clone(),
                alias: None,
            });
        }
        if cx.reading.rank.is_none() {
            q.limit = None;
        }
        cx.notes.push(format!(
            "sorted by {}, {} first",
            label(&key),
            if desc { "highest" } else { "lowest" }
        ));
        Some(Edit::Reorder)
    }
}

/// "How many are there?", "how many of them are there in total?": the rows in focus, counted.
#[derive(Debug)]
pub struct CountRows;

impl Rule for CountRows {
    fn name(&self) -> &'static str {
        "count_rows"
    }

    fn apply(&self, cx: &mut Cx<'_, '_>) -> Option<Edit> {
        let r = cx.reading;
        if !r.count
            || !r.tables.is_empty()
            || !r.columns.is_empty()
            || r.measure.is_some()
            || !r.groups.is_empty()
        {
            return None;
        }
        let q = &mut cx.query;
        if !q.having.is_empty() || q.compound.is_some() || q.limit.is_some() {
            return None;
        }
        let counted = if !q.group_by.is_empty() {
            // The groups, counted: one key.
            match q.group_by.as_slice() {
                [g] if !matches!(g, Expr::TimeBucket { .. }) => Expr::Agg {
                    func: AggFunc::Count,
                    arg: Box::new(g.clone()),
                    distinct: true,
                },
                _ => return None,
            }
        } else if q.is_aggregate() {
            return None;
        } else if q.distinct {
            match q.select.as_slice() {
                [s] => Expr::Agg {
                    func: AggFunc::Count,
                    arg: Box::new(s.expr.clone()),
                    distinct: true,
                },
                // Several columns each once: the rows (a key among them makes them distinct).
                _ => Expr::CountStar,
            }
        } else {
            Expr::CountStar
        };
        // Tables that only the list showed stay, so the same rows are counted.
        let mut shown = Vec::new();
        for s in &q.select {
            s.expr.tables(&mut shown);
        }
        for t in shown {
            if !q.tables.iter().any(|x| x.eq_ignore_ascii_case(&t)) {
                q.tables.push(t);
            }
        }
        q.select = vec![SelectItem {
            expr: counted,
            alias: None,
        }];
        q.group_by.clear();
        q.order_by.clear();
        q.distinct = false;
        cx.notes.push("counted".to_string());
        Some(Edit::Count)
    }
}

/// "What are the maximum and the minimum of these values?": aggregates of the one numeric
/// column a list shows.
#[derive(Debug)]
pub struct Summarize;

impl Rule for Summarize {
    fn name(&self) -> &'static str {
        "summarize"
    }

    fn apply(&self, cx: &mut Cx<'_, '_>) -> Option<Edit> {
        let r = cx.reading;
        if r.aggs.is_empty() || r.measure.is_some() || cx.query.is_aggregate() {
            return None;
        }
        let idx = cx.res.idx;
        let numeric: Vec<Expr> = cx
            .query
            .select
            .iter()
            .filter(|s| match &s.expr {
                Expr::Column(c) => idx.aug.schema.table_index(&c.table).is_some_and(|t| {
                    idx.table(t)
                        .column_index(&c.column)
                        .is_some_and(|ci| cx.res.is_measure_column(t, ci))
                }),
                _ => false,
            })
            .map(|s| s.expr.clone())
            .collect();
        // "The maximum and minimum value" of the one column a list shows, whatever its type.
        let single: Vec<Expr> = match cx.query.select.as_slice() {
            [s] if matches!(s.expr, Expr::Column(_)) => vec![s.expr.clone()],
            _ => Vec::new(),
        };
        let [col] = (if numeric.is_empty() {
            &single
        } else {
            &numeric
        })
        .as_slice() else {
            return None;
        };
        let q = &mut cx.query;
        q.select = r
            .aggs
            .iter()
            .map(|&f| SelectItem {
                expr: Expr::agg(f, col.clone()),
                alias: None,
            })
            .collect();
        q.order_by.clear();
        q.limit = None;
        q.distinct = false;
        cx.notes.push(format!(
            "as the {} of {}",
            r.aggs
                .iter()
                .map(|f| f.word())
                .collect::<Vec<_>>()
                .join(" and "),
            label(col)
        ));
        Some(Edit::Summarize)
    }
}

/// "How about more than 3?", "at least 1000": the one numeric comparison in focus, with the
/// new operator and number.
#[derive(Debug)]
pub struct Recompare;

impl Rule for Recompare {
    fn name(&self) -> &'static str {
        "recompare"
    }

    fn apply(&self, cx: &mut Cx<'_, '_>) -> Option<Edit> {
        let (op, x) = cx.reading.compare_number?;
        // "after 2023" over dated rows is a period, the time rule's.
        if cx.reading.time.as_ref().is_some_and(|t| t.range.is_some())
            && date_column(cx.res.idx, cx.focus).is_some()
            && cx.edits.contains(&Edit::Time)
        {
            return None;
        }
        let numeric = |c: &Condition| {
            matches!(
                c,
                Condition::Compare {
                    right: Operand::Literal(Literal::Int(_) | Literal::Float(_)),
                    ..
                }
            )
        };
        let q = &mut cx.query;
        let slot = if q.having.iter().filter(|c| numeric(c)).count() == 1 {
            q.having.iter_mut().find(|c| numeric(c))
        } else if q.filters.iter().filter(|c| numeric(c)).count() == 1 {
            q.filters.iter_mut().find(|c| numeric(c))
        } else {
            None
        }?;
        let Condition::Compare { left, right, .. } = slot else {
            return None;
        };
        let right = match x {
            Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => {
                Operand::Literal(Literal::Int(x as i64))
            }
            Some(x) => Operand::Literal(Literal::Float(x)),
            None => right.clone(),
        };
        *slot = Condition::Compare {
            left: left.clone(),
            op,
            right,
        };
        cx.notes.push(match x {
            Some(x) => format!("with {} {x}", op.words()),
            None => format!("with {} instead", op.words()),
        });
        Some(Edit::Recompare)
    }
}

/// "Show the distinct values", "filter out duplicates".
#[derive(Debug)]
pub struct Distinct;

impl Rule for Distinct {
    fn name(&self) -> &'static str {
        "distinct"
    }

    fn apply(&self, cx: &mut Cx<'_, '_>) -> Option<Edit> {
        if !cx.reading.distinct || cx.query.is_aggregate() || cx.query.distinct {
            return None;
        }
        cx.query.distinct = true;
        cx.notes.push("each row once".to_string());
        Some(Edit::Distinct)
    }
}

/// "Limit it to one", "just the first 5".
#[derive(Debug)]
pub struct Limit;

impl Rule for Limit {
    fn name(&self) -> &'static str {
        "limit"
    }

    fn apply(&self, cx: &mut Cx<'_, '_>) -> Option<Edit> {
        let n = cx.reading.limit?;
        if cx.edits.contains(&Edit::Rank) {
            return None;
        }
        cx.query.limit = Some(n);
        cx.notes.push(format!("the first {n}"));
        Some(Edit::Limit)
    }
}

/// "What are all the models except those?", "list the rest": the rows the focus's one
/// condition left out.
#[derive(Debug)]
pub struct Complement;

impl Rule for Complement {
    fn name(&self) -> &'static str {
        "complement"
    }

    fn apply(&self, cx: &mut Cx<'_, '_>) -> Option<Edit> {
        let r = cx.reading;
        if !r.complement || !r.values.is_empty() || r.compare_number.is_some() {
            return None;
        }
        if cx.query.is_aggregate() || cx.query.filters.is_empty() {
            return None;
        }
        // The rows listed, by their key, that the focus's conditions did not pick:
        // `key NOT IN (SELECT key … WHERE <conditions>)`, right for conditions on joined
        // tables too.
        let idx = cx.res.idx;
        let listed = cx.query.select.iter().find_map(|s| match &s.expr {
            Expr::Column(c) => Some(c.table.clone()),
            _ => None,
        });
        let key = listed.and_then(|table| {
            let t = idx.aug.schema.table_index(&table)?;
            let pk = idx.tables[t].pk?;
            Some(Expr::col(&idx.table(t).name, idx.column_name(t, pk)))
        });
        if let Some(key) = key {
            let mut table = Vec::new();
            key.tables(&mut table);
            let inner = SemanticQuery {
                select: vec![SelectItem {
                    expr: key.clone(),
                    alias: None,
                }],
                tables: cx.query.tables.clone(),
                filters: std::mem::take(&mut cx.query.filters),
                ..SemanticQuery::default()
            };
            let q = &mut cx.query;
            q.tables = table;
            q.filters = vec![Condition::InQuery {
                expr: key,
                query: Box::new(inner),
                negated: true,
            }];
            q.limit = None;
            cx.notes.push("the rows it left out".to_string());
            return Some(Edit::Complement);
        }
        let q = &mut cx.query;
        let [only] = q.filters.as_mut_slice() else {
            return None;
        };
        let negated = match only.clone() {
            Condition::Compare { left, op, right } => Condition::Compare {
                left,
                op: op.negate(),
                right,
            },
            Condition::InList {
                expr,
                values,
                negated,
            } => Condition::InList {
                expr,
                values,
                negated: !negated,
            },
            Condition::InQuery {
                expr,
                query,
                negated,
            } => Condition::InQuery {
                expr,
                query,
                negated: !negated,
            },
            Condition::Like {
                expr,
                pattern,
                negated,
            } => Condition::Like {
                expr,
                pattern,
                negated: !negated,
            },
            Condition::IsNull { expr, negated } => Condition::IsNull {
                expr,
                negated: !negated,
            },
            _ => return None,
        };
        *only = negated;
        q.limit = None;
        cx.notes.push("the rows it left out".to_string());
        Some(Edit::Complement)
    }
}

/// "What are they?", "list them" after "how many distinct grades are there?": the values or
/// rows that were counted.
#[derive(Debug)]
pub struct ListCounted;

impl Rule for ListCounted {
    fn name(&self) -> &'static str {
        "list_counted"
    }

    fn apply(&self, cx: &mut Cx<'_, '_>) -> Option<Edit> {
        if !cx.reading.only_points_back() || !cx.query.group_by.is_empty() {
            return None;
        }
        let idx = cx.res.idx;
        let q = &mut cx.query;
        let select = match q.select.as_slice() {
            [
                SelectItem {
                    expr:
                        Expr::Agg {
                            func: AggFunc::Count,
                            arg,
                            distinct,
                        },
                    ..
                },
            ] => {
                q.distinct = *distinct;
                vec![SelectItem {
                    expr: arg.as_ref().clone(),
                    alias: None,
                }]
            }
            [
                SelectItem {
                    expr: Expr::CountStar,
                    ..
                },
            ] => {
                let subject = q
                    .tables
                    .first()
                    .cloned()
                    .or_else(|| cx.focus.subject.clone())?;
                let t = idx.aug.schema.table_index(&subject)?;
                let labels = label_columns(idx, t, true);
                if labels.is_empty() {
                    return None;
                }
                labels
                    .into_iter()
                    .map(|expr| SelectItem { expr, alias: None })
                    .collect()
            }
            _ => return None,
        };
        q.select = select;
        q.order_by.clear();
        q.limit = None;
        cx.notes.push("listing what was counted".to_string());
        Some(Edit::ListCounted)
    }
}
