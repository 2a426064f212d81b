//! What the bot shows: channel-agnostic screens, and the typed actions behind buttons.

use qamqor_models::Lang;
use serde::{Deserialize, Serialize};

/// A Fluent message id with its arguments; rendered in a language only when sent.
#[derive(Clone, Debug, PartialEq)]
pub struct Msg {
    pub id: &'static str,
    pub args: Vec<(&'static str, Arg)>,
}

/// A message argument: plain text, or another message rendered in the same language.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Text(String),
    Msg(Msg),
}

impl Msg {
    pub fn new(id: &'static str) -> Self {
        Msg { id, args: Vec::new() }
    }

    pub fn text(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.args.push((name, Arg::Text(value.into())));
        self
    }

    /// Text that is already in the reader's language (from the catalogue), shown as is.
    pub fn plain(text: impl Into<String>) -> Self {
        Msg::new("label").text("text", text)
    }

    pub fn msg(mut self, name: &'static str, value: Msg) -> Self {
        self.args.push((name, Arg::Msg(value)));
        self
    }
}

/// A button: what it says and what pressing it means.
#[derive(Clone, Debug, PartialEq)]
pub struct Button {
    pub label: Msg,
    pub action: Action,
}

impl Button {
    pub fn new(label: &'static str, action: Action) -> Self {
        Button { label: Msg::new(label), action }
    }
}

/// One message to a person: paragraphs of text and rows of buttons.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Screen {
    pub parts: Vec<Msg>,
    pub buttons: Vec<Vec<Button>>,
    /// Shown in both languages, one under the other: for a person who has not chosen yet.
    pub bilingual: bool,
}

impl Screen {
    pub fn new(id: &'static str) -> Self {
        Screen { parts: vec![Msg::new(id)], ..Screen::default() }
    }

    pub fn of(msg: Msg) -> Self {
        Screen { parts: vec![msg], ..Screen::default() }
    }

    /// Puts a paragraph before the screen's text.
    pub fn after(mut self, id: &'static str) -> Self {
        self.parts.insert(0, Msg::new(id));
        self
    }

    /// Adds a row of buttons; an empty row adds nothing.
    pub fn row(mut self, row: Vec<Button>) -> Self {
        if !row.is_empty() {
            self.buttons.push(row);
        }
        self
    }
}

/// What a button means. Encoded compactly because Telegram allows 64 bytes of callback
/// data; anything that does not decode is an unknown button and shows the current screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Language(Lang),
    Consent(bool),
    ReviewConsent,
    Menu(MenuItem),
    Erase(bool),
    /// The answer to "do you have a plan, or mean to act today?".
    Plan(bool),
    /// "Thank you, that is all" after a supportive answer.
    Thanks,
    /// A parent's rating of a closed case, 1 to 5.
    Rate(i64, u8),
    /// A psychologist takes a case.
    Take(i64),
    /// A psychologist closes a case with an outcome (its code index in `Outcome::CHOICES`).
    Close(i64, u8),
    /// A step through the services guide.
    Services(Nav),
}

/// Where a button of the services guide leads. Catalogue ids are short (at most 30
/// bytes by `catalog check`), so the encoding stays within Telegram's 64.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Nav {
    /// The topics.
    Home,
    /// A page of one topic's entries.
    Category(String, u8),
    /// An entry's card.
    Entry(String),
    /// "This is what I need": the steps, as a message to keep.
    Next(String),
    /// A question for a person, about an entry or (empty) about anything.
    Ask(String),
    /// A page of the regions to choose from.
    Regions(u8),
    /// The parent's region chosen.
    Region(String),
}

impl Nav {
    fn encode(&self) -> String {
        match self {
            Nav::Home => "home".into(),
            Nav::Category(id, page) => format!("c:{id}:{page}"),
            Nav::Entry(id) => format!("e:{id}"),
            Nav::Next(id) => format!("n:{id}"),
            Nav::Ask(id) => format!("a:{id}"),
            Nav::Regions(page) => format!("rs:{page}"),
            Nav::Region(id) => format!("r:{id}"),
        }
    }

    fn decode(data: &str) -> Option<Nav> {
        if data == "home" {
            return Some(Nav::Home);
        }
        let (kind, value) = data.split_once(':')?;
        let id = || Some(value.to_string()).filter(|v| !v.is_empty() && v.len() <= 40);
        match kind {
            "c" => {
                let (id, page) = value.split_once(':')?;
                Some(Nav::Category(id.to_string(), page.parse().ok()?))
            }
            "e" => id().map(Nav::Entry),
            "n" => id().map(Nav::Next),
            "a" => Some(Nav::Ask(value.to_string())),
            "rs" => value.parse().ok().map(Nav::Regions),
            "r" => id().map(Nav::Region),
            _ => None,
        }
    }
}

/// The entries of the parent's main menu.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MenuItem {
    Open,
    Services,
    Book,
    Groups,
    Talk,
    Language,
    MyData,
}

