//! Shared test support: real databases (a fresh SQLite file, and a fresh PostgreSQL
//! database when `QAMQOR_TEST_POSTGRES` names a server), a conversation driver that
//! goes through the real engine and outbox, and stand-ins for the messengers' APIs.

pub mod telegram_api;
pub mod whatsapp_api;

use qamqor::outbox::{Deliver, DeliveryError, deliver_due};
use qamqor_flows::{Address, Channel, Clock, Db, Duty, Engine, Event, Inbound, Media, Outgoing};
use qamqor_models::detector::Detector;
use qamqor_models::model_file;
use qamqor_models::search::Guide;
use rand::Rng;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// A database made for one test, dropped with it (SQLite) or left for `.ci/run` to
/// clean (PostgreSQL databases named `qamqor_test_*`).
pub struct TestDb {
    pub url: String,
    pub name: &'static str,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("qamqor.db").display());
        TestDb { url, name: "sqlite", _dir: Some(dir) }
    }

    /// A fresh database on the server named by `QAMQOR_TEST_POSTGRES`, if set. When it
    /// is set and the server cannot be reached, the test fails: CI must not skip it.
    pub async fn postgres() -> Option<TestDb> {
        let server = std::env::var("QAMQOR_TEST_POSTGRES").ok().filter(|s| !s.is_empty())?;
        let name = format!("qamqor_test_{:016x}", rand::rng().random::<u64>());
        sqlx::any::install_default_drivers();
        let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&server)
            .await
            .expect("QAMQOR_TEST_POSTGRES is set but the server cannot be reached");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("create test database");
        let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
        Some(TestDb { url: format!("{base}/{name}"), name: "postgres", _dir: None })
    }

    /// SQLite always, PostgreSQL too when configured: every storage and flow test runs
    /// on both engines.
    pub async fn all() -> Vec<TestDb> {
        let mut dbs = vec![TestDb::sqlite()];
        dbs.extend(TestDb::postgres().await);
        dbs
    }

    pub async fn engine(&self) -> Arc<Engine> {
        self.engine_with(Duty::default(), None).await
    }

    /// An engine whose admins (from configuration) are these terminal chats.
    pub async fn engine_with_admins(&self, admins: &[&str]) -> Arc<Engine> {
        let admins = admins.iter().map(|a| Address::new(Channel::Terminal, *a)).collect();
        self.engine_with(Duty { admins, ..Duty::default() }, None).await
    }

    /// An engine with these duty settings and a test's clock; without one, the clock
    /// stands still on a Monday morning, in working hours, so that what a test sees does
    /// not depend on the hour it runs at.
    pub async fn engine_with(&self, duty: Duty, clock: Option<&TestClock>) -> Arc<Engine> {
        let db = Db::connect(&self.url).await.expect("connect to test database");
        let clock = clock.cloned().unwrap_or_else(|| TestClock::at("2025-11-17T10:00"));
        let engine = Engine::new(db, detector(), guide()).expect("engine").with_duty(duty).expect("duty");
        let engine = Arc::new(engine.with_clock(clock.clock()));
        // An engine may reuse a dropped one's address: forget what that one left.
        let id = Arc::as_ptr(&engine) as usize;
        MAILBOX.lock().unwrap_or_else(|e| e.into_inner()).retain(|(engine, _), _| *engine != id);
        engine
    }
}

/// A clock a test moves by hand. Keep it in the past: the outbox sends what is due by
/// the real clock.
#[derive(Clone)]
pub struct TestClock(Arc<AtomicI64>);

impl TestClock {
    /// At a Kazakhstan local time, e.g. `2025-11-17T10:00` (a Monday).
    pub fn at(local: &str) -> TestClock {
        let dt: jiff::civil::DateTime = local.parse().expect("a local date and time");
        let ms = dt.to_zoned(qamqor_flows::duty::zone()).expect("a valid time").timestamp().as_millisecond();
        TestClock(Arc::new(AtomicI64::new(ms)))
    }

