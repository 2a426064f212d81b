//! The router: given who is writing, where they are and what they did, decide what
//! happens. Pure: no I/O, so every rule here is testable without a database.

use crate::cases::Case;
use crate::inbound::{Event, Media};
use crate::screen::{Action, Button, MenuItem, Screen};
use crate::state::State;
use crate::storage::User;
use crate::{crisis, menu, onboarding, privacy, services};
use qamqor_models::detector::Detector;
use qamqor_models::distress::{Assessment, Risk, Signal};
use qamqor_models::search::{Guide, Hit};
use qamqor_models::text::{normalize, readings};
use qamqor_models::{Intent, Lang, lang};

/// What one event leads to; the engine commits all of it in one transaction.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Decision {
    /// The language to answer in; `None` answers in both.
    pub lang: Option<Lang>,
    /// The next state, when it changes or must be stored.
    pub state: Option<State>,
    pub screens: Vec<Screen>,
    pub effects: Vec<Effect>,
    /// The first screen replaces the message whose button was pressed.
    pub in_place: bool,
}

/// Changes to what Qamqor keeps about the person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    ChooseLanguage(Lang),
    Consent(bool),
    Erase,
    /// A case for the psychologists; they are notified.
    OpenCase {
        priority: crate::cases::Priority,
        child_safety: bool,
        signals: Vec<String>,
    },
    /// The open case becomes more urgent; the psychologists are notified again.
    RaiseCase {
        priority: crate::cases::Priority,
        child_safety: bool,
        signals: Vec<String>,
    },
    /// The parent's words, into their open case and to its psychologist.
    Relay(String),
    Rate {
        case: i64,
        rating: u8,
    },
    /// The parent's region, for the services guide.
    SetRegion(String),
    /// "/staff CODE Name": an invitation redeemed.
    Redeem {
        code: String,
        name: String,
    },
}

impl Decision {
    pub(crate) fn show(user: Option<&User>, state: State, screen: Screen) -> Decision {
        Decision {
            lang: user.and_then(|u| u.language),
            state: Some(state),
            screens: vec![screen],
            ..Decision::default()
        }
    }

    pub(crate) fn pressed(mut self) -> Decision {
        self.in_place = true;
        self
    }
}

/// Commands a person can type in any messenger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Command {
    Start,
    Menu,
    Help,
    Lang,
    MyData,
    Delete,
    /// "/staff CODE Name": a staff invitation.
    Staff,
    Unknown,
}

impl Command {
    fn parse(text: &str) -> Option<Command> {
        let rest = text.trim().strip_prefix('/')?;
        let word = rest.split(|c: char| c.is_whitespace() || c == '@').next().unwrap_or("");
        Some(match word.to_lowercase().as_str() {
            "start" => Command::Start,
            "menu" => Command::Menu,
            "help" => Command::Help,
            "lang" | "language" => Command::Lang,
            "mydata" => Command::MyData,
            "delete" => Command::Delete,
            "staff" => Command::Staff,
            _ => Command::Unknown,
        })
    }
}

/// Below this, typed words are a question for the services guide: a misread question
/// costs a parent the answer, a misread request only a tap on the menu.
const SURE_OF_INTENT: f32 = 0.5;

/// An event together with what the distress detector found in its words, what they ask
/// the bot to do, and which catalogue entries answer them. Its fields are private: the
/// only way to reach [`decide`] is through [`Understood::new`], which runs the detector on
/// every piece of free text (invariant 1).
pub struct Understood {
    event: Event,
    assessment: Option<Assessment>,
    /// What the words ask for, when the judges are sure enough of it.
    intent: Option<Intent>,
    /// The services that answer the words, best first (the search reuses the detector's
    /// embedding of them).
    hits: Vec<Hit>,
}

impl Understood {
    /// Runs the detector, then the services search, on the event's words. Tens of
    /// milliseconds with the model: call it off the async threads and outside any
    /// transaction.
    pub fn new(event: Event, detector: &Detector, guide: &Guide) -> Understood {
        let (assessment, intent, hits) = match event.free_text() {
            Some(text) => {
                let reading = detector.read(text);
                let hits = guide.search(text, reading.embedding.as_deref());
                let sure = reading.intent_confidence >= SURE_OF_INTENT;
                (Some(reading.assessment), sure.then_some(reading.intent), hits)
            }
            None => (None, None, Vec::new()),
        };
        Understood { event, assessment, intent, hits }
    }

