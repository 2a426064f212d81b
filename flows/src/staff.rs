//! The staff side: psychologists take cases from the queue, talk with the parent through
//! the bot and close the case; admins invite and revoke staff. Every staff action goes
//! to the audit log, never with message text. Staff see a parent's pseudonym only
//! (invariant 5).

use crate::cases::{self, Case, Outcome, Party};
use crate::engine::{Engine, Sent};
use crate::inbound::Event;
use crate::screen::{Action, Button, Msg, Screen};
use crate::state::State;
use crate::storage::{self, Role, User};
use sqlx::AnyConnection;

/// Staff commands, typed in the same bot as everyone else.
enum Command<'a> {
    Queue,
    Case(Option<i64>),
    Close,
    Invite(Option<&'a str>),
    List,
    Revoke(Option<i64>),
    /// `/duty on`, `/duty off`: whether new cases come to me.
    Duty(Option<bool>),
}

fn command(text: &str) -> Option<Command<'_>> {
    let mut words = text.trim().strip_prefix('/')?.split_whitespace();
    let name = words.next()?.split('@').next()?.to_lowercase();
    let arg = words.next();
    let number = arg.and_then(|a| a.trim_start_matches('#').parse().ok());
    Some(match name.as_str() {
        "queue" => Command::Queue,
        "case" => Command::Case(number),
        "close" => Command::Close,
        "invite" => Command::Invite(arg),
        "staff" if arg.is_none() => Command::List,
        "revoke" => Command::Revoke(number),
        "duty" => Command::Duty(match arg.map(str::to_lowercase).as_deref() {
            Some("on") => Some(true),
            Some("off") => Some(false),
            _ => None,
        }),
        _ => return None,
    })
}

/// Handles a staff member's event if it is staff work. Returns false to let the
/// ordinary conversation handle it (/start, /menu, /lang …).
pub(crate) async fn handle(
    engine: &Engine,
    conn: &mut AnyConnection,
    me: &User,
    role: Role,
    state: Option<State>,
    event: &Event,
    now: i64,
) -> anyhow::Result<bool> {
    let active = match state {
        Some(State::Casework { case }) => Some(case),
        _ => None,
    };
    match event {
        Event::Text { text } => match command(text) {
            Some(cmd) => on_command(engine, conn, me, role, active, cmd, now).await.map(|()| true),
            None if text.trim_start().starts_with('/') => Ok(false),
            None => relay(engine, conn, me, active, text, now).await.map(|()| true),
        },
        Event::Button { data, .. } => match Action::decode(data) {
            Some(Action::Take(case)) => take(engine, conn, me, case, now).await.map(|()| true),
            Some(Action::Close(case, outcome)) => {
                let outcome = Outcome::CHOICES.get(outcome as usize).copied().unwrap_or(Outcome::Other);
                close(engine, conn, me, role, case, outcome, now).await.map(|()| true)
            }
            _ => Ok(false),
        },
        Event::Media { .. } => Ok(false),
    }
}

