//! `qamqor catalog check` on a copy of the catalogue: sound as committed, and each kind
//! of broken entry is caught with a line that says what is wrong.

use qamqor::cli::guide;
use qamqor_models::catalog::Catalog;
use std::path::{Path, PathBuf};

/// A copy of `catalog/` in a temporary folder, with `edit` applied to one entries file.
fn broken(file: &str, edit: impl Fn(&str) -> String) -> (tempfile::TempDir, PathBuf) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../catalog");
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("catalog");
    for name in Catalog::file_names() {
        let to = copy.join(name);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        let text = std::fs::read_to_string(root.join(name)).unwrap();
        std::fs::write(&to, if name == file { edit(&text) } else { text }).unwrap();
    }
    (dir, copy)
}

fn problems(file: &str, edit: impl Fn(&str) -> String) -> Vec<String> {
    let (_dir, copy) = broken(file, edit);
    Catalog::read(&copy).unwrap().check(None)
}

#[test]
fn the_committed_catalogue_passes_and_a_broken_one_fails_the_command() {
    let (_dir, sound) = broken("entries/status.toml", str::to_string);
    guide::check(Some(&sound)).expect("the committed catalogue is sound");
    let (_dir, bad) = broken("entries/status.toml", |t| t.replacen("sources = [", "sources = [\"nowhere.txt:1\", ", 1));
    let error = guide::check(Some(&bad)).unwrap_err().to_string();
    assert!(error.contains("1 problem"), "{error}");
}

#[test]
fn each_kind_of_broken_entry_is_named() {
    // (file, how it is broken, what the check must say)
    type Breakage = (&'static str, fn(&str) -> String, &'static str);
    let cases: [Breakage; 7] = [
        // A cited line beyond the end of the document.
        (
            "entries/payments.toml",
            |t| t.replacen("sources = [", "sources = [\"000_6ac7b6932477c28a.txt:9000\", ", 1),
            "lines outside",
        ),
        // A Russian title left empty.
        (
            "entries/payments.toml",
            |t| {
                let i = t.find("[entry.ru]").unwrap();
                let j = i + t[i..].find("title = \"").unwrap() + 9;
                let k = j + t[j..].find('"').unwrap();
                format!("{}{}", &t[..j], &t[k..])
            },
            "every field needs text",
        ),
        // The same id twice.
        ("entries/medical.toml", |t| format!("{t}\n{}", &t[t.find("[[entry]]").unwrap()..]), "duplicate id"),
        // A planned measure without its due date.
        ("entries/medical.toml", |t| t.replacen("status = \"exists\"", "status = \"planned\"", 1), "needs `due"),
        // An old, stigmatising term in what parents read.
        (
            "entries/payments.toml",
            |t| t.replacen("summary = \"", "summary = \"Ребёнок-инвалид. ", 1),
            "is said to parents",
        ),
        // A malformed link.
        ("entries/aids.toml", |t| t.replacen("https://aleumet.egov.kz", "htp:/aleumet egov", 1), "not a well-formed"),
        // An unknown region.
        (
            "entries/medical.toml",
            |t| t.replacen("regions = [\"pavlodar\"", "regions = [\"atlantis\"", 1),
            "unknown region",
        ),
    ];
    for (file, edit, expected) in cases {
        let found = problems(file, edit);
        assert!(found.iter().any(|p| p.contains(expected)), "{expected:?} not among {found:#?}");
    }
}