    pub fn event(&self) -> &Event {
        &self.event
    }

    /// The words a person wrote, unless they are a command.
    pub fn words(&self) -> Option<&str> {
        self.event.free_text().filter(|t| Command::parse(t).is_none())
    }

    /// Free text that needs a person at once, from someone in `state`: whoever wrote it,
    /// staff too, gets the safety message and a case (invariant 1). A command is not free
    /// text, and the model reads noise in codes: only the lexicon's own words in it count.
    /// A psychologist at work on a case writes to a parent in crisis, and her words often
    /// echo crisis talk: there the model's reading alone does not count either, nor a
    /// question put to the parent; the lexicon's own words about herself do.
    pub fn is_urgent(&self, state: Option<&State>) -> bool {
        let (Some(text), Some(a)) = (self.event.free_text(), &self.assessment) else { return false };
        let command = Command::parse(text).is_some();
        let lexicon: Vec<Signal> = a.signals.iter().copied().filter(|s| *s != Signal::Semantic).collect();
        if matches!(state, Some(State::Casework { .. })) {
            !command && Assessment::from_signals(lexicon).is_urgent() && !asks_another(text)
        } else {
            a.is_urgent() && (!command || !lexicon.is_empty())
        }
    }
}

/// The writer speaking of themself, in the folded spelling of [`readings`]: "я", "мне",
/// "мен", "маған", "өзім" …
const FIRST_PERSON: &[&str] = &[
    "я",
    "мне",
    "меня",
    "мнои",
    "мной",
    "мои",
    "мой",
    "моя",
    "мое",
    "моих",
    "моего",
    "моеи",
    "моей",
    "мен",
    "маган",
    "мени",
    "менин",
    "менде",
    "менен",
    "озим",
    "озиме",
    "озимди",
    "озимнин",
];

/// A question put to someone else: it ends with "?" and the writer never speaks of
/// themself. «Есть ли у вас мысли о том, чтобы уйти из жизни?» is a psychologist's
/// question, not her crisis.
fn asks_another(text: &str) -> bool {
    text.trim_end().ends_with('?')
        && readings(text).iter().all(|words| words.iter().all(|w| !FIRST_PERSON.contains(&w.as_str())))
}

/// Decides what an event leads to. `state` is the stored state, `None` when there is
/// none or it could not be read; `case` is the person's open case.
pub fn decide(
    guide: &Guide,
    user: Option<&User>,
    state: Option<State>,
    case: Option<&Case>,
    understood: &Understood,
) -> Decision {
    let event = &understood.event;
    // Safety first: every piece of free text was assessed, in every state, before
    // onboarding is finished and after consent was refused (invariant 1).
    if let (Some(text), Some(assessment)) = (event.free_text(), &understood.assessment) {
        let lang = user.and_then(|u| u.language).or_else(|| lang::detect(text));
        let command = Command::parse(text).is_some();
        if understood.is_urgent(state.as_ref()) {
            let mut decision = crisis::urgent(user, lang, case, text, assessment);
            if matches!(state, Some(State::Casework { .. })) {
                // A psychologist's own words of crisis do not go on to the parent they help.
                decision.screens.push(Screen::new("staff-not-relayed"));
            }
            return decision;
        }
        match (user, case) {
            // While a case is open, the parent's words go to the psychologist.
            (Some(u), Some(case)) if !command => return crisis::relay(u, case, text),
            (_, None) if !command && assessment.risk == Risk::Support => return crisis::support(user, lang),
            _ => {}
        }
    }
    let state = settle(user, state);
    match event {
        Event::Text { text } => match Command::parse(text) {
            Some(Command::Staff) => redeem(user, state, text),
            Some(command) => on_command(guide, user, state, command),
            None => on_text(guide, user, state, text, understood),
        },
        Event::Button { data, .. } => match Action::decode(data) {
            Some(action) => on_action(guide, user, state, case, action),
            None => current(user, state),
        },
        Event::Media { media, .. } => on_media(user, state, *media),
    }
}

