//! What a person asks the bot to do, when they type instead of pressing a button: one of
//! Qamqor's own actions ("I want to book", «топқа қосылғым келеді», "hochu otmenit
//! zapis"), read in every script.
//!
//! Two judges, averaged: a softmax regression over the same e5 embedding the distress
//! detector computed (the model runs once per message), and the word judge
//! ([`crate::words`]) over stems, stem pairs and letter pieces. Without the model file the
//! word judge answers alone.
//!
//! Intent never decides safety: the distress detector reads every message first, and a
//! crisis inside a request («хочу отменить запись, всё равно жить не хочу») escalates
//! whatever the intent.
//!
//! Trained with the distress head (`train_head`) on the training split of
//! `models/data/requests-*.jsonl`, stored in `models/data/intent-head.json`.

use crate::linear::{Linear, Scaler};
use crate::words::{self, Words};
use serde::{Deserialize, Serialize};

/// The word judge's regularisation (see [`words::fit`]): chosen by cross-validation on the
/// training split (top-1 0.925 at 8, 0.930 at 32, 0.932 at 128).
const WORDS_C: f32 = 32.0;

/// One of the bot's own actions, or none of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Book a consultation with a psychologist.
    Book,
    /// Cancel a booked consultation ("I can't come tomorrow").
    Cancel,
    /// Move a consultation to another time, or to another psychologist.
    Move,
    /// When is my consultation, am I booked.
    MyBookings,
    /// Join a peer support group, or ask about the groups.
    JoinGroup,
    /// Leave a group or its chat.
    LeaveGroup,
    /// A question for the services guide: benefits, status, school, rehabilitation …
    Service,
    /// Talk to a psychologist now, in this chat.
    Talk,
    Language,
    MyData,
    Delete,
    /// The menu, what the bot can do.
    Help,
    Greeting,
    Thanks,
    /// Anything else: the child's day, good news, off-topic.
    Other,
}

impl Intent {
    pub const ALL: [Intent; 15] = [
        Intent::Book,
        Intent::Cancel,
        Intent::Move,
        Intent::MyBookings,
        Intent::JoinGroup,
        Intent::LeaveGroup,
        Intent::Service,
        Intent::Talk,
        Intent::Language,
        Intent::MyData,
        Intent::Delete,
        Intent::Help,
        Intent::Greeting,
        Intent::Thanks,
        Intent::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Book => "book",
            Intent::Cancel => "cancel",
            Intent::Move => "move",
            Intent::MyBookings => "my_bookings",
            Intent::JoinGroup => "join_group",
            Intent::LeaveGroup => "leave_group",
            Intent::Service => "service",
            Intent::Talk => "talk",
            Intent::Language => "language",
            Intent::MyData => "my_data",
            Intent::Delete => "delete",
            Intent::Help => "help",
            Intent::Greeting => "greeting",
            Intent::Thanks => "thanks",
            Intent::Other => "other",
        }
    }

    fn index(self) -> usize {
        Intent::ALL.iter().position(|i| *i == self).unwrap_or(Intent::ALL.len() - 1)
    }
}

/// The trained intent judges.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IntentHead {
    /// The model file the embedding judge was trained on: another file means other
    /// embeddings, and then the word judge answers alone.
    pub model_sha256: String,
    pub scaler: Scaler,
    pub linear: Linear,
    pub words: Words,
}

impl IntentHead {
    /// The probability of each intent, in the order of [`Intent::ALL`].
    pub fn probs(&self, text: &str, embedding: Option<&[f32]>) -> Vec<f32> {
        let mut p = self.words.probs(text);
        if let Some(e) = embedding.filter(|e| e.len() == self.scaler.mean.len()) {
            p.iter_mut().zip(self.linear.probs(&self.scaler.apply(e))).for_each(|(a, b)| *a = (*a + b) / 2.0);
        }
        p
    }

    /// How likely the message asks for one of the bot's own actions — not a question for
    /// the guide, not something else: what the distress head weighs its judges by.
    pub fn request(probs: &[f32]) -> f32 {
        Intent::ALL
            .iter()
            .zip(probs)
            .filter(|(i, _)| !matches!(i, Intent::Other | Intent::Service))
            .map(|(_, p)| p)
            .sum()
    }

    /// The most likely intent of probabilities in the order of [`Intent::ALL`].
    pub fn best(p: &[f32]) -> (Intent, f32) {
        let best = (0..p.len()).max_by(|a, b| p[*a].total_cmp(&p[*b])).unwrap_or(Intent::ALL.len() - 1);
        (Intent::ALL.get(best).copied().unwrap_or(Intent::Other), p.get(best).copied().unwrap_or(0.0))
    }
}

/// Trains both judges on messages, their embeddings and their intents.
pub fn fit(texts: &[&str], embeddings: &[&[f32]], intents: &[Intent], model_sha256: &str) -> IntentHead {
    let ys: Vec<usize> = intents.iter().map(|i| i.index()).collect();
    let scaler = Scaler::fit(embeddings);
    let xs: Vec<Vec<f32>> = embeddings.iter().map(|e| scaler.apply(e)).collect();
    IntentHead {
        model_sha256: model_sha256.to_string(),
        linear: Linear::fit(&xs, &ys, Intent::ALL.len()),
        words: words::fit(texts, &ys, Intent::ALL.len(), WORDS_C),
        scaler,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde() {
        for intent in Intent::ALL {
            let json = serde_json::to_string(&intent).unwrap();
            assert_eq!(json, format!("\"{}\"", intent.as_str()));
            assert_eq!(serde_json::from_str::<Intent>(&json).unwrap(), intent);
        }
    }
}
