//! Schema-constrained decoding: a grammar, built per schema and dialect, that a local model's
//! sampler follows token by token (llama.cpp's GBNF), so the model cannot write a table or a
//! column the database does not have, a function outside the dialect's allow-list, or anything
//! but one read-only query.
//!
//! The grammar is a context-free over-approximation of what the validator accepts, not a copy
//! of it: it cannot see which aliases a query declared, so a qualifier may be any alias (but the
//! column after it must exist somewhere in the schema), and `GROUP BY`/`ORDER BY` may name an
//! output alias.
//! Whatever the model writes under it still goes through [`crate::SqlValidator`], which stays
//! the only authority on what runs. Common table expressions are left out on purpose: a `WITH`
//! name would have to be any identifier, and then so would every table after it; derived tables
//! (`FROM (SELECT …) AS t`) say the same thing.
//!
//! The grammar is kept as data ([`Node`]) so it can be rendered to GBNF ([`SqlGrammar::to_gbnf`])
//! and also checked here without a model ([`SqlGrammar::accepts`]).

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use cbi_types::{DatabaseSchema, SqlDialect};

use crate::functions::functions;

/// One piece of a grammar rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// Exactly this text.
    Lit(String),
    /// One character in (or, when `negated`, not in) these inclusive ranges.
    Class {
        ranges: Vec<(char, char)>,
        negated: bool,
    },
    /// Another rule, by name.
    Ref(String),
    Seq(Vec<Node>),
    Alt(Vec<Node>),
    Opt(Box<Node>),
    /// Zero or more.
    Star(Box<Node>),
}

fn lit(s: &str) -> Node {
    Node::Lit(s.to_string())
}

fn r(name: &str) -> Node {
    Node::Ref(name.to_string())
}

fn seq(items: impl IntoIterator<Item = Node>) -> Node {
    Node::Seq(items.into_iter().collect())
}

fn alt(items: impl IntoIterator<Item = Node>) -> Node {
    Node::Alt(items.into_iter().collect())
}

fn opt(n: Node) -> Node {
    Node::Opt(Box::new(n))
}

fn star(n: Node) -> Node {
    Node::Star(Box::new(n))
}

fn class(ranges: &[(char, char)]) -> Node {
    Node::Class {
        ranges: ranges.to_vec(),
        negated: false,
    }
}

fn not_class(chars: &[char]) -> Node {
    Node::Class {
        ranges: chars.iter().map(|&c| (c, c)).collect(),
        negated: true,
    }
}

/// A word in any letter case (`select`, `SELECT`, `Select`), one character class a letter.
fn kw(word: &str) -> Node {
    seq(word.chars().map(|c| {
        if c.is_ascii_alphabetic() {
            class(&[
                (c.to_ascii_uppercase(), c.to_ascii_uppercase()),
                (c.to_ascii_lowercase(), c.to_ascii_lowercase()),
            ])
        } else {
            Node::Lit(c.to_string())
        }
    }))
}

/// Keywords separated by required white space (`GROUP BY`).
fn kws(words: &str) -> Node {
    let mut items = Vec::new();
    for (i, w) in words.split_whitespace().enumerate() {
        if i > 0 {
            items.push(r("ws1"));
        }
        items.push(kw(w));
    }
    seq(items)
}

/// `item (sep item)*`.
fn list(item: Node, sep: Node) -> Node {
    seq([item.clone(), star(seq([sep, item]))])
}

/// A grammar for one query over one schema in one dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlGrammar {
    /// Rules in order; the first is `root`.
    rules: Vec<(String, Node)>,
}

/// Most white space characters in a row: unbounded white space lets a small model loop on
/// blanks until it runs out of tokens.
const MAX_BLANKS: usize = 8;

