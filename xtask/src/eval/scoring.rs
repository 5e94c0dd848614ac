//! The two execution-accuracy rules, exactly as the official scripts apply them.
//!
//! * test-suite rule (Spider, SParC, CoSQL; test-suite-sql-eval's `exec_eval.result_eq`): the
//!   results must be the same bag of rows under some permutation of the columns; row order
//!   counts only when the gold SQL contains `order by`; two empty results are equal whatever
//!   their columns; otherwise column counts must match.
//! * BIRD rule (BIRD's `evaluation.py`): `set(predicted) == set(gold)` over row tuples, columns in
//!   their order, duplicates and row order ignored.
//!
//! Cells compare with Python's semantics ([`PyValue`]): `1 == 1.0`, `None == None`.

use std::collections::{HashMap, HashSet};

use super::pyvalue::PyValue;

/// One result row.
pub type Row = Vec<PyValue>;

/// Whether the test-suite rule checks row order for this gold query: the official script looks
/// for the substring `order by` in the lower-cased (post-processed) gold SQL.
pub fn order_matters(gold_sql: &str) -> bool {
    gold_sql.to_lowercase().contains("order by")
}

/// The BIRD rule: equal sets of row tuples.
pub fn bird_eq(gold: &[Row], pred: &[Row]) -> bool {
    let g: HashSet<&Row> = gold.iter().collect();
    let p: HashSet<&Row> = pred.iter().collect();
    g == p
}

/// The test-suite rule (`result_eq(gold, pred, order_matters)`).
pub fn test_suite_eq(gold: &[Row], pred: &[Row], order_matters: bool) -> bool {
    if gold.is_empty() && pred.is_empty() {
        return true;
    }
    if gold.len() != pred.len() {
        return false;
    }
    let num_cols = gold[0].len();
    if pred[0].len() != num_cols {
        return false;
    }
    if !quick_rej(gold, pred, order_matters) {
        return false;
    }
    let gold_cols: Vec<HashSet<&PyValue>> = (0..num_cols)
        .map(|c| gold.iter().filter_map(|r| r.get(c)).collect())
        .collect();
    // The official script samples 20 predicted rows to rule out column mappings whose values
    // never occur in the gold column; every such mapping is impossible, so ruling them out with
    // all rows changes no outcome and makes the search deterministic.
    let candidates: Vec<Vec<usize>> = (0..num_cols)
        .map(|gc| {
            (0..num_cols)
                .filter(|&pc| {
                    pred.iter()
                        .all(|r| r.get(pc).is_some_and(|v| gold_cols[gc].contains(v)))
                })
                .collect()
        })
        .collect();
    let mut perm = Vec::with_capacity(num_cols);
    let mut used = vec![false; num_cols];
    search(gold, pred, order_matters, &candidates, &mut perm, &mut used)
}

/// Tries every injective column mapping allowed by `candidates`; `perm[i]` is the predicted
/// column that stands in gold column `i`.
fn search(
    gold: &[Row],
    pred: &[Row],
    order_matters: bool,
    candidates: &[Vec<usize>],
    perm: &mut Vec<usize>,
    used: &mut [bool],
) -> bool {
    let i = perm.len();
    if i == candidates.len() {
        let permuted: Vec<Row> = pred
            .iter()
            .map(|r| perm.iter().map(|&c| r[c].clone()).collect())
            .collect();
        return if order_matters {
            gold == permuted.as_slice()
        } else {
            let g: HashSet<&Row> = gold.iter().collect();
            let p: HashSet<&Row> = permuted.iter().collect();
            g == p && multiset_eq(gold, &permuted)
        };
    }
    for &c in &candidates[i] {
        if used[c] {
            continue;
        }
        used[c] = true;
        perm.push(c);
        let found = search(gold, pred, order_matters, candidates, perm, used);
        perm.pop();
        used[c] = false;
        if found {
            return true;
        }
    }
    false
}

/// `multiset_eq`: the same rows with the same multiplicities.
fn multiset_eq(a: &[Row], b: &[Row]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut counts: HashMap<&Row, i64> = HashMap::new();
    for r in a {
        *counts.entry(r).or_default() += 1;
    }
    for r in b {
        let n = counts.entry(r).or_default();
        *n -= 1;
        if *n < 0 {
            return false;
        }
    }
    true
}

/// `unorder_row`: a row's cells sorted by `str(x) + str(type(x))` (a stable sort, as Python's).
fn unorder_row(row: &Row) -> Row {
    let mut keyed: Vec<(String, &PyValue)> = row
        .iter()
        .map(|v| (format!("{}{}", v.py_str(), v.py_type()), v))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed.into_iter().map(|(_, v)| v.clone()).collect()
}

