//! Drafting a semantic file from a database: what `cbi semantic init` writes for a person to
//! review.
//!
//! The draft says what the catalog and a look at the data suggest, in the semantic file's own
//! terms, so reviewing it is editing, not writing: a description for every table and column
//! (readable names, the role a column plays, its values or range), synonyms from the lexicon
//! and from expanded abbreviations, measures for numeric columns that hold amounts, filters for
//! yes/no flags, and the joins cbi will use (declared and inferred) as comments. The values of
//! a state or type column are listed in its description, not made terms: the value index
//! already reads "past due invoices", and reads "lost or returned" as one condition, which
//! a term per value would split. Each of
//! these is one small rule below, with its own tests; nothing here runs a query — the
//! [`SchemaIndex`] of a profiled [`cbi_types::AugmentedSchema`] holds all it needs.

use std::collections::BTreeMap;

use cbi_schema::names::{
    column_prefix, expand_abbreviation, plural, readable_name, singular, split_identifier,
};
use cbi_types::{
    BusinessTerm, SemanticColumn, SemanticModel, SemanticTable, TermTarget, TypeClass,
};

use crate::index::SchemaIndex;
use crate::lexicon;

/// A drafted semantic file: the model, and comment lines for its head (what was drafted from
/// what, the joins, what to review).
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub model: SemanticModel,
    pub header: Vec<String>,
}

/// The part a column plays, as far as names, types and values tell.
#[derive(Debug, Clone, PartialEq)]
pub enum Role {
    /// Its table's own identifier.
    Key,
    /// A reference to another table's row (declared or inferred foreign key).
    Reference { table: String, column: String },
    /// Yes/no: a boolean, or 0/1 integers under a name like `is_test`.
    Flag,
    /// A date or a moment.
    Time,
    /// A label that sorts rows into a few kinds; `values` are all of them when all are known.
    Category { values: Vec<String>, complete: bool },
    /// A number that adds up (an amount, a quantity): `averaged` when it is a rate, a price, a
    /// score — a number one averages rather than sums.
    Measure { averaged: bool },
    /// The name or title shown for a row.
    Label,
    /// Anything else (free text, codes, numbers that are not amounts).
    Other,
}

/// Most values a category may have for the draft to list them all.
const LISTED_VALUES: usize = 12;
/// Words of a numeric column that make it an identifier or a code, not an amount.
const NOT_AMOUNT_WORDS: &[&str] = &[
    "id",
    "code",
    "number",
    "no",
    "num",
    "zip",
    "postal",
    "phone",
    "year",
    "month",
    "week",
    "day",
    "hour",
    "version",
    "rank",
    "order",
    "position",
    "sequence",
    "seq",
    "lat",
    "latitude",
    "lng",
    "lon",
    "longitude",
];
/// Words of a numeric column that make it a quantity one adds up (besides money words).
const QUANTITY_WORDS: &[&str] = &[
    "quantity",
    "qty",
    "unit",
    "units",
    "count",
    "seat",
    "seats",
    "hour",
    "hours",
    "minute",
    "minutes",
    "weight",
    "kg",
    "distance",
    "km",
    "mile",
    "miles",
    "volume",
    "click",
    "clicks",
    "impression",
    "impressions",
    "visit",
    "visits",
    "view",
    "views",
    "session",
    "sessions",
    "conversion",
    "conversions",
    "piece",
    "pieces",
    "item",
    "items",
    "tax",
    "discount",
    "bonus",
];
/// Participles the lexicon reads as nouns ("paid" → salary): not names of a column's values.
const IRREGULAR_PARTICIPLES: &[&str] = &[
    "paid", "born", "sold", "made", "bought", "spent", "won", "lost",
];

fn is_participle(w: &str) -> bool {
    w.ends_with("ed") || IRREGULAR_PARTICIPLES.contains(&w)
}

/// One-word names that only say what kind of value a column holds.
const GENERIC_WORDS: &[&str] = &[
    "name",
    "id",
    "code",
    "status",
    "type",
    "date",
    "number",
    "key",
    "no",
    "num",
    "flag",
    "text",
    "description",
    "time",
    "value",
];

