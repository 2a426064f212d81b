//! The trained head. For the risk level and child safety, two judges over sentence
//! embeddings, averaged:
//! - a softmax regression for the risk level and a logistic regression for child safety,
//!   on standardised e5 embeddings (5 × 384 weights);
//! - a vote of the nearest training messages (cosine on centred embeddings, kept as
//!   8-bit integers: one byte per dimension, about 1 MB for the whole training split).
//!   Paraphrases the linear judge misses often sit next to a labelled message that says
//!   the same thing in other words; a new labelled message helps at once.
//!
//! Whether to escalate averages those with a third judge that reads the wording
//! ([`crate::words`]): what the embedding blurs, the words often say plainly.
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
use crate::words::{self, Words};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Head {
    /// The model file the head was trained on: another file means other embeddings.
    pub model_sha256: String,
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
    /// One row per risk level (none, support, high, imminent).
    pub risk_weights: Vec<Vec<f32>>,
    pub risk_bias: Vec<f32>,
    pub child_weights: Vec<f32>,
    pub child_bias: f32,
    pub words: Words,
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

/// How many neighbours vote, and how sharply closer ones count more.
const NEIGHBOURS: usize = 15;
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
    /// Does a psychologist need to see this: P(high) + P(imminent) averaged with the
    /// word judge's probability.
    pub escalate: f32,
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

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl Head {
    pub fn scores(&self, text: &str, embedding: &[f32]) -> Scores {
        let x: Vec<f32> = embedding.iter().zip(&self.mean).zip(&self.scale).map(|((v, m), s)| (v - m) / s).collect();
        let dot = |w: &[f32]| w.iter().zip(&x).map(|(a, b)| (a * b) as f64).sum::<f64>();
        let logits: Vec<f64> = self.risk_weights.iter().zip(&self.risk_bias).map(|(w, b)| dot(w) + *b as f64).collect();
        let max = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let exps: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
        let sum: f64 = exps.iter().sum();
        let mut risk = [0f32; 4];
        for (r, e) in risk.iter_mut().zip(&exps) {
            *r = (e / sum) as f32;
        }
        let child = sigmoid(dot(&self.child_weights) + self.child_bias as f64) as f32;
        let child = match self.neighbours.vote(embedding, &self.mean) {
            Some((votes, share)) => {
                for (r, v) in risk.iter_mut().zip(votes) {
                    *r = (*r + v) / 2.0;
                }
                (child + share) / 2.0
            }
            None => child,
        };
        Scores { risk, child, escalate: (risk[2] + risk[3] + self.words.score(text)) / 2.0 }
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

/// Trains a head on `samples`, with thresholds at 0.5 (set them with cross-validation).
/// Classes are weighted by their rarity so that rare crises are not drowned out.
pub fn fit(samples: &[Sample], model_sha256: &str) -> Head {
    let n = samples.len().max(1);
    let dim = samples.first().map_or(0, |s| s.x.len());
    let mut mean = vec![0f64; dim];
    for s in samples {
        for (m, v) in mean.iter_mut().zip(&s.x) {
            *m += *v as f64 / n as f64;
        }
    }
    let mut var = vec![0f64; dim];
    for s in samples {
        for ((v2, v), m) in var.iter_mut().zip(&s.x).zip(&mean) {
            *v2 += (*v as f64 - m).powi(2) / n as f64;
        }
    }
    let scale: Vec<f64> = var.iter().map(|v| v.sqrt().max(1e-6)).collect();
    let xs: Vec<Vec<f64>> = samples
        .iter()
        .map(|s| s.x.iter().zip(&mean).zip(&scale).map(|((v, m), sc)| (*v as f64 - m) / sc).collect())
        .collect();

    let mut counts = [0usize; 4];
    for s in samples {
        counts[risk_index(s.risk)] += 1;
    }
    let class_weight: Vec<f64> = counts.iter().map(|c| n as f64 / (4.0 * (*c).max(1) as f64)).collect();
    let children = samples.iter().filter(|s| s.child).count().max(1);
    let child_weight = [n as f64 / (2.0 * (n - children).max(1) as f64), n as f64 / (2.0 * children as f64)];

    const STEPS: usize = 600;
    const RATE: f64 = 0.3;
    const L2: f64 = 0.02;
    let mut w = vec![vec![0f64; dim]; 4];
    let mut b = vec![0f64; 4];
    let mut cw = vec![0f64; dim];
    let mut cb = 0f64;
    for _ in 0..STEPS {
        let mut gw = vec![vec![0f64; dim]; 4];
        let mut gb = [0f64; 4];
        let mut gcw = vec![0f64; dim];
        let mut gcb = 0f64;
        for (x, s) in xs.iter().zip(samples) {
            let logits: Vec<f64> = (0..4).map(|k| w[k].iter().zip(x).map(|(a, b)| a * b).sum::<f64>() + b[k]).collect();
            let max = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let exps: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
            let sum: f64 = exps.iter().sum();
            let y = risk_index(s.risk);
            let weight = class_weight[y];
            for k in 0..4 {
                let err = weight * (exps[k] / sum - if k == y { 1.0 } else { 0.0 });
                gb[k] += err;
                for (g, v) in gw[k].iter_mut().zip(x) {
                    *g += err * v;
                }
            }
            let p = sigmoid(cw.iter().zip(x).map(|(a, b)| a * b).sum::<f64>() + cb);
            let err = child_weight[s.child as usize] * (p - s.child as u8 as f64);
            gcb += err;
            for (g, v) in gcw.iter_mut().zip(x) {
                *g += err * v;
            }
        }
        for k in 0..4 {
            b[k] -= RATE * gb[k] / n as f64;
            for (wi, g) in w[k].iter_mut().zip(&gw[k]) {
                *wi -= RATE * (g / n as f64 + L2 * *wi);
            }
        }
        cb -= RATE * gcb / n as f64;
        for (wi, g) in cw.iter_mut().zip(&gcw) {
            *wi -= RATE * (g / n as f64 + L2 * *wi);
        }
    }
    let f = |v: &[f64]| v.iter().map(|x| *x as f32).collect::<Vec<f32>>();
    let mean = f(&mean);
    let texts: Vec<&str> = samples.iter().map(|s| s.text.as_str()).collect();
    let urgent: Vec<bool> = samples.iter().map(|s| s.risk >= Risk::High || s.child).collect();
    Head {
        model_sha256: model_sha256.to_string(),
        words: words::fit(&texts, &urgent),
        neighbours: Neighbours::new(samples, &mean),
        mean,
        scale: f(&scale),
        risk_weights: w.iter().map(|r| f(r)).collect(),
        risk_bias: f(&b),
        child_weights: f(&cw),
        child_bias: cb as f32,
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
        let head = fit(&samples, "test");
        for (k, risk) in Risk::ALL.iter().enumerate() {
            let s = head.scores(text[k], &point(k, false, 0.02));
            assert_eq!(head.judge(&s), (*risk, false), "{s:?}");
            assert!(head.judge(&head.scores(text[k], &point(k, true, 0.02))).1);
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