impl SqlGrammar {
    /// The grammar of one `SELECT` (with set operations, joins, subqueries, `CASE`, window
    /// functions) over `schema`'s tables and columns and `dialect`'s allowed functions. The
    /// output may sit in a ```` ```sql ```` fence and end with a `;`, as models like to write it.
    pub fn for_schema(schema: &DatabaseSchema, dialect: SqlDialect) -> Self {
        let mut rules: Vec<(String, Node)> = Vec::new();
        let mut add = |name: &str, node: Node| rules.push((name.to_string(), node));
        let ws_char = class(&[(' ', ' '), ('\t', '\t'), ('\n', '\n'), ('\r', '\r')]);
        let mut blanks = opt(ws_char.clone());
        for _ in 2..MAX_BLANKS {
            blanks = opt(seq([ws_char.clone(), blanks]));
        }

        add(
            "root",
            seq([
                opt(seq([lit("```sql"), r("ws1")])),
                r("query"),
                r("ws0"),
                opt(lit(";")),
                opt(seq([r("ws0"), lit("```")])),
            ]),
        );
        add("ws1", seq([ws_char.clone(), blanks.clone()]));
        add("ws0", opt(seq([ws_char, blanks])));
        add(
            "query",
            list(
                r("select"),
                seq([
                    r("ws1"),
                    alt([
                        seq([kw("UNION"), opt(seq([r("ws1"), kw("ALL")]))]),
                        kw("INTERSECT"),
                        kw("EXCEPT"),
                    ]),
                    r("ws1"),
                ]),
            ),
        );
        let limit = if dialect == SqlDialect::Oracle {
            seq([
                r("ws1"),
                kws("FETCH FIRST"),
                r("ws1"),
                r("int"),
                r("ws1"),
                alt([kw("ROWS"), kw("ROW")]),
                r("ws1"),
                kw("ONLY"),
            ])
        } else {
            seq([
                r("ws1"),
                kw("LIMIT"),
                r("ws1"),
                r("int"),
                opt(seq([r("ws1"), kw("OFFSET"), r("ws1"), r("int")])),
            ])
        };
        add(
            "select",
            alt([
                seq([
                    kw("SELECT"),
                    r("ws1"),
                    opt(seq([kw("DISTINCT"), r("ws1")])),
                    list(r("item"), seq([r("ws0"), lit(","), r("ws0")])),
                    opt(seq([r("ws1"), kw("FROM"), r("ws1"), r("from")])),
                    opt(seq([r("ws1"), kw("WHERE"), r("ws1"), r("expr")])),
                    opt(seq([
                        r("ws1"),
                        kws("GROUP BY"),
                        r("ws1"),
                        list(
                            alt([r("expr"), r("alias")]),
                            seq([r("ws0"), lit(","), r("ws0")]),
                        ),
                    ])),
                    opt(seq([r("ws1"), kw("HAVING"), r("ws1"), r("expr")])),
                    opt(seq([r("ws1"), kws("ORDER BY"), r("ws1"), r("orders")])),
                    opt(limit),
                ]),
                seq([lit("("), r("ws0"), r("query"), r("ws0"), lit(")")]),
            ]),
        );
        add(
            "item",
            alt([
                lit("*"),
                seq([r("qualifier"), lit(".*")]),
                seq([
                    r("expr"),
                    opt(seq([r("ws1"), opt(seq([kw("AS"), r("ws1")])), r("alias")])),
                ]),
            ]),
        );
        add(
            "from",
            seq([
                r("tref"),
                star(alt([
                    seq([r("ws0"), lit(","), r("ws0"), r("tref")]),
                    seq([
                        r("ws1"),
                        opt(seq([r("jkind"), r("ws1")])),
                        kw("JOIN"),
                        r("ws1"),
                        r("tref"),
                        opt(seq([r("ws1"), kw("ON"), r("ws1"), r("expr")])),
                    ]),
                ])),
            ]),
        );
        add(
            "jkind",
            alt([
                kw("INNER"),
                kw("CROSS"),
                seq([
                    alt([kw("LEFT"), kw("RIGHT"), kw("FULL")]),
                    opt(seq([r("ws1"), kw("OUTER")])),
                ]),
            ]),
        );
        let as_alias = opt(seq([r("ws1"), opt(seq([kw("AS"), r("ws1")])), r("alias")]));
        add(
            "tref",
            alt([
                seq([r("table"), as_alias.clone()]),
                seq([lit("("), r("ws0"), r("query"), r("ws0"), lit(")"), as_alias]),
            ]),
        );
        add(
            "exprs",
            list(r("expr"), seq([r("ws0"), lit(","), r("ws0")])),
        );
        add(
            "orders",
            list(
                seq([
                    alt([r("expr"), r("alias")]),
                    opt(seq([r("ws1"), alt([kw("ASC"), kw("DESC")])])),
                    opt(seq([
                        r("ws1"),
                        kw("NULLS"),
                        r("ws1"),
                        alt([kw("FIRST"), kw("LAST")]),
                    ])),
                ]),
                seq([r("ws0"), lit(","), r("ws0")]),
            ),
        );
        add("expr", list(r("conj"), seq([r("ws1"), kw("OR"), r("ws1")])));
        add("conj", list(r("neg"), seq([r("ws1"), kw("AND"), r("ws1")])));
        add("neg", seq([star(seq([kw("NOT"), r("ws1")])), r("pred")]));
        let cmp = alt(["<=", ">=", "<>", "!=", "=", "<", ">"].map(lit));
        add(
            "pred",
            seq([
                r("sum"),
                opt(alt([
                    seq([r("ws0"), cmp, r("ws0"), r("sum")]),
                    seq([
                        r("ws1"),
                        opt(seq([kw("NOT"), r("ws1")])),
                        alt([
                            seq([kw("LIKE"), r("ws1"), r("sum")]),
                            seq([
                                kw("IN"),
                                r("ws0"),
                                lit("("),
                                r("ws0"),
                                alt([r("query"), r("exprs")]),
                                r("ws0"),
                                lit(")"),
                            ]),
                            seq([
                                kw("BETWEEN"),
                                r("ws1"),
                                r("sum"),
                                r("ws1"),
                                kw("AND"),
                                r("ws1"),
                                r("sum"),
                            ]),
                        ]),
                    ]),
                    seq([
                        r("ws1"),
                        kw("IS"),
                        r("ws1"),
                        opt(seq([kw("NOT"), r("ws1")])),
                        kw("NULL"),
                    ]),
                ])),
            ]),
        );
        add(
            "sum",
            list(
                r("prod"),
                seq([r("ws0"), alt([lit("+"), lit("-"), lit("||")]), r("ws0")]),
            ),
        );
        add(
            "prod",
            list(
                r("unary"),
                seq([r("ws0"), alt([lit("*"), lit("/"), lit("%")]), r("ws0")]),
            ),
        );
        let mut unary = vec![opt(seq([lit("-"), r("ws0")])), r("primary")];
        if dialect == SqlDialect::PostgreSql {
            unary.push(opt(seq([lit("::"), r("type")])));
        }
        add("unary", seq(unary));
        let mut primary = vec![
            r("number"),
            r("string"),
            kw("NULL"),
            kw("TRUE"),
            kw("FALSE"),
            kw("CURRENT_DATE"),
            kw("CURRENT_TIMESTAMP"),
            seq([
                lit("("),
                r("ws0"),
                alt([r("query"), r("expr")]),
                r("ws0"),
                lit(")"),
            ]),
            seq([
                kw("EXISTS"),
                r("ws0"),
                lit("("),
                r("ws0"),
                r("query"),
                r("ws0"),
                lit(")"),
            ]),
            r("case"),
            seq([
                kw("CAST"),
                r("ws0"),
                lit("("),
                r("ws0"),
                r("expr"),
                r("ws1"),
                kw("AS"),
                r("ws1"),
                r("type"),
                r("ws0"),
                lit(")"),
            ]),
            r("call"),
            r("column"),
        ];
        if dialect != SqlDialect::Sqlite {
            primary.push(seq([
                kw("EXTRACT"),
                r("ws0"),
                lit("("),
                r("ws0"),
                r("word"),
                r("ws1"),
                kw("FROM"),
                r("ws1"),
                r("expr"),
                r("ws0"),
                lit(")"),
            ]));
            primary.push(seq([
                alt([kw("DATE"), kw("TIMESTAMP"), kw("INTERVAL")]),
                r("ws1"),
                r("string"),
            ]));
        }
        if dialect == SqlDialect::MySql {
            primary.push(seq([
                kw("INTERVAL"),
                r("ws1"),
                r("sum"),
                r("ws1"),
                r("word"),
            ]));
        }
        add("primary", alt(primary));
        add(
            "case",
            seq([
                kw("CASE"),
                opt(seq([r("ws1"), r("expr")])),
                seq([r("ws1"), r("when"), star(seq([r("ws1"), r("when")]))]),
                opt(seq([r("ws1"), kw("ELSE"), r("ws1"), r("expr")])),
                r("ws1"),
                kw("END"),
            ]),
        );
        add(
            "when",
            seq([
                kw("WHEN"),
                r("ws1"),
                r("expr"),
                r("ws1"),
                kw("THEN"),
                r("ws1"),
                r("expr"),
            ]),
        );
        add(
            "call",
            seq([
                r("function"),
                r("ws0"),
                lit("("),
                r("ws0"),
                opt(alt([
                    lit("*"),
                    seq([opt(seq([kw("DISTINCT"), r("ws1")])), r("exprs")]),
                ])),
                r("ws0"),
                lit(")"),
                opt(seq([
                    r("ws1"),
                    kw("OVER"),
                    r("ws0"),
                    lit("("),
                    r("ws0"),
                    opt(seq([kws("PARTITION BY"), r("ws1"), r("exprs"), r("ws0")])),
                    opt(seq([kws("ORDER BY"), r("ws1"), r("orders"), r("ws0")])),
                    lit(")"),
                ])),
            ]),
        );
        let names: BTreeSet<&str> = functions(dialect).scalar().into_iter().collect();
        add("function", alt(names.iter().map(|f| kw(f))));
        add(
            "type",
            seq([
                r("word"),
                opt(seq([r("ws1"), r("word")])),
                opt(seq([
                    r("ws0"),
                    lit("("),
                    r("ws0"),
                    r("int"),
                    opt(seq([r("ws0"), lit(","), r("ws0"), r("int")])),
                    r("ws0"),
                    lit(")"),
                ])),
            ]),
        );
        add(
            "word",
            seq([
                class(&[('a', 'z'), ('A', 'Z'), ('_', '_')]),
                star(class(&[('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')])),
            ]),
        );
        let open = match dialect {
            SqlDialect::MySql => '`',
            _ => '"',
        };
        add(
            "alias",
            alt([
                r("word"),
                seq([
                    Node::Lit(open.to_string()),
                    seq([not_class(&[open, '\n']), star(not_class(&[open, '\n']))]),
                    Node::Lit(open.to_string()),
                ]),
            ]),
        );
        add(
            "int",
            seq([class(&[('0', '9')]), star(class(&[('0', '9')]))]),
        );
        add("number", seq([r("int"), opt(seq([lit("."), r("int")]))]));
        add(
            "string",
            seq([
                lit("'"),
                star(alt([not_class(&['\'']), lit("''")])),
                lit("'"),
            ]),
        );

        // The schema's own names, as written in the prompt and quoted.
        let mut tables = Vec::new();
        let mut qualified = Vec::new();
        let mut all_columns = BTreeSet::new();
        for (i, t) in schema.tables.iter().enumerate() {
            let mut spellings = name_spellings(&t.name, dialect);
            if let Some(ns) = &t.schema {
                let bare = spellings.clone();
                for q in name_spellings(ns, dialect) {
                    for b in &bare {
                        spellings.push(format!("{q}.{b}"));
                    }
                }
            }
            let cols: BTreeSet<String> = t
                .columns
                .iter()
                .flat_map(|c| name_spellings(&c.name, dialect))
                .collect();
            all_columns.extend(cols.iter().cloned());
            let rule = format!("t{i}-col");
            qualified.push(seq([
                alt(spellings.iter().map(|s| lit(s))),
                lit("."),
                r(&rule),
            ]));
            tables.extend(spellings);
            rules.push((rule, alt(cols.iter().map(|c| lit(c)))));
        }
        if tables.is_empty() {
            // No table at all: nothing can be read; keep the grammar well-formed.
            tables.push("__no_table__".into());
        }
        if all_columns.is_empty() {
            all_columns.insert("__no_column__".into());
        }
        rules.push(("table".into(), alt(tables.iter().map(|t| lit(t)))));
        rules.push(("colname".into(), alt(all_columns.iter().map(|c| lit(c)))));
        rules.push(("qualifier".into(), alt([r("table"), r("alias")])));
        qualified.push(seq([r("alias"), lit("."), r("colname")]));
        qualified.push(r("colname"));
        rules.push(("column".into(), alt(qualified)));
        SqlGrammar { rules }
    }

