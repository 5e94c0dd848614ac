//! Words from identifiers: splitting `orderDate` and `order_date` into words, singular and plural
//! forms, expansion of common abbreviations, and readable names.
//!
//! Shared by the augmenter (descriptions, synonyms) and the question linker in `cbi-nl2sql`, so
//! both see identifiers the same way.

use std::collections::HashMap;
use std::sync::LazyLock;

/// Splits an identifier into lowercase words: `order_items` → `order items`, `OrderDate` →
/// `order date`, `customerID` → `customer id`, `Song_Name2` → `song name 2`.
pub fn split_identifier(ident: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = ident.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        let boundary = match prev {
            Some(p) if p.is_alphanumeric() => {
                (c.is_uppercase() && p.is_lowercase())
                    || (c.is_uppercase()
                        && p.is_uppercase()
                        && next.is_some_and(|n| n.is_lowercase()))
                    || (c.is_ascii_digit() != p.is_ascii_digit())
            }
            _ => false,
        };
        if boundary && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Expands a common abbreviation found in column names (`qty` → `quantity`), or returns the word.
/// A short form with several readings (`exp`: expected, expiry, expense) gives its first; see
/// [`abbreviation_readings`] for all of them.
pub fn expand_abbreviation(word: &str) -> &str {
    abbreviation_readings(word).first().copied().unwrap_or(word)
}

/// Every usual reading of an abbreviation, first the one [`expand_abbreviation`] gives; empty
/// for a word that is not one. The list is data (`names/abbreviations.txt`).
pub fn abbreviation_readings(word: &str) -> &'static [&'static str] {
    ABBREVIATIONS.get(word).map(Vec::as_slice).unwrap_or(&[])
}

static ABBREVIATIONS: LazyLock<HashMap<&'static str, Vec<&'static str>>> =
    LazyLock::new(|| parse_abbreviations(include_str!("names/abbreviations.txt")));

fn parse_abbreviations(text: &'static str) -> HashMap<&'static str, Vec<&'static str>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(short, long)| {
            let readings = long
                .split('|')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .collect();
            (short.trim(), readings)
        })
        .collect()
}

/// Whether `short` can be an abbreviation of `long` the way names abbreviate: it starts with
/// the same letter, is shorter, and its letters appear in `long` in order (`shp` → shipment,
/// `wh` → warehouse, `cmp` → campaign, `rte` → route).
pub fn is_abbreviation_of(short: &str, long: &str) -> bool {
    let (s, l) = (short.to_lowercase(), long.to_lowercase());
    if s.len() < 2 || s.len() >= l.len() || s.chars().next() != l.chars().next() {
        return false;
    }
    let mut rest = l.chars();
    s.chars().all(|c| rest.any(|x| x == c))
}

/// The word most of a table's columns start with when it stands for the table: `shp` in
/// `shipments(shp_id, shp_ref, shp_created_at, …)`, `wh` in `warehouses(wh_id, wh_name, …)`.
/// At least two columns and half of them must carry it, and it must be (an abbreviation of) a
/// word of the table's name, so `is_` flags or a shared `created_` never count.
pub fn column_prefix(table: &str, columns: &[&str]) -> Option<String> {
    let table_words: Vec<String> = split_identifier(table)
        .iter()
        .map(|w| singular(w))
        .collect();
    let mut counts: Vec<(String, usize)> = Vec::new();
    for c in columns {
        let words = split_identifier(c);
        // A one-word column (`id`) has no prefix to share.
        let [first, _, ..] = words.as_slice() else {
            continue;
        };
        match counts.iter_mut().find(|(w, _)| w == first) {
            Some((_, n)) => *n += 1,
            None => counts.push((first.clone(), 1)),
        }
    }
    let (word, n) = counts.into_iter().max_by_key(|(_, n)| *n)?;
    let stands_for_table = table_words
        .iter()
        .any(|t| *t == word || is_abbreviation_of(&word, t));
    (n >= 2 && n * 2 >= columns.len() && stands_for_table).then_some(word)
}

