//! `qamqor chat`: a scripted conversation through the terminal channel, as a newcomer
//! would pipe it, on the same engine, database and outbox as the messengers.

use qamqor_tests::TestDb;

/// Asserts that the phrases appear in this order.
fn assert_in_order(output: &str, phrases: &[&str]) {
    let mut rest = output;
    for phrase in phrases {
        let at = rest.find(phrase).unwrap_or_else(|| panic!("{phrase:?} missing (or out of order) in:\n{output}"));
        rest = &rest[at + phrase.len()..];
    }
}

#[tokio::test]
async fn a_piped_script_onboards_by_numbers_and_labels_then_erases() {
    let db = TestDb::sqlite();
    let engine = db.engine().await;
    // 2 = Русский; a label typed instead of a number; 6 = Мои данные; 9 is no button, so
    // it is a question for the services guide.
    let script = "2\nпринимаю\n6\n9\n/delete\n1\n";
    let mut output = Vec::new();
    qamqor::terminal::chat(&engine, "local", script.as_bytes(), &mut output).await.unwrap();
    let output = String::from_utf8(output).unwrap();
    assert_in_order(
        &output,
        &[
            "Выберите язык",
            "[1] Қазақша   [2] Русский",
            "Принимаете?",
            "[1] Принимаю",
            "Чем могу помочь?",
            "[6] Мои данные",
            "Язык: Русский",
            "Не нашла в справочнике",
            "Удалить?",
            "всё о вас удалено",
        ],
    );
}

#[tokio::test]
async fn a_second_run_on_the_same_database_remembers_the_person() {
    let db = TestDb::sqlite();
    let engine = db.engine().await;
    let mut first = Vec::new();
    qamqor::terminal::chat(&engine, "local", "1\n1\n".as_bytes(), &mut first).await.unwrap();
    assert!(String::from_utf8(first).unwrap().contains("Немен көмектесе аламын?"));

    // Starting again opens on the menu, in Kazakh, not on the language question.
    let engine = db.engine().await;
    let mut second = Vec::new();
    qamqor::terminal::chat(&engine, "local", "".as_bytes(), &mut second).await.unwrap();
    let second = String::from_utf8(second).unwrap();
    assert!(second.contains("Немен көмектесе аламын?") && !second.contains("Выберите язык"), "{second}");
}

#[tokio::test]
async fn typing_start_first_does_not_ask_for_the_language_twice() {
    let db = TestDb::sqlite();
    let engine = db.engine().await;
    let mut output = Vec::new();
    qamqor::terminal::chat(&engine, "local", "/start\n2\n".as_bytes(), &mut output).await.unwrap();
    let output = String::from_utf8(output).unwrap();
    assert_eq!(output.matches("Выберите язык").count(), 1, "{output}");
    assert_in_order(&output, &["Выберите язык", "Принимаете?"]);

    // Later, /start still goes back to the start, as in Telegram.
    let engine = db.engine().await;
    let mut again = Vec::new();
    qamqor::terminal::chat(&engine, "local", "/lang\n/start\n".as_bytes(), &mut again).await.unwrap();
    assert_eq!(String::from_utf8(again).unwrap().matches("Принимаете?").count(), 2);
}
