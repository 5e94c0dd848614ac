//! Rendering a [`SemanticQuery`] as SQL for a dialect.
//!
//! The text is written for the dialect (quoting, date functions, LIMIT vs FETCH FIRST), then
//! parsed with sqlparser's parser for that dialect and printed back from the AST, so every
//! statement cbi emits is one the dialect's parser accepts, in sqlparser's canonical form.

use std::fmt::Write;

use cbi_types::SqlDialect;
use sqlparser::parser::Parser;

use crate::index::SchemaIndex;
use crate::query::{
    AggFunc, CmpOp, Condition, Expr, Literal, Operand, SemanticQuery, SetOp, TimeGrain,
};
use crate::{Error, Result};

pub use crate::dialects::parser_dialect;

/// Renders the query for `dialect`, round-tripped through sqlparser.
pub fn render(q: &SemanticQuery, idx: &SchemaIndex, dialect: SqlDialect) -> Result<String> {
    let text = render_text(q, idx, dialect)?;
    canonical(&text, dialect)
}

/// Statements up to this many bytes are parsed and printed on the caller's thread.
const INLINE_BYTES: usize = 2_048;

/// The stack of the thread that parses and prints longer statements: a question listing
/// hundreds of values renders as a chain of conditions deep enough that cloning and printing
/// it recursively would overflow an async worker's 2 MiB stack. Only the pages used are
/// committed.
const WORKER_STACK: usize = 256 << 20;

/// Parses one statement and prints it back from the AST.
pub fn canonical(sql: &str, dialect: SqlDialect) -> Result<String> {
    if sql.len() <= INLINE_BYTES {
        return canonical_here(sql, dialect);
    }
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("cbi-render".to_string())
            .stack_size(WORKER_STACK)
            .spawn_scoped(scope, || canonical_here(sql, dialect))
            .map_err(|e| Error::Render(format!("no thread to print a long statement on: {e}")))?
            .join()
            .unwrap_or_else(|_| Err(Error::Render("printing the statement failed".into())))
    })
}

fn canonical_here(sql: &str, dialect: SqlDialect) -> Result<String> {
    let stmts = Parser::parse_sql(parser_dialect(dialect).as_ref(), sql).map_err(|e| {
        Error::Render(format!(
            "generated SQL does not parse as {dialect}: {e}: {sql}"
        ))
    })?;
    match stmts.as_slice() {
        [one] => Ok(crate::dialects::print_statement(one, dialect)),
        _ => Err(Error::Render(format!(
            "expected one statement, got {}",
            stmts.len()
        ))),
    }
}

/// Renders without the round trip (for tests and debugging).
pub fn render_text(q: &SemanticQuery, idx: &SchemaIndex, d: SqlDialect) -> Result<String> {
    let r = Renderer { idx, d };
    let mut out = String::new();
    r.query(q, &mut out, true)?;
    Ok(out)
}

struct Renderer<'a> {
    idx: &'a SchemaIndex,
    d: SqlDialect,
}

