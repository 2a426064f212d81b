//! The word judge: a softmax regression over the words a message is written in. The
//! distress head asks it "does a psychologist need to see this?" (two classes), the intent
//! judges "which of the bot's actions is this?".
//!
//! The embedding sees meaning but blurs wording; the lexicon sees wording but only the
//! phrases someone wrote down. This judge learns wording from the labelled set: stems in
//! both languages (so "таблетки"/"таблеток" and "шаршадым"/"шаршап" meet), pairs of
//! stems (so "не хочу" differs from "хочу"), and three- and four-letter pieces of the
//! Kazakh stems (so typos and unseen suffixes still land near a known word). Features are
//! TF-IDF weighted, the word and the letter blocks each scaled to unit length.
//!
//! On the training split's cross-validation, averaging it with the embedding head raised
//! escalation recall at the same false-alarm budget; it costs well under a millisecond
//! per message. Trained with the heads (`train_head`), stored in their JSON.

use crate::{stem, text};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Words {
    /// Feature → (inverse document frequency, one weight per class). Only features seen in
    /// at least two training messages are kept: rarer ones are noise.
    features: BTreeMap<String, (f32, Vec<f32>)>,
    bias: Vec<f32>,
}

/// A message's features, by block, with their counts.
fn features(text: &str) -> [BTreeMap<String, u32>; 2] {
    let mut words = BTreeMap::new();
    let mut letters = BTreeMap::new();
    for reading in text::readings(text) {
        let kk: Vec<String> = reading.iter().map(|w| stem::kazakh(w)).collect();
        let ru: Vec<String> = reading.iter().map(|w| stem::russian(w)).collect();
        for (tag, stems) in [("k", &kk), ("r", &ru)] {
            for s in stems.iter() {
                *words.entry(format!("{tag}:{s}")).or_insert(0) += 1;
            }
            for pair in stems.windows(2) {
                *words.entry(format!("{tag}:{} {}", pair[0], pair[1])).or_insert(0) += 1;
            }
        }
        for s in &kk {
            let padded: Vec<char> = format!(" {s} ").chars().collect();
            for n in 3..=4 {
                for piece in padded.windows(n) {
                    *letters.entry(format!("c:{}", piece.iter().collect::<String>())).or_insert(0) += 1;
                }
            }
        }
    }
    [words, letters]
}

/// TF-IDF with sublinear counts, each block scaled to unit length; unknown features dropped.
fn vector(blocks: &[BTreeMap<String, u32>; 2], idf: impl Fn(&str) -> Option<f32>) -> Vec<(&str, f32)> {
    let mut out = Vec::new();
    for block in blocks {
        let start = out.len();
        for (f, count) in block {
            if let Some(idf) = idf(f) {
                out.push((f.as_str(), (1.0 + (*count as f32).ln()) * idf));
            }
        }
        let norm = out[start..].iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            out[start..].iter_mut().for_each(|(_, v)| *v /= norm);
        }
    }
    out
}

/// Probabilities from logits, in place.
pub(crate) fn softmax(logits: &mut [f32]) {
    let max = logits.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    logits.iter_mut().for_each(|l| *l = (*l - max).exp());
    let sum: f32 = logits.iter().sum();
    logits.iter_mut().for_each(|l| *l /= sum);
}

impl Words {
    /// The probability of each class, by the message's wording.
    pub fn probs(&self, text: &str) -> Vec<f32> {
        let blocks = features(text);
        let x = vector(&blocks, |f| self.features.get(f).map(|(idf, _)| *idf));
        let mut logits = self.bias.clone();
        for (f, v) in x {
            for (l, w) in logits.iter_mut().zip(&self.features[f].1) {
                *l += w * v;
            }
        }
        softmax(&mut logits);
        logits
    }

    /// For a judge of two classes: the probability of the second ("yes").
    pub fn score(&self, text: &str) -> f32 {
        self.probs(text).get(1).copied().unwrap_or(0.0)
    }
}

const EPOCHS: usize = 400;
const RATE: f32 = 0.05;

