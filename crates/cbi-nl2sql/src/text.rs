//! Question text → tokens: words with their lowercase and singular forms, numbers (written in
//! digits or words), quoted values, and punctuation, each with its byte span in the question.

use cbi_schema::names::singular;

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    Word,
    /// A number, from digits (`1,200`, `2.5`, `30%`) or words (`three`, `twenty five`).
    Number(f64),
    /// Text inside quotes: always a value, never a keyword.
    Quoted(String),
    Punct,
}

/// One token of a question.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// The text as written.
    pub text: String,
    /// Lowercase.
    pub norm: String,
    /// Lowercase singular (`singers` → `singer`), or `norm` for non-words.
    pub lemma: String,
    pub kind: TokenKind,
    /// Byte span in the question.
    pub start: usize,
    pub end: usize,
    /// For numbers: whether it was written as a word ("three").
    pub spelled: bool,
    /// The word started with a capital letter (and is not the first word): likely a name.
    pub capitalized: bool,
}

impl Token {
    pub fn is_word(&self) -> bool {
        self.kind == TokenKind::Word
    }

    pub fn number(&self) -> Option<f64> {
        match self.kind {
            TokenKind::Number(n) => Some(n),
            _ => None,
        }
    }

    pub fn quoted(&self) -> Option<&str> {
        match &self.kind {
            TokenKind::Quoted(q) => Some(q),
            _ => None,
        }
    }
}

