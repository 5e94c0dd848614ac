//! Spider's difficulty levels (easy, medium, hard, extra), computed from the gold SQL as the
//! official `evaluation.py` does (`eval_hardness` over `count_component1`, `count_component2`
//! and `count_others`), ported from `process_sql.py`'s parse tree onto `sqlparser`'s AST.
//!
//! The port keeps the official script's quirks, because the levels are only comparable with
//! published numbers if they are the same levels:
//! * only the outermost SELECT is measured; with a set operation (`UNION`, `INTERSECT`,
//!   `EXCEPT`) the trailing `ORDER BY`/`LIMIT` belongs to the right-hand query, as
//!   `process_sql` parses it;
//! * "aggregates" in WHERE are the negated conditions (`NOT IN`, `NOT LIKE`…), and in HAVING
//!   the negated conditions plus every `AND`/`OR` (`count_agg` reads the first element of each
//!   condition item, which is the `not` flag, or the first letter of `'and'`/`'or'`);
//! * a SELECT item is aggregated when it starts with an aggregate function.
//!
//! Checked against the official distribution of all 1,034 Spider dev questions (easy 248,
//! medium 446, hard 174, extra 166) by a test.

use std::fmt;

use serde::{Deserialize, Serialize};
use sqlparser::ast::{
    BinaryOperator, Expr, FunctionArguments, GroupByExpr, JoinConstraint, JoinOperator,
    OrderByKind, Query, SelectItem, SetExpr, Statement, UnaryOperator,
};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;

/// Spider's difficulty level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Hardness {
    Easy,
    Medium,
    Hard,
    Extra,
}

impl Hardness {
    pub const ALL: [Hardness; 4] = [
        Hardness::Easy,
        Hardness::Medium,
        Hardness::Hard,
        Hardness::Extra,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Hardness::Easy => "easy",
            Hardness::Medium => "medium",
            Hardness::Hard => "hard",
            Hardness::Extra => "extra",
        }
    }
}

impl fmt::Display for Hardness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The level of a gold query, or why it could not be measured (the SQL does not parse as one
/// SQLite query).
pub fn hardness(sql: &str) -> Result<Hardness, String> {
    let statements = Parser::parse_sql(&SQLiteDialect {}, sql).map_err(|e| e.to_string())?;
    let query = match statements.as_slice() {
        [Statement::Query(q)] => q,
        [_] => return Err("not a query".to_string()),
        _ => return Err(format!("{} statements", statements.len())),
    };
    let c = Counts::of_query(query);
    let (comp1, comp2, others) = (c.component1(), c.component2(), c.others());
    Ok(if comp1 <= 1 && others == 0 && comp2 == 0 {
        Hardness::Easy
    } else if (others <= 2 && comp1 <= 1 && comp2 == 0) || (comp1 <= 2 && others < 2 && comp2 == 0)
    {
        Hardness::Medium
    } else if (others > 2 && comp1 <= 2 && comp2 == 0)
        || (2 < comp1 && comp1 <= 3 && others <= 2 && comp2 == 0)
        || (comp1 <= 1 && others == 0 && comp2 <= 1)
    {
        Hardness::Hard
    } else {
        Hardness::Extra
    })
}

/// One condition unit of `process_sql` (`not_op, op_id, val_unit, val1, val2`), reduced to what
/// the counts need.
#[derive(Debug, Default)]
struct Cond {
    negated: bool,
    like: bool,
    /// Subqueries among its values (`x IN (SELECT …)`, `x > (SELECT …)`).
    subqueries: usize,
}

/// A flattened condition: its units and the `and`/`or` between them.
#[derive(Debug, Default)]
struct Condition {
    units: Vec<Cond>,
    ors: usize,
    connectors: usize,
}

impl Condition {
    fn of(expr: Option<&Expr>) -> Condition {
        let mut c = Condition::default();
        if let Some(e) = expr {
            c.push(e);
        }
        c
    }

    fn push(&mut self, e: &Expr) {
        match e {
            Expr::BinaryOp {
                left,
                op: op @ (BinaryOperator::And | BinaryOperator::Or),
                right,
            } => {
                self.push(left);
                self.connectors += 1;
                if *op == BinaryOperator::Or {
                    self.ors += 1;
                }
                self.push(right);
            }
            Expr::Nested(inner) if is_connective(inner) => self.push(inner),
            other => self.units.push(cond_unit(other)),
        }
    }

    /// `process_sql` joins the ON conditions of successive joins with an `and`.
    fn extend(&mut self, other: Condition) {
        if !self.units.is_empty() && !other.units.is_empty() {
            self.connectors += 1;
        }
        self.units.extend(other.units);
        self.ors += other.ors;
        self.connectors += other.connectors;
    }

    fn len(&self) -> usize {
        // `len(sql['where'])` counts units and connectors alike
        self.units.len() + self.connectors
    }
}

fn is_connective(e: &Expr) -> bool {
    match e {
        Expr::BinaryOp {
            op: BinaryOperator::And | BinaryOperator::Or,
            ..
        } => true,
        Expr::Nested(inner) => is_connective(inner),
        _ => false,
    }
}

fn is_subquery(e: &Expr) -> bool {
    match e {
        Expr::Subquery(_) => true,
        Expr::Nested(inner) => is_subquery(inner),
        _ => false,
    }
}

fn cond_unit(e: &Expr) -> Cond {
    match e {
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr,
        } => Cond {
            negated: true,
            ..cond_unit(expr)
        },
        Expr::Nested(inner) => cond_unit(inner),
        Expr::Like { negated, .. } | Expr::ILike { negated, .. } => Cond {
            negated: *negated,
            like: true,
            subqueries: 0,
        },
        Expr::In {
            negated, target, ..
        } => Cond {
            negated: *negated,
            like: false,
            subqueries: usize::from(matches!(target, sqlparser::ast::InTarget::Subquery(_))),
        },
        Expr::Between {
            negated, low, high, ..
        } => Cond {
            negated: *negated,
            like: false,
            subqueries: usize::from(is_subquery(low)) + usize::from(is_subquery(high)),
        },
        Expr::BinaryOp { right, .. } => Cond {
            subqueries: usize::from(is_subquery(right)),
            ..Cond::default()
        },
        _ => Cond::default(),
    }
}

