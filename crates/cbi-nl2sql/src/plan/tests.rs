//! The planner's rules, one fixture at a time: a question over a small schema written for the
//! test, and the SQL it must plan. The schemas use the naming habits of real business
//! databases (prefixed columns, abbreviations, undeclared keys), not any benchmark's.

use cbi_types::SqlDialect;

use super::{PlanOptions, plan};
use crate::fixtures::{index, keyed_index, typed};
use crate::index::SchemaIndex;

/// A shipping schema whose columns carry their table's prefix and whose keys are not
/// declared.
fn logistics() -> SchemaIndex {
    index(
        vec![
            typed(
                "warehouses",
                &[
                    "wh_id text pk",
                    "wh_name text!",
                    "wh_city text",
                    "wh_opened_dt date",
                ],
            ),
            typed(
                "shipments",
                &[
                    "shp_id integer pk",
                    "shp_origin_wh text",
                    "shp_created_at timestamp!",
                    "shp_promised_dt date",
                    "shp_weight_kg real",
                    "shp_status text!",
                ],
            ),
        ],
        &[
            ("shipments", "shp_status", "IN_TRANSIT"),
            ("shipments", "shp_status", "DELIVERED"),
            ("warehouses", "wh_city", "Rotterdam"),
        ],
    )
}

/// Daily ad spend: a date that shares its word with the money column's meaning.
fn marketing() -> SchemaIndex {
    index(
        vec![typed(
            "ad_spend_daily",
            &[
                "spend_dt date!",
                "cmp_id integer",
                "clk_cnt integer",
                "amt_usd real",
            ],
        )],
        &[],
    )
}

fn check(idx: &SchemaIndex, question: &str, expect: &str) {
    let p = plan(question, idx, &PlanOptions::default())
        .unwrap_or_else(|e| panic!("{question}: no plan: {e}"));
    let sql = crate::sql::render(&p.query, idx, SqlDialect::Sqlite).expect("renders");
    assert_eq!(sql, expect, "{question}");
}

/// Values are matched whatever their spelling: `IN_TRANSIT` is "in transit".
#[test]
fn values_match_across_underscores_and_case() {
    check(
        &logistics(),
        "How many shipments are in transit?",
        "SELECT COUNT(*) FROM shipments WHERE shipments.shp_status = 'IN_TRANSIT'",
    );
}

/// A time scope applies to the table's own moment: the NOT NULL creation stamp, not a
/// deadline; the column's prefix and "created" name it.
#[test]
fn time_scope_prefers_the_rows_own_moment() {
    check(
        &logistics(),
        "How many shipments were there in 2024?",
        "SELECT COUNT(*) FROM shipments WHERE shipments.shp_created_at >= '2024-01-01' \
         AND shipments.shp_created_at < '2025-01-01'",
    );
}

/// Rows grouped with nothing measured are counted.
#[test]
fn grouped_rows_are_counted() {
    check(
        &logistics(),
        "Shipments per status",
        "SELECT shipments.shp_status, COUNT(*) FROM shipments GROUP BY shipments.shp_status",
    );
}

/// A unit at the end of a name is not needed to name it; the prefix-named reference
/// (`shp_origin_wh`) joins without a declared key.
#[test]
fn units_and_prefixed_references() {
    check(
        &logistics(),
        "Average shipment weight for each warehouse",
        "SELECT warehouses.wh_name, AVG(shipments.shp_weight_kg) FROM shipments \
         JOIN warehouses ON warehouses.wh_id = shipments.shp_origin_wh \
         GROUP BY warehouses.wh_id, warehouses.wh_name",
    );
}

/// "opening date" names `wh_opened_dt`: verb forms share a stem.
#[test]
fn verb_forms_name_the_same_column() {
    check(
        &logistics(),
        "Return the name, city and opening date of every warehouse",
        "SELECT warehouses.wh_name, warehouses.wh_city, warehouses.wh_opened_dt FROM warehouses",
    );
}

/// "total spend" sums money even where "spend" also names the date column.
#[test]
fn a_sum_of_a_date_is_the_money_of_its_table() {
    check(
        &marketing(),
        "Total spend in 2024",
        "SELECT SUM(ad_spend_daily.amt_usd) FROM ad_spend_daily \
         WHERE ad_spend_daily.spend_dt >= '2024-01-01' AND ad_spend_daily.spend_dt < '2025-01-01'",
    );
}

