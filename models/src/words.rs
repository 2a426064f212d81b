//! The word judge: a logistic regression over the words a message is written in, for
//! "does a psychologist need to see this?".
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
//! per message. Trained with the head (`train_head`), stored in its JSON.

use crate::{stem, text};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Words {
    /// Feature → (inverse document frequency, weight). Only features seen in at least two
    /// training messages are kept: rarer ones are noise.
    features: HashMap<String, (f32, f32)>,
    bias: f32,
}

/// A message's features, by block, with their counts.
fn features(text: &str) -> [HashMap<String, u32>; 2] {
    let mut words = HashMap::new();
    let mut letters = HashMap::new();
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
fn vector(blocks: &[HashMap<String, u32>; 2], idf: impl Fn(&str) -> Option<f32>) -> Vec<(&str, f32)> {
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

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

impl Words {
    /// The probability that a message needs a psychologist, by its wording.
    pub fn score(&self, text: &str) -> f32 {
        let blocks = features(text);
        let x = vector(&blocks, |f| self.features.get(f).map(|(idf, _)| *idf));
        sigmoid(self.bias + x.iter().map(|(f, v)| self.features[*f].1 * v).sum::<f32>())
    }

    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }
}

/// Regularisation, as scikit-learn's C: larger trusts the training set more.
const C: f32 = 8.0;
const EPOCHS: usize = 400;
const RATE: f32 = 0.05;

/// Fits the judge on messages and whether each must reach a psychologist. Classes are
/// weighted by their rarity; the optimiser is Adam on the full batch (the problem is
/// convex and small: a second or two).
pub fn fit(texts: &[&str], urgent: &[bool]) -> Words {
    let n = texts.len().max(1);
    let blocks: Vec<[HashMap<String, u32>; 2]> = texts.iter().map(|t| features(t)).collect();
    let mut df: HashMap<&str, usize> = HashMap::new();
    for b in &blocks {
        for f in b.iter().flat_map(|block| block.keys()) {
            *df.entry(f.as_str()).or_insert(0) += 1;
        }
    }
    df.retain(|_, d| *d >= 2);
    let index: HashMap<&str, usize> = df.keys().enumerate().map(|(i, f)| (*f, i)).collect();
    let idf: Vec<f32> = {
        let mut v = vec![0.0; index.len()];
        for (f, i) in &index {
            v[*i] = ((1.0 + n as f32) / (1.0 + df[f] as f32)).ln() + 1.0;
        }
        v
    };
    let xs: Vec<Vec<(usize, f32)>> = blocks
        .iter()
        .map(|b| vector(b, |f| index.get(f).map(|i| idf[*i])).into_iter().map(|(f, v)| (index[f], v)).collect())
        .collect();
    let positives = urgent.iter().filter(|u| **u).count().max(1);
    let class_weight = [n as f32 / (2.0 * (n - positives).max(1) as f32), n as f32 / (2.0 * positives as f32)];
    let l2 = 1.0 / (C * n as f32);

    let dim = index.len() + 1; // the last one is the bias
    let (mut w, mut m, mut v) = (vec![0f32; dim], vec![0f32; dim], vec![0f32; dim]);
    let (b1, b2) = (0.9f32, 0.999f32);
    for step in 1..=EPOCHS {
        let mut g = vec![0f32; dim];
        for (x, y) in xs.iter().zip(urgent) {
            let z = w[dim - 1] + x.iter().map(|(i, v)| w[*i] * v).sum::<f32>();
            let err = class_weight[*y as usize] * (sigmoid(z) - *y as u8 as f32) / n as f32;
            x.iter().for_each(|(i, v)| g[*i] += err * v);
            g[dim - 1] += err;
        }
        for i in 0..dim - 1 {
            g[i] += l2 * w[i];
        }
        for i in 0..dim {
            m[i] = b1 * m[i] + (1.0 - b1) * g[i];
            v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
            let (mh, vh) = (m[i] / (1.0 - b1.powi(step as i32)), v[i] / (1.0 - b2.powi(step as i32)));
            w[i] -= RATE * mh / (vh.sqrt() + 1e-8);
        }
    }
    Words { features: index.iter().map(|(f, i)| (f.to_string(), (idf[*i], w[*i]))).collect(), bias: w[dim - 1] }
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
        let labels: Vec<bool> = (0..texts.len()).map(|i| i < urgent.len()).collect();
        let words = fit(&texts, &labels);
        assert!(words.score("Ne hochu bolshe zhit") > 0.5);
        assert!(words.score("omir surgim kelmeidi") > 0.5);
        assert!(words.score("подскажите про пособие") < 0.5);
        assert!(words.score("") > 0.0, "an empty message still gets a probability");
    }
}
