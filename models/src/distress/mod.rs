//! Distress detection: does this message say the writer, or a child, may be in danger?
//!
//! Every free-text message from a parent passes through [`assess`] before anything else
//! (DESIGN.md, safety invariant 1). This is the lexicon layer: curated phrase patterns
//! in Kazakh and Russian, matched on every Cyrillic reading of the message (so Latin-
//! script Kazakh and translit Russian work too) against stems. It is deterministic, the
//! safety net under the embedding layer, and the whole detector when the model file is
//! missing. It is tuned for recall: a missed crisis costs more than a false alarm.

use crate::lang::Lang;
use crate::stem;
use crate::text::readings;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

/// How urgently a person should reach the writer, from lowest to highest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    None,
    Support,
    High,
    Imminent,
}

impl Risk {
    pub const ALL: [Risk; 4] = [Risk::None, Risk::Support, Risk::High, Risk::Imminent];

    pub fn as_str(self) -> &'static str {
        match self {
            Risk::None => "none",
            Risk::Support => "support",
            Risk::High => "high",
            Risk::Imminent => "imminent",
        }
    }

    pub fn parse(s: &str) -> Option<Risk> {
        Risk::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// What a pattern family recognises. Names go to the psychologist, never to logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Signal {
    // imminent
    Plan,
    Means,
    Goodbye,
    ActInProgress,
    // high
    Ideation,
    Burden,
    SelfHarm,
    // support
    Exhaustion,
    Crying,
    Loneliness,
    Hopelessness,
    Guilt,
    DiagnosisShock,
    // a child in danger
    HarmToChildFear,
    ChildHurt,
    ChildSpeaksOfDying,
    SexualAbuse,
    DyingWithChild,
    // context
    Today,
    /// "умираю со смеху", "күлкіден өлдім": an idiom, not a wish.
    Hyperbole,
    /// The embedding layer's judgement.
    Semantic,
}

impl Signal {
    pub fn name(self) -> &'static str {
        match self {
            Signal::Plan => "plan",
            Signal::Means => "means",
            Signal::Goodbye => "goodbye",
            Signal::ActInProgress => "act_in_progress",
            Signal::Ideation => "suicidal_ideation",
            Signal::Burden => "burden",
            Signal::SelfHarm => "self_harm",
            Signal::Exhaustion => "exhaustion",
            Signal::Crying => "crying",
            Signal::Loneliness => "loneliness",
            Signal::Hopelessness => "hopelessness",
            Signal::Guilt => "guilt",
            Signal::DiagnosisShock => "diagnosis_shock",
            Signal::HarmToChildFear => "fear_of_harming_child",
            Signal::ChildHurt => "child_hurt",
            Signal::ChildSpeaksOfDying => "child_speaks_of_dying",
            Signal::SexualAbuse => "sexual_abuse",
            Signal::DyingWithChild => "dying_with_child",
            Signal::Today => "time_now",
            Signal::Hyperbole => "hyperbole",
            Signal::Semantic => "semantic",
        }
    }

    fn risk(self) -> Risk {
        use Signal::*;
        match self {
            Plan | Means | Goodbye | ActInProgress | DyingWithChild => Risk::Imminent,
            Ideation | Burden | SelfHarm => Risk::High,
            Exhaustion | Crying | Loneliness | Hopelessness | Guilt | DiagnosisShock => Risk::Support,
            HarmToChildFear | ChildHurt | ChildSpeaksOfDying | SexualAbuse | Today | Hyperbole | Semantic => Risk::None,
        }
    }

    fn child_safety(self) -> bool {
        use Signal::*;
        matches!(self, HarmToChildFear | ChildHurt | ChildSpeaksOfDying | SexualAbuse | DyingWithChild)
    }
}

/// What the detector concluded about one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assessment {
    pub risk: Risk,
    /// Someone may hurt, or is hurting, a child — independent of `risk`.
    pub child_safety: bool,
    /// What fired, for the psychologist. Never logged.
    pub signals: Vec<Signal>,
}

impl Assessment {
    /// True when the writer must see emergency contacts at once.
    pub fn is_urgent(&self) -> bool {
        self.risk >= Risk::High || self.child_safety
    }

