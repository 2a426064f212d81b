//! Which of Qamqor's two languages a text is written in.

use crate::text::{OFFICIAL_KK_LATIN, Scheme, is_cyrillic, transliterate};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// The languages Qamqor speaks. A parent chooses one; the bot remembers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Kk,
    Ru,
}

impl Lang {
    /// Both, Kazakh (the state language) first: the order of a bilingual message.
    pub const ALL: [Lang; 2] = [Lang::Kk, Lang::Ru];
    /// For someone who has not chosen a language, where one must be picked (a staff
    /// notice, a case's other side, a new row for a person in crisis).
    pub const FALLBACK: Lang = Lang::Ru;

    pub fn code(self) -> &'static str {
        match self {
            Lang::Kk => "kk",
            Lang::Ru => "ru",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "kk" => Some(Lang::Kk),
            "ru" => Some(Lang::Ru),
            _ => None,
        }
    }
}

/// Letters that Kazakh Cyrillic has and Russian does not.
const KAZAKH_LETTERS: &str = "әғқңөұүһіӘҒҚҢӨҰҮҺІ";

/// Guesses the language of a text from its script: Kazakh letters mean Kazakh, other
/// Cyrillic means Russian. Latin-script text gives `None`; the caller then speaks both.
/// Used only before a parent has chosen a language.
pub fn detect(text: &str) -> Option<Lang> {
    if text.chars().any(|c| KAZAKH_LETTERS.contains(c)) {
        Some(Lang::Kk)
    } else if text.chars().any(crate::text::is_cyrillic) {
        Some(Lang::Ru)
    } else {
        None
    }
}

/// What a message is written in, as `qamqor classify` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Written {
    Kk,
    Ru,
    Mixed,
}

/// Common Kazakh words, folded (see `text::readings`): they mark Kazakh in any script.
const KK_WORDS: &[&str] = &[
    "мен",
    "сен",
    "ол",
    "биз",
    "сиз",
    "олар",
    "бала",
    "балам",
    "баламды",
    "баланын",
    "балалар",
    "жок",
    "бар",
    "емес",
    "деп",
    "ушин",
    "пен",
    "бен",
    "менин",
    "сенин",
    "онын",
    "бир",
    "осы",
    "бул",
    "сол",
    "кандаи",
    "калаи",
    "неге",
    "кашан",
    "каида",
    "жане",
    "бирак",
    "енди",
    "кази",
    "бугин",
    "кеше",
    "ертен",
    "жаксы",
    "жаман",
    "рахмет",
    "керек",
    "болады",
    "болды",
    "болып",
    "келеди",
    "кетти",
    "айтты",
    "деди",
    "ана",
    "анамын",
    "киын",
    "шаршадым",
    "маган",
    "сизге",
    "кимге",
    "ештене",
    "барлык",
    "колымнан",
    "келмеиди",
    "жатыр",
    "отырмын",
    "жатырмын",
    "уиде",
    "мектепке",
    "кызым",
    "улым",
    "куиеуим",
    "ага",
    "аке",
    "апа",
    "ата",
    "ма",
    "ме",
    "ба",
    "бе",
    "па",
    "пе",
    "гои",
    "екен",
];

/// Common Russian words, folded.
const RU_WORDS: &[&str] = &[
    "я",
    "ты",
    "он",
    "она",
    "мы",
    "вы",
    "они",
    "не",
    "и",
    "в",
    "на",
    "что",
    "как",
    "это",
    "у",
    "меня",
    "мне",
    "с",
    "по",
    "но",
    "так",
    "уже",
    "все",
    "был",
    "была",
    "есть",
    "нет",
    "да",
    "очень",
    "хочу",
    "могу",
    "ребенок",
    "ребенка",
    "сын",
    "сына",
    "дочь",
    "муж",
    "когда",
    "где",
    "почему",
    "если",
    "или",
    "еще",
    "тоже",
    "только",
    "просто",
    "сеичас",
    "сегодня",
    "можно",
    "нужно",
    "надо",
    "мои",
    "моя",
    "моего",
    "его",
    "ее",
    "их",
    "за",
    "от",
    "до",
    "для",
    "без",
    "больше",
    "болше",
    "помогите",
    "спасибо",
    "здравствуите",
    "пожалуиста",
    "чтобы",
    "кто",
    "бы",
];

