//! The trained head over sentence embeddings: a softmax regression for the risk level
//! and a logistic regression for child safety, on standardised e5 embeddings.
//!
//! Small on purpose: 5 × 384 weights, trained in a second on the labelled set's training
//! split (`cargo run --release -p qamqor-models --example train_head`), stored as JSON
//! in `models/data/distress-head.json`. Its thresholds are chosen by cross-validation on
//! the training split for recall: a missed crisis costs more than a false alarm.

use crate::distress::Risk;
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
    /// P(high) + P(imminent) at or above this escalates.
    pub escalate_threshold: f32,
    /// P(child in danger) at or above this flags child safety.
    pub child_threshold: f32,
    /// P(support) + P(high) + P(imminent) at or above this gives at least support.
    pub support_threshold: f32,
}

/// What the head says about one embedding.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scores {
    /// Probabilities of none, support, high, imminent.
    pub risk: [f32; 4],
    pub child: f32,
}

impl Scores {
    pub fn escalate(&self) -> f32 {
        self.risk[2] + self.risk[3]
    }
}

/// One training example: an embedding and its labels.
pub struct Sample {
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
    pub fn scores(&self, embedding: &[f32]) -> Scores {
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
        Scores { risk, child: sigmoid(dot(&self.child_weights) + self.child_bias as f64) as f32 }
    }

    /// The level and child-safety flag the head stands for, with its thresholds.
    pub fn judge(&self, s: &Scores) -> (Risk, bool) {
        let risk = if s.escalate() >= self.escalate_threshold {
            if s.risk[3] > s.risk[2] { Risk::Imminent } else { Risk::High }
        } else if s.risk[1] + s.escalate() >= self.support_threshold {
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
        let mut gb = vec![0f64; 4];
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
    Head {
        model_sha256: model_sha256.to_string(),
        mean: f(&mean),
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
        let mut samples = Vec::new();
        for i in 0..40 {
            let j = (i as f32) * 0.001;
            for (k, risk) in Risk::ALL.iter().enumerate() {
                samples.push(Sample { x: point(k, i % 4 == 0, j), risk: *risk, child: i % 4 == 0 });
            }
        }
        let head = fit(&samples, "test");
        for (k, risk) in Risk::ALL.iter().enumerate() {
            let s = head.scores(&point(k, false, 0.02));
            assert_eq!(head.judge(&s), (*risk, false), "{s:?}");
            assert!(head.judge(&head.scores(&point(k, true, 0.02))).1);
        }
    }
}
