//! Distress detection: does this message say the writer, or a child, may be in danger?
//!
//! Every free-text message from a parent passes through [`assess`] before anything else
//! (DESIGN.md, safety invariant 1). This first layer is a lexicon of explicit phrases
//! in Kazakh and Russian, matched on normalised text; it is the safety net the measured
//! detector of issue 3 builds on, and the mode Qamqor falls back to without a model.

use crate::text::normalize;
use serde::{Deserialize, Serialize};

/// How urgently a person should reach the writer, from lowest to highest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    None,
    Support,
    High,
    Imminent,
}

/// What the detector concluded about one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Assessment {
    pub risk: Risk,
    /// Someone may hurt, or is hurting, a child — independent of `risk`.
    pub child_safety: bool,
}

impl Assessment {
    /// True when the writer must see emergency contacts at once.
    pub fn is_urgent(&self) -> bool {
        self.risk >= Risk::High || self.child_safety
    }
}

/// A plan, a time, a goodbye: acting now.
const IMMINENT: &[&str] = &[
    // ru
    "прощальное письмо",
    "прощальную записку",
    "таблетки уже",
    "сегодня покончу",
    "сегодня уйду из жизни",
    "стою на крыше",
    "стою у окна",
    "прыгну",
    // kk
    "қоштасу хат",
    "бүгін өзімді",
    "бүгін өмірмен",
    "терезеден секір",
    "дәрілерді жинап қойдым",
];

/// Thoughts of death or suicide, self-harm.
const HIGH: &[&str] = &[
    // ru
    "хочу умереть",
    "не хочу жить",
    "не хочется жить",
    "покончить с собой",
    "покончу с собой",
    "суицид",
    "самоубийств",
    "лучше бы меня не было",
    "всем будет лучше без меня",
    "не хочу просыпаться",
    "режу себя",
    // kk
    "өлгім келеді",
    "өмір сүргім келмейді",
    "өмір сүргім келмей",
    "өзімді өлтір",
    "өз өміріме қол жұмс",
    "асылып өл",
    "жоқ болғым келеді",
    "оянбасам екен",
    "менсіз бәріне жақсы",
];

/// A child in danger, including a parent thinking of dying together with the child.
const CHILD: &[&str] = &[
    // ru
    "ударю ребенка",
    "убью ребенка",
    "боюсь навредить ребенку",
    "бьет ребенка",
    "вместе с ребенком умереть",
    "умереть вместе с ребенком",
    // kk
    "баламды ұрып",
    "балама зиян",
    "баланы ұрады",
    "баламмен бірге өл",
];

/// Assesses one message. Pure and fast: no allocation beyond one normalised copy.
pub fn assess(text: &str) -> Assessment {
    let norm = normalize(text);
    let has = |phrases: &[&str]| phrases.iter().any(|p| norm.contains(p));
    let child_safety = has(CHILD);
    let together = norm.contains("вместе с ребенком") || norm.contains("баламмен бірге");
    let risk = if has(IMMINENT) || (child_safety && together) {
        Risk::Imminent
    } else if has(HIGH) {
        Risk::High
    } else {
        Risk::None
    };
    Assessment { risk, child_safety }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn risk(text: &str) -> Risk {
        assess(text).risk
    }

    #[test]
    fn explicit_thoughts_of_death_are_high_in_both_languages() {
        assert_eq!(risk("Я больше не хочу жить"), Risk::High);
        assert_eq!(risk("Иногда думаю, что всем будет лучше без меня."), Risk::High);
        assert_eq!(risk("Шаршадым, өлгім келеді"), Risk::High);
        assert_eq!(risk("Өмір сүргім келмейді енді"), Risk::High);
    }

    #[test]
    fn a_plan_or_a_goodbye_is_imminent() {
        assert_eq!(risk("Написала прощальное письмо детям"), Risk::Imminent);
        assert_eq!(risk("Бүгін өзімді өлтіремін"), Risk::Imminent);
    }

    #[test]
    fn a_child_in_danger_is_flagged_and_dying_together_is_imminent() {
        let a = assess("Боюсь, что ударю ребёнка");
        assert!(a.child_safety);
        assert!(a.is_urgent());
        let b = assess("хочу умереть вместе с ребенком");
        assert!(b.child_safety);
        assert_eq!(b.risk, Risk::Imminent);
        assert!(assess("Баламмен бірге өлгім келеді").child_safety);
    }

    #[test]
    fn hyperbole_negation_and_services_questions_are_not_urgent() {
        for text in [
            "Умираю со смеху",
            "Күлкіден өлдім",
            "Жить хочу, просто тяжело",
            "Как получить пособие на ребенка с инвалидностью?",
            "Жәрдемақы қалай аламын?",
        ] {
            assert!(!assess(text).is_urgent(), "{text}");
        }
    }
}