/// Splits a question into tokens. Never fails; any text gives some tokens.
pub fn tokenize(question: &str) -> Vec<Token> {
    let mut raw = Vec::new();
    let bytes: Vec<(usize, char)> = question.char_indices().collect();
    let n = bytes.len();
    let mut i = 0;
    let at = |k: usize| bytes.get(k).map(|&(_, c)| c);
    let pos = |k: usize| bytes.get(k).map(|&(p, _)| p).unwrap_or(question.len());
    while i < n {
        let c = bytes[i].1;
        // Underscores separate words: "section_name" is "section name".
        if c.is_whitespace() || c == '_' {
            i += 1;
            continue;
        }
        // Quoted values: "x", 'x', “x”, ‘x’, `x`, ``x''.
        let open_len = if c == '`' && at(i + 1) == Some('`') {
            2
        } else {
            1
        };
        let closer: Option<&[char]> = match c {
            '"' => Some(&['"']),
            '“' => Some(&['”', '"']),
            '‘' => Some(&['’', '\'']),
            '`' if open_len == 2 => Some(&['\'']),
            '`' => Some(&['`', '\'']),
            '\'' if i == 0 || at(i - 1).is_some_and(|p| !p.is_alphanumeric()) => Some(&['\'']),
            _ => None,
        };
        if let Some(closers) = closer {
            let mut j = i + open_len;
            let mut found = None;
            while j < n {
                let cj = bytes[j].1;
                if closers.contains(&cj) {
                    let next = at(j + 1);
                    // `''` closing `` ``x'' ``
                    let close_len = if open_len == 2 && next == Some('\'') {
                        2
                    } else {
                        1
                    };
                    let after = at(j + close_len);
                    let ok = c != '\'' || after.is_none_or(|a| !a.is_alphanumeric());
                    if ok {
                        found = Some((j, close_len));
                        break;
                    }
                }
                j += 1;
            }
            if let Some((j, close_len)) = found {
                let inner = question[pos(i + open_len)..pos(j)].trim().to_string();
                if !inner.is_empty() {
                    raw.push((pos(i), pos(j + close_len), RawKind::Quoted(inner)));
                }
                i = j + close_len;
                continue;
            }
        }
        if c.is_alphanumeric() {
            let start = i;
            let mut j = i;
            while j < n {
                let cj = bytes[j].1;
                let keep = cj.is_alphanumeric()
                    // O'Hara, but not the 's of a possessive or the 't of don't
                    || (cj == '\''
                        && at(j - 1).is_some_and(char::is_alphabetic)
                        && at(j + 1).is_some_and(char::is_alphabetic)
                        && !(matches!(at(j + 1), Some('s' | 'S' | 't' | 'T'))
                            && at(j + 2).is_none_or(|a| !a.is_alphanumeric())))
                    || ((cj == '.' || cj == ',')
                        && at(j - 1).is_some_and(|p| p.is_ascii_digit())
                        && at(j + 1).is_some_and(|p| p.is_ascii_digit()))
                    || ((cj == '-' || cj == '&' || cj == '/')
                        && at(j + 1).is_some_and(|p| p.is_alphanumeric())
                        && j > start);
                if !keep {
                    break;
                }
                j += 1;
            }
            // Keep a trailing % with numbers.
            if at(j) == Some('%') {
                j += 1;
            }
            raw.push((pos(start), pos(j), RawKind::Word));
            // Possessive 's.
            if at(j) == Some('\'')
                && matches!(at(j + 1), Some('s') | Some('S'))
                && at(j + 2).is_none_or(|a| !a.is_alphanumeric())
            {
                raw.push((pos(j), pos(j + 2), RawKind::Possessive));
                j += 2;
            } else if at(j) == Some('\'') && at(j + 1).is_none_or(|a| !a.is_alphanumeric()) {
                // plural possessive: players'
                j += 1;
            } else if at(j) == Some('\'')
                && matches!(at(j + 1), Some('t'))
                && at(j + 2).is_none_or(|a| !a.is_alphanumeric())
            {
                // don't, isn't, doesn't: keep "not" meaning
                raw.push((pos(j), pos(j + 2), RawKind::Not));
                j += 2;
            }
            i = j;
            continue;
        }
        if c == '$' || c == '€' || c == '£' {
            i += 1;
            continue;
        }
        raw.push((pos(i), pos(i + 1), RawKind::Punct));
        i += 1;
    }

    let mut tokens: Vec<Token> = Vec::with_capacity(raw.len());
    let kinds: Vec<Option<RawKind>> = raw
        .iter()
        .map(|r| Some(r.2.clone()))
        .skip(1)
        .chain(std::iter::once(None))
        .collect();
    for (k, ((start, end, kind), next_kind)) in raw.into_iter().zip(kinds).enumerate() {
        let text = question[start..end].to_string();
        let norm = text.to_lowercase();
        let (kind, lemma) = match kind {
            RawKind::Quoted(q) => (TokenKind::Quoted(q), norm.clone()),
            RawKind::Punct => (TokenKind::Punct, norm.clone()),
            RawKind::Possessive => (TokenKind::Word, "'s".to_string()),
            RawKind::Not => (TokenKind::Word, "not".to_string()),
            RawKind::Word => match parse_number(&norm) {
                Some(v) => (TokenKind::Number(v), norm.clone()),
                None => {
                    // "don't" arrives as "don" + "'t": give the verb its own form back.
                    let contracted = matches!(next_kind, Some(RawKind::Not)) && norm.ends_with('n');
                    let base = match norm.as_str() {
                        "won" if contracted => "will",
                        "can" | "ain" => norm.as_str(),
                        n if contracted => &n[..n.len() - 1],
                        n => n,
                    };
                    (TokenKind::Word, lemma_of(base))
                }
            },
        };
        let capitalized =
            k > 0 && kind == TokenKind::Word && text.chars().next().is_some_and(char::is_uppercase);
        tokens.push(Token {
            norm: if text.starts_with('\'') && (lemma == "'s" || lemma == "not") {
                lemma.clone()
            } else {
                norm
            },
            text,
            lemma,
            kind,
            start,
            end,
            spelled: false,
            capitalized,
        });
    }
    merge_number_words(&mut tokens);
    tokens
}

#[derive(Clone)]
enum RawKind {
    Word,
    Quoted(String),
    Punct,
    Possessive,
    Not,
}

