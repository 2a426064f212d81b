//! Onboarding: choose a language, learn what Qamqor is, accept or decline what it keeps.

use crate::screen::{Action, Button, Screen};
use qamqor_models::Lang;

/// Shown in both languages: the person has not chosen one yet.
pub fn language() -> Screen {
    Screen { bilingual: true, ..Screen::new("lang-choose") }.row(vec![
        Button::new("lang-button-kk", Action::Language(Lang::Kk)),
        Button::new("lang-button-ru", Action::Language(Lang::Ru)),
    ])
}

/// What Qamqor is and is not, then what it keeps, and the question.
pub fn consent() -> Screen {
    Screen::new("consent")
        .after("welcome")
        .row(vec![Button::new("consent-accept", Action::Consent(true))])
        .row(vec![Button::new("consent-decline", Action::Consent(false))])
}

pub fn declined() -> Screen {
    Screen::new("consent-declined").row(vec![Button::new("consent-review", Action::ReviewConsent)])
}
