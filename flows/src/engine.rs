//! The conversation engine: takes inbound events into the inbox, and works a
//! conversation's events one at a time — decide, then commit state, changes and
//! outgoing messages in one transaction. It never talks to a network.

use crate::conversation::{Decision, Effect, Understood, decide};
use crate::i18n::Texts;
use crate::inbound::{Address, Event, Inbound};
use crate::state::State;
use crate::storage::{self, Db, User};
use qamqor_models::detector::Detector;
use sqlx::AnyConnection;
use std::sync::Arc;

pub struct Engine {
    db: Db,
    texts: Texts,
    detector: Arc<Detector>,
}

impl Engine {
    pub fn new(db: Db, detector: Arc<Detector>) -> anyhow::Result<Engine> {
        Ok(Engine { db, texts: Texts::load()?, detector })
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Stores an inbound event durably. Returns false for a redelivery of an event
    /// already stored, which is then ignored.
    pub async fn accept(&self, inbound: &Inbound) -> anyhow::Result<bool> {
        Ok(storage::accept_inbound(&self.db, inbound, storage::now_ms()).await?)
    }

    /// Handles every waiting event of one conversation, oldest first, each in its own
    /// transaction. Returns how many were handled.
    pub async fn process(&self, address: &Address) -> anyhow::Result<usize> {
        let mut handled = 0;
        loop {
            // Understand first, outside the transaction and off the async threads: the
            // model takes tens of milliseconds, and no write lock should wait on it.
            let Some((inbox_id, event)) = storage::next_inbound(&mut *self.db.pool().acquire().await?, address).await?
            else {
                return Ok(handled);
            };
            let detector = self.detector.clone();
            let understood = match event {
                Some(event) => Some(tokio::task::spawn_blocking(move || Understood::new(event, &detector)).await?),
                None => None,
            };
            let mut tx = self.db.begin_conversation(address).await?;
            // Another worker (or replica) may have handled it meanwhile: then start over.
            if storage::next_inbound(&mut tx, address).await?.map(|(id, _)| id) != Some(inbox_id) {
                tx.commit().await?;
                continue;
            }
            let now = storage::now_ms();
            match understood {
                Some(understood) => self.handle(&mut tx, address, &understood, now).await?,
                None => tracing::warn!(inbox_id, "an unreadable inbound event was skipped"),
            }
            storage::mark_handled(&mut tx, inbox_id, now).await?;
            tx.commit().await?;
            handled += 1;
        }
    }

    /// Conversations with events waiting, e.g. after a restart.
    pub async fn pending(&self) -> anyhow::Result<Vec<Address>> {
        Ok(storage::pending_conversations(&self.db).await?)
    }

    async fn handle(
        &self,
        conn: &mut AnyConnection,
        address: &Address,
        understood: &Understood,
        now: i64,
    ) -> anyhow::Result<()> {
        let mut user = storage::find_user(conn, address).await?;
        let state = match &user {
            Some(u) => storage::load_state(conn, u.id).await?.as_deref().and_then(State::from_json),
            None => None,
        };
        let decision = decide(user.as_ref(), state, understood);
        for effect in &decision.effects {
            user = apply(conn, address, user, *effect, now).await?;
        }
        if let (Some(state), Some(u)) = (&decision.state, &user) {
            storage::save_state(conn, u.id, &state.to_json(), now).await?;
        }
        self.send(conn, address, understood.event(), &decision, now).await
    }

    async fn send(
        &self,
        conn: &mut AnyConnection,
        address: &Address,
        event: &Event,
        decision: &Decision,
        now: i64,
    ) -> anyhow::Result<()> {
        let pressed_on = match event {
            Event::Button { message, .. } if decision.in_place => message.clone(),
            _ => None,
        };
        for (i, screen) in decision.screens.iter().enumerate() {
            let mut out = self.texts.outgoing(decision.lang, screen);
            if i == 0 {
                out.replaces = pressed_on.clone();
            }
            storage::enqueue(conn, address, &out, now).await?;
        }
        Ok(())
    }
}

async fn apply(
    conn: &mut AnyConnection,
    address: &Address,
    user: Option<User>,
    effect: Effect,
    now: i64,
) -> anyhow::Result<Option<User>> {
    Ok(match (effect, user) {
        (Effect::ChooseLanguage(lang), Some(mut u)) => {
            storage::set_language(conn, u.id, lang).await?;
            u.language = Some(lang);
            Some(u)
        }
        (Effect::ChooseLanguage(lang), None) => Some(storage::create_user(conn, address, lang, now).await?),
        (Effect::Consent(accepted), Some(mut u)) => {
            storage::set_consent(conn, u.id, accepted, now).await?;
            let action = if accepted { "consent_given" } else { "consent_refused" };
            storage::audit(conn, now, Some(u.id), Some(u.id), action).await?;
            (u.consent_at, u.consent_refused_at) = if accepted { (Some(now), None) } else { (None, Some(now)) };
            Some(u)
        }
        (Effect::Erase, Some(u)) => {
            storage::erase_user(conn, &u).await?;
            // The erasure itself is kept, with nothing that points back to the person.
            storage::audit(conn, now, None, None, "user_erased").await?;
            None
        }
        (_, None) => None,
    })
}
