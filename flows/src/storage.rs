//! Storage: one code path over SQLite (the embedded default) and PostgreSQL.
//!
//! Every query here runs unchanged on both engines through sqlx's `Any` driver; times
//! are UTC milliseconds. Functions that are part of a conversation's transaction take
//! `&mut AnyConnection`; the outbox worker's functions take the pool.

use crate::inbound::{Address, Channel, Event, Inbound};
use crate::screen::Outgoing;
use anyhow::Context;
use qamqor_models::Lang;
use rand::Rng;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyConnection, AnyPool, Executor, Row, Transaction};

/// The database engine behind the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The schema, one folder of migrations per engine, compiled in (`flows/build.rs` makes a
/// new file rebuild them).
static SQLITE: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("../migrations/postgres");

/// The tables that may hold rows about a person; erasure and its test cover them all.
pub const TABLES: &[&str] =
    &["users", "conversations", "inbox", "outbox", "audit_log", "cases", "case_messages", "invites", "jobs"];

/// A connection pool and the engine it talks to.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

impl Db {
    /// Connects and brings the schema up to date. `sqlite://file.db` creates the file on
    /// first run (WAL, foreign keys on); `postgres://…` uses an existing database.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        install_default_drivers();
        let (backend, url) = if url.starts_with("sqlite:") {
            let url = if url.contains("mode=") {
                url.to_string()
            } else {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            };
            (Backend::Sqlite, url)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            (Backend::Postgres, url.to_string())
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite:// or postgres://");
        };
        let options = AnyPoolOptions::new().max_connections(8).after_connect(move |conn, _| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                }
                Ok(())
            })
        });
        let pool = options.connect(&url).await.context("cannot open the database")?;
        let db = Db { pool, backend };
        db.migrator().run(&db.pool).await.context("database migrations failed")?;
        Ok(db)
    }

    fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE,
            Backend::Postgres => &POSTGRES,
        }
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once, so two
    /// writers queue up instead of failing on a stale snapshot.
    pub async fn begin(&self) -> sqlx::Result<Transaction<'static, Any>> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Starts a transaction that no other worker, in this process or another replica,
    /// holds for the same conversation: its messages are handled one at a time, in order.
    pub async fn begin_conversation(&self, address: &Address) -> sqlx::Result<Transaction<'static, Any>> {
        let mut tx = self.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind(format!("{}:{}", address.channel.as_str(), address.chat))
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }
}

/// Now, as stored: UTC milliseconds.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// What a person is to Qamqor. Only staff invitations change it, never the person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Parent,
    Psychologist,
    Moderator,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Parent => "parent",
            Role::Psychologist => "psychologist",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }

    pub(crate) fn parse(s: &str) -> Role {
        match s {
            "psychologist" => Role::Psychologist,
            "moderator" => Role::Moderator,
            "admin" => Role::Admin,
            _ => Role::Parent,
        }
    }
}

/// A person who chose a language: everything Qamqor keeps about them is in this row,
/// their conversation state and the audit log.
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub id: i64,
    pub address: Address,
    pub language: Option<Lang>,
    pub role: Role,
    /// The only name staff ever see (DESIGN.md, safety invariant 5).
    pub pseudonym: String,
    pub consent_at: Option<i64>,
    pub consent_refused_at: Option<i64>,
    pub created_at: i64,
    /// Where the family lives, for the services guide: an id from `catalog/regions.toml`.
    pub region: Option<String>,
}

impl User {
    pub fn consented(&self) -> bool {
        self.consent_at.is_some()
    }

    /// The language to write to them in: theirs, or [`Lang::FALLBACK`].
    pub fn lang(&self) -> Lang {
        self.language.unwrap_or(Lang::FALLBACK)
    }
}

pub async fn find_user(conn: &mut AnyConnection, address: &Address) -> sqlx::Result<Option<User>> {
    let row = sqlx::query(
        "SELECT id, language, role, pseudonym, consent_at, consent_refused_at, created_at, region
         FROM users WHERE channel = $1 AND external_id = $2",
    )
    .bind(address.channel.as_str())
    .bind(&address.chat)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(User {
            id: r.try_get("id")?,
            address: address.clone(),
            language: r.try_get::<Option<String>, _>("language")?.as_deref().and_then(Lang::from_code),
            role: Role::parse(&r.try_get::<String, _>("role")?),
            pseudonym: r.try_get("pseudonym")?,
            consent_at: r.try_get("consent_at")?,
            consent_refused_at: r.try_get("consent_refused_at")?,
            created_at: r.try_get("created_at")?,
            region: r.try_get("region")?,
        })
    })
    .transpose()
}

