//! The words the understander reacts to: aggregation, comparison, ordering, grouping,
//! negation, superlatives and the columns some adjectives imply.

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

/// Words for people counted as a number: a population column counts them.
pub const PEOPLE_WORDS: &[&str] = &["person", "people", "resident", "inhabitant", "citizen"];

/// Aggregation named by a word, if any. `total` is a sum unless followed by "number".
pub fn agg_word(w: &str) -> Option<AggFunc> {
    Some(match w {
        "average" | "avg" | "mean" => AggFunc::Avg,
        "total" | "sum" | "combined" | "cumulative" | "aggregate" => AggFunc::Sum,
        "maximum" | "max" => AggFunc::Max,
        "minimum" | "min" => AggFunc::Min,
        _ => return None,
    })
}

/// Superlatives: `(descending?)`. "most" and "least" also count things.
pub fn superlative(w: &str) -> Option<bool> {
    Some(match w {
        "highest" | "largest" | "biggest" | "greatest" | "most" | "top" | "maximum" | "max"
        | "best" | "longest" | "latest" | "newest" | "heaviest" | "tallest" | "richest"
        | "busiest" | "deepest" | "widest" | "farthest" | "furthest" | "fastest"
        | "highest-paid" | "priciest" | "strongest" | "loudest" | "warmest" | "hottest" => true,
        "lowest" | "smallest" | "least" | "fewest" | "minimum" | "min" | "worst" | "shortest"
        | "earliest" | "lightest" | "cheapest" | "poorest" | "slowest" | "nearest" | "closest"
        | "shallowest" | "coldest" | "weakest" => false,
        _ => return None,
    })
}

/// Adjectives (superlative or comparative) that imply a column: the column words to look for
/// and whether "more" means a larger value of that column.
pub fn implied_column(w: &str) -> Option<(&'static [&'static str], bool)> {
    const AGE: &[&str] = &[
        "age",
        "pet_age",
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
        "date",
    ];
    Some(match w {
        "oldest" | "older" | "eldest" | "elder" => (AGE, true),
        "youngest" | "younger" => (AGE, false),
        "heaviest" | "heavier" => (&["weight"], true),
        "lightest" | "lighter" => (&["weight"], false),
        "tallest" | "taller" => (&["height"], true),
        "shortest" | "shorter" => (&["height", "length", "duration", "minute", "time"], false),
        "longest" | "longer" => (&["length", "duration", "minute", "time", "height"], true),
        "richest" | "richer" => (
            &["money", "earning", "net", "worth", "income", "salary"],
            true,
        ),
        "poorest" | "poorer" => (
            &["money", "earning", "net", "worth", "income", "salary"],
            false,
        ),
        "cheapest" | "cheaper" => (&["price", "cost", "amount", "fee"], false),
        "priciest" | "expensive" | "pricier" => (&["price", "cost", "amount", "fee"], true),
        "cheap" | "inexpensive" => (&["price", "cost", "amount", "fee"], false),
        "newest" | "newer" | "latest" | "later" | "recent" => (
            &["date", "year", "time", "created", "launched", "opened"],
            true,
        ),
        "earliest" | "earlier" => (
            &["date", "year", "time", "created", "launched", "opened"],
            false,
        ),
        "fastest" | "faster" => (&["speed", "accelerate", "acceleration"], true),
        "slowest" | "slower" => (&["speed", "accelerate", "acceleration"], false),
        "largest" | "biggest" | "larger" | "bigger" => (
            &["size", "area", "capacity", "population", "amount", "total"],
            true,
        ),
        "smallest" | "smaller" => (
            &["size", "area", "capacity", "population", "amount", "total"],
            false,
        ),
        "populous" => (&["population"], true),
        _ => return None,
    })
}

