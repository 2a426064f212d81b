//! Command-line tools for the crisis path: an invitation code for a new staff member
//! (`qamqor staff invite --role psychologist`), and the crisis benchmark
//! (`qamqor bench crisis`): from a parent's imminent message arriving to the
//! psychologist's notification handed to the channel, with the real detector, engine,
//! SQLite database and outbox.

use crate::config::Config;
use crate::outbox::{Deliver, DeliveryError, deliver_due};
use qamqor_flows::cases;
use qamqor_flows::storage::{self, Role};
use qamqor_flows::{Address, Channel, Db, Duty, Engine, Event, Inbound, Outgoing};
use qamqor_models::eval;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A new one-time code for a psychologist or a moderator, to give them in person.
pub async fn invite(config: &Config, role: &str) -> anyhow::Result<String> {
    let role = match role {
        "psychologist" => Role::Psychologist,
        "moderator" => Role::Moderator,
        other => anyhow::bail!("the role is psychologist or moderator, not {other:?}"),
    };
    let db = Db::connect(&config.database_url).await?;
    let mut tx = db.begin().await?;
    let now = storage::now_ms();
    let code = cases::invite(&mut tx, role, None, now).await?;
    tx.commit().await?;
    Ok(code)
}

/// When each message reached each chat.
#[derive(Default)]
struct Stopwatch(Mutex<Vec<(String, Instant)>>);

impl Deliver for Stopwatch {
    async fn deliver(&self, chat: &str, _: &Outgoing) -> Result<(), DeliveryError> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push((chat.to_string(), Instant::now()));
        Ok(())
    }
}

const PSYCHOLOGIST: &str = "bench-psychologist";

/// The benchmark: every imminent message of the labelled set, each from a new parent who
/// has not even onboarded (the path with the most to do), one after another.
pub async fn bench() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("qamqor-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = bench_in(&dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn bench_in(dir: &std::path::Path) -> anyhow::Result<()> {
    let db = Db::connect(&format!("sqlite://{}", dir.join("bench.db").display())).await?;
    let detector = tokio::task::spawn_blocking(crate::app::detector).await?;
    anyhow::ensure!(!detector.is_degraded(), "the model is missing: run `qamqor model fetch` first");
    let guide = Arc::new(crate::app::guide(&detector)?);
    let detector = Arc::new(detector);
    let engine = Engine::new(db.clone(), detector.clone(), guide)?.with_duty(Duty::default())?;

    // One psychologist on duty.
    let mut conn = db.begin().await?;
    let code = cases::invite(&mut conn, Role::Psychologist, None, storage::now_ms()).await?;
    conn.commit().await?;
    let psychologist = Address::new(Channel::Terminal, PSYCHOLOGIST);
    let say = |address: &Address, n: usize, text: &str| Inbound {
        address: address.clone(),
        external_id: format!("bench-{n}"),
        event: Event::Text { text: text.to_string() },
        sent_at: None,
    };
    engine.accept(&say(&psychologist, 0, &format!("/staff {code} Bench"))).await?;
    engine.process(&psychologist).await?;

    let messages: Vec<String> =
        eval::dataset().into_iter().filter(|e| e.risk == qamqor_models::Risk::Imminent).map(|e| e.text).collect();
    let stopwatch = Stopwatch::default();
    let mut times = Vec::with_capacity(messages.len());
    let mut missed = 0;
    for (i, text) in messages.iter().enumerate() {
        while deliver_due(&db, Channel::Terminal, &stopwatch).await? > 0 {}
        stopwatch.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
        let parent = Address::new(Channel::Terminal, format!("bench-parent-{i}"));
        let start = Instant::now();
        engine.accept(&say(&parent, i + 1, text)).await?;
        engine.process(&parent).await?;
        while deliver_due(&db, Channel::Terminal, &stopwatch).await? > 0 {}
        let notified = stopwatch
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(c, _)| c == PSYCHOLOGIST)
            .map(|(_, t)| *t);
        match notified {
            Some(t) => times.push(t - start),
            // The detector missed it: no case, no notification (see `qamqor eval distress`).
            None => missed += 1,
        }
    }
    // The classifier alone on the same messages, for how much of the path is the model.
    let mut model: Vec<Duration> = messages
        .iter()
        .map(|t| {
            let start = Instant::now();
            detector.assess(t);
            start.elapsed()
        })
        .collect();
    anyhow::ensure!(!times.is_empty(), "the detector escalated none of the imminent messages");
    times.sort();
    model.sort();
    let ms = |sorted: &[Duration], p: f64| super::percentile(sorted, p).as_secs_f64() * 1e3;
    println!("imminent message arriving → psychologist's notification handed to the channel (SQLite, real detector)");
    println!("{} messages, {} notified, {} not escalated by the detector", messages.len(), times.len(), missed);
    println!(
        "whole path        p50 {:>6.1} ms   p99 {:>6.1} ms   max {:>6.1} ms",
        ms(&times, 0.5),
        ms(&times, 0.99),
        ms(&times, 1.0)
    );
    println!(
        "classifier alone  p50 {:>6.1} ms   p99 {:>6.1} ms   max {:>6.1} ms",
        ms(&model, 0.5),
        ms(&model, 0.99),
        ms(&model, 1.0)
    );
    Ok(())
}