/// `len` random characters from an alphabet without look-alikes (no 0/O, 1/I): easy to
/// read out and type, for pseudonyms and invitation codes.
pub(crate) fn random_code(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..len).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

fn new_pseudonym() -> String {
    random_code(6)
}

/// A new person; `lang` is `None` until they choose one.
pub async fn create_user(
    conn: &mut AnyConnection,
    address: &Address,
    lang: Option<Lang>,
    now: i64,
) -> sqlx::Result<User> {
    let pseudonym = new_pseudonym();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (channel, external_id, language, pseudonym, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(address.channel.as_str())
    .bind(&address.chat)
    .bind(lang.map(Lang::code))
    .bind(&pseudonym)
    .bind(now)
    .fetch_one(conn)
    .await?;
    Ok(User {
        id,
        address: address.clone(),
        language: lang,
        role: Role::Parent,
        pseudonym,
        consent_at: None,
        consent_refused_at: None,
        created_at: now,
        region: None,
    })
}

pub async fn set_language(conn: &mut AnyConnection, user_id: i64, lang: Lang) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET language = $1 WHERE id = $2").bind(lang.code()).bind(user_id).execute(conn).await?;
    Ok(())
}

pub async fn set_region(conn: &mut AnyConnection, user_id: i64, region: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET region = $1 WHERE id = $2").bind(region).bind(user_id).execute(conn).await?;
    Ok(())
}

/// Records a yes or a no; each replaces the other.
pub async fn set_consent(conn: &mut AnyConnection, user_id: i64, accepted: bool, now: i64) -> sqlx::Result<()> {
    let (given, refused) = if accepted { (Some(now), None) } else { (None, Some(now)) };
    sqlx::query("UPDATE users SET consent_at = $1, consent_refused_at = $2 WHERE id = $3")
        .bind(given)
        .bind(refused)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn load_state(conn: &mut AnyConnection, user_id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT state FROM conversations WHERE user_id = $1").bind(user_id).fetch_optional(conn).await
}

pub async fn save_state(conn: &mut AnyConnection, user_id: i64, state: &str, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO conversations (user_id, state, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
    )
    .bind(user_id)
    .bind(state)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Appends to the audit log: who did what to whom. Never message text.
pub async fn audit(
    conn: &mut AnyConnection,
    now: i64,
    actor: Option<i64>,
    subject: Option<i64>,
    action: &str,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO audit_log (at, actor_id, subject_id, action) VALUES ($1, $2, $3, $4)")
        .bind(now)
        .bind(actor)
        .bind(subject)
        .bind(action)
        .execute(conn)
        .await?;
    Ok(())
}

/// Erases every row about a person, in every table in [`TABLES`].
pub async fn erase_user(conn: &mut AnyConnection, user: &User) -> sqlx::Result<()> {
    let channel = user.address.channel.as_str();
    sqlx::query("DELETE FROM audit_log WHERE actor_id = $1 OR subject_id = $1")
        .bind(user.id)
        .execute(&mut *conn)
        .await?;
    for table in ["inbox", "outbox"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE channel = $1 AND chat = $2"))
            .bind(channel)
            .bind(&user.address.chat)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("DELETE FROM conversations WHERE user_id = $1").bind(user.id).execute(&mut *conn).await?;
    sqlx::query("DELETE FROM users WHERE id = $1").bind(user.id).execute(&mut *conn).await?;
    Ok(())
}

/// Stores an inbound event unless the same (channel, external id) was stored before.
/// Returns whether it is new. Messengers redeliver; handling twice must change nothing.
pub async fn accept_inbound(db: &Db, inbound: &Inbound, now: i64) -> sqlx::Result<bool> {
    let event = serde_json::to_string(&inbound.event).expect("an event always serialises");
    let done = sqlx::query(
        "INSERT INTO inbox (channel, external_id, chat, event, received_at, sent_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (channel, external_id) DO NOTHING",
    )
    .bind(inbound.address.channel.as_str())
    .bind(&inbound.external_id)
    .bind(&inbound.address.chat)
    .bind(event)
    .bind(now)
    .bind(inbound.sent_at.map(|t| t.min(now)))
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// WhatsApp's customer-service window: a business may write freely only this long after
/// the person's last message; after it, only an approved template goes through.
pub const WINDOW_MS: i64 = 24 * 3600 * 1000;

/// SQL: whether the outbox row `row`, if held, may go: the person has written since it
/// was held, and within the window (after `$3`, by the messenger's clock where it gave
/// one, as in [`window_open`]).
fn may_go(row: &str) -> String {
    format!(
        "({row}.held_at IS NULL OR EXISTS (SELECT 1 FROM inbox i WHERE i.channel = {row}.channel
            AND i.chat = {row}.chat AND COALESCE(i.sent_at, i.received_at) > $3 AND i.received_at >= {row}.held_at))"
    )
}

/// Whether a free-form message may go to an address now: always, except on WhatsApp
/// when the person has not written for 24 hours.
pub async fn window_open(conn: &mut AnyConnection, to: &Address, now: i64) -> sqlx::Result<bool> {
    if to.channel != Channel::Whatsapp {
        return Ok(true);
    }
    let recent: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM inbox WHERE channel = $1 AND chat = $2 AND COALESCE(sent_at, received_at) > $3 LIMIT 1",
    )
    .bind(to.channel.as_str())
    .bind(&to.chat)
    .bind(now - WINDOW_MS)
    .fetch_optional(conn)
    .await?;
    Ok(recent.is_some())
}

/// Whether messages to an address already wait for the person to write again.
pub async fn holding(conn: &mut AnyConnection, to: &Address) -> sqlx::Result<bool> {
    let held: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM outbox WHERE channel = $1 AND chat = $2 AND held_at IS NOT NULL AND failed_at IS NULL LIMIT 1",
    )
    .bind(to.channel.as_str())
    .bind(&to.chat)
    .fetch_optional(conn)
    .await?;
    Ok(held.is_some())
}