/// The singular of an English noun, good enough for table and column names.
pub fn singular(word: &str) -> String {
    let w = word.to_lowercase();
    const IRREGULAR: &[(&str, &str)] = &[
        ("people", "person"),
        ("men", "man"),
        ("women", "woman"),
        ("children", "child"),
        ("feet", "foot"),
        ("teeth", "tooth"),
        ("mice", "mouse"),
        ("geese", "goose"),
        ("data", "data"),
        ("media", "media"),
        ("series", "series"),
        ("species", "species"),
        ("news", "news"),
        ("criteria", "criterion"),
        ("indices", "index"),
        ("matrices", "matrix"),
        ("analyses", "analysis"),
        ("statuses", "status"),
        ("buses", "bus"),
        ("aircraft", "aircraft"),
        ("staff", "staff"),
        ("sheep", "sheep"),
        ("fish", "fish"),
        ("movies", "movie"),
        ("cookies", "cookie"),
        ("pies", "pie"),
        ("ties", "tie"),
        ("lies", "lie"),
        ("dies", "die"),
        ("shoes", "shoe"),
        ("toes", "toe"),
        ("canoes", "canoe"),
        ("heroes", "hero"),
        ("potatoes", "potato"),
        ("tomatoes", "tomato"),
        ("leaves", "leaf"),
        ("lives", "life"),
        ("wives", "wife"),
        ("knives", "knife"),
        ("wolves", "wolf"),
        ("halves", "half"),
        ("shelves", "shelf"),
        ("thieves", "thief"),
        ("courses", "course"),
        ("horses", "horse"),
        ("houses", "house"),
        ("purchases", "purchase"),
        ("releases", "release"),
        ("cases", "case"),
        ("bases", "base"),
        ("databases", "database"),
        ("licenses", "license"),
        ("expenses", "expense"),
        ("responses", "response"),
        ("phases", "phase"),
        ("clauses", "clause"),
        ("causes", "cause"),
        ("nurses", "nurse"),
        ("verses", "verse"),
        ("warehouses", "warehouse"),
        ("premises", "premise"),
        ("sales", "sale"),
        ("types", "type"),
        ("votes", "vote"),
        ("routes", "route"),
        ("dates", "date"),
        ("rates", "rate"),
        ("states", "state"),
        ("names", "name"),
        ("games", "game"),
        ("codes", "code"),
        ("roles", "role"),
        ("titles", "title"),
        ("vehicles", "vehicle"),
        ("articles", "article"),
        ("templates", "template"),
        ("employees", "employee"),
        ("attendees", "attendee"),
        ("degrees", "degree"),
        ("fees", "fee"),
        ("trees", "tree"),
        ("committees", "committee"),
        ("lenses", "lens"),
        ("gasses", "gas"),
        ("campuses", "campus"),
        ("viruses", "virus"),
        ("axes", "axis"),
        ("crises", "crisis"),
        ("theses", "thesis"),
        ("ids", "id"),
        ("pcs", "pc"),
        ("cds", "cd"),
        ("tvs", "tv"),
    ];
    if let Some((_, s)) = IRREGULAR.iter().find(|(p, _)| *p == w) {
        return (*s).to_string();
    }
    if w.len() <= 3 {
        return w;
    }
    if let Some(stem) = w.strip_suffix("ies") {
        return format!("{stem}y");
    }
    for suffix in ["sses", "shes", "ches", "xes", "zzes"] {
        if w.ends_with(suffix) {
            return w[..w.len() - 2].to_string();
        }
    }
    if w.ends_with("ss") || w.ends_with("us") || w.ends_with("is") || w.ends_with("ics") {
        return w;
    }
    if let Some(stem) = w.strip_suffix('s') {
        return stem.to_string();
    }
    w
}

/// The plural of an English noun, good enough for table and column names.
pub fn plural(word: &str) -> String {
    let w = word.to_lowercase();
    const IRREGULAR: &[(&str, &str)] = &[
        ("person", "people"),
        ("man", "men"),
        ("woman", "women"),
        ("child", "children"),
        ("foot", "feet"),
        ("mouse", "mice"),
        ("data", "data"),
        ("series", "series"),
        ("species", "species"),
        ("staff", "staff"),
        ("sheep", "sheep"),
        ("fish", "fish"),
        ("aircraft", "aircraft"),
        ("criterion", "criteria"),
        ("analysis", "analyses"),
        ("leaf", "leaves"),
        ("life", "lives"),
        ("wife", "wives"),
        ("knife", "knives"),
        ("half", "halves"),
        ("shelf", "shelves"),
        ("hero", "heroes"),
        ("potato", "potatoes"),
        ("tomato", "tomatoes"),
        ("axis", "axes"),
        ("crisis", "crises"),
        ("thesis", "theses"),
    ];
    if let Some((_, p)) = IRREGULAR.iter().find(|(s, _)| *s == w) {
        return (*p).to_string();
    }
    if w.ends_with('y')
        && !w.ends_with("ay")
        && !w.ends_with("ey")
        && !w.ends_with("oy")
        && !w.ends_with("uy")
    {
        return format!("{}ies", &w[..w.len() - 1]);
    }
    if w.ends_with('s')
        || w.ends_with('x')
        || w.ends_with('z')
        || w.ends_with("ch")
        || w.ends_with("sh")
    {
        return format!("{w}es");
    }
    format!("{w}s")
}