    /// The grammar in llama.cpp's GBNF, root rule first.
    pub fn to_gbnf(&self) -> String {
        let mut out = String::new();
        for (name, node) in &self.rules {
            let _ = writeln!(out, "{name} ::= {}", gbnf(node));
        }
        out
    }

    /// Whether the whole of `text` is a sentence of the grammar.
    pub fn accepts(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        let index: HashMap<&str, usize> = self
            .rules
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (n.as_str(), i))
            .collect();
        let mut m = Matcher {
            rules: &self.rules,
            index,
            chars: &chars,
            memo: HashMap::new(),
        };
        m.rule(0, 0).contains(&chars.len())
    }
}

/// How a model may write a schema name: as the schema spells it when that needs no quotes, and
/// quoted.
fn name_spellings(name: &str, dialect: SqlDialect) -> Vec<String> {
    let plain = dialect.ident(name);
    let quoted = dialect.quote_ident(name);
    let mut out = vec![plain.clone()];
    if quoted != plain {
        out.push(quoted);
    }
    out
}

fn gbnf(node: &Node) -> String {
    match node {
        Node::Lit(s) => {
            let mut out = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
        Node::Class { ranges, negated } => {
            let mut out = String::from("[");
            if *negated {
                out.push('^');
            }
            for &(a, b) in ranges {
                out.push_str(&class_char(a));
                if a != b {
                    out.push('-');
                    out.push_str(&class_char(b));
                }
            }
            out.push(']');
            out
        }
        Node::Ref(name) => name.clone(),
        Node::Seq(items) => {
            if items.is_empty() {
                return "\"\"".into();
            }
            items.iter().map(group).collect::<Vec<_>>().join(" ")
        }
        Node::Alt(items) => {
            if items.is_empty() {
                return "\"\"".into();
            }
            items.iter().map(group).collect::<Vec<_>>().join(" | ")
        }
        Node::Opt(n) => format!("{}?", group(n)),
        Node::Star(n) => format!("{}*", group(n)),
    }
}

/// A node in parentheses unless it is a single term.
fn group(node: &Node) -> String {
    match node {
        Node::Seq(items) | Node::Alt(items) if items.len() > 1 => format!("({})", gbnf(node)),
        _ => gbnf(node),
    }
}

fn class_char(c: char) -> String {
    match c {
        '\n' => "\\n".into(),
        '\t' => "\\t".into(),
        '\r' => "\\r".into(),
        '\\' | ']' | '[' | '^' | '-' => format!("\\{c}"),
        c => c.to_string(),
    }
}

/// A recogniser over the grammar as data: the set of positions each node can end at, memoised
/// per rule and start position. The grammar has no left recursion, so this terminates.
struct Matcher<'a> {
    rules: &'a [(String, Node)],
    index: HashMap<&'a str, usize>,
    chars: &'a [char],
    memo: HashMap<(usize, usize), Vec<usize>>,
}

