//! The person's data rights: see everything kept (/mydata), erase all of it (/delete).

use crate::screen::{Action, Button, MenuItem, Msg, Screen};
use crate::storage::User;
use qamqor_models::Lang;
use qamqor_models::search::Guide;

pub fn my_data(guide: &Guide, user: &User) -> Screen {
    let language = match user.language {
        Some(Lang::Ru) => "lang-button-ru",
        _ => "lang-button-kk",
    };
    let consent = match (user.consent_at, user.consent_refused_at) {
        (Some(at), _) => Msg::new("mydata-consent-given").text("at", local_time(at)),
        (None, Some(at)) => Msg::new("mydata-consent-refused").text("at", local_time(at)),
        (None, None) => Msg::new("mydata-consent-none"),
    };
    let lang = user.lang();
    let region = match user.region.as_deref().and_then(|r| guide.catalog.region(r)) {
        Some(region) => Msg::plain(region.name(lang)),
        None => Msg::new("mydata-region-none"),
    };
    let msg = Msg::new("mydata")
        .msg("language", Msg::new(language))
        .msg("region", region)
        .msg("consent", consent)
        .text("pseudonym", user.pseudonym.clone())
        .text("since", local_time(user.created_at));
    let screen = Screen::of(msg);
    if user.consented() { screen.row(vec![Button::new("menu-open", Action::Menu(MenuItem::Open))]) } else { screen }
}

pub fn confirm_erase() -> Screen {
    Screen::new("delete-confirm")
        .row(vec![Button::new("delete-yes", Action::Erase(true)), Button::new("delete-no", Action::Erase(false))])
}

/// A stored time as Kazakhstan shows it: the tz database's Asia/Almaty, not a fixed offset.
pub fn local_time(ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => t.to_zoned(crate::duty::zone()).strftime("%d.%m.%Y %H:%M").to_string(),
        Err(_) => String::from("—"),
    }
}

#[cfg(test)]
mod tests {
    use super::local_time;

    #[test]
    fn times_are_shown_in_kazakhstan_time() {
        // 2026-11-22 05:00 UTC is 10:00 in Almaty (UTC+5 since 1 March 2024).
        assert_eq!(local_time(1_795_323_600_000), "22.11.2026 10:00");
        // Before 1 March 2024 Almaty was UTC+6: 2024-01-15 05:00 UTC was 11:00.
        assert_eq!(local_time(1_705_294_800_000), "15.01.2024 11:00");
    }
}