/// The singular lowercase form used for matching, with a few verb forms folded too.
/// A rough stem shared by a word's verb forms, for matching a question's words to schema
/// names when their lemmas differ: "opening", "opened" and `open` → `open`; "closing",
/// "closed" and `close` → `clos`; "shipped" → `ship`. Not a word, only a key: both sides of
/// a comparison must use it.
pub fn stem(lemma: &str) -> String {
    let mut w = lemma.to_lowercase();
    let n = w.chars().count();
    if n > 5 && w.ends_with("ing") {
        w.truncate(w.len() - 3);
    } else if n > 4 && w.ends_with("ed") {
        w.truncate(w.len() - 2);
    }
    if w.len() > 3 && w.ends_with('e') {
        w.pop();
    }
    let b = w.as_bytes();
    let doubled = b.len() > 3
        && b[b.len() - 1] == b[b.len() - 2]
        && !matches!(
            b[b.len() - 1],
            b'a' | b'e' | b'i' | b'o' | b'u' | b's' | b'l'
        );
    if doubled {
        w.pop();
    }
    w
}

pub fn lemma_of(word: &str) -> String {
    let w = word.to_lowercase();
    match w.as_str() {
        "has" | "have" | "had" | "having" => "have".into(),
        "is" | "are" | "was" | "were" | "be" | "been" | "being" => "be".into(),
        "does" | "do" | "did" => "do".into(),
        "this" | "these" => "this".into(),
        "its" | "it's" => "its".into(),
        "less" | "was'nt" => w,
        _ if w.len() > 3 && w.ends_with("ss") => w,
        _ => singular(&w),
    }
}

fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim_end_matches('%');
    if t.is_empty() || !t.starts_with(|c: char| c.is_ascii_digit()) {
        return ordinal(s);
    }
    let cleaned: String = t.chars().filter(|&c| c != ',').collect();
    if let Ok(v) = cleaned.parse::<f64>() {
        return Some(v);
    }
    // 1st, 2nd, 3rd, 4th
    let digits: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
    let rest = &t[digits.len()..];
    if matches!(rest, "st" | "nd" | "rd" | "th") {
        return digits.parse().ok();
    }
    // 10k, 5m
    match rest {
        "k" => digits.parse::<f64>().ok().map(|v| v * 1e3),
        "m" | "mm" => digits.parse::<f64>().ok().map(|v| v * 1e6),
        _ => None,
    }
}

fn ordinal(_s: &str) -> Option<f64> {
    None
}

/// The value of a number word, or None.
pub fn number_word(w: &str) -> Option<f64> {
    Some(match w {
        "zero" => 0.0,
        "one" => 1.0,
        "two" => 2.0,
        "three" => 3.0,
        "four" => 4.0,
        "five" => 5.0,
        "six" => 6.0,
        "seven" => 7.0,
        "eight" => 8.0,
        "nine" => 9.0,
        "ten" => 10.0,
        "eleven" => 11.0,
        "twelve" => 12.0,
        "thirteen" => 13.0,
        "fourteen" => 14.0,
        "fifteen" => 15.0,
        "sixteen" => 16.0,
        "seventeen" => 17.0,
        "eighteen" => 18.0,
        "nineteen" => 19.0,
        "twenty" => 20.0,
        "thirty" => 30.0,
        "forty" => 40.0,
        "fifty" => 50.0,
        "sixty" => 60.0,
        "seventy" => 70.0,
        "eighty" => 80.0,
        "ninety" => 90.0,
        "hundred" => 100.0,
        "thousand" => 1e3,
        "million" => 1e6,
        "billion" => 1e9,
        "dozen" => 12.0,
        _ => return None,
    })
}

