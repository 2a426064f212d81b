//! The trained head. For the risk level and child safety, two judges over sentence
//! embeddings, averaged:
//! - softmax regressions for the risk level and for child safety, on standardised e5
//!   embeddings (6 × 384 weights);
//! - a vote of the nearest training messages (cosine on centred embeddings, kept as
//!   8-bit integers: one byte per dimension, about 1 MB for the whole training split).
//!   Paraphrases the linear judge misses often sit next to a labelled message that says
//!   the same thing in other words; a new labelled message helps at once.
//!
//! Whether to escalate weighs those with a third judge that reads the wording
//! ([`crate::words`]): what the embedding blurs, the words often say plainly. The weights
//! ([`Stack`]) are learned, and they take in how sure the intent judges are that the
//! message asks for one of the bot's actions: «психологқа жазылғым келеді» shares its verb
//! form with «өлгім келеді», and the words alone cannot tell them apart.
//!
//! Trained in seconds on the labelled set's training split
//! (`cargo run --release -p qamqor-models --example train_head`), stored in
//! `models/data/distress-head.json` and `models/data/distress-neighbours.bin`. Its
//! thresholds are chosen by cross-validation on the training split for recall: a missed
//! crisis costs more than a false alarm.
//!
//! Embeddings are of the message as [`crate::embed::query`] writes it: Latin-script words
//! spelled in Cyrillic first, as e5 reads them best.

use crate::distress::Risk;
use crate::linear::{Linear, Scaler};
use crate::words::{self, Words};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Head {
    /// The model file the head was trained on: another file means other embeddings.
    pub model_sha256: String,
    pub scaler: Scaler,
    /// Over the risk levels (none, support, high, imminent).
    pub risk: Linear,
    /// Over "no child in danger", "a child in danger".
    pub child: Linear,
    pub words: Words,
    pub stack: Stack,
    /// The escalation score (see [`Scores::escalate`]) at or above this escalates.
    pub escalate_threshold: f32,
    /// P(child in danger) at or above this flags child safety.
    pub child_threshold: f32,
    /// P(support) + P(high) + P(imminent), by the embedding, at or above this gives at
    /// least support.
    pub support_threshold: f32,
    /// The training messages, stored beside the JSON (`Neighbours::to_bytes`).
    #[serde(skip)]
    pub neighbours: Neighbours,
}

/// The word judge's regularisation (see [`words::fit`]).
const WORDS_C: f32 = 32.0;
/// How many neighbours vote, and how sharply closer ones count more.
const NEIGHBOURS: usize = 7;
const SHARPNESS: f32 = 10.0;
/// Centred, normalised embedding components stay well inside ±0.35: the 8-bit scale.
const QUANT: f32 = 127.0 / 0.35;

/// Labelled training embeddings, centred on the head's mean, normalised and quantised.
#[derive(Clone, Debug, Default)]
pub struct Neighbours {
    dim: usize,
    rows: Vec<i8>,
    /// Per row: the risk level's index in bits 0–1, child safety in bit 2.
    labels: Vec<u8>,
}

impl Neighbours {
    fn quantise(x: &[f32], centre: &[f32]) -> Vec<i8> {
        let c: Vec<f32> = x.iter().zip(centre).map(|(v, m)| v - m).collect();
        let norm = c.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
        c.iter().map(|v| (v / norm * QUANT).round().clamp(-127.0, 127.0) as i8).collect()
    }

    fn new(samples: &[Sample], centre: &[f32]) -> Neighbours {
        let mut rows = Vec::with_capacity(samples.len() * centre.len());
        let mut labels = Vec::with_capacity(samples.len());
        for s in samples {
            rows.extend(Neighbours::quantise(&s.x, centre));
            labels.push(risk_index(s.risk) as u8 | (s.child as u8) << 2);
        }
        Neighbours { dim: centre.len(), rows, labels }
    }

