//! The services guide end to end: browsing by topic in both languages, the region asked
//! once and filtering what does not apply, cards with steps, planned measures shown as
//! plans, search from free text, and "Ask a person" reaching the staff queue. On SQLite
//! and PostgreSQL, through the real engine, detector, catalogue and outbox.

use qamqor_tests::{Person, TestDb, guide, labels, only, psychologist, scalar, texts};

/// An entry's button label in a language, from the catalogue.
fn button(id: &str, kk: bool) -> String {
    let guide = guide();
    let entry = guide.catalog.entry(id).unwrap_or_else(|| panic!("no entry {id}"));
    if kk { entry.kk.button.clone() } else { entry.ru.button.clone() }
}

fn title(id: &str, kk: bool) -> String {
    let guide = guide();
    let entry = guide.catalog.entry(id).unwrap();
    if kk { entry.kk.title.clone() } else { entry.ru.title.clone() }
}

#[tokio::test]
async fn a_russian_parent_browses_by_topic_in_her_region_and_keeps_a_plan() {
    for db in TestDb::all().await {
        let engine = db.engine().await;
        let pool = engine.db().pool().clone();
        let mut parent = Person::onboarded(engine.clone(), "ru-browse", "Русский").await;

        // The region is asked the first time, a page of it at a time.
        let ask = only(parent.press("Найти услуги").await);
        assert!(ask.text.contains("где вы живёте"), "{}", ask.text);
        assert!(labels(&ask).contains(&"город Астана") && !labels(&ask).contains(&"Павлодарская область"));
        parent.press("Ещё ▶").await;
        let topics = only(parent.press("Павлодарская область").await);
        assert!(
            topics.text.contains("Запомнила регион") && topics.text.contains("Павлодарская область"),
            "{}",
            topics.text
        );
        assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM users WHERE region = 'pavlodar'").await, 1, "{}", db.name);
        for topic in ["Выплаты и пособия", "Лечение и реабилитация", "Обучение, ПМПК", "Телефоны помощи"]
        {
            assert!(labels(&topics).contains(&topic), "{topic} in {:?}", labels(&topics));
        }

        // A topic lists its entries, a page at a time; the home-rehabilitation pilot runs here.
        let list = only(parent.press("Лечение и реабилитация").await);
        assert!(list.text.contains("Лечение и реабилитация (1 из 2)"), "{}", list.text);
        let pilot = button("home-rehab-pilot", false);
        let mut page = list;
        if !labels(&page).contains(&pilot.as_str()) {
            page = only(parent.press("Ещё ▶").await);
            assert!(page.text.contains("(2 из 2)"), "{}", page.text);
        }
        assert!(labels(&page).contains(&pilot.as_str()), "{:?}", labels(&page));

        // The card: what it is, who can get it, numbered steps, how current it is.
        let card = only(parent.press(&pilot).await);
        for part in ["Это пилот", "Павлодарская область", "Кому:", "Как оформить:\n1. ", "Дата сведений: "]
        {
            assert!(card.text.contains(part), "{part:?} in {}", card.text);
        }
        assert_eq!(labels(&card), ["Мне это нужно", "Спросить человека", "◀ К списку"]);

        // "This is what I need": the steps again, as a message that stays in the chat.
        let plan = only(parent.press("Мне это нужно").await);
        assert!(plan.text.starts_with(&format!("Ваш план: {}", title("home-rehab-pilot", false))), "{}", plan.text);
        assert!(plan.text.contains("останется в чате"), "{}", plan.text);

        // Back to the list, and /mydata shows the region kept.
        parent.press("Все темы").await;
        let mine = texts(&parent.say("/mydata").await);
        assert!(mine.contains("Регион: Павлодарская область"), "{mine}");
    }
}

#[tokio::test]
async fn a_kazakh_parent_finds_the_benefit_and_asks_a_person() {
    for db in TestDb::all().await {
        let engine = db.engine_with_admins(&["admin-1"]).await;
        let pool = engine.db().pool().clone();
        let mut admin = Person::new(engine.clone(), "admin-1");
        let mut psy = psychologist(&engine, &mut admin, "psy-1", "Айгерим").await;
        admin.inbox().await;
        psy.inbox().await;

        let mut parent = Person::onboarded(engine.clone(), "kk-browse", "Қазақша").await;
        let ask = only(parent.press("Қызметтерді табу").await);
        assert!(ask.text.contains("қай өңірде тұрасыз"), "{}", ask.text);
        let topics = only(parent.press("Алматы қаласы").await);
        assert!(topics.text.contains("Өңіріңіз: Алматы қаласы"), "{}", topics.text);
        parent.press("Төлемдер мен жәрдемақы").await;
        let card = only(parent.press(&button("benefit-raising-child", true)).await);
        for part in [title("benefit-raising-child", true).as_str(), "Кімге:", "Қалай рәсімдеу керек:\n1. ", "бойынша"]
        {
            assert!(card.text.contains(part), "{part:?} in {}", card.text);
        }

        // A question for a person: a normal case in the staff queue, and when to expect
        // an answer (working hours: the test clock stands on a Monday morning).
        let asked = texts(&parent.press("Маманнан сұрау").await);
        assert!(asked.contains(&title("benefit-raising-child", true)) && asked.contains("60 минут"), "{asked}");
        assert_eq!(scalar(&pool, "SELECT priority FROM cases WHERE closed_at IS NULL").await, 1, "{}", db.name);
        let note = texts(&psy.inbox().await);
        assert!(note.contains("обычное") && note.contains("about:benefit-raising-child"), "{note}");
        // The question itself goes to the psychologist.
        parent.say("Екі балам бар, екеуіне де бола ма?").await;
        let case: i64 = scalar(&pool, "SELECT id FROM cases").await;
        let taken = texts(&psy.press(&format!("Взять #{case}")).await);
        assert!(taken.contains("Екі балам бар"), "{taken}");
    }
}

