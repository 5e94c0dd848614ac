//! Statements the validator must let through, per dialect.

use cbi_types::SqlDialect::{self, Generic, MySql, Oracle, PostgreSql, Sqlite};

use super::accepts;

/// Read-only SQL that any of the supported dialects parses the same way.
const PORTABLE: &[&str] = &[
    // Joins with aliases, mixed-case names matched case-insensitively.
    "SELECT c.name, o.total FROM customers c JOIN orders o ON o.customer_id = c.id",
    "SELECT c.name, o.total FROM customers AS c LEFT JOIN Orders AS o ON o.customer_id = c.id WHERE c.region = 'East'",
    "SELECT p.name, sum(oi.quantity) FROM order_items oi JOIN products p ON p.id = oi.product_id GROUP BY p.name",
    "SELECT customers.name FROM customers CROSS JOIN products",
    "SELECT c.name FROM customers c, orders o WHERE o.customer_id = c.id",
    // Unqualified columns that only one table in scope has.
    "SELECT name, total FROM customers JOIN orders ON customer_id = customers.id",
    // CTEs, their output columns and declared column lists.
    "WITH big AS (SELECT customer_id, sum(total) AS spent FROM orders GROUP BY customer_id) \
     SELECT c.name, b.spent FROM big b JOIN customers c ON c.id = b.customer_id WHERE b.spent > 100",
    "WITH t(cid, n) AS (SELECT customer_id, count(*) FROM orders GROUP BY customer_id) SELECT cid, n FROM t",
    "WITH a AS (SELECT id FROM customers), b AS (SELECT id FROM a) SELECT id FROM b",
    "WITH sales AS (SELECT 1 AS one) SELECT one FROM sales",
    // Derived tables and their aliases.
    "SELECT x.region, x.total FROM (SELECT region, sum(amount) AS total FROM sales GROUP BY region) AS x WHERE x.total > 10",
    "SELECT d.r FROM (SELECT region FROM sales) AS d (r)",
    "SELECT s.* FROM (SELECT * FROM sales) AS s",
    // Correlated subqueries: the outer scope is visible inside.
    "SELECT name FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.total > 100)",
    "SELECT name FROM customers WHERE (SELECT count(*) FROM orders WHERE customer_id = customers.id) > 2",
    "SELECT name, (SELECT max(total) FROM orders o WHERE o.customer_id = c.id) AS best FROM customers c",
    "SELECT name FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE total > 10)",
    "SELECT name FROM customers WHERE id NOT IN (SELECT customer_id FROM orders) AND email IS NOT NULL",
    // Set operations, each arm with its own scope; ORDER BY over the result's names.
    "SELECT region FROM sales UNION SELECT region FROM finance.targets ORDER BY region",
    "SELECT name FROM customers INTERSECT SELECT name FROM products",
    "SELECT name FROM customers EXCEPT SELECT name FROM products",
    "SELECT id, name FROM customers UNION ALL SELECT id, name FROM products ORDER BY name",
    // Window functions.
    "SELECT region, amount, rank() OVER (PARTITION BY region ORDER BY amount DESC) AS r FROM sales",
    "SELECT id, sum(amount) OVER (ORDER BY sold_at ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM sales",
    // Select-list aliases in ORDER BY, GROUP BY and HAVING.
    "SELECT region AS r, sum(amount) AS total FROM sales GROUP BY r HAVING sum(amount) > 10 ORDER BY total DESC",
    "SELECT s.region AS area FROM sales s ORDER BY area",
    // An output column named like columns of two joined tables.
    "SELECT c.name FROM customers c JOIN products p ON p.id = c.id ORDER BY name",
    // Stars.
    "SELECT * FROM sales",
    "SELECT s.*, c.name FROM sales s, customers c",
    "SELECT sales.* FROM sales",
    // USING and NATURAL joins merge the named columns.
    "SELECT region, s.amount, t.year FROM sales s JOIN finance.targets t USING (region)",
    "SELECT region, amount FROM sales NATURAL JOIN finance.targets",
    // Schema-qualified tables.
    "SELECT t.year FROM finance.targets t",
    "SELECT targets.year FROM finance.targets",
    "SELECT finance.targets.year FROM finance.targets",
    "SELECT year FROM targets",
    // Aggregates, CASE, CAST, literals of all kinds.
    "SELECT count(*), count(DISTINCT status), avg(total), min(order_date) FROM orders",
    "SELECT CASE WHEN total > 100 THEN 'big' WHEN total > 10 THEN 'medium' ELSE 'small' END AS size FROM orders",
    "SELECT CASE status WHEN 'paid' THEN 1 ELSE 0 END FROM orders",
    "SELECT CAST(total AS INTEGER), CAST('2020-01-01' AS DATE) FROM orders",
    "SELECT upper(name), lower(email), coalesce(email, 'none'), length(name) FROM customers",
    "SELECT name FROM customers WHERE name LIKE 'A%' AND id BETWEEN 1 AND 10 AND region IN ('East', 'West')",
    "SELECT name FROM customers WHERE NOT (id = 1 OR id = 2) AND email IS NULL",
    "SELECT 1",
    "SELECT 1 + 2 * 3 AS n",
    // Quoted identifiers, including odd characters.
    "SELECT oi.quantity FROM order_items oi WHERE oi.quantity > 0",
    // Function names are never columns, even when a column has the same name.
    "SELECT max(id), min(id) FROM customers",
];

