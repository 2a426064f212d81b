//! The services guide: topics → entries → a card with the steps; the parent's region
//! filters what does not apply there; a question in the parent's own words finds the
//! best three entries; "Ask a person" opens a question for staff. Pure, like the rest of
//! the router: the catalogue and the search results come in, a decision goes out.
//!
//! Planned measures are never offered as something to apply for: their card says what
//! the state plans and by when, and what can be done now instead.

use crate::cases::{Case, Priority};
use crate::conversation::{Decision, Effect};
use crate::screen::{Action, Button, MenuItem, Msg, Nav, Screen};
use crate::state::State;
use crate::storage::User;
use qamqor_models::Lang;
use qamqor_models::catalog::{Entry, Status};
use qamqor_models::search::{Guide, Hit};

/// Entries or regions per page: with "more" and "back" they fit a WhatsApp list (10 rows).
const PAGE: usize = 8;
/// Search results shown.
const FOUND: usize = 3;

fn nav(label: &'static str, to: Nav) -> Button {
    Button::new(label, Action::Services(to))
}

/// A button whose label is catalogue text, already in the parent's language.
fn labelled(label: &str, to: Nav) -> Button {
    Button { label: Msg::plain(label), action: Action::Services(to) }
}

/// An entry's steps, numbered as the card shows them.
fn numbered(steps: &[String]) -> String {
    steps.iter().enumerate().map(|(i, s)| format!("{}. {s}", i + 1)).collect::<Vec<_>>().join("\n")
}

fn lang(user: &User) -> Lang {
    user.lang()
}

/// "Find services": the topics, or first the region question.
pub fn home(guide: &Guide, user: &User) -> Decision {
    match &user.region {
        None => regions(guide, user, 0, true),
        Some(_) => Decision::show(Some(user), State::Menu, topics(guide, user, user.region.as_deref())),
    }
}

fn topics(guide: &Guide, user: &User, region: Option<&str>) -> Screen {
    let lang = lang(user);
    let region = region.and_then(|r| guide.catalog.region(r)).map_or("—", |r| r.name(lang));
    let mut screen = Screen::of(Msg::new("services-home").text("region", region));
    for pair in guide.catalog.categories.chunks(2) {
        screen = screen.row(pair.iter().map(|c| labelled(c.name(lang), Nav::Category(c.id.clone(), 0))).collect());
    }
    screen
        .row(vec![nav("services-ask", Nav::Ask(String::new())), nav("services-change-region", Nav::Regions(0))])
        .row(vec![Button::new("menu-open", Action::Menu(MenuItem::Open))])
}

/// A page of the regions; `first` when the parent has never chosen one.
fn regions(guide: &Guide, user: &User, page: u8, first: bool) -> Decision {
    let lang = lang(user);
    let all = &guide.catalog.regions;
    let pages = all.len().div_ceil(PAGE).max(1);
    let page = (page as usize).min(pages - 1);
    let mut screen = Screen::new(if first { "services-region-first" } else { "services-region-ask" });
    for pair in all.iter().skip(page * PAGE).take(PAGE).collect::<Vec<_>>().chunks(2) {
        screen = screen.row(pair.iter().map(|r| labelled(r.name(lang), Nav::Region(r.id.clone()))).collect());
    }
    screen = screen.row(pager(page, pages, Nav::Regions));
    Decision::show(Some(user), State::Menu, screen)
}

/// "◀" and "▶" between pages, as far as there are pages on either side.
fn pager(page: usize, pages: usize, to: impl Fn(u8) -> Nav) -> Vec<Button> {
    let mut row = Vec::new();
    if page > 0 {
        row.push(nav("services-prev", to(page as u8 - 1)));
    }
    if page + 1 < pages {
        row.push(nav("services-more", to(page as u8 + 1)));
    }
    row
}

