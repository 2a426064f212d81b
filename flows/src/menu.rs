//! The parent's main menu, pressed or typed. Entries whose capability is still being
//! built say so.

use crate::cases::Case;
use crate::conversation::Decision;
use crate::screen::{Action, Button, MenuItem, Screen};
use crate::state::State;
use crate::storage::User;
use crate::{crisis, onboarding, privacy, services};
use qamqor_models::Intent;
use qamqor_models::search::{Guide, Hit};

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

/// Words typed in the menu: the action they ask for, as if its entry were pressed. A
/// question, or anything else, goes to the services guide. The distress detector has
/// read the words before this (invariant 1); an intent never lowers what it found.
pub fn typed(guide: &Guide, user: &User, intent: Intent, hits: &[Hit]) -> Decision {
    let note = |note| Decision::show(Some(user), State::Menu, main().after(note));
    match intent {
        Intent::Book => note("coming-book"),
        Intent::Cancel | Intent::Move | Intent::MyBookings => note("coming-bookings"),
        Intent::JoinGroup => note("coming-groups"),
        Intent::LeaveGroup => note("coming-groups-leave"),
        // A case is a person's time: typed words ask first, the button opens it.
        Intent::Talk => Decision::show(
            Some(user),
            State::Menu,
            Screen::new("talk-offer")
                .row(vec![Button::new("support-talk", Action::Menu(MenuItem::Talk))])
                .row(vec![Button::new("menu-open", Action::Menu(MenuItem::Open))]),
        ),
        Intent::Language => Decision::show(Some(user), State::ChoosingLanguage, onboarding::language()),
        Intent::MyData => Decision::show(Some(user), State::Menu, privacy::my_data(guide, user)),
        Intent::Delete => Decision::show(Some(user), State::ConfirmErase, privacy::confirm_erase()),
        Intent::Help => note("help"),
        Intent::Greeting => note("greeting-answer"),
        Intent::Thanks => note("thanks-answer"),
        Intent::Service | Intent::Other => services::found(guide, user, hits),
    }
}
