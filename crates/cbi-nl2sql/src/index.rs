//! `SchemaIndex`: everything the linker and planner need from an augmented schema, precomputed
//! once per schema so a question costs hash lookups, not scans.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use cbi_schema::names::{
    abbreviation_readings, column_prefix, expand_abbreviation, is_abbreviation_of, singular,
    split_identifier,
};
use cbi_types::{AugmentedSchema, TableSchema, TermTarget, TypeClass};

use crate::joins::JoinGraph;
use crate::text::{lemma_of, stem};

/// A schema element a phrase of the question can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Element {
    Table(usize),
    Column(usize, usize),
    /// A business term of the semantic file.
    Term(usize),
}

/// A way of naming an element: its words (lemmas) and how strong a match on them is.
#[derive(Debug, Clone)]
pub struct Phrase {
    pub element: Element,
    pub words: Vec<String>,
    pub weight: f32,
}

/// Per-table facts the planner uses.
#[derive(Debug, Clone)]
pub struct TableInfo {
    /// Lemmas of the table name.
    pub words: Vec<String>,
    /// The column to show for a row of this table (a name or title), if any.
    pub display: Option<usize>,
    /// A second label column shown with the first (`last_name` beside `first_name`).
    pub display_extra: Option<usize>,
    /// Single-column primary key index, if any.
    pub pk: Option<usize>,
    pub row_count: u64,
    /// Temporal columns (dates, timestamps, or text holding dates).
    pub temporal: Vec<usize>,
    /// Column words (lemmas) per column.
    pub column_words: Vec<Vec<String>>,
    pub column_class: Vec<TypeClass>,
}

/// The precomputed index. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct SchemaIndex {
    pub aug: Arc<AugmentedSchema>,
    pub tables: Vec<TableInfo>,
    pub phrases: Vec<Phrase>,
    /// Sorted, space-joined lemmas of a phrase → phrase indexes, for order-insensitive lookup.
    by_key: HashMap<String, Vec<usize>>,
    /// The same keyed by the words' stems ("opening date" finds `opened_dt`).
    by_stem: HashMap<String, Vec<usize>>,
    /// Every lemma appearing in some phrase, by first letter, for typo-tolerant matching.
    vocabulary: HashMap<char, Vec<String>>,
    /// Longest phrase in words.
    pub max_phrase_words: usize,
    pub graph: JoinGraph,
    /// Text columns that store one label in several spellings ("Retail", "retail ",
    /// "RETAIL"), by `(table, column)`: grouping by them folds case and spaces.
    pub spelled_several_ways: HashSet<(usize, usize)>,
    /// Last words of multi-word column names → the columns, when they all share one name
    /// (see [`SchemaIndex::columns_by_head`]).
    by_head: HashMap<String, Vec<Element>>,
}

/// Words that never make a phrase on their own.
pub(crate) const GLUE: &[&str] = &[
    "of", "the", "a", "an", "'s", "for", "in", "on", "at", "by", "with", "and", "to",
];

