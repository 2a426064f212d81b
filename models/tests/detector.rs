//! The whole detector: it loads the real, hash-checked model; it refuses a foreign file;
//! and without a model the lexicon alone still catches explicit phrases.

use qamqor_models::detector::Detector;
use qamqor_models::distress::{Risk, Signal};
use qamqor_models::model_file::{default_path, fetch};

const EXPLICIT: &[&str] = &[
    "Я больше не хочу жить",
    "Өлгім келеді, шаршадым",
    "ne hochu zhit",
    "Написала прощальное письмо детям",
    "Боюсь, что ударю ребёнка",
];

#[test]
fn degraded_mode_still_catches_explicit_phrases() {
    let lexicon = Detector::lexicon_only();
    assert!(lexicon.is_degraded());
    for text in EXPLICIT {
        assert!(lexicon.assess(text).is_urgent(), "{text}");
    }
    assert_eq!(lexicon.assess("Как получить пособие?").risk, Risk::None);
}

#[test]
fn the_real_model_loads_and_both_layers_answer() {
    let detector = Detector::load(&fetch(&default_path()).unwrap()).expect("the pinned model loads");
    assert!(!detector.is_degraded());
    for text in EXPLICIT {
        assert!(detector.assess(text).is_urgent(), "{text}");
    }
    // The embedding layer on its own hears distress without any keyword of the lexicon.
    let quiet = detector.assess_semantic("Я очень устала и всё время плачу, никто не помогает").unwrap();
    assert!(quiet.risk >= Risk::Support, "{quiet:?}");
    assert!(quiet.signals.contains(&Signal::Semantic));
    assert!(!detector.assess("Здравствуйте, как записаться в ПМПК?").is_urgent());
    // Hyperbole is not a crisis; a crisis with a laugh still is.
    for idiom in ["Умираю со смеху", "Күлкіден өлдім", "ржу не могу, умираю"] {
        assert!(!detector.assess(idiom).is_urgent(), "{idiom}");
    }
    assert!(detector.assess("хочу умереть, со смеху конечно").is_urgent());
}

#[test]
fn a_foreign_model_file_is_refused() {
    let path = std::env::temp_dir().join(format!("qamqor-foreign-{}.bin", std::process::id()));
    std::fs::write(&path, b"E5S1 but not the pinned file").unwrap();
    let error = Detector::load(&path).err().expect("refused").to_string();
    assert!(error.contains("SHA-256"), "{error}");
    std::fs::remove_file(path).unwrap();
}