/// The oldest event of a conversation not handled yet: its inbox id and the event, or
/// `None` for the event when its stored form cannot be read any more.
pub async fn next_inbound(conn: &mut AnyConnection, address: &Address) -> sqlx::Result<Option<(i64, Option<Event>)>> {
    let row = sqlx::query(
        "SELECT id, event FROM inbox WHERE channel = $1 AND chat = $2 AND handled_at IS NULL ORDER BY id LIMIT 1",
    )
    .bind(address.channel.as_str())
    .bind(&address.chat)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        let event: Option<String> = r.try_get("event")?;
        Ok((r.try_get("id")?, event.and_then(|e| serde_json::from_str(&e).ok())))
    })
    .transpose()
}

/// Marks an event handled and forgets its content; only the dedupe key stays.
pub async fn mark_handled(conn: &mut AnyConnection, inbox_id: i64, now: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE inbox SET handled_at = $1, event = NULL WHERE id = $2")
        .bind(now)
        .bind(inbox_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Conversations with events waiting: what a worker must pick up after a restart.
pub async fn pending_conversations(db: &Db) -> sqlx::Result<Vec<Address>> {
    let rows =
        sqlx::query("SELECT DISTINCT channel, chat FROM inbox WHERE handled_at IS NULL").fetch_all(&db.pool).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        if let Some(channel) = Channel::parse(&r.try_get::<String, _>("channel")?) {
            out.push(Address::new(channel, r.try_get::<String, _>("chat")?));
        }
    }
    Ok(out)
}

/// Drops the dedupe keys of events handled before `before`: redeliveries stop long before.
pub async fn forget_handled(db: &Db, before: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM inbox WHERE handled_at IS NOT NULL AND handled_at < $1")
        .bind(before)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected())
}

