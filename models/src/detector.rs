//! The detector: what one message says, from one run of the model. The distress layers
//! (the lexicon and the embedding head, OR-ed and tuned for recall) and the intent judges
//! read the same embedding. With no model file the lexicon and the word judges run alone,
//! and the log says so.

use crate::distress::{self, Assessment, Risk, Signal};
use crate::embed::{self, E5Small, Embedder};
use crate::head::{Head, Neighbours};
use crate::intent::{Intent, IntentHead};
use crate::model_file;
use std::path::Path;

/// The head trained on the labelled set's training split, for the pinned model file.
const HEAD_JSON: &str = include_str!("../data/distress-head.json");
const NEIGHBOURS: &[u8] = include_bytes!("../data/distress-neighbours.bin");
/// The intent judges, trained with the head.
const INTENT_JSON: &str = include_str!("../data/intent-head.json");

pub struct Detector {
    semantic: Option<Semantic>,
    intent: IntentHead,
}

/// What one message says.
#[derive(Clone, Debug)]
pub struct Reading {
    pub assessment: Assessment,
    /// What the writer asks the bot to do, and how sure the judges are (0–1). It never
    /// lowers the assessment.
    pub intent: Intent,
    pub intent_confidence: f32,
    /// The message's embedding (`query: ` form), to reuse, e.g. for the services search.
    pub embedding: Option<Vec<f32>>,
}

struct Semantic {
    embedder: Box<dyn Embedder>,
    head: Head,
}

impl Detector {
    /// The lexicon alone: the degraded mode, when the model file is missing.
    pub fn lexicon_only() -> Detector {
        Detector { semantic: None, intent: intent_head() }
    }

    /// Both layers, with the model file at `path`, checked against the pinned hash.
    pub fn load(path: &Path) -> anyhow::Result<Detector> {
        model_file::verified(path)?;
        let embedder = E5Small::load(path)?;
        Ok(Detector::with_embedder(Box::new(embedder), head()?))
    }

    pub fn with_embedder(embedder: Box<dyn Embedder>, head: Head) -> Detector {
        Detector { semantic: Some(Semantic { embedder, head }), intent: intent_head() }
    }

    /// True when only the lexicon runs.
    pub fn is_degraded(&self) -> bool {
        self.semantic.is_none()
    }

    /// Assesses one message: whatever either layer finds counts.
    pub fn assess(&self, text: &str) -> Assessment {
        self.read(text).assessment
    }

    /// Reads one message: its assessment, its intent and its embedding. The model runs
    /// once for all three.
    pub fn read(&self, text: &str) -> Reading {
        let mut assessment = distress::assess(text);
        let embedding = self.semantic.as_ref().and_then(|s| s.embedder.embed(&embed::query(text)).ok());
        let intents = self.intents(text, embedding.as_deref());
        let request = IntentHead::request(&intents);
        // An embedding failure leaves the lexicon's answer: never less than it.
        let judged = self.semantic.as_ref().zip(embedding.as_ref()).map(|(s, e)| s.judge(text, e, request));
        if let Some((mut risk, child)) = judged {
            // An idiom like "умираю со смеху" fools the embedding; the lexicon's own
            // crisis words still count in full.
            if assessment.signals.contains(&Signal::Hyperbole) && assessment.risk < Risk::High {
                risk = risk.min(Risk::Support);
            }
            assessment.merge(risk, child, Signal::Semantic);
        }
        let (intent, intent_confidence) = IntentHead::best(&intents);
        Reading { assessment, intent, intent_confidence, embedding }
    }

    /// The intent judges' probabilities; the embedding counts only if they were trained on
    /// the model file's embeddings.
    fn intents(&self, text: &str, embedding: Option<&[f32]>) -> Vec<f32> {
        self.intent.probs(text, embedding.filter(|_| self.intent.model_sha256 == model_file::SHA256))
    }

    /// The model that embeds messages, unless only the lexicon runs.
    pub fn embedder(&self) -> Option<&dyn Embedder> {
        self.semantic.as_ref().map(|s| s.embedder.as_ref())
    }

    /// The embedding layer alone, for evaluation and benchmarks.
    pub fn assess_semantic(&self, text: &str) -> Option<Assessment> {
        let semantic = self.semantic.as_ref()?;
        let embedding = semantic.embedder.embed(&embed::query(text)).ok()?;
        let request = IntentHead::request(&self.intents(text, Some(&embedding)));
        let (risk, child) = semantic.judge(text, &embedding, request);
        let mut assessment = Assessment::from_signals(Vec::new());
        assessment.merge(risk, child, Signal::Semantic);
        Some(assessment)
    }
}

impl Semantic {
    /// The head's level and child flag for a message.
    fn judge(&self, text: &str, embedding: &[f32], request: f32) -> (Risk, bool) {
        self.head.judge(&self.head.scores(text, embedding, request))
    }
}

/// The committed head, refused if it was trained for another model file.
pub fn head() -> anyhow::Result<Head> {
    let mut head: Head = serde_json::from_str(HEAD_JSON)?;
    head.neighbours = Neighbours::from_bytes(NEIGHBOURS, head.scaler.mean.len())?;
    anyhow::ensure!(head.model_sha256 == model_file::SHA256, "the distress head was trained on another model file");
    Ok(head)
}

/// The committed intent judges. Their JSON is part of the build: a broken file is a bug
/// the tests catch, never something a parent meets.
fn intent_head() -> IntentHead {
    serde_json::from_str(INTENT_JSON).expect("models/data/intent-head.json is a trained intent head")
}
