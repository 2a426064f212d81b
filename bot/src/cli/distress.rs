//! Command-line tools around the distress detector: fetch the model, classify lines,
//! evaluate on the held-out split, benchmark. `classify` is the stable interface others
//! use to evaluate the detector: one JSON object per input line.

use super::{peak_rss_mb, percentile};
use crate::app::detector;
use qamqor_models::detector::{Detector, Reading};
use qamqor_models::eval::{self, Source};
use qamqor_models::lang::written_in;
use qamqor_models::model_file;
use serde_json::json;
use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

pub fn fetch() -> anyhow::Result<()> {
    let path = model_file::fetch(&model_file::default_path())?;
    println!("{} ({}), SHA-256 verified", path.display(), model_file::PACKAGE);
    Ok(())
}

fn line_json(text: &str, r: &Reading) -> serde_json::Value {
    let a = &r.assessment;
    json!({
        "text": text,
        "lang": written_in(text),
        "risk": a.risk,
        "child_safety": a.child_safety,
        "signals": a.signals.iter().map(|s| s.name()).collect::<Vec<_>>(),
        "intent": r.intent,
    })
}

/// Reads messages, one per line, from stdin; writes one JSON object per line.
pub fn classify() -> anyhow::Result<()> {
    classify_lines(&detector(), std::io::stdin().lock(), std::io::stdout().lock())
}

/// The interface others use to evaluate the detector: keep its fields stable.
pub fn classify_lines(detector: &Detector, input: impl BufRead, mut out: impl Write) -> anyhow::Result<()> {
    for line in input.lines() {
        let line = line?;
        writeln!(out, "{}", line_json(&line, &detector.read(&line)))?;
    }
    Ok(())
}

/// Prints the held-out evaluation of the whole detector, and of each layer alone, on the
/// first-written set; then the held-out splits of the other sets.
pub fn eval_distress() -> anyhow::Result<()> {
    let detector = detector();
    let all = eval::dataset();
    let test = eval::held_out(&all, Source::Base);
    println!(
        "held-out split as first drawn, both layers{}:",
        if detector.is_degraded() { " (DEGRADED: lexicon only)" } else { "" }
    );
    println!("{}", eval::evaluate(&test, |t| detector.assess(t)));
    let lexicon = eval::evaluate(&test, qamqor_models::distress::assess);
    println!(
        "lexicon alone:   escalate recall {:.3}, false escalation {:.3}, support recall {:.3}",
        lexicon.escalate_recall, lexicon.false_escalation, lexicon.support_recall
    );
    if !detector.is_degraded() {
        let semantic = eval::evaluate(&test, |t| detector.assess_semantic(t).expect("model loaded"));
        println!(
            "embedding alone: escalate recall {:.3}, false escalation {:.3}, support recall {:.3}",
            semantic.escalate_recall, semantic.false_escalation, semantic.support_recall
        );
    }
    let everyday = eval::evaluate(&eval::held_out(&all, Source::Everyday), |t| detector.assess(t));
    println!(
        "\neveryday requests, held out: false escalation {:.4}   bar ≤ 0.01 overall and per script",
        everyday.false_escalation
    );
    for (variant, rate) in everyday.false_escalation_by_variant() {
        println!("  {variant:<12} {rate:.4}");
    }
    for line in everyday.misses() {
        println!("  {line}");
    }
    let pairs = eval::held_out(&all, Source::Pairs);
    let wrong = pairs.iter().filter(|e| detector.assess(&e.text).is_urgent() != e.escalate()).count();
    println!("\nminimal pairs, held out: {} of {} sides on the right side", pairs.len() - wrong, pairs.len());
    for (name, source) in [("crises inside requests", Source::CrisisRequests), ("staff", Source::Staff)] {
        let r = eval::evaluate(&eval::held_out(&all, source), |t| detector.assess(t));
        println!(
            "\n{name}, held out: escalate recall {:.3}, false escalation {:.3}",
            r.escalate_recall, r.false_escalation
        );
        for (variant, rate) in r.escalate_by_variant() {
            println!("  {variant:<12} escalate recall {rate:.3}");
        }
    }
    Ok(())
}

