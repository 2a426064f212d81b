//! Safety invariant 1: every free-text message passes the distress detector first, in
//! every state — before onboarding is finished and after consent was refused too.

use qamqor_flows::{Event, Media, Outgoing};
use qamqor_tests::{Person, TestDb, only};

const URGENT_RU: &str = "Я больше не хочу жить";
const URGENT_KK: &str = "Шаршадым, өмір сүргім келмейді";

fn is_safety(message: &Outgoing) -> bool {
    message.text.contains("112") && message.text.contains("111")
}

/// The reply never repeats the words: someone else may be reading the phone.
fn assert_safe_reply(answer: Vec<Outgoing>, written: &str) -> Outgoing {
    let reply = only(answer);
    assert!(is_safety(&reply), "no safety message:\n{}", reply.text);
    assert!(!reply.text.contains(written), "the reply repeats the message:\n{}", reply.text);
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
        let reply = assert_safe_reply(first.say(URGENT_RU).await, URGENT_RU);
        assert!(reply.text.contains("Вы не одни"), "{}", reply.text);

        // While choosing a language, at the consent question, after refusing consent,
        // in the menu, and at the erase question.
        let mut parent = Person::new(engine.clone(), "every-state");
        parent.say("/start").await;
        assert_safe_reply(parent.say(URGENT_RU).await, URGENT_RU);
        parent.press("Русский").await;
        assert_safe_reply(parent.say(URGENT_RU).await, URGENT_RU);
        parent.press("Не принимаю").await;
        let reply = assert_safe_reply(parent.say(URGENT_RU).await, URGENT_RU);
        assert!(reply.text.contains("Вы не одни"), "the chosen language is kept: {}", reply.text);
        parent.press("Прочитать условия").await;
        parent.press("Принимаю").await;
        assert_safe_reply(parent.say(URGENT_KK).await, URGENT_KK);
        parent.say("/delete").await;
        assert_safe_reply(parent.say(URGENT_RU).await, URGENT_RU);

        // The person stays where they were: the erase question is still open.
        let still = only(parent.press("Нет, оставить").await);
        assert!(still.text.contains("ничего не удалено"), "{}", still.text);

        // A caption under a photo is free text too.
        let caption = Event::Media { media: Media::Photo, caption: Some(URGENT_RU.into()) };
        assert_safe_reply(parent.send(caption).await, URGENT_RU);
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
