//! The conversation engine: takes inbound events into the inbox, and works a
//! conversation's events one at a time — decide, then commit state, changes and
//! outgoing messages in one transaction. It never talks to a network.

use crate::cases::{self, Case, Party, Priority};
use crate::conversation::{Decision, Effect, Understood, decide};
use crate::duty::{self, Duty};
use crate::i18n::Texts;
use crate::inbound::{Address, Event, Inbound};
use crate::screen::{Msg, Outgoing, Screen};
use crate::state::State;
use crate::storage::{self, Db, Role, User};
use crate::{sla, staff};
use qamqor_models::Lang;
use qamqor_models::detector::Detector;
use qamqor_models::search::Guide;
use sqlx::AnyConnection;
use std::sync::Arc;

/// Whether a message went out, or waits because WhatsApp's 24-hour window is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sent {
    Now,
    /// `first` when nothing was waiting before: the person was just asked to write back.
    Held {
        first: bool,
    },
}

/// What time it is, in UTC milliseconds: the system clock, or a test's.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub struct Engine {
    db: Db,
    texts: Texts,
    detector: Arc<Detector>,
    /// The services catalogue and its search.
    guide: Arc<Guide>,
    /// Who answers, when, how soon, and the hotline numbers.
    duty: Duty,
    clock: Clock,
}

impl Engine {
    pub fn new(db: Db, detector: Arc<Detector>, guide: Arc<Guide>) -> anyhow::Result<Engine> {
        let duty = Duty::default();
        let texts = Texts::load(&duty)?;
        Ok(Engine { db, texts, detector, guide, duty, clock: Arc::new(storage::now_ms) })
    }

    pub fn with_duty(mut self, duty: Duty) -> anyhow::Result<Engine> {
        self.texts = Texts::load(&duty)?;
        self.duty = duty;
        Ok(self)
    }

