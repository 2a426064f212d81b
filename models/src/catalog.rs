//! The services catalogue (`catalog/` in the repository): what exists for families, who
//! gives it and how to apply, in Kazakh and Russian, each entry with its sources.
//!
//! The files are compiled in, like the texts, so a deployment cannot lose them;
//! [`Catalog::read`] reads the same files from a folder, for `qamqor catalog check` on
//! an edited copy. [`Catalog::check`] lists everything wrong with the data.

use crate::Lang;
use crate::text::normalize;
use anyhow::{Context, Result};
use serde::Deserialize;
use std::collections::HashSet;
use std::path::Path;

macro_rules! catalog_files {
    ($($name:literal),* $(,)?) => {
        /// (path inside `catalog/`, contents) of every catalogue file.
        const FILES: &[(&str, &str)] = &[
            ("sources.toml", include_str!("../../catalog/sources.toml")),
            ("regions.toml", include_str!("../../catalog/regions.toml")),
            ("categories.toml", include_str!("../../catalog/categories.toml")),
            $((concat!("entries/", $name, ".toml"), include_str!(concat!("../../catalog/entries/", $name, ".toml"))),)*
        ];
    };
}

// One file of entries per category, in menu order.
catalog_files!["status", "payments", "medical", "education", "social", "aids", "work", "tax", "psych", "help"];

/// A button label or list row: WhatsApp's list rows take 24 characters.
pub const LABEL_MAX: usize = 24;
/// A card (title, summary, eligibility, steps) must fit one message with buttons: WhatsApp
/// allows 1024 characters there, and the bot adds a few lines of its own.
pub const CARD_MAX: usize = 900;

/// Words that must never be said to a parent (DESIGN.md, "Language"), in normalised
/// spelling. Parents may type them, so they stay welcome in keywords.
const STIGMA: &[&str] = &[
    "ребенок инвалид",
    "ребенка инвалида",
    "ребенку инвалиду",
    "дети инвалиды",
    "детей инвалидов",
    "детям инвалидам",
    "мүгедек бала",
    "кемтар",
];

#[derive(Debug)]
pub struct Catalog {
    pub sources: Vec<Source>,
    pub regions: Vec<Named>,
    pub categories: Vec<Named>,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub file: String,
    pub title: String,
    pub date: String,
    pub lines: usize,
    pub sha256: String,
}

/// A region or a category: an id and its name in both languages.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Named {
    pub id: String,
    pub kk: String,
    pub ru: String,
}

impl Named {
    pub fn name(&self, lang: Lang) -> &str {
        match lang {
            Lang::Kk => &self.kk,
            Lang::Ru => &self.ru,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Exists,
    /// Only in named regions or for few people.
    Pilot,
    /// In a government plan, not available: never offered as something to apply for.
    Planned,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub id: String,
    pub category: String,
    pub status: Status,
    /// When a planned measure is due, `YYYY-MM`.
    pub due: Option<String>,
    /// Where it applies; empty means all of Kazakhstan.
    #[serde(default)]
    pub regions: Vec<String>,
    pub as_of: String,
    pub sources: Vec<String>,
    #[serde(default)]
    pub links: Vec<String>,
    /// For staff: what to check before launch. Never shown to parents.
    pub verify: Option<String>,
    pub kk: Local,
    pub ru: Local,
}

/// An entry's words in one language.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Local {
    pub title: String,
    pub button: String,
    pub summary: String,
    pub eligible: String,
    pub steps: Vec<String>,
    pub keywords: Vec<String>,
}

impl Local {
    /// Everything a card shows, for its length.
    fn card_len(&self) -> usize {
        [&self.title, &self.summary, &self.eligible].into_iter().chain(&self.steps).map(|s| s.chars().count()).sum()
    }
}

impl Entry {
    pub fn local(&self, lang: Lang) -> &Local {
        match lang {
            Lang::Kk => &self.kk,
            Lang::Ru => &self.ru,
        }
    }

