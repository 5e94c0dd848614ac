//! The grouping rule: in a SELECT that groups (`GROUP BY`) or aggregates (`COUNT(*)` with no
//! `GROUP BY`), every column its select list, `HAVING` and `ORDER BY` read must be grouped,
//! inside an aggregate, or determined by a grouped primary key.
//!
//! PostgreSQL and Oracle refuse such a column; MySQL refuses it under `ONLY_FULL_GROUP_BY`;
//! SQLite and MariaDB's defaults return the value of an arbitrary row of the group, which
//! reads as an answer and is not one (`SELECT region, product, SUM(amount) … GROUP BY region`
//! shows one product per region, chosen by the storage order). The validator refuses it in
//! every dialect, so no generator — embedded, model or person — can run it anywhere.
//!
//! What counts as grouped follows PostgreSQL: an expression equal to a grouping expression
//! (after qualifying its columns), a column of a grouping expression, a grouping position
//! (`GROUP BY 1`) or output name (`GROUP BY total`), and every column of a table whose whole
//! primary key is grouped (a functional dependency; not on Oracle, which knows none). Windowed calls are not aggregates: the
//! columns they read must be grouped. Subqueries are left to their own check.

use std::collections::HashSet;
use std::ops::ControlFlow;

use cbi_types::TableSchema;
use sqlparser::ast::{
    Expr, GroupByExpr, Ident, OrderBy, OrderByKind, Select, SelectItem,
    SelectItemQualifiedWildcardKind, Spanned, Value, Visit, Visitor, visit_expressions_mut,
};
use sqlparser::tokenizer::Location;

use super::{Cols, Problem, ProblemKind, Resolver, Scope, find_source, idents, last_name};
use crate::functions::is_aggregate;

impl Resolver<'_> {
    /// Checks the grouping rule for `s`, whose scope is the innermost one, and the ORDER BY of
    /// the query it is the body of.
    pub(super) fn grouping(&mut self, s: &Select, order_by: Option<&OrderBy>) {
        let GroupByExpr::Expressions(exprs, _) = &s.group_by else {
            return; // `GROUP BY ALL` groups by every non-aggregate output.
        };
        let aggregates = s.projection.iter().any(|item| match item {
            SelectItem::UnnamedExpr(e)
            | SelectItem::ExprWithAlias { expr: e, .. }
            | SelectItem::ExprWithAliases { expr: e, .. } => has_aggregate(e),
            _ => false,
        }) || s.having.as_ref().is_some_and(has_aggregate);
        if exprs.is_empty() && !aggregates {
            return;
        }
        let Some(scope) = self.scopes.last() else {
            return;
        };
        let groups = Groups::new(self, scope, s, exprs);
        let mut found = Vec::new();
        for item in &s.projection {
            match item {
                SelectItem::UnnamedExpr(e)
                | SelectItem::ExprWithAlias { expr: e, .. }
                | SelectItem::ExprWithAliases { expr: e, .. } => groups.check(e, &mut found),
                SelectItem::Wildcard(_) => {
                    for i in 0..scope.sources.len() {
                        groups.whole_source(i, item.span().start, &mut found);
                    }
                }
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(n),
                    _,
                ) => {
                    let parts = idents(n).unwrap_or_default();
                    let at = item.span().start;
                    if let Some(i) = groups.source_index(&parts) {
                        groups.whole_source(i, at, &mut found);
                    }
                }
                SelectItem::QualifiedWildcard(..) => {}
            }
        }
        if let Some(h) = &s.having {
            groups.check(h, &mut found);
        }
        if let Some(OrderBy {
            kind: OrderByKind::Expressions(list),
            ..
        }) = order_by
        {
            for o in list {
                if !groups.is_output_reference(&o.expr) {
                    groups.check(&o.expr, &mut found);
                }
            }
        }
        for (at, p) in found {
            self.problem(at, p);
        }
    }
}