/// A word of a flag's name that only says it is a flag ("is", "has", "yn").
fn is_flag_word(w: &str) -> bool {
    w == "is" || lexicon::FLAG_FIRST_WORDS.contains(&w) || lexicon::FLAG_LAST_WORDS.contains(&w)
}

/// Nouns without a plural ("staff" for employees).
const MASS_NOUNS: &[&str] = &[
    "staff",
    "personnel",
    "equipment",
    "inventory",
    "stock",
    "freight",
];
/// Last words of a time column's name that say it is a moment, before which stands the event
/// ("created_at" → "created").
const MOMENT_WORDS: &[&str] = &["at", "on", "date", "dt", "ts", "time", "timestamp", "day"];

/// Drafts the semantic file of an indexed (and preferably profiled) schema.
pub fn draft_semantic(idx: &SchemaIndex) -> Draft {
    let schema = &idx.aug.schema;
    let mut model = SemanticModel::default();
    for (t, table) in schema.tables.iter().enumerate() {
        let mut columns = BTreeMap::new();
        for (c, col) in table.columns.iter().enumerate() {
            let role = role(idx, t, c);
            let entry = SemanticColumn {
                description: Some(column_description(idx, t, c, &role)),
                synonyms: column_synonyms(&table.name, &col.name, &column_phrase(table, c), &role),
            };
            columns.insert(col.name.clone(), entry);
        }
        model.tables.insert(
            table.name.clone(),
            SemanticTable {
                description: Some(table_description(idx, t)),
                synonyms: table_synonyms(&table.name),
                columns,
            },
        );
    }
    model.business_terms.extend(measure_terms(idx));
    model.business_terms.extend(flag_terms(idx));
    dedup_terms(&mut model.business_terms);
    Draft {
        header: header(idx),
        model,
    }
}