#[test]
fn portable_read_only_sql_is_accepted_in_every_dialect() {
    for d in [PostgreSql, Sqlite, MySql, Generic] {
        for sql in PORTABLE {
            accepts(d, sql);
        }
    }
}

fn all(d: SqlDialect, cases: &[&str]) {
    for sql in cases {
        accepts(d, sql);
    }
}

#[test]
fn postgresql() {
    all(
        PostgreSql,
        &[
            r#"SELECT "name", "Region" FROM "customers" WHERE "Region" = 'East'"#,
            r#"SELECT oi."unit price" * oi.quantity AS line FROM order_items oi"#,
            r#"SELECT "unit price" FROM order_items"#,
            r#"SELECT o.id FROM "Orders" o"#,
            "SELECT * FROM public.sales",
            "SELECT shop.public.sales.id FROM shop.public.sales",
            "SELECT EXTRACT(YEAR FROM order_date) AS y, date_trunc('month', order_date) FROM orders",
            "SELECT order_date + INTERVAL '1 day', total::text, now(), current_date FROM orders \
             WHERE order_date >= CURRENT_DATE - INTERVAL '30 days'",
            "SELECT date_trunc('month', sold_at) AS month, sum(amount) FROM sales GROUP BY month ORDER BY month",
            "SELECT count(*) FILTER (WHERE status = 'paid') FROM orders",
            "SELECT sum(amount) OVER w FROM sales WINDOW w AS (PARTITION BY region)",
            "SELECT DISTINCT ON (region) region, amount FROM sales ORDER BY region, amount DESC",
            "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v (n, s) WHERE v.n > 1",
            "VALUES (1, 2)",
            "SELECT g FROM generate_series(1, 3) AS g",
            "SELECT x.n FROM generate_series(1, 3) AS x (n)",
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT i FROM n",
            "SELECT c.name, l.total FROM customers c, \
             LATERAL (SELECT total FROM orders o WHERE o.customer_id = c.id ORDER BY total DESC LIMIT 1) AS l",
            "SELECT c.name FROM customers c WHERE c.id = ANY (SELECT customer_id FROM orders)",
            "SELECT ctid, name FROM customers",
            "SELECT string_agg(name, ', ' ORDER BY name) FROM customers",
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY total) FROM orders",
            "SELECT name FROM customers WHERE name ILIKE '%a%' AND email ~ '@'",
            "SELECT count(c.*), row_to_json(c) FROM customers c",
        ],
    );
}

