//! The words the understander reacts to: aggregation, comparison, ordering, grouping,
//! negation, superlatives and the columns some adjectives imply.
//!
//! The lists are data (`lexicon/words.txt`, its format described at its top), read once; the
//! functions here answer from them. The constants below are the lists the schema index reads.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use crate::query::{AggFunc, CmpOp};

/// Words of a date column's name that mark a later or secondary date of a row (its end, a
/// deadline, an edit) rather than the moment the row stands for; a time scope ("in 2024")
/// prefers the other dates of a table.
pub const LATER_DATE_WORDS: &[&str] = &[
    "end",
    "ended",
    "close",
    "closed",
    "cancel",
    "cancelled",
    "canceled",
    "terminate",
    "termination",
    "resolve",
    "resolved",
    "due",
    "promise",
    "promised",
    "expected",
    "expire",
    "expiry",
    "expiration",
    "update",
    "updated",
    "modify",
    "modified",
    "delete",
    "deleted",
    "last",
    "until",
    "to",
];

/// Units a column name may end with (`weight_kg`, `amount_usd`): the column is also named
/// without them ("weight", "amount").
pub const UNIT_WORDS: &[&str] = &[
    "usd", "eur", "gbp", "jpy", "chf", "cad", "aud", "kg", "g", "lb", "lbs", "km", "m", "cm", "mm",
    "mi", "sec", "second", "ms", "minute", "hour", "day", "pct", "percent", "pallet",
];

/// Words of a numeric column that hold money: what "spend", "total value" or "how much" sum
/// when the word itself named something else (a date, a table).
pub const MONEY_WORDS: &[&str] = &[
    "amount", "cost", "price", "revenue", "sale", "spend", "value", "fee", "pay", "salary", "usd",
    "eur", "gbp", "total", "charge", "budget",
];

/// First words of a yes/no flag's name, as lemmas (`is_public` → be public, `has_manager`).
pub const FLAG_FIRST_WORDS: &[&str] = &["be", "has", "have"];
/// Last words of a yes/no flag's name (`fragile_yn`, `conv_flag`).
pub const FLAG_LAST_WORDS: &[&str] = &["flag", "yn"];

/// Whether a column's words (lemmas) name a yes/no flag: `is_test`, `has_manager`, `fragile_yn`.
pub fn is_flag_name(words: &[String]) -> bool {
    words.len() >= 2
        && (FLAG_FIRST_WORDS.contains(&words[0].as_str())
            || words
                .last()
                .is_some_and(|w| FLAG_LAST_WORDS.contains(&w.as_str())))
}

/// Words for people counted as a number: a population column counts them.
pub const PEOPLE_WORDS: &[&str] = &["person", "people", "resident", "inhabitant", "citizen"];

/// The parsed `lexicon/words.txt`.
#[derive(Debug, Default)]
struct Lexicon {
    aggregate: HashMap<&'static str, AggFunc>,
    superlative: HashMap<&'static str, bool>,
    implied: HashMap<&'static str, (Vec<&'static str>, bool)>,
    /// Phrases (their words) → operator and the adjective they imply.
    comparison: HashMap<Vec<&'static str>, (CmpOp, Option<&'static str>)>,
    longest_comparison: usize,
    filter_cue: HashSet<&'static str>,
    head: HashSet<&'static str>,
    synonym: HashMap<&'static str, Vec<&'static str>>,
    location: HashSet<&'static str>,
    role: HashSet<&'static str>,
    averaged: HashSet<&'static str>,
    category: HashSet<&'static str>,
    related: HashMap<&'static str, Vec<&'static str>>,
    share_word: HashSet<&'static str>,
    share_verb: HashSet<&'static str>,
}

static LEXICON: LazyLock<Lexicon> =
    LazyLock::new(|| Lexicon::parse(include_str!("lexicon/words.txt")));