/// The entries of a topic that apply in the parent's region: what exists first, plans last.
fn listed<'a>(guide: &'a Guide, user: &User, category: &str) -> Vec<&'a Entry> {
    let mut entries: Vec<&Entry> = guide
        .catalog
        .entries
        .iter()
        .filter(|e| e.category == category && e.applies_in(user.region.as_deref()))
        .collect();
    entries.sort_by_key(|e| e.status == Status::Planned);
    entries
}

fn category(guide: &Guide, user: &User, id: &str, page: u8) -> Decision {
    let Some(category) = guide.catalog.category(id) else { return home(guide, user) };
    let lang = lang(user);
    let entries = listed(guide, user, id);
    let pages = entries.len().div_ceil(PAGE).max(1);
    let page = (page as usize).min(pages - 1);
    let shown = &entries[page * PAGE..entries.len().min((page + 1) * PAGE)];
    let mut screen = Screen::of(
        Msg::new("services-category")
            .text("name", category.name(lang))
            .text("page", (page + 1).to_string())
            .text("pages", pages.to_string()),
    );
    let plans: Vec<String> = shown.iter().filter(|e| e.status == Status::Planned).map(|e| plan_line(e, lang)).collect();
    if !plans.is_empty() {
        screen.parts.push(Msg::new("services-plans").text("list", plans.join("\n")));
    }
    for e in shown {
        screen = screen.row(vec![labelled(&e.local(lang).button, Nav::Entry(e.id.clone()))]);
    }
    let id = id.to_string();
    screen = screen.row(pager(page, pages, |p| Nav::Category(id.clone(), p)));
    screen = screen.row(vec![nav("services-topics", Nav::Home)]);
    Decision::show(Some(user), State::Menu, screen)
}

/// "• Title — by 02.2027" for a planned measure.
fn plan_line(e: &Entry, lang: Lang) -> String {
    format!("• {} — {}", e.local(lang).title, due(e))
}

/// A plan's due date as parents read it: "02.2027".
fn due(e: &Entry) -> String {
    match e.due.as_deref().and_then(|d| d.split_once('-')) {
        Some((year, month)) => format!("{month}.{year}"),
        None => String::from("—"),
    }
}

/// An entry's card: what it is, who can get it, the steps, how current it is.
fn card(guide: &Guide, user: &User, e: &Entry) -> Screen {
    let lang = lang(user);
    let l = e.local(lang);
    let mut screen = Screen::of(Msg::plain(&l.title));
    match e.status {
        Status::Planned => screen.parts.push(Msg::new("services-planned").text("due", due(e))),
        Status::Pilot => {
            let names: Vec<&str> =
                e.regions.iter().filter_map(|r| guide.catalog.region(r)).map(|r| r.name(lang)).collect();
            screen.parts.push(Msg::new("services-pilot").text("regions", names.join(", ")));
        }
        Status::Exists => {}
    }
    screen.parts.push(Msg::plain(&l.summary));
    screen.parts.push(Msg::new("services-who").text("text", &l.eligible));
    let how = if e.status == Status::Planned { "services-now" } else { "services-how" };
    screen.parts.push(Msg::new(how).text("steps", numbered(&l.steps)));
    if !e.links.is_empty() {
        screen.parts.push(Msg::plain(e.links.join("\n")));
    }
    screen.parts.push(Msg::new("services-as-of").text("date", as_of(&e.as_of)));
    if e.status != Status::Planned {
        screen = screen.row(vec![nav("services-need", Nav::Next(e.id.clone()))]);
    }
    screen
        .row(vec![nav("services-ask", Nav::Ask(e.id.clone()))])
        .row(vec![nav("services-back", Nav::Category(e.category.clone(), 0))])
}

/// "2026-01-29" → "29.01.2026"; "2025" stays.
fn as_of(date: &str) -> String {
    date.split('-').rev().collect::<Vec<_>>().join(".")
}