    /// The stored form: each row's bytes, then its label byte.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.rows.len() + self.labels.len());
        for (row, label) in self.rows.chunks(self.dim.max(1)).zip(&self.labels) {
            out.extend(row.iter().map(|v| *v as u8));
            out.push(*label);
        }
        out
    }

    pub fn from_bytes(bytes: &[u8], dim: usize) -> anyhow::Result<Neighbours> {
        anyhow::ensure!(dim > 0 && bytes.len().is_multiple_of(dim + 1), "the neighbours file does not match the head");
        let mut rows = Vec::with_capacity(bytes.len());
        let mut labels = Vec::new();
        for chunk in bytes.chunks(dim + 1) {
            rows.extend(chunk[..dim].iter().map(|b| *b as i8));
            labels.push(chunk[dim]);
        }
        Ok(Neighbours { dim, rows, labels })
    }

    /// The closest messages' labels, weighted by closeness: level probabilities and the
    /// share of child-safety neighbours. None when there are no neighbours.
    fn vote(&self, x: &[f32], centre: &[f32]) -> Option<([f32; 4], f32)> {
        if self.labels.is_empty() {
            return None;
        }
        let q = Neighbours::quantise(x, centre);
        let mut sims: Vec<(i32, usize)> = self
            .rows
            .chunks(self.dim)
            .enumerate()
            .map(|(i, row)| (row.iter().zip(&q).map(|(a, b)| *a as i32 * *b as i32).sum(), i))
            .collect();
        let k = NEIGHBOURS.min(sims.len());
        sims.select_nth_unstable_by(k - 1, |a, b| b.0.cmp(&a.0));
        let top = &sims[..k];
        let weight = |s: i32| (s as f32 / (QUANT * QUANT) * SHARPNESS).exp();
        let total: f32 = top.iter().map(|(s, _)| weight(*s)).sum();
        let (mut risk, mut child) = ([0f32; 4], 0f32);
        for (s, i) in top {
            let w = weight(*s) / total;
            risk[(self.labels[*i] & 3) as usize] += w;
            child += w * (self.labels[*i] >> 2 & 1) as f32;
        }
        Some((risk, child))
    }
}

/// What the head says about one embedding.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scores {
    /// Probabilities of none, support, high, imminent.
    pub risk: [f32; 4],
    pub child: f32,
    /// Does a psychologist need to see this: the stacked judges' probability.
    pub escalate: f32,
}

/// Each judge's say about one message, before they are weighed together.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Parts {
    /// The linear judge and the neighbours, averaged, per risk level.
    pub risk: [f32; 4],
    /// P(high) + P(imminent) by the linear judge, and by the neighbours.
    pub linear: f32,
    pub neighbours: f32,
    /// P(a psychologist must see this) by the word judge.
    pub words: f32,
    /// P(the message asks for one of the bot's actions), by the intent judges.
    pub request: f32,
    pub child: f32,
}

/// How the judges are weighed for "does a psychologist need to see this": a logistic
/// regression over their probabilities and the intent, fitted on out-of-fold scores of
/// the training split (`train_head`). The intent enters only together with the others:
/// a request makes a weak crisis signal count less and a strong one count as much, it
/// never overrides one. On the training split's cross-validation this caught more crises
/// at the same false alarms than a plain average (0.908 against 0.889 of all crises).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Stack {
    pub weights: Vec<f32>,
}

impl Stack {
    pub fn features(p: &Parts) -> [f32; 8] {
        let (a, b, c, d) = (p.linear, p.neighbours, p.words, p.request);
        [a, b, c, d, a * d, b * d, c * d, 1.0]
    }

    pub fn escalate(&self, p: &Parts) -> f32 {
        let z: f32 = Stack::features(p).iter().zip(&self.weights).map(|(x, w)| x * w).sum();
        1.0 / (1.0 + (-z).exp())
    }

    /// Fits the weights on parts and whether each message must reach a psychologist, the
    /// two classes weighed equally; full-batch gradient descent (a convex problem of
    /// eight weights).
    pub fn fit(parts: &[Parts], urgent: &[bool]) -> Stack {
        let xs: Vec<[f32; 8]> = parts.iter().map(Stack::features).collect();
        let positives = urgent.iter().filter(|u| **u).count().max(1) as f32;
        let negatives = urgent.iter().filter(|u| !**u).count().max(1) as f32;
        let mut w = [0f32; 8];
        for _ in 0..3000 {
            let mut g = [0f32; 8];
            for (x, y) in xs.iter().zip(urgent) {
                let p = 1.0 / (1.0 + (-x.iter().zip(&w).map(|(a, b)| a * b).sum::<f32>()).exp());
                let weight = if *y { 0.5 / positives } else { 0.5 / negatives };
                let err = weight * (p - *y as u8 as f32);
                g.iter_mut().zip(x).for_each(|(g, x)| *g += err * x);
            }
            w.iter_mut().zip(&g).for_each(|(w, g)| *w -= 2.0 * g);
        }
        Stack { weights: w.to_vec() }
    }
}

/// One training example: an embedding and its labels.
pub struct Sample {
    pub text: String,
    pub x: Vec<f32>,
    pub risk: Risk,
    pub child: bool,
}

fn risk_index(r: Risk) -> usize {
    Risk::ALL.iter().position(|x| *x == r).unwrap_or(0)
}

