//! The outbox pump: sends what the engine committed, through a channel's adapter,
//! with retries. A message leaves the outbox only once the messenger took it.

use qamqor_flows::storage::{self, Pending};
use qamqor_flows::{Channel, Db, Outgoing};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// Why a message did not go out.
#[derive(Debug)]
pub enum DeliveryError {
    /// The messenger asked us to wait (Telegram's `retry_after`, WhatsApp's 429).
    RetryAfter(Duration),
    /// Worth trying again later: network trouble, the messenger is down.
    Transient(String),
    /// Will never succeed: the person blocked the bot, the chat does not exist.
    Permanent(String),
    /// Only the person can unblock it: WhatsApp's 24-hour window closed before it went
    /// out. It waits until they write again.
    WindowClosed,
}

/// A channel adapter's sending half.
pub trait Deliver: Send + Sync {
    fn deliver(&self, chat: &str, message: &Outgoing) -> impl Future<Output = Result<(), DeliveryError>> + Send;
}

/// How long a claimed message is ours before another sender may take it over.
const LEASE: Duration = Duration::from_secs(60);
/// Transient failures are retried this long, then the message is given up.
const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 3600);
const BATCH: i64 = 32;

/// Seconds to wait before attempt `attempts + 1`: 2, 4, 8 … up to five minutes.
fn backoff(attempts: i64) -> Duration {
    Duration::from_secs(2u64.saturating_pow(attempts.clamp(1, 9) as u32).min(300))
}

/// Sends one batch of due messages. Returns how many were attempted.
pub async fn deliver_due<D: Deliver>(db: &Db, channel: Channel, adapter: &D) -> anyhow::Result<usize> {
    let now = storage::now_ms();
    let batch = storage::claim_due(db, channel, now, BATCH, LEASE.as_millis() as i64).await?;
    let sends = batch.iter().map(|p| async move {
        let result = match &p.message {
            Some(message) => adapter.deliver(&p.address.chat, message).await,
            None => Err(DeliveryError::Permanent("unreadable stored message".into())),
        };
        (p, result)
    });
    for (p, result) in futures_util::future::join_all(sends).await {
        record(db, p, result, now).await?;
    }
    Ok(batch.len())
}

async fn record(db: &Db, p: &Pending, result: Result<(), DeliveryError>, now: i64) -> anyhow::Result<()> {
    let ms = |d: Duration| d.as_millis() as i64;
    match result {
        Ok(()) => storage::delivered(db, p.id).await?,
        Err(DeliveryError::RetryAfter(wait)) => {
            tracing::warn!(outbox_id = p.id, wait_s = wait.as_secs(), "messenger asked to slow down");
            storage::retry_at(db, p.id, now + ms(wait), "retry_after").await?
        }
        Err(DeliveryError::WindowClosed) => {
            tracing::warn!(outbox_id = p.id, "the 24-hour window closed: held until the person writes");
            storage::hold(db, p.id, now).await?
        }
        Err(DeliveryError::Transient(error)) if now - p.created_at < ms(GIVE_UP_AFTER) => {
            tracing::warn!(outbox_id = p.id, attempts = p.attempts, %error, "delivery failed, will retry");
            storage::retry_at(db, p.id, now + ms(backoff(p.attempts)), &error).await?
        }
        Err(DeliveryError::Transient(error) | DeliveryError::Permanent(error)) => {
            tracing::error!(outbox_id = p.id, %error, "delivery failed for good");
            storage::failed(db, p.id, now, &error).await?
        }
    }
    Ok(())
}

/// Runs the pump for one channel until `stop`: after each wake-up it sends until
/// nothing is due, then sleeps until woken or for a short while (retries fall due).
pub async fn run<D: Deliver>(db: Db, channel: Channel, adapter: D, wake: Arc<Notify>, mut stop: watch::Receiver<bool>) {
    loop {
        match deliver_due(&db, channel, &adapter).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(error) => tracing::error!(channel = channel.as_str(), %error, "outbox pump failed"),
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(50), Duration::from_secs(300));
    }
}