    /// Another clock: tests move time forward to see reminders fall due.
    pub fn with_clock(mut self, clock: Clock) -> Engine {
        self.clock = clock;
        self
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub(crate) fn duty(&self) -> &Duty {
        &self.duty
    }

    pub(crate) fn now(&self) -> i64 {
        (self.clock)()
    }

    /// Stores an inbound event durably. Returns false for a redelivery of an event
    /// already stored, which is then ignored.
    pub async fn accept(&self, inbound: &Inbound) -> anyhow::Result<bool> {
        Ok(storage::accept_inbound(&self.db, inbound, self.now()).await?)
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
            let (detector, guide) = (self.detector.clone(), self.guide.clone());
            let understood = match event {
                Some(event) => {
                    Some(tokio::task::spawn_blocking(move || Understood::new(event, &detector, &guide)).await?)
                }
                None => None,
            };
            let mut tx = self.db.begin_conversation(address).await?;
            // Another worker (or replica) may have handled it meanwhile: then start over.
            if storage::next_inbound(&mut tx, address).await?.map(|(id, _)| id) != Some(inbox_id) {
                tx.commit().await?;
                continue;
            }
            let now = self.now();
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
        let role = if self.duty.admins.contains(address) {
            Role::Admin
        } else {
            user.as_ref().map_or(Role::Parent, |u| u.role)
        };
        if role != Role::Parent {
            // An admin from configuration may not have written before: they choose a
            // language like everyone.
            let me = known_or_new(conn, address, user.take(), None, now).await?;
            // Staff are often parents too: their own crisis, and their words while a case
            // of their own is open, take everyone's path (invariants 1 and 4).
            let own = understood.is_urgent(state.as_ref())
                || (understood.words().is_some() && cases::open_for_parent(conn, me.id).await?.is_some());
            if !own && staff::handle(self, conn, &me, role, state.clone(), understood.event(), now).await? {
                return Ok(());
            }
            user = Some(me);
        }
        let mut case = match &user {
            Some(u) => cases::open_for_parent(conn, u.id).await?,
            None => None,
        };
        let decision = decide(&self.guide, user.as_ref(), state, case.as_ref(), understood);
        for effect in &decision.effects {
            user = self.apply(conn, address, user, &mut case, decision.lang, effect, now).await?;
        }
        if let (Some(state), Some(u)) = (&decision.state, &user) {
            storage::save_state(conn, u.id, &state.to_json(), now).await?;
        }
        self.send(conn, address, understood.event(), &decision, now).await?;
        // Asked for a person when nobody is at work: say when someone will answer.
        // Imminent risk goes to the psychologists on call at any hour.
        let asked = decision
            .effects
            .iter()
            .any(|e| matches!(e, Effect::OpenCase { priority, .. } if *priority < Priority::Imminent));
        if asked && !self.duty.hours.is_open(now) {
            let when = duty::local_time(self.duty.hours.next_open(now));
            let screen = Screen::of(Msg::new("after-hours").text("when", when));
            self.tell_at(conn, address, decision.lang.unwrap_or(Lang::FALLBACK), &screen, now).await?;
        }
        Ok(())
    }

    /// The one way a message leaves the engine: an outbox row in this transaction. On
    /// WhatsApp, when the person has not written for 24 hours, it is held until they do,
    /// and the first one held brings the template that asks them to write back.
    async fn post(
        &self,
        conn: &mut AnyConnection,
        to: &Address,
        lang: Lang,
        out: &Outgoing,
        now: i64,
    ) -> anyhow::Result<Sent> {
        if storage::window_open(conn, to, now).await? {
            storage::enqueue(conn, to, out, false, now).await?;
            return Ok(Sent::Now);
        }
        let first = !storage::holding(conn, to).await?;
        storage::enqueue(conn, to, out, true, now).await?;
        if first {
            let template = self.texts.outgoing(Some(lang), &Screen::new("whatsapp-reopen"));
            storage::enqueue(conn, to, &Outgoing { reopen: Some(lang), ..template }, false, now).await?;
        }
        Ok(Sent::Held { first })
    }

    /// Sends a screen to an address, in a language.
    async fn tell_at(
        &self,
        conn: &mut AnyConnection,
        to: &Address,
        lang: Lang,
        screen: &Screen,
        now: i64,
    ) -> anyhow::Result<Sent> {
        self.post(conn, to, lang, &self.texts.outgoing(Some(lang), screen), now).await
    }

    /// Sends a screen to a person, in their language.
    pub(crate) async fn tell(
        &self,
        conn: &mut AnyConnection,
        to: &User,
        screen: Screen,
        now: i64,
    ) -> anyhow::Result<()> {
        self.tell_at(conn, &to.address, to.lang(), &screen, now).await?;
        Ok(())
    }

    /// Sends a screen to the other side of a case.
    pub(crate) async fn tell_party(
        &self,
        conn: &mut AnyConnection,
        to: &Party,
        screen: Screen,
        now: i64,
    ) -> anyhow::Result<Sent> {
        self.tell_at(conn, &to.address, to.language, &screen, now).await
    }

    /// Tells the psychologists on duty (`everyone`: all of them), the admins and the staff
    /// group chat about a case: outbox rows, in the same transaction as the case, so no
    /// case goes unannounced. The case's own person is never told of it: a psychologist
    /// or an admin in crisis is the one a colleague comes to.
    pub(crate) async fn notify(
        &self,
        conn: &mut AnyConnection,
        case: &Case,
        screen: &Screen,
        everyone: bool,
        now: i64,
    ) -> anyhow::Result<()> {
        let own = case.parent.as_ref().map(|p| &p.address);
        let mut told: Vec<Address> = own.into_iter().cloned().collect();
        for party in cases::responders(conn, !everyone).await? {
            if !told.contains(&party.address) {
                self.tell_at(conn, &party.address, party.language, screen, now).await?;
                told.push(party.address);
            }
        }
        for admin in self.duty.admins.iter().filter(|a| !told.contains(a)) {
            let lang = storage::find_user(conn, admin).await?.as_ref().map_or(Lang::FALLBACK, User::lang);
            self.tell_at(conn, admin, lang, screen, now).await?;
        }
        if let Some(group) = &self.duty.staff_chat {
            // A group is not a person: its Take button would not know who pressed it.
            let mut screen = screen.clone();
            screen.buttons.clear();
            screen.parts.push(Msg::new("staff-group-hint"));
            screen.bilingual = true;
            self.tell_at(conn, group, Lang::ALL[0], &screen, now).await?;
        }
        Ok(())
    }

    /// Announces a new or raised case and starts its reminder clock. A staff member's own
    /// case goes to every psychologist: the one on duty may be the one who wrote.
    async fn announce(&self, conn: &mut AnyConnection, case_id: i64, raised: bool, now: i64) -> anyhow::Result<()> {
        let Some(case) = cases::get(conn, case_id).await? else { return Ok(()) };
        sla::schedule(conn, self, &case, now).await?;
        let parent = case.parent.as_ref().map(|p| p.id);
        let staff_self = cases::responders(conn, false).await?.iter().any(|p| Some(p.id) == parent);
        self.notify(conn, &case, &staff::notification(&case, raised), staff_self, now).await
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
            // Normally an answer to a message just written; on WhatsApp, one delivered
            // more than a day late waits like any other.
            self.post(conn, address, decision.lang.unwrap_or(Lang::ALL[0]), &out, now).await?;
        }
        Ok(())
    }
}

