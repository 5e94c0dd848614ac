//! Time expressions: "in 2023", "last quarter", "since March", "the last 30 days", "by month",
//! "monthly", "year over year", resolved against an explicit reference date.

use chrono::{Datelike, Duration, NaiveDate};

use crate::query::TimeGrain;
use crate::text::Token;

/// A resolved time expression: a half-open date range `[from, to)` and/or a grain, and the
/// tokens it used.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeFilter {
    pub range: Option<(String, String)>,
    pub grain: Option<TimeGrain>,
    pub tokens: Vec<usize>,
    /// "year over year", "month over month", "growth": compare each period with the one before.
    pub over_previous: bool,
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn month_of(w: &str) -> Option<u32> {
    let w = w.trim_end_matches('.');
    if let Some(i) = MONTHS.iter().position(|m| *m == w) {
        return Some(i as u32 + 1);
    }
    const ABBR: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    if w == "sept" {
        return Some(9);
    }
    ABBR.iter().position(|a| *a == w).map(|i| i as u32 + 1)
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn add_months(d: NaiveDate, months: i32) -> Option<NaiveDate> {
    let total = d.year() * 12 + d.month0() as i32 + months;
    date(total.div_euclid(12), total.rem_euclid(12) as u32 + 1, 1)
}

fn quarter_start(d: NaiveDate) -> Option<NaiveDate> {
    date(d.year(), (d.month0() / 3) * 3 + 1, 1)
}

/// A day written with its month's name at token `i` — "July 1", "July 1st, 2024", "27 June
/// 2025" — as (month, day, year if written, the token after it).
fn day_of_month(toks: &[Token], i: usize) -> Option<(u32, u32, Option<i32>, usize)> {
    let day = |t: &Token| {
        let v = t.number()?;
        (v.fract() == 0.0 && (1.0..=31.0).contains(&v) && !t.spelled).then_some(v as u32)
    };
    let norm = |k: usize| toks.get(k).map_or("", |t| t.norm.as_str());
    let (m, d) = match (month_of(norm(i)), toks.get(i + 1).and_then(day)) {
        (Some(m), Some(d)) => (m, d),
        _ => {
            let d = toks.get(i).and_then(day)?;
            (month_of(norm(i + 1))?, d)
        }
    };
    let mut next = i + 2;
    if norm(next) == "," && toks.get(next + 1).and_then(year_of).is_some() {
        next += 1;
    }
    match toks.get(next).and_then(year_of) {
        Some(y) => Some((m, d, Some(y), next + 1)),
        None => Some((m, d, None, i + 2)),
    }
}

/// Days written as a span with their month's name at token `i` — "March 10-16, 2025", "19-25
/// May 2025" — as (month, first day, last day, year if written, the token after it).
fn day_span(toks: &[Token], i: usize) -> Option<(u32, u32, u32, Option<i32>, usize)> {
    let norm = |k: usize| toks.get(k).map_or("", |t| t.norm.as_str());
    let span = |k: usize| -> Option<(u32, u32)> {
        let (a, b) = norm(k).split_once('-')?;
        let (a, b) = (a.parse::<u32>().ok()?, b.parse::<u32>().ok()?);
        ((1..=31).contains(&a) && (a..=31).contains(&b)).then_some((a, b))
    };
    let (m, (d1, d2)) = match (month_of(norm(i)), span(i + 1)) {
        (Some(m), Some(days)) => (m, days),
        _ => (month_of(norm(i + 1))?, span(i)?),
    };
    let mut next = i + 2;
    if norm(next) == "," && toks.get(next + 1).and_then(year_of).is_some() {
        next += 1;
    }
    match toks.get(next).and_then(year_of) {
        Some(y) => Some((m, d1, d2, Some(y), next + 1)),
        None => Some((m, d1, d2, None, i + 2)),
    }
}

/// The range one named day scopes after the word before it: "since"/"from" it, "after" it,
/// "before"/"until" it, else the day itself. Open ends stop at the day after `reference`.
fn day_scope(
    prev: &str,
    day: NaiveDate,
    reference: Option<NaiveDate>,
) -> Option<(NaiveDate, NaiveDate)> {
    let open_end = || {
        reference
            .and_then(|t| t.succ_opt())
            .or_else(|| date(9999, 1, 1))
    };
    Some(match prev {
        "since" | "from" => (day, open_end()?),
        "after" => (day.succ_opt()?, open_end()?),
        "before" | "until" => (date(1, 1, 1)?, day),
        _ => (day, day.succ_opt()?),
    })
}

/// Words before a day that belong to its time expression.
const DAY_SCOPE_WORDS: &[&str] = &["on", "of", "since", "from", "after", "before", "until"];

/// A date written the ISO way, `2024-11-25`.
fn iso_date(t: &Token) -> Option<NaiveDate> {
    let b = t.norm.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::parse_from_str(&t.norm, "%Y-%m-%d").ok()
}

fn year_of(t: &Token) -> Option<i32> {
    let v = t.number()?;
    (v.fract() == 0.0 && (1900.0..=2100.0).contains(&v) && !t.spelled).then_some(v as i32)
}

/// Finds the first time expression in the question. `reference` is "today".
pub fn resolve_time(toks: &[Token], reference: Option<NaiveDate>) -> Option<TimeFilter> {
    let w = |i: usize| toks.get(i).map_or("", |t| t.lemma.as_str());
    let n = toks.len();
    let mut grain: Option<(TimeGrain, Vec<usize>)> = None;
    let mut range: Option<((NaiveDate, NaiveDate), Vec<usize>)> = None;
    // Days named with their month ("November 15") own any year the question writes.
    let has_days = (0..n).any(|k| day_of_month(toks, k).is_some() || day_span(toks, k).is_some());
    for i in 0..n {
        // Grains.
        if grain.is_none() {
            let g = match w(i) {
                "monthly" => Some((TimeGrain::Month, vec![i])),
                "quarterly" => Some((TimeGrain::Quarter, vec![i])),
                "yearly" | "annual" | "annually" => Some((TimeGrain::Year, vec![i])),
                "weekly" => Some((TimeGrain::Week, vec![i])),
                "daily" => Some((TimeGrain::Day, vec![i])),
                "by" | "per" | "each" | "every" => {
                    let g = match w(i + 1) {
                        "month" => Some(TimeGrain::Month),
                        "quarter" => Some(TimeGrain::Quarter),
                        "year" => Some(TimeGrain::Year),
                        "week" => Some(TimeGrain::Week),
                        "day" | "date" => Some(TimeGrain::Day),
                        _ => None,
                    };
                    g.map(|g| (g, vec![i, i + 1]))
                }
                "year" | "month" | "quarter" | "week" if w(i + 1) == "over" && w(i + 2) == w(i) => {
                    let g = match w(i) {
                        "month" => TimeGrain::Month,
                        "quarter" => TimeGrain::Quarter,
                        "week" => TimeGrain::Week,
                        _ => TimeGrain::Year,
                    };
                    Some((g, vec![i, i + 1, i + 2]))
                }
                "yoy" => Some((TimeGrain::Year, vec![i])),
                "mom" => Some((TimeGrain::Month, vec![i])),
                "over" if w(i + 1) == "time" => Some((TimeGrain::Month, vec![i, i + 1])),
                "trend" => Some((TimeGrain::Month, vec![i])),
                _ => None,
            };
            if g.is_some() {
                grain = g;
                continue;
            }
        }
        if range.is_some() {
            continue;
        }
        let r = reference;
        // "the week of March 10-16, 2025", "19-25 May 2025": the days of the span.
        if let Some((m, d1, d2, y, next)) = day_span(toks, i) {
            let elsewhere = toks.iter().position(|t| year_of(t).is_some());
            let year = y
                .or_else(|| elsewhere.and_then(|k| year_of(&toks[k])))
                .or(r.map(|t| t.year()));
            let days = year.and_then(|y| Some((date(y, m, d1)?, date(y, m, d2)?.succ_opt()?)));
            if let Some(days) = days {
                let mut lo = i;
                if lo >= 3 && w(lo - 1) == "of" && w(lo - 2) == "week" && w(lo - 3) == "the" {
                    lo -= 3;
                } else if lo >= 2 && w(lo - 1) == "of" && w(lo - 2) == "week" {
                    lo -= 2;
                }
                if lo > 0 && matches!(w(lo - 1), "in" | "during" | "for" | "on" | "between") {
                    lo -= 1;
                }
                let mut used: Vec<usize> = (lo..next).collect();
                if y.is_none() {
                    used.extend(elsewhere.filter(|k| !used.contains(k)));
                }
                range = Some((days, used));
                continue;
            }
        }
        // "between July 1 and December 31, 2024", "November 15 through December 31",
        // "on 27 June 2025": days written with their month's name.
        if let Some((m, d, y, next)) = day_of_month(toks, i) {
            // A year written elsewhere in the question ("the 2024 peak, November 15 …").
            let elsewhere = toks.iter().position(|t| year_of(t).is_some());
            let any_year = || elsewhere.and_then(|k| year_of(&toks[k]));
            let prev = w(i.wrapping_sub(1));
            let second = matches!(w(next), "and" | "to" | "through" | "until" | "-")
                .then(|| day_of_month(toks, next + 1))
                .flatten();
            let found = match second {
                Some((m2, d2, y2, end)) => {
                    let y2 = y2.or(y).or_else(any_year).or(r.map(|t| t.year()));
                    let y1 = y.or(y2);
                    let lo = if matches!(prev, "between" | "from") {
                        i - 1
                    } else {
                        i
                    };
                    let mut used: Vec<usize> = (lo..end).collect();
                    used.extend(elsewhere.filter(|k| !used.contains(k)));
                    y1.zip(y2)
                        .and_then(|(y1, y2)| Some((date(y1, m, d)?, date(y2, m2, d2)?.succ_opt()?)))
                        .map(|range| (range, used))
                }
                None => {
                    let year = y.or_else(any_year).or(r.map(|t| t.year()));
                    let day = year.and_then(|y| date(y, m, d));
                    day.and_then(|day| day_scope(prev, day, r)).map(|range| {
                        let mut used: Vec<usize> = (i..next).collect();
                        if y.is_none() {
                            used.extend(elsewhere);
                        }
                        if DAY_SCOPE_WORDS.contains(&prev) {
                            used.insert(0, i - 1);
                        }
                        (range, used)
                    })
                }
            };
            if found.is_some() {
                range = found;
                continue;
            }
        }
        // "between 2024-11-25 and 2024-12-06", "on 2024-03-01", "since 2024-06-15"
        if let Some(d) = toks.get(i).and_then(iso_date) {
            let prev = w(i.wrapping_sub(1));
            let second = toks.get(i + 2).and_then(iso_date);
            let found = match (prev, w(i + 1), second) {
                ("between" | "from", "and" | "to" | "through" | "until" | "-", Some(d2)) => d2
                    .succ_opt()
                    .map(|end| ((d, end), vec![i - 1, i, i + 1, i + 2])),
                _ => day_scope(prev, d, r).map(|range| {
                    let used = if DAY_SCOPE_WORDS.contains(&prev) {
                        vec![i - 1, i]
                    } else {
                        vec![i]
                    };
                    (range, used)
                }),
            };
            if found.is_some() {
                range = found;
                continue;
            }
        }
        // "in 2023", "during 2023", "for 2023", "of 2023", "2023" — unless the question
        // names days ("the 2024 peak, November 15 through December 31"): the year is theirs.
        if let Some(y) = toks.get(i).and_then(year_of).filter(|_| !has_days) {
            // "between 2022 and 2023", "from 2022 to 2023"
            if matches!(w(i + 1), "and" | "to" | "through" | "until" | "-")
                && matches!(w(i.wrapping_sub(1)), "between" | "from")
            {
                if let Some(y2) = toks.get(i + 2).and_then(year_of) {
                    if let (Some(a), Some(b)) = (date(y, 1, 1), date(y2 + 1, 1, 1)) {
                        range = Some(((a, b), vec![i - 1, i, i + 1, i + 2]));
                        continue;
                    }
                }
            }
            let prev = w(i.wrapping_sub(1));
            // "November and December 2024", "July or August 2025", "March through May 2024":
            // every month from the first to the last.
            let month_at = |k: usize| toks.get(k).and_then(|t| month_of(&t.norm));
            if i >= 3 && matches!(w(i - 2), "and" | "or" | "to" | "through" | "until" | "-") {
                if let (Some(m1), Some(m2)) = (month_at(i - 3), month_at(i - 1)) {
                    let span = (
                        date(y, m1, 1),
                        date(y, m2, 1).and_then(|d| add_months(d, 1)),
                    );
                    if let (true, (Some(a), Some(b))) = (m1 < m2, span) {
                        let mut used = vec![i - 3, i - 2, i - 1, i];
                        if i >= 4
                            && matches!(
                                w(i - 4),
                                "in" | "during" | "for" | "of" | "between" | "from"
                            )
                        {
                            used.push(i - 4);
                        }
                        range = Some(((a, b), used));
                        continue;
                    }
                }
            }
            // "the second half of June 2025": the 16th to the month's end; the first half, the
            // 1st to the 15th.
            if i >= 4 && w(i - 2) == "of" && w(i - 3) == "half" {
                if let Some(m) = month_at(i - 1) {
                    let start = date(y, m, 1);
                    let end = start.and_then(|d| add_months(d, 1));
                    let half = match w(i - 4) {
                        "first" => start.zip(date(y, m, 16)),
                        "second" | "last" => date(y, m, 16).zip(end),
                        _ => None,
                    };
                    if let Some((a, b)) = half {
                        let mut lo = i - 4;
                        if lo > 0 && w(lo - 1) == "the" {
                            lo -= 1;
                        }
                        if lo > 0 && matches!(w(lo - 1), "in" | "during" | "for" | "of") {
                            lo -= 1;
                        }
                        range = Some(((a, b), (lo..=i).collect()));
                        continue;
                    }
                }
            }
            // "March 2023"
            if let Some(m) = toks.get(i.wrapping_sub(1)).and_then(|t| month_of(&t.norm)) {
                if let (Some(a), Some(b)) =
                    (date(y, m, 1), date(y, m, 1).and_then(|d| add_months(d, 1)))
                {
                    let mut used = vec![i - 1, i];
                    if i >= 2 && matches!(w(i - 2), "in" | "during" | "for" | "of") {
                        used.push(i - 2);
                    }
                    range = Some(((a, b), used));
                    continue;
                }
            }
            // "Q3 2023" / "third quarter of 2023"
            if let Some((q, words)) = quarter_before(toks, i) {
                if let Some(a) = date(y, (q - 1) * 3 + 1, 1) {
                    if let Some(b) = add_months(a, 3) {
                        // Only the quarter's own words ("Q3", "third quarter of") and the
                        // preposition before them: the verb before is the question's.
                        let mut lo = i - words;
                        if lo > 0 && matches!(w(lo - 1), "in" | "during" | "for" | "of") {
                            lo -= 1;
                        }
                        range = Some(((a, b), (lo..=i).collect()));
                        continue;
                    }
                }
            }
            // "H1 2025", "the second half of 2024"
            if let Some((h, words)) = half_before(toks, i) {
                if let Some(a) = date(y, if h == 1 { 1 } else { 7 }, 1) {
                    if let Some(b) = add_months(a, 6) {
                        let mut lo = i - words;
                        if lo > 0 && matches!(w(lo - 1), "in" | "during" | "for" | "of" | "the") {
                            lo -= 1;
                        }
                        range = Some(((a, b), (lo..=i).collect()));
                        continue;
                    }
                }
            }
            let (a, b) = match prev {
                "since" | "after" => {
                    let from = if prev == "since" {
                        date(y, 1, 1)
                    } else {
                        date(y + 1, 1, 1)
                    };
                    let to = r.and_then(|d| d.succ_opt()).or_else(|| date(9999, 1, 1));
                    (from, to)
                }
                "before" | "until" => (date(1, 1, 1), date(y, 1, 1)),
                _ => (date(y, 1, 1), date(y + 1, 1, 1)),
            };
            if let (Some(a), Some(b)) = (a, b) {
                let mut used = vec![i];
                if matches!(
                    prev,
                    "in" | "during" | "for" | "of" | "since" | "after" | "before" | "until"
                ) {
                    used.push(i - 1);
                }
                range = Some(((a, b), used));
                continue;
            }
        }
        let Some(today) = r else { continue };
        match (w(i), w(i + 1)) {
            (
                "last" | "previous" | "past" | "prior",
                unit @ ("year" | "month" | "quarter" | "week"),
            ) => {
                let (a, b) = match unit {
                    "year" => (date(today.year() - 1, 1, 1), date(today.year(), 1, 1)),
                    "month" => {
                        let this = date(today.year(), today.month(), 1);
                        (this.and_then(|d| add_months(d, -1)), this)
                    }
                    "quarter" => {
                        let this = quarter_start(today);
                        (this.and_then(|d| add_months(d, -3)), this)
                    }
                    _ => {
                        let monday =
                            today - Duration::days(today.weekday().num_days_from_monday() as i64);
                        (Some(monday - Duration::days(7)), Some(monday))
                    }
                };
                if let (Some(a), Some(b)) = (a, b) {
                    range = Some(((a, b), vec![i, i + 1]));
                }
            }
            ("this" | "current", unit @ ("year" | "month" | "quarter" | "week")) => {
                let a = match unit {
                    "year" => date(today.year(), 1, 1),
                    "month" => date(today.year(), today.month(), 1),
                    "quarter" => quarter_start(today),
                    _ => {
                        Some(today - Duration::days(today.weekday().num_days_from_monday() as i64))
                    }
                };
                if let (Some(a), Some(b)) = (a, today.succ_opt()) {
                    range = Some(((a, b), vec![i, i + 1]));
                }
            }
            ("year" | "ytd", _) if w(i) == "ytd" || (w(i + 1) == "to" && w(i + 2) == "date") => {
                if let (Some(a), Some(b)) = (date(today.year(), 1, 1), today.succ_opt()) {
                    let used = if w(i) == "ytd" {
                        vec![i]
                    } else {
                        vec![i, i + 1, i + 2]
                    };
                    range = Some(((a, b), used));
                }
            }
            ("last" | "past" | "previous", _) => {
                // "last 30 days", "past 6 months", "last three years"
                if let Some(k) = toks.get(i + 1).and_then(Token::number) {
                    let k = k as i64;
                    let unit = w(i + 2);
                    let from = match unit {
                        "day" => Some(today - Duration::days(k - 1)),
                        "week" => Some(today - Duration::days(7 * k - 1)),
                        "month" => {
                            add_months(date(today.year(), today.month(), 1)?, -(k as i32) + 1)
                        }
                        "quarter" => {
                            quarter_start(today).and_then(|d| add_months(d, -3 * (k as i32) + 3))
                        }
                        "year" => date(today.year() - k as i32 + 1, 1, 1),
                        _ => None,
                    };
                    if let (Some(a), Some(b)) = (from, today.succ_opt()) {
                        range = Some(((a, b), vec![i, i + 1, i + 2]));
                    }
                }
            }
            ("since", m) if month_of(m).is_some() && day_of_month(toks, i + 1).is_none() => {
                let month = month_of(m).unwrap_or(1);
                let year = if month <= today.month() {
                    today.year()
                } else {
                    today.year() - 1
                };
                if let (Some(a), Some(b)) = (date(year, month, 1), today.succ_opt()) {
                    range = Some(((a, b), vec![i, i + 1]));
                }
            }
            ("in" | "during", m)
                if month_of(m).is_some()
                    && toks.get(i + 2).and_then(year_of).is_none()
                    && day_of_month(toks, i + 1).is_none()
                    // "in November and December 2024": the months' own rule.
                    && !(matches!(w(i + 2), "and" | "or" | "to" | "through" | "until" | "-")
                        && toks.get(i + 3).and_then(|t| month_of(&t.norm)).is_some()) =>
            {
                let month = month_of(m).unwrap_or(1);
                let year = if month <= today.month() {
                    today.year()
                } else {
                    today.year() - 1
                };
                if let (Some(a), Some(b)) = (
                    date(year, month, 1),
                    date(year, month, 1).and_then(|d| add_months(d, 1)),
                ) {
                    range = Some(((a, b), vec![i, i + 1]));
                }
            }
            ("today", _) => {
                if let Some(b) = today.succ_opt() {
                    range = Some(((today, b), vec![i]));
                }
            }
            ("yesterday", _) => {
                if let Some(a) = today.pred_opt() {
                    range = Some(((a, today), vec![i]));
                }
            }
            _ => {}
        }
    }
    if grain.is_none() && range.is_none() {
        return None;
    }
    let mut tokens = Vec::new();
    if let Some((_, t)) = &grain {
        tokens.extend(t.iter().copied());
    }
    if let Some((_, t)) = &range {
        tokens.extend(t.iter().copied());
    }
    tokens.retain(|&t| t < n);
    let over_previous = (0..n).any(|i| {
        matches!(
            w(i),
            "yoy" | "mom" | "growth" | "grew" | "grow" | "change" | "increase"
        ) || (w(i + 1) == "over"
            && w(i + 2) == w(i)
            && matches!(w(i), "year" | "month" | "quarter" | "week"))
    });
    Some(TimeFilter {
        range: range.map(|((a, b), _)| (iso(a), iso(b))),
        grain: grain.map(|(g, _)| g),
        tokens,
        over_previous,
    })
}

/// "Q3", "third quarter of", "3rd quarter" right before token `i`: the quarter and how many
/// words name it.
fn quarter_before(toks: &[Token], i: usize) -> Option<(u32, usize)> {
    let w = |k: usize| toks.get(k).map_or("", |t| t.lemma.as_str());
    let prev = w(i.checked_sub(1)?);
    if let Some(q) = prev.strip_prefix('q').and_then(|d| d.parse::<u32>().ok()) {
        return (1..=4).contains(&q).then_some((q, 1));
    }
    let (qw, of) = if prev == "of" {
        (w(i.checked_sub(3)?), w(i - 2))
    } else {
        (w(i.checked_sub(2)?), prev)
    };
    if of != "quarter" {
        return None;
    }
    let q = match qw {
        "first" | "1st" => 1,
        "second" | "2nd" => 2,
        "third" | "3rd" => 3,
        "fourth" | "4th" | "last" => 4,
        _ => toks
            .get(if prev == "of" { i - 3 } else { i - 2 })
            .and_then(Token::number)
            .map(|v| v as u32)?,
    };
    let words = if prev == "of" { 3 } else { 2 };
    (1..=4).contains(&q).then_some((q, words))
}

/// The half-year named right before token `i` (a year): "H1", "first half of", "second
/// half": which half, and how many words name it.
fn half_before(toks: &[Token], i: usize) -> Option<(u32, usize)> {
    let w = |k: usize| toks.get(k).map_or("", |t| t.lemma.as_str());
    let prev = w(i.checked_sub(1)?);
    if let Some(h) = prev.strip_prefix('h').and_then(|d| d.parse::<u32>().ok()) {
        return (1..=2).contains(&h).then_some((h, 1));
    }
    let (hw, half) = if prev == "of" {
        (w(i.checked_sub(3)?), w(i - 2))
    } else {
        (w(i.checked_sub(2)?), prev)
    };
    if half != "half" {
        return None;
    }
    let h = match hw {
        "first" | "1st" => 1,
        "second" | "2nd" | "last" => 2,
        _ => return None,
    };
    Some((h, if prev == "of" { 3 } else { 2 }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tokenize;

    /// The words a time expression consumes are its own, never the verb before it.
    #[test]
    fn quarters_consume_only_their_words() {
        for (q, expect) in [
            ("sessions converted in Q2 2025", "in Q2 2025"),
            (
                "sales during the third quarter of 2023",
                "third quarter of 2023",
            ),
            ("orders 3rd quarter 2024", "3rd quarter 2024"),
        ] {
            let toks = tokenize(q);
            let tf = resolve_time(&toks, NaiveDate::from_ymd_opt(2025, 6, 30)).expect(q);
            let mut used = tf.tokens.clone();
            used.sort_unstable();
            let words: Vec<&str> = used.iter().map(|&i| toks[i].text.as_str()).collect();
            assert_eq!(words.join(" "), expect, "{q}");
        }
    }

    fn check(q: &str, expect: &str) {
        let toks = tokenize(q);
        let today = NaiveDate::from_ymd_opt(2024, 11, 20);
        let got = match resolve_time(&toks, today) {
            None => "none".to_string(),
            Some(tf) => format!(
                "{}{}",
                tf.range
                    .map(|(a, b)| format!("[{a},{b})"))
                    .unwrap_or_default(),
                tf.grain
                    .map(|g| format!(" by {}", g.word()))
                    .unwrap_or_default()
            ),
        };
        assert_eq!(got, expect, "{q}");
    }

    #[test]
    fn expressions() {
        check("sales in 2023", "[2023-01-01,2024-01-01)");
        check("revenue in March 2023", "[2023-03-01,2023-04-01)");
        check("orders last quarter", "[2024-07-01,2024-10-01)");
        check("orders this quarter", "[2024-10-01,2024-11-21)");
        check("orders last year", "[2023-01-01,2024-01-01)");
        check("orders last month", "[2024-10-01,2024-11-01)");
        check("orders since March", "[2024-03-01,2024-11-21)");
        check("orders since 2023", "[2023-01-01,2024-11-21)");
        check("orders before 2023", "[0001-01-01,2023-01-01)");
        check("orders in the last 30 days", "[2024-10-22,2024-11-21)");
        check("orders in the past 6 months", "[2024-06-01,2024-11-21)");
        check("revenue between 2022 and 2023", "[2022-01-01,2024-01-01)");
        check(
            "overtime paid in November and December 2024 combined",
            "[2024-11-01,2025-01-01)",
        );
        check(
            "vacations starting in July or August 2025",
            "[2025-07-01,2025-09-01)",
        );
        check(
            "orders from March through May 2024",
            "[2024-03-01,2024-06-01)",
        );
        check(
            "trials started in the second half of June 2025",
            "[2025-06-16,2025-07-01)",
        );
        check(
            "signups in the first half of May 2025",
            "[2025-05-01,2025-05-16)",
        );
        check(
            "invoices that went out in the week of March 10-16, 2025",
            "[2025-03-10,2025-03-17)",
        );
        check(
            "sessions in the week of 19-25 May 2025, by device",
            "[2025-05-19,2025-05-26)",
        );
        check(
            "shipments delivered between 2024-11-25 and 2024-12-06",
            "[2024-11-25,2024-12-07)",
        );
        check("orders on 2024-03-01", "[2024-03-01,2024-03-02)");
        check("churn in the first half of 2025", "[2025-01-01,2025-07-01)");
        check(
            "terminations in the second half of 2024",
            "[2024-07-01,2025-01-01)",
        );
        check("won revenue in H2 2024", "[2024-07-01,2025-01-01)");
        check(
            "refunds issued between July 1 and December 31, 2024",
            "[2024-07-01,2025-01-01)",
        );
        check(
            "exceptions during the 2024 peak, November 15 through December 31",
            "[2024-11-15,2025-01-01)",
        );
        check(
            "shipments created on 27 June 2025",
            "[2025-06-27,2025-06-28)",
        );
        check("orders since March 3", "[2024-03-03,2024-11-21)");
        check("orders before 2024-03-01", "[0001-01-01,2024-03-01)");
        check("revenue in Q3 2023", "[2023-07-01,2023-10-01)");
        check(
            "revenue in the third quarter of 2023",
            "[2023-07-01,2023-10-01)",
        );
        check("revenue by month", " by month");
        check(
            "monthly revenue in 2023",
            "[2023-01-01,2024-01-01) by month",
        );
        check("revenue year over year", " by year");
        check("how many singers", "none");
        check("revenue year to date", "[2024-01-01,2024-11-21)");
        check("orders in May", "[2024-05-01,2024-06-01)");
    }
}
