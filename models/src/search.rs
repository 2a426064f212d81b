//! Search over the services catalogue: the entries that answer a parent's question,
//! however it is written.
//!
//! Two rankings, added up:
//! - **lexical**: words are normalised like the distress lexicon does (Latin-script Kazakh
//!   and translit Russian read as Cyrillic, Kazakh letters folded), stemmed both ways
//!   (Snowball Russian, Kazakh suffix stripping), and matched against each entry's title,
//!   keywords and text, weighted by field and by how rare the word is. A word with no
//!   exact match may still meet one by prefix (агглютинация the stemmer missed) or by one
//!   typo (an edit, a swap).
//! - **semantic**: the cosine between the question's e5 embedding (`query: `, the one the
//!   distress detector already computed) and each entry's (`passage: `, one per language,
//!   computed once at load), measured against the question's median over all entries.

use crate::catalog::{Catalog, Entry};
use crate::embed::Embedder;
use crate::stem;
use crate::text::readings;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;

/// Weight of each field: what an entry is called and the words parents use for it count
/// most; its description less; its steps least.
const TITLE: f32 = 3.0;
const KEYWORD: f32 = 3.0;
const SUMMARY: f32 = 1.5;
const ELIGIBLE: f32 = 1.0;
const STEP: f32 = 0.5;

/// How much a match by prefix or by one typo counts against an exact one.
const PREFIX: f32 = 0.8;
const TYPO: f32 = 0.7;
/// Terms shorter than this are not matched at all: the stemmers cut some words down to
/// two letters ("ауа" → "ау"), which would meet anything.
const MIN_TERM: usize = 3;
/// Shorter terms match only exactly: "ана" must not find "ата", nor "пого" "поговорить".
const MIN_FUZZY: usize = 5;

/// The semantic ranking's weight against the lexical one (which is at most 1).
const SEMANTIC: f32 = 4.0;

/// A result must score at least this to be shown: below it, "nothing found" is the
/// honest answer. Without the model (the lexicon's degraded mode) scores are lower, and
/// so is the floor. Both chosen on the tuning half of the labelled questions.
pub const FLOOR: f32 = 0.3;
pub const LEXICAL_FLOOR: f32 = 0.2;

/// Words that say nothing about which service is meant, in folded spelling.
#[rustfmt::skip]
const STOP: &[&str] = &[
    "как", "где", "что", "кто", "куда", "когда", "мне", "нам", "нас", "мы", "я", "мой", "моя", "мои", "моему",
    "моей", "для", "это", "или", "ли", "же", "бы", "уже", "еще", "можно", "нужно", "надо", "хочу", "есть", "нет",
    "не", "на", "в", "с", "и", "а", "но", "по", "о", "у", "к", "от", "до", "из", "за", "при", "то", "так", "тоже",
    "какие", "какой", "какая", "помогите", "подскажите", "пожалуиста", "здравствуите", "добрыи", "день", "ок",
    "океи", "хорошо", "понятно", "ясно", "спасибо", "ага", "угу", "калаи", "кандаи", "каида", "кашан", "керек",
    "бар", "жок", "мен", "сен", "биз", "бизге", "маган", "менин", "бизди", "ушин", "жане", "бул", "осы", "да", "де",
    "ма", "ме", "ба", "бе", "па", "пе", "ги", "гои", "сизге", "салеметсиз", "саламатсыз", "салем", "салам",
    "рахмет", "жаксы", "тусиникти", "иа",
];

/// One entry found for a question.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    /// Index into [`Catalog::entries`].
    pub entry: usize,
    pub score: f32,
}

/// The catalogue with its search index.
pub struct Guide {
    pub catalog: Catalog,
    /// Term → its weight in each entry that has it, as (entry, weight).
    postings: HashMap<String, Vec<(usize, f32)>>,
    /// Inverse document frequency of each term.
    idf: HashMap<String, f32>,
    /// Every term with one letter deleted → the terms it came from: finds one-typo
    /// neighbours without comparing a word to the whole vocabulary.
    deletions: HashMap<String, Vec<String>>,
    /// Per entry, its passages' embeddings (Kazakh, Russian); empty without a model.
    passages: Vec<Vec<Vec<f32>>>,
}

