//! The whole detector on the labelled set's held-out split, which nothing is trained or
//! tuned on. `qamqor eval distress` prints the full report.
//!
//! Issue 3's bars: escalate recall ≥ 0.97, false escalation on "none" ≤ 5 %, support
//! recall ≥ 0.85.

use qamqor_models::detector::Detector;
use qamqor_models::eval::{self, Split};
use qamqor_models::model_file::{default_path, fetch};

#[test]
fn held_out_bars() {
    let detector = Detector::load(&fetch(&default_path()).unwrap()).unwrap();
    let test = eval::split(&eval::dataset(), Split::Test);
    assert_eq!(test.len(), 286, "the held-out split is fixed");
    let report = eval::evaluate(&test, |t| detector.assess(t));
    assert!(report.false_escalation <= 0.05, "false escalation on none: {report}");
    assert!(report.support_recall >= 0.85, "support recall: {report}");
    assert!(report.escalate_recall >= 0.97, "escalate recall: {report}");
}

#[test]
fn the_training_split_never_contains_held_out_text() {
    let all = eval::dataset();
    let held_out: std::collections::HashSet<&str> =
        all.iter().filter(|e| e.split == Split::Test).map(|e| e.text.as_str()).collect();
    let leaked: Vec<&str> = all
        .iter()
        .filter(|e| e.split == Split::Train && held_out.contains(e.text.as_str()))
        .map(|e| e.text.as_str())
        .collect();
    assert!(leaked.is_empty(), "held-out messages also in training: {leaked:?}");
}
