//! Normalisation: one form of a message to match words against, whatever the keyboard.
//!
//! Parents write Cyrillic Kazakh, Latin-script Kazakh (the official 2021 letters, or
//! plain ASCII like "sharshadym"), Russian, Russian in Latin letters ("ne hochu zhit")
//! and mixtures. [`readings`] turns any of these into folded Cyrillic: Kazakh letters
//! folded onto their base letters (ә→а, қ→к, і→и …) and soft/hard signs dropped, because
//! informal Latin typing loses exactly these distinctions. Latin words are ambiguous
//! between the Kazakh and the Russian spelling habits, so they give two readings.

/// Lower-cases, folds `ё` into `е`, turns punctuation and symbols into spaces and
/// collapses runs of white space, so "Қазақша!" and "  қазақша " compare equal.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for ch in text.chars().flat_map(char::to_lowercase) {
        let ch = if ch == 'ё' { 'е' } else { ch };
        // An apostrophe marks a soft sign in translit ("zhit'"): it joins, never splits.
        if ch == '\'' || ch == '’' {
            continue;
        }
        if ch.is_alphanumeric() || ch == '/' {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(ch);
        } else {
            pending_space = true;
        }
    }
    out
}

/// Which Latin spelling habit to read a Latin word with.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Scheme {
    /// Informal Kazakh: plain ASCII, `i` for і ("keledi").
    Kazakh,
    /// The official 2021 letters: ı for і, i for и and й.
    Kazakh2021,
    Russian,
}

/// Letters only the official 2021 Kazakh Latin alphabet uses.
pub(crate) const OFFICIAL_KK_LATIN: &str = "äğıñöşūüç";

/// The folded Cyrillic readings of a text: one when it has no Latin letters, two (Kazakh
/// and Russian spelling habits) when it has. Each is a sequence of words.
pub fn readings(text: &str) -> Vec<Vec<String>> {
    let words: Vec<String> = normalize(text).split(' ').filter(|w| !w.is_empty()).map(str::to_string).collect();
    let has_latin = words.iter().any(|w| w.chars().any(|c| c.is_ascii_alphabetic() || OFFICIAL_KK_LATIN.contains(c)));
    let read = |scheme: Option<Scheme>| -> Vec<String> {
        words
            .iter()
            .map(|w| {
                let cyrillic = match scheme {
                    Some(s) => transliterate(w, s, false),
                    None => w.clone(),
                };
                fold(&cyrillic)
            })
            .filter(|w| !w.is_empty())
            .collect()
    };
    if has_latin { vec![read(Some(Scheme::Kazakh)), read(Some(Scheme::Russian))] } else { vec![read(None)] }
}

pub fn is_cyrillic(c: char) -> bool {
    ('\u{0400}'..='\u{04FF}').contains(&c)
}

/// Kazakh letters onto their base letters, й onto и, щ onto ш, э onto е; soft and hard
/// signs dropped.
pub(crate) fn fold(word: &str) -> String {
    word.chars()
        .filter_map(|c| match c {
            'ә' => Some('а'),
            'ғ' => Some('г'),
            'қ' => Some('к'),
            'ң' => Some('н'),
            'ө' => Some('о'),
            'ұ' | 'ү' => Some('у'),
            'һ' => Some('х'),
            // Informal Latin typing writes й as i, as it writes і.
            'і' | 'й' => Some('и'),
            // And щ as sh ("proshanie"), as it writes ш; э as e ("eto").
            'щ' => Some('ш'),
            'э' => Some('е'),
            'ь' | 'ъ' => None,
            c => Some(c),
        })
        .collect()
}

/// Multi-letter Latin spellings, longest first, shared by both habits.
const DIGRAPHS: &[(&str, &str)] = &[
    ("shch", "щ"),
    ("sch", "щ"),
    ("zh", "ж"),
    ("kh", "х"),
    ("ch", "ч"),
    ("sh", "ш"),
    ("yu", "ю"),
    ("ya", "я"),
    ("yo", "е"),
    ("gh", "г"),
];

