//! A plain-English sentence saying what a semantic query computes.

use crate::query::*;

/// "Counts singers where country is 'France'." / "Shows the name of stadium, the one with the
/// highest capacity."
pub fn describe(q: &SemanticQuery) -> String {
    let mut s = String::new();
    let subject = q.tables.first().map(|t| readable(t)).unwrap_or_default();
    let only_count =
        q.select.len() == 1 && q.select[0].expr == Expr::CountStar && q.group_by.is_empty();
    let grouped = !q.group_by.is_empty();
    if only_count {
        s.push_str(&format!("Counts {subject}"));
    } else if grouped {
        // A breakdown reads as "<measures> for each <dimension>".
        let measures: Vec<String> = q
            .select
            .iter()
            .filter(|i| i.expr.is_aggregate())
            .map(|i| i.alias.clone().unwrap_or_else(|| expr_words(&i.expr)))
            .collect();
        let shown = if measures.is_empty() {
            q.select
                .iter()
                .map(|i| i.alias.clone().unwrap_or_else(|| expr_words(&i.expr)))
                .collect()
        } else {
            measures
        };
        s.push_str(&format!("Shows {}", list(&shown)));
    } else {
        let items: Vec<String> = q
            .select
            .iter()
            .map(|i| i.alias.clone().unwrap_or_else(|| expr_words(&i.expr)))
            .collect();
        s.push_str(&format!(
            "Shows {}{} of {subject}",
            if q.distinct { "the distinct " } else { "" },
            list(&items)
        ));
    }
    if !grouped {
        let joined: Vec<String> = q.tables.iter().skip(1).map(|t| readable(t)).collect();
        if !joined.is_empty() {
            s.push_str(&format!(" (with {})", list(&joined)));
        }
    }
    if grouped {
        // Name each dimension once: the shown label rather than its key beside it.
        let mut dims: Vec<String> = Vec::new();
        for g in &q.group_by {
            let shown = q.select.iter().find(|i| i.expr == *g);
            let words = match (shown, g) {
                (Some(i), _) => i.alias.clone().unwrap_or_else(|| dimension_words(g)),
                (None, _)
                    if q.group_by.len() > 1 && q.select.iter().any(|i| same_table(&i.expr, g)) =>
                {
                    continue;
                }
                (None, _) => dimension_words(g),
            };
            if !dims.contains(&words) {
                dims.push(words);
            }
        }
        if !dims.is_empty() {
            s.push_str(&format!(" for each {}", list(&dims)));
        }
    }
    if !q.filters.is_empty() {
        let conds: Vec<String> = q.filters.iter().map(cond_words).collect();
        s.push_str(&format!(" where {}", conds.join(" and ")));
    }
    if !q.having.is_empty() {
        let hs: Vec<String> = q.having.iter().map(cond_words).collect();
        s.push_str(&format!(", keeping groups where {}", hs.join(" and ")));
    }
    if let Some((op, other)) = q.compound.as_deref() {
        let word = match op {
            SetOp::Union => "together with",
            SetOp::Intersect => "that also appear for",
            SetOp::Except => "except those for",
        };
        let conds: Vec<String> = other.filters.iter().map(cond_words).collect();
        s.push_str(&format!(", {word} {}", conds.join(" and ")));
    }
    match (q.order_by.as_slice(), q.limit) {
        ([o], Some(1)) => s.push_str(&format!(
            ", taking the one with the {} {}",
            if o.desc { "highest" } else { "lowest" },
            expr_words(&o.expr)
        )),
        ([o], Some(n)) => s.push_str(&format!(
            ", taking the top {n} by {}{}",
            expr_words(&o.expr),
            if o.desc { "" } else { " (lowest first)" }
        )),
        ([], Some(n)) => s.push_str(&format!(", at most {n} rows")),
        (os, _) if !os.is_empty() => {
            let parts: Vec<String> = os
                .iter()
                .map(|o| {
                    format!(
                        "{}{}",
                        expr_words(&o.expr),
                        if o.desc { " (descending)" } else { "" }
                    )
                })
                .collect();
            s.push_str(&format!(", sorted by {}", list(&parts)));
        }
        _ => {}
    }
    s.push('.');
    s
}

/// A grouping column in words: `regions.name` is "region", `orders.status` is "status".
fn dimension_words(e: &Expr) -> String {
    match e {
        Expr::Column(c) if matches!(c.column.to_lowercase().as_str(), "name" | "title" | "id") => {
            cbi_schema::names::singular(&readable(&c.table))
        }
        other => expr_words(other),
    }
}