#[test]
fn sqlite_and_spider_style() {
    all(
        Sqlite,
        &[
            // Spider gold style: T1/T2 aliases, double-quoted strings, count(*).
            r#"SELECT T1.name FROM customers AS T1 JOIN orders AS T2 ON T1.id = T2.customer_id WHERE T1.region = "East" GROUP BY T1.id HAVING count(*) > 1"#,
            r#"SELECT count(*) FROM customers WHERE region = "USA" OR name = "Bob""#,
            "SELECT [unit price], `quantity` FROM order_items",
            "SELECT strftime('%Y', order_date) AS y, count(*) FROM orders GROUP BY y",
            "SELECT date('now', '-7 days'), julianday(order_date) FROM orders",
            // SQLite resolves select-list aliases in WHERE too.
            "SELECT total * 2 AS twice FROM orders WHERE twice > 10",
            "SELECT rowid, name FROM customers",
            "SELECT count(*) FROM (SELECT DISTINCT region FROM sales)",
            "SELECT name FROM customers ORDER BY name LIMIT 5 OFFSET 10",
            "SELECT value FROM json_each('[1, 2]')",
            "SELECT name FROM customers WHERE id IN (SELECT customer_id FROM orders GROUP BY customer_id HAVING count(*) > 2)",
            // No RECURSIVE keyword needed in SQLite.
            "WITH n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT i FROM n",
            "SELECT iif(total > 10, 'big', 'small') FROM orders",
        ],
    );
}