/// The state a person can really be in, whatever was stored: no language means
/// choosing one; no consent keeps them in onboarding; consent given skips it.
fn settle(user: Option<&User>, state: Option<State>) -> State {
    let Some(user) = user.filter(|u| u.language.is_some()) else {
        return State::ChoosingLanguage;
    };
    let state = state.unwrap_or(State::Menu);
    if user.consented() {
        match state {
            State::Consent | State::Declined => State::Menu,
            other => other,
        }
    } else {
        match state {
            State::ChoosingLanguage | State::Consent | State::Declined => state,
            _ if user.consent_refused_at.is_some() => State::Declined,
            _ => State::Consent,
        }
    }
}

/// The screen that belongs to a state.
fn screen_of(user: Option<&User>, state: &State) -> Screen {
    match (state, user) {
        (State::ChoosingLanguage, _) | (_, None) => onboarding::language(),
        (State::Consent, _) => onboarding::consent(),
        (State::Declined, _) => onboarding::declined(),
        (State::Menu, _) => menu::main(),
        (State::ConfirmErase, _) => privacy::confirm_erase(),
        (State::Casework { .. }, _) => menu::main(),
    }
}

/// Shows where the person is: the answer to anything that does not fit.
fn current(user: Option<&User>, state: State) -> Decision {
    let screen = screen_of(user, &state);
    Decision::show(user, state, screen)
}

fn on_command(guide: &Guide, user: Option<&User>, state: State, command: Command) -> Decision {
    let consented = user.is_some_and(User::consented);
    match (command, user) {
        (Command::Start, Some(u)) if consented => Decision::show(Some(u), State::Menu, menu::main()),
        (Command::Start, Some(u)) if u.language.is_some() => {
            Decision::show(Some(u), State::Consent, onboarding::consent())
        }
        (Command::Start | Command::Lang, _) => Decision::show(user, State::ChoosingLanguage, onboarding::language()),
        (Command::Menu, _) if consented => Decision::show(user, State::Menu, menu::main()),
        (Command::Menu, _) => with_note(user, state, "not-ready"),
        (Command::Help, _) => with_note(user, state, "help"),
        (Command::MyData, Some(u)) => Decision::show(Some(u), state, privacy::my_data(guide, u)),
        (Command::Delete, Some(u)) => Decision::show(Some(u), State::ConfirmErase, privacy::confirm_erase()),
        (Command::MyData | Command::Delete, None) => with_note(user, state, "mydata-nothing"),
        (Command::Staff | Command::Unknown, _) => with_note(user, state, "unknown-command"),
    }
}

/// "/staff CODE Name": anyone may try a code; only a valid one gives a role.
fn redeem(user: Option<&User>, state: State, text: &str) -> Decision {
    let mut words = text.split_whitespace().skip(1);
    let Some(code) = words.next() else {
        return with_note(user, state, "unknown-command");
    };
    let name = words.collect::<Vec<_>>().join(" ");
    Decision {
        lang: user.and_then(|u| u.language),
        effects: vec![Effect::Redeem { code: code.to_string(), name }],
        ..Decision::default()
    }
}

/// The current screen with a short note above it.
fn with_note(user: Option<&User>, state: State, note: &'static str) -> Decision {
    let screen = screen_of(user, &state).after(note);
    Decision::show(user, state, screen)
}

/// Words typed outside a question of another flow: the action they ask for, or else a
/// question for the services guide.
fn on_text(guide: &Guide, user: Option<&User>, state: State, text: &str, understood: &Understood) -> Decision {
    match (state, user) {
        (State::ChoosingLanguage, _) => match language_named(text) {
            Some(lang) => choose_language(user, lang),
            None => current(user, State::ChoosingLanguage),
        },
        (State::Menu, Some(u)) if u.consented() => {
            menu::typed(guide, u, understood.intent.unwrap_or(Intent::Other), &understood.hits)
        }
        (state, _) => current(user, state),
    }
}

