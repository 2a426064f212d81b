//! Safety invariant 1: every free-text message passes the distress detector first, in
//! every state — before onboarding is finished and after consent was refused too.

use qamqor_flows::{Event, Media, Outgoing};
use qamqor_tests::{Person, TestDb, only};

const URGENT_RU: &str = "Я больше не хочу жить";
const URGENT_KK: &str = "Шаршадым, өмір сүргім келмейді";

fn is_safety(message: &Outgoing) -> bool {
    message.text.contains("112") && message.text.contains("111")
}

/// The safety message comes first (a gentle question may follow), and no part of the
/// reply repeats the words: someone else may be reading the phone.
fn assert_safe_reply(answer: Vec<Outgoing>, written: &str) -> Outgoing {
    let reply = answer.first().cloned().unwrap_or_else(|| panic!("no reply at all"));
    assert!(is_safety(&reply), "no safety message:\n{}", reply.text);
    for message in &answer {
        assert!(!message.text.contains(written), "the reply repeats the message:\n{}", message.text);
    }
    reply
}

#[tokio::test]
async fn a_crisis_message_gets_the_safety_reply_in_every_state() {
    for db in TestDb::all().await {
        let engine = db.engine().await;

        // Before anything: no language chosen. Kazakh letters → the Kazakh reply.
        let mut first = Person::new(engine.clone(), "first-words");
        let reply = assert_safe_reply(first.say(URGENT_KK).await, URGENT_KK);
        assert!(reply.text.contains("Сіз жалғыз емессіз"), "{}", reply.text);
        assert!(!reply.text.contains("Вы не одни"), "{}", reply.text);
        // Russian words, no language chosen → the Russian reply.
        let mut other = Person::new(engine.clone(), "first-words-ru");
        let reply = assert_safe_reply(other.say(URGENT_RU).await, URGENT_RU);
        assert!(reply.text.contains("Вы не одни"), "{}", reply.text);

        // While choosing a language, at the consent question, after refusing consent,
        // in the menu, and at the erase question: a new person for each, since the
        // first crisis message opens a case and later ones go to it.
        let steps: [&[&str]; 5] = [
            &["/start"],
            &["/start", "Русский"],
            &["/start", "Русский", "Не принимаю"],
            &["/start", "Русский", "Принимаю"],
            &["/start", "Русский", "Принимаю", "/delete"],
        ];
        for (i, steps) in steps.iter().enumerate() {
            let mut parent = Person::new(engine.clone(), &format!("state-{i}"));
            for step in *steps {
                if step.starts_with('/') {
                    parent.say(step).await;
                } else {
                    parent.press(step).await;
                }
            }
            let reply = assert_safe_reply(parent.say(URGENT_RU).await, URGENT_RU);
            assert!(reply.text.contains("Вы не одни"), "{steps:?}: {}", reply.text);
        }

        // The person stays where they were: the erase question is still open.
        let mut erasing = Person::onboarded(engine.clone(), "erasing", "Русский").await;
        erasing.say("/delete").await;
        let erase_question = erasing.last_buttons.clone();
        assert_safe_reply(erasing.say(URGENT_RU).await, URGENT_RU);
        erasing.last_buttons = erase_question;
        let still = only(erasing.press("Нет, оставить").await);
        assert!(still.text.contains("ничего не удалено"), "{}", still.text);

        // A caption under a photo is free text too.
        let mut photo = Person::onboarded(engine.clone(), "photo", "Русский").await;
        let caption = Event::Media { media: Media::Photo, caption: Some(URGENT_RU.into()) };
        assert_safe_reply(photo.send(caption).await, URGENT_RU);
    }
}

#[tokio::test]
async fn later_crisis_messages_go_to_the_open_case_and_a_rise_repeats_the_safety_message() {
    for db in TestDb::all().await {
        let mut parent = Person::onboarded(db.engine().await, "stays", "Русский").await;
        assert_safe_reply(parent.say(URGENT_RU).await, URGENT_RU);
        // The same level again: passed on to the psychologist, no menu, no repeat.
        let again = only(parent.say("Не хочу больше жить, всё бессмысленно").await);
        assert!(again.text.contains("Передала психологу"), "{}", again.text);
        // A plan makes it more urgent: the safety message comes again.
        let plan = "Таблетки уже собрала, сегодня ночью выпью все";
        assert_safe_reply(parent.say(plan).await, plan);
    }
}

#[tokio::test]
async fn everyday_words_do_not_raise_an_alarm() {
    for db in TestDb::all().await {
        let mut parent = Person::onboarded(db.engine().await, "calm", "Русский").await;
        for text in ["Умираю со смеху", "Устала, но всё хорошо", "Как получить пособие?"]
        {
            let reply = only(parent.say(text).await);
            assert!(!is_safety(&reply), "{text:?} raised an alarm:\n{}", reply.text);
        }
    }
}