/// Whether `e` calls an aggregate outside any subquery (a windowed call is not one).
fn has_aggregate(e: &Expr) -> bool {
    struct Find {
        depth: usize,
        found: bool,
    }
    impl Visitor for Find {
        type Break = ();
        fn pre_visit_query(&mut self, _: &sqlparser::ast::Query) -> ControlFlow<()> {
            self.depth += 1;
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _: &sqlparser::ast::Query) -> ControlFlow<()> {
            self.depth -= 1;
            ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            if self.depth == 0 && is_aggregate_call(e) {
                self.found = true;
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
    }
    let mut f = Find {
        depth: 0,
        found: false,
    };
    let _ = e.visit(&mut f);
    f.found
}

fn is_aggregate_call(e: &Expr) -> bool {
    matches!(e, Expr::Function(f) if f.over.is_none() && is_aggregate(&last_name(&f.name)))
}

/// A column reference as this SELECT sees it.
enum ColumnRef {
    /// Column `name` (lower case) of the source at this index.
    Source(usize, String),
    /// A column merged by `USING`/`NATURAL`, named unqualified.
    Merged(String),
    /// An output name, an outer query's column, or a name from a source of unknown columns:
    /// not this rule's business.
    Other,
}

/// What one SELECT groups by.
struct Groups<'s, 'r, 'a> {
    resolver: &'r Resolver<'a>,
    scope: &'s Scope,
    select: &'s Select,
    /// Grouped columns: (source index, lower-case name).
    columns: HashSet<(usize, String)>,
    /// Grouped merged columns and unqualified names that resolve to no single source.
    merged: HashSet<String>,
    /// Grouping expressions that are not plain columns, in [`Groups::canonical`] form.
    expressions: HashSet<String>,
    /// Sources whose whole primary key is grouped.
    determined: Vec<bool>,
}

impl<'s, 'r, 'a> Groups<'s, 'r, 'a> {
    fn new(
        resolver: &'r Resolver<'a>,
        scope: &'s Scope,
        select: &'s Select,
        exprs: &'s [Expr],
    ) -> Self {
        let mut g = Groups {
            resolver,
            scope,
            select,
            columns: HashSet::new(),
            merged: HashSet::new(),
            expressions: HashSet::new(),
            determined: Vec::new(),
        };
        let mut keys: Vec<&Expr> = Vec::new();
        for e in exprs {
            match e {
                Expr::Rollup(sets) | Expr::Cube(sets) | Expr::GroupingSets(sets) => {
                    keys.extend(sets.iter().flatten());
                }
                e => keys.push(e),
            }
        }
        for e in keys {
            let e = g.grouped_item(e).unwrap_or(e);
            g.add_key(e);
        }
        // Oracle knows no functional dependencies: every shown column is grouped there.
        let dependencies = resolver.dialect != cbi_types::SqlDialect::Oracle;
        g.determined = (0..scope.sources.len())
            .map(|i| dependencies && g.primary_key_grouped(i))
            .collect();
        g
    }

    /// The select item a grouping position (`GROUP BY 2`) or output name (`GROUP BY total`,
    /// when no input column has that name) stands for.
    fn grouped_item(&self, e: &'s Expr) -> Option<&'s Expr> {
        let item = match e {
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) => {
                    let pos: usize = n.parse().ok()?;
                    self.select.projection.get(pos.checked_sub(1)?)?
                }
                _ => return None,
            },
            Expr::Identifier(id)
                if matches!(self.resolve(std::slice::from_ref(id)), ColumnRef::Other) =>
            {
                self.select.projection.iter().find(|item| {
                    matches!(item, SelectItem::ExprWithAlias { alias, .. }
                        if alias.value.eq_ignore_ascii_case(&id.value))
                })?
            }
            _ => return None,
        };
        match item {
            SelectItem::UnnamedExpr(x) | SelectItem::ExprWithAlias { expr: x, .. } => Some(x),
            _ => None,
        }
    }

    fn add_key(&mut self, e: &Expr) {
        match strip(e) {
            Expr::Identifier(id) => self.add_column(std::slice::from_ref(id)),
            Expr::CompoundIdentifier(parts) => self.add_column(parts),
            other => {
                self.expressions.insert(self.canonical(other));
            }
        }
    }

    fn add_column(&mut self, parts: &[Ident]) {
        match self.resolve(parts) {
            ColumnRef::Source(i, c) => {
                self.columns.insert((i, c));
            }
            ColumnRef::Merged(c) => {
                self.merged.insert(c);
            }
            ColumnRef::Other => {
                if let Some(last) = parts.last() {
                    self.merged.insert(last.value.to_lowercase());
                }
            }
        }
    }

    fn table_of(&self, i: usize) -> Option<&'a TableSchema> {
        let (ns, name) = self.scope.sources.get(i)?.table.as_ref()?;
        self.resolver.find_table(ns.as_deref(), name)
    }

    fn primary_key_grouped(&self, i: usize) -> bool {
        self.table_of(i).is_some_and(|t| {
            !t.primary_key.is_empty()
                && t.primary_key
                    .iter()
                    .all(|k| self.columns.contains(&(i, k.to_lowercase())))
        })
    }

    fn source_index(&self, parts: &[Ident]) -> Option<usize> {
        let src = find_source(&self.scope.sources, parts, self.resolver)?;
        self.scope.sources.iter().position(|s| std::ptr::eq(s, src))
    }

    fn resolve(&self, parts: &[Ident]) -> ColumnRef {
        match parts {
            [] => ColumnRef::Other,
            [id] => {
                let name = id.value.as_str();
                if self
                    .scope
                    .coalesced
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case(name))
                {
                    return ColumnRef::Merged(name.to_lowercase());
                }
                let mut having = self
                    .scope
                    .sources
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| matches!(&s.cols, Cols::Known(_)) && s.cols.has(name));
                match (having.next(), having.next()) {
                    (Some((i, _)), None) => ColumnRef::Source(i, name.to_lowercase()),
                    _ => ColumnRef::Other,
                }
            }
            [qualifier @ .., col] => match self.source_index(qualifier) {
                Some(i) if matches!(self.scope.sources[i].cols, Cols::Known(_)) => {
                    ColumnRef::Source(i, col.value.to_lowercase())
                }
                _ => ColumnRef::Other,
            },
        }
    }

    /// `e` with its columns written as `#source.column` and its text lower-cased, so
    /// `strftime('%Y', o.date)` and `strftime('%Y', date)` compare equal.
    fn canonical(&self, e: &Expr) -> String {
        let mut e = strip(e).clone();
        let _ = visit_expressions_mut(&mut e, |x| {
            let parts = match x {
                Expr::Identifier(id) => Some(vec![id.clone()]),
                Expr::CompoundIdentifier(parts) => Some(parts.clone()),
                _ => None,
            };
            if let Some(parts) = parts {
                let name = match self.resolve(&parts) {
                    ColumnRef::Source(i, c) => format!("#{i}.{c}"),
                    ColumnRef::Merged(c) => format!("#.{c}"),
                    ColumnRef::Other => parts
                        .iter()
                        .map(|p| p.value.to_lowercase())
                        .collect::<Vec<_>>()
                        .join("."),
                };
                *x = Expr::Identifier(Ident::new(name));
            }
            if let Expr::Nested(inner) = x {
                *x = (**inner).clone();
            }
            ControlFlow::<()>::Continue(())
        });
        e.to_string().to_lowercase()
    }

    /// Whether an ORDER BY key names an output (its alias or position), which is checked
    /// where the select list is.
    fn is_output_reference(&self, e: &Expr) -> bool {
        match e {
            Expr::Value(v) => matches!(v.value, Value::Number(..)),
            Expr::Identifier(id) => {
                matches!(self.resolve(std::slice::from_ref(id)), ColumnRef::Other)
                    && self
                        .scope
                        .outputs
                        .iter()
                        .any(|o| o.eq_ignore_ascii_case(&id.value))
            }
            _ => false,
        }
    }

    fn is_grouped(&self, e: &Expr) -> bool {
        match strip(e) {
            Expr::Identifier(id) => self.column_grouped(std::slice::from_ref(id)),
            Expr::CompoundIdentifier(parts) => self.column_grouped(parts),
            other => {
                !self.expressions.is_empty() && self.expressions.contains(&self.canonical(other))
            }
        }
    }

    fn column_grouped(&self, parts: &[Ident]) -> bool {
        match self.resolve(parts) {
            ColumnRef::Source(i, c) => {
                self.determined.get(i).copied().unwrap_or(false)
                    || self.columns.contains(&(i, c.clone()))
                    || (parts.len() == 1 && self.merged.contains(&c))
            }
            ColumnRef::Merged(c) => self.merged.contains(&c),
            ColumnRef::Other => true,
        }
    }

    /// Reports every column of `e` that is neither grouped nor aggregated.
    fn check(&self, e: &Expr, found: &mut Vec<(Location, Problem)>) {
        let mut walk = Check {
            groups: self,
            query_depth: 0,
            covered: Vec::new(),
            found,
        };
        let _ = e.visit(&mut walk);
    }

    /// Reports `SELECT *` (or `t.*`) over a source whose columns are not all grouped.
    fn whole_source(&self, i: usize, at: Location, found: &mut Vec<(Location, Problem)>) {
        let src = &self.scope.sources[i];
        let Cols::Known(cols) = &src.cols else {
            return;
        };
        if self.determined.get(i).copied().unwrap_or(false) {
            return;
        }
        let loose: Vec<&String> = cols
            .iter()
            .filter(|c| !self.columns.contains(&(i, c.to_lowercase())))
            .collect();
        if let Some(first) = loose.first() {
            found.push((
                at,
                Problem::new(
                    ProblemKind::UngroupedColumn,
                    format!(
                        "`*` reads {} of {} ({}{}), which the query neither groups nor \
                         aggregates; name the grouped columns instead",
                        if loose.len() == 1 {
                            "a column"
                        } else {
                            "columns"
                        },
                        src.label(),
                        first,
                        if loose.len() > 1 { ", …" } else { "" }
                    ),
                ),
            ));
        }
    }
}

