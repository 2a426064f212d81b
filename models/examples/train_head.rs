//! Trains the distress head on the labelled set's training split and writes
//! `models/data/distress-head.json` and `models/data/distress-neighbours.bin`.
//! Thresholds come from 5-fold cross-validation on the training split, on the head's own
//! out-of-fold scores: the best escalation recall whose false alarms on "none" stay within
//! a budget well under the 5 % bar, counted on the training messages of the set as first
//! written (`Example::base`), which are drawn like the held-out split and like real
//! messages. The extras lean on hard cases on purpose and would calibrate for a harder
//! world than the real one. The head is judged alone here because the lexicon was tuned
//! on this split and looks better on it than it is; the budget leaves it room (on the
//! 1,040 messages of distress-extra5.jsonl, which it was never tuned on, the lexicon
//! alone raised 0.7 % false alarms).
//! The held-out split is not read.
//!
//! cargo run --release -p qamqor-models --example train_head

use qamqor_models::distress::Risk;
use qamqor_models::embed::{self, E5Small, Embedder};
use qamqor_models::eval::{self, Split};
use qamqor_models::head::{self, Head, Sample, Scores};
use qamqor_models::model_file;
use rayon::prelude::*;

const FOLDS: usize = 5;
const FALSE_ALARM_BUDGET: f64 = 0.02;
const SUPPORT_RECALL_TARGET: f64 = 0.90;

