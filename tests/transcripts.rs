//! Conversation transcripts: what a parent sees, step by step, in both languages, on
//! every database engine (SQLite always, PostgreSQL when configured).

use qamqor_flows::Outgoing;
use qamqor_tests::{Person, TestDb, labels, only};

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
        assert_has(&data, "Согласие: принято (");
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
        assert_has(&data, "Согласие: не принято (");

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