/// A label stored in several spellings is compared folded, so every spelling counts.
#[test]
fn dirty_labels_are_compared_folded() {
    let idx = index(
        vec![typed(
            "accounts",
            &[
                "account_id integer pk",
                "account_name text!",
                "industry text",
            ],
        )],
        &[
            ("accounts", "industry", "Retail"),
            ("accounts", "industry", "retail "),
            ("accounts", "industry", "Healthcare"),
        ],
    );
    check(
        &idx,
        "How many accounts are in the retail industry?",
        "SELECT COUNT(*) FROM accounts WHERE LOWER(TRIM(accounts.industry)) = 'retail'",
    );
    // One spelling: compared as stored.
    check(
        &idx,
        "How many accounts are in Healthcare?",
        "SELECT COUNT(*) FROM accounts WHERE accounts.industry = 'Healthcare'",
    );
}

/// A top-N ranks by the measure it shows.
#[test]
fn top_n_ranks_by_its_measure() {
    check(
        &logistics(),
        "Top 3 statuses by number of shipments",
        "SELECT shipments.shp_status, COUNT(*) FROM shipments GROUP BY shipments.shp_status \
         ORDER BY COUNT(*) DESC LIMIT 3",
    );
}

fn billing() -> SchemaIndex {
    index(
        vec![typed(
            "invoices",
            &[
                "invoice_id integer pk",
                "invoice_number text!",
                "issued_at timestamp!",
                "total_usd real!",
                "status text!",
            ],
        )],
        &[
            ("invoices", "status", "paid"),
            ("invoices", "status", "void"),
            ("invoices", "status", "open"),
        ],
    )
}

/// "How much" asks for an amount: the sum of the subject's money.
#[test]
fn how_much_sums_money() {
    check(
        &billing(),
        "How much did we invoice in 2024?",
        "SELECT SUM(invoices.total_usd) FROM invoices WHERE invoices.issued_at >= '2024-01-01' \
         AND invoices.issued_at < '2025-01-01'",
    );
}

/// A reading that asks one column for two values at once is never sure; a word the time
/// expression did not use still counts against it.
#[test]
fn impossible_or_unexplained_readings_are_not_sure() {
    let idx = billing();
    for q in [
        "For each status, count paid, void and open invoices",
        "How many invoices were issued on weekends in Q4 2024?",
    ] {
        let p = plan(q, &idx, &PlanOptions::default()).expect(q);
        assert!(p.confidence < 0.9, "{q}: {} {:?}", p.confidence, p.reasons);
    }
}

fn places() -> SchemaIndex {
    index(
        vec![
            typed(
                "state",
                &["state_name text pk", "population integer", "area real"],
            ),
            typed(
                "city",
                &["city_name text", "state_name text", "population integer"],
            ),
        ],
        &[
            ("state", "state_name", "texas"),
            ("city", "state_name", "texas"),
            ("city", "city_name", "austin"),
        ],
    )
}

/// People are counted by a population column: a place named by its label has its own.
#[test]
fn people_are_a_population() {
    check(
        &places(),
        "how many people live in texas",
        "SELECT state.population FROM state WHERE state.state_name = 'texas'",
    );
}

/// An answer that only repeats the question's value is never sure.
#[test]
fn echoing_the_question_is_not_sure() {
    let p = plan("where is austin", &places(), &PlanOptions::default()).expect("plans");
    assert!(p.confidence < 0.6, "{} {:?}", p.confidence, p.reasons);
}

fn people() -> SchemaIndex {
    keyed_index(
        vec![
            typed(
                "Departments",
                &["DepartmentID integer pk", "DepartmentName text!"],
            ),
            typed(
                "Employees",
                &[
                    "EmployeeID integer pk",
                    "FirstName text!",
                    "DepartmentID integer",
                    "HireDate date!",
                ],
            ),
            typed(
                "LeaveRequests",
                &[
                    "LeaveRequestID integer pk",
                    "ApproverID integer",
                    "EmployeeID integer!",
                    "LeaveType text!",
                    "StartDate date!",
                ],
            ),
        ],
        &[
            ("Employees.DepartmentID", "Departments.DepartmentID"),
            // The approver's key is declared first: the order must not decide.
            ("LeaveRequests.ApproverID", "Employees.EmployeeID"),
            ("LeaveRequests.EmployeeID", "Employees.EmployeeID"),
        ],
        &[
            ("Departments", "DepartmentName", "People"),
            ("LeaveRequests", "LeaveType", "Sick"),
        ],
    )
}