const AGGREGATES: [&str; 5] = ["max", "min", "count", "sum", "avg"];

/// Whether the expression is an aggregate call (`process_sql`'s `col_unit` with an `agg_id`),
/// possibly in parentheses.
fn is_aggregate(e: &Expr) -> bool {
    match e {
        Expr::Function(f) => {
            !matches!(f.args, FunctionArguments::None)
                && AGGREGATES
                    .iter()
                    .any(|a| f.name.to_string().eq_ignore_ascii_case(a))
        }
        Expr::Nested(inner) => is_aggregate(inner),
        _ => false,
    }
}

/// A SELECT item is aggregated when its first token is an aggregate name.
fn starts_with_aggregate(e: &Expr) -> bool {
    match e {
        Expr::Function(_) => is_aggregate(e),
        Expr::BinaryOp { left, .. } => starts_with_aggregate(left),
        _ => false,
    }
}

/// An ORDER BY item as `process_sql`'s `val_unit`: one or two column units.
fn order_aggregates(e: &Expr) -> usize {
    match e {
        Expr::BinaryOp {
            left,
            op:
                BinaryOperator::Plus
                | BinaryOperator::Minus
                | BinaryOperator::Multiply
                | BinaryOperator::Divide,
            right,
        } => usize::from(is_aggregate(left)) + usize::from(is_aggregate(right)),
        Expr::Nested(inner) if !is_aggregate(inner) => order_aggregates(inner),
        other => usize::from(is_aggregate(other)),
    }
}

/// What `count_component1`, `count_component2` and `count_others` look at in the outermost
/// SELECT.
#[derive(Debug, Default)]
struct Counts {
    from_conds: Condition,
    where_: Condition,
    having: Condition,
    table_units: usize,
    group_by: usize,
    group_by_aggregates: usize,
    order_by: usize,
    order_by_aggregates: usize,
    limit: bool,
    select_items: usize,
    select_aggregates: usize,
    set_operation: bool,
}