/// "This is what I need": the steps again as a new message the parent keeps, the first
/// one singled out, and a person to ask if they get stuck.
fn next(user: &User, e: &Entry) -> Decision {
    let l = e.local(lang(user));
    let screen = Screen::of(Msg::new("services-next").text("title", &l.title).text("steps", numbered(&l.steps)))
        .row(vec![nav("services-ask", Nav::Ask(e.id.clone()))])
        .row(vec![nav("services-topics", Nav::Home), Button::new("menu-open", Action::Menu(MenuItem::Open))]);
    Decision::show(Some(user), State::Menu, screen)
}

/// A question for a person: a normal case, the lowest priority, in the crisis queue.
/// The parent writes the question itself next; it goes to whoever takes the case.
fn ask(guide: &Guide, user: &User, open: Option<&Case>, about: &str) -> Decision {
    let mut decision = Decision { lang: user.language, ..Decision::default() };
    if open.is_some() {
        decision.screens.push(Screen::new("talk-already-open"));
        return decision;
    }
    let mut signals = vec![String::from("question")];
    let mut screen = Screen::new("services-asked");
    if let Some(e) = guide.catalog.entry(about) {
        signals.push(format!("about:{}", e.id));
        screen = Screen::of(Msg::new("services-asked-about").text("title", &e.local(lang(user)).title));
    }
    decision.effects.push(Effect::OpenCase { priority: Priority::Normal, child_safety: false, signals });
    decision.screens.push(screen);
    decision
}

/// A press on a button of the guide.
pub fn press(guide: &Guide, user: &User, open: Option<&Case>, to: Nav) -> Decision {
    let entry = |id: &str| guide.catalog.entry(id);
    match to {
        Nav::Home => home(guide, user).pressed(),
        Nav::Category(id, page) => category(guide, user, &id, page).pressed(),
        Nav::Entry(id) => match entry(&id) {
            Some(e) => Decision::show(Some(user), State::Menu, card(guide, user, e)).pressed(),
            None => home(guide, user).pressed(),
        },
        // A new message, not an edit: the plan stays in the chat.
        Nav::Next(id) => match entry(&id) {
            Some(e) => next(user, e),
            None => home(guide, user).pressed(),
        },
        Nav::Ask(about) => ask(guide, user, open, &about),
        Nav::Regions(page) => regions(guide, user, page, false).pressed(),
        Nav::Region(id) => match guide.catalog.region(&id) {
            Some(region) => Decision {
                effects: vec![Effect::SetRegion(region.id.clone())],
                ..Decision::show(
                    Some(user),
                    State::Menu,
                    topics(guide, user, Some(&region.id)).after("services-region-saved"),
                )
                .pressed()
            },
            None => regions(guide, user, 0, user.region.is_none()).pressed(),
        },
    }
}

/// A question typed in the menu: the best three entries that apply in the parent's
/// region, or a kind "nothing found" with a person to ask.
pub fn found(guide: &Guide, user: &User, hits: &[Hit]) -> Decision {
    let lang = lang(user);
    let entries: Vec<&Entry> = hits
        .iter()
        .map(|h| &guide.catalog.entries[h.entry])
        .filter(|e| e.applies_in(user.region.as_deref()))
        .take(FOUND)
        .collect();
    let mut screen = if entries.is_empty() {
        Screen::new("services-not-found")
    } else {
        let mut screen = Screen::new("services-found");
        for e in &entries {
            let line = match e.status {
                Status::Planned => Msg::new("services-found-plan").text("due", due(e)),
                _ => Msg::new("services-found-line"),
            };
            screen.parts.push(line.text("title", &e.local(lang).title));
        }
        for e in &entries {
            screen = screen.row(vec![labelled(&e.local(lang).button, Nav::Entry(e.id.clone()))]);
        }
        screen
    };
    screen = screen
        .row(vec![nav("services-ask", Nav::Ask(String::new())), nav("services-topics", Nav::Home)])
        .row(vec![Button::new("menu-open", Action::Menu(MenuItem::Open))]);
    Decision::show(Some(user), State::Menu, screen)
}