impl Lexicon {
    /// Reads the data file; a malformed line is a bug in the shipped file, caught by the tests.
    fn parse(text: &'static str) -> Self {
        let mut lx = Lexicon::default();
        let mut section = "";
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name;
                continue;
            }
            let (key, rest) = line.split_once(':').unwrap_or(("", line));
            let (key, rest) = (key.trim(), rest.trim());
            let words = || rest.split_whitespace();
            match section {
                "aggregate" => {
                    let f = match key {
                        "avg" => AggFunc::Avg,
                        "sum" => AggFunc::Sum,
                        "max" => AggFunc::Max,
                        "min" => AggFunc::Min,
                        _ => continue,
                    };
                    lx.aggregate.extend(words().map(|w| (w, f)));
                }
                "superlative" => {
                    let desc = key == "desc";
                    lx.superlative.extend(words().map(|w| (w, desc)));
                }
                "implied" => {
                    let more = key == "more";
                    let (adjectives, columns) = rest.split_once('=').unwrap_or((rest, ""));
                    let columns: Vec<&str> = columns.split_whitespace().collect();
                    for a in adjectives.split_whitespace() {
                        lx.implied.insert(a, (columns.clone(), more));
                    }
                }
                "comparison" => {
                    let Some(op) = cmp_op(key) else { continue };
                    for phrase in rest.split('|') {
                        let (phrase, implied) = match phrase.split_once('(') {
                            Some((p, imp)) => (p, Some(imp.trim().trim_end_matches(')').trim())),
                            None => (phrase, None),
                        };
                        let words: Vec<&str> = phrase.split_whitespace().collect();
                        lx.longest_comparison = lx.longest_comparison.max(words.len());
                        lx.comparison.insert(words, (op, implied));
                    }
                }
                "filter-cue" => lx.filter_cue.extend(words()),
                "head" => lx.head.extend(words()),
                "location" => lx.location.extend(words()),
                "role" => lx.role.extend(words()),
                "averaged" => lx.averaged.extend(words()),
                "category" => lx.category.extend(words()),
                "synonym" => {
                    lx.synonym.insert(key, words().collect());
                }
                "related" => {
                    lx.related.insert(key, words().collect());
                }
                "share" if key == "word" => lx.share_word.extend(words()),
                "share" if key == "verb" => lx.share_verb.extend(words()),
                _ => {}
            }
        }
        lx
    }
}

fn cmp_op(s: &str) -> Option<CmpOp> {
    Some(match s {
        ">=" => CmpOp::GtEq,
        "<=" => CmpOp::LtEq,
        "=" => CmpOp::Eq,
        "!=" => CmpOp::NotEq,
        ">" => CmpOp::Gt,
        "<" => CmpOp::Lt,
        _ => return None,
    })
}

/// Aggregation named by a word, if any. `total` is a sum unless followed by "number".
pub fn agg_word(w: &str) -> Option<AggFunc> {
    LEXICON.aggregate.get(w).copied()
}

/// Superlatives: `(descending?)`. "most" and "least" also count things.
pub fn superlative(w: &str) -> Option<bool> {
    LEXICON.superlative.get(w).copied()
}

/// Adjectives (superlative or comparative) that imply a column: the column words to look for
/// and whether "more" means a larger value of that column.
pub fn implied_column(w: &str) -> Option<(&'static [&'static str], bool)> {
    LEXICON
        .implied
        .get(w)
        .map(|(cols, more)| (cols.as_slice(), *more))
}

/// A comparative that implies a column ("older", "cheaper"), as the lexicon spells it.
fn comparative(w: &str) -> Option<&'static str> {
    let (key, _) = LEXICON.implied.get_key_value(w)?;
    key.ends_with("er").then_some(*key)
}

/// A comparison phrase starting at `words[0]`: operator, how many words it spans, and the
/// adjective (if any) that implies a column ("older than" → age).
pub fn comparison(words: &[&str]) -> Option<(CmpOp, usize, Option<&'static str>)> {
    let lx = &*LEXICON;
    for len in (1..=lx.longest_comparison.min(words.len())).rev() {
        if let Some((op, implied)) = lx.comparison.get(&words[..len]) {
            return Some((*op, len, *implied));
        }
    }
    // "younger than": the comparative's column, larger or smaller by its direction.
    if words.get(1) == Some(&"than") {
        let imp = comparative(words[0])?;
        let (_, more) = implied_column(imp)?;
        return Some((if more { CmpOp::Gt } else { CmpOp::Lt }, 2, Some(imp)));
    }
    None
}