fn same_table(a: &Expr, b: &Expr) -> bool {
    match (a, b) {
        (Expr::Column(x), Expr::Column(y)) => x.table.eq_ignore_ascii_case(&y.table),
        _ => false,
    }
}

fn readable(ident: &str) -> String {
    cbi_schema::names::readable_name(ident)
}

fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [a] => a.clone(),
        [a, b] => format!("{a} and {b}"),
        [rest @ .., last] => format!("{}, and {last}", rest.join(", ")),
    }
}

fn expr_words(e: &Expr) -> String {
    match e {
        Expr::Column(c) => readable(&c.column),
        Expr::CountStar => "the number of rows".into(),
        Expr::Agg {
            func,
            arg,
            distinct,
        } => {
            let inner = expr_words(arg);
            match func {
                AggFunc::Count if *distinct => format!("the number of different {inner}"),
                AggFunc::Count => format!("the number of {inner}"),
                f => format!("the {} {inner}", f.word()),
            }
        }
        Expr::TimeBucket { grain, column } => {
            format!("{} of {}", grain.word(), readable(&column.column))
        }
        Expr::Folded(c) => format!("{} (ignoring case and spaces)", readable(&c.column)),
        Expr::Raw { label, .. } => label.clone(),
        Expr::Literal(l) => lit_words(l),
        Expr::Binary { op, left, right } => {
            format!("{} {op} {}", expr_words(left), expr_words(right))
        }
        Expr::Growth { measure, period } => {
            format!(
                "the change in {} from the previous {} (%)",
                expr_words(measure),
                expr_words(period)
            )
        }
        Expr::Share { part } => format!("the percentage where {}", cond_words(part)),
        Expr::CountIf { cond, measure } => match measure {
            Some(m) => format!("{} where {}", expr_words(m), cond_words(cond)),
            None => format!("the number where {}", cond_words(cond)),
        },
        Expr::ShareOfTotal { measure } => {
            format!("the share of the total {} (%)", expr_words(measure))
        }
    }
}

fn lit_words(l: &Literal) -> String {
    match l {
        Literal::Int(i) => i.to_string(),
        Literal::Float(f) => f.to_string(),
        Literal::Text(t) => format!("'{t}'"),
        Literal::Date(d) => d.clone(),
        Literal::Null => "nothing".into(),
    }
}

fn cond_words(c: &Condition) -> String {
    match c {
        Condition::Compare { left, op, right } => {
            let r = match right {
                Operand::Literal(l) => lit_words(l),
                Operand::Expr(e) => expr_words(e),
                Operand::Query(q) => match q.select.first() {
                    Some(s) => format!(
                        "{} over all {}",
                        expr_words(&s.expr),
                        q.tables.first().map(|t| readable(t)).unwrap_or_default()
                    ),
                    None => "a subquery".into(),
                },
            };
            let l = expr_words(left);
            if let (
                Expr::Column(_) | Expr::TimeBucket { .. },
                CmpOp::GtEq,
                Operand::Literal(Literal::Date(d)),
            ) = (left, op, right)
            {
                return format!("{l} is on or after {d}");
            }
            if let (CmpOp::Lt, Operand::Literal(Literal::Date(d))) = (op, right) {
                return format!("{l} is before {d}");
            }
            format!("{l} {} {r}", op.words())
        }
        Condition::Between { expr, low, high } => format!(
            "{} is between {} and {}",
            expr_words(expr),
            lit_words(low),
            lit_words(high)
        ),
        Condition::InList {
            expr,
            values,
            negated,
        } => {
            let vs: Vec<String> = values.iter().map(lit_words).collect();
            format!(
                "{} is {}one of {}",
                expr_words(expr),
                if *negated { "not " } else { "" },
                vs.join(", ")
            )
        }
        Condition::InQuery {
            expr,
            query,
            negated,
        } => format!(
            "{} {} among the {}",
            expr_words(expr),
            if *negated {
                "does not appear"
            } else {
                "appears"
            },
            query
                .tables
                .iter()
                .map(|t| readable(t))
                .collect::<Vec<_>>()
                .join(" and ")
        ),
        Condition::Like {
            expr,
            pattern,
            negated,
        } => format!(
            "{} {}matches '{pattern}'",
            expr_words(expr),
            if *negated { "does not " } else { "" }
        ),
        Condition::IsNull { expr, negated } => format!(
            "{} is {}empty",
            expr_words(expr),
            if *negated { "not " } else { "" }
        ),
        Condition::Or(cs) => {
            let parts: Vec<String> = cs.iter().map(cond_words).collect();
            format!("({})", parts.join(" or "))
        }
        Condition::Raw { label, .. } => format!("it is {label}"),
    }
}