/// A language typed by name instead of pressed.
fn language_named(text: &str) -> Option<Lang> {
    match normalize(text).as_str() {
        "қазақша" | "қазақ" | "казахский" | "kazakh" | "kz" | "kk" | "qazaqsha" | "kazaksha" => {
            Some(Lang::Kk)
        }
        "русский" | "орысша" | "russian" | "ru" | "rus" | "russkiy" => Some(Lang::Ru),
        _ => None,
    }
}

fn choose_language(user: Option<&User>, lang: Lang) -> Decision {
    let consented = user.is_some_and(User::consented);
    let (state, screen) = if consented {
        (State::Menu, menu::main().after("lang-changed"))
    } else {
        (State::Consent, onboarding::consent())
    };
    Decision {
        lang: Some(lang),
        state: Some(state),
        screens: vec![screen],
        effects: vec![Effect::ChooseLanguage(lang)],
        in_place: true,
    }
}

fn on_action(guide: &Guide, user: Option<&User>, state: State, case: Option<&Case>, action: Action) -> Decision {
    match (action, user, &state) {
        (Action::Plan(yes), Some(u), _) => crisis::plan_answer(u, yes),
        (Action::Thanks, Some(u), _) => with_note(Some(u), state, "support-thanks-answer").pressed(),
        // After the case, the parent is back where the crisis interrupted them.
        (Action::Rate(case, rating), Some(u), _) => Decision {
            effects: vec![Effect::Rate { case, rating }],
            ..with_note(Some(u), state, "rate-thanks").pressed()
        },
        (Action::Language(lang), _, State::ChoosingLanguage) => choose_language(user, lang),
        (Action::Consent(true), Some(u), State::Consent | State::Declined) => Decision {
            effects: vec![Effect::Consent(true)],
            ..Decision::show(Some(u), State::Menu, menu::main().after("consent-thanks")).pressed()
        },
        (Action::Consent(false), Some(u), State::Consent) => Decision {
            effects: vec![Effect::Consent(false)],
            ..Decision::show(Some(u), State::Declined, onboarding::declined()).pressed()
        },
        (Action::ReviewConsent, Some(u), State::Declined) => {
            Decision::show(Some(u), State::Consent, onboarding::consent()).pressed()
        }
        (Action::Menu(item), Some(u), _) if u.consented() => menu::open(guide, u, item, case).pressed(),
        (Action::Services(to), Some(u), _) if u.consented() => services::press(guide, u, case, to),
        (Action::Erase(true), Some(u), State::ConfirmErase) => Decision {
            lang: u.language,
            screens: vec![Screen::new("delete-done")],
            effects: vec![Effect::Erase],
            in_place: true,
            ..Decision::default()
        },
        (Action::Erase(false), Some(u), State::ConfirmErase) => {
            let state = settle(Some(u), Some(State::Menu));
            let screen = screen_of(Some(u), &state).after("delete-kept");
            Decision::show(Some(u), state, screen).pressed()
        }
        // A stale or out-of-place button: show where the person is, no error.
        _ => current(user, state),
    }
}

fn on_media(user: Option<&User>, state: State, media: Media) -> Decision {
    let voice = media == Media::Voice;
    let mut screen = screen_of(user, &state).after(if voice { "voice-not-read" } else { "media-not-read" });
    if voice && user.is_some_and(User::consented) {
        // Someone who sends a voice note may be in no state to type.
        screen.buttons.insert(0, vec![Button::new("menu-talk", Action::Menu(MenuItem::Talk))]);
    }
    Decision::show(user, state, screen)
}

#[cfg(test)]
mod tests {
    use super::asks_another;

    #[test]
    fn a_question_to_the_parent_is_not_the_writers_own_crisis() {
        for text in [
            "Есть ли у вас сейчас мысли о том, чтобы уйти из жизни?",
            "Сізде бүгін өзіңізге зиян келтіру ойы бар ма?",
            "Vy dumali, kak imenno?",
        ] {
            assert!(asks_another(text), "{text}");
        }
        for text in [
            "Я сегодня ночью всё закончу",
            "Зачем мне жить?",
            "Мен не үшін өмір сүрем?",
            "Есть ли смысл, если я больше не могу?",
            "menin omirim kimge kerek?",
        ] {
            assert!(!asks_another(text), "{text}");
        }
    }
}