#[test]
fn sqlite_double_quoted_strings_become_string_literals() {
    let v = accepts(
        Sqlite,
        r#"SELECT count(*) FROM customers WHERE region = "USA""#,
    );
    assert_eq!(
        v.sql,
        "SELECT count(*) FROM customers WHERE region = 'USA' LIMIT 1000"
    );
    // A double-quoted name that is a column stays a column.
    let v = accepts(
        Sqlite,
        r#"SELECT "name" FROM customers WHERE "Region" = "East""#,
    );
    assert_eq!(
        v.sql,
        r#"SELECT "name" FROM customers WHERE "Region" = 'East' LIMIT 1000"#
    );
    // An alias is a name too.
    let v = accepts(Sqlite, r#"SELECT total AS t FROM orders ORDER BY "t""#);
    assert_eq!(
        v.sql,
        r#"SELECT total AS t FROM orders ORDER BY "t" LIMIT 1000"#
    );
}

#[test]
fn mysql() {
    all(
        MySql,
        &[
            r#"SELECT `name`, `Region` FROM `customers` WHERE region = "East""#,
            "SELECT `unit price` FROM order_items",
            "SELECT DATE_FORMAT(order_date, '%Y-%m') AS month, SUM(total) FROM orders GROUP BY month",
            "SELECT 1 FROM dual",
            "SELECT name FROM customers LIMIT 10, 20",
            "SELECT * FROM shop.customers",
            "SELECT DATE_ADD(order_date, INTERVAL 1 DAY) FROM orders",
            "SELECT GROUP_CONCAT(name SEPARATOR ', ') FROM customers",
            "SELECT name FROM products WHERE MATCH (name, category) AGAINST ('lamp')",
        ],
    );
}

#[test]
fn oracle() {
    all(
        Oracle,
        &[
            "SELECT name FROM customers WHERE created_at > SYSDATE - 30",
            "SELECT 1 FROM dual",
            "SELECT name FROM customers FETCH FIRST 5 ROWS ONLY",
            "SELECT name, ROWNUM FROM customers",
            r#"SELECT "name" FROM customers"#,
        ],
    );
}

#[test]
fn generic() {
    all(
        Generic,
        &[
            r#"SELECT "name" FROM customers"#,
            "SELECT TOP 5 name FROM customers",
        ],
    );
}

/// What dashboards and analysts write every day.
#[test]
fn everyday_bi_sql() {
    for (d, sql) in [
        (
            PostgreSql,
            "SELECT date_trunc('month', sold_at)::date AS m, round(sum(amount)::numeric, 2) FROM sales GROUP BY 1 ORDER BY 1",
        ),
        (
            PostgreSql,
            "SELECT EXTRACT(EPOCH FROM sold_at), to_char(sold_at, 'YYYY'), nullif(amount, 0), greatest(amount, 1) FROM sales WHERE region IS DISTINCT FROM 'x'",
        ),
        (
            PostgreSql,
            "SELECT now() - interval '1 day', interval '1 month' * 3",
        ),
        (
            PostgreSql,
            "SELECT d.day, count(s.id) FROM generate_series(DATE '2024-01-01', DATE '2024-02-01', INTERVAL '1 day') AS d(day) LEFT JOIN sales s ON s.sold_at = d.day GROUP BY d.day",
        ),
        (
            PostgreSql,
            "SELECT c.name, x.n FROM customers c LEFT JOIN LATERAL (SELECT count(*) AS n FROM orders o WHERE o.customer_id = c.id) x ON true",
        ),
        (
            PostgreSql,
            "WITH t AS MATERIALIZED (SELECT * FROM sales) SELECT region FROM t",
        ),
        (
            PostgreSql,
            "SELECT region, sum(amount) FROM sales GROUP BY ROLLUP (region)",
        ),
        (
            PostgreSql,
            "SELECT region, sum(amount) FROM sales GROUP BY GROUPING SETS ((region), ())",
        ),
        (
            PostgreSql,
            "SELECT s.region, t.amount FROM sales s FULL OUTER JOIN finance.targets t ON t.region = s.region AND t.year = 2024",
        ),
        (
            PostgreSql,
            "SELECT * FROM sales s JOIN sales s2 ON s.id = s2.id",
        ),
        (PostgreSql, "SELECT (SELECT name) FROM customers"),
        (
            PostgreSql,
            "SELECT array_agg(DISTINCT region ORDER BY region) FROM sales",
        ),
        (
            PostgreSql,
            "SELECT region, amount, lag(amount) OVER (PARTITION BY region ORDER BY sold_at), sum(amount) OVER () FROM sales",
        ),
        (
            PostgreSql,
            "SELECT * FROM sales WHERE sold_at BETWEEN CURRENT_DATE - 7 AND CURRENT_DATE",
        ),
        (
            PostgreSql,
            "SELECT count(*) FROM sales WHERE region = ALL (SELECT region FROM finance.targets)",
        ),
        (
            PostgreSql,
            "SELECT jsonb_build_object('r', region) FROM sales",
        ),
        (
            PostgreSql,
            "SELECT name FROM customers ORDER BY name NULLS LAST, id DESC",
        ),
        (
            MySql,
            "SELECT YEAR(order_date) AS y, MONTH(order_date), COUNT(*) FROM orders GROUP BY y, MONTH(order_date) HAVING COUNT(*) > 2",
        ),
        (
            MySql,
            "SELECT IFNULL(email, 'n/a'), CONCAT(name, ' ', email) FROM customers",
        ),
        (
            MySql,
            "SELECT * FROM sales WHERE sold_at >= CURDATE() - INTERVAL 30 DAY",
        ),
        (
            Sqlite,
            "SELECT CAST(strftime('%m', sold_at) AS INTEGER) AS month, total(amount) FROM sales GROUP BY month",
        ),
        (
            Sqlite,
            "SELECT name, CASE WHEN email LIKE '%@%' THEN 1 ELSE 0 END FROM customers WHERE email GLOB '*x*'",
        ),
        (
            Sqlite,
            "SELECT * FROM sales WHERE sold_at > datetime('now', '-1 month')",
        ),
        (
            Oracle,
            "SELECT region, SUM(amount) FROM sales WHERE sold_at > TRUNC(SYSDATE) - 30 GROUP BY region ORDER BY 2 DESC",
        ),
        (
            Oracle,
            "SELECT TO_CHAR(sold_at, 'YYYY-MM') m, NVL(region, '?') FROM sales",
        ),
    ] {
        accepts(d, sql);
    }
}
