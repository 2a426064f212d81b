//! Command-line tools around the services guide: check the catalogue, search it from the
//! command line, evaluate and benchmark search. `search` is the stable interface others
//! use to evaluate search: one JSON object per input line.

use super::{peak_rss_mb, percentile};
use crate::app::{detector, guide};
use qamqor_models::catalog::{Catalog, Status};
use qamqor_models::detector::Detector;
use qamqor_models::search::{Guide, eval};
use serde_json::json;
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where the source documents are: `QAMQOR_SEEDS`, else `../shared/seeds` beside the
/// repository, if it is there.
fn seeds() -> Option<PathBuf> {
    let dir = std::env::var_os("QAMQOR_SEEDS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/seeds"));
    dir.canonicalize().ok().filter(|d| d.is_dir())
}

/// `qamqor catalog check [--dir DIR]`: the embedded catalogue, or the files in `dir`.
pub fn check(dir: Option<&Path>) -> anyhow::Result<()> {
    let catalog = match dir {
        Some(dir) => Catalog::read(dir)?,
        None => Catalog::embedded()?,
    };
    let seeds = seeds();
    let problems = catalog.check(seeds.as_deref());
    for problem in &problems {
        println!("{problem}");
    }
    anyhow::ensure!(problems.is_empty(), "the catalogue has {} problem(s)", problems.len());
    let count = |s: Status| catalog.entries.iter().filter(|e| e.status == s).count();
    println!(
        "catalogue OK: {} entries ({} exist, {} pilots, {} planned), {} categories, {} regions, {} sources {}",
        catalog.entries.len(),
        count(Status::Exists),
        count(Status::Pilot),
        count(Status::Planned),
        catalog.categories.len(),
        catalog.regions.len(),
        catalog.sources.len(),
        match &seeds {
            Some(dir) => format!("(checked against the documents in {})", dir.display()),
            None => "(documents not at hand: set QAMQOR_SEEDS to check them too)".into(),
        }
    );
    Ok(())
}

/// Reads questions, one per line, from stdin; writes the top three entries of each.
pub fn search() -> anyhow::Result<()> {
    let detector = detector();
    let guide = guide(&detector)?;
    search_lines(&guide, &detector, std::io::stdin().lock(), std::io::stdout().lock())
}

/// The interface others use to evaluate search: keep its fields stable.
pub fn search_lines(
    guide: &Guide,
    detector: &Detector,
    input: impl BufRead,
    mut out: impl Write,
) -> anyhow::Result<()> {
    for line in input.lines() {
        let line = line?;
        let embedding = detector.read(&line).embedding;
        let results: Vec<_> = guide
            .search(&line, embedding.as_deref())
            .into_iter()
            .take(3)
            .map(|h| {
                let e = &guide.catalog.entries[h.entry];
                json!({"id": e.id, "title_kk": e.kk.title, "title_ru": e.ru.title, "score": h.score})
            })
            .collect();
        writeln!(out, "{}", json!({"query": line, "results": results}))?;
    }
    Ok(())
}

/// Top-1 and top-3 per language variant: with the model and without, on the half the
/// weights were tuned on and on the half that was only measured.
pub fn eval() -> anyhow::Result<()> {
    let detector = detector();
    let guide = guide(&detector)?;
    let questions = eval::questions();
    // Each question through the model once, for both halves and the whole.
    let embeddings: HashMap<&str, Option<Vec<f32>>> =
        questions.iter().map(|q| (q.q.as_str(), detector.read(&q.q).embedding)).collect();
    let with_model = |text: &str| guide.search(text, embeddings[text].as_deref());
    let lexical = |text: &str| guide.search(text, None);
    for (name, half) in [("tuning half", eval::half(&questions, true)), ("other half", eval::half(&questions, false))] {
        if !detector.is_degraded() {
            println!("{name}, lexical and embedding:\n{}", eval::evaluate(&guide, &half, with_model));
        }
        println!("{name}, lexical only:\n{}", eval::evaluate(&guide, &half, lexical));
    }
    if !detector.is_degraded() {
        println!(
            "all {} questions, lexical and embedding:\n{}",
            questions.len(),
            eval::evaluate(&guide, &questions, with_model)
        );
    }
    Ok(())
}

/// Per-question latency over the whole catalogue, lexical only and with the embedding,
/// and the catalogue's load time; on one thread.
pub fn bench() -> anyhow::Result<()> {
    rayon::ThreadPoolBuilder::new().num_threads(1).build()?.install(bench_on_this_thread)
}

fn bench_on_this_thread() -> anyhow::Result<()> {
    let detector = detector();
    anyhow::ensure!(!detector.is_degraded(), "the model is missing: run `qamqor model fetch` first");
    let started = Instant::now();
    let lexical_guide = Guide::new(Catalog::embedded()?, None, None)?;
    let lexical_load = started.elapsed();
    let started = Instant::now();
    drop(Guide::new(Catalog::embedded()?, detector.embedder(), None)?);
    let embedding = started.elapsed();
    drop(guide(&detector)?); // fills the cache, if it was not filled yet
    let started = Instant::now();
    let cached = guide(&detector)?;
    let load = started.elapsed();
    let questions: Vec<String> = eval::questions().into_iter().map(|q| q.q).collect();
    let embeddings: Vec<Vec<f32>> = questions.iter().filter_map(|q| detector.read(q).embedding).collect();
    let time = |f: &dyn Fn(usize)| {
        let mut times: Vec<Duration> = (0..questions.len())
            .map(|i| {
                let start = Instant::now();
                f(i);
                start.elapsed()
            })
            .collect();
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        format!("p50 {:>7.3} ms   p99 {:>7.3} ms", ms(percentile(&times, 0.5)), ms(percentile(&times, 0.99)))
    };
    println!("{} questions, {} entries, one thread", questions.len(), cached.catalog.entries.len());
    let search = |g: &Guide, i: usize, e: Option<&[f32]>| drop(std::hint::black_box(g.search(&questions[i], e)));
    println!("lexical only             {}", time(&|i| search(&lexical_guide, i, None)));
    println!("with the embedding       {}", time(&|i| search(&cached, i, Some(&embeddings[i]))));
    println!("the detector's model run {}", time(&|i| drop(std::hint::black_box(detector.read(&questions[i])))));
    println!(
        "catalogue load: {:.3} s lexical; with the entries' embeddings {:.3} s from the cache, {:.1} s computed \
         (one thread)   peak RSS {:.1} MB",
        lexical_load.as_secs_f64(),
        load.as_secs_f64(),
        embedding.as_secs_f64(),
        peak_rss_mb()
    );
    Ok(())
}