/// Puts a message in the outbox. A `held` one waits until the person writes again (the
/// WhatsApp window is closed), then goes out before anything written after it.
pub async fn enqueue(
    conn: &mut AnyConnection,
    address: &Address,
    message: &Outgoing,
    held: bool,
    now: i64,
) -> sqlx::Result<()> {
    let message = serde_json::to_string(message).expect("an outgoing message always serialises");
    sqlx::query(
        "INSERT INTO outbox (channel, chat, message, next_try_at, created_at, held_at) VALUES ($1, $2, $3, $4, $4, $5)",
    )
    .bind(address.channel.as_str())
    .bind(&address.chat)
    .bind(message)
    .bind(now)
    .bind(held.then_some(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// An outbox message claimed for sending.
#[derive(Clone, Debug)]
pub struct Pending {
    pub id: i64,
    pub address: Address,
    /// `None` when the stored message cannot be read any more.
    pub message: Option<Outgoing>,
    /// Sending attempts, this one included.
    pub attempts: i64,
    pub created_at: i64,
}

/// Claims messages that are due on a channel: for each chat only its oldest undelivered
/// message, so a chat's messages arrive in order. Held messages wait, without holding up
/// the rest, until the person writes again. A claim is a lease: if the sender dies,
/// another takes the message over when the lease ends.
pub async fn claim_due(db: &Db, channel: Channel, now: i64, limit: i64, lease_ms: i64) -> sqlx::Result<Vec<Pending>> {
    let query = format!(
        "UPDATE outbox SET lease_until = $1, attempts = attempts + 1
         WHERE id IN (
             SELECT o.id FROM outbox o
             WHERE o.channel = $2 AND o.failed_at IS NULL AND o.next_try_at <= $4
               AND (o.lease_until IS NULL OR o.lease_until < $4)
               AND {}
               AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.channel = o.channel AND p.chat = o.chat
                               AND p.failed_at IS NULL AND p.id < o.id AND {})
             ORDER BY o.id LIMIT $5)
           AND (lease_until IS NULL OR lease_until < $4)
         RETURNING id, chat, message, attempts, created_at",
        may_go("o"),
        may_go("p")
    );
    let rows = sqlx::query(&query)
        .bind(now + lease_ms)
        .bind(channel.as_str())
        .bind(now - WINDOW_MS)
        .bind(now)
        .bind(limit)
        .fetch_all(&db.pool)
        .await?;
    let mut out = rows
        .into_iter()
        .map(|r| {
            let message: Option<String> = r.try_get("message")?;
            Ok(Pending {
                id: r.try_get("id")?,
                address: Address::new(channel, r.try_get::<String, _>("chat")?),
                message: message.and_then(|m| serde_json::from_str(&m).ok()),
                attempts: r.try_get("attempts")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<sqlx::Result<Vec<_>>>()?;
    out.sort_by_key(|p| p.id);
    Ok(out)
}

/// A delivered message is deleted: Qamqor keeps no copy of what it said.
pub async fn delivered(db: &Db, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM outbox WHERE id = $1").bind(id).execute(&db.pool).await?;
    Ok(())
}

/// Schedules another attempt. `error` names the failure; it never holds message text.
pub async fn retry_at(db: &Db, id: i64, at: i64, error: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE outbox SET next_try_at = $1, lease_until = NULL, last_error = $2 WHERE id = $3")
        .bind(at)
        .bind(error)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Holds a message until the person writes again (the WhatsApp window closed while it
/// waited to go out).
pub async fn hold(db: &Db, id: i64, now: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE outbox SET held_at = $1, lease_until = NULL, last_error = 'window closed' WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Gives a message up for good (the person blocked the bot, the chat is gone): the
/// failure is recorded, the text forgotten, and the chat's later messages go on.
pub async fn failed(db: &Db, id: i64, now: i64, error: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE outbox SET failed_at = $1, lease_until = NULL, last_error = $2, message = NULL WHERE id = $3")
        .bind(now)
        .bind(error)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_engines_have_the_same_migrations() {
        let list = |m: &Migrator| m.iter().map(|m| (m.version, m.description.to_string())).collect::<Vec<_>>();
        assert_eq!(list(&SQLITE), list(&POSTGRES));
        assert!(list(&SQLITE).len() >= 5);
    }

    #[test]
    fn pseudonyms_avoid_look_alike_characters() {
        for _ in 0..100 {
            let p = new_pseudonym();
            assert_eq!(p.len(), 6);
            assert!(!p.contains(['0', 'O', '1', 'I']), "{p}");
        }
    }
}
