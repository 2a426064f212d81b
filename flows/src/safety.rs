//! Safety replies: what a person who may be in danger sees at once, in any state.

use crate::screen::Screen;

/// Emergency contacts, warmly. Never repeats what the person wrote: someone else may
/// be reading the phone.
pub fn urgent() -> Screen {
    Screen::new("safety-urgent")
}