    /// Builds the assessment from the signals that fired.
    pub fn from_signals(mut signals: Vec<Signal>) -> Assessment {
        signals.sort();
        signals.dedup();
        let mut risk = signals.iter().map(|s| s.risk()).max().unwrap_or(Risk::None);
        // Thoughts of death with "today", "now", "tonight": acting now.
        if risk == Risk::High && signals.contains(&Signal::Today) {
            risk = Risk::Imminent;
        }
        let child_safety = signals.iter().any(|s| s.child_safety());
        Assessment { risk, child_safety, signals }
    }

    /// Adds another layer's judgement: the higher risk wins, a child flag is kept.
    pub fn merge(&mut self, risk: Risk, child_safety: bool, signal: Signal) {
        if (risk > Risk::None || child_safety) && !self.signals.contains(&signal) {
            self.signals.push(signal);
        }
        self.risk = self.risk.max(risk);
        self.child_safety |= child_safety;
    }
}

mod lexicon;

/// One word of a pattern: a stem to meet, or (written with `*`) a prefix of the word.
#[derive(Debug)]
enum Token {
    Stem(String),
    Prefix(String),
}

#[derive(Debug)]
struct Pattern {
    signal: Signal,
    lang: Lang,
    tokens: Vec<Token>,
}

/// Words between two pattern words, at most.
const GAP: usize = 2;
/// Only a negation right before a phrase cancels it: "сил нет, жить не хочется" is still a wish not to live.
const NEGATIONS: &[&str] = &["не", "ни"];
/// A film, a book, an article *about* death is not a wish to die (folded spelling).
const MEDIA: &[&str] = &["филм", "книг", "сериал", "стат", "передач", "лекци", "видео", "кино", "китап"];
const ABOUT_RU: &[&str] = &["о", "об", "про"];
/// Words that make a goodbye or a plan ordinary (folded prefixes): a parent leaving a
/// group chat because the family moves ("мы переезжаем", "Алматыға көштік"), a will made
/// at a notary for a child's future guardian.
const ORDINARY: &[(Signal, &[&str])] =
    &[(Signal::Goodbye, &["переезж", "переех", "коштик", "коштим", "кошемиз", "кошип"]), (Signal::Plan, &["нотариус"])];

/// Kazakh wishes to leave or vanish, and to stop (folded, stemmed by [`stem::kazakh`] like
/// a pattern's first word), with the case that names what they are about. Right after a
/// place in the ablative, leaving is about the place: «рассылкадан жоғалғым келеді»,
/// «топтан шыққым келеді»; right after a thing in the accusative, stopping is about the
/// thing: «ботты тоқтатқым келеді, бәріне рахмет». Not after life, the world or everyone:
/// «өмірден кеткім келеді» has patterns of its own, «бәрінен жоғалғым келеді» is a wish to
/// vanish, «бәрін тоқтатқым келеді» a wish to stop everything.
static ABOUT_A_THING: LazyLock<Vec<(String, &[&str])>> = LazyLock::new(|| {
    let stem = |w: &str| stem::kazakh(&readings(w)[0][0]);
    let mut verbs: Vec<(String, &[&str])> =
        ["жоғалғым", "кеткім", "шыққым"].iter().map(|w| (stem(w), ABLATIVE)).collect();
    verbs.push((stem("тоқтатқым"), ACCUSATIVE));
    verbs
});
const ABLATIVE: &[&str] = &["дан", "ден", "тан", "тен", "нан", "нен"];
const ACCUSATIVE: &[&str] = &["ны", "ни", "ды", "ди", "ты", "ти"];
/// Folded prefixes of what one leaves that is not a place: life, the world, everyone.
const NOT_A_PLACE: &[&str] = &["омир", "дуни", "жарык", "бари", "барлыг", "баршан", "адамдар", "сендер", "сиздер"];
/// Folded words that may stand between the place and the verb: «боттан толық жоғалғым».
const ADVERBS: &[&str] = &["толык", "мулдем", "биржола", "биржолата", "уакытша", "енди"];

