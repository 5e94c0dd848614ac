//! The follow-up word lists (`followup.txt`, its format described at its top), read once.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The kinds of follow-up cue the word file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cue {
    Anaphor,
    Demonstrative,
    Opener,
    Negation,
    Regroup,
    Add,
    Instead,
    Drill,
    Compare,
    Correction,
    Top,
    Bottom,
    Average,
    Order,
    Ascending,
    Distinct,
    Limit,
    Descending,
    Complement,
    Each,
}

impl Cue {
    fn section(name: &str) -> Option<Cue> {
        Some(match name {
            "anaphor" => Cue::Anaphor,
            "demonstrative" => Cue::Demonstrative,
            "opener" => Cue::Opener,
            "negation" => Cue::Negation,
            "regroup" => Cue::Regroup,
            "add" => Cue::Add,
            "instead" => Cue::Instead,
            "drill" => Cue::Drill,
            "compare" => Cue::Compare,
            "correction" => Cue::Correction,
            "top" => Cue::Top,
            "bottom" => Cue::Bottom,
            "average" => Cue::Average,
            "order" => Cue::Order,
            "ascending" => Cue::Ascending,
            "distinct" => Cue::Distinct,
            "limit" => Cue::Limit,
            "descending" => Cue::Descending,
            "complement" => Cue::Complement,
            "each" => Cue::Each,
            _ => return None,
        })
    }
}

const FILE: &str = include_str!("followup.txt");

/// Phrases per cue, each as its words.
fn lists() -> &'static HashMap<Cue, Vec<Vec<String>>> {
    static LISTS: OnceLock<HashMap<Cue, Vec<Vec<String>>>> = OnceLock::new();
    LISTS.get_or_init(|| parse(FILE))
}

fn parse(text: &str) -> HashMap<Cue, Vec<Vec<String>>> {
    let mut out: HashMap<Cue, Vec<Vec<String>>> = HashMap::new();
    let mut current = None;
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Cue::section(name);
            continue;
        }
        let Some(cue) = current else { continue };
        for phrase in line.split('|') {
            let words: Vec<String> = phrase.split_whitespace().map(str::to_string).collect();
            if !words.is_empty() {
                out.entry(cue).or_default().push(words);
            }
        }
    }
    // Longest phrases first, so "compared with" wins over "compared".
    for v in out.values_mut() {
        v.sort_by_key(|p| std::cmp::Reverse(p.len()));
    }
    out
}

/// The length of the longest phrase of `cue` starting at `words[i]`, if any.
pub fn phrase_at(cue: Cue, words: &[&str], i: usize) -> Option<usize> {
    lists().get(&cue)?.iter().find_map(|p| {
        let n = p.len();
        (i + n <= words.len() && p.iter().zip(&words[i..i + n]).all(|(a, b)| a == b)).then_some(n)
    })
}

/// Every position where a phrase of `cue` starts, with its length.
pub fn find(cue: Cue, words: &[&str]) -> Vec<(usize, usize)> {
    (0..words.len())
        .filter_map(|i| phrase_at(cue, words, i).map(|n| (i, n)))
        .collect()
}

/// Whether `words` has a phrase of `cue` anywhere.
pub fn has(cue: Cue, words: &[&str]) -> bool {
    (0..words.len()).any(|i| phrase_at(cue, words, i).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_section_of_the_file_is_known_and_filled() {
        let mut current = None;
        for line in FILE.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                assert!(Cue::section(name).is_some(), "unknown section [{name}]");
                current = Cue::section(name);
            }
        }
        assert!(current.is_some());
        for cue in [
            Cue::Anaphor,
            Cue::Opener,
            Cue::Regroup,
            Cue::Drill,
            Cue::Top,
        ] {
            assert!(lists().get(&cue).is_some_and(|l| !l.is_empty()), "{cue:?}");
        }
    }

    #[test]
    fn longest_phrase_wins() {
        let w = ["compared", "with", "last", "year"];
        assert_eq!(phrase_at(Cue::Compare, &w, 0), Some(2));
        assert_eq!(phrase_at(Cue::Compare, &w, 2), None);
        assert_eq!(
            find(Cue::Opener, &["what", "about", "the", "west"]),
            vec![(0, 2)]
        );
        assert!(has(Cue::Negation, &["exclude", "returns"]));
        assert!(!has(Cue::Negation, &["include", "returns"]));
    }
}
