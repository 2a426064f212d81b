//! The `qamqor` subcommands that are not the service itself: fetch the model, classify
//! and search from the command line, check the catalogue, evaluate and benchmark. The
//! service (`serve`, `chat`) is built in [`crate::app`].

pub mod crisis;
pub mod distress;
pub mod guide;

use std::time::Duration;

/// The `p` quantile (0–1) of sorted durations.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

pub(crate) fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(f64::NAN, |kb| kb / 1024.0)
}
