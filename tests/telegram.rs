//! Telegram end to end: the real `qamqor` app, with the real teloxide client, against
//! a Bot API stand-in on 127.0.0.1. Polling, button presses edited in place, redelivered
//! updates, 429 with retry_after, a restart with a message still in the outbox, every
//! kind of non-text message, and the webhook's secret check.

use qamqor::app::{self, Running};
use qamqor::config::{Config, TelegramConfig, Webhook};
use qamqor_tests::TestDb;
use qamqor_tests::telegram_api::{Failure, Sent, TelegramStandIn};
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);

fn config(db: &TestDb, api: &TelegramStandIn, webhook: Option<Webhook>) -> Config {
    Config {
        database_url: db.url.clone(),
        http_addr: "127.0.0.1:0".parse().unwrap(),
        telegram: Some(TelegramConfig {
            token: "123:TEST".into(),
            api_url: Some(api.api_url().parse().unwrap()),
            webhook,
        }),
        whatsapp: None,
        duty: Default::default(),
    }
}

async fn start(db: &TestDb, api: &TelegramStandIn) -> Running {
    // The app loads the cached model itself; make sure it is there, so these tests run
    // with both layers of the detector, as production does.
    qamqor_tests::detector();
    app::start(config(db, api, None)).await.expect("qamqor starts")
}

fn labels(sent: &Sent) -> Vec<&str> {
    sent.buttons.iter().flatten().map(|(label, _)| label.as_str()).collect()
}

fn data_of(sent: &Sent, label: &str) -> String {
    sent.buttons
        .iter()
        .flatten()
        .find(|(l, _)| l == label)
        .unwrap_or_else(|| panic!("no {label} in {sent:?}"))
        .1
        .clone()
}

/// Presses a button of a message and waits for the answer (the n-th item sent to the chat).
async fn press(api: &TelegramStandIn, chat: i64, on: &Sent, label: &str, n: usize) -> Sent {
    api.user_presses(chat, on.message_id, &data_of(on, label));
    api.wait_for_sent(chat, n, WAIT).await.pop().unwrap()
}

/// Onboards a Russian-speaking parent: /start, Русский, Принимаю. Returns the menu.
async fn onboard(api: &TelegramStandIn, chat: i64) -> Sent {
    api.user_sends_text(chat, "/start");
    let choose = api.wait_for_sent(chat, 1, WAIT).await.pop().unwrap();
    let consent = press(api, chat, &choose, "Русский", 2).await;
    press(api, chat, &consent, "Принимаю", 3).await
}

#[tokio::test]
async fn a_parent_reaches_the_menu_with_buttons_edited_in_place() {
    for db in TestDb::all().await {
        let api = TelegramStandIn::start().await;
        let app = start(&db, &api).await;
        let chat = 5001;

        api.user_sends_text(chat, "/start");
        let choose = api.wait_for_sent(chat, 1, WAIT).await.pop().unwrap();
        assert_eq!(choose.method, "sendMessage");
        assert!(choose.text.contains("Выберите язык"), "{}", choose.text);
        assert_eq!(labels(&choose), ["Қазақша", "Русский"]);

        let consent = press(&api, chat, &choose, "Русский", 2).await;
        assert_eq!(consent.method, "editMessageText", "the language question turns into the consent");
        assert_eq!(consent.message_id, choose.message_id);
        assert!(consent.text.contains("Принимаете?"), "{}", consent.text);

        let menu = press(&api, chat, &consent, "Принимаю", 3).await;
        assert!(menu.text.contains("Чем могу помочь?"), "{}", menu.text);
        assert_eq!(labels(&menu).len(), 6);
        assert_eq!(api.answered_callbacks().len(), 2, "every press is acknowledged");

        api.user_sends_text(chat, "/mydata");
        let data = api.wait_for_sent(chat, 4, WAIT).await.pop().unwrap();
        assert_eq!(data.method, "sendMessage");
        assert!(data.text.contains("Язык: Русский"), "{}", data.text);
        assert!(api.unknown_methods().is_empty(), "{:?}", api.unknown_methods());
        app.stop().await;
    }
}

