//! [`ContextTracker`]: what the conversation is about, turn by turn.

use cbi_nl2sql::SchemaIndex;
use cbi_nl2sql::query::{
    CmpOp, ColumnRef, Condition, Expr, Literal, Operand, OrderItem, SemanticQuery, TimeGrain,
};
use cbi_types::ConversationContext;
use serde::{Deserialize, Serialize};

/// The version of the stored [`Focus`]; a stored focus of another version is rebuilt from the
/// latest turn's query (or dropped), never misread.
pub const FOCUS_VERSION: u32 = 1;

/// What the conversation is about after an answer: the entities, measures, groupings,
/// filters, ordering and time range in focus, and the query itself when the generator wrote a
/// structured one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Focus {
    pub version: u32,
    /// The turn the focus comes from.
    pub turn_id: u32,
    /// That turn's question.
    pub question: String,
    /// Its structured query, when there is one (the embedded generator's, or an edit's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<SemanticQuery>,
    /// The SQL that answered it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// The table the answer is about (its rows, or the facts it aggregates).
    #[serde(default)]
    pub subject: Option<String>,
    /// Every table the answer read, the subject first.
    #[serde(default)]
    pub tables: Vec<String>,
    /// Aggregates shown (revenue, the count of orders).
    #[serde(default)]
    pub measures: Vec<Expr>,
    /// What the answer is broken down by.
    #[serde(default)]
    pub dimensions: Vec<Expr>,
    #[serde(default)]
    pub filters: Vec<Condition>,
    #[serde(default)]
    pub order: Vec<OrderItem>,
    #[serde(default)]
    pub limit: Option<u64>,
    /// The dated column and `[from, to)` range the answer is limited to, if any.
    #[serde(default)]
    pub time: Option<TimeScope>,
    /// The calendar grain of a time breakdown ("by month").
    #[serde(default)]
    pub grain: Option<TimeGrain>,
}

/// A time range on a date column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeScope {
    pub column: ColumnRef,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl Focus {
    /// The focus an answer leaves: derived from its query when there is one.
    pub fn of(
        turn_id: u32,
        question: &str,
        query: Option<&SemanticQuery>,
        sql: Option<&str>,
    ) -> Focus {
        let mut f = Focus {
            version: FOCUS_VERSION,
            turn_id,
            question: question.to_string(),
            query: query.cloned(),
            sql: sql.map(str::to_string),
            subject: None,
            tables: Vec::new(),
            measures: Vec::new(),
            dimensions: Vec::new(),
            filters: Vec::new(),
            order: Vec::new(),
            limit: None,
            time: None,
            grain: None,
        };
        if let Some(q) = query {
            f.tables = q.all_tables();
            f.subject = f.tables.first().cloned();
            f.measures = q
                .select
                .iter()
                .filter(|s| s.expr.is_aggregate())
                .map(|s| s.expr.clone())
                .collect();
            f.dimensions = q.group_by.clone();
            f.filters = q.filters.clone();
            f.order = q.order_by.clone();
            f.limit = q.limit;
            f.time = time_scope(&q.filters);
            f.grain = q.group_by.iter().find_map(|g| match g {
                Expr::TimeBucket { grain, .. } => Some(*grain),
                _ => None,
            });
        }
        f
    }

    /// Whether every table and column the focus names still exists in the schema (it may
    /// come from a session stored before the schema changed).
    pub fn fits(&self, idx: &SchemaIndex) -> bool {
        let Some(q) = &self.query else {
            return true;
        };
        let schema = &idx.aug.schema;
        let mut ok = true;
        visit_columns(q, &mut |c| {
            let found = schema
                .table_index(&c.table)
                .is_some_and(|t| idx.table(t).column_index(&c.column).is_some());
            ok &= found;
        });
        ok && q
            .all_tables()
            .iter()
            .all(|t| schema.table_index(t).is_some())
    }
}