/// Folds runs of number words ("twenty five", "three hundred", "2 million") into one number
/// token. A lone "one" stays a word unless a comparison or count context makes it a number;
/// the parser decides that, so it is marked `spelled`.
fn merge_number_words(tokens: &mut Vec<Token>) {
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        let starts = t.kind == TokenKind::Word
            && number_word(&t.norm).is_some()
            && !matches!(
                t.norm.as_str(),
                "hundred" | "thousand" | "million" | "billion" | "dozen"
            );
        let numeric_start = t.number().is_some();
        if !(starts || numeric_start) {
            out.push(t.clone());
            i += 1;
            continue;
        }
        let mut total = 0.0;
        let mut current = t.number().or_else(|| number_word(&t.norm)).unwrap_or(0.0);
        let mut j = i + 1;
        let spelled = !numeric_start;
        while j < tokens.len() {
            let nt = &tokens[j];
            if nt.kind != TokenKind::Word {
                break;
            }
            let Some(v) = number_word(&nt.norm) else {
                if nt.norm == "and"
                    && j + 1 < tokens.len()
                    && spelled
                    && number_word(&tokens[j + 1].norm).is_some_and(|v| v < 100.0)
                    && current >= 100.0
                {
                    j += 1;
                    continue;
                }
                break;
            };
            if numeric_start && v < 100.0 {
                break;
            }
            if v >= 1000.0 {
                total += current.max(1.0) * v;
                current = 0.0;
            } else if v == 100.0 {
                current = current.max(1.0) * 100.0;
            } else if (current % 10.0 == 0.0 && current >= 20.0 && v < 10.0)
                || (current >= 100.0 && v < 100.0)
            {
                current += v;
            } else {
                break;
            }
            j += 1;
        }
        let value = total + current;
        let first = &tokens[i];
        let last = &tokens[j - 1];
        let text_end = last.end;
        let mut merged = first.clone();
        if j - i > 1 {
            merged.text = format!("{}…", first.text);
            merged.norm = tokens[i..j]
                .iter()
                .map(|t| t.norm.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            merged.lemma = merged.norm.clone();
        }
        merged.end = text_end;
        merged.kind = TokenKind::Number(value);
        merged.spelled = spelled;
        out.push(merged);
        i = j;
    }
    *tokens = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_join_verb_forms() {
        for group in [
            &["opening", "opened", "open"][..],
            &["closing", "closed", "close"],
            &["issue", "issued", "issuing"],
            &["shipped", "ship", "shipping"],
            &["started", "start", "starting"],
            &["created", "create", "creating"],
        ] {
            let stems: Vec<String> = group.iter().map(|w| stem(w)).collect();
            assert!(
                stems.iter().all(|s| *s == stems[0]),
                "{group:?} → {stems:?}"
            );
        }
        // Short words and words that only look inflected stay apart from their neighbours.
        assert_ne!(stem("bed"), stem("be"));
        assert_ne!(stem("sing"), stem("s"));
        assert_eq!(stem("sell"), "sell");
    }

    fn show(q: &str) -> String {
        tokenize(q)
            .iter()
            .map(|t| match &t.kind {
                TokenKind::Word => t.lemma.clone(),
                TokenKind::Number(n) => format!("#{n}"),
                TokenKind::Quoted(s) => format!("<{s}>"),
                TokenKind::Punct => t.text.clone(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn tokens() {
        assert_eq!(
            show("How many singers are there?"),
            "how many singer be there ?"
        );
        assert_eq!(
            show("Show names of people whose nationality is not \"Russia\"."),
            "show name of person whose nationality be not <Russia> ."
        );
        assert_eq!(
            show("hometown is not `` Little Lever Urban District '' ?"),
            "hometown be not <Little Lever Urban District> ?"
        );
        assert_eq!(
            show("What is the singer's age?"),
            "what be the singer 's age ?"
        );
        assert_eq!(
            show("orders over 1,200.50 or 30%"),
            "order over #1200.5 or #30"
        );
        assert_eq!(show("the top twenty five products"), "the top #25 product");
        assert_eq!(show("three hundred and two"), "#302");
        assert_eq!(show("2 million people"), "#2000000 person");
        assert_eq!(
            show("Which dogs don't have owners'?"),
            "which dog do not have owner ?"
        );
        assert_eq!(show("departing from 'APG'."), "departing from <APG> .");
        assert_eq!(show("sales in-store"), "sale in-store");
        assert_eq!(show("the 3rd"), "the #3");
        assert_eq!(show(""), "");
    }

    #[test]
    fn apostrophes_inside_words_are_not_quotes() {
        assert_eq!(show("O'Hara's films"), "o'hara 's film");
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_spans_are_valid(q in "\\PC{0,120}") {
            for t in tokenize(&q) {
                proptest::prop_assert!(t.start <= t.end && t.end <= q.len());
                proptest::prop_assert!(q.is_char_boundary(t.start) && q.is_char_boundary(t.end));
            }
        }
    }
}