/// Prints how well free text is read as the bot's own actions, on held-out requests.
pub fn eval_intent() -> anyhow::Result<()> {
    let detector = detector();
    let test = eval::held_out(&eval::dataset(), Source::Everyday);
    println!("held-out everyday requests{}:", if detector.is_degraded() { " (DEGRADED: words only)" } else { "" });
    println!("{}", eval::evaluate_intent(&test, |t| detector.read(t).intent));
    Ok(())
}

/// Latency per layer on the labelled messages, throughput, load time, peak memory — on
/// one thread: the model's matrix work runs in a one-thread pool.
pub fn bench_distress() -> anyhow::Result<()> {
    rayon::ThreadPoolBuilder::new().num_threads(1).build()?.install(bench_on_this_thread)
}

fn bench_on_this_thread() -> anyhow::Result<()> {
    let all = eval::dataset();
    let texts: Vec<&str> = all.iter().map(|e| e.text.as_str()).collect();
    // The distress sets alone, on which the targets were first measured: the everyday
    // requests and the staff's messages are longer, and the model's time grows with length.
    let distress: Vec<&str> =
        all.iter().filter(|e| matches!(e.source, Source::Base | Source::Extra)).map(|e| e.text.as_str()).collect();
    let started = Instant::now();
    let detector = detector();
    let load = started.elapsed();
    anyhow::ensure!(!detector.is_degraded(), "the model is missing: run `qamqor model fetch` first");
    let run = |name: &str, texts: &[&str], f: &dyn Fn(&str)| {
        let mut times: Vec<Duration> = texts
            .iter()
            .map(|t| {
                let start = Instant::now();
                f(t);
                start.elapsed()
            })
            .collect();
        let total: Duration = times.iter().sum();
        times.sort();
        println!(
            "{name:<24} p50 {:>8.3} ms   p99 {:>8.3} ms   throughput {:>8.1} msg/s",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3,
            texts.len() as f64 / total.as_secs_f64()
        );
    };
    println!("{} messages of every set ({} of the distress sets), one thread", texts.len(), distress.len());
    run("lexicon", &texts, &|t| drop(qamqor_models::distress::assess(t)));
    if let Some(embedder) = detector.embedder() {
        run("model run", &texts, &|t| drop(embedder.embed(&qamqor_models::embed::query(t))));
    }
    run("embedding layer", &texts, &|t| drop(detector.assess_semantic(t)));
    run("both", &texts, &|t| drop(detector.assess(t)));
    run("both, distress sets", &distress, &|t| drop(detector.assess(t)));
    println!("model load {:.3} s   peak RSS {:.1} MB", load.as_secs_f64(), peak_rss_mb());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_writes_one_stable_json_object_per_line() {
        let input = "Я больше не хочу жить\nsharshadym, balam auyrady\nне могу уже, шаршадым\n";
        let mut out = Vec::new();
        classify_lines(&Detector::lexicon_only(), input.as_bytes(), &mut out).unwrap();
        let lines: Vec<serde_json::Value> =
            String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 3);
        for line in &lines {
            let keys: Vec<&str> = line.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(keys, ["child_safety", "intent", "lang", "risk", "signals", "text"]);
        }
        assert_eq!(lines[0]["text"], "Я больше не хочу жить");
        assert_eq!(lines[0]["lang"], "ru");
        assert_eq!(lines[0]["risk"], "high");
        assert_eq!(lines[0]["child_safety"], false);
        assert_eq!(lines[0]["signals"], serde_json::json!(["suicidal_ideation"]));
        assert_eq!(lines[1]["lang"], "kk");
        assert_eq!(lines[1]["risk"], "support");
        assert_eq!(lines[2]["lang"], "mixed");
    }
}
