//! The semantic query form: what a question asks for (measures, dimensions, filters, time
//! grain, order, limit, distinct, having, simple nesting), independent of SQL dialect.
//!
//! The embedded generator produces it from a question; [`crate::sql`] renders it for a dialect;
//! it is stored in a session turn (as JSON) so a follow-up can refine it instead of starting
//! over.

use serde::{Deserialize, Serialize};

/// A column of a table, by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ColumnRef {
    pub table: String,
    pub column: String,
}

/// Aggregate functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AggFunc {
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

impl AggFunc {
    pub fn sql(self) -> &'static str {
        match self {
            AggFunc::Count => "COUNT",
            AggFunc::Sum => "SUM",
            AggFunc::Avg => "AVG",
            AggFunc::Min => "MIN",
            AggFunc::Max => "MAX",
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            AggFunc::Count => "number of",
            AggFunc::Sum => "total",
            AggFunc::Avg => "average",
            AggFunc::Min => "minimum",
            AggFunc::Max => "maximum",
        }
    }
}

/// Calendar buckets for "by month", "yearly" and friends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeGrain {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl TimeGrain {
    pub fn word(self) -> &'static str {
        match self {
            TimeGrain::Day => "day",
            TimeGrain::Week => "week",
            TimeGrain::Month => "month",
            TimeGrain::Quarter => "quarter",
            TimeGrain::Year => "year",
        }
    }
}

/// A literal value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
pub enum Literal {
    Int(i64),
    Float(f64),
    Text(String),
    /// An ISO date (`2023-01-01`).
    Date(String),
    Null,
}

/// An expression of the select list, a filter or an ordering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expr {
    Column(ColumnRef),
    /// `COUNT(*)`.
    CountStar,
    Agg {
        func: AggFunc,
        arg: Box<Expr>,
        distinct: bool,
    },
    /// A text column with case and surrounding spaces folded away (`LOWER(TRIM(col))`), for
    /// data that stores one label several ways ("Retail", "retail ", "RETAIL").
    Folded(ColumnRef),
    /// A date column truncated to a calendar bucket.
    TimeBucket {
        grain: TimeGrain,
        column: ColumnRef,
    },
    /// A SQL expression from the semantic file (a measure), over `table.column` references.
    Raw {
        sql: String,
        tables: Vec<String>,
        label: String,
    },
    Literal(Literal),
    /// `left op right` for simple arithmetic (`+ - * /`).
    Binary {
        op: char,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// The percentage change of an aggregate from the previous period:
    /// `(m - LAG(m) OVER (ORDER BY period)) * 100 / LAG(m) OVER (ORDER BY period)`.
    Growth {
        measure: Box<Expr>,
        period: Box<Expr>,
    },
    /// The percentage of the rows (of each group) that meet a condition:
    /// `100.0 * SUM(CASE WHEN part THEN 1 ELSE 0 END) / COUNT(*)`.
    Share {
        part: Box<Condition>,
    },
    /// A count (or a sum of `measure`) over the rows meeting a condition only:
    /// `SUM(CASE WHEN cond THEN 1 ELSE 0 END)`, `SUM(CASE WHEN cond THEN m ELSE 0 END)`.
    CountIf {
        cond: Box<Condition>,
        measure: Option<Box<Expr>>,
    },
    /// Each group's percentage of the measure's total over all groups:
    /// `100.0 * m / SUM(m) OVER ()`.
    ShareOfTotal {
        measure: Box<Expr>,
    },
}

impl Expr {
    pub fn col(table: &str, column: &str) -> Expr {
        Expr::Column(ColumnRef {
            table: table.to_string(),
            column: column.to_string(),
        })
    }

    pub fn agg(func: AggFunc, arg: Expr) -> Expr {
        Expr::Agg {
            func,
            arg: Box::new(arg),
            distinct: false,
        }
    }

    /// Whether the expression aggregates rows.
    pub fn is_aggregate(&self) -> bool {
        match self {
            Expr::CountStar | Expr::Agg { .. } => true,
            Expr::Raw { sql, .. } => {
                let u = sql.to_ascii_uppercase();
                ["SUM(", "COUNT(", "AVG(", "MIN(", "MAX("]
                    .iter()
                    .any(|f| u.contains(f))
            }
            Expr::Binary { left, right, .. } => left.is_aggregate() || right.is_aggregate(),
            Expr::Growth { .. }
            | Expr::Share { .. }
            | Expr::ShareOfTotal { .. }
            | Expr::CountIf { .. } => true,
            _ => false,
        }
    }

    /// Tables the expression reads (not those of nested queries).
    pub fn tables(&self, out: &mut Vec<String>) {
        match self {
            Expr::Column(c) | Expr::Folded(c) | Expr::TimeBucket { column: c, .. } => {
                push_unique(out, &c.table)
            }
            Expr::Agg { arg, .. } => arg.tables(out),
            Expr::Raw { tables, .. } => {
                for t in tables {
                    push_unique(out, t);
                }
            }
            Expr::Binary { left, right, .. } => {
                left.tables(out);
                right.tables(out);
            }
            Expr::Growth { measure, period } => {
                measure.tables(out);
                period.tables(out);
            }
            Expr::Share { part } => part.tables(out),
            Expr::CountIf { cond, measure } => {
                cond.tables(out);
                if let Some(m) = measure {
                    m.tables(out);
                }
            }
            Expr::ShareOfTotal { measure } => measure.tables(out),
            Expr::CountStar | Expr::Literal(_) => {}
        }
    }
}