impl Matcher<'_> {
    fn rule(&mut self, rule: usize, pos: usize) -> Vec<usize> {
        if let Some(ends) = self.memo.get(&(rule, pos)) {
            return ends.clone();
        }
        // Guards against a left-recursive rule: a re-entry at the same position matches nothing.
        self.memo.insert((rule, pos), Vec::new());
        let rules = self.rules;
        let ends = self.node(&rules[rule].1, pos);
        self.memo.insert((rule, pos), ends.clone());
        ends
    }

    fn node(&mut self, node: &Node, pos: usize) -> Vec<usize> {
        match node {
            Node::Lit(s) => {
                let mut p = pos;
                for c in s.chars() {
                    if self.chars.get(p) != Some(&c) {
                        return Vec::new();
                    }
                    p += 1;
                }
                vec![p]
            }
            Node::Class { ranges, negated } => match self.chars.get(pos) {
                Some(&c) if ranges.iter().any(|&(a, b)| a <= c && c <= b) != *negated => {
                    vec![pos + 1]
                }
                _ => Vec::new(),
            },
            Node::Ref(name) => match self.index.get(name.as_str()) {
                Some(&i) => self.rule(i, pos),
                None => Vec::new(),
            },
            Node::Seq(items) => {
                let mut at: BTreeSet<usize> = BTreeSet::from([pos]);
                for item in items {
                    let mut next = BTreeSet::new();
                    for p in at {
                        next.extend(self.node(item, p));
                    }
                    if next.is_empty() {
                        return Vec::new();
                    }
                    at = next;
                }
                at.into_iter().collect()
            }
            Node::Alt(items) => {
                let mut ends = BTreeSet::new();
                for item in items {
                    ends.extend(self.node(item, pos));
                }
                ends.into_iter().collect()
            }
            Node::Opt(n) => {
                let mut ends: BTreeSet<usize> = self.node(n, pos).into_iter().collect();
                ends.insert(pos);
                ends.into_iter().collect()
            }
            Node::Star(n) => {
                let mut seen: BTreeSet<usize> = BTreeSet::from([pos]);
                let mut frontier = vec![pos];
                while let Some(p) = frontier.pop() {
                    for e in self.node(n, p) {
                        if e > p && seen.insert(e) {
                            frontier.push(e);
                        }
                    }
                }
                seen.into_iter().collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::table;

    fn schema() -> DatabaseSchema {
        DatabaseSchema {
            name: "shop".into(),
            dialect: SqlDialect::Sqlite,
            tables: vec![
                table("customers", &["id", "name", "region"]),
                table("orders", &["id", "customer_id", "amount", "ordered_at"]),
                table("Order Items", &["order_id", "sku", "qty"]),
            ],
            relationships: Vec::new(),
        }
    }

    fn check(dialect: SqlDialect, sql: &str, expect: bool) {
        let g = SqlGrammar::for_schema(&schema(), dialect);
        assert_eq!(g.accepts(sql), expect, "{dialect:?}: {sql}");
    }

    #[test]
    fn accepts_queries_over_the_schema() {
        for sql in [
            "SELECT COUNT(*) FROM orders",
            "select count(*) from orders;",
            "```sql\nSELECT region, SUM(amount) AS total\nFROM customers c\nJOIN orders o ON o.customer_id = c.id\nGROUP BY region\nORDER BY total DESC\nLIMIT 5;\n```",
            "SELECT name FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE amount > 100)",
            "SELECT c.name, o.amount FROM customers AS c LEFT JOIN orders AS o ON c.id = o.customer_id WHERE o.amount IS NULL",
            "SELECT strftime('%Y', ordered_at) AS y, AVG(amount) FROM orders GROUP BY y HAVING COUNT(*) >= 2",
            "SELECT CASE WHEN amount > 10 THEN 'big' ELSE 'small' END FROM orders",
            "SELECT name, RANK() OVER (PARTITION BY region ORDER BY id) FROM customers",
            "SELECT \"Order Items\".sku FROM \"Order Items\" WHERE qty BETWEEN 1 AND 5",
            "SELECT region FROM customers UNION SELECT name FROM customers",
            "SELECT CAST(amount AS REAL) / 2 FROM orders WHERE NOT id = 3 AND name LIKE 'A%'",
            "SELECT (SELECT COUNT(*) FROM orders) * 1.0 / (SELECT COUNT(*) FROM customers)",
            "SELECT COUNT(DISTINCT customer_id) FROM orders WHERE ordered_at >= '2024-01-01'",
            "SELECT t.region FROM (SELECT region FROM customers) AS t",
            "SELECT name FROM customers WHERE region = 'it''s'",
        ] {
            check(SqlDialect::Sqlite, sql, true);
        }
    }

    #[test]
    fn refuses_what_the_schema_does_not_have() {
        for sql in [
            // Tables and columns that do not exist.
            "SELECT COUNT(*) FROM invoices",
            "SELECT revenue FROM orders",
            "SELECT o.revenue FROM orders o",
            // Functions outside the allow-list.
            "SELECT load_extension('x') FROM orders",
            "SELECT randomblob(1000000000) FROM orders",
            // Anything but one query.
            "DELETE FROM orders",
            "SELECT 1 FROM orders; DROP TABLE orders",
            "UPDATE orders SET amount = 0",
            "SELECT * FROM orders -- comment",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            // Runaway white space.
            "SELECT          id FROM orders",
        ] {
            check(SqlDialect::Sqlite, sql, false);
        }
    }

    #[test]
    fn dialect_forms() {
        check(
            SqlDialect::PostgreSql,
            "SELECT DATE_TRUNC('month', ordered_at)::date, EXTRACT(YEAR FROM ordered_at) FROM orders WHERE ordered_at > DATE '2024-01-01' - INTERVAL '1 month'",
            true,
        );
        check(SqlDialect::Sqlite, "SELECT id::text FROM orders", false);
        check(
            SqlDialect::MySql,
            "SELECT `Order Items`.qty FROM `Order Items` WHERE YEAR(NOW()) > 2000 AND DATE_SUB(CURDATE(), INTERVAL 30 DAY) < NOW()",
            true,
        );
        check(
            SqlDialect::Oracle,
            "SELECT name FROM customers ORDER BY name FETCH FIRST 3 ROWS ONLY",
            true,
        );
        check(
            SqlDialect::Oracle,
            "SELECT name FROM customers LIMIT 3",
            false,
        );
    }

    #[test]
    fn gbnf_renders_every_rule_once_with_root_first() {
        let text = SqlGrammar::for_schema(&schema(), SqlDialect::Sqlite).to_gbnf();
        assert!(text.starts_with("root ::= "), "{}", &text[..80]);
        let names: Vec<&str> = text
            .lines()
            .filter_map(|l| l.split_once(" ::= ").map(|(n, _)| n))
            .collect();
        let unique: BTreeSet<&str> = names.iter().copied().collect();
        assert_eq!(names.len(), unique.len());
        // Every rule referred to is defined.
        for line in text.lines() {
            for word in line
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .filter(|w| w.starts_with('t') && w.ends_with("-col"))
            {
                assert!(unique.contains(word), "{word} undefined");
            }
        }
        assert!(
            text.contains("\"\\\"Order Items\\\"\""),
            "quoted name escaped"
        );
        assert!(text.contains("table ::= "));
    }
}