async fn on_command(
    engine: &Engine,
    conn: &mut AnyConnection,
    me: &User,
    role: Role,
    active: Option<i64>,
    cmd: Command<'_>,
    now: i64,
) -> anyhow::Result<()> {
    let admin = role == Role::Admin;
    let psychologist = admin || role == Role::Psychologist;
    match cmd {
        Command::Queue if psychologist => {
            let queue = cases::queue(conn).await?;
            engine.tell(conn, me, queue_screen(&queue), now).await
        }
        Command::Case(Some(id)) if psychologist => match mine(conn, me, role, id).await? {
            Some(case) => {
                storage::save_state(conn, me.id, &State::Casework { case: id }.to_json(), now).await?;
                storage::audit(conn, now, Some(me.id), case.parent.as_ref().map(|p| p.id), "case_viewed").await?;
                let history = history(conn, &case).await?;
                engine.tell(conn, me, history, now).await
            }
            None => engine.tell(conn, me, Screen::new("staff-case-not-yours"), now).await,
        },
        Command::Case(None) if psychologist => {
            let taken = cases::taken_by(conn, me.id).await?;
            let list = taken.iter().map(|c| format!("#{} {}", c.id, parent_name(c))).collect::<Vec<_>>().join("\n");
            engine.tell(conn, me, Screen::of(Msg::new("staff-my-cases").text("cases", list)), now).await
        }
        Command::Close if psychologist => match active {
            Some(id) if mine(conn, me, role, id).await?.is_some() => {
                let mut screen = Screen::of(Msg::new("staff-close-ask").text("case", id.to_string()));
                for (i, outcome) in Outcome::CHOICES.iter().enumerate() {
                    screen = screen.row(vec![Button::new(outcome_label(*outcome), Action::Close(id, i as u8))]);
                }
                engine.tell(conn, me, screen, now).await
            }
            _ => engine.tell(conn, me, Screen::new("staff-no-active-case"), now).await,
        },
        Command::Invite(role_name) if admin => {
            let role = match role_name.map(str::to_lowercase).as_deref() {
                Some("psychologist") => Role::Psychologist,
                Some("moderator") => Role::Moderator,
                _ => return engine.tell(conn, me, Screen::new("staff-invite-usage"), now).await,
            };
            let code = cases::invite(conn, role, Some(me.id), now).await?;
            let msg = Msg::new("staff-invite-created").text("code", code).msg("role", Msg::new(role_label(role)));
            engine.tell(conn, me, Screen::of(msg), now).await
        }
        Command::List if admin => {
            let staff = cases::staff(conn).await?;
            let list = staff
                .iter()
                .map(|(p, r)| format!("{} · {} · /revoke {}", p.name, r.as_str(), p.id))
                .collect::<Vec<_>>()
                .join("\n");
            engine.tell(conn, me, Screen::of(Msg::new("staff-list").text("staff", list)), now).await
        }
        Command::Revoke(Some(id)) if admin => {
            let done = cases::revoke(conn, id).await?;
            if done {
                storage::audit(conn, now, Some(me.id), Some(id), "staff_revoked").await?;
            }
            engine.tell(conn, me, Screen::new(if done { "staff-revoked" } else { "staff-revoke-unknown" }), now).await
        }
        Command::Duty(Some(on)) if psychologist => {
            cases::set_on_duty(conn, me.id, on).await?;
            storage::audit(conn, now, Some(me.id), Some(me.id), if on { "duty_on" } else { "duty_off" }).await?;
            engine.tell(conn, me, Screen::new(if on { "staff-duty-on" } else { "staff-duty-off" }), now).await
        }
        Command::Duty(None) if psychologist => engine.tell(conn, me, Screen::new("staff-duty-usage"), now).await,
        _ => engine.tell(conn, me, Screen::new("staff-not-allowed"), now).await,
    }
}

/// A case this staff member may work on: their own, or any open one for an admin.
async fn mine(conn: &mut AnyConnection, me: &User, role: Role, id: i64) -> anyhow::Result<Option<Case>> {
    let case = cases::get(conn, id).await?.filter(|c| !c.closed);
    Ok(case.filter(|c| role == Role::Admin || c.psychologist.as_ref().is_some_and(|p| p.id == me.id)))
}

fn parent_name(case: &Case) -> String {
    case.parent.as_ref().map_or_else(|| "—".to_string(), |p| p.name.clone())
}

/// The queue, most urgent first, with a Take button for each case nobody has taken.
fn queue_screen(queue: &[Case]) -> Screen {
    if queue.is_empty() {
        return Screen::new("staff-queue-empty");
    }
    let mut screen = Screen::new("staff-queue");
    for case in queue {
        screen.parts.push(case_line(case));
        screen.buttons.extend(take_button(case));
    }
    screen
}

