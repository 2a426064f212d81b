//! Stems, so that inflected forms meet: Russian by the Snowball algorithm (from the
//! `rust-stemmers` crate), Kazakh by suffix stripping written here, since no crate does
//! Kazakh well. Both work on folded words (see [`crate::text::readings`]); every word is
//! stemmed both ways, and a pattern is matched against the stems of its own language.

use rust_stemmers::{Algorithm, Stemmer};
use std::sync::LazyLock;

static RUSSIAN: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::Russian));

pub fn russian(word: &str) -> String {
    RUSSIAN.stem(word).into_owned()
}

/// Kazakh suffixes in folded spelling (ә→а, і→и …), longest first within each group.
/// Kazakh stacks suffixes (бала-лар-ым-ды: "my children", accusative), so stripping
/// repeats; a stem keeps at least three letters, which keeps short roots apart.
const KAZAKH_SUFFIXES: &[&str] = &[
    // plural
    "лар", "лер", "дар", "дер", "тар", "тер", // case endings
    "нын", "нин", "дын", "дин", "тын", "тин", "нан", "нен", "дан", "ден", "тан", "тен", "мен", "бен", "пен", "нда",
    "нде", "га", "ге", "ка", "ке", "на", "не", "да", "де", "та", "те", "ны", "ни", "ды", "ди", "ты", "ти",
    // possessive and personal endings
    "ымыз", "имиз", "мыз", "миз", "сыз", "сиз", "мын", "мин", "сын", "син", "сы", "си", "ым", "им", "ын", "ин",
    // participles and converbs
    "ган", "ген", "кан", "кен", "ып", "ип", // single letters last
    "а", "е", "ы", "и", "м", "н", "п", "у",
];

const MIN_STEM: usize = 3;

pub fn kazakh(word: &str) -> String {
    let mut stem = word.to_string();
    for _ in 0..3 {
        let len = stem.chars().count();
        let Some(suffix) = KAZAKH_SUFFIXES.iter().find(|s| stem.ends_with(*s) && len - s.chars().count() >= MIN_STEM)
        else {
            break;
        };
        stem.truncate(stem.len() - suffix.len());
    }
    stem
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::readings;

    fn kk(text: &str) -> String {
        readings(text)[0].iter().map(|w| kazakh(w)).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn kazakh_inflections_meet_and_negation_stays_apart() {
        let child = kk("бала");
        for form in ["балам", "баланы", "балаларым", "балама", "баламды"] {
            assert_eq!(kk(form), child, "{form}");
        }
        assert_ne!(kk("өлгім келеді"), kk("өлгім келмейді"));
        assert_eq!(kk("өлгім келеді"), kk("olgim keledi"));
    }

    #[test]
    fn russian_inflections_meet() {
        let r = |w: &str| russian(&readings(w)[0][0]);
        // Snowball does not restore fleeting vowels (ребенок/ребенка): patterns use a prefix there.
        assert_eq!(r("ребенка"), r("ребенку"));
        assert_eq!(r("таблетки"), r("таблетками"));
        assert_eq!(r("устала"), r("устал"));
    }
}