/// Words that start the description of which rows are wanted.
pub fn is_filter_cue(w: &str) -> bool {
    LEXICON.filter_cue.contains(w)
}

/// Verbs and words that open a question or a request and carry no meaning of their own.
pub fn is_head_word(w: &str) -> bool {
    LEXICON.head.contains(w)
}

/// A word of a column name that says where something is (`city`, `country`, `address`).
pub fn is_location_word(w: &str) -> bool {
    LEXICON.location.contains(w)
}

/// A word that says what kind of value a column holds (`number`, `date`, `name`), not what it
/// is about.
pub fn is_role_word(w: &str) -> bool {
    LEXICON.role.contains(w)
}

/// A word of a measure column whose values are averaged, not added, per group (`price`,
/// `rate`, `score`).
pub fn is_averaged_word(w: &str) -> bool {
    LEXICON.averaged.contains(w)
}

/// The last word of a column that sorts rows into kinds (`type`, `status`, `tier`).
pub fn is_category_word(w: &str) -> bool {
    LEXICON.category.contains(w)
}

/// Everyday synonyms of words that name things in databases, for words the schema does not
/// use itself ("nations" for a `country` table). Each maps to the words to look up instead.
pub fn synonyms(w: &str) -> &'static [&'static str] {
    LEXICON.synonym.get(w).map_or(&[], Vec::as_slice)
}

/// A word that asks for a percentage ("percent", "fraction", "share").
pub fn is_share_word(w: &str) -> bool {
    LEXICON.share_word.contains(w)
}

/// A verb after which a percentage's counted rows are named ("… were lost", "… used express").
/// Matched on lemmas and on the past forms the tokenizer leaves alone.
pub fn is_share_verb(w: &str) -> bool {
    LEXICON.share_verb.contains(w)
        || PAST_FORMS
            .iter()
            .any(|(past, base)| *past == w && LEXICON.share_verb.contains(base))
        || w.strip_suffix("ed").is_some_and(|b| {
            LEXICON.share_verb.contains(b) || LEXICON.share_verb.contains(format!("{b}e").as_str())
        })
}

/// Irregular past forms of the share verbs.
const PAST_FORMS: &[(&str, &str)] = &[
    ("got", "get"),
    ("came", "come"),
    ("went", "go"),
    ("had", "have"),
    ("became", "become"),
    ("made", "make"),
    ("took", "take"),
    ("left", "leave"),
    ("sat", "sit"),
    ("fell", "fall"),
    ("gotten", "get"),
    ("gone", "go"),
    ("taken", "take"),
];

/// Words of columns that `w` is about without naming them (`age`: birth, dob), for ranking what
/// to offer when asking what an unknown word means.
pub fn related_words(w: &str) -> &'static [&'static str] {
    LEXICON.related.get(w).map_or(&[], Vec::as_slice)
}

