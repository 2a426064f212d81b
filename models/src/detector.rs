//! The distress detector: the lexicon and the embedding layer together, OR-ed and tuned
//! for recall. With no model file it runs on the lexicon alone, and says so.

use crate::distress::{self, Assessment, Risk, Signal};
use crate::embed::{self, E5Small, Embedder};
use crate::head::{Head, Neighbours};
use crate::model_file;
use std::path::Path;

/// The head trained on the labelled set's training split, for the pinned model file.
const HEAD_JSON: &str = include_str!("../data/distress-head.json");
const NEIGHBOURS: &[u8] = include_bytes!("../data/distress-neighbours.bin");

pub struct Detector {
    semantic: Option<Semantic>,
}

struct Semantic {
    embedder: Box<dyn Embedder>,
    head: Head,
}

impl Detector {
    /// The lexicon alone: the degraded mode, when the model file is missing.
    pub fn lexicon_only() -> Detector {
        Detector { semantic: None }
    }

    /// Both layers, with the model file at `path`, checked against the pinned hash.
    pub fn load(path: &Path) -> anyhow::Result<Detector> {
        model_file::verified(path)?;
        let embedder = E5Small::load(path)?;
        Ok(Detector::with_embedder(Box::new(embedder), head()?))
    }

    pub fn with_embedder(embedder: Box<dyn Embedder>, head: Head) -> Detector {
        Detector { semantic: Some(Semantic { embedder, head }) }
    }

    /// True when only the lexicon runs.
    pub fn is_degraded(&self) -> bool {
        self.semantic.is_none()
    }

    /// Assesses one message: whatever either layer finds counts.
    pub fn assess(&self, text: &str) -> Assessment {
        self.read(text).0
    }

    /// Assesses one message, and gives its embedding (`query: ` form) to reuse, e.g. for
    /// the services search: the model runs once per message.
    pub fn read(&self, text: &str) -> (Assessment, Option<Vec<f32>>) {
        let mut assessment = distress::assess(text);
        let embedding = self.semantic.as_ref().and_then(|s| s.embedder.embed(&embed::query(text)).ok());
        // An embedding failure leaves the lexicon's answer: never less than it.
        let judged = self.semantic.as_ref().zip(embedding.as_ref()).map(|(s, e)| s.judge(text, e));
        if let Some((mut risk, child)) = judged {
            // An idiom like "умираю со смеху" fools the embedding; the lexicon's own
            // crisis words still count in full.
            if assessment.signals.contains(&Signal::Hyperbole) && assessment.risk < Risk::High {
                risk = risk.min(Risk::Support);
            }
            assessment.merge(risk, child, Signal::Semantic);
        }
        (assessment, embedding)
    }

    /// The model that embeds messages, unless only the lexicon runs.
    pub fn embedder(&self) -> Option<&dyn Embedder> {
        self.semantic.as_ref().map(|s| s.embedder.as_ref())
    }

    /// The embedding layer alone, for evaluation and benchmarks.
    pub fn assess_semantic(&self, text: &str) -> Option<Assessment> {
        let semantic = self.semantic.as_ref()?;
        let (risk, child) = semantic.judge(text, &semantic.embedder.embed(&embed::query(text)).ok()?);
        let mut assessment = Assessment::from_signals(Vec::new());
        assessment.merge(risk, child, Signal::Semantic);
        Some(assessment)
    }
}

impl Semantic {
    /// The head's level and child flag for a message.
    fn judge(&self, text: &str, embedding: &[f32]) -> (Risk, bool) {
        self.head.judge(&self.head.scores(text, embedding))
    }
}

/// The committed head, refused if it was trained for another model file.
pub fn head() -> anyhow::Result<Head> {
    let mut head: Head = serde_json::from_str(HEAD_JSON)?;
    head.neighbours = Neighbours::from_bytes(NEIGHBOURS, head.mean.len())?;
    anyhow::ensure!(head.model_sha256 == model_file::SHA256, "the distress head was trained on another model file");
    Ok(head)
}