impl Head {
    /// What each judge says of a message; `request` is how sure the intent judges are
    /// that it asks for one of the bot's actions (`IntentHead::request`).
    pub fn parts(&self, text: &str, embedding: &[f32], request: f32) -> Parts {
        let x = self.scaler.apply(embedding);
        let risk = self.risk.probs(&x);
        let child = self.child.probs(&x)[1];
        // No neighbours (a head fitted on nothing): the linear judge alone.
        let (votes, share) =
            self.neighbours.vote(embedding, &self.scaler.mean).unwrap_or(([0, 1, 2, 3].map(|k| risk[k]), child));
        Parts {
            risk: [0, 1, 2, 3].map(|k| (risk[k] + votes[k]) / 2.0),
            linear: risk[2] + risk[3],
            neighbours: votes[2] + votes[3],
            words: self.words.score(text),
            request,
            child: (child + share) / 2.0,
        }
    }

    pub fn scores(&self, text: &str, embedding: &[f32], request: f32) -> Scores {
        let parts = self.parts(text, embedding, request);
        Scores { risk: parts.risk, child: parts.child, escalate: self.stack.escalate(&parts) }
    }

    /// The level and child-safety flag the head stands for, with its thresholds.
    pub fn judge(&self, s: &Scores) -> (Risk, bool) {
        let risk = if s.escalate >= self.escalate_threshold {
            if s.risk[3] > s.risk[2] { Risk::Imminent } else { Risk::High }
        } else if 1.0 - s.risk[0] >= self.support_threshold {
            Risk::Support
        } else {
            Risk::None
        };
        (risk, s.child >= self.child_threshold)
    }
}

/// Trains a head's judges on `samples`; its stack and thresholds are fitted by
/// cross-validation (`train_head`).
pub fn fit(samples: &[Sample], model_sha256: &str) -> Head {
    let scaler = Scaler::fit(&samples.iter().map(|s| s.x.as_slice()).collect::<Vec<_>>());
    let xs: Vec<Vec<f32>> = samples.iter().map(|s| scaler.apply(&s.x)).collect();
    let risks: Vec<usize> = samples.iter().map(|s| risk_index(s.risk)).collect();
    let children: Vec<usize> = samples.iter().map(|s| s.child as usize).collect();
    let texts: Vec<&str> = samples.iter().map(|s| s.text.as_str()).collect();
    let urgent: Vec<usize> = samples.iter().map(|s| (s.risk >= Risk::High || s.child) as usize).collect();
    Head {
        model_sha256: model_sha256.to_string(),
        words: words::fit(&texts, &urgent, 2, WORDS_C),
        neighbours: Neighbours::new(samples, &scaler.mean),
        risk: Linear::fit(&xs, &risks, 4),
        child: Linear::fit(&xs, &children, 2),
        scaler,
        stack: Stack::default(),
        escalate_threshold: 0.5,
        child_threshold: 0.5,
        support_threshold: 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two separable clusters per label: the head must learn them.
    #[test]
    fn learns_separable_levels_and_the_child_flag() {
        let point = |k: usize, child: bool, jitter: f32| {
            let mut x = vec![jitter; 8];
            x[k] += 1.0;
            if child {
                x[7] += 1.0;
            }
            x
        };
        let text = ["спасибо", "я устала", "не хочу жить", "сегодня уйду"];
        let mut samples = Vec::new();
        for i in 0..40 {
            let j = (i as f32) * 0.001;
            for (k, risk) in Risk::ALL.iter().enumerate() {
                samples.push(Sample {
                    text: text[k].into(),
                    x: point(k, i % 4 == 0, j),
                    risk: *risk,
                    child: i % 4 == 0,
                });
            }
        }
        let mut head = fit(&samples, "test");
        let parts: Vec<Parts> = samples.iter().map(|s| head.parts(&s.text, &s.x, 0.0)).collect();
        let urgent: Vec<bool> = samples.iter().map(|s| s.risk >= Risk::High).collect();
        head.stack = Stack::fit(&parts, &urgent);
        for (k, risk) in Risk::ALL.iter().enumerate() {
            let s = head.scores(text[k], &point(k, false, 0.02), 0.0);
            assert_eq!(head.judge(&s), (*risk, false), "{s:?}");
            assert!(head.judge(&head.scores(text[k], &point(k, true, 0.02), 0.0)).1);
        }
    }

    #[test]
    fn neighbours_survive_their_stored_form_and_vote_for_the_closest() {
        let x = |k: usize| (0..8).map(|i| if i == k { 1.0 } else { 0.1 }).collect::<Vec<f32>>();
        let samples: Vec<Sample> =
            (0..4).map(|k| Sample { text: String::new(), x: x(k), risk: Risk::ALL[k], child: k == 3 }).collect();
        let centre = vec![0.3; 8];
        let stored = Neighbours::new(&samples, &centre).to_bytes();
        let back = Neighbours::from_bytes(&stored, 8).unwrap();
        assert!(Neighbours::from_bytes(&stored[1..], 8).is_err());
        let (risk, child) = back.vote(&x(3), &centre).unwrap();
        assert!(risk[3] > 0.9 && child > 0.9, "{risk:?} {child}");
    }
}