/// Reads one lower-case Latin (or partly Latin) word as Cyrillic, with the Kazakh
/// letters the Kazakh habit stands for (`fold` takes them back to base letters). Cyrillic
/// letters pass through. `spelled` reads a vowel's `y` or `i` as й, as a reader would:
/// "uyyqtay" is уйықтай. The lexicon's readings do without it.
pub(crate) fn transliterate(word: &str, scheme: Scheme, spelled: bool) -> String {
    // A y or i after one of these vowels and before a consonant (or another y, i) is й:
    // "uyyqtay" уйықтай, "keiin" кейін, "roditelei" родителей.
    const BEFORE_SHORT_I: &str = "aeouyäöūü";
    const VOWELS: &str = "aeouäıöūü";
    let (kazakh, official) = (scheme != Scheme::Russian, scheme == Scheme::Kazakh2021);
    let mut out = String::with_capacity(word.len() * 2);
    let mut rest = word;
    let mut after_vowel = false;
    'outer: while let Some(c) = rest.chars().next() {
        let next_is_vowel = rest[c.len_utf8()..].chars().next().is_some_and(|n| VOWELS.contains(n));
        if spelled && after_vowel && !next_is_vowel && (c == 'y' || c == 'i') {
            out.push('й');
            rest = &rest[1..];
            after_vowel = false;
            continue;
        }
        after_vowel = BEFORE_SHORT_I.contains(c);
        for (latin, cyrillic) in DIGRAPHS {
            if rest.starts_with(latin) {
                out.push_str(cyrillic);
                rest = &rest[latin.len()..];
                continue 'outer;
            }
        }
        // Russian "ts" is ц; in Kazakh it is a suffix seam (ketsem, bitse).
        if scheme == Scheme::Russian && rest.starts_with("ts") {
            out.push('ц');
            rest = &rest[2..];
            continue;
        }
        let mapped = match c {
            'ä' if kazakh => "ә",
            'a' | 'ä' => "а",
            'b' => "б",
            'c' => "ц",
            'ç' => "ч",
            'd' => "д",
            'e' => "е",
            'f' => "ф",
            'ğ' if kazakh => "ғ",
            'g' | 'ğ' => "г",
            'h' | 'x' => "х",
            // The 2021 alphabet writes і as ı, and и/й as i; informal Kazakh writes і as i.
            'i' if kazakh && !official => "і",
            'i' => "и",
            'ı' => "і",
            'j' if kazakh => "ж",
            'j' => "й",
            'q' if kazakh => "қ",
            'k' | 'q' => "к",
            'l' => "л",
            'm' => "м",
            'ñ' if kazakh => "ң",
            'n' | 'ñ' => "н",
            'ö' if kazakh => "ө",
            'o' | 'ö' => "о",
            'p' => "п",
            'r' => "р",
            's' => "с",
            'ş' => "ш",
            't' => "т",
            'ū' if kazakh => "ұ",
            'ü' if kazakh => "ү",
            'u' | 'ū' | 'ü' => "у",
            'v' | 'w' => "в",
            'y' => "ы",
            'z' => "з",
            '4' => "ч",
            '\'' if spelled && !kazakh => "ь",
            '\'' => "",
            other => {
                out.push(other);
                rest = &rest[other.len_utf8()..];
                continue;
            }
        };
        out.push_str(mapped);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(text: &str) -> Vec<String> {
        readings(text).into_iter().map(|r| r.join(" ")).collect()
    }

    #[test]
    fn folds_case_yo_punctuation_and_spaces() {
        assert_eq!(normalize("  Қазақша!! "), "қазақша");
        assert_eq!(normalize("Всё,   ХОРОШО..."), "все хорошо");
        assert_eq!(normalize("🙂🙂🙂"), "");
        assert_eq!(normalize("/Start"), "/start");
    }

    #[test]
    fn cyrillic_kazakh_folds_onto_base_letters() {
        assert_eq!(joined("Өлгім келеді!"), ["олгим келеди"]);
        assert_eq!(joined("Больше не могу"), ["болше не могу"]);
    }

    #[test]
    fn latin_kazakh_in_both_spellings_meets_the_cyrillic() {
        let cyrillic = &joined("шаршадым, өлгім келеді")[0];
        assert!(joined("sharshadym, olgim keledi").contains(cyrillic));
        assert!(joined("şarşadym, ölgım keledı").contains(cyrillic));
        // Conditional seams are not ц, and "ia" stays two letters.
        assert!(joined("ketsem").contains(&"кетсем".to_string()));
        assert!(joined("diagnoz").iter().any(|r| r == "диагноз"));
        assert!(joined("Balam auyryp jur").contains(&"балам ауырып жур".to_string()));
    }

    #[test]
    fn russian_translit_meets_the_cyrillic() {
        let cyrillic = &joined("не хочу жить")[0];
        assert!(joined("ne hochu zhit").contains(cyrillic));
        assert!(joined("ne xochu zhit'").contains(cyrillic));
        assert!(joined("b'et rebenka").contains(&"бет ребенка".to_string()));
        assert!(joined("ne mogu bolshe").contains(&"не могу болше".to_string()));
        assert!(joined("4to delat").contains(&"что делат".to_string()));
    }

    #[test]
    fn mixed_scripts_keep_the_cyrillic_words() {
        let r = joined("ne mogu uzhe, қиын");
        assert!(r.iter().all(|s| s.ends_with("киын")), "{r:?}");
    }
}