#[tokio::test]
async fn a_redelivered_update_is_handled_once() {
    let db = TestDb::sqlite();
    let api = TelegramStandIn::start().await;
    let app = start(&db, &api).await;
    let chat = 5002;

    let first = api.user_sends_text(chat, "/start");
    api.wait_for_sent(chat, 1, WAIT).await;
    api.redeliver(first);
    // A later message: once it is answered, the redelivery was seen and ignored.
    api.user_sends_text(chat, "/help");
    api.wait_for_sent(chat, 2, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = api.sent_to(chat);
    assert_eq!(sent.len(), 2, "{}", api.report());
    assert!(sent[1].text.contains("/mydata"), "the second answer is the help: {}", sent[1].text);
    app.stop().await;
}

#[tokio::test]
async fn a_429_is_retried_after_the_requested_wait_by_the_outbox() {
    let db = TestDb::sqlite();
    let api = TelegramStandIn::start().await;
    let app = start(&db, &api).await;
    let chat = 5003;

    api.fail_next_sends(1, Failure::RetryAfter(2));
    api.user_sends_text(chat, "/start");
    let started = std::time::Instant::now();

    // While Telegram asks us to wait, the message waits in the outbox, rescheduled.
    let engine = qamqor::app::open_engine(&config(&db, &api, None)).await.unwrap();
    let mut rescheduled = false;
    for _ in 0..100 {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT last_error, next_try_at - created_at FROM outbox WHERE last_error IS NOT NULL")
                .fetch_optional(engine.db().pool())
                .await
                .unwrap();
        if let Some((error, delay)) = row {
            assert_eq!(error, "retry_after");
            assert!(delay >= 1_500, "rescheduled {delay} ms later");
            rescheduled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(rescheduled, "the outbox did not record the 429: {}", api.report());

    let sent = api.wait_for_sent(chat, 1, WAIT).await;
    assert!(started.elapsed() >= Duration::from_millis(1_900), "sent after {:?}", started.elapsed());
    assert!(sent[0].text.contains("Выберите язык"));
    assert_eq!(api.failed_attempts(), 1);
    app.stop().await;
}

#[tokio::test]
async fn state_and_pending_messages_survive_a_restart() {
    for db in TestDb::all().await {
        let api = TelegramStandIn::start().await;
        let chat = 5004;
        let app = start(&db, &api).await;
        api.user_sends_text(chat, "/start");
        let choose = api.wait_for_sent(chat, 1, WAIT).await.pop().unwrap();
        let consent = press(&api, chat, &choose, "Русский", 2).await;

        // Telegram refuses the next message for a while; we stop before it is sent.
        api.fail_next_sends(1, Failure::RetryAfter(2));
        api.user_presses(chat, consent.message_id, &data_of(&consent, "Принимаю"));
        while api.failed_attempts() == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        app.stop().await;
        assert_eq!(api.sent_to(chat).len(), 2, "nothing more was sent before the stop");

        // A new process on the same database sends what was pending, and the
        // conversation goes on from where it was.
        let app = start(&db, &api).await;
        let menu = api.wait_for_sent(chat, 3, WAIT).await.pop().unwrap();
        assert!(menu.text.contains("Чем могу помочь?"), "{}", menu.text);
        let data = press(&api, chat, &menu, "Мои данные", 4).await;
        assert!(data.text.contains("Согласие: дано"), "{}", data.text);
        app.stop().await;
    }
}

#[tokio::test]
async fn every_kind_of_non_text_message_gets_a_kind_answer() {
    let db = TestDb::sqlite();
    let api = TelegramStandIn::start().await;
    let app = start(&db, &api).await;
    let chat = 5005;
    let menu = onboard(&api, chat).await;
    assert!(menu.text.contains("Чем могу помочь?"));

    let mut n = 3;
    type Send = Box<dyn Fn(&TelegramStandIn) -> i64>;
    let kinds: Vec<(&str, Send)> = vec![
        ("sticker", Box::new(move |a| a.user_sends_sticker(chat))),
        ("photo", Box::new(move |a| a.user_sends_photo(chat, None))),
        ("video", Box::new(move |a| a.user_sends_video(chat, 5))),
        ("document", Box::new(move |a| a.user_sends_document(chat, "справка.pdf"))),
        ("location", Box::new(move |a| a.user_sends_location(chat, 43.24, 76.89))),
        ("contact", Box::new(move |a| a.user_sends_contact(chat, "+77010000000", "Айгүл"))),
    ];
    for (what, send) in kinds {
        send(&api);
        n += 1;
        let reply = api.wait_for_sent(chat, n, WAIT).await.pop().unwrap();
        assert!(reply.text.contains("понимаю только текст и кнопки"), "{what}: {}", reply.text);
        assert_eq!(labels(&reply).len(), 6, "{what}: the menu comes with it");
    }

    // A voice note: the person may be unable to type, so "talk to a psychologist" leads.
    api.user_sends_voice(chat, 12);
    let reply = api.wait_for_sent(chat, 10, WAIT).await.pop().unwrap();
    assert!(reply.text.contains("голосовые сообщения"), "{}", reply.text);
    assert_eq!(labels(&reply)[0], "Чат с психологом");

    // A 10,000-character message, emoji only, mixed scripts: a kind answer with a way on
    // (the guide's, or a greeting's or thanks' when the words are read as one), never a
    // crash.
    for (i, text) in
        ["ж".repeat(10_000), "🙏🙏🙏".to_string(), "Salem, как дела, қалайсыз?".to_string()].iter().enumerate()
    {
        api.user_sends_text(chat, text);
        let reply = api.wait_for_sent(chat, 11 + i, WAIT).await.pop().unwrap();
        let kind = ["нашла", "Пожалуйста!", "Здравствуйте!"];
        assert!(kind.iter().any(|k| reply.text.contains(k)), "{}", reply.text);
        assert!(!labels(&reply).is_empty(), "a way on: {:?}", labels(&reply));
    }

    // An unknown button, and a stale one: the current menu, no error.
    api.user_presses(chat, menu.message_id, "definitely:not-a-button");
    let reply = api.wait_for_sent(chat, 14, WAIT).await.pop().unwrap();
    assert!(reply.text.contains("Чем могу помочь?"), "{}", reply.text);
    api.user_presses(chat, menu.message_id, "lang:kk");
    let reply = api.wait_for_sent(chat, 15, WAIT).await.pop().unwrap();
    assert!(reply.text.contains("Чем могу помочь?"), "a stale language button changes nothing: {}", reply.text);
    app.stop().await;
}

#[tokio::test]
async fn the_webhook_accepts_only_telegram_with_the_secret() {
    let db = TestDb::sqlite();
    let api = TelegramStandIn::start().await;
    let webhook =
        Webhook { url: "https://qamqor.example/webhooks/telegram".parse().unwrap(), secret: "s3cret-token".into() };
    let app = app::start(config(&db, &api, Some(webhook))).await.unwrap();
    assert!(api.calls().iter().any(|c| c.method == "setWebhook"), "{}", api.report());

    let url = format!("http://{}/webhooks/telegram", app.http_addr);
    let update = json!({
        "update_id": 900001,
        "message": {
            "message_id": 1, "date": 1_795_323_600,
            "chat": {"id": 5006, "type": "private", "first_name": "Ә"},
            "from": {"id": 5006, "is_bot": false, "first_name": "Ә"},
            "text": "/start"
        }
    });
    let client = reqwest::Client::new();
    let post = |secret: Option<&str>, body: String| {
        let mut request = client.post(&url).header("content-type", "application/json").body(body);
        if let Some(secret) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        request.send()
    };
    assert_eq!(post(None, update.to_string()).await.unwrap().status(), 401);
    assert_eq!(post(Some("s3cret-tokeN"), update.to_string()).await.unwrap().status(), 401);
    assert_eq!(post(Some("s3cret-token"), "{not json".into()).await.unwrap().status(), 400);
    assert!(api.sent_to(5006).is_empty(), "nothing forged or broken got through");

    assert_eq!(post(Some("s3cret-token"), update.to_string()).await.unwrap().status(), 200);
    let reply = api.wait_for_sent(5006, 1, WAIT).await.pop().unwrap();
    assert!(reply.text.contains("Тілді таңдаңыз"), "{}", reply.text);
    // Telegram retries a webhook it thinks failed: the same update again changes nothing.
    assert_eq!(post(Some("s3cret-token"), update.to_string()).await.unwrap().status(), 200);

    let health = client.get(format!("http://{}/healthz", app.http_addr)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(api.sent_to(5006).len(), 1);
    app.stop().await;
}
