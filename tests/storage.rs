//! Storage and engine guarantees, on every engine: redeliveries change nothing, one
//! conversation's events are handled one at a time and in order even when several
//! workers race, the outbox keeps each chat's order, and unreadable data never crashes.

use qamqor::outbox::{Deliver, DeliveryError, deliver_due};
use qamqor_flows::storage::{self, now_ms};
use qamqor_flows::{Address, Channel, Event, Inbound, Outgoing};
use qamqor_tests::{Person, TestDb, drain, only};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

fn text(address: &Address, id: &str, text: &str) -> Inbound {
    Inbound {
        address: address.clone(),
        external_id: id.into(),
        event: Event::Text { text: text.into() },
        sent_at: None,
    }
}

#[tokio::test]
async fn the_same_inbound_twice_is_handled_once() {
    for db in TestDb::all().await {
        let engine = db.engine().await;
        let address = Address::new(Channel::Telegram, "42");
        assert!(engine.accept(&text(&address, "update-1", "/start")).await.unwrap());
        assert!(!engine.accept(&text(&address, "update-1", "/start")).await.unwrap(), "{}", db.name);
        assert_eq!(engine.process(&address).await.unwrap(), 1);
        assert_eq!(engine.process(&address).await.unwrap(), 0);
        let queued: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM outbox").fetch_one(engine.db().pool()).await.unwrap();
        assert_eq!(queued, 1);
    }
}

#[tokio::test]
async fn racing_workers_handle_a_conversation_in_order_exactly_once() {
    for db in TestDb::all().await {
        let engine = db.engine().await;
        let parent = Person::onboarded(engine.clone(), "busy", "Русский").await;

        let address = parent.address.clone();
        let commands = ["/help", "/mydata"];
        for i in 0..20 {
            engine.accept(&text(&address, &format!("burst-{i}"), commands[i % 2])).await.unwrap();
        }
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let engine = engine.clone();
                let address = address.clone();
                tokio::spawn(async move { engine.process(&address).await.unwrap() })
            })
            .collect();
        let mut handled = 0;
        for w in workers {
            handled += w.await.unwrap();
        }
        assert_eq!(handled, 20, "{}: each event handled exactly once", db.name);

        let replies = drain(&engine).await;
        assert_eq!(replies.len(), 20, "{}", db.name);
        for (i, (_, reply)) in replies.iter().enumerate() {
            let expected = if i % 2 == 0 { "/lang" } else { "Язык: Русский" };
            assert!(reply.text.contains(expected), "{}: reply {i} out of order:\n{}", db.name, reply.text);
        }
    }
}

/// Fails the first `fail` deliveries with the given error, records the rest.
struct Flaky {
    fail: usize,
    calls: AtomicUsize,
    permanent: bool,
    got: Mutex<Vec<String>>,
}

impl Deliver for Flaky {
    async fn deliver(&self, _chat: &str, message: &Outgoing) -> Result<(), DeliveryError> {
        if self.calls.fetch_add(1, Ordering::SeqCst) < self.fail {
            return Err(if self.permanent {
                DeliveryError::Permanent("blocked".into())
            } else {
                DeliveryError::Transient("down".into())
            });
        }
        self.got.lock().unwrap().push(message.text.clone());
        Ok(())
    }
}