impl Counts {
    fn of_query(q: &Query) -> Counts {
        let mut c = Counts::default();
        let mut body = q.body.as_ref();
        let mut own_tail = true;
        // The outermost SELECT is the leftmost one; with a set operation the query's ORDER BY
        // and LIMIT belong to the right-hand side.
        loop {
            match body {
                SetExpr::SetOperation { left, .. } => {
                    c.set_operation = true;
                    own_tail = false;
                    body = left;
                }
                SetExpr::Query(inner) => body = inner.body.as_ref(),
                _ => break,
            }
        }
        if own_tail {
            if let Some(OrderByKind::Expressions(exprs)) = q.order_by.as_ref().map(|ob| &ob.kind) {
                c.order_by = exprs.len();
                c.order_by_aggregates = exprs.iter().map(|o| order_aggregates(&o.expr)).sum();
            }
            c.limit = q.limit_clause.is_some();
        }
        if let SetExpr::Select(select) = body {
            for item in &select.projection {
                c.select_items += 1;
                let expr = match item {
                    SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                        Some(e)
                    }
                    _ => None,
                };
                if expr.is_some_and(starts_with_aggregate) {
                    c.select_aggregates += 1;
                }
            }
            for twj in &select.from {
                c.table_units += 1;
                for join in &twj.joins {
                    c.table_units += 1;
                    if let Some(JoinConstraint::On(e)) = join_constraint(&join.join_operator) {
                        c.from_conds.extend(Condition::of(Some(e)));
                    }
                }
            }
            c.where_ = Condition::of(select.selection.as_ref());
            c.having = Condition::of(select.having.as_ref());
            if let GroupByExpr::Expressions(exprs, _) = &select.group_by {
                c.group_by = exprs.len();
                c.group_by_aggregates = exprs.iter().filter(|e| is_aggregate(e)).count();
            }
        }
        c
    }

    fn conditions(&self) -> [&Condition; 3] {
        [&self.from_conds, &self.where_, &self.having]
    }

    fn component1(&self) -> usize {
        let mut n = usize::from(!self.where_.units.is_empty())
            + usize::from(self.group_by > 0)
            + usize::from(self.order_by > 0)
            + usize::from(self.limit)
            + self.table_units.saturating_sub(1);
        for cond in self.conditions() {
            n += cond.ors;
            n += cond.units.iter().filter(|u| u.like).count();
        }
        n
    }

    fn component2(&self) -> usize {
        self.conditions()
            .iter()
            .flat_map(|c| c.units.iter())
            .map(|u| u.subqueries)
            .sum::<usize>()
            + usize::from(self.set_operation)
    }

    fn others(&self) -> usize {
        let aggregates = self.select_aggregates
            + self.where_.units.iter().filter(|u| u.negated).count()
            + self.group_by_aggregates
            + self.order_by_aggregates
            + self.having.units.iter().filter(|u| u.negated).count()
            + self.having.connectors;
        usize::from(aggregates > 1)
            + usize::from(self.select_items > 1)
            + usize::from(self.where_.len() > 1)
            + usize::from(self.group_by > 1)
    }
}

