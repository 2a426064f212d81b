//! Where a person is in the conversation: a typed state, stored as versioned JSON.

use serde::{Deserialize, Serialize};

/// The step a conversation is at. Anything a step needs to remember lives in its variant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum State {
    ChoosingLanguage,
    Consent,
    Declined,
    Menu,
    ConfirmErase,
    /// A psychologist working on a case: what they type goes to its parent.
    Casework {
        case: i64,
    },
}

/// Bumped when a stored state can no longer be read by this code.
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Stored {
    v: u32,
    state: State,
}

impl State {
    pub fn to_json(&self) -> String {
        serde_json::to_string(&Stored { v: VERSION, state: self.clone() }).expect("a state always serialises")
    }

    /// Reads a stored state. An old or broken one gives `None`, and the caller sends the
    /// person to a safe place (the main menu or onboarding) rather than failing.
    pub fn from_json(json: &str) -> Option<State> {
        serde_json::from_str::<Stored>(json).ok().filter(|s| s.v == VERSION).map(|s| s.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_old_or_broken_json() {
        let json = State::ConfirmErase.to_json();
        assert_eq!(State::from_json(&json), Some(State::ConfirmErase));
        assert_eq!(State::from_json(r#"{"v":0,"state":{"step":"menu"}}"#), None);
        assert_eq!(State::from_json(r#"{"v":1,"state":{"step":"gone"}}"#), None);
        assert_eq!(State::from_json("not json"), None);
    }
}