/// Walks one expression of the select list, HAVING or ORDER BY.
struct Check<'g, 's, 'r, 'a, 'f> {
    groups: &'g Groups<'s, 'r, 'a>,
    query_depth: usize,
    /// Expressions being walked that are grouped or aggregated: nothing inside them is
    /// checked.
    covered: Vec<*const Expr>,
    found: &'f mut Vec<(Location, Problem)>,
}

impl Visitor for Check<'_, '_, '_, '_, '_> {
    type Break = ();

    fn pre_visit_query(&mut self, _: &sqlparser::ast::Query) -> ControlFlow<()> {
        self.query_depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &sqlparser::ast::Query) -> ControlFlow<()> {
        self.query_depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        if self.query_depth > 0 || !self.covered.is_empty() {
            return ControlFlow::Continue(());
        }
        if is_aggregate_call(e) || self.groups.is_grouped(e) {
            self.covered.push(e as *const Expr);
            return ControlFlow::Continue(());
        }
        let parts = match e {
            Expr::Identifier(id) => std::slice::from_ref(id),
            Expr::CompoundIdentifier(parts) => parts.as_slice(),
            _ => return ControlFlow::Continue(()),
        };
        let written = parts
            .iter()
            .map(|p| p.value.as_str())
            .collect::<Vec<_>>()
            .join(".");
        let column = parts.last().map_or("", |p| p.value.as_str());
        let p = Problem::new(
            ProblemKind::UngroupedColumn,
            format!(
                "column `{written}` is neither grouped nor aggregated: add it to GROUP BY, or \
                 aggregate it (MAX({column}), COUNT(DISTINCT {column}))"
            ),
        );
        let at = parts.first().map_or(e.span().start, |p| p.span.start);
        self.found.push((at, p));
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        if self.covered.last() == Some(&(e as *const Expr)) {
            self.covered.pop();
        }
        ControlFlow::Continue(())
    }
}