impl SchemaIndex {
    /// Builds the index of a schema.
    pub fn new(aug: Arc<AugmentedSchema>) -> Self {
        let schema = &aug.schema;
        let mut phrases = Vec::new();
        let mut tables = Vec::with_capacity(schema.tables.len());
        let naming = Naming::new(schema);
        for (ti, t) in schema.tables.iter().enumerate() {
            let profile = aug.tables.get(ti);
            let words = words_of(&t.name);
            let all_column_words: Vec<Vec<String>> = t
                .columns
                .iter()
                .map(|c| naming.column_words(ti, &c.name))
                .collect();
            phrases.push(Phrase {
                element: Element::Table(ti),
                words: words.clone(),
                weight: 1.0,
            });
            // Without a common prefix: `tbl_orders`, `ref_template_types` → `template types`.
            if words.len() > 1 && is_prefix_word(&words[0]) {
                phrases.push(Phrase {
                    element: Element::Table(ti),
                    words: words[1..].to_vec(),
                    weight: 0.95,
                });
            }
            if let Some(p) = profile {
                for s in &p.synonyms {
                    let w = phrase_words(s);
                    if !w.is_empty() && w != words {
                        phrases.push(Phrase {
                            element: Element::Table(ti),
                            words: w,
                            weight: 0.95,
                        });
                    }
                }
            }
            // "car" for `cars_data`, "degree" for `Degree_Programs`: one word of a longer name.
            if words.len() >= 2 {
                for w in &words {
                    if !matches!(
                        w.as_str(),
                        "data"
                            | "info"
                            | "information"
                            | "list"
                            | "table"
                            | "record"
                            | "detail"
                            | "type"
                            | "map"
                            | "ref"
                            | "tbl"
                            | "log"
                            | "in"
                            | "of"
                            | "have"
                            | "be"
                    ) && w.len() > 2
                    {
                        phrases.push(Phrase {
                            element: Element::Table(ti),
                            words: vec![w.clone()],
                            weight: 0.7,
                        });
                    }
                }
            }
            // "singer names" → the table's display column, "singer ids" → its key.
            let display = display_column(t, &all_column_words);
            if let Some(d) = display {
                let mut w = words.clone();
                w.push("name".into());
                phrases.push(Phrase {
                    element: Element::Column(ti, d),
                    words: w,
                    weight: 0.97,
                });
            }
            if let [pk] = t.primary_key.as_slice() {
                if let Some(pi) = t.column_index(pk) {
                    let mut w = words.clone();
                    w.push("id".into());
                    phrases.push(Phrase {
                        element: Element::Column(ti, pi),
                        words: w,
                        weight: 0.97,
                    });
                }
            }
            let mut column_words = Vec::with_capacity(t.columns.len());
            let mut column_class = Vec::with_capacity(t.columns.len());
            for (ci, c) in t.columns.iter().enumerate() {
                let cw = all_column_words[ci].clone();
                column_class.push(c.type_class());
                phrases.push(Phrase {
                    element: Element::Column(ti, ci),
                    words: cw.clone(),
                    weight: 1.0,
                });
                // The other readings of an ambiguous abbreviation (`exp_close_dt`: expected,
                // expiry, expense close date), each a little weaker.
                for alt in naming.other_readings(ti, &c.name) {
                    phrases.push(Phrase {
                        element: Element::Column(ti, ci),
                        words: alt,
                        weight: 0.9,
                    });
                }
                // `singer_name` in `singer` is also just "name"; `song_release_year` → "release year".
                if cw.len() > 1 && words.len() < cw.len() && cw[..words.len()] == words[..] {
                    phrases.push(Phrase {
                        element: Element::Column(ti, ci),
                        words: cw[words.len()..].to_vec(),
                        weight: 0.9,
                    });
                }
                // "singer name" for `singer.Name`.
                if !cw.starts_with(&words) {
                    let mut tw = words.clone();
                    tw.extend(cw.iter().cloned());
                    phrases.push(Phrase {
                        element: Element::Column(ti, ci),
                        words: tw,
                        weight: 0.98,
                    });
                }
                // "role" for `role_code`, "email" for `email_address`, "hire" for `HireDate`,
                // "deliver" for `delivered_at`, "fragile" for `fragile_yn`.
                if cw.len() == 2
                    && matches!(
                        cw[1].as_str(),
                        "code"
                            | "address"
                            | "number"
                            | "text"
                            | "id"
                            | "value"
                            | "amount"
                            | "date"
                            | "at"
                            | "on"
                            | "timestamp"
                            | "time"
                            | "flag"
                    )
                    && cw[0].len() > 2
                {
                    phrases.push(Phrase {
                        element: Element::Column(ti, ci),
                        words: vec![cw[0].clone()],
                        weight: 0.85,
                    });
                }
                // "start date" for `started_at`, "log time" for `logged_ts`: a moment is a date.
                if cw.len() >= 2
                    && matches!(
                        cw.last().map(String::as_str),
                        Some("at" | "on" | "timestamp" | "time")
                    )
                {
                    let mut w = cw[..cw.len() - 1].to_vec();
                    w.push("date".into());
                    phrases.push(Phrase {
                        element: Element::Column(ti, ci),
                        words: w,
                        weight: 0.95,
                    });
                }
                // "weight" for `weight_kg`, "declared value" for `declared_value_usd`.
                if cw.len() >= 2
                    && cw
                        .last()
                        .is_some_and(|w| crate::lexicon::UNIT_WORDS.contains(&w.as_str()))
                {
                    phrases.push(Phrase {
                        element: Element::Column(ti, ci),
                        words: cw[..cw.len() - 1].to_vec(),
                        weight: 0.95,
                    });
                }
                // "official" for `IsOfficial`, "active" for `is_active`.
                if cw.len() >= 2 && matches!(cw[0].as_str(), "be" | "has" | "have") {
                    phrases.push(Phrase {
                        element: Element::Column(ti, ci),
                        words: cw[1..].to_vec(),
                        weight: 0.9,
                    });
                }
                // Two words of a longer name: "release year" for `Song_release_year`.
                if cw.len() >= 3 {
                    for skip in 0..cw.len() {
                        let sub: Vec<String> = cw
                            .iter()
                            .enumerate()
                            .filter(|(k, _)| *k != skip)
                            .map(|(_, w)| w.clone())
                            .collect();
                        if sub.iter().all(|w| w == "id") {
                            continue;
                        }
                        phrases.push(Phrase {
                            element: Element::Column(ti, ci),
                            words: sub,
                            weight: 0.8,
                        });
                    }
                }
                if let Some(p) = profile.and_then(|p| p.columns.get(ci)) {
                    // A short description is one more way to name the column ("money given
                    // back" for `refund_amount`), weaker than its name and synonyms.
                    let dw = phrase_words(&p.description);
                    if (2..=4).contains(&dw.len()) && dw != cw {
                        phrases.push(Phrase {
                            element: Element::Column(ti, ci),
                            words: dw,
                            weight: 0.75,
                        });
                    }
                    for s in &p.synonyms {
                        let w = phrase_words(s);
                        if !w.is_empty() && w != cw {
                            phrases.push(Phrase {
                                element: Element::Column(ti, ci),
                                words: w,
                                weight: 0.95,
                            });
                        }
                    }
                }
                column_words.push(cw);
            }
            // Text holding dates is temporal whatever it is called (`created_at`, `sess_start_ts`);
            // without a profile to show the values, only a name that says so counts.
            let mut temporal: Vec<usize> = t
                .columns
                .iter()
                .enumerate()
                .filter(|(ci, c)| {
                    c.type_class().is_temporal()
                        || (c.type_class() == TypeClass::Text
                            && match profile.and_then(|p| p.columns.get(*ci)) {
                                Some(p) => p
                                    .max
                                    .as_ref()
                                    .or(p.samples.first())
                                    .is_some_and(|v| looks_like_date(v)),
                                None => column_words[*ci]
                                    .iter()
                                    .any(|w| matches!(w.as_str(), "date" | "timestamp")),
                            })
                })
                .map(|(ci, _)| ci)
                .collect();
            // The table's own time first: what every row has (NOT NULL), then a start or an
            // event rather than an end, a deadline or an edit, then the catalog's order.
            temporal.sort_by_key(|&ci| {
                let ends = column_words[ci]
                    .iter()
                    .any(|w| crate::lexicon::LATER_DATE_WORDS.contains(&w.as_str()));
                (t.columns[ci].nullable, ends)
            });
            let display = display_column(t, &column_words);
            let display_extra = display.and_then(|d| {
                let first = column_words[d].first().map(String::as_str) == Some("first")
                    && column_words[d].last().map(String::as_str) == Some("name");
                first
                    .then(|| {
                        column_words
                            .iter()
                            .position(|w| w.len() == 2 && w[0] == "last" && w[1] == "name")
                    })
                    .flatten()
            });
            tables.push(TableInfo {
                display,
                display_extra,
                pk: match t.primary_key.as_slice() {
                    [pk] => t.column_index(pk),
                    _ => None,
                },
                row_count: t.row_count.unwrap_or(0),
                temporal,
                words,
                column_words,
                column_class,
            });
        }
        for (i, term) in aug.semantic.business_terms.iter().enumerate() {
            for name in std::iter::once(&term.name).chain(term.synonyms.iter()) {
                let w = phrase_words(name);
                if !w.is_empty() {
                    phrases.push(Phrase {
                        element: Element::Term(i),
                        words: w,
                        weight: 1.05,
                    });
                }
            }
            let _ = &term.target;
        }
        let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_stem: HashMap<String, Vec<usize>> = HashMap::new();
        let mut vocab: HashMap<char, Vec<String>> = HashMap::new();
        let mut max_phrase_words = 1;
        for (pi, p) in phrases.iter().enumerate() {
            by_key.entry(key_of(&p.words)).or_default().push(pi);
            let stems: Vec<String> = p.words.iter().map(|w| stem(w)).collect();
            by_stem.entry(key_of(&stems)).or_default().push(pi);
            max_phrase_words = max_phrase_words.max(p.words.len());
            for w in &p.words {
                if let Some(c) = w.chars().next() {
                    let list = vocab.entry(c).or_default();
                    if !list.contains(w) {
                        list.push(w.clone());
                    }
                }
            }
        }
        let graph = JoinGraph::new(&aug.schema);
        let spelled_several_ways = spelled_several_ways(&aug);
        let by_head = by_head(&tables);
        SchemaIndex {
            aug,
            tables,
            phrases,
            by_key,
            by_stem,
            vocabulary: vocab,
            max_phrase_words,
            graph,
            spelled_several_ways,
            by_head,
        }
    }

