//! The parent's side of the crisis path: what a parent who may be in danger, or who is
//! struggling, sees — and which case that opens. Pure: the engine commits the case in
//! the same transaction as the answer (invariant 2) and notifies the psychologists.

use crate::cases::{Case, Priority};
use crate::conversation::{Decision, Effect};
use crate::screen::{Action, Button, MenuItem, Msg, Screen};
use crate::storage::User;
use qamqor_models::Lang;
use qamqor_models::distress::{Assessment, Risk};

/// The case an assessment calls for, if any: `support` opens none unless the parent asks.
pub fn priority(assessment: &Assessment) -> Option<Priority> {
    match assessment.risk {
        Risk::Imminent => Some(Priority::Imminent),
        Risk::High => Some(Priority::High),
        _ if assessment.child_safety => Some(Priority::High),
        _ => None,
    }
}

/// What the detector found, by name: for the psychologist, never for logs.
fn signals(assessment: &Assessment) -> Vec<String> {
    assessment.signals.iter().map(|s| s.name().to_string()).collect()
}

/// A message that needs a person at once. Opens a case (or raises the open one) and
/// answers with the safety message. Never repeats what the parent wrote: whoever hurts
/// the child may be reading the phone.
pub fn urgent(user: Option<&User>, lang: Option<Lang>, open: Option<&Case>, text: &str, a: &Assessment) -> Decision {
    let priority = priority(a).unwrap_or(Priority::High);
    let signals = signals(a);
    let mut decision = Decision { lang, ..Decision::default() };
    let safety = if a.child_safety { "safety-child" } else { "safety-urgent" };
    match open {
        Some(case) => {
            decision.effects.push(Effect::Relay(text.to_string()));
            decision.effects.push(Effect::RaiseCase { priority, child_safety: a.child_safety, signals });
            // Safety information is the one thing the bot says over an open case.
            if priority > case.priority || (a.child_safety && !case.child_safety) {
                decision.screens.push(Screen::new(safety));
            } else if case.psychologist.is_none() {
                decision.screens.push(Screen::new("relay-waiting"));
            }
        }
        None => {
            decision.effects.push(Effect::OpenCase { priority, child_safety: a.child_safety, signals });
            decision.effects.push(Effect::Relay(text.to_string()));
            let mut screen = Screen::new(safety);
            screen.parts.push(Msg::new("safety-coming"));
            if !user.is_some_and(User::consented) {
                screen.parts.push(Msg::new("safety-lawful"));
            }
            decision.screens.push(screen);
            if priority == Priority::High && a.risk == Risk::High {
                decision.screens.push(plan_question());
            }
        }
    }
    decision
}

/// One gentle question, in the spirit of the C-SSRS screener.
fn plan_question() -> Screen {
    Screen::new("safety-plan-question").row(vec![
        Button::new("safety-plan-yes", Action::Plan(true)),
        Button::new("safety-plan-no", Action::Plan(false)),
    ])
}

/// The answer to the plan question: "yes" raises the case to imminent.
pub fn plan_answer(user: &User, yes: bool) -> Decision {
    let mut decision = Decision { lang: user.language, ..Decision::default() };
    if yes {
        decision.effects.push(Effect::RaiseCase {
            priority: Priority::Imminent,
            child_safety: false,
            signals: vec!["plan".into()],
        });
        decision.screens.push(Screen::new("safety-plan-yes-answer"));
    } else {
        decision.screens.push(Screen::new("safety-plan-no-answer"));
    }
    decision.pressed()
}

/// A parent who is struggling: warmth first, then a choice. No case unless they ask.
pub fn support(user: Option<&User>, lang: Option<Lang>) -> Decision {
    let mut screen = Screen::new("support-empathy");
    if user.is_some_and(User::consented) {
        let b = |label, item| Button::new(label, Action::Menu(item));
        screen = screen
            .row(vec![b("support-talk", MenuItem::Talk)])
            .row(vec![b("menu-book", MenuItem::Book), b("menu-groups", MenuItem::Groups)])
            .row(vec![Button::new("support-thanks", Action::Thanks)]);
    }
    Decision { lang, screens: vec![screen], ..Decision::default() }
}

/// "Talk to a psychologist": a normal-priority case, unless one is open already.
pub fn talk(user: &User, open: Option<&Case>) -> Decision {
    let mut decision = Decision { lang: user.language, ..Decision::default() };
    if open.is_some() {
        decision.screens.push(Screen::new("talk-already-open"));
    } else {
        decision.effects.push(Effect::OpenCase {
            priority: Priority::Normal,
            child_safety: false,
            signals: Vec::new(),
        });
        decision.screens.push(Screen::new("talk-opened"));
    }
    decision.pressed()
}

/// A parent's words while their case is open go to the psychologist; the bot does not
/// talk over them (invariant 4). Until someone has taken the case, a short note says
/// the words were passed on.
pub fn relay(user: &User, case: &Case, text: &str) -> Decision {
    let mut decision =
        Decision { lang: user.language, effects: vec![Effect::Relay(text.to_string())], ..Decision::default() };
    if case.psychologist.is_none() {
        decision.screens.push(Screen::new("relay-waiting"));
    }
    decision
}