async fn queue(engine: &qamqor_flows::Engine, chat: &str, texts: &[&str]) {
    let address = Address::new(Channel::Terminal, chat);
    let mut tx = engine.db().begin().await.unwrap();
    for t in texts {
        let message = Outgoing { text: t.to_string(), ..Outgoing::default() };
        storage::enqueue(&mut tx, &address, &message, false, now_ms()).await.unwrap();
    }
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_chat_keeps_its_order_when_a_message_must_wait() {
    for db in TestDb::all().await {
        let engine = db.engine().await;
        queue(&engine, "a", &["a1", "a2"]).await;
        queue(&engine, "b", &["b1"]).await;
        let flaky = Flaky { fail: 1, calls: AtomicUsize::new(0), permanent: false, got: Mutex::new(vec![]) };

        // One batch takes only the head of each chat; a1 fails and a2 must not overtake it.
        assert_eq!(deliver_due(engine.db(), Channel::Terminal, &flaky).await.unwrap(), 2);
        assert_eq!(deliver_due(engine.db(), Channel::Terminal, &flaky).await.unwrap(), 0, "{}", db.name);
        assert_eq!(*flaky.got.lock().unwrap(), ["b1"]);

        // When a1 falls due again it goes first, then a2.
        sqlx::query("UPDATE outbox SET next_try_at = 0").execute(engine.db().pool()).await.unwrap();
        while deliver_due(engine.db(), Channel::Terminal, &flaky).await.unwrap() > 0 {}
        assert_eq!(*flaky.got.lock().unwrap(), ["b1", "a1", "a2"], "{}", db.name);
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox").fetch_one(engine.db().pool()).await.unwrap();
        assert_eq!(left, 0, "delivered messages are not kept");
    }
}

#[tokio::test]
async fn a_message_that_can_never_be_sent_is_recorded_without_its_text() {
    for db in TestDb::all().await {
        let engine = db.engine().await;
        queue(&engine, "gone", &["secret words", "next"]).await;
        let flaky = Flaky { fail: 1, calls: AtomicUsize::new(0), permanent: true, got: Mutex::new(vec![]) };
        while deliver_due(engine.db(), Channel::Terminal, &flaky).await.unwrap() > 0 {}
        assert_eq!(*flaky.got.lock().unwrap(), ["next"], "{}: later messages still go", db.name);
        let (error, message): (String, Option<String>) =
            sqlx::query_as("SELECT last_error, message FROM outbox WHERE failed_at IS NOT NULL")
                .fetch_one(engine.db().pool())
                .await
                .unwrap();
        assert_eq!(error, "blocked");
        assert_eq!(message, None);
    }
}

#[tokio::test]
async fn a_claimed_message_is_not_sent_twice_by_two_senders() {
    for db in TestDb::all().await {
        let engine = db.engine().await;
        queue(&engine, "lease", &["once"]).await;
        let now = now_ms();
        let first = storage::claim_due(engine.db(), Channel::Terminal, now, 10, 60_000).await.unwrap();
        let second = storage::claim_due(engine.db(), Channel::Terminal, now, 10, 60_000).await.unwrap();
        assert_eq!((first.len(), second.len()), (1, 0), "{}", db.name);
        // A sender that died: after its lease, another takes the message over.
        let later = storage::claim_due(engine.db(), Channel::Terminal, now + 61_000, 10, 60_000).await.unwrap();
        assert_eq!(later.len(), 1);
        assert_eq!(later[0].attempts, 2);
    }
}

#[tokio::test]
async fn unreadable_state_or_event_leads_back_to_safety_not_a_crash() {
    for db in TestDb::all().await {
        let engine = db.engine().await;
        let mut parent = Person::onboarded(engine.clone(), "old-state", "Қазақша").await;

        // A state written by an older version of Qamqor.
        sqlx::query("UPDATE conversations SET state = $1")
            .bind(r#"{"v":0,"state":{"step":"booking","slot":7}}"#)
            .execute(engine.db().pool())
            .await
            .unwrap();
        let menu = only(parent.send(Event::Button { data: "menu:open".into(), message: None }).await);
        assert!(menu.text.contains("Немен көмектесе аламын?"), "{}: {}", db.name, menu.text);

        // An inbox entry whose stored form cannot be read: skipped and marked handled.
        sqlx::query("INSERT INTO inbox (channel, external_id, chat, event, received_at) VALUES ('terminal', 'broken', 'old-state', '{\"kind\":\"hologram\"}', 0)")
            .execute(engine.db().pool())
            .await
            .unwrap();
        assert_eq!(engine.process(&parent.address).await.unwrap(), 1);
        assert!(engine.pending().await.unwrap().is_empty());
        let help = only(parent.say("/help").await);
        assert!(help.text.contains("/mydata"), "{}", help.text);
    }
}