/// `e` without enclosing parentheses.
fn strip(mut e: &Expr) -> &Expr {
    while let Expr::Nested(inner) = e {
        e = inner;
    }
    e
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use cbi_types::{DatabaseSchema, SqlDialect};

    use crate::fixtures::typed;
    use crate::validate::{ProblemKind, SqlValidator};

    /// The columns reported as ungrouped (as their messages name them), or "ok".
    fn check(sql: &str, expect: &str) {
        for d in [
            SqlDialect::Sqlite,
            SqlDialect::PostgreSql,
            SqlDialect::MySql,
        ] {
            let schema = DatabaseSchema {
                name: "db".into(),
                dialect: d,
                tables: vec![
                    typed(
                        "orders",
                        &[
                            "id integer pk",
                            "customer_id",
                            "region",
                            "amount",
                            "placed_on",
                        ],
                    ),
                    typed("customers", &["id integer pk", "name", "region"]),
                    typed(
                        "lines",
                        &["order_id integer pk", "line_no integer pk", "sku"],
                    ),
                ],
                relationships: Vec::new(),
            };
            let got = match SqlValidator::new(d, Arc::new(schema)).validate(sql) {
                Ok(_) => "ok".to_string(),
                Err(problems) => problems
                    .iter()
                    .map(|p| {
                        if p.kind == ProblemKind::UngroupedColumn {
                            p.message
                                .split('`')
                                .nth(1)
                                .unwrap_or(&p.message)
                                .to_string()
                        } else {
                            format!("{:?}: {}", p.kind, p.message)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            assert_eq!(got, expect, "{d:?}: {sql}");
        }
    }

    #[test]
    fn grouped_and_aggregated_columns_pass() {
        check(
            "SELECT region, SUM(amount) FROM orders GROUP BY region",
            "ok",
        );
        check(
            "SELECT o.region, COUNT(*) FROM orders o GROUP BY region",
            "ok",
        );
        check(
            "SELECT region AS r, SUM(amount) FROM orders GROUP BY 1",
            "ok",
        );
        check(
            "SELECT region AS r, SUM(amount) AS total FROM orders GROUP BY r ORDER BY total DESC",
            "ok",
        );
        check("SELECT SUM(amount) FROM orders", "ok");
        check("SELECT COUNT(*) FROM orders WHERE region = 'West'", "ok");
        check(
            "SELECT region FROM orders GROUP BY region HAVING COUNT(*) > 2 ORDER BY COUNT(*) DESC",
            "ok",
        );
        check(
            "SELECT UPPER(region), SUM(amount) FROM orders GROUP BY region",
            "ok",
        );
        check(
            "SELECT region || '!' AS r, COUNT(*) FROM orders GROUP BY region || '!'",
            "ok",
        );
        check("SELECT MAX(amount) - MIN(amount) FROM orders", "ok");
        check(
            "SELECT region, RANK() OVER (ORDER BY SUM(amount) DESC) FROM orders GROUP BY region",
            "ok",
        );
        // Not aggregated at all: nothing to check.
        check("SELECT region, amount FROM orders ORDER BY amount", "ok");
        check(
            "SELECT region, SUM(amount) OVER (PARTITION BY region) FROM orders",
            "ok",
        );
        // A subquery's columns are its own.
        check(
            "SELECT region, (SELECT MAX(name) FROM customers c WHERE c.region = orders.region) FROM orders GROUP BY region",
            "ok",
        );
    }

    #[test]
    fn a_grouped_primary_key_determines_its_table() {
        check(
            "SELECT c.id, c.name, SUM(o.amount) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id",
            "ok",
        );
        check(
            "SELECT c.*, COUNT(*) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id",
            "ok",
        );
        // Half a composite key determines nothing.
        check(
            "SELECT order_id, sku, COUNT(*) FROM lines GROUP BY order_id",
            "sku",
        );
        check(
            "SELECT order_id, sku FROM lines GROUP BY order_id, line_no",
            "ok",
        );
    }

    #[test]
    fn bare_columns_are_refused_in_every_dialect() {
        check(
            "SELECT region, customer_id, SUM(amount) FROM orders GROUP BY region",
            "customer_id",
        );
        check("SELECT region, MAX(amount) FROM orders", "region");
        check(
            "SELECT region, SUM(amount) FROM orders GROUP BY placed_on HAVING amount > 3",
            "region, amount",
        );
        check(
            "SELECT region, COUNT(*) FROM orders GROUP BY region ORDER BY amount",
            "amount",
        );
        check(
            "SELECT c.name, SUM(o.amount) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY o.customer_id",
            "c.name",
        );
        check(
            "SELECT amount + 1, COUNT(*) FROM orders GROUP BY amount * 2",
            "amount",
        );
        check(
            "SELECT region, LAG(amount) OVER (ORDER BY region) FROM orders GROUP BY region",
            "amount",
        );
        check("SELECT * FROM orders GROUP BY region", "*");
    }

    #[test]
    fn each_arm_of_a_union_is_checked() {
        check(
            "SELECT region FROM orders GROUP BY region UNION SELECT name FROM customers",
            "ok",
        );
        check(
            "SELECT region, COUNT(*) FROM orders UNION SELECT name, 1 FROM customers",
            "region",
        );
    }
}
