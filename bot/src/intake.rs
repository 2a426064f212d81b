//! Intake: where every channel hands in what a person did. The event is committed to
//! the inbox (deduplicated), then a conversation worker handles it. Workers are shards
//! keyed by conversation, so two events of one chat never race and are handled in order.

use qamqor_flows::{Address, Channel, Engine, Inbound};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinSet;

const SHARDS: usize = 4;

/// Wakes a channel's outbox pump when there is something new to send.
#[derive(Default)]
pub struct Wakers {
    pub telegram: Arc<Notify>,
    pub whatsapp: Arc<Notify>,
    pub terminal: Arc<Notify>,
}

impl Wakers {
    pub fn wake(&self, channel: Channel) {
        match channel {
            Channel::Telegram => &self.telegram,
            Channel::Whatsapp => &self.whatsapp,
            Channel::Terminal => &self.terminal,
        }
        .notify_one();
    }
}

#[derive(Clone)]
pub struct Intake {
    engine: Arc<Engine>,
    shards: Arc<[mpsc::UnboundedSender<Address>]>,
}

impl Intake {
    /// Starts the conversation workers on `tasks`; they stop with `stop`.
    pub fn spawn(
        engine: Arc<Engine>,
        wakers: Arc<Wakers>,
        stop: watch::Receiver<bool>,
        tasks: &mut JoinSet<()>,
    ) -> Intake {
        let shards = (0..SHARDS)
            .map(|_| {
                let (tx, rx) = mpsc::unbounded_channel();
                tasks.spawn(work(engine.clone(), rx, wakers.clone(), stop.clone()));
                tx
            })
            .collect();
        Intake { engine, shards }
    }

    /// Commits an inbound event and wakes its conversation. Returns false for a
    /// redelivery, which changes nothing.
    pub async fn receive(&self, inbound: Inbound) -> anyhow::Result<bool> {
        let new = self.engine.accept(&inbound).await?;
        if new {
            self.wake(inbound.address);
        }
        Ok(new)
    }

    /// Asks the conversation's worker to handle whatever is waiting.
    pub fn wake(&self, address: Address) {
        let mut hasher = DefaultHasher::new();
        address.hash(&mut hasher);
        let shard = (hasher.finish() % self.shards.len() as u64) as usize;
        // A closed shard means we are shutting down; the inbox keeps the event.
        let _ = self.shards[shard].send(address);
    }

    /// Wakes every conversation with events waiting: at start-up, and now and then in
    /// case another replica committed an event and stopped before handling it.
    pub async fn sweep(&self) -> anyhow::Result<()> {
        for address in self.engine.pending().await? {
            self.wake(address);
        }
        Ok(())
    }
}

async fn work(
    engine: Arc<Engine>,
    mut queue: mpsc::UnboundedReceiver<Address>,
    wakers: Arc<Wakers>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let address = tokio::select! {
            next = queue.recv() => match next { Some(a) => a, None => return },
            _ = stop.changed() => return,
        };
        match engine.process(&address).await {
            Ok(0) => {}
            Ok(_) => wakers.wake(address.channel),
            Err(error) => {
                tracing::error!(channel = address.channel.as_str(), %error, "handling a message failed; it stays in the inbox")
            }
        }
    }
}
