//! The parent's main menu. Entries whose capability is still being built say so.

use crate::cases::Case;
use crate::conversation::Decision;
use crate::screen::{Action, Button, MenuItem, Screen};
use crate::state::State;
use crate::storage::User;
use crate::{crisis, onboarding, privacy, services};
use qamqor_models::search::Guide;

pub fn main() -> Screen {
    let b = |label, item| Button::new(label, Action::Menu(item));
    Screen::new("menu-title")
        .row(vec![b("menu-services", MenuItem::Services), b("menu-book", MenuItem::Book)])
        .row(vec![b("menu-groups", MenuItem::Groups), b("menu-talk", MenuItem::Talk)])
        .row(vec![b("menu-language", MenuItem::Language), b("menu-mydata", MenuItem::MyData)])
}

/// A press on a menu entry by a person who has accepted the terms.
pub fn open(guide: &Guide, user: &User, item: MenuItem, case: Option<&Case>) -> Decision {
    let coming = |note| Decision::show(Some(user), State::Menu, main().after(note));
    match item {
        MenuItem::Open => Decision::show(Some(user), State::Menu, main()),
        MenuItem::Services => services::home(guide, user),
        MenuItem::Book => coming("coming-book"),
        MenuItem::Groups => coming("coming-groups"),
        MenuItem::Talk => crisis::talk(user, case),
        MenuItem::Language => Decision::show(Some(user), State::ChoosingLanguage, onboarding::language()),
        MenuItem::MyData => Decision::show(Some(user), State::Menu, privacy::my_data(guide, user)),
    }
}