/// Fits the judge on messages and their classes (`labels[i] < classes`), with `c` the
/// inverse of the penalty, as scikit-learn's C: larger trusts the training set more. Classes are
/// weighted by their rarity; the optimiser is Adam on the full batch (the problem is
/// convex and small: seconds). Deterministic: features are kept in sorted order.
pub fn fit(texts: &[&str], labels: &[usize], classes: usize, c: f32) -> Words {
    let n = texts.len().max(1);
    let blocks: Vec<[BTreeMap<String, u32>; 2]> = texts.iter().map(|t| features(t)).collect();
    let mut df: BTreeMap<&str, usize> = BTreeMap::new();
    for b in &blocks {
        for f in b.iter().flat_map(|block| block.keys()) {
            *df.entry(f.as_str()).or_insert(0) += 1;
        }
    }
    df.retain(|_, d| *d >= 2);
    let index: BTreeMap<&str, usize> = df.keys().enumerate().map(|(i, f)| (*f, i)).collect();
    let idf: Vec<f32> = df.values().map(|d| ((1.0 + n as f32) / (1.0 + *d as f32)).ln() + 1.0).collect();
    let xs: Vec<Vec<(usize, f32)>> = blocks
        .iter()
        .map(|b| vector(b, |f| index.get(f).map(|i| idf[*i])).into_iter().map(|(f, v)| (index[f], v)).collect())
        .collect();
    let mut counts = vec![0usize; classes];
    labels.iter().for_each(|y| counts[*y] += 1);
    let class_weight: Vec<f32> = counts.iter().map(|c| n as f32 / (classes as f32 * (*c).max(1) as f32)).collect();
    let l2 = 1.0 / (c * n as f32);

    // Row i of the weights is feature i's weight per class; the last row is the bias.
    let dim = (index.len() + 1) * classes;
    let bias = index.len() * classes;
    let (mut w, mut m, mut v) = (vec![0f32; dim], vec![0f32; dim], vec![0f32; dim]);
    let (b1, b2) = (0.9f32, 0.999f32);
    let mut p = vec![0f32; classes];
    for step in 1..=EPOCHS {
        let mut g = vec![0f32; dim];
        for (x, y) in xs.iter().zip(labels) {
            p.copy_from_slice(&w[bias..]);
            for (i, v) in x {
                p.iter_mut().zip(&w[i * classes..(i + 1) * classes]).for_each(|(l, w)| *l += w * v);
            }
            softmax(&mut p);
            p[*y] -= 1.0;
            let weight = class_weight[*y] / n as f32;
            for (i, v) in x {
                g[i * classes..(i + 1) * classes].iter_mut().zip(&p).for_each(|(g, e)| *g += weight * e * v);
            }
            g[bias..].iter_mut().zip(&p).for_each(|(g, e)| *g += weight * e);
        }
        for i in 0..bias {
            g[i] += l2 * w[i];
        }
        for i in 0..dim {
            m[i] = b1 * m[i] + (1.0 - b1) * g[i];
            v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
            let (mh, vh) = (m[i] / (1.0 - b1.powi(step as i32)), v[i] / (1.0 - b2.powi(step as i32)));
            w[i] -= RATE * mh / (vh.sqrt() + 1e-8);
        }
    }
    Words {
        features: index
            .iter()
            .map(|(f, i)| (f.to_string(), (idf[*i], w[i * classes..(i + 1) * classes].to_vec())))
            .collect(),
        bias: w[bias..].to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_the_wording_of_urgent_messages_across_scripts_and_forms() {
        let urgent = [
            "не хочу жить",
            "больше не хочу жить",
            "жить не хочу совсем",
            "өмір сүргім келмейді",
            "өмір сүргім келмейді енді",
            "ne hochu zhit",
        ];
        let calm = [
            "хочу записаться к логопеду",
            "как получить пособие",
            "жәрдемақы қалай аламын",
            "логопедке жазылғым келеді",
            "хочу узнать про пособие",
            "пособие на ребенка",
        ];
        let texts: Vec<&str> = urgent.iter().chain(&calm).copied().collect();
        let labels: Vec<usize> = (0..texts.len()).map(|i| (i < urgent.len()) as usize).collect();
        let words = fit(&texts, &labels, 2, 8.0);
        assert!(words.score("Ne hochu bolshe zhit") > 0.5);
        assert!(words.score("omir surgim kelmeidi") > 0.5);
        assert!(words.score("подскажите про пособие") < 0.5);
        assert!(words.score("") > 0.0, "an empty message still gets a probability");
    }
}