/// The everyday words the lexicon reads as `w` (for `employee`: worker, staff): the other
/// direction of [`synonyms`], for writing them down (a drafted semantic file's synonyms).
pub fn words_meaning(w: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = LEXICON
        .synonym
        .iter()
        .filter(|(_, targets)| targets.len() == 1 && targets[0] == w)
        .map(|(k, _)| *k)
        .collect();
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_of_the_data_file_is_read() {
        let text = include_str!("lexicon/words.txt");
        let mut section = "";
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            if line.starts_with('[') {
                section = line;
                assert!(
                    [
                        "[aggregate]",
                        "[superlative]",
                        "[implied]",
                        "[comparison]",
                        "[filter-cue]",
                        "[head]",
                        "[synonym]",
                        "[location]",
                        "[role]",
                        "[averaged]",
                        "[category]",
                        "[related]",
                        "[share]"
                    ]
                    .contains(&section),
                    "unknown section {section}"
                );
                continue;
            }
            match section {
                "[aggregate]" => assert!(
                    ["avg:", "sum:", "max:", "min:"]
                        .iter()
                        .any(|k| line.starts_with(k)),
                    "{line}"
                ),
                "[superlative]" => assert!(
                    line.starts_with("desc:") || line.starts_with("asc:"),
                    "{line}"
                ),
                "[implied]" => assert!(
                    (line.starts_with("more:") || line.starts_with("less:"))
                        && line.contains(" = "),
                    "{line}"
                ),
                "[comparison]" => {
                    let (op, _) = line.split_once(':').expect("operator: phrases");
                    assert!(cmp_op(op.trim()).is_some(), "{line}");
                }
                "[synonym]" | "[related]" => assert!(line.contains(':'), "{line}"),
                "[share]" => assert!(
                    line.starts_with("word:") || line.starts_with("verb:"),
                    "{line}"
                ),
                _ => {}
            }
            assert_eq!(line, line.to_lowercase(), "lower case: {line}");
        }
    }

    #[test]
    fn comparisons() {
        // (words, operator, span, implied adjective)
        type Reading = Option<(CmpOp, usize, Option<&'static str>)>;
        let cases: &[(&str, Reading)] = &[
            ("at least 3", Some((CmpOp::GtEq, 2, None))),
            ("no more than 3", Some((CmpOp::LtEq, 3, None))),
            ("more than 3", Some((CmpOp::Gt, 2, None))),
            ("over 3", Some((CmpOp::Gt, 1, None))),
            ("or more", Some((CmpOp::GtEq, 2, None))),
            ("not equal to 3", Some((CmpOp::NotEq, 3, None))),
            ("bigger than 3", Some((CmpOp::Gt, 2, Some("bigger")))),
            ("after 2020", Some((CmpOp::Gt, 1, Some("later")))),
            ("before 2020", Some((CmpOp::Lt, 1, Some("earlier")))),
            ("older than 30", Some((CmpOp::Gt, 2, Some("older")))),
            ("younger than 30", Some((CmpOp::Lt, 2, Some("younger")))),
            ("cheaper than 5", Some((CmpOp::Lt, 2, Some("cheaper")))),
            ("poorer than 5", Some((CmpOp::Lt, 2, Some("poorer")))),
            ("other than 5", None),
            ("more", None),
        ];
        for (text, expect) in cases {
            let words: Vec<&str> = text.split(' ').collect();
            assert_eq!(comparison(&words), *expect, "{text}");
        }
    }

    #[test]
    fn words() {
        assert_eq!(agg_word("mean"), Some(AggFunc::Avg));
        assert_eq!(agg_word("combined"), Some(AggFunc::Sum));
        assert_eq!(agg_word("revenue"), None);
        assert_eq!(superlative("cheapest"), Some(false));
        assert_eq!(superlative("busiest"), Some(true));
        assert_eq!(
            implied_column("older"),
            Some((
                &[
                    "age",
                    "birth",
                    "born",
                    "dob",
                    "year",
                    "opened",
                    "open",
                    "launched",
                    "created",
                    "founded",
                    "established",
                    "start",
                    "started",
                    "since",
                    "date"
                ][..],
                true
            ))
        );
        assert_eq!(
            implied_column("fastest").map(|(c, _)| c),
            Some(&["speed", "velocity"][..])
        );
        assert!(is_filter_cue("whose") && !is_filter_cue("the"));
        assert!(is_head_word("show") && !is_head_word("revenue"));
        assert_eq!(synonyms("surname"), &["last", "name"]);
        assert!(synonyms("revenues").is_empty());
        assert!(is_location_word("country") && !is_location_word("name"));
        assert!(is_role_word("number") && !is_role_word("salary"));
        assert!(is_averaged_word("price") && !is_averaged_word("revenue"));
        assert!(is_category_word("type") && !is_category_word("age"));
    }
}
