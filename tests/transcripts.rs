//! Conversation transcripts: what a parent sees, step by step, in both languages, on
//! every database engine (SQLite always, PostgreSQL when configured).

use qamqor_flows::Outgoing;
use qamqor_tests::{Person, TestDb, labels, only, scalar};

const KAZAKH_LETTERS: &[char] = &['ә', 'ғ', 'қ', 'ң', 'ө', 'ұ', 'ү', 'һ', 'і'];

fn assert_has(message: &Outgoing, needle: &str) {
    assert!(message.text.contains(needle), "expected {needle:?} in:\n{}", message.text);
}

/// Russian text, apart from button labels that name both languages.
fn assert_russian(message: &Outgoing) {
    assert!(!message.text.contains(KAZAKH_LETTERS), "Kazakh letters in a Russian message:\n{}", message.text);
}

#[tokio::test]
async fn russian_parent_onboards_sees_her_data_and_erases_it() {
    for db in TestDb::all().await {
        let mut parent = Person::new(db.engine().await, "ru-parent");

        let choose = only(parent.say("/start").await);
        assert_has(&choose, "Выберите язык");
        assert_has(&choose, "Тілді таңдаңыз");
        assert_eq!(labels(&choose), ["Қазақша", "Русский"], "{}", db.name);

        let consent = only(parent.press("Русский").await);
        assert_russian(&consent);
        for needle in ["не заменяю врача", "112", "103", "/mydata", "/delete", "Принимаете?"] {
            assert_has(&consent, needle);
        }
        assert_eq!(labels(&consent), ["Принимаю", "Не принимаю"]);

        let menu = only(parent.press("Принимаю").await);
        assert_has(&menu, "Чем могу помочь?");
        assert_eq!(
            labels(&menu),
            ["Найти услуги", "Запись к психологу", "Группы родителей", "Чат с психологом", "Тіл / Язык", "Мои данные"]
        );

        let data = only(parent.say("/mydata").await);
        assert_russian(&data);
        assert_has(&data, "Язык: Русский");
        assert_has(&data, "Согласие: дано (");
        assert_eq!(labels(&data), ["Главное меню"]);

        let confirm = only(parent.say("/delete").await);
        assert_has(&confirm, "Отменить будет нельзя");
        assert_eq!(labels(&confirm), ["Да, удалить всё", "Нет, оставить"]);
        let done = only(parent.press("Да, удалить всё").await);
        assert_has(&done, "всё о вас удалено");

        // Nothing is left: the bot no longer knows her language or anything else.
        let after = only(parent.say("/mydata").await);
        assert_has(&after, "Я ничего о вас не храню");
        assert_has(&after, "Мен сіз туралы ештеңе сақтамаймын");
        assert_eq!(labels(&after), ["Қазақша", "Русский"]);
    }
}

#[tokio::test]
async fn kazakh_parent_onboards_sees_her_data_and_erases_it() {
    for db in TestDb::all().await {
        let mut parent = Person::new(db.engine().await, "kk-parent");
        parent.say("/start").await;

        let consent = only(parent.press("Қазақша").await);
        for needle in ["112", "103", "/mydata", "/delete", "Келісесіз бе?"] {
            assert_has(&consent, needle);
        }
        assert!(!consent.text.contains("Принимаете"), "{}", consent.text);
        assert_eq!(labels(&consent), ["Келісемін", "Келіспеймін"]);

        let menu = only(parent.press("Келісемін").await);
        assert_has(&menu, "Немен көмектесе аламын?");
        assert_eq!(
            labels(&menu),
            [
                "Қызметтерді табу",
                "Психологқа жазылу",
                "Ата-аналар топтары",
                "Психологпен сөйлесу",
                "Тіл / Язык",
                "Менің деректерім"
            ],
            "{}",
            db.name
        );

        let data = only(parent.press("Менің деректерім").await);
        assert_has(&data, "Тіл: Қазақша");
        assert_has(&data, "Келісім: берілді (");

        only(parent.say("/delete").await);
        let kept = only(parent.press("Жоқ, қалдыру").await);
        assert_has(&kept, "ештеңе өшірілмеді");
        assert_has(&kept, "Немен көмектесе аламын?");

        only(parent.say("/delete").await);
        let done = only(parent.press("Иә, бәрін өшіру").await);
        assert_has(&done, "барлық дерек өшірілді");
    }
}

#[tokio::test]
async fn declining_stores_only_the_refusal_and_the_door_stays_open() {
    for db in TestDb::all().await {
        let mut parent = Person::new(db.engine().await, "decliner");
        parent.say("/start").await;
        parent.press("Русский").await;

        let declined = only(parent.press("Не принимаю").await);
        assert_has(&declined, "Без согласия");
        assert_eq!(labels(&declined), ["Прочитать условия"]);

        // Menu entries are not reachable without consent.
        let menu = only(parent.say("/menu").await);
        assert_has(&menu, "сначала закончим первый шаг");

        let data = only(parent.say("/mydata").await);
        assert_has(&data, "Согласие: вы отказались (");

        only(parent.press("Прочитать условия").await);
        let menu = only(parent.press("Принимаю").await);
        assert_has(&menu, "Чем могу помочь?");
    }
}