/// What column `c` of table `t` is for.
pub fn role(idx: &SchemaIndex, t: usize, c: usize) -> Role {
    let schema = &idx.aug.schema;
    let table = &schema.tables[t];
    let name = &table.columns[c].name;
    let info = &idx.tables[t];
    let words = &info.column_words[c];
    let class = info.column_class[c];
    let profile = idx.aug.tables.get(t).and_then(|p| p.columns.get(c));
    if info.pk == Some(c) {
        return Role::Key;
    }
    if let Some(r) = schema.relationships.iter().find(|r| {
        r.from_table.eq_ignore_ascii_case(&table.name)
            && r.from_columns.len() == 1
            && r.from_columns[0].eq_ignore_ascii_case(name)
            && r.to_columns.len() == 1
    }) {
        return Role::Reference {
            table: r.to_table.clone(),
            column: r.to_columns[0].clone(),
        };
    }
    let values: Vec<&str> = profile
        .map(|p| p.samples.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let distinct = profile.and_then(|p| p.distinct_count);
    let zero_one = !values.is_empty() && values.iter().all(|v| matches!(*v, "0" | "1"));
    let flag_name = lexicon::is_flag_name(words);
    if class == TypeClass::Boolean
        || (class == TypeClass::Integer && flag_name && (zero_one || profile.is_none()))
        || (class == TypeClass::Text
            && distinct.is_some_and(|d| d <= 2)
            && yes_value(&values).is_some())
    {
        return Role::Flag;
    }
    if info.temporal.contains(&c) {
        return Role::Time;
    }
    if info.display == Some(c) {
        return Role::Label;
    }
    let numeric = matches!(
        class,
        TypeClass::Integer | TypeClass::Decimal | TypeClass::Float
    );
    if numeric {
        let last = words
            .iter()
            .rev()
            .find(|w| !lexicon::UNIT_WORDS.contains(&w.as_str()))
            .map_or("", String::as_str);
        if words.iter().any(|w| NOT_AMOUNT_WORDS.contains(&w.as_str())) {
            return Role::Other;
        }
        if lexicon::is_averaged_word(last) {
            return Role::Measure { averaged: true };
        }
        let amount = words.iter().any(|w| {
            lexicon::MONEY_WORDS.contains(&w.as_str()) || QUANTITY_WORDS.contains(&w.as_str())
        });
        // A number with many different values is an amount of something even when its name
        // does not say what (`mrr`, `bytes`); one with a handful is a code or a level.
        let varied = distinct.is_some_and(|d| d > 20);
        if amount || (class != TypeClass::Integer && varied) {
            return Role::Measure { averaged: false };
        }
        return Role::Other;
    }
    if class == TypeClass::Text
        && let Some(d) = distinct
        && d >= 2
        && d <= LISTED_VALUES as u64
        && !values.is_empty()
        && profile.is_some_and(|p| !p.unique)
    {
        let complete = values.len() as u64 >= d;
        return Role::Category {
            values: values.iter().map(|v| v.to_string()).collect(),
            complete,
        };
    }
    Role::Other
}

/// "Invoices: one row per invoice, dated by issued at; each belongs to an account. About 2,463
/// rows."
pub fn table_description(idx: &SchemaIndex, t: usize) -> String {
    let table = &idx.aug.schema.tables[t];
    let one = singular_phrase(&table.name);
    let mut s = format!(
        "{}: one row per {one}",
        capitalised(&readable_name(&table.name))
    );
    let dated: Vec<String> = (0..table.columns.len())
        .filter(|&c| role(idx, t, c) == Role::Time)
        .map(|c| column_phrase(table, c))
        .take(2)
        .collect();
    if !dated.is_empty() {
        s.push_str(&format!(", dated by {}", dated.join(" and ")));
    }
    let mut parents: Vec<String> = Vec::new();
    for c in 0..table.columns.len() {
        if let Role::Reference { table: to, .. } = role(idx, t, c) {
            let p = singular_phrase(&to);
            if !parents.contains(&p) && !to.eq_ignore_ascii_case(&table.name) {
                parents.push(p);
            }
        }
    }
    if !parents.is_empty() {
        s.push_str(&format!("; each belongs to {}", and_list(&parents, "a")));
    }
    s.push('.');
    let rows = idx.tables[t].row_count;
    if rows > 0 {
        s.push_str(&format!(" About {} rows.", thousands(rows)));
    }
    s
}

/// Everyday words for the table's things the lexicon knows ("staff" for `employees`), and the
/// table's name written out when it is abbreviated (`cust_addr` → "customer addresses").
pub fn table_synonyms(name: &str) -> Vec<String> {
    let readable = readable_name(name);
    let plain = name.replace(['_', '-'], " ").to_lowercase();
    let mut out = Vec::new();
    if readable != plain {
        out.push(readable.clone());
    }
    let head = readable.rsplit(' ').next().unwrap_or("").to_string();
    for w in lexicon::words_meaning(&singular(&head)) {
        out.push(if MASS_NOUNS.contains(&w) {
            w.to_string()
        } else {
            plural(w)
        });
    }
    out.retain(|s| s != &plain);
    out.dedup();
    out
}

/// What a column holds, in words, from its role and what profiling saw.
pub fn column_description(idx: &SchemaIndex, t: usize, c: usize, role: &Role) -> String {
    let table = &idx.aug.schema.tables[t];
    let one = singular_phrase(&table.name);
    let readable = column_phrase(table, c);
    let profile = idx.aug.tables.get(t).and_then(|p| p.columns.get(c));
    let range = profile
        .and_then(|p| Some((p.min.as_deref()?, p.max.as_deref()?)))
        .filter(|(lo, hi)| lo != hi);
    match role {
        Role::Key => format!("Identifier of the {one}"),
        Role::Reference { table: to, column } => {
            format!(
                "The {} of the {one} (joins {to}.{column})",
                singular_phrase(to)
            )
        }
        Role::Flag => {
            let words: Vec<&str> = readable.split(' ').filter(|w| !is_flag_word(w)).collect();
            let values: Vec<&str> = profile
                .map(|p| p.samples.iter().map(String::as_str).collect())
                .unwrap_or_default();
            match yes_value(&values) {
                Some(yes) if idx.tables[t].column_class[c] == TypeClass::Text => {
                    let no = values
                        .iter()
                        .find(|v| **v != yes)
                        .copied()
                        .unwrap_or("other");
                    format!(
                        "Whether the {one} is {} ({yes} yes, {no} no)",
                        words.join(" ")
                    )
                }
                _ => format!("Whether the {one} is {} (1 yes, 0 no)", words.join(" ")),
            }
        }
        Role::Time => {
            let words: Vec<&str> = readable.split(' ').collect();
            let event = match words.split_last() {
                Some((last, rest)) if MOMENT_WORDS.contains(last) && !rest.is_empty() => {
                    Some(rest.join(" "))
                }
                _ => None,
            };
            let mut s = match event {
                Some(e) => format!("When the {one} was {e}"),
                None => capitalised(&readable),
            };
            if let Some((lo, hi)) = range {
                s.push_str(&format!(", from {} to {}", day(lo), day(hi)));
            }
            s
        }
        Role::Category { values, complete } => {
            let shown: Vec<String> = values.iter().map(|v| v.trim().to_string()).collect();
            if *complete {
                format!("{}: one of {}", capitalised(&readable), shown.join(", "))
            } else {
                format!("{}, e.g. {}", capitalised(&readable), shown.join(", "))
            }
        }
        Role::Measure { .. } | Role::Other => {
            // "Weight in kg" for `weight_kg`.
            let words: Vec<&str> = readable.split(' ').collect();
            let mut s = match words.split_last() {
                Some((unit, rest))
                    if !rest.is_empty()
                        && lexicon::UNIT_WORDS.contains(unit)
                        && rest.last() != Some(&"per") =>
                {
                    format!("{} in {unit}", capitalised(&rest.join(" ")))
                }
                _ => capitalised(&readable),
            };
            if let Some((lo, hi)) = range
                && matches!(role, Role::Measure { .. })
            {
                s.push_str(&format!(", from {lo} to {hi}"));
            }
            s
        }
        Role::Label => format!("{}; names the {one}", capitalised(&readable)),
    }
}

/// Other names of a column (`phrase` is [`column_phrase`]'s): its name in words, without its
/// table's name or a unit, the table it refers to, and the lexicon's everyday words for its
/// last word.
pub fn column_synonyms(table: &str, column: &str, phrase: &str, role: &Role) -> Vec<String> {
    let plain = column.replace(['_', '-'], " ").to_lowercase();
    let mut out = Vec::new();
    match role {
        Role::Key => return out,
        Role::Reference { table: to, .. } => {
            out.push(singular_phrase(to));
            return out;
        }
        _ => {}
    }
    out.push(phrase.to_string());
    let mut words: Vec<String> = phrase.split(' ').map(str::to_string).collect();
    // `invoice_total` in `invoices`: "total" (not "title" for `JobTitle` in `JobHistory`, which
    // would take "title" from every other table's title).
    let table_words: Vec<String> = readable_name(table).split(' ').map(singular).collect();
    if words.len() >= 2 && table_words == [singular(&words[0])] {
        words.remove(0);
        out.push(words.join(" "));
    }
    // `amount_usd`: "amount"; but `rate_per_kg` stays whole.
    if words.len() >= 2
        && words
            .last()
            .is_some_and(|w| lexicon::UNIT_WORDS.contains(&w.as_str()))
        && words[words.len() - 2] != "per"
    {
        words.pop();
        out.push(words.join(" "));
    }
    // A name's everyday words ("title" for a name) would take "job title" from the column
    // that holds it.
    if let Some(last) = words.last().filter(|_| !matches!(role, Role::Label)) {
        for w in lexicon::words_meaning(last)
            .into_iter()
            .filter(|w| !is_participle(w))
        {
            let mut other = words.clone();
            *other.last_mut().expect("not empty") = w.to_string();
            out.push(other.join(" "));
        }
    }
    let mut seen = Vec::new();
    out.retain(|s| {
        // One word that only says what kind of value it is ("name", "status") names nothing.
        let generic = !s.contains(' ') && GENERIC_WORDS.contains(&s.as_str());
        let keep = !s.is_empty() && !generic && s != &plain && !seen.contains(s);
        seen.push(s.clone());
        keep
    });
    out
}

/// "total invoice amount" = `SUM(invoices.amount)`; "average review rating" = `AVG(…)`.
pub fn measure_terms(idx: &SchemaIndex) -> Vec<BusinessTerm> {
    let mut out = Vec::new();
    for (t, table) in idx.aug.schema.tables.iter().enumerate() {
        if !plain_ident(&table.name) || table.schema.is_some() {
            continue;
        }
        let one = singular_phrase(&table.name);
        for (c, col) in table.columns.iter().enumerate() {
            let Role::Measure { averaged } = role(idx, t, c) else {
                continue;
            };
            if !plain_ident(&col.name) {
                continue;
            }
            let subject = measure_subject(&one, &column_phrase(table, c));
            let (name, func, verb) = if averaged {
                (format!("average {subject}"), "AVG", "Average")
            } else if subject == one {
                // `total_usd` of invoices: "invoice total".
                (format!("{one} total"), "SUM", "Sum")
            } else {
                (format!("total {subject}"), "SUM", "Sum")
            };
            out.push(BusinessTerm {
                name,
                synonyms: Vec::new(),
                description: Some(format!(
                    "{verb} of {}.{} over the rows asked about",
                    table.name, col.name
                )),
                target: TermTarget::Measure(format!("{func}({}.{})", table.name, col.name)),
            });
        }
    }
    out
}

/// What a measure of column `column` (readable) in a table of `one`s adds up: its words
/// without a unit or a "total", after the table's name unless they already say it
/// (`amount_usd` of invoices → "invoice amount"; `invoice_total` → "invoice").
fn measure_subject(one: &str, column: &str) -> String {
    let mut words: Vec<&str> = column
        .split(' ')
        .filter(|w| !matches!(*w, "total" | "sum"))
        .collect();
    if words.len() >= 2
        && words
            .last()
            .is_some_and(|w| lexicon::UNIT_WORDS.contains(w))
    {
        words.pop();
    }
    let own: Vec<&str> = one.split(' ').collect();
    if words
        .iter()
        .any(|w| own.contains(w) || own.contains(&singular(w).as_str()))
        || words.is_empty()
    {
        if words.is_empty() {
            one.to_string()
        } else {
            words.join(" ")
        }
    } else {
        format!("{one} {}", words.join(" "))
    }
}

/// "test accounts" = `accounts.is_test = 1`.
pub fn flag_terms(idx: &SchemaIndex) -> Vec<BusinessTerm> {
    let mut out = Vec::new();
    for (t, table) in idx.aug.schema.tables.iter().enumerate() {
        if !plain_ident(&table.name) || table.schema.is_some() {
            continue;
        }
        for (c, col) in table.columns.iter().enumerate() {
            if role(idx, t, c) != Role::Flag || !plain_ident(&col.name) {
                continue;
            }
            let words: Vec<String> = column_phrase(table, c)
                .split(' ')
                .filter(|w| !is_flag_word(w))
                .map(str::to_string)
                .collect();
            if words.is_empty() {
                continue;
            }
            let samples: Vec<&str> = idx
                .aug
                .tables
                .get(t)
                .and_then(|p| p.columns.get(c))
                .map(|p| p.samples.iter().map(String::as_str).collect())
                .unwrap_or_default();
            let condition = match idx.tables[t].column_class[c] {
                TypeClass::Boolean => format!("{}.{} = TRUE", table.name, col.name),
                TypeClass::Text => match yes_value(&samples) {
                    Some(yes) => format!(
                        "{}.{} = '{}'",
                        table.name,
                        col.name,
                        yes.replace('\'', "''")
                    ),
                    None => continue,
                },
                _ => format!("{}.{} = 1", table.name, col.name),
            };
            out.push(BusinessTerm {
                name: format!("{} {}", words.join(" "), plural_phrase(&table.name)),
                synonyms: Vec::new(),
                description: Some(format!(
                    "{} whose {} is set",
                    capitalised(&plural_phrase(&table.name)),
                    col.name
                )),
                target: TermTarget::Filter(condition),
            });
        }
    }
    out
}

/// Terms are looked up by name: of two with one name, the first stays.
fn dedup_terms(terms: &mut Vec<BusinessTerm>) {
    let mut seen = std::collections::HashSet::new();
    terms.retain(|t| seen.insert(t.name.to_lowercase()));
}

/// The comment lines atop the file: what it is, and the joins cbi uses.
fn header(idx: &SchemaIndex) -> Vec<String> {
    let schema = &idx.aug.schema;
    let mut out = vec![
        format!(
            "Semantic file of `{}`, drafted by `cbi semantic init` from its catalog and a look at its data.",
            schema.name
        ),
        "Review it: fix descriptions, delete wrong synonyms and terms, add the business's own words".into(),
        "(revenue, churn, active customer) as business_terms and checked questions as verified_queries.".into(),
        "cbi reads it from the file beside a SQLite database (X.semantic.yaml) or from --semantic.".into(),
    ];
    if !schema.relationships.is_empty() {
        out.push(String::new());
        out.push("Joins cbi uses (inferred ones are guessed from names: check them):".into());
        for r in &schema.relationships {
            out.push(format!(
                "  {}.{} -> {}.{}{}",
                r.from_table,
                r.from_columns.join(","),
                r.to_table,
                r.to_columns.join(","),
                if r.inferred { "  (inferred)" } else { "" }
            ));
        }
    }
    out
}

/// A column's name in words: abbreviations written out, and the prefix its table's columns
/// share dropped (`shp_created_at` of shipments → "created at").
pub fn column_phrase(table: &cbi_types::TableSchema, c: usize) -> String {
    let readable = readable_name(&table.columns[c].name);
    let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    let Some(prefix) = column_prefix(&table.name, &names) else {
        return readable;
    };
    let words = split_identifier(&table.columns[c].name);
    if words.len() >= 2 && words[0] == prefix {
        words[1..]
            .iter()
            .map(|w| expand_abbreviation(w))
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        readable
    }
}

/// The value of a yes/no text column that means yes (`Y`, `true`, `yes`), if the values seen
/// are such a pair.
fn yes_value(values: &[&str]) -> Option<String> {
    yes_no(values).map(|(yes, _)| yes)
}

/// The values of a yes/no text column (`Y` and `N`, `true` and `false`, `yes` and `no`), as
/// stored, when the values seen are exactly such a pair (yes first).
pub(crate) fn yes_no(values: &[&str]) -> Option<(String, String)> {
    const YES: &[&str] = &["y", "yes", "t", "true"];
    const NO: &[&str] = &["n", "no", "f", "false"];
    let is = |set: &[&str], v: &str| set.contains(&v.trim().to_ascii_lowercase().as_str());
    match values {
        [a, b] if is(YES, a) && is(NO, b) => Some((a.to_string(), b.to_string())),
        [a, b] if is(NO, a) && is(YES, b) => Some((b.to_string(), a.to_string())),
        _ => None,
    }
}

/// A table's name as one of its rows: `order_items` → "order item".
fn singular_phrase(table: &str) -> String {
    let readable = readable_name(table);
    let mut words: Vec<String> = readable.split(' ').map(str::to_string).collect();
    if let Some(last) = words.last_mut() {
        *last = singular(last).to_string();
    }
    words.join(" ")
}

/// A table's name as its rows: `order_item` → "order items".
fn plural_phrase(table: &str) -> String {
    let one = singular_phrase(table);
    let mut words: Vec<String> = one.split(' ').map(str::to_string).collect();
    if let Some(last) = words.last_mut() {
        *last = plural(last);
    }
    words.join(" ")
}

/// Identifiers a semantic file may write unquoted as `table.column`.
fn plain_ident(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn and_list(items: &[String], article: &str) -> String {
    let with: Vec<String> = items
        .iter()
        .map(|i| {
            let a = if article == "a" && i.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                article
            };
            format!("{a} {i}")
        })
        .collect();
    match with.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => with.join(""),
    }
}