/// The word after "how many" is what is counted, even when some row is labelled with it.
#[test]
fn the_counted_word_is_no_value() {
    check(
        &people(),
        "How many people did we hire in 2024?",
        "SELECT COUNT(*) FROM Employees WHERE Employees.HireDate >= '2024-01-01' \
         AND Employees.HireDate < '2025-01-01'",
    );
}

/// Of two keys to the same table, the one named as the key it references is the join.
#[test]
fn the_key_named_like_its_target_joins() {
    check(
        &people(),
        "List the first names of employees with a sick leave request",
        "SELECT DISTINCT Employees.FirstName FROM Employees JOIN LeaveRequests ON \
         LeaveRequests.EmployeeID = Employees.EmployeeID WHERE LeaveRequests.LeaveType = 'Sick'",
    );
}

/// A ranking of several rows shows the measure it ranks by.
#[test]
fn rankings_show_their_measure() {
    check(
        &logistics(),
        "Which 2 warehouses shipped the most shipments?",
        "SELECT warehouses.wh_name, COUNT(*) FROM warehouses JOIN shipments ON \
         shipments.shp_origin_wh = warehouses.wh_id GROUP BY warehouses.wh_id, \
         warehouses.wh_name ORDER BY COUNT(*) DESC LIMIT 2",
    );
}

fn retail() -> SchemaIndex {
    index(
        vec![
            typed(
                "orders",
                &[
                    "order_id integer pk",
                    "status text!",
                    "ordered_at timestamp!",
                    "shipped_at timestamp",
                ],
            ),
            typed(
                "returns",
                &["return_id integer pk", "order_id integer", "reason text"],
            ),
        ],
        &[
            ("orders", "status", "shipped"),
            ("orders", "status", "returned"),
        ],
    )
}

/// A word that is a stored value stays one, though a date column or, by its stem, a table
/// shares it — unless a time expression needs that date.
#[test]
fn values_win_over_dates_and_stems() {
    let idx = retail();
    check(
        &idx,
        "How many orders were shipped?",
        "SELECT COUNT(*) FROM orders WHERE orders.status = 'shipped'",
    );
    check(
        &idx,
        "How many orders were returned?",
        "SELECT COUNT(*) FROM orders WHERE orders.status = 'returned'",
    );
}

/// Invoices with a flag, an event date that may be unset and a customer label stored in
/// several spellings.
fn subscriptions() -> SchemaIndex {
    index(
        vec![
            typed(
                "plans",
                &[
                    "plan_id integer pk",
                    "plan_name text!",
                    "billing_interval text",
                    "is_public integer",
                    "list_price_usd real",
                ],
            ),
            typed(
                "invoices",
                &[
                    "invoice_id integer pk",
                    "customer text",
                    "issued_at date!",
                    "voided_at date",
                    "total_usd real",
                ],
            ),
        ],
        &[
            ("plans", "billing_interval", "monthly"),
            ("invoices", "customer", "Acme"),
            ("invoices", "customer", "acme "),
            ("invoices", "customer", "Globex"),
        ],
    )
}

/// "How much" asks for an amount, also beside a quarter.
#[test]
fn how_much_sums_money_in_a_quarter() {
    check(
        &billing(),
        "How much did we invoice in Q4 2024?",
        "SELECT SUM(invoices.total_usd) FROM invoices WHERE invoices.issued_at >= '2024-10-01' \
         AND invoices.issued_at < '2025-01-01'",
    );
}

/// A flag's word before its table's name filters on the flag.
#[test]
fn flag_adjectives_filter() {
    check(
        &subscriptions(),
        "Average list price of public plans by billing interval",
        "SELECT plans.billing_interval, AVG(plans.list_price_usd) FROM plans \
         WHERE plans.is_public = 1 GROUP BY plans.billing_interval",
    );
}

/// "have been voided?" asks whether the event happened.
#[test]
fn events_that_happened_are_set_dates() {
    check(
        &subscriptions(),
        "Which invoices have been voided?",
        "SELECT invoices.invoice_id FROM invoices WHERE invoices.voided_at IS NOT NULL",
    );
}