    /// The columns whose name ends with this word after a qualifier (`AnnualSalary` for
    /// "salary"), when they all have one name (the same column in several tables) and no
    /// table is named by the word; empty otherwise.
    pub fn columns_by_head(&self, lemma: &str) -> &[Element] {
        self.by_head.get(lemma).map_or(&[], Vec::as_slice)
    }

    /// Phrases whose words are exactly this set of lemmas (any order).
    pub fn lookup(&self, lemmas: &[&str]) -> &[usize] {
        let mut v: Vec<&str> = lemmas.to_vec();
        v.sort_unstable();
        let key = v.join(" ");
        self.by_key.get(&key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Phrases whose words have exactly these stems (any order): "opening date" for
    /// `opened_dt`, "closing date" for `closed_at`.
    pub fn lookup_stemmed(&self, lemmas: &[&str]) -> &[usize] {
        let stems: Vec<String> = lemmas.iter().map(|w| stem(w)).collect();
        self.by_stem
            .get(&key_of(&stems))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// A known word close to `word` (one typo away), if there is exactly one best.
    pub fn correct(&self, word: &str) -> Option<&str> {
        if word.len() < 5 {
            return None;
        }
        let first = word.chars().next()?;
        let mut best: Option<(&str, f64)> = None;
        for cand in self.vocabulary.get(&first).into_iter().flatten() {
            if cand.len() < 4 || cand.len().abs_diff(word.len()) > 2 {
                continue;
            }
            let d = strsim::damerau_levenshtein(word, cand);
            if d == 1 || (d == 2 && word.len() >= 8) {
                let score = 1.0 - d as f64 / word.len() as f64;
                if best.is_none_or(|(_, s)| score > s) {
                    best = Some((cand.as_str(), score));
                }
            }
        }
        best.map(|(w, _)| w)
    }

    pub fn table(&self, ti: usize) -> &TableSchema {
        &self.aug.schema.tables[ti]
    }

    pub fn column_name(&self, ti: usize, ci: usize) -> &str {
        &self.aug.schema.tables[ti].columns[ci].name
    }

    /// Whether a word is part of any schema phrase.
    pub fn knows_word(&self, w: &str) -> bool {
        w.chars()
            .next()
            .and_then(|c| self.vocabulary.get(&c))
            .is_some_and(|l| l.iter().any(|x| x == w))
    }

    /// The term's target.
    pub fn term(&self, i: usize) -> &TermTarget {
        &self.aug.semantic.business_terms[i].target
    }
}

/// How a schema names things: each table's column prefix (`shp` of `shp_created_at`), so
/// column words leave it out and other tables' columns that carry it (`pcl_shp_id`) read as
/// the table's name.
struct Naming {
    /// Per table: its column prefix when that abbreviates its name, and its name's words
    /// (singular).
    tables: Vec<(Option<String>, Vec<String>)>,
    /// Prefix → the one table carrying it and the last word of that table's name (a prefix
    /// two tables share names neither).
    by_prefix: HashMap<String, Option<(usize, String)>>,
}

impl Naming {
    fn new(schema: &cbi_types::DatabaseSchema) -> Self {
        let tables = schema
            .tables
            .iter()
            .map(|t| {
                let cols: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
                let name: Vec<String> = split_identifier(&t.name)
                    .iter()
                    .map(|w| singular(w))
                    .collect();
                // Only a prefix that abbreviates the name (`shp`) is left out of column words:
                // `singer_name` in `singer` keeps its words (and is also just "name", below).
                let prefix = column_prefix(&t.name, &cols).filter(|p| !name.contains(p));
                (prefix, name)
            })
            .collect::<Vec<(Option<String>, Vec<String>)>>();
        let mut by_prefix: HashMap<String, Option<(usize, String)>> = HashMap::new();
        for (ti, (prefix, name)) in tables.iter().enumerate() {
            if let (Some(p), Some(last)) = (prefix, name.last()) {
                by_prefix
                    .entry(p.clone())
                    .and_modify(|e| *e = None)
                    .or_insert_with(|| Some((ti, last.clone())));
            }
        }
        Naming { tables, by_prefix }
    }

    /// The words of a column of table `ti` before abbreviations are expanded: its own prefix
    /// dropped (`shp_dest_country` → dest country), another table's prefix read as that table
    /// (`shp_origin_wh` → origin warehouse), and a short word that abbreviates a word of its own
    /// table's name read as that word (`cmp_nm` in `campaigns` → campaign nm).
    fn raw_words(&self, ti: usize, column: &str) -> Vec<String> {
        let (own_prefix, own_name) = &self.tables[ti];
        let mut words = split_identifier(column);
        if words.len() > 1 && own_prefix.as_deref() == Some(words[0].as_str()) {
            words.remove(0);
        }
        words
            .into_iter()
            .flat_map(|w| {
                if let Some(Some((tj, word))) = self.by_prefix.get(&w) {
                    if *tj != ti {
                        return vec![word.clone()];
                    }
                }
                let short = (2..=4).contains(&w.len())
                    && abbreviation_readings(&w).is_empty()
                    && !own_name.contains(&w);
                if short {
                    if let Some(full) = own_name.iter().find(|n| is_abbreviation_of(&w, n)) {
                        return vec![full.clone()];
                    }
                }
                self.compact(&w).unwrap_or_else(|| vec![w])
            })
            .collect()
    }

    /// A compact key or name (`stuid`, `custid`, `empno`, `deptcode`): a word ending in one of
    /// [`COMPACT_TAILS`] whose head is a table's word, an abbreviation of one, or a listed
    /// abbreviation, read as two words (`stu` read as the table's `student`).
    fn compact(&self, w: &str) -> Option<Vec<String>> {
        if !abbreviation_readings(w).is_empty() || w.len() < 4 {
            return None;
        }
        let tail = COMPACT_TAILS
            .iter()
            .find(|t| w.len() > t.len() + 1 && w.ends_with(*t))?;
        let head = &w[..w.len() - tail.len()];
        let table_words = || self.tables.iter().flat_map(|(_, name)| name.iter());
        if table_words().any(|n| n == w) {
            return None;
        }
        let head = if let Some(n) = table_words().find(|n| *n == head) {
            n.clone()
        } else if !abbreviation_readings(head).is_empty() {
            head.to_string()
        } else {
            table_words().find(|n| is_abbreviation_of(head, n))?.clone()
        };
        Some(vec![head, tail.to_string()])
    }

    /// Lemmas of a column's words, abbreviations expanded (their first reading).
    fn column_words(&self, ti: usize, column: &str) -> Vec<String> {
        expand(&self.raw_words(ti, column), |_, w| expand_abbreviation(w))
    }

    /// The column's words under each further reading of its ambiguous abbreviations.
    fn other_readings(&self, ti: usize, column: &str) -> Vec<Vec<String>> {
        let raw = self.raw_words(ti, column);
        let mut out = Vec::new();
        for (k, w) in raw.iter().enumerate() {
            for reading in abbreviation_readings(w).iter().skip(1) {
                out.push(expand(&raw, |at, x| {
                    if at == k {
                        reading
                    } else {
                        expand_abbreviation(x)
                    }
                }));
            }
        }
        out
    }
}

/// Lemmas of identifier words, the k-th replaced by `reading(k, word)` (a multi-word reading
/// gives several).
fn expand<'w>(words: &'w [String], reading: impl Fn(usize, &'w str) -> &'w str) -> Vec<String> {
    words
        .iter()
        .enumerate()
        .flat_map(|(k, w)| reading(k, w).split(' ').map(lemma_of).collect::<Vec<_>>())
        .collect()
}

/// The words a compact key or name ends with (`stuid`, `empno`, `deptcode`); see
/// [`Naming::compact`].
const COMPACT_TAILS: &[&str] = &["id", "no", "num", "code", "key"];

/// For [`SchemaIndex::columns_by_head`]: each last word of a multi-word column name that is no
/// role word and names no table, with its columns when they all have one name (an empty list
/// when different names end with it).
fn by_head(tables: &[TableInfo]) -> HashMap<String, Vec<Element>> {
    let mut heads: HashMap<String, (Vec<String>, Vec<Element>)> = HashMap::new();
    let mut mixed: HashSet<String> = HashSet::new();
    for (t, info) in tables.iter().enumerate() {
        for (c, words) in info.column_words.iter().enumerate() {
            let Some(last) = words.last().filter(|_| words.len() >= 2) else {
                continue;
            };
            let entry = heads
                .entry(last.clone())
                .or_insert_with(|| (words.clone(), Vec::new()));
            if entry.0 != *words {
                mixed.insert(last.clone());
            }
            entry.1.push(Element::Column(t, c));
        }
    }
    heads
        .into_iter()
        .filter(|(w, _)| {
            w.len() >= 3
                && !mixed.contains(w)
                && !crate::lexicon::is_role_word(w)
                && !tables.iter().any(|t| t.words.last() == Some(w))
        })
        .map(|(w, (_, els))| (w, els))
        .collect()
}

/// Columns where one normalised value is stored in several spellings that differ only in
/// case and surrounding spaces.
fn spelled_several_ways(aug: &AugmentedSchema) -> HashSet<(usize, usize)> {
    let mut out = HashSet::new();
    for (_, hits) in aug.value_index.iter() {
        for (k, a) in hits.iter().enumerate() {
            let same = hits[k + 1..].iter().any(|b| {
                b.table == a.table
                    && b.column == a.column
                    && b.value != a.value
                    && b.value.trim().eq_ignore_ascii_case(a.value.trim())
            });
            if !same {
                continue;
            }
            let Some(t) = aug.schema.table_index(&a.table) else {
                continue;
            };
            if let Some(c) = aug.schema.tables[t]
                .columns
                .iter()
                .position(|c| c.name == a.column)
            {
                out.insert((t, c));
            }
        }
    }
    out
}

fn key_of(words: &[String]) -> String {
    let mut v: Vec<&str> = words.iter().map(String::as_str).collect();
    v.sort_unstable();
    v.join(" ")
}

/// Lemmas of an identifier's words, abbreviations expanded.
pub fn words_of(ident: &str) -> Vec<String> {
    split_identifier(ident)
        .iter()
        .flat_map(|w| {
            expand_abbreviation(w)
                .split(' ')
                .map(lemma_of)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Lemmas of a free-text phrase (a synonym), glue words dropped.
fn phrase_words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .map(lemma_of)
        .filter(|w| !GLUE.contains(&w.as_str()))
        .collect()
}

fn is_prefix_word(w: &str) -> bool {
    matches!(
        w,
        "tbl" | "ref" | "dim" | "fact" | "fct" | "stg" | "lu" | "lkp" | "t" | "tb" | "v" | "vw"
    )
}

fn looks_like_date(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() >= 10 && b[4] == b'-' && b[7] == b'-' && b[..4].iter().all(u8::is_ascii_digit)
}

/// The column that best names a row: `name`, `title`, `<table>_name`, `first_name`, or the first
/// text column that is not an id/code.
fn display_column(t: &TableSchema, words: &[Vec<String>]) -> Option<usize> {
    let table_words = words_of(&t.name);
    let score = |ci: usize| -> i32 {
        let w = &words[ci];
        let text = t.columns[ci].type_class() == TypeClass::Text;
        let last = w.last().map(String::as_str).unwrap_or("");
        let own = !table_words.is_empty() && *w == table_words;
        match (w.len(), last) {
            _ if own && text => 75,
            (1, "name") => 100,
            (1, "title") => 95,
            (_, "name") if w.first().is_some_and(|f| f == "first" || f == "full") => 85,
            (_, "name") if w.first().is_some_and(|f| f == "last") => 60,
            (_, "name") => 90,
            (_, "title") => 80,
            (_, "fname") => 70,
            _ if text && !matches!(last, "id" | "code" | "key" | "no" | "number") => 10,
            _ => 0,
        }
    };
    (0..t.columns.len())
        .map(|ci| (score(ci), ci))
        .filter(|(s, _)| *s >= 60)
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
        .map(|(_, ci)| ci)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{index, typed};

    /// The elements a phrase (lemmas, any order) names, as `table.column` or `table`.
    fn named(idx: &SchemaIndex, words: &[&str]) -> Vec<String> {
        let mut out: Vec<String> = idx
            .lookup(words)
            .iter()
            .map(|&pi| match idx.phrases[pi].element {
                Element::Table(t) => idx.table(t).name.clone(),
                Element::Column(t, c) => format!("{}.{}", idx.table(t).name, idx.column_name(t, c)),
                Element::Term(i) => format!("term {i}"),
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    fn shipping() -> SchemaIndex {
        index(
            vec![
                typed(
                    "warehouses",
                    &["wh_id text pk", "wh_name text!", "wh_opened_dt date"],
                ),
                typed(
                    "shipments",
                    &[
                        "shp_id integer pk",
                        "shp_origin_wh text",
                        "shp_dest_country text",
                        "shp_promised_dt date",
                        "shp_created_at timestamp!",
                        "shp_weight_kg real",
                    ],
                ),
                typed(
                    "parcels",
                    &[
                        "pcl_id integer pk",
                        "pcl_shp_id integer",
                        "pcl_fragile_yn text",
                    ],
                ),
                typed(
                    "campaigns",
                    &[
                        "cmp_id integer pk",
                        "cmp_nm text",
                        "exp_close_dt date",
                        "rgn_cd text",
                    ],
                ),
            ],
            &[],
        )
    }

    #[test]
    fn prefixes_and_abbreviations_become_words() {
        let idx = shipping();
        for (words, expect) in [
            // The column's own prefix is left out, the abbreviation read.
            (
                &["destination", "country"][..],
                "shipments.shp_dest_country",
            ),
            // Another table's prefix reads as that table.
            (&["origin", "warehouse"], "shipments.shp_origin_wh"),
            (&["shipment", "id"], "parcels.pcl_shp_id"),
            // A short word abbreviating its own table's name.
            (&["campaign", "name"], "campaigns.cmp_nm"),
            // Every reading of an ambiguous abbreviation.
            (&["expected", "close", "date"], "campaigns.exp_close_dt"),
            (&["expiry", "close", "date"], "campaigns.exp_close_dt"),
            // A trailing unit, a flag suffix and a code suffix are not needed.
            (&["weight"], "shipments.shp_weight_kg"),
            (&["fragile"], "parcels.pcl_fragile_yn"),
            (&["region"], "campaigns.rgn_cd"),
            // A moment's suffix reads as "date".
            (&["created", "date"], "shipments.shp_created_at"),
        ] {
            assert!(
                named(&idx, words).contains(&expect.to_string()),
                "{words:?} → {:?}",
                named(&idx, words)
            );
        }
        // The display column of an abbreviated table is its name.
        let t = idx.aug.schema.table_index("campaigns").expect("table");
        assert_eq!(idx.tables[t].display, idx.table(t).column_index("cmp_nm"));
    }

    #[test]
    fn verb_forms_meet_by_stem() {
        let idx = shipping();
        let hits: Vec<String> = idx
            .lookup_stemmed(&["opening", "date"])
            .iter()
            .map(|&pi| format!("{:?}", idx.phrases[pi].element))
            .collect();
        let t = idx.aug.schema.table_index("warehouses").expect("table");
        let c = idx.table(t).column_index("wh_opened_dt").expect("column");
        assert!(
            hits.contains(&format!("{:?}", Element::Column(t, c))),
            "{hits:?}"
        );
    }

    #[test]
    fn a_tables_own_moment_comes_first() {
        let idx = shipping();
        let t = idx.aug.schema.table_index("shipments").expect("table");
        let first = idx.tables[t].temporal.first().copied();
        // NOT NULL creation stamp before the nullable promise date, though it comes later.
        assert_eq!(first, idx.table(t).column_index("shp_created_at"));
    }
}
