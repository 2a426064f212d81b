use super::*;

fn risk(text: &str) -> Risk {
    assess(text).risk
}

fn has(text: &str, signal: Signal) -> bool {
    assess(text).signals.contains(&signal)
}

#[test]
fn every_pattern_keeps_its_words_through_normalisation() {
    for (signal, _, phrases) in lexicon::RULES {
        for phrase in *phrases {
            let words = readings(phrase).into_iter().next().unwrap_or_default();
            assert_eq!(words.len(), phrase.split_whitespace().count(), "{signal:?}: {phrase:?} splits differently");
        }
    }
}

#[test]
fn thoughts_of_death_are_high_in_every_script() {
    for text in [
        "Я больше не хочу жить",
        "ne hochu zhit, ustala",
        "Шаршадым, өлгім келеді",
        "sharshadym, olgim keledi",
        "şarşadym, ölgim keledi",
        "Өмір сүргім келмейді енді",
        "omir surgim kelmeidi",
        "не могу уже, өлгім келеді",
    ] {
        assert_eq!(risk(text), Risk::High, "{text}");
        assert!(has(text, Signal::Ideation), "{text}");
    }
}

#[test]
fn burden_and_self_harm_are_high() {
    for (text, signal) in [
        ("Иногда думаю, что всем будет лучше без меня.", Signal::Burden),
        ("Мен бәріне жүк болдым", Signal::Burden),
        ("menning ornymda basqa bolsa... mensiz barine jaqsy", Signal::Burden),
        ("Опять режу себя по ночам", Signal::SelfHarm),
        ("Қолымды кестім", Signal::SelfHarm),
    ] {
        assert!(has(text, signal), "{text}: {:?}", assess(text));
        assert!(assess(text).risk >= Risk::High, "{text}");
    }
}

#[test]
fn a_plan_means_goodbye_or_act_is_imminent() {
    for (text, signal) in [
        ("Написала прощальное письмо детям", Signal::Goodbye),
        ("Қоштасу хатын жаздым", Signal::Goodbye),
        ("Накопила таблетки, хватит", Signal::Means),
        ("nakopila tabletki", Signal::Means),
        ("Дәрілерді жинап қойдым", Signal::Means),
        ("Я всё решила, детей заберёт сестра", Signal::Plan),
        ("Бәрін шештім, балаларды әпкем алады", Signal::Plan),
        ("Стою на крыше", Signal::ActInProgress),
        ("Көпірде тұрмын", Signal::ActInProgress),
    ] {
        let a = assess(text);
        assert!(a.signals.contains(&signal), "{text}: {a:?}");
        assert_eq!(a.risk, Risk::Imminent, "{text}");
    }
}

#[test]
fn thoughts_of_death_with_a_time_become_imminent() {
    assert_eq!(risk("Сегодня ночью я покончу с собой"), Risk::Imminent);
    assert_eq!(risk("Бүгін өлгім келеді, бәрі бітсін"), Risk::Imminent);
    assert_eq!(risk("Хочу умереть"), Risk::High);
}

#[test]
fn exhaustion_loneliness_guilt_and_shock_are_support() {
    for text in [
        "Я так устала, сил нет",
        "ustala ot vsego, sil net",
        "Шаршадым, күшім жоқ",
        "Каждый день плачу",
        "Күнде жылаймын",
        "Я совсем одна со всем этим",
        "Жалғызбын, ешкім көмектеспейді",
        "Я плохая мать",
        "Мен жаман анамын",
        "Вчера поставили диагноз, я в шоке",
        "Диагноз қойды, есімнен танып қалдым",
        "Жить хочу, просто устала",
    ] {
        assert_eq!(risk(text), Risk::Support, "{text}: {:?}", assess(text));
    }
}

#[test]
fn a_child_in_danger_is_flagged_and_dying_together_is_imminent() {
    for text in [
        "Боюсь, что ударю ребёнка",
        "Ашуланып баламды ұрып қоям ба деп қорқамын",
        "Муж опять поднял руку на сына",
        "Күйеуім тағы ұлыма қол көтерді",
        "Сын говорит, что хочет умереть",
        "Балам өлгісі келетінін айтады",
        "Отчим домогался дочки",
    ] {
        let a = assess(text);
        assert!(a.child_safety && a.is_urgent(), "{text}: {a:?}");
    }
    let together = assess("хочу умереть вместе с ребенком");
    assert!(together.child_safety);
    assert_eq!(together.risk, Risk::Imminent);
    assert_eq!(assess("Баламмен бірге өлгім келеді").risk, Risk::Imminent);
}

#[test]
fn hyperbole_negation_loss_and_services_questions_are_not_urgent() {
    for text in [
        "Умираю со смеху",
        "Күлкіден өлдім",
        "Жить хочу, просто тяжело",
        "Я не хочу умереть, я хочу, чтобы мне помогли",
        "Бабушка умерла в прошлом году, как оформить пособие?",
        "Как получить пособие на ребенка с инвалидностью?",
        "Жәрдемақы қалай аламын?",
        "Посоветуйте фильм о самоубийстве? шучу, про аутизм",
        "Ходим вместе с ребенком на занятия",
        "Ребенок прыгнул с качели и засмеялся",
        "Өлгім келмейді, тек көмек керек",
    ] {
        assert!(!assess(text).is_urgent(), "{text}: {:?}", assess(text));
    }
}

#[test]
fn a_ten_thousand_character_message_is_assessed() {
    let text = format!("{} хочу умереть", "очень длинный текст ".repeat(500));
    assert_eq!(risk(&text), Risk::High);
}

// TEMP_DUMP_BEGIN
#[test]
#[ignore]
fn temp_dump_train_support() {
    let all = crate::eval::dataset();
    let set = crate::eval::split(&all, crate::eval::Split::Train);
    for e in set {
        let a = assess(&e.text);
        if e.risk == Risk::Support && !e.child_safety && a.risk < Risk::Support {
            println!("SUPMISS: {}", e.text);
        }
        if e.risk == Risk::None && !e.child_safety && a.risk == Risk::Support {
            println!("NONE->SUP {:?}: {}", a.signals, e.text);
        }
    }
}
// TEMP_DUMP_END