/// Dates written the ISO way scope the event named beside them.
#[test]
fn iso_date_ranges() {
    check(
        &subscriptions(),
        "How many invoices were voided between 2024-11-25 and 2024-12-06?",
        "SELECT COUNT(*) FROM invoices WHERE invoices.voided_at >= '2024-11-25' \
         AND invoices.voided_at < '2024-12-07'",
    );
}

/// A label stored in several spellings is grouped folded.
#[test]
fn groups_fold_spellings() {
    check(
        &subscriptions(),
        "Top 5 customers by number of invoices",
        "SELECT LOWER(TRIM(invoices.customer)), COUNT(*) FROM invoices \
         GROUP BY LOWER(TRIM(invoices.customer)) ORDER BY COUNT(*) DESC LIMIT 5",
    );
}

/// "population density" is one thing, headed by its last word; "population and area" two.
#[test]
fn compound_nouns_are_headed_by_their_last_word() {
    let idx = index(
        vec![typed(
            "regions",
            &[
                "region_name text!",
                "population integer",
                "density real",
                "area real",
            ],
        )],
        &[("regions", "region_name", "North")],
    );
    check(
        &idx,
        "What is the population density of North?",
        "SELECT regions.density FROM regions WHERE regions.region_name = 'North'",
    );
    check(
        &idx,
        "What is the population and area of North?",
        "SELECT regions.population, regions.area FROM regions WHERE regions.region_name = 'North'",
    );
}

/// Readings that make no sense whatever the data are never sure, and sensible ones are.
#[test]
fn senseless_readings_are_not_sure() {
    let idx = index(
        vec![
            typed(
                "rivers",
                &["river_name text pk", "length_km real", "country text"],
            ),
            typed(
                "regions",
                &["region_name text pk", "capital text", "population integer"],
            ),
        ],
        &[
            ("rivers", "river_name", "Red"),
            ("regions", "region_name", "North"),
            ("regions", "capital", "Oslo"),
        ],
    );
    let confidence = |q: &str| {
        let p = plan(q, &idx, &PlanOptions::default()).expect(q);
        (p.confidence, p.reasons)
    };
    // A size superlative over a text column; a number compared with a word; "where" with
    // no column that says where.
    for q in [
        "What is the largest capital?",
        "How many rivers are longer than Red?",
        "Where is the longest river?",
    ] {
        let (c, why) = confidence(q);
        assert!(c < 0.9, "{q}: {c} {why:?}");
    }
    let (_, why) = confidence("Where is the longest river?");
    assert!(why.iter().any(|w| w.contains("where")), "{why:?}");
    let (c, why) = confidence("Which country has the longest river?");
    assert!(c >= 0.9, "{c} {why:?}");
}

/// A time scope dates the events that point at the subject (an employee's leave), not the
/// subject's own date (the hire date).
#[test]
fn time_scopes_date_the_subjects_events() {
    check(
        &people(),
        "How many different employees called in sick in 2025?",
        "SELECT COUNT(DISTINCT Employees.EmployeeID) FROM Employees \
         JOIN LeaveRequests ON LeaveRequests.EmployeeID = Employees.EmployeeID \
         WHERE LeaveRequests.StartDate >= '2025-01-01' AND LeaveRequests.StartDate < '2026-01-01' \
         AND LeaveRequests.LeaveType = 'Sick'",
    );
    check(
        &people(),
        "How many employees were hired in 2025?",
        "SELECT COUNT(*) FROM Employees WHERE Employees.HireDate >= '2025-01-01' \
         AND Employees.HireDate < '2026-01-01'",
    );
}

fn campaigns() -> SchemaIndex {
    keyed_index(
        vec![
            typed("campaigns", &["cmp_id integer pk", "cmp_nm text!"]),
            typed(
                "ad_spend_daily",
                &[
                    "spend_dt date!",
                    "cmp_id integer!",
                    "clicks integer",
                    "amt_usd real",
                ],
            ),
        ],
        &[("ad_spend_daily.cmp_id", "campaigns.cmp_id")],
        &[],
    )
}

/// "Top 5 campaigns by total spend" ranks the campaigns, each shown by its name.
#[test]
fn top_n_of_a_table_by_a_measure_ranks_its_rows() {
    check(
        &campaigns(),
        "Top 5 campaigns by total spend",
        "SELECT campaigns.cmp_nm, SUM(ad_spend_daily.amt_usd) FROM campaigns \
         JOIN ad_spend_daily ON ad_spend_daily.cmp_id = campaigns.cmp_id \
         GROUP BY campaigns.cmp_id, campaigns.cmp_nm \
         ORDER BY SUM(ad_spend_daily.amt_usd) DESC LIMIT 5",
    );
}