/// The day of a date or timestamp value (`2024-01-05 10:00:00` → `2024-01-05`).
fn day(v: &str) -> &str {
    if v.len() > 10 && v.as_bytes()[4] == b'-' && v.is_char_boundary(10) {
        &v[..10]
    } else {
        v
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use cbi_types::{AugmentedSchema, ColumnProfile, TableProfile};

    use super::*;
    use crate::fixtures::{keyed_index, typed};

    /// `(table, column, samples, distinct count, min, max)`; empty min and max when unknown.
    type Profiled = (
        &'static str,
        &'static str,
        &'static [&'static str],
        u64,
        &'static str,
        &'static str,
    );

    /// A billing schema in three naming styles, profiled: `(table, column)` → (samples,
    /// distinct count, min, max).
    fn billing() -> SchemaIndex {
        let base = keyed_index(
            vec![
                typed(
                    "accounts",
                    &[
                        "account_id integer pk",
                        "name text",
                        "is_test integer",
                        "created_at timestamp",
                        "segment text",
                    ],
                ),
                typed(
                    "invoices",
                    &[
                        "invoice_id integer pk",
                        "account_id integer",
                        "amount_usd real",
                        "tax real",
                        "status text",
                        "issued_at date",
                        "invoice_number integer",
                    ],
                ),
                typed(
                    "carriers",
                    &[
                        "car_id integer pk",
                        "car_name text",
                        "car_preferred_yn text",
                        "car_mode text",
                    ],
                ),
                typed(
                    "shipments",
                    &[
                        "shp_id integer pk",
                        "shp_origin_wh text",
                        "weight_kg real",
                        "rating real",
                    ],
                ),
            ],
            &[("invoices.account_id", "accounts.account_id")],
            &[],
        );
        let profiles: &[Profiled] = &[
            ("accounts", "is_test", &["0", "1"], 2, "0", "1"),
            (
                "accounts",
                "segment",
                &["SMB", "Enterprise", "Mid-Market"],
                3,
                "",
                "",
            ),
            (
                "accounts",
                "created_at",
                &[],
                400,
                "2023-01-02 10:00:00",
                "2025-06-30 09:00:00",
            ),
            ("invoices", "amount_usd", &[], 900, "0", "12000"),
            (
                "invoices",
                "status",
                &["paid", "open", "past_due"],
                3,
                "",
                "",
            ),
            ("invoices", "invoice_number", &[], 2000, "1", "2000"),
            ("carriers", "car_preferred_yn", &["N", "Y"], 2, "", ""),
            ("carriers", "car_mode", &["AIR", "GROUND"], 2, "", ""),
        ];
        let mut aug: AugmentedSchema = (*base.aug).clone();
        aug.tables = aug
            .schema
            .tables
            .iter()
            .map(|t| TableProfile {
                name: t.name.clone(),
                columns: t
                    .columns
                    .iter()
                    .map(|c| {
                        let mut p = ColumnProfile {
                            name: c.name.clone(),
                            ..ColumnProfile::default()
                        };
                        if let Some((_, _, samples, d, lo, hi)) = profiles
                            .iter()
                            .find(|(pt, pc, ..)| *pt == t.name && *pc == c.name)
                        {
                            p.samples = samples.iter().map(|s| s.to_string()).collect();
                            p.distinct_count = Some(*d);
                            if !lo.is_empty() {
                                p.min = Some(lo.to_string());
                                p.max = Some(hi.to_string());
                            }
                        }
                        p
                    })
                    .collect(),
                ..TableProfile::default()
            })
            .collect();
        SchemaIndex::new(Arc::new(aug))
    }

    fn at(idx: &SchemaIndex, table: &str, column: &str) -> (usize, usize) {
        let t = idx.aug.schema.table_index(table).unwrap();
        let c = idx.aug.schema.tables[t]
            .columns
            .iter()
            .position(|c| c.name == column)
            .unwrap();
        (t, c)
    }

    #[test]
    fn roles() {
        let idx = billing();
        let check = |table: &str, column: &str, expect: &str| {
            let (t, c) = at(&idx, table, column);
            let got = format!("{:?}", role(&idx, t, c));
            assert!(got.starts_with(expect), "{table}.{column}: {got}");
        };
        check("accounts", "account_id", "Key");
        check("invoices", "account_id", "Reference { table: \"accounts\"");
        check("accounts", "is_test", "Flag");
        check("accounts", "created_at", "Time");
        check("invoices", "issued_at", "Time");
        check(
            "accounts",
            "segment",
            "Category { values: [\"SMB\", \"Enterprise\", \"Mid-Market\"], complete: true",
        );
        check("invoices", "amount_usd", "Measure { averaged: false");
        check("invoices", "tax", "Measure { averaged: false");
        check("shipments", "weight_kg", "Measure { averaged: false");
        check("shipments", "rating", "Measure { averaged: true");
        // A number that names rows, however many values it has, adds up to nothing.
        check("invoices", "invoice_number", "Other");
        check("accounts", "name", "Label");
        check("carriers", "car_preferred_yn", "Flag");
        check("carriers", "car_mode", "Category");
    }

    #[test]
    fn descriptions() {
        let idx = billing();
        let t = idx.aug.schema.table_index("invoices").unwrap();
        assert_eq!(
            table_description(&idx, t),
            "Invoices: one row per invoice, dated by issued at; each belongs to an account."
        );
        let check = |table: &str, column: &str, expect: &str| {
            let (t, c) = at(&idx, table, column);
            assert_eq!(column_description(&idx, t, c, &role(&idx, t, c)), expect);
        };
        check(
            "accounts",
            "created_at",
            "When the account was created, from 2023-01-02 to 2025-06-30",
        );
        check(
            "accounts",
            "is_test",
            "Whether the account is test (1 yes, 0 no)",
        );
        check(
            "accounts",
            "segment",
            "Segment: one of SMB, Enterprise, Mid-Market",
        );
        check(
            "invoices",
            "account_id",
            "The account of the invoice (joins accounts.account_id)",
        );
        check("invoices", "amount_usd", "Amount in usd, from 0 to 12000");
        check("accounts", "account_id", "Identifier of the account");
        check(
            "carriers",
            "car_preferred_yn",
            "Whether the carrier is preferred (Y yes, N no)",
        );
        check("carriers", "car_mode", "Mode: one of AIR, GROUND");
    }

    #[test]
    fn synonyms() {
        let check = |table: &str, column: &str, phrase: &str, role: Role, expect: &[&str]| {
            assert_eq!(
                column_synonyms(table, column, phrase, &role),
                expect,
                "{table}.{column}"
            );
        };
        let m = Role::Measure { averaged: false };
        check(
            "invoices",
            "amount_usd",
            "amount usd",
            m.clone(),
            &["amount"],
        );
        check(
            "shipments",
            "shp_origin_wh",
            "origin warehouse",
            Role::Other,
            &["origin warehouse"],
        );
        check(
            "routes",
            "rte_rate_per_kg",
            "rate per kg",
            m.clone(),
            &["rate per kg"],
        );
        check(
            "invoices",
            "invoice_total",
            "invoice total",
            m.clone(),
            &["total"],
        );
        check("employees", "salary", "salary", m.clone(), &["pay", "wage"]);
        check("accounts", "account_id", "account id", Role::Key, &[]);
        check(
            "invoices",
            "account_id",
            "account identifier",
            Role::Reference {
                table: "accounts".into(),
                column: "account_id".into(),
            },
            &["account"],
        );
        assert_eq!(table_synonyms("employees"), ["staff", "workers"]);
        assert_eq!(
            table_synonyms("cust_addr"),
            ["customer address", "locations"]
        );
        assert!(table_synonyms("invoices").is_empty());
    }

    #[test]
    fn terms() {
        let idx = billing();
        let show = |terms: Vec<BusinessTerm>| -> Vec<String> {
            terms
                .iter()
                .map(|t| format!("{} = {:?}", t.name, t.target))
                .collect()
        };
        assert_eq!(
            show(measure_terms(&idx)),
            [
                "total invoice amount = Measure(\"SUM(invoices.amount_usd)\")",
                "total invoice tax = Measure(\"SUM(invoices.tax)\")",
                "total shipment weight = Measure(\"SUM(shipments.weight_kg)\")",
                "average shipment rating = Measure(\"AVG(shipments.rating)\")",
            ]
        );
        assert_eq!(
            show(flag_terms(&idx)),
            [
                "test accounts = Filter(\"accounts.is_test = 1\")",
                "preferred carriers = Filter(\"carriers.car_preferred_yn = 'Y'\")",
            ]
        );
        assert_eq!(measure_subject("order", "order total"), "order");
        assert_eq!(
            measure_subject("order item", "unit price"),
            "order item unit price"
        );
    }

    #[test]
    fn the_draft_reads_back_and_matches_the_schema() {
        let idx = billing();
        let draft = draft_semantic(&idx);
        let text = cbi_schema::render_semantic(&draft.model, &draft.header);
        let origin = std::path::Path::new("billing.semantic.yaml");
        let back = cbi_schema::parse_semantic(&text, origin).unwrap();
        assert_eq!(back, draft.model);
        cbi_schema::check_semantic(&back, &idx.aug.schema, origin).unwrap();
        assert!(
            text.contains("invoices.account_id -> accounts.account_id"),
            "{text}"
        );
    }
}