/// «рассылкадан жоғалғым келеді», «ботты тоқтатқым келеді»: about a place or a thing, not
/// life.
fn about_a_thing(words: &[String], start: usize, first: &Token) -> bool {
    let Token::Stem(stem) = first else { return false };
    let Some((_, cases)) = ABOUT_A_THING.iter().find(|(verb, _)| verb == stem) else { return false };
    let mut before = words[..start].iter().rev();
    let Some(mut word) = before.next() else { return false };
    if ADVERBS.contains(&word.as_str()) {
        let Some(earlier) = before.next() else { return false };
        word = earlier;
    }
    cases.iter().any(|c| word.ends_with(c)) && !NOT_A_PLACE.iter().any(|p| word.starts_with(p))
}

static PATTERNS: LazyLock<Vec<Pattern>> = LazyLock::new(|| {
    lexicon::RULES
        .iter()
        .flat_map(|&(signal, lang, phrases)| {
            phrases.iter().filter_map(move |phrase| {
                let words = readings(phrase).into_iter().next()?;
                let tokens = words
                    .iter()
                    .zip(phrase.split_whitespace().map(|w| w.ends_with('*')))
                    .map(|(w, prefix)| match (prefix, lang) {
                        (true, _) => Token::Prefix(w.clone()),
                        (false, Lang::Kk) => Token::Stem(stem::kazakh(w)),
                        (false, Lang::Ru) => Token::Stem(stem::russian(w)),
                    })
                    .collect();
                let tokens: Vec<Token> = tokens;
                (!tokens.is_empty()).then_some(Pattern { signal, lang, tokens })
            })
        })
        .collect()
});

/// One reading of the message: its folded words and their stems in both languages.
struct Reading {
    words: Vec<String>,
    kk: Vec<String>,
    ru: Vec<String>,
}

impl Pattern {
    fn matches(&self, r: &Reading) -> bool {
        let stems = match self.lang {
            Lang::Kk => &r.kk,
            Lang::Ru => &r.ru,
        };
        let at = |t: &Token, i: usize| match t {
            Token::Stem(s) => stems[i] == *s,
            Token::Prefix(p) => r.words[i].starts_with(p.as_str()),
        };
        (0..r.words.len()).any(|start| {
            if !at(&self.tokens[0], start) {
                return false;
            }
            // "не хочу умереть" is not "хочу умереть"; patterns that need "не" say so.
            if self.lang == Lang::Ru && start > 0 && NEGATIONS.contains(&r.words[start - 1].as_str()) {
                return false;
            }
            if about_media(&r.words, start) {
                return false;
            }
            if self.lang == Lang::Kk && about_a_thing(&r.words, start, &self.tokens[0]) {
                return false;
            }
            let mut pos = start;
            self.tokens[1..].iter().all(|t| {
                let found = (pos + 1..(pos + 2 + GAP).min(r.words.len())).find(|&i| at(t, i));
                found.map(|i| pos = i).is_some()
            })
        })
    }
}

/// "фильм о самоубийстве", "книга про смерть", "суицид туралы кітап": the words at
/// `start` name the topic of a film, book or article.
fn about_media(words: &[String], start: usize) -> bool {
    let media = |w: &String| MEDIA.iter().any(|m| w.starts_with(m));
    let ru = start >= 2 && ABOUT_RU.contains(&words[start - 1].as_str()) && media(&words[start - 2]);
    let kk = words.get(start + 1).is_some_and(|w| w == "туралы") && words.get(start + 2).is_some_and(media);
    ru || kk
}

/// Assesses one message with the lexicon. Pure and deterministic.
pub fn assess(text: &str) -> Assessment {
    let readings: Vec<Reading> = readings(text)
        .into_iter()
        .map(|words| Reading {
            kk: words.iter().map(|w| stem::kazakh(w)).collect(),
            ru: words.iter().map(|w| stem::russian(w)).collect(),
            words,
        })
        .collect();
    let ordinary = |signal: Signal| {
        ORDINARY
            .iter()
            .filter(|(s, _)| *s == signal)
            .flat_map(|(_, words)| words.iter())
            .any(|prefix| readings.iter().any(|r| r.words.iter().any(|w| w.starts_with(prefix))))
    };
    let signals = PATTERNS
        .iter()
        .filter(|p| readings.iter().any(|r| p.matches(r)))
        .map(|p| p.signal)
        .filter(|s| !ordinary(*s))
        .collect();
    Assessment::from_signals(signals)
}

#[cfg(test)]
mod tests;