/// "the most clicks" of a campaign's daily rows accumulates them; "the biggest" is one row.
#[test]
fn most_of_the_subjects_events_is_their_sum() {
    check(
        &campaigns(),
        "Which 3 campaigns got the most clicks?",
        "SELECT campaigns.cmp_nm, SUM(ad_spend_daily.clicks) FROM campaigns \
         JOIN ad_spend_daily ON ad_spend_daily.cmp_id = campaigns.cmp_id \
         GROUP BY campaigns.cmp_id, campaigns.cmp_nm \
         ORDER BY SUM(ad_spend_daily.clicks) DESC LIMIT 3",
    );
}

/// A measure shown beside a grouping is totalled per group (a price is averaged).
#[test]
fn measures_by_a_grouping_are_totalled() {
    let idx = keyed_index(
        vec![
            typed(
                "plans",
                &[
                    "plan_id integer pk",
                    "plan_name text!",
                    "tier text",
                    "list_price real",
                ],
            ),
            typed(
                "subscriptions",
                &[
                    "subscription_id integer pk",
                    "plan_id integer!",
                    "mrr_usd real",
                    "status text!",
                ],
            ),
        ],
        &[("subscriptions.plan_id", "plans.plan_id")],
        &[],
    );
    check(
        &idx,
        "Show MRR by plan name.",
        "SELECT plans.plan_name, SUM(subscriptions.mrr_usd) FROM subscriptions \
         JOIN plans ON plans.plan_id = subscriptions.plan_id GROUP BY plans.plan_name",
    );
    check(
        &idx,
        "List price by tier",
        "SELECT plans.tier, AVG(plans.list_price) FROM plans GROUP BY plans.tier",
    );
}

fn exceptions() -> SchemaIndex {
    index(
        vec![typed(
            "delivery_exceptions",
            &[
                "exc_id integer pk",
                "exc_type_cd text!",
                "exc_resolution_cd text",
                "exc_owner text",
                "exc_subtotal_usd real",
                "exc_tax_usd real",
                "exc_total_usd real",
            ],
        )],
        &[],
    )
}

/// "no X", "without X", "doesn't have X": rows with no value in X.
#[test]
fn missing_values_are_null() {
    check(
        &exceptions(),
        "How many exceptions have no owner?",
        "SELECT COUNT(*) FROM delivery_exceptions WHERE delivery_exceptions.exc_owner IS NULL",
    );
    check(
        &exceptions(),
        "How many exceptions don't have an owner?",
        "SELECT COUNT(*) FROM delivery_exceptions WHERE delivery_exceptions.exc_owner IS NULL",
    );
}

/// "For each exception type" groups by the type's values, not by each exception.
#[test]
fn each_kind_groups_by_its_values() {
    check(
        &exceptions(),
        "For each exception type, how many exceptions have no resolution code?",
        "SELECT delivery_exceptions.exc_type_cd, COUNT(*) FROM delivery_exceptions \
         WHERE delivery_exceptions.exc_resolution_cd IS NULL \
         GROUP BY delivery_exceptions.exc_type_cd",
    );
}

/// Of several money columns (subtotal, tax, total), "how much" sums the total.
#[test]
fn how_much_sums_the_total_of_several_money_columns() {
    check(
        &exceptions(),
        "How much were the exceptions in total?",
        "SELECT SUM(delivery_exceptions.exc_total_usd) FROM delivery_exceptions",
    );
}

/// "with their X" adds X to what is shown, after the rows' label; it is no condition.
#[test]
fn with_their_shows_more() {
    check(
        &people(),
        "List all employees with their hire dates",
        "SELECT Employees.FirstName, Employees.HireDate FROM Employees",
    );
}

/// "Which 3 statuses …": a number before a column's values is a top-N of them.
#[test]
fn which_n_values_is_a_top_n() {
    check(
        &logistics(),
        "Which 2 statuses have the most shipments?",
        "SELECT shipments.shp_status, COUNT(*) FROM shipments GROUP BY shipments.shp_status \
         ORDER BY COUNT(*) DESC LIMIT 2",
    );
}

