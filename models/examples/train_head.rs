//! Trains the distress head and the intent judges on the training splits of the labelled
//! sets, and writes `models/data/distress-head.json`, `models/data/distress-neighbours.bin`
//! and `models/data/intent-head.json`. The held-out splits are not read.
//!
//! The judges' weights in the escalation decision (`head::Stack`, which also weighs the
//! intent) are fitted on the judges' out-of-fold scores, and the distress thresholds come
//! from 5-fold cross-validation on the training split (folds by group: near-copies of a
//! message stay together), on the stacked out-of-fold scores: the best escalation recall over every crisis of the
//! training split whose false alarms stay within two budgets:
//! - on "none" of the set as first written (`Example::base`, drawn like the held-out
//!   split and like real messages), well under the 5 % bar;
//! - on everyday requests, in every script, under the 1 % bar. (The ordinary sides of
//!   the minimal pairs are written to be as hard as can be — «Стою на мосту, жду такси» —
//!   and are reported, not budgeted.)
//!
//! The head is judged alone here because the lexicon was tuned on this split and looks
//! better on it than it is; the budgets leave it room.
//!
//! cargo run --release -p qamqor-models --example train_head
//! (`QAMQOR_EMBEDDINGS=file` keeps the training embeddings between runs, keyed by text.)

use qamqor_models::distress::Risk;
use qamqor_models::embed::{self, E5Small, Embedder};
use qamqor_models::eval::{self, Example, Source, Split};
use qamqor_models::head::{self, Head, Parts, Sample, Scores, Stack};
use qamqor_models::intent::{self, Intent, IntentHead};
use qamqor_models::model_file;
use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap};

const FOLDS: usize = 5;
const FALSE_ALARM_BUDGET: f64 = 0.02;
const EVERYDAY_BUDGET: f64 = 0.005;
const SUPPORT_RECALL_TARGET: f64 = 0.90;