impl Guide {
    /// Indexes the catalogue; with an embedder, also embeds every entry. That takes some
    /// seconds, so the embeddings are kept in `cache` (a file, by passage) and only a new
    /// or changed passage is embedded again.
    pub fn new(catalog: Catalog, embedder: Option<&dyn Embedder>, cache: Option<&Path>) -> anyhow::Result<Guide> {
        let mut weights: HashMap<String, HashMap<usize, f32>> = HashMap::new();
        for (i, entry) in catalog.entries.iter().enumerate() {
            for (text, weight) in fields(entry) {
                for term in terms(text).into_iter().flatten().flatten() {
                    let w = weights.entry(term).or_default().entry(i).or_default();
                    *w = w.max(weight);
                }
            }
        }
        let n = catalog.entries.len() as f32;
        let idf = weights.iter().map(|(t, docs)| (t.clone(), (1.0 + n / docs.len() as f32).ln())).collect();
        let mut deletions: HashMap<String, Vec<String>> = HashMap::new();
        for term in weights.keys().filter(|t| t.chars().count() >= MIN_FUZZY) {
            for d in deleted(term) {
                deletions.entry(d).or_default().push(term.clone());
            }
        }
        let postings = weights.into_iter().map(|(t, docs)| (t, docs.into_iter().collect())).collect();
        let passages = match embedder {
            Some(embedder) => embed_entries(&catalog, embedder, cache)?,
            None => Vec::new(),
        };
        Ok(Guide { catalog, postings, idf, deletions, passages })
    }

    /// The entries that answer `question`, best first, each scoring at least [`FLOOR`]
    /// ([`LEXICAL_FLOOR`] without an embedding).
    /// `embedding` is the question's e5 embedding (`query: ` form), when there is one.
    pub fn search(&self, question: &str, embedding: Option<&[f32]>) -> Vec<Hit> {
        let mut scores = self.lexical(question);
        let mut floor = LEXICAL_FLOOR;
        if let Some(semantic) = embedding.and_then(|q| self.semantic(q)) {
            floor = FLOOR;
            // A question of greetings and stop words finds nothing, whatever the model says.
            if question_words(question) > 0 {
                for (s, m) in scores.iter_mut().zip(semantic) {
                    *s += SEMANTIC * m;
                }
            }
        }
        let mut hits: Vec<Hit> = scores
            .into_iter()
            .enumerate()
            .filter(|(_, s)| *s >= floor)
            .map(|(entry, score)| Hit { entry, score })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        hits
    }

    /// The lexical ranking alone: per entry, the share of the question's weight it
    /// matches (0 to 1).
    pub fn lexical(&self, question: &str) -> Vec<f32> {
        let entries = self.catalog.entries.len();
        let readings = terms(question);
        let mut scores = vec![0.0f32; entries];
        let mut total = 0.0;
        let unknown_idf = 0.5 * (1.0 + entries as f32).ln();
        let words = readings.iter().map(Vec::len).max().unwrap_or(0);
        for w in 0..words {
            // Each word is matched in whichever reading, and by whichever term, matches best.
            let mut word_best = vec![0.0f32; entries];
            let mut word_idf = 0.0f32;
            for reading in &readings {
                for term in reading.get(w).into_iter().flatten() {
                    for (matched, quality) in self.matches(term) {
                        let idf = self.idf[&matched];
                        word_idf = word_idf.max(idf);
                        for &(entry, weight) in &self.postings[&matched] {
                            let s = quality * idf * weight / TITLE;
                            word_best[entry] = word_best[entry].max(s);
                        }
                    }
                }
            }
            // A word that matches nothing still counts, as half the rarest word would:
            // the question may be about something no entry speaks of.
            total += if word_idf > 0.0 { word_idf } else { unknown_idf };
            for (s, w) in scores.iter_mut().zip(&word_best) {
                *s += w;
            }
        }
        if total > 0.0 {
            scores.iter_mut().for_each(|s| *s /= total);
        }
        scores
    }

    /// The semantic ranking alone: per entry, its best passage's cosine minus the median
    /// over the catalogue. `None` without entry embeddings.
    pub fn semantic(&self, query: &[f32]) -> Option<Vec<f32>> {
        if self.passages.is_empty() {
            return None;
        }
        let cos: Vec<f32> =
            self.passages.iter().map(|ps| ps.iter().map(|p| dot(p, query)).fold(f32::MIN, f32::max)).collect();
        let mut sorted = cos.clone();
        sorted.sort_by(f32::total_cmp);
        let median = sorted[sorted.len() / 2];
        Some(cos.into_iter().map(|c| c - median).collect())
    }