/// An unknown word is asked about with what it is about — "age" with the birth year — not with
/// every measure of the schema.
#[test]
fn an_unknown_word_offers_what_it_is_about() {
    let idx = keyed_index(
        vec![
            typed(
                "customers",
                &[
                    "customer_id integer pk",
                    "name text",
                    "birth_year integer",
                    "segment text",
                ],
            ),
            typed(
                "orders",
                &[
                    "order_id integer pk",
                    "customer_id integer",
                    "amount real",
                    "shipping_cost real",
                ],
            ),
        ],
        &[("orders.customer_id", "customers.customer_id")],
        &[("customers", "segment", "Retail")],
    );
    let options = |question: &str| -> Vec<String> {
        let p = plan(question, &idx, &PlanOptions::default()).expect("plans");
        let amb = p
            .ambiguity
            .unwrap_or_else(|| panic!("{question}: no question back"));
        amb.options.into_iter().map(|(_, label)| label).collect()
    };
    assert_eq!(
        options("What is the average age by segment?"),
        ["customers.birth_year"]
    );
    // Nothing related: the measures of the tables in play, not every measure there is.
    assert_eq!(
        options("Show the churn of orders by segment"),
        ["orders.amount", "orders.shipping_cost"]
    );
}

/// A flag stored as `Y`/`N` text is a flag like a 0/1 one: "preferred carriers" are those
/// whose `car_preferred_yn` is `Y`, "non-preferred" those with `N`.
#[test]
fn text_flags_are_flags() {
    let idx = crate::fixtures::with_samples(
        index(
            vec![typed(
                "carriers",
                &[
                    "car_id integer pk",
                    "car_name text!",
                    "car_preferred_yn text",
                    "car_mode text",
                ],
            )],
            &[],
        ),
        &[
            ("carriers", "car_preferred_yn", &["N", "Y"]),
            ("carriers", "car_mode", &["AIR", "GROUND"]),
        ],
    );
    check(
        &idx,
        "How many preferred carriers do we have?",
        "SELECT COUNT(*) FROM carriers WHERE carriers.car_preferred_yn = 'Y'",
    );
    check(
        &idx,
        "How many non preferred carriers are there?",
        "SELECT COUNT(*) FROM carriers WHERE carriers.car_preferred_yn = 'N'",
    );
    // The flag is a filter, not a column asked for: the carriers are named before their mode.
    check(
        &idx,
        "List the preferred carriers with their mode",
        "SELECT carriers.car_name, carriers.car_mode FROM carriers WHERE carriers.car_preferred_yn = 'Y'",
    );
}

/// "What percent of X were Y": the share of the rows meeting the condition named after the
/// verb; the other conditions and the time scope are the whole.
#[test]
fn percentages_of_rows() {
    let idx = logistics();
    check(
        &idx,
        "What percent of shipments are in transit?",
        "SELECT 100.0 * SUM(CASE WHEN shipments.shp_status = 'IN_TRANSIT' THEN 1 ELSE 0 END) \
         / COUNT(*) AS pct FROM shipments",
    );
    check(
        &idx,
        "What percentage of 2024 shipments were delivered?",
        "SELECT 100.0 * SUM(CASE WHEN shipments.shp_status = 'DELIVERED' THEN 1 ELSE 0 END) \
         / COUNT(*) AS pct FROM shipments WHERE shipments.shp_created_at >= '2024-01-01' \
         AND shipments.shp_created_at < '2025-01-01'",
    );
}

/// "What percent of X went to each Y": each group's share of the total, of rows or of the
/// measure named.
#[test]
fn shares_of_a_total() {
    check(
        &logistics(),
        "What percent of shipments came from each warehouse?",
        "SELECT warehouses.wh_id, warehouses.wh_name, 100.0 * COUNT(*) / SUM(COUNT(*)) OVER () \
         AS pct FROM shipments JOIN warehouses ON warehouses.wh_id = shipments.shp_origin_wh \
         GROUP BY warehouses.wh_id, warehouses.wh_name",
    );
}

/// A staff table whose rows end: a nullable termination date.
fn staff() -> SchemaIndex {
    crate::fixtures::with_samples(
        index(
            vec![typed(
                "employees",
                &[
                    "employee_id integer pk",
                    "full_name text!",
                    "hire_date date!",
                    "termination_date date",
                    "employment_type text",
                    "is_remote integer",
                ],
            )],
            &[],
        ),
        &[("employees", "employment_type", &["FullTime", "Contractor"])],
    )
}