/// `quick_rej`: true when the results may still be equal (the rows, each with its cells
/// sorted, agree as lists when order matters, else as sets).
fn quick_rej(a: &[Row], b: &[Row], order_matters: bool) -> bool {
    let s1: Vec<Row> = a.iter().map(unorder_row).collect();
    let s2: Vec<Row> = b.iter().map(unorder_row).collect();
    if order_matters {
        s1 == s2
    } else {
        let h1: HashSet<&Row> = s1.iter().collect();
        let h2: HashSet<&Row> = s2.iter().collect();
        h1 == h2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PyValue::{Float as F, Int as I, None as N};

    fn s(x: &str) -> PyValue {
        PyValue::Str(x.to_string())
    }

    /// Checks both rules on one pair of results.
    fn check(gold: &[Row], pred: &[Row], order: bool, test_suite: bool, bird: bool) {
        assert_eq!(
            test_suite_eq(gold, pred, order),
            test_suite,
            "test-suite rule, gold {gold:?} pred {pred:?}"
        );
        assert_eq!(bird_eq(gold, pred), bird, "BIRD rule");
    }

    #[test]
    fn duplicates_separate_bag_from_set() {
        let gold = vec![vec![s("a")], vec![s("a")], vec![s("b")]];
        let pred = vec![vec![s("a")], vec![s("b")]];
        check(&gold, &pred, false, false, true);
        let pred_dup = vec![vec![s("a")], vec![s("b")], vec![s("b")]];
        check(&gold, &pred_dup, false, false, true);
        let same = vec![vec![s("b")], vec![s("a")], vec![s("a")]];
        check(&gold, &same, false, true, true);
    }

    #[test]
    fn column_order_counts_only_for_bird() {
        let gold = vec![vec![s("x"), I(1)], vec![s("y"), I(2)]];
        let swapped = vec![vec![I(1), s("x")], vec![I(2), s("y")]];
        check(&gold, &swapped, false, true, false);
        // a swap that breaks row alignment is wrong under both
        let misaligned = vec![vec![I(2), s("x")], vec![I(1), s("y")]];
        check(&gold, &misaligned, false, false, false);
        // wide rows: the mapping is found among many candidates
        let g = vec![
            vec![I(1), I(2), I(3), I(4), I(5)],
            vec![I(5), I(4), I(3), I(2), I(1)],
        ];
        let p = vec![
            vec![I(5), I(4), I(3), I(2), I(1)],
            vec![I(1), I(2), I(3), I(4), I(5)],
        ];
        assert!(test_suite_eq(&g, &p, false));
        let p2 = vec![
            vec![I(2), I(1), I(3), I(4), I(5)],
            vec![I(4), I(5), I(3), I(2), I(1)],
        ];
        assert!(test_suite_eq(&g, &p2, false));
        let p3 = vec![
            vec![I(2), I(1), I(3), I(4), I(5)],
            vec![I(5), I(4), I(3), I(2), I(1)],
        ];
        assert!(!test_suite_eq(&g, &p3, false));
    }

    #[test]
    fn row_order_counts_only_with_order_by() {
        let gold = vec![vec![I(1)], vec![I(2)]];
        let reversed = vec![vec![I(2)], vec![I(1)]];
        check(&gold, &reversed, false, true, true);
        check(&gold, &reversed, true, false, true);
        check(&gold, &gold.clone(), true, true, true);
        assert!(order_matters("SELECT a FROM t ORDER BY a"));
        assert!(order_matters("select a from t order by a"));
        assert!(!order_matters("SELECT a FROM t GROUP BY a"));
        // the official substring test: two spaces defeat it
        assert!(!order_matters("SELECT a FROM t ORDER  BY a"));
    }

    #[test]
    fn nulls_are_equal_to_nulls_only() {
        let gold = vec![vec![N, I(1)]];
        check(&gold, &[vec![N, I(1)]], false, true, true);
        check(&gold, &[vec![I(0), I(1)]], false, false, false);
        check(&gold, &[vec![s("None"), I(1)]], false, false, false);
    }

    #[test]
    fn ints_equal_floats_of_the_same_value() {
        let gold = vec![vec![I(3)], vec![I(4)]];
        check(&gold, &[vec![F(3.0)], vec![F(4.0)]], false, true, true);
        check(&gold, &[vec![F(3.0)], vec![F(4.0)]], true, true, true);
        check(&gold, &[vec![F(3.5)], vec![I(4)]], false, false, false);
        check(&gold, &[vec![s("3")], vec![s("4")]], false, false, false);
    }

    #[test]
    fn floats_compare_exactly() {
        let gold = vec![vec![F(0.1 + 0.2)]];
        check(&gold, &[vec![F(0.3)]], false, false, false);
        check(&gold, &[vec![F(0.30000000000000004)]], false, true, true);
    }

    #[test]
    fn empty_results() {
        let empty: Vec<Row> = vec![];
        check(&empty, &empty, false, true, true);
        check(&empty, &[vec![I(1)]], false, false, false);
        check(&[vec![I(1)]], &empty, true, false, false);
    }

    #[test]
    fn column_counts_must_match() {
        let gold = vec![vec![I(1), I(2)]];
        check(&gold, &[vec![I(1)]], false, false, false);
        check(&gold, &[vec![I(1), I(2), I(2)]], false, false, false);
        // …except that two empty results are equal whatever their columns (no rows to count)
        check(&[], &[], false, true, true);
    }

    #[test]
    fn quick_rejection_uses_python_sort_keys() {
        // Cells sort by `str(x) + str(type(x))`, so 10 sorts before 9.5 (as text)
        let gold = vec![vec![I(10), F(9.5)]];
        let pred = vec![vec![F(9.5), F(10.0)]];
        assert!(test_suite_eq(&gold, &pred, false));
        assert!(!bird_eq(&gold, &pred));
    }
}