#[tokio::test]
async fn language_can_be_changed_and_is_remembered() {
    for db in TestDb::all().await {
        let engine = db.engine().await;
        let mut parent = Person::onboarded(engine.clone(), "switcher", "Қазақша").await;

        only(parent.press("Тіл / Язык").await);
        let changed = only(parent.press("Русский").await);
        assert_has(&changed, "буду писать по-русски");
        assert_has(&changed, "Чем могу помочь?");

        // A new engine on the same database (a restart) still speaks Russian.
        let mut again = Person::new(db.engine().await, "switcher");
        again.last_buttons = parent.last_buttons.clone();
        let help = only(again.say("/help").await);
        assert_has(&help, "/mydata");
        assert_russian(&help);
    }
}

#[tokio::test]
async fn menu_entries_still_in_progress_say_so_honestly() {
    for db in TestDb::all().await {
        let mut parent = Person::onboarded(db.engine().await, "explorer", "Русский").await;

        let book = only(parent.press("Запись к психологу").await);
        assert_has(&book, "готовится");
        // "Chat with a psychologist" is real now: it opens a case (tests/crisis.rs).
        let talk = only(parent.press("Чат с психологом").await);
        assert_has(&talk, "напишет вам здесь");
        assert_has(&talk, "112");
    }
}

/// Sentences written for this test, in none of the labelled sets: a typed request reaches
/// its flow, or its honest "coming soon", and opens no case.
#[tokio::test]
async fn typed_requests_reach_their_flow_and_open_no_case() {
    for db in TestDb::all().await {
        let engine = db.engine().await;
        let pool = engine.db().pool().clone();
        let mut kk = Person::onboarded(engine.clone(), "kk-typist", "Қазақша").await;
        for (said, expected) in [
            ("Сәрсенбіге психологқа кеңеске жазылғым келеді", "жазылу"),
            ("psihologpen onlain kezdesuge jazylgym keledi", "жазылу"),
            ("Ertengı jazyluymdy toqtatqym keledı, bara almaimyn", "жазылу жоқ"),
            ("Аутизм бойынша ата-аналар тобына қосылғым келеді", "топтары"),
            ("toptyn chatynan shyqqym keledi", "ешбір топқа"),
        ] {
            let answer = only(kk.say(said).await);
            assert_has(&answer, expected);
            assert!(!answer.text.contains("112"), "{said}: no safety message for a request: {}", answer.text);
            assert_eq!(labels(&answer)[0], "Қызметтерді табу", "{said}: back at the menu");
        }
        let mut ru = Person::onboarded(engine.clone(), "ru-typist", "Русский").await;
        for (said, expected) in [
            ("Хочу перенести мою консультацию на пятницу", "нет записей"),
            ("hochu vyjti iz gruppy roditelej, spasibo", "ни в одной группе"),
            ("Можно записаться к психологу на следующей неделе?", "готовится"),
        ] {
            let answer = only(ru.say(said).await);
            assert_has(&answer, expected);
            assert!(!answer.text.contains("112"), "{said}: {}", answer.text);
        }
        // "Talk to a psychologist", typed, asks first; the button opens the case.
        let offer = only(ru.say("можно сейчас поговорить с живым психологом?").await);
        assert_has(&offer, "Позвать психолога?");
        assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM cases").await, 0, "{}: requests open no case", db.name);
        let called = only(ru.press("Поговорить с психологом сейчас").await);
        assert_has(&called, "напишет вам здесь");
        assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM cases").await, 1, "{}", db.name);
    }
}

/// A request does not hide a crisis written in the same message.
#[tokio::test]
async fn a_crisis_inside_a_request_still_escalates() {
    for db in TestDb::all().await {
        let engine = db.engine().await;
        let pool = engine.db().pool().clone();
        let mut kk = Person::onboarded(engine.clone(), "kk-request-crisis", "Қазақша").await;
        let answer =
            qamqor_tests::texts(&kk.say("Жазылуымды тоқтатқым келеді, бәрібір енді өмір сүргім келмейді").await);
        assert!(answer.contains("112"), "{}: {answer}", db.name);
        let mut ru = Person::onboarded(engine.clone(), "ru-request-crisis", "Русский").await;
        let answer =
            qamqor_tests::texts(&ru.say("отмените мою запись, мне уже ничего не нужно, я не хочу больше жить").await);
        assert!(answer.contains("112"), "{}: {answer}", db.name);
        assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM cases WHERE priority >= 2").await, 2, "{}", db.name);
    }
}