/// "Current" rows are those whose end date is not set.
#[test]
fn current_rows_have_not_ended() {
    check(
        &staff(),
        "How many current employees are there?",
        "SELECT COUNT(*) FROM employees WHERE employees.termination_date IS NULL",
    );
    check(
        &staff(),
        "How many employees do we still have?",
        "SELECT COUNT(*) FROM employees WHERE employees.termination_date IS NULL",
    );
}

/// A flag named after a percentage's verb is the condition its rows meet.
#[test]
fn percentages_of_a_flag() {
    check(
        &staff(),
        "What percentage of current employees are remote?",
        "SELECT 100.0 * SUM(CASE WHEN employees.is_remote = 1 THEN 1 ELSE 0 END) / COUNT(*) \
         AS pct FROM employees WHERE employees.termination_date IS NULL",
    );
}

/// "Which day/month … the most …": periods of the rows' date ranked by the measure, shown.
#[test]
fn periods_ranked_by_a_measure() {
    check(
        &logistics(),
        "On which day in 2024 were the most shipments created?",
        "SELECT date(shipments.shp_created_at) AS day, COUNT(*) FROM shipments \
         WHERE shipments.shp_created_at >= '2024-01-01' AND shipments.shp_created_at < '2025-01-01' \
         GROUP BY date(shipments.shp_created_at) ORDER BY COUNT(*) DESC, \
         date(shipments.shp_created_at) ASC LIMIT 1",
    );
    check(
        &logistics(),
        "Which month had the lowest total shipment weight?",
        "SELECT strftime('%Y-%m', shipments.shp_created_at) AS month, SUM(shipments.shp_weight_kg) \
         FROM shipments GROUP BY strftime('%Y-%m', shipments.shp_created_at) \
         ORDER BY SUM(shipments.shp_weight_kg) ASC, strftime('%Y-%m', shipments.shp_created_at) ASC \
         LIMIT 1",
    );
}

/// "Top N <values> by <measure>": the column's values grouped and ranked by the measure, shown.
#[test]
fn top_values_by_a_measure() {
    let freight = index(
        vec![typed(
            "shipments",
            &[
                "shp_id integer pk",
                "shp_dest_country text",
                "shp_declared_value_usd real",
                "shp_freight_cost_usd real",
            ],
        )],
        &[],
    );
    // "spend" names no column: the money column the other words name ("freight").
    check(
        &freight,
        "Top 3 destination countries by freight spend",
        "SELECT shipments.shp_dest_country, SUM(shipments.shp_freight_cost_usd) FROM shipments \
         GROUP BY shipments.shp_dest_country ORDER BY SUM(shipments.shp_freight_cost_usd) DESC \
         LIMIT 3",
    );
    check(
        &logistics(),
        "Top 3 warehouse cities by shipment weight",
        "SELECT warehouses.wh_city, SUM(shipments.shp_weight_kg) FROM warehouses \
         JOIN shipments ON shipments.shp_origin_wh = warehouses.wh_id GROUP BY warehouses.wh_city \
         ORDER BY SUM(shipments.shp_weight_kg) DESC LIMIT 3",
    );
}

/// Values of one column asked for side by side in a breakdown are a column of counts each,
/// in the question's order.
#[test]
fn values_side_by_side_are_counted_apart() {
    check(
        &logistics(),
        "For each warehouse, how many shipments are delivered and how many are in transit?",
        "SELECT warehouses.wh_name, \
         SUM(CASE WHEN shipments.shp_status = 'DELIVERED' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN shipments.shp_status = 'IN_TRANSIT' THEN 1 ELSE 0 END) \
         FROM shipments JOIN warehouses ON warehouses.wh_id = shipments.shp_origin_wh \
         GROUP BY warehouses.wh_id, warehouses.wh_name",
    );
}

/// One OR of values is a filter, not a comparison: nothing is split.
#[test]
fn an_or_of_values_stays_a_filter() {
    check(
        &logistics(),
        "For each warehouse, how many shipments are delivered or in transit?",
        "SELECT warehouses.wh_name, COUNT(*) FROM shipments \
         JOIN warehouses ON warehouses.wh_id = shipments.shp_origin_wh \
         WHERE (shipments.shp_status = 'DELIVERED' OR shipments.shp_status = 'IN_TRANSIT') \
         GROUP BY warehouses.wh_id, warehouses.wh_name",
    );
}