    /// The indexed terms a question's term meets: itself, terms it is a prefix of or that
    /// are a prefix of it, and terms one typo away, with how much each match counts.
    fn matches(&self, term: &str) -> Vec<(String, f32)> {
        if self.postings.contains_key(term) {
            return vec![(term.to_string(), 1.0)];
        }
        let len = term.chars().count();
        if len < MIN_FUZZY {
            return Vec::new();
        }
        let mut found: Vec<(String, f32)> = Vec::new();
        // A longer form of an indexed stem: "жардемакысын" → "жардемакы".
        let chars: Vec<char> = term.chars().collect();
        for cut in (MIN_FUZZY - 1..len).rev() {
            let prefix: String = chars[..cut].iter().collect();
            if self.postings.contains_key(&prefix) {
                found.push((prefix, PREFIX));
                break;
            }
        }
        // A shorter form: "инвалидн" → "инвалидност".
        if found.is_empty() {
            let mut longer: Vec<&String> = self.postings.keys().filter(|t| t.starts_with(term)).collect();
            longer.sort_by_key(|t| (t.len(), t.as_str()));
            found.extend(longer.into_iter().take(3).map(|t| (t.clone(), PREFIX)));
        }
        if found.is_empty() {
            let mut candidates: Vec<&String> = Vec::new();
            for key in std::iter::once(term.to_string()).chain(deleted(term)) {
                if let Some(terms) = self.deletions.get(&key) {
                    candidates.extend(terms);
                }
                if self.postings.contains_key(&key) {
                    candidates.extend(self.postings.get_key_value(&key).map(|(k, _)| k));
                }
            }
            candidates.sort();
            candidates.dedup();
            found.extend(
                candidates.into_iter().filter(|c| strsim::damerau_levenshtein(c, term) == 1).map(|c| (c.clone(), TYPO)),
            );
        }
        found
    }
}

/// Each entry's passages embedded (Kazakh, Russian), from the cache where it has them.
fn embed_entries(
    catalog: &Catalog,
    embedder: &dyn Embedder,
    cache: Option<&Path>,
) -> anyhow::Result<Vec<Vec<Vec<f32>>>> {
    let mut known = cache.map(read_cache).unwrap_or_default();
    let texts: Vec<String> = catalog.entries.iter().flat_map(|e| [passage(&e.kk), passage(&e.ru)]).collect();
    let missing: Vec<&String> = texts.iter().filter(|t| !known.contains_key(&key(t))).collect();
    let fresh = missing.par_iter().map(|t| Ok((key(t), embedder.embed(t)?))).collect::<anyhow::Result<Vec<_>>>()?;
    let changed = !fresh.is_empty();
    known.extend(fresh);
    if let Some(path) = cache.filter(|_| changed)
        && let Err(error) = write_cache(path, &known)
    {
        tracing::warn!(%error, path = %path.display(), "the catalogue's embeddings could not be cached");
    }
    Ok(texts.chunks(2).map(|pair| pair.iter().map(|t| known[&key(t)].clone()).collect()).collect())
}

type Key = [u8; 32];

fn key(passage: &str) -> Key {
    Sha256::digest(passage.as_bytes()).into()
}

/// The cache file: records of a passage's SHA-256 (32 bytes), its dimension (u32) and
/// the vector (f32), little-endian. A damaged file is read as far as it is whole.
fn read_cache(path: &Path) -> HashMap<Key, Vec<f32>> {
    let mut out = HashMap::new();
    let Ok(bytes) = std::fs::read(path) else { return out };
    let mut rest = bytes.as_slice();
    while rest.len() >= 36 {
        let dim = u32::from_le_bytes(rest[32..36].try_into().expect("4 bytes")) as usize;
        let Some(record) = rest.get(..36 + dim * 4) else { break };
        let vector = record[36..].chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect();
        out.insert(record[..32].try_into().expect("32 bytes"), vector);
        rest = &rest[record.len()..];
    }
    out
}

/// Writes the cache whole, then moves it into place: a reader never sees half a file.
fn write_cache(path: &Path, known: &HashMap<Key, Vec<f32>>) -> std::io::Result<()> {
    let mut bytes = Vec::new();
    for (key, vector) in known {
        bytes.extend_from_slice(key);
        bytes.extend_from_slice(&(vector.len() as u32).to_le_bytes());
        bytes.extend(vector.iter().flat_map(|x| x.to_le_bytes()));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let partial = path.with_extension(format!("part{}", std::process::id()));
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, path)
}

/// An entry's passage for the model: what it is called, what it is, and parents' words.
fn passage(l: &crate::catalog::Local) -> String {
    format!("passage: {}. {} {}", l.title, l.summary, l.keywords.join(", "))
}

/// The fields of an entry with their weights, both languages.
fn fields(e: &Entry) -> Vec<(&str, f32)> {
    let mut out = Vec::new();
    for l in [&e.kk, &e.ru] {
        out.push((l.title.as_str(), TITLE));
        out.push((l.button.as_str(), TITLE));
        out.extend(l.keywords.iter().map(|k| (k.as_str(), KEYWORD)));
        out.push((l.summary.as_str(), SUMMARY));
        out.push((l.eligible.as_str(), ELIGIBLE));
        out.extend(l.steps.iter().map(|s| (s.as_str(), STEP)));
    }
    out
}