impl Engine {
    /// Carries out one effect of a decision. `user` and `case` are the person and their
    /// open case as the effects so far left them.
    #[allow(clippy::too_many_arguments)]
    async fn apply(
        &self,
        conn: &mut AnyConnection,
        address: &Address,
        user: Option<User>,
        case: &mut Option<Case>,
        lang: Option<Lang>,
        effect: &Effect,
        now: i64,
    ) -> anyhow::Result<Option<User>> {
        Ok(match (effect, user) {
            (Effect::ChooseLanguage(lang), Some(mut u)) => {
                storage::set_language(conn, u.id, *lang).await?;
                u.language = Some(*lang);
                Some(u)
            }
            (Effect::ChooseLanguage(lang), None) => Some(storage::create_user(conn, address, Some(*lang), now).await?),
            (Effect::Consent(accepted), Some(mut u)) => {
                storage::set_consent(conn, u.id, *accepted, now).await?;
                let action = if *accepted { "consent_given" } else { "consent_refused" };
                storage::audit(conn, now, Some(u.id), Some(u.id), action).await?;
                (u.consent_at, u.consent_refused_at) = if *accepted { (Some(now), None) } else { (None, Some(now)) };
                Some(u)
            }
            (Effect::Erase, Some(u)) => {
                // The psychologist of an open case hears first; then the case keeps only
                // what statistics need.
                if let Some(case) = case.take()
                    && let Some(psychologist) = &case.psychologist
                {
                    self.tell_party(conn, psychologist, staff::parent_left(&case), now).await?;
                }
                cases::anonymise(conn, u.id, now).await?;
                storage::erase_user(conn, &u).await?;
                // The erasure itself is kept, with nothing that points back to the person.
                storage::audit(conn, now, None, None, "user_erased").await?;
                None
            }
            // Protecting a life needs no consent: a case opens for anyone (the safety
            // message says so), with a row for the person if there was none.
            (Effect::OpenCase { priority, child_safety, signals }, user) => {
                let u = known_or_new(conn, address, user, lang.or(Some(Lang::FALLBACK)), now).await?;
                let id = cases::open(conn, u.id, *priority, *child_safety, signals, now).await?;
                storage::audit(conn, now, Some(u.id), Some(u.id), "case_opened").await?;
                self.announce(conn, id, false, now).await?;
                *case = cases::get(conn, id).await?;
                Some(u)
            }
            (Effect::RaiseCase { priority, child_safety, signals }, Some(u)) => {
                if let Some(case) = case.as_ref()
                    && cases::raise(conn, case, *priority, *child_safety, signals).await?
                {
                    self.announce(conn, case.id, true, now).await?;
                }
                Some(u)
            }
            (Effect::Relay(text), Some(u)) => {
                if let Some(case) = case.as_ref() {
                    cases::add_message(conn, case.id, true, text, now).await?;
                    if let Some(psychologist) = &case.psychologist {
                        self.tell_party(conn, psychologist, staff::from_parent(case, &u, text), now).await?;
                    }
                }
                Some(u)
            }
            (Effect::SetRegion(region), Some(mut u)) => {
                storage::set_region(conn, u.id, region).await?;
                u.region = Some(region.clone());
                Some(u)
            }
            (Effect::Rate { case, rating }, Some(u)) => {
                cases::rate(conn, *case, u.id, *rating as i64).await?;
                Some(u)
            }
            (Effect::Redeem { code, name }, user) => {
                let u = known_or_new(conn, address, user, lang.or(Some(Lang::FALLBACK)), now).await?;
                let name = if name.trim().is_empty() { u.pseudonym.clone() } else { name.trim().to_string() };
                let screen = match cases::redeem(conn, code, u.id, &name, now).await? {
                    Some(role) => {
                        storage::audit(conn, now, Some(u.id), Some(u.id), &format!("staff_joined_{}", role.as_str()))
                            .await?;
                        // Cases come to psychologists and admins, not to moderators.
                        let welcome = if role == Role::Moderator { "staff-welcome-moderator" } else { "staff-welcome" };
                        Screen::of(crate::screen::Msg::new(welcome).text("name", name))
                    }
                    None => Screen::new("staff-code-invalid"),
                };
                self.tell(conn, &u, screen, now).await?;
                Some(u)
            }
            (_, None) => None,
        })
    }
}

/// The person writing, with a row made for them if they have none yet (in `lang`; `None`
/// leaves the choice to them): a case or a staff role needs someone to belong to.
async fn known_or_new(
    conn: &mut AnyConnection,
    address: &Address,
    user: Option<User>,
    lang: Option<Lang>,
    now: i64,
) -> anyhow::Result<User> {
    Ok(match user {
        Some(u) => u,
        None => storage::create_user(conn, address, lang, now).await?,
    })
}
