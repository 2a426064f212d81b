//! Builds and runs Qamqor: the database, the engine, the workers, the channels and the
//! HTTP server, all stopped together. Tests start it exactly as `qamqor serve` does.

use crate::config::Config;
use crate::intake::{Intake, Wakers};
use crate::telegram::Telegram;
use crate::{http, outbox};
use qamqor_flows::{Channel, Db, Engine, storage};
use qamqor_models::catalog::Catalog;
use qamqor_models::detector::Detector;
use qamqor_models::model_file;
use qamqor_models::search::Guide;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Handled inbox entries are kept this long for deduplication: messengers redeliver
/// for hours (Telegram) or days (WhatsApp), never this long.
const DEDUPE_WINDOW: Duration = Duration::from_secs(14 * 24 * 3600);

/// A running Qamqor.
pub struct Running {
    /// Where the HTTP server actually listens (a port of 0 is chosen by the OS).
    pub http_addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

/// The database and the engine, with the distress detector (the lexicon alone, said
/// loudly, when the model file is missing) and the services guide.
pub async fn open_engine(config: &Config) -> anyhow::Result<Arc<Engine>> {
    let db = Db::connect(&config.database_url).await?;
    let (detector, guide) = tokio::task::spawn_blocking(|| {
        let detector = detector();
        let guide = guide(&detector);
        (detector, guide)
    })
    .await?;
    Ok(Arc::new(Engine::new(db, Arc::new(detector), Arc::new(guide?))?.with_duty(config.duty.clone())?))
}

/// The detector with the model if it is there; the lexicon alone, loudly, if not.
pub fn detector() -> Detector {
    let path = model_file::default_path();
    match Detector::load(&path) {
        Ok(detector) => detector,
        Err(error) => {
            tracing::error!(
                %error,
                path = %path.display(),
                "DEGRADED: the text model is not available, distress detection runs on the lexicon alone. \
                 Run `qamqor model fetch`."
            );
            Detector::lexicon_only()
        }
    }
}

/// The guide over the embedded catalogue, with the detector's model when it has one.
pub fn guide(detector: &Detector) -> anyhow::Result<Guide> {
    Guide::new(Catalog::embedded()?, detector.embedder(), Some(&model_file::catalog_cache_path()))
}

pub async fn start(config: Config) -> anyhow::Result<Running> {
    let engine = open_engine(&config).await?;
    let (stop, stopped) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let wakers = Arc::new(Wakers::default());
    let intake = Intake::spawn(engine.clone(), wakers.clone(), stopped.clone(), &mut tasks);
    let mut router = http::router(engine.db().clone());

    match &config.telegram {
        Some(telegram_config) => {
            let telegram = Telegram::new(telegram_config);
            let db = engine.db().clone();
            tasks.spawn(outbox::run(db, Channel::Telegram, telegram.clone(), wakers.telegram.clone(), stopped.clone()));
            match &telegram_config.webhook {
                Some(webhook) => router = router.merge(telegram.webhook(intake.clone(), webhook).await?),
                None => {
                    tasks.spawn(telegram.poll(intake.clone(), stopped.clone()));
                }
            }
            tracing::info!(
                mode = if telegram_config.webhook.is_some() { "webhook" } else { "polling" },
                "Telegram connected"
            );
        }
        None => tracing::warn!("no Telegram configured: set TELEGRAM_BOT_TOKEN, or try `qamqor chat`"),
    }
    if let Some(whatsapp_config) = &config.whatsapp {
        let whatsapp = crate::whatsapp::Whatsapp::new(whatsapp_config);
        let db = engine.db().clone();
        tasks.spawn(outbox::run(db, Channel::Whatsapp, whatsapp, wakers.whatsapp.clone(), stopped.clone()));
        router = router.merge(crate::whatsapp::webhook(intake.clone(), whatsapp_config));
        tracing::info!("WhatsApp connected: webhook at /webhooks/whatsapp");
    }

    tasks.spawn(housekeeping(engine.clone(), intake, stopped.clone()));

    let listener = TcpListener::bind(config.http_addr).await?;
    let http_addr = listener.local_addr()?;
    let mut http_stop = stopped.clone();
    tasks.spawn(async move {
        let shutdown = async move {
            let _ = http_stop.changed().await;
        };
        if let Err(error) = axum::serve(listener, router).with_graceful_shutdown(shutdown).await {
            tracing::error!(%error, "HTTP server failed");
        }
    });
    tracing::info!(%http_addr, "Qamqor is running");
    Ok(Running { http_addr, stop, tasks })
}

/// Picks up events left waiting (at start, then every few seconds), sends the reminders
/// of unclaimed cases that fell due, and forgets old dedupe keys once an hour.
async fn housekeeping(engine: Arc<Engine>, intake: Intake, mut stop: watch::Receiver<bool>) {
    let mut tick = 0u64;
    loop {
        if let Err(error) = intake.sweep().await {
            tracing::error!(%error, "inbox sweep failed");
        }
        if let Err(error) = engine.remind_due().await {
            tracing::error!(%error, "case reminders failed");
        }
        if tick.is_multiple_of(720) {
            let before = storage::now_ms() - DEDUPE_WINDOW.as_millis() as i64;
            if let Err(error) = storage::forget_handled(engine.db(), before).await {
                tracing::error!(%error, "forgetting old inbox keys failed");
            }
        }
        tick += 1;
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = stop.changed() => return,
        }
    }
}

impl Running {
    /// Stops everything and waits for the tasks to finish what they were doing.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        let drain = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(Duration::from_secs(10), drain).await.is_err() {
            tracing::warn!("some tasks did not stop in time");
        }
    }

    /// Runs until Ctrl-C or SIGTERM, then stops.
    pub async fn until_signal(self) {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            let sigterm = async move {
                match term.as_mut() {
                    Some(t) => {
                        t.recv().await;
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! { _ = ctrl_c => {}, _ = sigterm => {} }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("stopping");
        self.stop().await;
    }
}