    /// Whether it applies to a parent in `region` (unknown: everything applies).
    pub fn applies_in(&self, region: Option<&str>) -> bool {
        match region {
            Some(region) => self.regions.is_empty() || self.regions.iter().any(|r| r == region),
            None => true,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourcesFile {
    source: Vec<Source>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionsFile {
    region: Vec<Named>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoriesFile {
    category: Vec<Named>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntriesFile {
    entry: Vec<Entry>,
}

impl Catalog {
    /// The catalogue compiled into this binary.
    pub fn embedded() -> Result<Catalog> {
        Catalog::parse(FILES.iter().map(|(name, text)| (name.to_string(), text.to_string())))
    }

    /// The same files from a folder laid out like `catalog/`.
    pub fn read(dir: &Path) -> Result<Catalog> {
        let files = FILES
            .iter()
            .map(|(name, _)| {
                let text = std::fs::read_to_string(dir.join(name)).with_context(|| format!("{name} in {dir:?}"))?;
                Ok((name.to_string(), text))
            })
            .collect::<Result<Vec<_>>>()?;
        Catalog::parse(files)
    }

    /// The paths of the files inside `catalog/`, for a test that none is left out.
    pub fn file_names() -> impl Iterator<Item = &'static str> {
        FILES.iter().map(|(name, _)| *name)
    }

    fn parse(files: impl IntoIterator<Item = (String, String)>) -> Result<Catalog> {
        let mut catalog =
            Catalog { sources: Vec::new(), regions: Vec::new(), categories: Vec::new(), entries: Vec::new() };
        for (name, text) in files {
            let context = || format!("catalog/{name}");
            match name.as_str() {
                "sources.toml" => catalog.sources = toml::from_str::<SourcesFile>(&text).with_context(context)?.source,
                "regions.toml" => catalog.regions = toml::from_str::<RegionsFile>(&text).with_context(context)?.region,
                "categories.toml" => {
                    catalog.categories = toml::from_str::<CategoriesFile>(&text).with_context(context)?.category
                }
                _ => catalog.entries.extend(toml::from_str::<EntriesFile>(&text).with_context(context)?.entry),
            }
        }
        Ok(catalog)
    }

    pub fn entry(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    pub fn category(&self, id: &str) -> Option<&Named> {
        self.categories.iter().find(|c| c.id == id)
    }

    pub fn region(&self, id: &str) -> Option<&Named> {
        self.regions.iter().find(|r| r.id == id)
    }

    /// Everything wrong with the data, one line each; empty when it is sound. With the
    /// source documents at hand (`seeds`), also checks that they are the files cited.
    pub fn check(&self, seeds: Option<&Path>) -> Vec<String> {
        let mut problems = Vec::new();
        let mut say = |what: String| problems.push(what);

        for source in &self.sources {
            let Some(dir) = seeds else { break };
            let path = dir.join(&source.file);
            match (crate::model_file::sha256(&path), std::fs::read(&path)) {
                (Ok(hash), Ok(bytes)) => {
                    if hash != source.sha256 {
                        say(format!("sources.toml: {} is not the cited document (sha256 {hash})", source.file));
                    }
                    let lines = String::from_utf8_lossy(&bytes).lines().count();
                    if lines != source.lines {
                        say(format!("sources.toml: {} has {lines} lines, not {}", source.file, source.lines));
                    }
                }
                (Err(e), _) => say(format!("sources.toml: cannot read {}: {e}", source.file)),
                (_, Err(e)) => say(format!("sources.toml: cannot read {}: {e}", source.file)),
            }
        }

        let labels = self.regions.iter().map(|r| ("region", r)).chain(self.categories.iter().map(|c| ("category", c)));
        let mut named = HashSet::new();
        for (kind, n) in labels {
            if !named.insert((kind, n.id.as_str())) {
                say(format!("{kind} {}: duplicate id", n.id));
            }
            if !is_id(&n.id) {
                say(format!("{kind} {}: the id must be 1 to {ID_MAX} lowercase letters, digits and '-'", n.id));
            }
            for (lang, name) in [("kk", &n.kk), ("ru", &n.ru)] {
                if name.trim().is_empty() || name.chars().count() > LABEL_MAX {
                    say(format!("{kind} {}: the {lang} name must be 1 to {LABEL_MAX} characters", n.id));
                }
            }
        }

        let mut ids = HashSet::new();
        for e in &self.entries {
            let mut bad = |what: String| say(format!("{}: {what}", e.id));
            if !ids.insert(e.id.as_str()) {
                bad("duplicate id".into());
            }
            if !is_id(&e.id) {
                bad(format!("the id must be 1 to {ID_MAX} lowercase letters, digits and '-'"));
            }
            if self.category(&e.category).is_none() {
                bad(format!("unknown category {:?}", e.category));
            }
            for r in e.regions.iter().filter(|r| self.region(r).is_none()) {
                bad(format!("unknown region {r:?}"));
            }
            match (e.status, &e.due) {
                (Status::Planned, Some(due)) if is_date(due, 2) => {}
                (Status::Planned, _) => bad("a planned measure needs `due = \"YYYY-MM\"`".into()),
                (_, Some(_)) => bad("only a planned measure has a due date".into()),
                _ => {}
            }
            if !is_date(&e.as_of, 1) && !is_date(&e.as_of, 2) && !is_date(&e.as_of, 3) {
                bad(format!("as_of {:?} is not YYYY, YYYY-MM or YYYY-MM-DD", e.as_of));
            }
            if e.sources.is_empty() {
                bad("no source".into());
            }
            for cited in &e.sources {
                if let Err(why) = self.citation(cited) {
                    bad(format!("source {cited:?}: {why}"));
                }
            }
            for link in &e.links {
                let ok = url::Url::parse(link).is_ok_and(|u| u.scheme() == "https" && u.host_str().is_some());
                if !ok {
                    bad(format!("link {link:?} is not a well-formed https address"));
                }
            }
            for (lang, l) in [("kk", &e.kk), ("ru", &e.ru)] {
                let shown = [&l.title, &l.button, &l.summary, &l.eligible].into_iter().chain(&l.steps);
                if shown.clone().any(|s| s.trim().is_empty()) || l.steps.is_empty() {
                    bad(format!("{lang}: every field needs text, and there must be steps"));
                }
                if l.keywords.iter().filter(|k| !k.trim().is_empty()).count() < 3 {
                    bad(format!("{lang}: fewer than 3 keywords"));
                }
                if l.button.chars().count() > LABEL_MAX {
                    bad(format!("{lang}: button {:?} is over {LABEL_MAX} characters", l.button));
                }
                if l.card_len() > CARD_MAX {
                    bad(format!("{lang}: the card has {} characters, over {CARD_MAX}", l.card_len()));
                }
                for text in shown {
                    let words = normalize(text);
                    if let Some(word) = STIGMA.iter().find(|w| format!(" {words} ").contains(&format!(" {w}"))) {
                        bad(format!("{lang}: {word:?} is said to parents; keep old terms in keywords"));
                    }
                }
            }
        }
        for c in &self.categories {
            if !self.entries.iter().any(|e| e.category == c.id) {
                say(format!("category {}: no entries", c.id));
            }
        }
        problems
    }

    /// Checks one citation, "<file>:<line>" or "<file>:<first>-<last>".
    fn citation(&self, cited: &str) -> Result<(), String> {
        let (file, lines) = cited.split_once(':').ok_or("not <file>:<lines>")?;
        let source = self.sources.iter().find(|s| s.file == file).ok_or("not a file in sources.toml")?;
        let (first, last) = lines.split_once('-').unwrap_or((lines, lines));
        let (first, last): (usize, usize) = match (first.trim().parse(), last.trim().parse()) {
            (Ok(a), Ok(b)) => (a, b),
            _ => return Err("lines are not numbers".into()),
        };
        if first == 0 || first > last || last > source.lines {
            return Err(format!("lines outside 1..={}", source.lines));
        }
        Ok(())
    }
}

/// Ids travel in button data, which Telegram limits to 64 bytes.
pub const ID_MAX: usize = 30;

fn is_id(id: &str) -> bool {
    (1..=ID_MAX).contains(&id.len()) && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (`parts` = 1, 2 or 3), with a real month and day.
fn is_date(s: &str, parts: usize) -> bool {
    let fields: Vec<&str> = s.split('-').collect();
    let number = |i: usize, len: usize, range: std::ops::RangeInclusive<u32>| {
        fields.get(i).is_some_and(|f| f.len() == len && f.parse().is_ok_and(|n| range.contains(&n)))
    };
    fields.len() == parts
        && number(0, 4, 2000..=2100)
        && (parts < 2 || number(1, 2, 1..=12))
        && (parts < 3 || number(2, 2, 1..=31))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(is_date("2026", 1) && is_date("2027-02", 2) && is_date("2023-11-20", 3));
        for bad in ["2027-13", "27-02", "2027-2", "2027-02-01"] {
            assert!(!is_date(bad, 2), "{bad}");
        }
    }
}