impl Renderer<'_> {
    fn query(&self, q: &SemanticQuery, out: &mut String, top: bool) -> Result<()> {
        let has_compound = q.compound.is_some();
        self.select_core(q, out)?;
        if let Some(c) = &q.compound {
            let (op, other) = c.as_ref();
            out.push_str(match op {
                SetOp::Union => " UNION ",
                SetOp::Intersect => " INTERSECT ",
                SetOp::Except => {
                    if self.d == SqlDialect::Oracle {
                        " MINUS "
                    } else {
                        " EXCEPT "
                    }
                }
            });
            self.select_core(other, out)?;
        }
        if !q.order_by.is_empty() {
            out.push_str(" ORDER BY ");
            for (i, o) in q.order_by.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                // After a set operation ORDER BY may only name output columns: use positions.
                let pos = has_compound
                    .then(|| q.select.iter().position(|s| s.expr == o.expr))
                    .flatten();
                match pos {
                    Some(p) => {
                        let _ = write!(out, "{}", p + 1);
                    }
                    None => self.expr(&o.expr, out)?,
                }
                if o.desc {
                    out.push_str(" DESC");
                } else if !top || q.order_by.len() > 1 {
                    out.push_str(" ASC");
                }
            }
        }
        if let Some(n) = q.limit {
            match self.d {
                SqlDialect::Oracle => {
                    let _ = write!(out, " FETCH FIRST {n} ROWS ONLY");
                }
                _ => {
                    let _ = write!(out, " LIMIT {n}");
                }
            }
        }
        Ok(())
    }

    fn select_core(&self, q: &SemanticQuery, out: &mut String) -> Result<()> {
        let tables = q.all_tables();
        let mut ti = Vec::with_capacity(tables.len());
        for t in &tables {
            ti.push(
                self.idx
                    .aug
                    .schema
                    .table_index(t)
                    .ok_or_else(|| Error::Render(format!("unknown table `{t}`")))?,
            );
        }
        if ti.is_empty() {
            return Err(Error::Render("a query needs at least one table".into()));
        }
        let tree = self.idx.graph.connect(&ti).ok_or_else(|| {
            Error::Render(format!(
                "no chain of foreign keys connects {}",
                tables.join(", ")
            ))
        })?;
        out.push_str("SELECT ");
        if q.distinct {
            out.push_str("DISTINCT ");
        }
        for (i, s) in q.select.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.expr(&s.expr, out)?;
            if let Some(a) = &s.alias {
                let _ = write!(out, " AS {}", self.d.ident(a));
            }
        }
        out.push_str(" FROM ");
        out.push_str(&self.table_ref(tree.tables[0]));
        for &(ei, added) in &tree.joins {
            let e = &self.idx.graph.edges[ei];
            let (this_cols, other, other_cols) = if e.a == added {
                (&e.a_cols, e.b, &e.b_cols)
            } else {
                (&e.b_cols, e.a, &e.a_cols)
            };
            let _ = write!(out, " JOIN {} ON ", self.table_ref(added));
            for (k, (c1, c2)) in this_cols.iter().zip(other_cols.iter()).enumerate() {
                if k > 0 {
                    out.push_str(" AND ");
                }
                let _ = write!(
                    out,
                    "{} = {}",
                    self.qualified(added, *c1),
                    self.qualified(other, *c2)
                );
            }
        }
        if !q.filters.is_empty() {
            out.push_str(" WHERE ");
            self.conditions(&q.filters, " AND ", out)?;
        }
        if !q.group_by.is_empty() {
            out.push_str(" GROUP BY ");
            for (i, g) in q.group_by.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                self.expr(g, out)?;
            }
        }
        if !q.having.is_empty() {
            out.push_str(" HAVING ");
            self.conditions(&q.having, " AND ", out)?;
        }
        Ok(())
    }

    fn table_ref(&self, ti: usize) -> String {
        let t = self.idx.table(ti);
        match &t.schema {
            Some(ns) => format!("{}.{}", self.d.ident(ns), self.d.ident(&t.name)),
            None => self.d.ident(&t.name),
        }
    }

    fn qualified(&self, ti: usize, ci: usize) -> String {
        let t = self.idx.table(ti);
        format!(
            "{}.{}",
            self.d.ident(&t.name),
            self.d.ident(&t.columns[ci].name)
        )
    }

    fn column(&self, table: &str, column: &str) -> Result<String> {
        let schema = &self.idx.aug.schema;
        let ti = schema
            .table_index(table)
            .ok_or_else(|| Error::Render(format!("unknown table `{table}`")))?;
        let ci = schema.tables[ti]
            .column_index(column)
            .ok_or_else(|| Error::Render(format!("unknown column `{table}.{column}`")))?;
        Ok(self.qualified(ti, ci))
    }

    fn conditions(&self, cs: &[Condition], sep: &str, out: &mut String) -> Result<()> {
        for (i, c) in cs.iter().enumerate() {
            if i > 0 {
                out.push_str(sep);
            }
            self.condition(c, out)?;
        }
        Ok(())
    }

    fn condition(&self, c: &Condition, out: &mut String) -> Result<()> {
        match c {
            Condition::Compare { left, op, right } => {
                self.expr(left, out)?;
                let _ = write!(out, " {} ", op.sql());
                match right {
                    Operand::Literal(l) => out.push_str(&self.literal(l)),
                    Operand::Expr(e) => self.expr(e, out)?,
                    Operand::Query(q) => {
                        out.push('(');
                        self.query(q, out, false)?;
                        out.push(')');
                    }
                }
            }
            Condition::Between { expr, low, high } => {
                self.expr(expr, out)?;
                let _ = write!(
                    out,
                    " BETWEEN {} AND {}",
                    self.literal(low),
                    self.literal(high)
                );
            }
            Condition::InList {
                expr,
                values,
                negated,
            } => {
                self.expr(expr, out)?;
                out.push_str(if *negated { " NOT IN (" } else { " IN (" });
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&self.literal(v));
                }
                out.push(')');
            }
            Condition::InQuery {
                expr,
                query,
                negated,
            } => {
                self.expr(expr, out)?;
                out.push_str(if *negated { " NOT IN (" } else { " IN (" });
                self.query(query, out, false)?;
                out.push(')');
            }
            Condition::Like {
                expr,
                pattern,
                negated,
            } => {
                self.expr(expr, out)?;
                out.push_str(if *negated { " NOT LIKE " } else { " LIKE " });
                out.push_str(&self.d.string_literal(pattern));
            }
            Condition::IsNull { expr, negated } => {
                self.expr(expr, out)?;
                out.push_str(if *negated { " IS NOT NULL" } else { " IS NULL" });
            }
            Condition::Or(cs) => {
                out.push('(');
                self.conditions(cs, " OR ", out)?;
                out.push(')');
            }
            Condition::Raw { sql, .. } => {
                out.push('(');
                out.push_str(sql);
                out.push(')');
            }
        }
        Ok(())
    }

    fn expr(&self, e: &Expr, out: &mut String) -> Result<()> {
        match e {
            Expr::Column(c) => out.push_str(&self.column(&c.table, &c.column)?),
            Expr::CountStar => out.push_str("COUNT(*)"),
            Expr::Agg {
                func,
                arg,
                distinct,
            } => {
                out.push_str(func.sql());
                out.push('(');
                if *distinct {
                    out.push_str("DISTINCT ");
                }
                self.expr(arg, out)?;
                out.push(')');
            }
            Expr::TimeBucket { grain, column } => {
                let c = self.column(&column.table, &column.column)?;
                out.push_str(&self.time_bucket(*grain, &c));
            }
            Expr::Folded(c) => {
                let c = self.column(&c.table, &c.column)?;
                let _ = write!(out, "LOWER(TRIM({c}))");
            }
            Expr::Raw { sql, .. } => {
                out.push_str(sql);
            }
            Expr::Literal(l) => out.push_str(&self.literal(l)),
            Expr::Binary { op, left, right } => {
                out.push('(');
                self.expr(left, out)?;
                // Integer division truncates in several dialects: make the ratio real.
                if *op == '/' {
                    out.push_str(" * 1.0");
                }
                let _ = write!(out, " {op} ");
                self.expr(right, out)?;
                out.push(')');
            }
            Expr::Growth { measure, period } => {
                let mut m = String::new();
                self.expr(measure, &mut m)?;
                let mut p = String::new();
                self.expr(period, &mut p)?;
                let _ = write!(
                    out,
                    "ROUND(({m} - LAG({m}) OVER (ORDER BY {p})) * 100.0 / NULLIF(LAG({m}) OVER (ORDER BY {p}), 0), 2)"
                );
            }
            Expr::Share { part } => {
                out.push_str("100.0 * SUM(CASE WHEN ");
                self.condition(part, out)?;
                out.push_str(" THEN 1 ELSE 0 END) / COUNT(*)");
            }
            Expr::CountIf { cond, measure } => {
                out.push_str("SUM(CASE WHEN ");
                self.condition(cond, out)?;
                out.push_str(" THEN ");
                match measure {
                    Some(m) => self.expr(m, out)?,
                    None => out.push('1'),
                }
                out.push_str(" ELSE 0 END)");
            }
            Expr::ShareOfTotal { measure } => {
                let mut m = String::new();
                self.expr(measure, &mut m)?;
                let _ = write!(out, "100.0 * {m} / SUM({m}) OVER ()");
            }
        }
        Ok(())
    }

    fn time_bucket(&self, grain: TimeGrain, c: &str) -> String {
        match self.d {
            SqlDialect::Sqlite => match grain {
                TimeGrain::Day => format!("date({c})"),
                TimeGrain::Week => format!("strftime('%Y-W%W', {c})"),
                TimeGrain::Month => format!("strftime('%Y-%m', {c})"),
                TimeGrain::Quarter => format!(
                    "strftime('%Y', {c}) || '-Q' || ((CAST(strftime('%m', {c}) AS INTEGER) + 2) / 3)"
                ),
                TimeGrain::Year => format!("strftime('%Y', {c})"),
            },
            SqlDialect::PostgreSql | SqlDialect::Generic => {
                format!("DATE_TRUNC('{}', {c})", grain.word())
            }
            SqlDialect::MySql => match grain {
                TimeGrain::Day => format!("DATE({c})"),
                TimeGrain::Week => format!("DATE_FORMAT({c}, '%x-W%v')"),
                TimeGrain::Month => format!("DATE_FORMAT({c}, '%Y-%m')"),
                TimeGrain::Quarter => format!("CONCAT(YEAR({c}), '-Q', QUARTER({c}))"),
                TimeGrain::Year => format!("YEAR({c})"),
            },
            SqlDialect::Oracle => {
                let f = match grain {
                    TimeGrain::Day => "DD",
                    TimeGrain::Week => "IW",
                    TimeGrain::Month => "MM",
                    TimeGrain::Quarter => "Q",
                    TimeGrain::Year => "YYYY",
                };
                format!("TRUNC({c}, '{f}')")
            }
        }
    }

    fn literal(&self, l: &Literal) -> String {
        match l {
            Literal::Int(i) => i.to_string(),
            Literal::Float(f) => {
                if f.fract() == 0.0 && f.abs() < 1e15 {
                    format!("{f:.1}")
                } else {
                    f.to_string()
                }
            }
            Literal::Text(s) => self.d.string_literal(s),
            Literal::Date(s) => match self.d {
                SqlDialect::PostgreSql | SqlDialect::Oracle => {
                    format!("DATE {}", self.d.string_literal(s))
                }
                _ => self.d.string_literal(s),
            },
            Literal::Null => "NULL".to_string(),
        }
    }
}

/// Human words for an aggregate over a column name ("average age").
pub fn agg_phrase(func: AggFunc, what: &str) -> String {
    format!("{} {what}", func.word())
}

/// Whether a comparison reads as "more than".
pub fn is_greater(op: CmpOp) -> bool {
    matches!(op, CmpOp::Gt | CmpOp::GtEq)
}