    pub fn clock(&self) -> Clock {
        let now = self.0.clone();
        Arc::new(move || now.load(Ordering::SeqCst))
    }

    pub fn advance_minutes(&self, minutes: i64) {
        self.0.fetch_add(minutes * 60_000, Ordering::SeqCst);
    }
}

/// The real detector, both layers, loaded once per test binary (the model is fetched by
/// pinned version and hash if it is not cached yet).
pub fn detector() -> Arc<Detector> {
    static DETECTOR: OnceLock<Arc<Detector>> = OnceLock::new();
    DETECTOR
        .get_or_init(|| {
            let path = model_file::fetch(&model_file::default_path()).expect("the model can be fetched");
            Arc::new(Detector::load(&path).expect("the model loads"))
        })
        .clone()
}

/// The services guide over the embedded catalogue, with the real model's embeddings,
/// built once per test binary.
pub fn guide() -> Arc<Guide> {
    static GUIDE: OnceLock<Arc<Guide>> = OnceLock::new();
    GUIDE.get_or_init(|| Arc::new(qamqor::app::guide(&detector()).expect("the catalogue loads"))).clone()
}

/// Collects what the outbox delivers, as a messenger would receive it.
#[derive(Default)]
pub struct Collector(pub Mutex<Vec<(String, Outgoing)>>);

impl Deliver for Collector {
    async fn deliver(&self, chat: &str, message: &Outgoing) -> Result<(), DeliveryError> {
        self.0.lock().unwrap().push((chat.to_string(), message.clone()));
        Ok(())
    }
}

/// One person talking to the real engine through the terminal channel: every event
/// goes through the inbox, a transaction and the outbox, as in production.
pub struct Person {
    pub engine: Arc<Engine>,
    pub address: Address,
    /// The last message that had buttons: what `press` chooses from.
    pub last_buttons: Vec<qamqor_flows::OutButton>,
    /// Makes this person's event ids unique, also against another `Person` on the same chat.
    run: u64,
    seq: u64,
}

impl Person {
    pub fn new(engine: Arc<Engine>, chat: &str) -> Person {
        Person {
            engine,
            address: Address::new(Channel::Terminal, chat),
            last_buttons: Vec::new(),
            run: rand::rng().random(),
            seq: 0,
        }
    }

    /// A person who has chosen a language (by its button label) and accepted the terms.
    pub async fn onboarded(engine: Arc<Engine>, chat: &str, language: &str) -> Person {
        let mut person = Person::new(engine, chat);
        person.say("/start").await;
        person.press(language).await;
        let accept = if language == "Қазақша" { "Келісемін" } else { "Принимаю" };
        person.press(accept).await;
        person
    }

    /// Sends an event and returns everything the bot answered.
    pub async fn send(&mut self, event: Event) -> Vec<Outgoing> {
        self.seq += 1;
        let external_id = format!("{:x}-{}", self.run, self.seq);
        let inbound = Inbound { address: self.address.clone(), external_id, event, sent_at: None };
        assert!(self.engine.accept(&inbound).await.unwrap(), "fresh event accepted");
        self.engine.process(&self.address).await.unwrap();
        self.inbox().await
    }

    /// Everything delivered to this person since they last looked, also what others'
    /// actions sent them (a case notification, a psychologist's reply).
    pub async fn inbox(&mut self) -> Vec<Outgoing> {
        let key = |chat: &str| (Arc::as_ptr(&self.engine) as usize, chat.to_string());
        let delivered = drain(&self.engine).await;
        let mut mailbox = MAILBOX.lock().unwrap_or_else(|e| e.into_inner());
        for (chat, message) in delivered {
            mailbox.entry(key(&chat)).or_default().push(message);
        }
        let mine = mailbox.remove(&key(&self.address.chat)).unwrap_or_default();
        if let Some(m) = mine.iter().rev().find(|m| !m.buttons.is_empty()) {
            self.last_buttons = m.buttons.iter().flatten().cloned().collect();
        }
        mine
    }