/// A Take button, while nobody has the case.
fn take_button(case: &Case) -> Option<Vec<Button>> {
    let label = Msg::new("staff-take").text("case", case.id.to_string());
    case.psychologist.is_none().then(|| vec![Button { label, action: Action::Take(case.id) }])
}

/// One line about a case for staff: number, priority, pseudonym, signals, who has it.
fn case_line(case: &Case) -> Msg {
    let taken = case.psychologist.as_ref().map_or_else(String::new, |p| format!(" → {}", p.name));
    let mut signals = case.signals.join(", ");
    if signals.is_empty() {
        signals = "—".into();
    }
    Msg::new("staff-case-line")
        .text("case", case.id.to_string())
        .msg("priority", Msg::new(case.priority.label()))
        .text("parent", parent_name(case))
        .text("signals", signals)
        .text("child", if case.child_safety { "yes" } else { "no" })
        .text("taken", taken)
}

/// A notification of a new or raised case, with a Take button while nobody has it.
pub(crate) fn notification(case: &Case, raised: bool) -> Screen {
    let mut screen = Screen::new(if raised { "staff-case-raised" } else { "staff-case-new" });
    screen.parts.push(case_line(case));
    screen.buttons.extend(take_button(case));
    screen
}

/// A reminder that a case is still waiting for someone to take it.
pub(crate) fn reminder(case: &Case, minutes: i64) -> Screen {
    let mut screen = Screen::of(Msg::new("staff-case-waiting").text("minutes", minutes.to_string()));
    screen.parts.push(case_line(case));
    screen.buttons.extend(take_button(case));
    screen
}

/// The case so far, for the psychologist who takes it or switches to it.
async fn history(conn: &mut AnyConnection, case: &Case) -> anyhow::Result<Screen> {
    let mut screen = Screen::new("staff-case-history");
    screen.parts.push(case_line(case));
    let name = parent_name(case);
    for (from_parent, text) in cases::messages(conn, case.id).await? {
        let who = if from_parent { name.clone() } else { "→".to_string() };
        screen.parts.push(Msg::new("staff-history-line").text("who", who).text("text", text));
    }
    screen.parts.push(Msg::new("staff-case-help"));
    Ok(screen)
}

async fn take(engine: &Engine, conn: &mut AnyConnection, me: &User, id: i64, now: i64) -> anyhow::Result<()> {
    // A staff member's own case is for a colleague.
    if cases::get(conn, id).await?.and_then(|c| c.parent).is_some_and(|p| p.id == me.id) {
        return engine.tell(conn, me, Screen::new("staff-case-own"), now).await;
    }
    if cases::take(conn, id, me.id, now).await? {
        let case = cases::get(conn, id).await?.ok_or_else(|| anyhow::anyhow!("a taken case exists"))?;
        storage::save_state(conn, me.id, &State::Casework { case: id }.to_json(), now).await?;
        storage::audit(conn, now, Some(me.id), case.parent.as_ref().map(|p| p.id), "case_taken").await?;
        let screen = history(conn, &case).await?.after("staff-taken");
        engine.tell(conn, me, screen, now).await?;
        if let (Some(parent), Some(psychologist)) = (&case.parent, &case.psychologist) {
            let msg = Msg::new("parent-psychologist-joined").text("name", psychologist.name.clone());
            tell_parent(engine, conn, me, parent, Screen::of(msg), now).await?;
        }
        return Ok(());
    }
    let screen = match cases::get(conn, id).await? {
        Some(case) if !case.closed => match case.psychologist {
            Some(p) => Screen::of(Msg::new("staff-taken-by").text("case", id.to_string()).text("name", p.name)),
            None => Screen::new("staff-case-gone"),
        },
        _ => Screen::new("staff-case-gone"),
    };
    engine.tell(conn, me, screen, now).await
}