/// A comparison phrase starting at `words[0]`: operator, how many words it spans, and the
/// adjective (if any) that implies a column ("older than" → age).
pub fn comparison(words: &[&str]) -> Option<(CmpOp, usize, Option<&'static str>)> {
    let w = |i: usize| words.get(i).copied().unwrap_or("");
    let implied = |s: &str| -> Option<&'static str> {
        match s {
            "older" => Some("older"),
            "younger" => Some("younger"),
            "heavier" => Some("heavier"),
            "lighter" => Some("lighter"),
            "taller" => Some("taller"),
            "shorter" => Some("shorter"),
            "longer" => Some("longer"),
            "cheaper" => Some("cheaper"),
            "richer" => Some("richer"),
            "faster" => Some("faster"),
            "slower" => Some("slower"),
            "larger" => Some("larger"),
            "bigger" => Some("bigger"),
            "smaller" => Some("smaller"),
            "earlier" => Some("earlier"),
            "later" => Some("later"),
            _ => None,
        }
    };
    // Two- and three-word forms first.
    match (w(0), w(1), w(2)) {
        ("at", "least", _)
        | ("no", "less", "than")
        | ("not", "less", "than")
        | ("no", "fewer", "than") => {
            let n = if w(0) == "at" { 2 } else { 3 };
            return Some((CmpOp::GtEq, n, None));
        }
        ("at", "most", _) | ("no", "more", "than") | ("not", "more", "than") | ("up", "to", _) => {
            let n = if w(0) == "at" || w(0) == "up" { 2 } else { 3 };
            return Some((CmpOp::LtEq, n, None));
        }
        ("or", "more", _)
        | ("or", "greater", _)
        | ("or", "higher", _)
        | ("or", "above", _)
        | ("or", "after", _) => {
            return Some((CmpOp::GtEq, 2, None));
        }
        ("or", "less", _)
        | ("or", "fewer", _)
        | ("or", "lower", _)
        | ("or", "below", _)
        | ("or", "before", _) => {
            return Some((CmpOp::LtEq, 2, None));
        }
        ("equal", "to", _) | ("equals", _, _) => {
            return Some((CmpOp::Eq, if w(0) == "equal" { 2 } else { 1 }, None));
        }
        ("not", "equal", "to") => return Some((CmpOp::NotEq, 3, None)),
        ("more", "than", _)
        | ("greater", "than", _)
        | ("higher", "than", _)
        | ("bigger", "than", _)
        | ("larger", "than", _)
        | ("over", _, _)
        | ("above", _, _)
        | ("exceeding", _, _)
        | ("exceeds", _, _)
        | ("exceed", _, _)
        | ("beyond", _, _) => {
            let n = if w(1) == "than" { 2 } else { 1 };
            let imp = implied(w(0));
            return Some((CmpOp::Gt, n, imp));
        }
        ("less", "than", _)
        | ("fewer", "than", _)
        | ("lower", "than", _)
        | ("smaller", "than", _)
        | ("under", _, _)
        | ("below", _, _) => {
            let n = if w(1) == "than" { 2 } else { 1 };
            let imp = implied(w(0));
            return Some((CmpOp::Lt, n, imp));
        }
        ("after", _, _) | ("since", _, _) => return Some((CmpOp::Gt, 1, Some("later"))),
        ("before", _, _) => return Some((CmpOp::Lt, 1, Some("earlier"))),
        _ => {}
    }
    if w(1) == "than" {
        if let Some(imp) = implied(w(0)) {
            let op = match imp {
                "older" | "heavier" | "taller" | "longer" | "richer" | "faster" | "larger"
                | "bigger" | "later" => CmpOp::Gt,
                _ => CmpOp::Lt,
            };
            // "younger than" on an age column means a smaller age.
            return Some((op, 2, Some(imp)));
        }
    }
    None
}

/// Words that start the description of which rows are wanted.
pub fn is_filter_cue(w: &str) -> bool {
    matches!(
        w,
        "whose" | "where" | "with" | "who" | "that" | "which" | "having" | "when" | "whom"
    )
}

/// Verbs and words that open a question or a request and carry no meaning of their own.
pub fn is_head_word(w: &str) -> bool {
    matches!(
        w,
        "what"
            | "which"
            | "who"
            | "how"
            | "show"
            | "list"
            | "give"
            | "find"
            | "return"
            | "tell"
            | "display"
            | "get"
            | "please"
            | "me"
            | "u"
            | "i"
            | "want"
            | "to"
            | "know"
            | "see"
            | "the"
            | "all"
            | "be"
            | "do"
            | "there"
            | "a"
            | "an"
            | "name"
            | "provide"
            | "report"
            | "retrieve"
            | "fetch"
            | "identify"
            | "select"
            | "output"
            | "count"
            | "compute"
            | "calculate"
            | "let"
            | "can"
            | "you"
            | "could"
            | "would"
            | "determine"
    )
}

/// Everyday synonyms of words that name things in databases, for words the schema does not
/// use itself ("nations" for a `country` table). Each maps to the words to look up instead.
pub fn synonyms(w: &str) -> &'static [&'static str] {
    match w {
        "nation" => &["country"],
        "born" => &["birth", "year"],
        "birthplace" => &["birth", "place"],
        "firm" | "business" => &["company"],
        "client" => &["customer"],
        "purchase" => &["order"],
        "film" => &["movie"],
        "movie" => &["film"],
        "automobile" | "vehicle" => &["car"],
        "worker" | "staff" => &["employee"],
        "employee" => &["staff"],
        "pupil" => &["student"],
        "kid" => &["child"],
        "town" => &["city"],
        "gender" => &["sex"],
        "sex" => &["gender"],
        "wage" | "pay" | "paid" => &["salary"],
        "telephone" | "cell" | "mobile" => &["phone"],
        "mail" | "e-mail" => &["email"],
        "surname" => &["last", "name"],
        "forename" => &["first", "name"],
        "birthday" => &["birth", "date"],
        "postcode" => &["zip", "code"],
        "title" => &["name"],
        "nickname" => &["name"],
        "nationality" => &["country"],
        "location" => &["address"],
        "identifier" => &["id"],
        "cost" => &["price"],
        "price" => &["cost"],
        "revenue" => &["sale"],
        "sale" => &["revenue"],
        "tv" => &["television"],
        "song" => &["track"],
        "track" => &["song"],
        "phone" => &["cell"],
        "teacher" => &["instructor"],
        "instructor" => &["teacher"],
        "professor" => &["faculty"],
        "doctor" => &["physician"],
        "physician" => &["doctor"],
        _ => &[],
    }
}