/// A readable name for an identifier: words split, abbreviations expanded, `id` kept as "id".
/// `cust_addr` → `customer address`, `OrderDate` → `order date`.
pub fn readable_name(ident: &str) -> String {
    split_identifier(ident)
        .iter()
        .map(|w| expand_abbreviation(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A sentence-case description derived from an identifier, used when nothing better is known:
/// `order_items` → "Order items", `customer_id` → "Customer id".
pub fn describe(ident: &str) -> String {
    let name = readable_name(ident);
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_identifiers() {
        for (ident, words) in [
            ("order_items", "order items"),
            ("OrderDate", "order date"),
            ("customerID", "customer id"),
            ("Song_Name2", "song name 2"),
            ("HTTPServer", "http server"),
            ("ID", "id"),
            ("name", "name"),
            ("Max_Disk_Size", "max disk size"),
            ("", ""),
        ] {
            assert_eq!(split_identifier(ident).join(" "), words, "{ident}");
        }
    }

    #[test]
    fn inflects() {
        for (p, s) in [
            ("customers", "customer"),
            ("categories", "category"),
            ("addresses", "address"),
            ("boxes", "box"),
            ("people", "person"),
            ("status", "status"),
            ("courses", "course"),
            ("class", "class"),
            ("sales", "sale"),
            ("series", "series"),
            ("matches", "match"),
            ("cars", "car"),
            ("employees", "employee"),
        ] {
            assert_eq!(singular(p), s, "{p}");
        }
        for (s, p) in [
            ("customer", "customers"),
            ("category", "categories"),
            ("address", "addresses"),
            ("day", "days"),
            ("person", "people"),
            ("match", "matches"),
        ] {
            assert_eq!(plural(s), p, "{s}");
        }
    }

    #[test]
    fn abbreviations_are_data() {
        for (short, long) in [
            ("qty", "quantity"),
            ("nm", "name"),
            ("cd", "code"),
            ("exp", "expected"),
            ("dob", "date of birth"),
            ("customer", "customer"),
        ] {
            assert_eq!(expand_abbreviation(short), long, "{short}");
        }
        assert_eq!(
            abbreviation_readings("exp"),
            ["expected", "expiry", "expense"]
        );
        assert!(abbreviation_readings("order").is_empty());
        // Every line of the list parses into a short form with at least one reading.
        let raw = include_str!("names/abbreviations.txt");
        let lines = raw
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .count();
        assert_eq!(ABBREVIATIONS.len(), lines);
        assert!(ABBREVIATIONS.values().all(|r| !r.is_empty()));
    }

    #[test]
    fn abbreviations_by_shape() {
        for (short, long, yes) in [
            ("shp", "shipment", true),
            ("wh", "warehouse", true),
            ("cmp", "campaign", true),
            ("rte", "route", true),
            ("pcl", "parcel", true),
            ("exc", "exception", true),
            ("car", "carrier", true),
            ("ch", "channel", true),
            ("age", "employee", false),
            ("song", "singer", false),
            ("route", "route", false),
            ("r", "route", false),
        ] {
            assert_eq!(is_abbreviation_of(short, long), yes, "{short} {long}");
        }
    }

    #[test]
    fn column_prefixes() {
        let check = |table: &str, cols: &[&str], expect: Option<&str>| {
            assert_eq!(column_prefix(table, cols).as_deref(), expect, "{table}");
        };
        check(
            "shipments",
            &["shp_id", "shp_ref", "shp_origin_wh", "shp_created_at"],
            Some("shp"),
        );
        check("warehouses", &["wh_id", "wh_name", "wh_city"], Some("wh"));
        check(
            "delivery_exceptions",
            &["exc_id", "exc_shp_id", "exc_note"],
            Some("exc"),
        );
        check(
            "channels",
            &["ch_cd", "ch_nm", "ch_grp", "is_paid_flg"],
            Some("ch"),
        );
        // `singer_name`, `singer_age` in `singer` share the table's own word.
        check(
            "singer",
            &["singer_id", "singer_name", "age"],
            Some("singer"),
        );
        // Flags share `is`, creation stamps `created`: neither stands for the table.
        check("accounts", &["is_test", "is_active", "name"], None);
        check(
            "campaigns",
            &["cmp_id", "cmp_nm", "ch_cd", "obj_cd", "rgn_cd", "start_dt"],
            None,
        );
        check("t", &["id"], None);
    }

    #[test]
    fn readable() {
        assert_eq!(readable_name("cust_addr"), "customer address");
        assert_eq!(describe("order_items"), "Order items");
        assert_eq!(describe("unit_price"), "Unit price");
    }
}