fn main() -> anyhow::Result<()> {
    let path = model_file::fetch(&model_file::default_path())?;
    let e5 = E5Small::load(&path)?;
    let train = eval::split(&eval::dataset(), Split::Train);
    let xs = embeddings(&e5, &train)?;
    let samples: Vec<Sample> = train
        .iter()
        .zip(&xs)
        .map(|(e, x)| Sample { text: e.text.clone(), x: x.clone(), risk: e.risk, child: e.child_safety })
        .collect();

    // Out of fold: each message judged by judges that saw neither it nor any near-copy
    // of it (a group stays in one fold). The intent judges are fitted on the same folds'
    // everyday requests: the head weighs its judges by the intent.
    let fold_of: Vec<usize> =
        train.iter().enumerate().map(|(i, e)| e.group.map_or(i, |g| g as usize) % FOLDS).collect();
    let urgent: Vec<bool> = train.iter().map(|e| e.escalate()).collect();
    let mut parts: Vec<Option<Parts>> = vec![None; samples.len()];
    let mut hits: HashMap<&str, (usize, usize)> = HashMap::new();
    for fold in 0..FOLDS {
        let fit_on: Vec<Sample> = samples
            .iter()
            .enumerate()
            .filter(|(i, _)| fold_of[*i] != fold)
            .map(|(_, s)| Sample { text: s.text.clone(), x: s.x.clone(), risk: s.risk, child: s.child })
            .collect();
        let h = head::fit(&fit_on, model_file::SHA256);
        let judge = fit_intent(&train, &xs, &|i| fold_of[i] != fold);
        for i in (0..samples.len()).filter(|i| fold_of[*i] == fold) {
            let (e, s) = (&train[i], &samples[i]);
            let probs = judge.probs(&e.text, Some(&s.x));
            parts[i] = Some(h.parts(&s.text, &s.x, IntentHead::request(&probs)));
            if let Some(label) = e.intent {
                let (intent, confidence) = IntentHead::best(&probs);
                let keys = ["all", e.variant.as_str(), if confidence >= 0.5 { "sure (p ≥ 0.5)" } else { "unsure" }];
                for key in keys {
                    let h = hits.entry(key).or_default();
                    h.0 += (intent == label) as usize;
                    h.1 += 1;
                }
            }
        }
        eprintln!("fold {} of {FOLDS}", fold + 1);
    }
    let parts: Vec<Parts> = parts.into_iter().map(|p| p.expect("every message is in one fold")).collect();
    // The stack is cross-validated too: fitted on the other folds' parts.
    let mut oof: Vec<Option<Scores>> = vec![None; samples.len()];
    for fold in 0..FOLDS {
        let (fit_parts, fit_urgent): (Vec<Parts>, Vec<bool>) =
            (0..parts.len()).filter(|i| fold_of[*i] != fold).map(|i| (parts[i], urgent[i])).unzip();
        let stack = Stack::fit(&fit_parts, &fit_urgent);
        for i in (0..parts.len()).filter(|i| fold_of[*i] == fold) {
            let p = &parts[i];
            oof[i] = Some(Scores { risk: p.risk, child: p.child, escalate: stack.escalate(p) });
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
    let rates = |te: f32, tc: f32, lexicon_too: bool, counted: &dyn Fn(&Example) -> bool| {
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
        (found as f64 / crises.max(1) as f64, alarms as f64 / calm.max(1) as f64)
    };
    let everyday = |e: &Example| e.source == Source::Everyday;
    let variants: BTreeSet<String> = train.iter().map(|e| e.variant.clone()).collect();
    let grid: Vec<f32> = (1..100).map(|i| i as f32 / 100.0).collect();
    let mut best: Option<(f64, f64, f32, f32)> = None;
    for &te in &grid {
        for &tc in &grid {
            let (recall, false_alarm) = rates(te, tc, false, &|_| true);
            let (_, base_alarms) = rates(te, tc, false, &|e| e.base());
            let everyday_ok = variants
                .iter()
                .all(|v| rates(te, tc, false, &|e| everyday(e) && e.variant == *v).1 <= 2.0 * EVERYDAY_BUDGET)
                && rates(te, tc, false, &everyday).1 <= EVERYDAY_BUDGET;
            let better = match best {
                None => true,
                Some((r, f, ..)) => recall > r || (recall == r && false_alarm < f),
            };
            if base_alarms <= FALSE_ALARM_BUDGET && everyday_ok && better {
                best = Some((recall, false_alarm, te, tc));
            }
        }
    }
    let (recall, _, te, tc) = best.ok_or_else(|| anyhow::anyhow!("no threshold keeps false alarms in budget"))?;

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

    println!("cross-validated on the training split ({} messages, {FOLDS} folds):", train.len());
    println!("  every crisis, head alone: escalate recall {recall:.3}");
    let sources = [
        ("first-written", Source::Base),
        ("extras", Source::Extra),
        ("everyday", Source::Everyday),
        ("minimal pairs", Source::Pairs),
        ("crisis in request", Source::CrisisRequests),
        ("staff", Source::Staff),
    ];
    for (name, source) in sources {
        let (r, f) = rates(te, tc, false, &|e| e.source == source);
        let (rl, fl) = rates(te, tc, true, &|e| e.source == source);
        println!(
            "  {name:<18} escalate recall / false escalation: head alone {r:.3} / {f:.3}, with the lexicon {rl:.3} / {fl:.3}"
        );
    }
    for v in &variants {
        let (alone, alone_alarms) = rates(te, tc, false, &|e| e.variant == *v);
        let (_, everyday_alarms) = rates(te, tc, false, &|e| everyday(e) && e.variant == *v);
        println!(
            "  {v:<12} escalate recall {alone:.3}, false escalation {alone_alarms:.3}, on everyday requests {everyday_alarms:.3}"
        );
    }
    println!("  support recall {:.3}", support_recall(ts));
    println!("thresholds: escalate {te}, child {tc}, support {ts}");

    if let Ok(dir) = std::env::var("QAMQOR_MISSES") {
        // For curating the sets and the lexicon: the training messages the cross-validated
        // head gets wrong at the chosen thresholds, with what the lexicon says.
        let mut out = String::new();
        for ((e, s), lex_urgent) in train.iter().zip(&oof).zip(&lexicon_urgent) {
            let urgent = s.escalate >= te || s.child >= tc;
            if e.escalate() != urgent && (e.escalate() || e.risk == Risk::None) {
                let kind = if e.escalate() { "missed" } else { "false-alarm" };
                out += &format!(
                    "{kind}\t{:?}\t{:.2}\t{:.2}\tlex={}\t{}\t{}\n",
                    e.source, s.escalate, s.child, lex_urgent, e.variant, e.text
                );
            }
        }
        std::fs::write(std::path::Path::new(&dir).join("misses.tsv"), out)?;
    }

    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let mut head: Head = head::fit(&samples, model_file::SHA256);
    head.stack = Stack::fit(&parts, &urgent);
    head.escalate_threshold = te;
    head.child_threshold = tc;
    head.support_threshold = ts;
    println!("stack weights: {:?}", head.stack.weights);
    std::fs::write(data.join("distress-head.json"), serde_json::to_string(&head)?)?;
    std::fs::write(data.join("distress-neighbours.bin"), head.neighbours.to_bytes())?;

    let mut keys: Vec<_> = hits.iter().collect();
    keys.sort();
    for (key, (right, all)) in keys {
        println!("  intent top-1, out of fold, {key:<14} {:.3} ({right}/{all})", *right as f64 / *all as f64);
    }
    let judge = fit_intent(&train, &xs, &|_| true);
    std::fs::write(data.join("intent-head.json"), serde_json::to_string(&judge)?)?;
    println!("wrote the distress head and the intent judges to {}", data.display());
    Ok(())
}

/// The intent judges, fitted on the everyday requests among the training messages `use_it` picks.
fn fit_intent(train: &[Example], xs: &[Vec<f32>], use_it: &dyn Fn(usize) -> bool) -> IntentHead {
    let rows: Vec<usize> = (0..train.len()).filter(|i| use_it(*i) && train[*i].intent.is_some()).collect();
    let texts: Vec<&str> = rows.iter().map(|i| train[*i].text.as_str()).collect();
    let embeddings: Vec<&[f32]> = rows.iter().map(|i| xs[*i].as_slice()).collect();
    let intents: Vec<Intent> = rows.iter().map(|i| train[*i].intent.unwrap_or(Intent::Other)).collect();
    intent::fit(&texts, &embeddings, &intents, model_file::SHA256)
}

/// The training messages' embeddings, in order, from the cache file when one is named.
fn embeddings(e5: &E5Small, train: &[Example]) -> anyhow::Result<Vec<Vec<f32>>> {
    let cache_path = std::env::var("QAMQOR_EMBEDDINGS").ok();
    let mut cache: HashMap<String, Vec<f32>> = cache_path
        .as_ref()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let missing: Vec<&str> = train
        .iter()
        .map(|e| e.text.as_str())
        .filter(|t| !cache.contains_key(*t))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    eprintln!("embedding {} of {} training messages", missing.len(), train.len());
    let computed: Vec<(String, Vec<f32>)> =
        missing.par_iter().map(|t| Ok((t.to_string(), e5.embed(&embed::query(t))?))).collect::<anyhow::Result<_>>()?;
    cache.extend(computed);
    if let Some(p) = &cache_path {
        std::fs::write(p, serde_json::to_vec(&cache)?)?;
    }
    Ok(train.iter().map(|e| cache[&e.text].clone()).collect())
}