/// The psychologist's words, signed with their name, to the parent of the active case.
async fn relay(
    engine: &Engine,
    conn: &mut AnyConnection,
    me: &User,
    active: Option<i64>,
    text: &str,
    now: i64,
) -> anyhow::Result<()> {
    let case = match active {
        Some(id) => {
            cases::get(conn, id).await?.filter(|c| !c.closed && c.psychologist.as_ref().is_some_and(|p| p.id == me.id))
        }
        None => None,
    };
    let Some(case) = case else {
        return engine.tell(conn, me, Screen::new("staff-no-active-case"), now).await;
    };
    let Some(parent) = &case.parent else {
        return engine.tell(conn, me, Screen::new("staff-case-gone"), now).await;
    };
    cases::add_message(conn, case.id, false, text, now).await?;
    storage::audit(conn, now, Some(me.id), Some(parent.id), "case_message").await?;
    let name = case.psychologist.as_ref().map_or_else(String::new, |p| p.name.clone());
    let msg = Msg::new("parent-from-psychologist").text("name", name).text("text", text);
    tell_parent(engine, conn, me, parent, Screen::of(msg), now).await
}

/// Tells the parent of a case something on behalf of `me`. When WhatsApp holds it (the
/// parent has not written for a day), `me` hears why, once.
async fn tell_parent(
    engine: &Engine,
    conn: &mut AnyConnection,
    me: &User,
    parent: &Party,
    screen: Screen,
    now: i64,
) -> anyhow::Result<()> {
    if let Sent::Held { first: true } = engine.tell_party(conn, parent, screen, now).await? {
        engine.tell(conn, me, Screen::new("staff-parent-away"), now).await?;
    }
    Ok(())
}

async fn close(
    engine: &Engine,
    conn: &mut AnyConnection,
    me: &User,
    role: Role,
    id: i64,
    outcome: Outcome,
    now: i64,
) -> anyhow::Result<()> {
    let Some(case) = mine(conn, me, role, id).await? else {
        return engine.tell(conn, me, Screen::new("staff-case-not-yours"), now).await;
    };
    cases::close(conn, id, outcome, now).await?;
    storage::audit(conn, now, Some(me.id), case.parent.as_ref().map(|p| p.id), "case_closed").await?;
    storage::save_state(conn, me.id, &State::Menu.to_json(), now).await?;
    let done = Msg::new("staff-closed").text("case", id.to_string()).msg("outcome", Msg::new(outcome_label(outcome)));
    engine.tell(conn, me, Screen::of(done), now).await?;
    if let Some(parent) = &case.parent {
        let mut screen = Screen::new("parent-case-closed");
        screen.buttons.push(
            (1..=5u8)
                .map(|n| Button { label: Msg::new("rate-n").text("n", n.to_string()), action: Action::Rate(id, n) })
                .collect(),
        );
        tell_parent(engine, conn, me, parent, screen, now).await?;
    }
    Ok(())
}

fn outcome_label(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Supported => "outcome-supported",
        Outcome::Emergency => "outcome-emergency",
        Outcome::Booked => "outcome-booked",
        Outcome::NoAnswer => "outcome-no-answer",
        Outcome::Other | Outcome::DeletedByParent => "outcome-other",
    }
}

fn role_label(role: Role) -> &'static str {
    match role {
        Role::Psychologist => "role-psychologist",
        Role::Moderator => "role-moderator",
        Role::Admin => "role-admin",
        Role::Parent => "role-parent",
    }
}

/// A parent's words, for the psychologist of their case: under the pseudonym only.
pub(crate) fn from_parent(case: &Case, parent: &User, text: &str) -> Screen {
    Screen::of(
        Msg::new("staff-from-parent")
            .text("case", case.id.to_string())
            .text("parent", parent.pseudonym.clone())
            .text("text", text),
    )
}

/// Tells the psychologist of an open case that its parent erased their data.
pub(crate) fn parent_left(case: &Case) -> Screen {
    Screen::of(Msg::new("staff-parent-left").text("case", case.id.to_string()))
}
