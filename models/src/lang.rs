//! Which of Qamqor's two languages a text is written in.

use serde::{Deserialize, Serialize};

/// The languages Qamqor speaks. A parent chooses one; the bot remembers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Kk,
    Ru,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Kk, Lang::Ru];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Kk => "kk",
            Lang::Ru => "ru",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "kk" => Some(Lang::Kk),
            "ru" => Some(Lang::Ru),
            _ => None,
        }
    }
}

/// Letters that Kazakh Cyrillic has and Russian does not.
const KAZAKH_LETTERS: &str = "әғқңөұүһіӘҒҚҢӨҰҮҺІ";

/// Guesses the language of a text from its script: Kazakh letters mean Kazakh, other
/// Cyrillic means Russian. Latin-script text gives `None`; the caller then speaks both.
/// Used only before a parent has chosen a language.
pub fn detect(text: &str) -> Option<Lang> {
    if text.chars().any(|c| KAZAKH_LETTERS.contains(c)) {
        Some(Lang::Kk)
    } else if text.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c)) {
        Some(Lang::Ru)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_decides_the_language() {
        assert_eq!(detect("Сәлеметсіз бе"), Some(Lang::Kk));
        assert_eq!(detect("Здравствуйте"), Some(Lang::Ru));
        assert_eq!(detect("salem"), None);
        assert_eq!(detect("🙂"), None);
    }
}
