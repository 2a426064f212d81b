//! The services catalogue and its search, with the real model: the catalogue is sound,
//! the labelled questions meet issue 5's bar (top-3 ≥ 90 %), and parents' ways of writing
//! (scripts, typos, acronyms, old terms) find the right entries. `qamqor eval search`
//! prints the full report.

use qamqor_models::catalog::Catalog;
use qamqor_models::detector::Detector;
use qamqor_models::model_file::{default_path, fetch};
use qamqor_models::search::{Guide, eval};
use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

fn detector() -> &'static Detector {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    DETECTOR.get_or_init(|| Detector::load(&fetch(&default_path()).unwrap()).unwrap())
}

fn guide() -> &'static Guide {
    static GUIDE: OnceLock<Guide> = OnceLock::new();
    GUIDE.get_or_init(|| {
        let cache = qamqor_models::model_file::catalog_cache_path();
        Guide::new(Catalog::embedded().unwrap(), detector().embedder(), Some(&cache)).unwrap()
    })
}

/// The ids of the top three entries for a question, as a parent would get them.
fn top3(question: &str) -> Vec<&'static str> {
    let embedding = detector().read(question).embedding;
    let guide = guide();
    guide
        .search(question, embedding.as_deref())
        .iter()
        .take(3)
        .map(|h| guide.catalog.entries[h.entry].id.as_str())
        .collect()
}

#[test]
fn the_embedded_catalogue_passes_its_check() {
    let catalog = Catalog::embedded().unwrap();
    // The source documents sit beside the repository on the project's machines.
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/seeds");
    let problems = catalog.check(seeds.is_dir().then_some(seeds.as_path()));
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(catalog.entries.len() >= 40, "issue 5 asks for at least 40 entries");
    assert_eq!(catalog.regions.len(), 20, "17 oblasts and 3 cities");
}

#[test]
fn every_catalogue_file_on_disk_is_compiled_in() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../catalog");
    let mut on_disk: Vec<String> = std::fs::read_dir(root.join("entries"))
        .unwrap()
        .map(|e| format!("entries/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    on_disk.extend(["sources.toml", "regions.toml", "categories.toml"].map(String::from));
    on_disk.sort();
    let mut embedded: Vec<String> = Catalog::file_names().map(String::from).collect();
    embedded.sort();
    assert_eq!(on_disk, embedded);
}

#[test]
fn labelled_questions_meet_the_top3_bar() {
    let questions = eval::questions();
    assert!(questions.len() >= 200, "issue 5 asks for at least 200 labelled questions");
    let guide = guide();
    // Each question through the model once, for the whole set and the half.
    let embeddings: HashMap<&str, Option<Vec<f32>>> =
        questions.iter().map(|q| (q.q.as_str(), detector().read(&q.q).embedding)).collect();
    let search = |q: &str| guide.search(q, embeddings[q].as_deref());
    let report = eval::evaluate(guide, &questions, search);
    assert!(report.top3() >= 0.90, "top-3 on all questions:\n{report}");
    // The half the weights were never tuned on must meet the bar too.
    let other = eval::half(&questions, false);
    let report = eval::evaluate(guide, &other, search);
    assert!(report.top3() >= 0.90, "top-3 on the half not tuned on:\n{report}");
}

#[test]
fn parents_ways_of_writing_find_the_entry() {
    for (question, want) in [
        // The examples.
        ("как получить пособие", "benefit-raising-child"),
        ("жәрдемақы қалай аламын", "benefit-raising-child"),
        ("posobie invalidnost", "benefit-raising-child"),
        ("ПМПК где пройти", "pmpk"),
        ("арба керек", "wheelchair"),
        // Latin-script Kazakh, formal and informal.
        ("mugedektik qalai resimdeledi", "mse"),
        ("sanatoriiga joldama kerek", "sanatorium"),
        // Typos, acronyms in the other language, old terms.
        ("санатори для ребенка", "sanatorium"),
        ("инвотакси как заказать", "invataxi"),
        ("МӘС комиссия қашан", "mse"),
        ("ИПР что это", "ipr"),
        ("ребенок инвалид пособие", "benefit-raising-child"),
        ("коррекционный кабинет очередь", "correction-room"),
    ] {
        let found = top3(question);
        assert!(found.contains(&want), "{question:?} → {found:?}, wanted {want}");
    }
}

#[test]
fn a_question_of_greetings_finds_nothing() {
    for question in ["здравствуйте", "сәлеметсіз бе", "спасибо", "ок"] {
        assert!(top3(question).is_empty(), "{question:?} → {:?}", top3(question));
    }
}

#[test]
fn lexical_search_alone_still_finds_the_common_needs() {
    let guide = Guide::new(Catalog::embedded().unwrap(), None, None).unwrap();
    for (question, want) in [("пособие на ребенка с инвалидностью", "benefit-raising-child"), ("пмпк", "pmpk")]
    {
        let found: Vec<&str> =
            guide.search(question, None).iter().take(3).map(|h| guide.catalog.entries[h.entry].id.as_str()).collect();
        assert!(found.contains(&want), "{question:?} → {found:?}");
    }
}