fn main() -> anyhow::Result<()> {
    let path = model_file::fetch(&model_file::default_path())?;
    let e5 = E5Small::load(&path)?;
    let train = eval::split(&eval::dataset(), Split::Train);
    eprintln!("embedding {} training messages", train.len());
    let samples: Vec<Sample> = train
        .par_iter()
        .map(|e| {
            let x = e5.embed(&embed::query(&e.text))?;
            Ok(Sample { text: e.text.clone(), x, risk: e.risk, child: e.child_safety })
        })
        .collect::<anyhow::Result<_>>()?;

    // Out-of-fold scores: each message scored by a head that did not see it.
    let mut oof: Vec<Option<Scores>> = vec![None; samples.len()];
    for fold in 0..FOLDS {
        let fit_on: Vec<Sample> = samples
            .iter()
            .enumerate()
            .filter(|(i, _)| i % FOLDS != fold)
            .map(|(_, s)| Sample { text: s.text.clone(), x: s.x.clone(), risk: s.risk, child: s.child })
            .collect();
        let h = head::fit(&fit_on, model_file::SHA256);
        for (i, s) in samples.iter().enumerate().filter(|(i, _)| i % FOLDS == fold) {
            oof[i] = Some(h.scores(&s.text, &s.x));
        }
    }
    let oof: Vec<Scores> = oof.into_iter().map(|s| s.expect("every message is in one fold")).collect();

    let lexicon_urgent: Vec<bool> = train
        .iter()
        .map(|e| {
            let a = qamqor_models::distress::assess(&e.text);
            a.risk >= Risk::High || a.child_safety
        })
        .collect();
    // Escalation recall and false alarms on "none" over the messages `counted` picks, by
    // the head alone or, as the detector runs, OR-ed with the lexicon.
    let rates = |te: f32, tc: f32, lexicon_too: bool, counted: &dyn Fn(&eval::Example) -> bool| {
        let (mut found, mut crises, mut alarms, mut calm) = (0, 0, 0, 0);
        for ((e, s), lexicon) in train.iter().zip(&oof).zip(&lexicon_urgent).filter(|((e, _), _)| counted(e)) {
            let urgent = s.escalate >= te || s.child >= tc || (lexicon_too && *lexicon);
            if e.escalate() {
                crises += 1;
                found += urgent as usize;
            } else if e.risk == Risk::None {
                calm += 1;
                alarms += urgent as usize;
            }
        }
        (found as f64 / crises as f64, alarms as f64 / calm as f64)
    };
    let grid: Vec<f32> = (1..100).map(|i| i as f32 / 100.0).collect();
    let mut best: Option<(f64, f64, f32, f32)> = None;
    for &te in &grid {
        for &tc in &grid {
            let (recall, false_alarm) = rates(te, tc, false, &|e| e.base);
            let better = match best {
                None => true,
                Some((r, f, ..)) => recall > r || (recall == r && false_alarm < f),
            };
            if false_alarm <= FALSE_ALARM_BUDGET && better {
                best = Some((recall, false_alarm, te, tc));
            }
        }
    }
    let (recall, false_alarm, te, tc) =
        best.ok_or_else(|| anyhow::anyhow!("no threshold keeps false alarms in budget"))?;
    let (recall_base, false_alarm_base) = rates(te, tc, true, &|e| e.base);
    let (recall_all, false_alarm_all) = rates(te, tc, true, &|_| true);

    let support_recall = |t: f32| {
        let (mut hit, mut all) = (0, 0);
        for (e, s) in train.iter().zip(&oof) {
            if e.risk == Risk::Support && !e.child_safety {
                all += 1;
                hit += (1.0 - s.risk[0] >= t) as usize;
            }
        }
        hit as f64 / all as f64
    };
    let ts = grid.iter().rev().copied().find(|&t| support_recall(t) >= SUPPORT_RECALL_TARGET).unwrap_or(0.5);

    // Per language variant, out of fold: the head alone and with the lexicon.
    let variants: std::collections::BTreeSet<&str> = train.iter().map(|e| e.variant.as_str()).collect();
    for v in variants {
        let (alone, alone_alarms) = rates(te, tc, false, &|e| e.variant == v);
        let (both, both_alarms) = rates(te, tc, true, &|e| e.variant == v);
        println!(
            "  {v:<12} escalate recall / false escalation: head alone {alone:.3} / {alone_alarms:.3}, \
             with the lexicon {both:.3} / {both_alarms:.3}"
        );
    }

    if let Ok(dir) = std::env::var("QAMQOR_MISSES") {
        // For curating the set and the lexicon: the training messages the cross-validated
        // head gets wrong at the chosen thresholds, with what the lexicon says.
        let mut out = String::new();
        for ((e, s), lex_urgent) in train.iter().zip(&oof).zip(&lexicon_urgent) {
            let urgent = s.escalate >= te || s.child >= tc;
            if e.escalate() != urgent && (e.escalate() || e.risk == Risk::None) {
                let kind = if e.escalate() { "missed" } else { "false-alarm" };
                out += &format!(
                    "{kind}\t{:.2}\t{:.2}\tlex={}\t{}\t{}\n",
                    s.escalate, s.child, lex_urgent, e.variant, e.text
                );
            }
        }
        std::fs::write(std::path::Path::new(&dir).join("misses.tsv"), out)?;
    }
    let mut head: Head = head::fit(&samples, model_file::SHA256);
    head.escalate_threshold = te;
    head.child_threshold = tc;
    head.support_threshold = ts;
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let out = data.join("distress-head.json");
    std::fs::write(&out, serde_json::to_string(&head)?)?;
    std::fs::write(data.join("distress-neighbours.bin"), head.neighbours.to_bytes())?;
    println!("cross-validated on the training split ({} messages, {FOLDS} folds):", train.len());
    println!(
        "  first-written set, head alone: escalate recall {recall:.3}, false escalation {false_alarm:.3} (budget {FALSE_ALARM_BUDGET})"
    );
    println!(
        "  first-written set, head OR lexicon: escalate recall {recall_base:.3}, false escalation {false_alarm_base:.3}"
    );
    println!("  all, head OR lexicon: escalate recall {recall_all:.3}, false escalation {false_alarm_all:.3}");
    println!("  support recall {:.3}", support_recall(ts));
    println!("thresholds: escalate {te}, child {tc}, support {ts}");
    println!("wrote {}", out.display());
    Ok(())
}