fn join_constraint(op: &JoinOperator) -> Option<&JoinConstraint> {
    match op {
        JoinOperator::Join(c)
        | JoinOperator::Inner(c)
        | JoinOperator::Left(c)
        | JoinOperator::LeftOuter(c)
        | JoinOperator::Right(c)
        | JoinOperator::RightOuter(c)
        | JoinOperator::FullOuter(c)
        | JoinOperator::CrossJoin(c)
        | JoinOperator::Semi(c)
        | JoinOperator::LeftSemi(c)
        | JoinOperator::RightSemi(c)
        | JoinOperator::Anti(c)
        | JoinOperator::LeftAnti(c)
        | JoinOperator::RightAnti(c)
        | JoinOperator::StraightJoin(c) => Some(c),
        JoinOperator::AsOf { constraint, .. } => Some(constraint),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(sql: &str, expect: Hardness) {
        assert_eq!(hardness(sql), Ok(expect), "{sql}");
    }

    #[test]
    fn levels_of_hand_made_queries() {
        check("SELECT count(*) FROM singer", Hardness::Easy);
        check("SELECT name FROM singer WHERE age > 20", Hardness::Easy);
        check("SELECT name, country FROM singer", Hardness::Medium);
        check(
            "SELECT T1.name FROM a AS T1 JOIN b AS T2 ON T1.id = T2.id",
            Hardness::Easy,
        );
        check(
            "SELECT T1.name FROM a AS T1 JOIN b AS T2 ON T1.id = T2.id WHERE T2.x = 1",
            Hardness::Medium,
        );
        check(
            "SELECT name FROM singer ORDER BY age DESC LIMIT 1",
            Hardness::Medium,
        );
        check(
            "SELECT name FROM singer WHERE age > (SELECT avg(age) FROM singer)",
            Hardness::Hard,
        );
        check(
            "SELECT name FROM a INTERSECT SELECT name FROM b",
            Hardness::Hard,
        );
        check(
            "SELECT name FROM a WHERE x = 1 INTERSECT SELECT name FROM b",
            Hardness::Hard,
        );
        check(
            "SELECT name FROM a WHERE x = 1 OR y = 2 INTERSECT SELECT name FROM b",
            Hardness::Extra,
        );
        check(
            "SELECT a, count(*) FROM t GROUP BY a HAVING count(*) > 1 ORDER BY count(*) DESC LIMIT 3",
            Hardness::Hard,
        );
        check(
            "SELECT name FROM t WHERE id NOT IN (SELECT id FROM u)",
            Hardness::Hard,
        );
    }

    #[test]
    fn unparsable_sql_is_reported() {
        assert!(hardness("SELEC nothing").is_err());
        assert!(hardness("SELECT 1; SELECT 2").is_err());
    }
}

#[cfg(test)]
mod spider_distribution {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn spider_dev_matches_the_official_distribution() {
        let path = crate::eval::testdata::datasets().join("spider/dev.json");
        let text = std::fs::read_to_string(&path).unwrap();
        let items: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(items.len(), 1034);
        let mut counts: BTreeMap<Hardness, usize> = BTreeMap::new();
        for item in &items {
            let sql = item["query"].as_str().unwrap();
            let level = hardness(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
            *counts.entry(level).or_default() += 1;
        }
        let expected = BTreeMap::from([
            (Hardness::Easy, 248),
            (Hardness::Medium, 446),
            (Hardness::Hard, 174),
            (Hardness::Extra, 166),
        ]);
        assert_eq!(counts, expected);
    }

    /// `eval_hardness` itself, run on the parse tree `process_sql` stored in dev.json's `sql`
    /// field: the reference for a question-by-question comparison.
    fn official(sql: &serde_json::Value) -> Hardness {
        let arr = |v: &serde_json::Value| v.as_array().cloned().unwrap_or_default();
        let units = |c: &serde_json::Value| arr(c).into_iter().step_by(2).collect::<Vec<_>>();
        let ops = |c: &serde_json::Value| arr(c).into_iter().skip(1).step_by(2).collect::<Vec<_>>();
        let conds = [&sql["from"]["conds"], &sql["where"], &sql["having"]];
        let like = 9; // WHERE_OPS.index('like')
        let truthy = |v: &serde_json::Value| match v {
            serde_json::Value::Bool(b) => *b,
            serde_json::Value::Number(n) => n.as_i64() != Some(0),
            serde_json::Value::String(_) => true, // 'and'/'or'[0] != 0
            _ => false,
        };
        let mut comp1 = usize::from(!arr(&sql["where"]).is_empty())
            + usize::from(!arr(&sql["groupBy"]).is_empty())
            + usize::from(!arr(&sql["orderBy"]).is_empty())
            + usize::from(!sql["limit"].is_null())
            + arr(&sql["from"]["table_units"]).len().saturating_sub(1);
        let mut comp2 = 0;
        for c in conds {
            comp1 += ops(c).iter().filter(|o| o.as_str() == Some("or")).count();
            comp1 += units(c)
                .iter()
                .filter(|u| u[1].as_i64() == Some(like))
                .count();
            comp2 += units(c)
                .iter()
                .map(|u| usize::from(u[3].is_object()) + usize::from(u[4].is_object()))
                .sum::<usize>();
        }
        comp2 += ["intersect", "except", "union"]
            .iter()
            .filter(|k| !sql[**k].is_null())
            .count();
        let mut aggs = arr(&sql["select"][1])
            .iter()
            .filter(|u| truthy(&u[0]))
            .count();
        aggs += units(&sql["where"])
            .iter()
            .filter(|u| truthy(&u[0]))
            .count();
        aggs += arr(&sql["groupBy"])
            .iter()
            .filter(|u| truthy(&u[0]))
            .count();
        if let Some(order) = sql["orderBy"].get(1) {
            for vu in arr(order) {
                for cu in [&vu[1], &vu[2]] {
                    aggs += usize::from(!cu.is_null() && truthy(&cu[0]));
                }
            }
        }
        aggs += arr(&sql["having"])
            .iter()
            .filter(|u| match u {
                serde_json::Value::String(_) => true,
                other => truthy(&other[0]),
            })
            .count();
        let others = usize::from(aggs > 1)
            + usize::from(arr(&sql["select"][1]).len() > 1)
            + usize::from(arr(&sql["where"]).len() > 1)
            + usize::from(arr(&sql["groupBy"]).len() > 1);
        if comp1 <= 1 && others == 0 && comp2 == 0 {
            Hardness::Easy
        } else if (others <= 2 && comp1 <= 1 && comp2 == 0)
            || (comp1 <= 2 && others < 2 && comp2 == 0)
        {
            Hardness::Medium
        } else if (others > 2 && comp1 <= 2 && comp2 == 0)
            || (2 < comp1 && comp1 <= 3 && others <= 2 && comp2 == 0)
            || (comp1 <= 1 && others == 0 && comp2 <= 1)
        {
            Hardness::Hard
        } else {
            Hardness::Extra
        }
    }

    #[test]
    fn every_spider_dev_question_gets_its_official_level() {
        let path = crate::eval::testdata::datasets().join("spider/dev.json");
        let items: Vec<serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mismatches: Vec<String> = items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let sql = item["query"].as_str().unwrap();
                let ours = hardness(sql).ok();
                let theirs = official(&item["sql"]);
                (ours != Some(theirs))
                    .then(|| format!("#{i} ours {ours:?} official {theirs:?}: {sql}"))
            })
            .collect();
        assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
        // the reference itself reproduces the published distribution
        let mut counts: BTreeMap<Hardness, usize> = BTreeMap::new();
        for item in &items {
            *counts.entry(official(&item["sql"])).or_default() += 1;
        }
        assert_eq!(
            counts.values().copied().collect::<Vec<_>>(),
            [248, 446, 174, 166]
        );
    }
}