const MENU_CODES: [(MenuItem, &str); 7] = [
    (MenuItem::Open, "open"),
    (MenuItem::Services, "services"),
    (MenuItem::Book, "book"),
    (MenuItem::Groups, "groups"),
    (MenuItem::Talk, "talk"),
    (MenuItem::Language, "lang"),
    (MenuItem::MyData, "mydata"),
];

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn parse_yes_no(s: &str) -> Option<bool> {
    match s {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

impl Action {
    pub fn encode(&self) -> String {
        match self {
            Action::Language(lang) => format!("lang:{}", lang.code()),
            Action::Consent(yes) => format!("consent:{}", yes_no(*yes)),
            Action::ReviewConsent => "consent:review".into(),
            Action::Menu(item) => {
                let code = MENU_CODES.iter().find(|(i, _)| i == item).map_or("open", |(_, c)| c);
                format!("menu:{code}")
            }
            Action::Erase(yes) => format!("erase:{}", yes_no(*yes)),
            Action::Plan(yes) => format!("plan:{}", yes_no(*yes)),
            Action::Thanks => "thanks:".into(),
            Action::Rate(case, n) => format!("rate:{case}:{n}"),
            Action::Take(case) => format!("take:{case}"),
            Action::Close(case, outcome) => format!("close:{case}:{outcome}"),
            Action::Services(nav) => format!("svc:{}", nav.encode()),
        }
    }

    pub fn decode(data: &str) -> Option<Action> {
        let (kind, value) = data.split_once(':')?;
        match kind {
            "lang" => Lang::from_code(value).map(Action::Language),
            "consent" if value == "review" => Some(Action::ReviewConsent),
            "consent" => parse_yes_no(value).map(Action::Consent),
            "menu" => MENU_CODES.iter().find(|(_, c)| *c == value).map(|(i, _)| Action::Menu(*i)),
            "erase" => parse_yes_no(value).map(Action::Erase),
            "plan" => parse_yes_no(value).map(Action::Plan),
            "thanks" => Some(Action::Thanks),
            "rate" => {
                let (case, n) = value.split_once(':')?;
                Some(Action::Rate(case.parse().ok()?, n.parse().ok().filter(|n| (1..=5).contains(n))?))
            }
            "take" => value.parse().ok().map(Action::Take),
            "close" => {
                let (case, outcome) = value.split_once(':')?;
                Some(Action::Close(case.parse().ok()?, outcome.parse().ok()?))
            }
            "svc" => Nav::decode(value).map(Action::Services),
            _ => None,
        }
    }
}

/// A screen rendered in a language: what the outbox stores and a channel adapter sends.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outgoing {
    pub text: String,
    pub buttons: Vec<Vec<OutButton>>,
    /// The channel's id of a message this one replaces (edited in place where possible).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
    /// What opens a list of choices where a channel folds buttons into one (WhatsApp).
    #[serde(default)]
    pub list_button: String,
    /// Sent instead of the text: the approved template, in this language, that asks the
    /// person to write back, because WhatsApp's 24-hour window has closed. The text is
    /// the template's wording, as it should be registered with Meta.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reopen: Option<Lang>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutButton {
    pub label: String,
    pub data: String,
    /// A shorter label, written in the Fluent files (`.short`), for channels that allow
    /// fewer characters (WhatsApp: 20 on a button, 24 in a list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_round_trips_within_telegram_limits() {
        let mut all = vec![
            Action::Language(Lang::Kk),
            Action::Language(Lang::Ru),
            Action::Consent(true),
            Action::Consent(false),
            Action::ReviewConsent,
            Action::Erase(true),
            Action::Erase(false),
            Action::Plan(true),
            Action::Plan(false),
            Action::Thanks,
            Action::Rate(i64::MAX, 5),
            Action::Take(i64::MAX),
            Action::Close(i64::MAX, 4),
            Action::Services(Nav::Home),
            Action::Services(Nav::Category("education".into(), 3)),
            Action::Services(Nav::Entry("property-registration-fee".into())),
            Action::Services(Nav::Next("residential-stay".into())),
            Action::Services(Nav::Ask(String::new())),
            Action::Services(Nav::Ask("early-intervention-package".into())),
            Action::Services(Nav::Regions(1)),
            Action::Services(Nav::Region("almaty-region".into())),
        ];
        all.extend(MENU_CODES.iter().map(|(i, _)| Action::Menu(*i)));
        for action in all {
            let data = action.encode();
            assert!(data.len() <= 64, "{data}");
            assert_eq!(Action::decode(&data), Some(action));
        }
    }

    #[test]
    fn unknown_data_does_not_decode() {
        for data in [
            "",
            "menu",
            "menu:",
            "menu:nope",
            "lang:en",
            "x:y",
            "consent:maybe",
            "rate:1:9",
            "take:x",
            "close:1",
            "svc:",
            "svc:e:",
            "svc:c:x",
            "svc:rs:x",
            "svc:zz:1",
        ] {
            assert_eq!(Action::decode(data), None, "{data}");
        }
    }
}