/// The date filter of a query, as a range.
pub fn time_scope(filters: &[Condition]) -> Option<TimeScope> {
    let mut scope: Option<TimeScope> = None;
    for f in filters {
        match f {
            Condition::Between {
                expr: Expr::Column(c),
                low: Literal::Date(a),
                high: Literal::Date(b),
            } => {
                return Some(TimeScope {
                    column: c.clone(),
                    from: Some(a.clone()),
                    to: Some(b.clone()),
                });
            }
            Condition::Compare {
                left: Expr::Column(c),
                op,
                right: Operand::Literal(Literal::Date(d)),
            } => {
                let s = scope.get_or_insert(TimeScope {
                    column: c.clone(),
                    from: None,
                    to: None,
                });
                if s.column != *c {
                    continue;
                }
                match op {
                    CmpOp::Gt | CmpOp::GtEq => s.from = Some(d.clone()),
                    CmpOp::Lt | CmpOp::LtEq => s.to = Some(d.clone()),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    scope
}

/// Every column a query refers to, nested queries included.
pub fn visit_columns(q: &SemanticQuery, f: &mut dyn FnMut(&ColumnRef)) {
    for s in &q.select {
        expr_columns(&s.expr, f);
    }
    for c in q.filters.iter().chain(&q.having) {
        cond_columns(c, f);
    }
    for g in &q.group_by {
        expr_columns(g, f);
    }
    for o in &q.order_by {
        expr_columns(&o.expr, f);
    }
    if let Some(c) = &q.compound {
        visit_columns(&c.1, f);
    }
}

/// Every column an expression refers to.
pub fn expr_columns(e: &Expr, f: &mut dyn FnMut(&ColumnRef)) {
    match e {
        Expr::Column(c) | Expr::Folded(c) | Expr::TimeBucket { column: c, .. } => f(c),
        Expr::Agg { arg, .. } => expr_columns(arg, f),
        Expr::Binary { left, right, .. } => {
            expr_columns(left, f);
            expr_columns(right, f);
        }
        Expr::Growth { measure, period } => {
            expr_columns(measure, f);
            expr_columns(period, f);
        }
        Expr::Share { part } => cond_columns(part, f),
        Expr::CountIf { cond, measure } => {
            cond_columns(cond, f);
            if let Some(m) = measure {
                expr_columns(m, f);
            }
        }
        Expr::ShareOfTotal { measure } => expr_columns(measure, f),
        Expr::CountStar | Expr::Literal(_) | Expr::Raw { .. } => {}
    }
}

/// Every column a condition refers to, nested queries included.
pub fn cond_columns(c: &Condition, f: &mut dyn FnMut(&ColumnRef)) {
    match c {
        Condition::Compare { left, right, .. } => {
            expr_columns(left, f);
            match right {
                Operand::Expr(e) => expr_columns(e, f),
                Operand::Query(q) => visit_columns(q, f),
                Operand::Literal(_) => {}
            }
        }
        Condition::Between { expr, .. }
        | Condition::InList { expr, .. }
        | Condition::Like { expr, .. }
        | Condition::IsNull { expr, .. } => expr_columns(expr, f),
        Condition::InQuery { expr, query, .. } => {
            expr_columns(expr, f);
            visit_columns(query, f);
        }
        Condition::Or(cs) => cs.iter().for_each(|c| cond_columns(c, f)),
        Condition::Raw { .. } => {}
    }
}

/// Keeps [`Focus`] up to date in a session's [`ConversationContext`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ContextTracker;

impl ContextTracker {
    /// Records the focus an answered turn leaves.
    pub fn observe(ctx: &mut ConversationContext, focus: &Focus) {
        ctx.focus = serde_json::to_value(focus).ok();
    }

    /// The focus of the conversation: the stored one if it is of this version and fits the
    /// schema, else one rebuilt from the latest answered turn's stored query, else none.
    pub fn focus(ctx: &ConversationContext, idx: &SchemaIndex) -> Option<Focus> {
        let stored = ctx
            .focus
            .as_ref()
            .filter(|v| v.get("version").and_then(|v| v.as_u64()) == Some(u64::from(FOCUS_VERSION)))
            .and_then(|v| serde_json::from_value::<Focus>(v.clone()).ok());
        let focus = stored.or_else(|| {
            let turn = ctx.last_sql_turn()?;
            let query = turn
                .plan
                .as_ref()
                .and_then(|p| serde_json::from_value::<SemanticQuery>(p.clone()).ok());
            Some(Focus::of(
                turn.turn_id,
                &turn.user_query,
                query.as_ref(),
                turn.sql.as_deref(),
            ))
        })?;
        focus.fits(idx).then_some(focus)
    }
}
