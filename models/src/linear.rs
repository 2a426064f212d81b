//! The linear judges over sentence embeddings that the distress head and the intent
//! judges share: a standardiser and a softmax regression.

use serde::{Deserialize, Serialize};

/// Standardises embeddings: each component centred on the training mean and scaled by
/// its spread, so that one learning rate and one penalty suit every component.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Scaler {
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
}

impl Scaler {
    pub fn fit(xs: &[&[f32]]) -> Scaler {
        let n = xs.len().max(1) as f64;
        let dim = xs.first().map_or(0, |x| x.len());
        let mut mean = vec![0f64; dim];
        xs.iter().for_each(|x| mean.iter_mut().zip(*x).for_each(|(m, v)| *m += *v as f64 / n));
        let mut var = vec![0f64; dim];
        xs.iter()
            .for_each(|x| var.iter_mut().zip(*x).zip(&mean).for_each(|((s, v), m)| *s += (*v as f64 - m).powi(2) / n));
        Scaler {
            mean: mean.iter().map(|m| *m as f32).collect(),
            scale: var.iter().map(|v| v.sqrt().max(1e-6) as f32).collect(),
        }
    }

    pub fn apply(&self, x: &[f32]) -> Vec<f32> {
        x.iter().zip(&self.mean).zip(&self.scale).map(|((v, m), s)| (v - m) / s).collect()
    }
}

/// A softmax regression over standardised embeddings: one row of weights per class.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Linear {
    pub weights: Vec<Vec<f32>>,
    pub bias: Vec<f32>,
}

impl Linear {
    pub fn probs(&self, x: &[f32]) -> Vec<f32> {
        let mut logits: Vec<f32> = self
            .weights
            .iter()
            .zip(&self.bias)
            .map(|(w, b)| w.iter().zip(x).map(|(a, b)| a * b).sum::<f32>() + b)
            .collect();
        crate::words::softmax(&mut logits);
        logits
    }

    /// Fits on standardised inputs and their classes (`ys[i] < classes`), classes weighted
    /// by their rarity so that rare ones are not drowned out; full-batch gradient descent
    /// with an L2 penalty.
    pub fn fit(xs: &[Vec<f32>], ys: &[usize], classes: usize) -> Linear {
        const STEPS: usize = 600;
        const RATE: f64 = 0.3;
        const L2: f64 = 0.02;
        let n = xs.len().max(1) as f64;
        let dim = xs.first().map_or(0, |x| x.len());
        let mut counts = vec![0usize; classes];
        ys.iter().for_each(|y| counts[*y] += 1);
        let class_weight: Vec<f64> = counts.iter().map(|c| n / (classes as f64 * (*c).max(1) as f64)).collect();
        let mut w = vec![vec![0f64; dim]; classes];
        let mut b = vec![0f64; classes];
        let mut p = vec![0f64; classes];
        for _ in 0..STEPS {
            let mut gw = vec![vec![0f64; dim]; classes];
            let mut gb = vec![0f64; classes];
            for (x, y) in xs.iter().zip(ys) {
                for k in 0..classes {
                    p[k] = w[k].iter().zip(x).map(|(a, b)| a * *b as f64).sum::<f64>() + b[k];
                }
                let max = p.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                p.iter_mut().for_each(|l| *l = (*l - max).exp());
                let sum: f64 = p.iter().sum();
                for k in 0..classes {
                    let err = class_weight[*y] * (p[k] / sum - if k == *y { 1.0 } else { 0.0 });
                    gb[k] += err;
                    gw[k].iter_mut().zip(x).for_each(|(g, v)| *g += err * *v as f64);
                }
            }
            for k in 0..classes {
                b[k] -= RATE * gb[k] / n;
                for (wi, g) in w[k].iter_mut().zip(&gw[k]) {
                    *wi -= RATE * (g / n + L2 * *wi);
                }
            }
        }
        let f = |v: &[f64]| v.iter().map(|x| *x as f32).collect::<Vec<f32>>();
        Linear { weights: w.iter().map(|r| f(r)).collect(), bias: f(&b) }
    }
}
