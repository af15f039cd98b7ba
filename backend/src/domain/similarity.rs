//! How alike two short Danish texts are, to suggest "Er det det samme som …?"
//! while a citizen writes a statement or an idea, and to help moderators find
//! duplicates.
//!
//! The texts are normalised (lower case, letters and digits only, common
//! Danish words left out, a light stemming of plural and definite endings),
//! then compared twice with the Jaccard index: as sets of words (the same
//! words in another order) and as sets of letter trigrams (spelling and
//! inflection differences, compound words). The score is the mean of both.

use std::collections::BTreeSet;

/// Suggestions start at this score: below it, texts share a topic but say
/// different things (tuned with the tests below).
pub const SUGGEST_AT: f64 = 0.4;

/// Words that say little about what a statement means.
const STOPWORDS: &[&str] = &[
    "af", "alle", "at", "bare", "blev", "blive", "bliver", "da", "de", "dem", "den", "denne",
    "der", "deres", "det", "dette", "dig", "din", "du", "efter", "eller", "en", "end", "er", "et",
    "for", "fra", "få", "gerne", "godt", "ham", "han", "har", "have", "hende", "her", "hun",
    "hvad", "hvis", "hvor", "i", "ikke", "ind", "jeg", "kan", "kunne", "man", "med", "meget",
    "men", "mig", "min", "mit", "må", "nu", "når", "og", "om", "op", "os", "over", "på", "sig",
    "sin", "skal", "skulle", "som", "så", "til", "ud", "under", "var", "ved", "vi", "vil", "være",
    "været",
];

/// Endings taken off longer words, longest first: "cykelstierne" and
/// "cykelstier" both become "cykelsti".
const ENDINGS: &[&str] = &["erne", "ene", "ers", "er", "en", "et", "e", "s"];

/// Lower case, letters and digits only, single spaces.
pub fn normalise(text: &str) -> String {
    let mapped: String = text
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    mapped.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn stem(word: &str) -> String {
    if word.chars().count() > 4 {
        for ending in ENDINGS {
            if let Some(base) = word.strip_suffix(ending)
                && base.chars().count() >= 3
            {
                return base.to_owned();
            }
        }
    }
    word.to_owned()
}

/// The meaningful words of a text, stemmed.
pub fn words(text: &str) -> BTreeSet<String> {
    normalise(text)
        .split(' ')
        .filter(|w| !w.is_empty() && !STOPWORDS.contains(w))
        .map(stem)
        .collect()
}

fn trigrams(words: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for w in words {
        let padded: Vec<char> = format!(" {w} ").chars().collect();
        for window in padded.windows(3) {
            out.insert(window.iter().collect());
        }
    }
    out
}

/// Similarity of two texts, from 0 (nothing in common) to 1 (the same words).
pub fn score(a: &str, b: &str) -> f64 {
    let (wa, wb) = (words(a), words(b));
    if wa.is_empty() || wb.is_empty() {
        return 0.0;
    }
    let by_words = plain_jaccard(&wa, &wb);
    let by_letters = plain_jaccard(&trigrams(&wa), &trigrams(&wb));
    (by_words + by_letters) / 2.0
}

fn plain_jaccard(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    let union = a.union(b).count();
    if union == 0 {
        0.0
    } else {
        a.intersection(b).count() as f64 / union as f64
    }
}

/// The candidates at least [`SUGGEST_AT`] alike `text`, most alike first, at most `max`.
pub fn most_similar<'a, I>(text: &str, candidates: I, max: usize) -> Vec<(i64, f64)>
where
    I: IntoIterator<Item = (i64, &'a str)>,
{
    ranked(text, candidates)
        .into_iter()
        .filter(|(_, s)| *s >= SUGGEST_AT)
        .take(max)
        .collect()
}

/// Every candidate with its score, most alike first (for moderators choosing an original).
pub fn ranked<'a, I>(text: &str, candidates: I) -> Vec<(i64, f64)>
where
    I: IntoIterator<Item = (i64, &'a str)>,
{
    let mut out: Vec<(i64, f64)> = candidates
        .into_iter()
        .map(|(id, other)| (id, score(text, other)))
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_meaning_in_other_words_is_similar() {
        for (a, b) in [
            (
                "Der skal være flere cykelstier",
                "Vi skal have flere cykelstier i byen",
            ),
            (
                "Busserne skal køre oftere om aftenen",
                "Bussen skal køre oftere om aftenen!",
            ),
            ("Flere bænke langs åen", "Der mangler bænke langs åen"),
            (
                "Biblioteket skal have åbent om søndagen",
                "Åbent bibliotek om søndagen",
            ),
        ] {
            let s = score(a, b);
            assert!(s >= SUGGEST_AT, "{a} / {b}: {s}");
        }
    }

    #[test]
    fn different_statements_are_not_suggested() {
        for (a, b) in [
            (
                "Der skal være flere cykelstier",
                "Busserne skal køre oftere om aftenen",
            ),
            (
                "Der skal være flere cykelstier",
                "Der skal være færre biler",
            ),
            ("og i at det", "og i at det"),
        ] {
            let s = score(a, b);
            assert!(s < SUGGEST_AT, "{a} / {b}: {s}");
        }
    }

    #[test]
    fn normalising_keeps_danish_letters_and_drops_punctuation() {
        assert_eq!(normalise("  Åen, ØEN & Æblet!! "), "åen øen æblet");
        assert_eq!(stem("cykelstierne"), "cykelsti");
        assert_eq!(stem("cykelstier"), "cykelsti");
    }

    #[test]
    fn the_most_similar_come_first() {
        let list = [
            (1, "Busserne skal køre oftere"),
            (2, "Flere cykelstier i byen"),
            (3, "Der skal være flere cykelstier"),
        ];
        let found = most_similar("Der skal være flere cykelstier", list, 5);
        assert_eq!(found.first().map(|f| f.0), Some(3));
        assert!(found.iter().all(|f| f.0 != 1));
    }
}