    pub async fn say(&mut self, text: &str) -> Vec<Outgoing> {
        self.send(Event::Text { text: text.into() }).await
    }

    pub async fn send_media(&mut self, media: Media) -> Vec<Outgoing> {
        self.send(Event::Media { media, caption: None }).await
    }

    /// Presses the button with this label on the last screen that had buttons.
    pub async fn press(&mut self, label: &str) -> Vec<Outgoing> {
        let data = self
            .last_buttons
            .iter()
            .find(|b| b.label == label)
            .unwrap_or_else(|| panic!("no button {label:?} among {:?}", self.labels()))
            .data
            .clone();
        self.send(Event::Button { data, message: None }).await
    }

    pub fn labels(&self) -> Vec<String> {
        self.last_buttons.iter().map(|b| b.label.clone()).collect()
    }
}

/// Messages delivered to people who were not looking yet, by (engine, chat).
static MAILBOX: Mutex<BTreeMap<(usize, String), Vec<Outgoing>>> = Mutex::new(BTreeMap::new());

/// Delivers everything due on the terminal channel and returns it.
pub async fn drain(engine: &Engine) -> Vec<(String, Outgoing)> {
    let collector = Collector::default();
    while deliver_due(engine.db(), Channel::Terminal, &collector).await.unwrap() > 0 {}
    collector.0.into_inner().unwrap()
}

/// The single message of an answer, or a failure that shows what came instead.
pub fn only(answer: Vec<Outgoing>) -> Outgoing {
    assert_eq!(answer.len(), 1, "expected one message, got {answer:#?}");
    answer.into_iter().next().unwrap()
}

/// Every button label of a message, row by row.
pub fn labels(message: &Outgoing) -> Vec<&str> {
    message.buttons.iter().flatten().map(|b| b.label.as_str()).collect()
}

/// Every value of every row of a table, as text: for scanning what Qamqor keeps.
pub async fn dump(pool: &sqlx::AnyPool, table: &str) -> Vec<Vec<(String, String)>> {
    use sqlx::{Column, Row};
    let rows = sqlx::query(&format!("SELECT * FROM {table}")).fetch_all(pool).await.unwrap();
    rows.iter()
        .map(|row| {
            row.columns()
                .iter()
                .map(|c| {
                    let i = c.ordinal();
                    let value = row
                        .try_get::<Option<String>, _>(i)
                        .ok()
                        .flatten()
                        .or_else(|| row.try_get::<Option<i64>, _>(i).ok().flatten().map(|v| v.to_string()))
                        .unwrap_or_default();
                    (c.name().to_string(), value)
                })
                .collect()
        })
        .collect()
}

/// All texts of some messages, separated, for asserting on and for failure messages.
pub fn texts(messages: &[Outgoing]) -> String {
    messages.iter().map(|m| m.text.as_str()).collect::<Vec<_>>().join("\n---\n")
}

pub async fn scalar(pool: &sqlx::AnyPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// The code an admin gets with `/invite role`, in either language.
pub async fn invite_code(admin: &mut Person, role: &str) -> String {
    let invite = texts(&admin.say(&format!("/invite {role}")).await);
    let code = invite.split(": ").nth(1).and_then(|s| s.get(..8));
    code.unwrap_or_else(|| panic!("no code in {invite}")).to_string()
}

/// An admin invites a psychologist, who joins with a display name.
pub async fn psychologist(engine: &Arc<Engine>, admin: &mut Person, chat: &str, name: &str) -> Person {
    staff_member(engine, admin, "psychologist", chat, name).await
}

/// An admin invites a staff member of `role` (psychologist, moderator), who joins with a
/// display name.
pub async fn staff_member(engine: &Arc<Engine>, admin: &mut Person, role: &str, chat: &str, name: &str) -> Person {
    let code = invite_code(admin, role).await;
    let mut member = Person::onboarded(engine.clone(), chat, "Русский").await;
    let welcome = texts(&member.say(&format!("/staff {code} {name}")).await);
    assert!(welcome.contains(name), "{welcome}");
    member
}