#[tokio::test]
async fn free_text_finds_the_best_three_in_every_script() {
    for db in TestDb::all().await {
        let engine = db.engine().await;
        let mut ru = Person::onboarded(engine.clone(), "search-ru", "Русский").await;
        let found = only(ru.say("как получить пособие").await);
        assert!(found.text.starts_with("Вот что нашла"), "{}", found.text);
        assert!(labels(&found).contains(&button("benefit-raising-child", false).as_str()), "{:?}", labels(&found));
        assert!(labels(&found).contains(&"Спросить человека"));

        let found = only(ru.say("posobie invalidnost").await);
        assert!(labels(&found).contains(&button("benefit-raising-child", false).as_str()), "{:?}", labels(&found));

        let mut kk = Person::onboarded(engine.clone(), "search-kk", "Қазақша").await;
        for (question, id) in [("жәрдемақы қалай аламын", "benefit-raising-child"), ("арба керек", "wheelchair")]
        {
            let found = only(kk.say(question).await);
            assert!(found.text.starts_with("Сұрағыңыз бойынша"), "{}", found.text);
            assert!(labels(&found).contains(&button(id, true).as_str()), "{question}: {:?}", labels(&found));
        }

        // Nothing sensible: a kind answer, a person to ask, the topics.
        let none = only(ru.say("рецепт плова").await);
        assert!(none.text.contains("Не нашла"), "{}", none.text);
        assert_eq!(labels(&none), ["Спросить человека", "Все темы", "Главное меню"]);
    }
}

#[tokio::test]
async fn a_planned_measure_is_shown_as_a_plan_never_as_available() {
    for db in TestDb::all().await {
        let engine = db.engine().await;
        let mut parent = Person::onboarded(engine.clone(), "planned", "Русский").await;
        let found = only(parent.say("будет ли бесплатный санаторий для детей с аутизмом").await);
        let plan = button("free-sanatorium-asd", false);
        assert!(labels(&found).contains(&plan.as_str()), "{:?}", labels(&found));
        assert!(found.text.contains("пока только план, срок — 03.2027"), "{}", found.text);

        let card = only(parent.press(&plan).await);
        assert!(card.text.contains("Это пока только план") && card.text.contains("03.2027"), "{}", card.text);
        assert!(
            card.text.contains("Что можно сделать сейчас:") && !card.text.contains("Как оформить:"),
            "{}",
            card.text
        );
        assert!(!labels(&card).contains(&"Мне это нужно"), "nothing to apply for: {:?}", labels(&card));
    }
}

#[tokio::test]
async fn the_region_hides_what_does_not_apply_there() {
    for db in TestDb::all().await {
        let engine = db.engine().await;
        let pilot = button("home-rehab-pilot", false);
        let mut astana = Person::onboarded(engine.clone(), "astana", "Русский").await;
        astana.press("Найти услуги").await;
        astana.press("город Астана").await;
        let mut seen = Vec::new();
        let mut page = only(astana.press("Лечение и реабилитация").await);
        loop {
            seen.extend(labels(&page).iter().map(|l| l.to_string()));
            if !labels(&page).contains(&"Ещё ▶") {
                break;
            }
            page = only(astana.press("Ещё ▶").await);
        }
        assert!(!seen.contains(&pilot), "a Pavlodar pilot is not offered in Astana: {seen:?}");
        let found = only(astana.say("реабилитация на дому пилот").await);
        assert!(!labels(&found).contains(&pilot.as_str()), "{:?}", labels(&found));

        // The region can be changed; then the pilot is there.
        astana.press("Все темы").await;
        astana.press("Сменить регион").await;
        astana.press("Ещё ▶").await;
        astana.press("Павлодарская область").await;
        let found = only(astana.say("реабилитация на дому пилот").await);
        assert!(labels(&found).contains(&pilot.as_str()), "{:?}", labels(&found));
    }
}

#[tokio::test]
async fn the_detector_sees_a_question_first() {
    let db = TestDb::sqlite();
    let engine = db.engine().await;
    let mut parent = Person::onboarded(engine.clone(), "first", "Русский").await;
    let answer = texts(&parent.say("не хочу больше жить, какие есть пособия").await);
    assert!(answer.contains("112") && !answer.contains("Вот что нашла"), "{answer}");
}