/// The text's readings (one, or two for Latin letters); in each, per word, its terms:
/// the word's Russian and Kazakh stems. Stop words have none.
fn terms(text: &str) -> Vec<Vec<Vec<String>>> {
    readings(text)
        .into_iter()
        .map(|words| {
            words
                .iter()
                .map(|w| {
                    if STOP.contains(&w.as_str()) {
                        return Vec::new();
                    }
                    // The word itself too: a stemmer for the other language may cut it badly.
                    let mut t = vec![w.clone(), stem::russian(w), stem::kazakh(w)];
                    t.retain(|t| t.chars().count() >= MIN_TERM);
                    t.sort();
                    t.dedup();
                    t
                })
                .collect()
        })
        .collect()
}

/// How many words of a question are not stop words.
fn question_words(question: &str) -> usize {
    terms(question).iter().map(|words| words.iter().filter(|t| !t.is_empty()).count()).max().unwrap_or(0)
}

/// The word with each one of its letters left out.
fn deleted(term: &str) -> Vec<String> {
    let chars: Vec<char> = term.chars().collect();
    (0..chars.len()).map(|i| chars.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, c)| c).collect()).collect()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The labelled parent questions (`catalog/questions.jsonl`) and how search does on them:
/// what `qamqor eval search` prints and the tests hold search to.
pub mod eval {
    use super::{Guide, Hit};
    use serde::Deserialize;
    use std::collections::BTreeMap;
    use std::fmt;

    const QUESTIONS: &str = include_str!("../../catalog/questions.jsonl");

    #[derive(Clone, Debug, Deserialize)]
    pub struct Question {
        pub q: String,
        /// ru, kk, kk-latn, ru-translit or mixed.
        pub variant: String,
        /// The entries that answer it; any of them counts. None: an off-topic message, for
        /// which finding nothing is right.
        pub ids: Vec<String>,
    }

    /// Every labelled question. A malformed line is a bug in the repository.
    pub fn questions() -> Vec<Question> {
        QUESTIONS
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line in catalog/questions.jsonl: {e}: {l}"))
            })
            .collect()
    }

    /// The half the ranking's weights were tuned on (even lines), or the other half
    /// (odd lines), which was only measured.
    pub fn half(questions: &[Question], tuning: bool) -> Vec<Question> {
        questions.iter().enumerate().filter(|(i, _)| (i % 2 == 0) == tuning).map(|(_, q)| q.clone()).collect()
    }

    #[derive(Default)]
    pub struct Report {
        /// variant → (questions, right first, right in the top three)
        pub by_variant: BTreeMap<String, (usize, usize, usize)>,
        /// Off-topic messages, and how many found nothing.
        pub off_topic: (usize, usize),
    }

    impl Report {
        pub fn total(&self) -> (usize, usize, usize) {
            self.by_variant.values().fold((0, 0, 0), |a, v| (a.0 + v.0, a.1 + v.1, a.2 + v.2))
        }

        pub fn top3(&self) -> f64 {
            let (n, _, top3) = self.total();
            top3 as f64 / n.max(1) as f64
        }

        /// The share of off-topic messages that found nothing.
        pub fn nothing_found(&self) -> f64 {
            self.off_topic.1 as f64 / self.off_topic.0.max(1) as f64
        }
    }

    /// Scores search on questions; `hits` answers one question (e.g. with or without the
    /// model).
    pub fn evaluate(guide: &Guide, questions: &[Question], hits: impl Fn(&str) -> Vec<Hit>) -> Report {
        let mut report = Report::default();
        for q in questions {
            let found: Vec<&str> =
                hits(&q.q).iter().take(3).map(|h| guide.catalog.entries[h.entry].id.as_str()).collect();
            if q.ids.is_empty() {
                report.off_topic.0 += 1;
                report.off_topic.1 += usize::from(found.is_empty());
                continue;
            }
            let right = |id: &&str| q.ids.iter().any(|want| want == id);
            let row = report.by_variant.entry(q.variant.clone()).or_default();
            row.0 += 1;
            row.1 += usize::from(found.first().is_some_and(right));
            row.2 += usize::from(found.iter().any(right));
        }
        report
    }

    impl fmt::Display for Report {
        fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
            let line = |f: &mut fmt::Formatter, name: &str, (n, top1, top3): (usize, usize, usize)| {
                let share = |k: usize| k as f64 / n.max(1) as f64;
                writeln!(f, "  {name:<12} {n:>4}   top-1 {:.3}   top-3 {:.3}", share(top1), share(top3))
            };
            for (variant, row) in &self.by_variant {
                line(f, variant, *row)?;
            }
            line(f, "all", self.total())?;
            let (n, nothing) = self.off_topic;
            writeln!(f, "  {:<12} {n:>4}   nothing found {:.3}", "off-topic", self.nothing_found())?;
            let _ = nothing;
            Ok(())
        }
    }
}