pub(crate) fn push_unique(out: &mut Vec<String>, t: &str) {
    if !out.iter().any(|x| x.eq_ignore_ascii_case(t)) {
        out.push(t.to_string());
    }
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CmpOp {
    #[serde(rename = "=")]
    Eq,
    #[serde(rename = "!=")]
    NotEq,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    GtEq,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    LtEq,
}

impl CmpOp {
    pub fn sql(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::NotEq => "<>",
            CmpOp::Gt => ">",
            CmpOp::GtEq => ">=",
            CmpOp::Lt => "<",
            CmpOp::LtEq => "<=",
        }
    }

    pub fn words(self) -> &'static str {
        match self {
            CmpOp::Eq => "is",
            CmpOp::NotEq => "is not",
            CmpOp::Gt => "is more than",
            CmpOp::GtEq => "is at least",
            CmpOp::Lt => "is less than",
            CmpOp::LtEq => "is at most",
        }
    }

    pub fn negate(self) -> CmpOp {
        match self {
            CmpOp::Eq => CmpOp::NotEq,
            CmpOp::NotEq => CmpOp::Eq,
            CmpOp::Gt => CmpOp::LtEq,
            CmpOp::GtEq => CmpOp::Lt,
            CmpOp::Lt => CmpOp::GtEq,
            CmpOp::LtEq => CmpOp::Gt,
        }
    }
}

/// The right side of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operand {
    Literal(Literal),
    Query(Box<SemanticQuery>),
    Expr(Expr),
}

/// A filter (WHERE) or group filter (HAVING) condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    Compare {
        left: Expr,
        op: CmpOp,
        right: Operand,
    },
    Between {
        expr: Expr,
        low: Literal,
        high: Literal,
    },
    InList {
        expr: Expr,
        values: Vec<Literal>,
        negated: bool,
    },
    InQuery {
        expr: Expr,
        query: Box<SemanticQuery>,
        negated: bool,
    },
    Like {
        expr: Expr,
        pattern: String,
        negated: bool,
    },
    IsNull {
        expr: Expr,
        negated: bool,
    },
    Or(Vec<Condition>),
    /// A condition from the semantic file, over `table.column` references.
    Raw {
        sql: String,
        tables: Vec<String>,
        label: String,
    },
}

impl Condition {
    pub fn tables(&self, out: &mut Vec<String>) {
        match self {
            Condition::Compare { left, right, .. } => {
                left.tables(out);
                if let Operand::Expr(e) = right {
                    e.tables(out);
                }
            }
            Condition::Between { expr, .. }
            | Condition::InList { expr, .. }
            | Condition::InQuery { expr, .. }
            | Condition::Like { expr, .. }
            | Condition::IsNull { expr, .. } => expr.tables(out),
            Condition::Or(cs) => cs.iter().for_each(|c| c.tables(out)),
            Condition::Raw { tables, .. } => tables.iter().for_each(|t| push_unique(out, t)),
        }
    }
}

/// A select-list item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectItem {
    pub expr: Expr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
}

/// One ordering key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderItem {
    pub expr: Expr,
    pub desc: bool,
}

/// How two queries combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SetOp {
    Union,
    Intersect,
    Except,
}

/// The dialect-independent form of a question's answer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SemanticQuery {
    pub select: Vec<SelectItem>,
    /// Tables that must take part even if no column of theirs is selected (the question's
    /// subject, a table named in a relationship), root first.
    #[serde(default)]
    pub tables: Vec<String>,
    #[serde(default)]
    pub filters: Vec<Condition>,
    #[serde(default)]
    pub group_by: Vec<Expr>,
    #[serde(default)]
    pub having: Vec<Condition>,
    #[serde(default)]
    pub order_by: Vec<OrderItem>,
    #[serde(default)]
    pub limit: Option<u64>,
    #[serde(default)]
    pub distinct: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compound: Option<Box<(SetOp, SemanticQuery)>>,
}

impl SemanticQuery {
    /// Every table the query reads at its own level: `tables` first, then those of its
    /// expressions, in order of appearance.
    pub fn all_tables(&self) -> Vec<String> {
        let mut out = Vec::new();
        for t in &self.tables {
            push_unique(&mut out, t);
        }
        for s in &self.select {
            s.expr.tables(&mut out);
        }
        for c in &self.filters {
            c.tables(&mut out);
        }
        for g in &self.group_by {
            g.tables(&mut out);
        }
        for c in &self.having {
            c.tables(&mut out);
        }
        for o in &self.order_by {
            o.expr.tables(&mut out);
        }
        out
    }

    /// Whether the query aggregates (has an aggregate in its select list or a GROUP BY).
    pub fn is_aggregate(&self) -> bool {
        !self.group_by.is_empty() || self.select.iter().any(|s| s.expr.is_aggregate())
    }
}