/// Says which language a message is in: Kazakh letters and common words of each
/// language are counted over every reading, and both present in strength is "mixed".
pub fn written_in(text: &str) -> Written {
    let official_latin = text.chars().any(|c| "äğıñöşūüÄĞIÑÖŞŪÜ".contains(c) && c != 'I');
    let kk_letters = text.split_whitespace().filter(|w| w.chars().any(|c| KAZAKH_LETTERS.contains(c))).count();
    let (mut kk, mut ru) = (kk_letters + if official_latin { 2 } else { 0 }, 0);
    let mut best = (0usize, 0usize);
    for reading in crate::text::readings(text) {
        let k = reading.iter().filter(|w| KK_WORDS.contains(&w.as_str())).count();
        let r = reading.iter().filter(|w| RU_WORDS.contains(&w.as_str())).count();
        if k + r > best.0 + best.1 {
            best = (k, r);
        }
    }
    kk += best.0;
    ru += best.1;
    match (kk, ru) {
        (0, 0) => detect(text).map_or(Written::Ru, |l| if l == Lang::Kk { Written::Kk } else { Written::Ru }),
        (k, r) if k.min(r) * 4 >= k.max(r) => Written::Mixed,
        (k, r) if k > r => Written::Kk,
        _ => Written::Ru,
    }
}

/// A message as the text model reads it best: Latin-script words spelled in Cyrillic,
/// in the Kazakh or the Russian habit as the message's Latin words suggest ("men
/// sharshadym" → "мен шаршадым", "ne hochu zhit" → "не хочу жит"). e5 learned Kazakh
/// and Russian from Cyrillic text; their Latin spellings it reads poorly. Everything
/// else — Cyrillic, digits, punctuation, capitals — stays as written.
pub fn cyrillic(text: &str) -> Cow<'_, str> {
    let official = |c: char| OFFICIAL_KK_LATIN.contains(c.to_lowercase().next().unwrap_or(c));
    let is_latin = |c: char| c.is_ascii_alphabetic() || official(c);
    if !text.chars().any(is_latin) {
        return Cow::Borrowed(text);
    }
    // The language of the Latin words alone, asked only when the letters do not tell.
    let latin_words = || text.split_whitespace().filter(|w| !w.chars().any(is_cyrillic)).collect::<Vec<_>>().join(" ");
    let scheme = if text.contains('ı') {
        // Only a writer who types ı for і means и by i.
        Scheme::Kazakh2021
    } else if text.chars().any(official) || written_in(&latin_words()) != Written::Ru {
        Scheme::Kazakh
    } else {
        Scheme::Russian
    };
    let mut out = String::with_capacity(text.len() * 2);
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.is_empty() {
            return;
        }
        let lower = word.to_lowercase();
        let spelled = transliterate(&lower, scheme, true);
        match word.chars().next() {
            Some(first) if first.is_uppercase() => {
                let mut chars = spelled.chars();
                out.extend(chars.next().into_iter().flat_map(char::to_uppercase));
                out.extend(chars);
            }
            _ => out.push_str(&spelled),
        }
        word.clear();
    };
    for c in text.chars() {
        // An apostrophe inside a Latin word is a soft sign ("zhit'"); it stays in the word.
        if is_latin(c) || (c == '\'' && !word.is_empty()) {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::fold;

    #[test]
    fn kazakh_russian_and_mixed_in_any_script() {
        for (text, want) in [
            ("Шаршадым, балам ауырып жатыр", Written::Kk),
            ("sharshadym, balam auyryp jatyr", Written::Kk),
            ("şarşadym, balam auyryp jatyr", Written::Kk),
            ("Я очень устала, не знаю что делать", Written::Ru),
            ("ya ochen ustala, ne znayu chto delat", Written::Ru),
            ("не могу уже, шаршадым, балам жылайды", Written::Mixed),
        ] {
            assert_eq!(written_in(text), want, "{text}");
        }
    }

    #[test]
    fn script_decides_the_language() {
        assert_eq!(detect("Сәлеметсіз бе"), Some(Lang::Kk));
        assert_eq!(detect("Здравствуйте"), Some(Lang::Ru));
        assert_eq!(detect("salem"), None);
        assert_eq!(detect("🙂"), None);
    }

    #[test]
    fn the_model_reads_latin_script_in_cyrillic_spelling() {
        for (latin, want) in [
            ("Men sharshadym, balam uyyqtamaydy", "Мен шаршадым, балам ұйықтамайды"),
            ("şarşadym, ölgım keledı", "шаршадым, өлгім келеді"),
            ("Keide ūlyma aşulanamyn", "Кейде ұлыма ашуланамын"),
            ("ne hochu zhit', ustala", "не хочу жить, устала"),
            ("Ya bolshe ne mogu!", "Я болше не могу!"),
            ("ne mogu uzhe, қиын 😔", "не могу уже, қиын 😔"),
        ] {
            let got = cyrillic(latin);
            // Informal ASCII cannot tell у from ұ or ү: those letters compare folded.
            let fold_all = |s: &str| s.split(' ').map(fold).collect::<Vec<_>>().join(" ");
            assert_eq!(fold_all(&got), fold_all(want), "{latin} → {got}");
        }
        assert_eq!(cyrillic("Ұлым ауырып жатыр"), "Ұлым ауырып жатыр");
        assert_eq!(cyrillic("şarşadym, ölgım keledı"), "шаршадым, өлгім келеді");
    }
}
