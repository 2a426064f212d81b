//! WhatsApp end to end, over real HTTP against `qamqor serve`: the verification
//! handshake, signatures checked on the raw bytes, bounded and malformed bodies, every
//! message type, status callbacks, Meta's redeliveries; and conversations whose answers
//! go out through the real reqwest client to a Graph API stand-in on 127.0.0.1, rendered
//! as WhatsApp buttons and lists, with a 429 retried and staff working from Telegram.

use hmac::{Hmac, Mac};
use qamqor::app::{self, Running};
use qamqor::config::Config;
use qamqor::whatsapp::{MAX_BODY, WhatsappConfig};
use qamqor_tests::whatsapp_api::GraphStandIn;
use qamqor_tests::{TestDb, scalar};
use serde_json::{Value, json};
use sha2::Sha256;
use std::time::Duration;

const SECRET: &str = "app-secret-for-tests";
const VERIFY: &str = "verify-token-for-tests";
const PARENT: &str = "77011234567";
const TEMPLATE: &str = "qamqor_new_message";

fn config(db: &TestDb, api_url: &str) -> Config {
    Config {
        database_url: db.url.clone(),
        http_addr: "127.0.0.1:0".parse().unwrap(),
        telegram: None,
        whatsapp: Some(WhatsappConfig {
            token: "EAAG-test".into(),
            phone_number_id: "1000000001".into(),
            app_secret: SECRET.into(),
            verify_token: VERIFY.into(),
            api_url: api_url.into(),
            template_kk: Some(TEMPLATE.into()),
            template_ru: Some(TEMPLATE.into()),
        }),
        duty: Default::default(),
    }
}

/// Qamqor with WhatsApp only; nothing listens at its Graph API address, so these tests
/// look at what is received and answered (the outbox), not at sending.
async fn start(db: &TestDb) -> Running {
    qamqor_tests::detector();
    app::start(config(db, "http://127.0.0.1:9/v21.0")).await.expect("qamqor starts")
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    format!("sha256={}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// A delivery as Meta sends it, with these messages (and statuses) from the parent.
fn delivery(messages: Vec<Value>, statuses: Vec<Value>) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "77000000000", "phone_number_id": "1000000001"},
            "contacts": [{"profile": {"name": "Айгүл"}, "wa_id": PARENT}],
            "messages": messages,
            "statuses": statuses,
        }}]}],
    })
}

/// A message from the parent, sent just now.
fn message(id: &str, kind: &str, content: Value) -> Value {
    let now = qamqor_flows::storage::now_ms() / 1000;
    let mut m = json!({"from": PARENT, "id": id, "timestamp": now.to_string(), "type": kind});
    m[kind] = content;
    m
}

async fn post(running: &Running, body: &[u8], signature: Option<&str>) -> u16 {
    let mut request = reqwest::Client::new()
        .post(format!("http://{}/webhooks/whatsapp", running.http_addr))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("x-hub-signature-256", signature);
    }
    request.send().await.unwrap().status().as_u16()
}

async fn post_signed(running: &Running, body: &Value) -> u16 {
    let bytes = serde_json::to_vec(body).unwrap();
    post(running, &bytes, Some(&sign(&bytes))).await
}

/// The bot's answers to the parent so far, as stored for sending, oldest first.
async fn answers(pool: &sqlx::AnyPool) -> Vec<String> {
    sqlx::query_scalar("SELECT message FROM outbox WHERE channel = 'whatsapp' AND chat = $1 ORDER BY id")
        .bind(PARENT)
        .fetch_all(pool)
        .await
        .unwrap()
}

/// Waits until the parent has `n` answers.
async fn wait_for_answers(pool: &sqlx::AnyPool, n: usize) -> Vec<String> {
    for _ in 0..300 {
        let got = answers(pool).await;
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} answers: {:#?}", answers(pool).await)
}

#[tokio::test]
async fn the_verification_handshake_answers_only_our_token() {
    let db = TestDb::sqlite();
    let running = start(&db).await;
    let get = |query: &str| {
        let url = format!("http://{}/webhooks/whatsapp?{query}", running.http_addr);
        async move {
            let response = reqwest::get(url).await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let good = get(&format!("hub.mode=subscribe&hub.verify_token={VERIFY}&hub.challenge=1158201444")).await;
    assert_eq!(good, (200, "1158201444".to_string()));
    assert_eq!(get("hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1").await.0, 403);
    assert_eq!(get(&format!("hub.mode=unsubscribe&hub.verify_token={VERIFY}&hub.challenge=1")).await.0, 403);
    assert_eq!(get("hub.challenge=1").await.0, 403);
    running.stop().await;
}

#[tokio::test]
async fn only_deliveries_signed_over_their_own_bytes_are_taken() {
    let db = TestDb::sqlite();
    let running = start(&db).await;
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    let body = delivery(vec![message("wamid.A1", "text", json!({"body": "Сәлеметсіз бе, жәрдемақы туралы"}))], vec![]);
    let bytes = serde_json::to_vec(&body).unwrap();

    assert_eq!(post(&running, &bytes, None).await, 401, "unsigned");
    assert_eq!(post(&running, &bytes, Some(&sign(b"other bytes"))).await, 403, "signed over something else");
    assert_eq!(post(&running, &bytes, Some("sha256=zz")).await, 403, "not even hex");
    // The same JSON, re-serialised with its Cyrillic escaped: equal as JSON, other
    // bytes. A signature over one does not pass for the other.
    let escaped: String = String::from_utf8(bytes.clone())
        .unwrap()
        .chars()
        .map(|c| if c.is_ascii() { c.to_string() } else { format!("\\u{:04x}", c as u32) })
        .collect();
    assert_eq!(serde_json::from_str::<Value>(&escaped).unwrap(), body);
    assert_eq!(post(&running, escaped.as_bytes(), Some(&sign(&bytes))).await, 403, "re-serialised");
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM inbox").await, 0, "nothing rejected was stored");

    // Malformed but signed: 400, nothing stored. Too large: 413.
    assert_eq!(post(&running, b"{\"entry\": [", Some(&sign(b"{\"entry\": ["))).await, 400);
    let huge = vec![b' '; MAX_BODY + 1];
    assert_eq!(post(&running, &huge, Some(&sign(&huge))).await, 413);

    assert_eq!(post(&running, &bytes, Some(&sign(&bytes))).await, 200);
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM inbox WHERE channel = 'whatsapp'").await, 1);
    running.stop().await;
}

#[tokio::test]
async fn every_message_type_is_understood_and_redeliveries_change_nothing() {
    for db in TestDb::all().await {
        let running = start(&db).await;
        let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();

        // Onboarding by replies to buttons, as WhatsApp sends them back.
        let reply = |id: &str, data: &str| {
            message(id, "interactive", json!({"type": "button_reply", "button_reply": {"id": data, "title": "…"}}))
        };
        assert_eq!(
            post_signed(&running, &delivery(vec![message("wamid.1", "text", json!({"body": "/start"}))], vec![])).await,
            200
        );
        wait_for_answers(&pool, 1).await;
        post_signed(&running, &delivery(vec![reply("wamid.2", "lang:ru")], vec![])).await;
        wait_for_answers(&pool, 2).await;
        post_signed(&running, &delivery(vec![reply("wamid.3", "consent:yes")], vec![])).await;
        let menu = wait_for_answers(&pool, 3).await;
        assert!(menu[2].contains("Чем могу помочь"), "{}", menu[2]);

        // A list reply works like a button.
        let list = message(
            "wamid.4",
            "interactive",
            json!({"type": "list_reply", "list_reply": {"id": "menu:mydata", "title": "Мои данные"}}),
        );
        post_signed(&running, &delivery(vec![list], vec![])).await;
        let mine = wait_for_answers(&pool, 4).await;
        assert!(mine[3].contains("Что я о вас храню"), "{}", mine[3]);

        // Everything that is not text gets a kind answer; a voice note offers a person.
        let kinds = [
            ("image", json!({"id": "m1", "mime_type": "image/jpeg"})),
            ("video", json!({"id": "m2"})),
            ("document", json!({"id": "m3", "filename": "spravka.pdf"})),
            ("sticker", json!({"id": "m4"})),
            ("location", json!({"latitude": 43.2, "longitude": 76.9})),
            ("contacts", json!([{"name": {"formatted_name": "Асель"}}])),
            ("reaction", json!({"message_id": "wamid.x", "emoji": "🙏"})),
            ("unsupported", json!({})),
        ];
        let mut n = 4;
        for (i, (kind, content)) in kinds.iter().enumerate() {
            post_signed(&running, &delivery(vec![message(&format!("wamid.k{i}"), kind, content.clone())], vec![]))
                .await;
            n += 1;
            let got = wait_for_answers(&pool, n).await;
            assert!(got[n - 1].contains("понимаю только текст и кнопки"), "{kind}: {}", got[n - 1]);
        }
        for (i, kind) in ["audio", "voice"].iter().enumerate() {
            post_signed(&running, &delivery(vec![message(&format!("wamid.v{i}"), kind, json!({"id": "a1"}))], vec![]))
                .await;
            n += 1;
            let got = wait_for_answers(&pool, n).await;
            assert!(
                got[n - 1].contains("голосовые") && got[n - 1].contains("Чат с психологом"),
                "{kind}: {}",
                got[n - 1]
            );
        }
        // A photo's caption is words the detector reads first.
        let caption =
            message("wamid.c", "image", json!({"id": "m5", "caption": "сегодня ночью выпью все таблетки, прощайте"}));
        post_signed(&running, &delivery(vec![caption], vec![])).await;
        n += 1;
        let got = wait_for_answers(&pool, n).await;
        assert!(got[n - 1].contains("112"), "{}", got[n - 1]);
        assert_eq!(scalar(&pool, "SELECT priority FROM cases").await, 3, "{}", db.name);

        // Status callbacks are not messages; a redelivered message, even out of order
        // with others, is taken once.
        let statuses = vec![
            json!({"id": "wamid.out1", "status": "delivered", "timestamp": "1763800001", "recipient_id": PARENT}),
            json!({"id": "wamid.out2", "status": "failed", "timestamp": "1763800002", "recipient_id": PARENT,
                   "errors": [{"code": 131047, "title": "Re-engagement message"}]}),
        ];
        let stored = scalar(&pool, "SELECT COUNT(*) FROM inbox").await;
        assert_eq!(post_signed(&running, &delivery(vec![], statuses)).await, 200);
        let again = delivery(
            vec![reply("wamid.3", "consent:yes"), message("wamid.1", "text", json!({"body": "/start"}))],
            vec![],
        );
        assert_eq!(post_signed(&running, &again).await, 200);
        assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM inbox").await, stored, "{}", db.name);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(answers(&pool).await.len(), n, "redeliveries are not answered again");
        running.stop().await;
    }
}

const WAIT: Duration = Duration::from_secs(20);

/// The words of a sent message: a text's body, or an interactive message's.
fn words(m: &Value) -> String {
    m["text"]["body"].as_str().or(m["interactive"]["body"]["text"].as_str()).unwrap_or_default().to_string()
}

/// The choices a sent message offers: reply button ids or list row ids.
fn choices(m: &Value) -> Vec<String> {
    let i = &m["interactive"];
    let ids = |items: &Value, path: &[&str]| -> Vec<String> {
        items
            .as_array()
            .into_iter()
            .flatten()
            .map(|x| path.iter().fold(x, |v, k| &v[*k]).as_str().unwrap_or("").to_string())
            .collect()
    };
    match i["type"].as_str() {
        Some("button") => ids(&i["action"]["buttons"], &["reply", "id"]),
        Some("list") => ids(&i["action"]["sections"][0]["rows"], &["id"]),
        _ => Vec::new(),
    }
}

/// Sends a person's event and waits until the last message sent back offers `expect`
/// (or, with no choices expected, says `expect`).
async fn exchange(running: &Running, api: &GraphStandIn, m: Value, expect: &str) -> Vec<Value> {
    let who = m["from"].as_str().unwrap().to_string();
    let before = api.sent_to(&who).len();
    assert_eq!(post_signed(running, &delivery(vec![m], vec![])).await, 200);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let sent = api.sent_to(&who);
        let new = sent[before.min(sent.len())..].to_vec();
        if new.last().is_some_and(|last| choices(last).iter().any(|c| c == expect) || words(last).contains(expect)) {
            return new;
        }
        assert!(tokio::time::Instant::now() < deadline, "no {expect:?} in {new:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn reply_to(id: &str, data: &str) -> Value {
    message(id, "interactive", json!({"type": "button_reply", "button_reply": {"id": data, "title": "…"}}))
}

fn pick(id: &str, data: &str) -> Value {
    message(id, "interactive", json!({"type": "list_reply", "list_reply": {"id": data, "title": "…"}}))
}

fn text(id: &str, body: &str) -> Value {
    message(id, "text", json!({"body": body}))
}

#[tokio::test]
async fn a_russian_parent_goes_through_onboarding_menu_and_services_on_whatsapp() {
    for db in TestDb::all().await {
        qamqor_tests::detector();
        let api = GraphStandIn::start().await;
        let running = app::start(config(&db, &api.api_url())).await.expect("qamqor starts");

        let hello = exchange(&running, &api, text("wamid.r1", "/start"), "lang:ru").await;
        assert_eq!(hello.last().unwrap()["interactive"]["type"], "button", "two languages: reply buttons");
        exchange(&running, &api, reply_to("wamid.r2", "lang:ru"), "consent:yes").await;
        let menu = exchange(&running, &api, reply_to("wamid.r3", "consent:yes"), "menu:services").await;
        let menu = menu.last().unwrap();
        assert_eq!(menu["interactive"]["type"], "list", "six menu entries: a list");
        assert_eq!(menu["interactive"]["action"]["button"], "Выбрать");
        assert!(words(menu).contains("Чем могу помочь"), "{menu:#?}");

        let regions = exchange(&running, &api, pick("wamid.r4", "menu:services"), "svc:r:astana").await;
        assert_eq!(choices(regions.last().unwrap()).len(), 9, "8 regions and more, within a list's 10 rows");
        // Ten topics and three more choices: a list of ten, and the rest under "more".
        let topics = exchange(&running, &api, pick("wamid.r5", "svc:r:astana"), "menu:open").await;
        let (first, more) = (&topics[topics.len() - 2], &topics[topics.len() - 1]);
        assert_eq!((choices(first).len(), choices(more).len()), (10, 3), "{topics:#?}");
        assert!(words(first).contains("Запомнила регион"), "{first:#?}");
        assert_eq!(more["interactive"]["action"]["button"], "Выбрать ▶");
        for m in &topics {
            for title in m["interactive"]["action"]["sections"][0]["rows"].as_array().into_iter().flatten() {
                assert!(title["title"].as_str().unwrap().chars().count() <= 24, "{title}");
            }
        }

        let found =
            exchange(&running, &api, text("wamid.r6", "как получить пособие"), "svc:e:benefit-raising-child").await;
        assert!(words(found.last().unwrap()).contains("Вот что нашла"), "{found:#?}");
        let card =
            exchange(&running, &api, pick("wamid.r7", "svc:e:benefit-raising-child"), "svc:n:benefit-raising-child")
                .await;
        let card_buttons = card.last().unwrap();
        assert_eq!(card_buttons["interactive"]["type"], "button", "three short choices: reply buttons");
        for b in card_buttons["interactive"]["action"]["buttons"].as_array().unwrap() {
            assert!(b["reply"]["title"].as_str().unwrap().chars().count() <= 20, "{b}");
        }
        let all: String = card.iter().map(words).collect::<Vec<_>>().join("\n");
        assert!(all.contains("Кому:") && all.contains("Как оформить:"), "{all}");

        // WhatsApp says "too many requests" once: the outbox waits and sends it then.
        api.fail_next(&[429]);
        let plan = exchange(&running, &api, reply_to("wamid.r8", "svc:n:benefit-raising-child"), "Ваш план").await;
        assert!(!plan.is_empty());
        assert_eq!(api.refused(), 1);
        running.stop().await;
    }
}

#[tokio::test]
async fn a_kazakh_parent_in_crisis_on_whatsapp_is_answered_by_staff_on_telegram() {
    let db = TestDb::sqlite();
    qamqor_tests::detector();
    let api = GraphStandIn::start().await;
    let telegram = qamqor_tests::telegram_api::TelegramStandIn::start().await;
    let admin_chat = 555_001;
    let running = app::start(with_admin_on_telegram(config(&db, &api.api_url()), &telegram, admin_chat))
        .await
        .expect("qamqor starts");

    exchange(&running, &api, text("wamid.k1", "/start"), "lang:kk").await;
    exchange(&running, &api, reply_to("wamid.k2", "lang:kk"), "consent:yes").await;
    exchange(&running, &api, reply_to("wamid.k3", "consent:yes"), "menu:services").await;
    let safety =
        exchange(&running, &api, text("wamid.k4", "бүгін түнде барлық дәрілерді ішемін, қош болыңыздар"), "112").await;
    assert!(!safety.iter().any(|m| words(m).contains("дәрілерді")), "never repeats the parent's words");

    // The admin hears of it in Telegram and takes it there.
    let note = telegram.wait_for_sent(admin_chat, 1, WAIT).await;
    let note = note.last().unwrap();
    let (_, take) =
        note.buttons.iter().flatten().find(|(_, d)| d.starts_with("take:")).cloned().expect("a Take button");
    let before = api.sent_to(PARENT).len();
    telegram.user_presses(admin_chat, note.message_id, &take);
    let joined = api.wait_for(PARENT, before + 1, WAIT).await;
    assert!(words(&joined[before]).contains("байланыста"), "{joined:#?}");
    let history = telegram.wait_for_sent(admin_chat, 2, WAIT).await;
    assert!(history.iter().any(|m| m.text.contains("бүгін түнде")), "the admin sees the parent's words: {history:#?}");

    // Both ways across the channels: the parent's words reach Telegram, the admin's WhatsApp.
    assert_eq!(
        post_signed(&running, &delivery(vec![text("wamid.k5", "жалғызбын, күйеуім кетіп қалды")], vec![])).await,
        200
    );
    let relayed = telegram.wait_for_sent(admin_chat, 3, WAIT).await;
    assert!(relayed.last().unwrap().text.contains("жалғызбын"), "{relayed:#?}");
    // The admin's words reach the parent on WhatsApp.
    let before = api.sent_to(PARENT).len();
    telegram.user_sends_text(admin_chat, "Сізбен біргемін. Қазір қасыңызда кім бар?");
    let sent = api.wait_for(PARENT, before + 1, WAIT).await;
    assert!(sent[before..].iter().any(|m| words(m).contains("Сізбен біргемін")), "{sent:#?}");
    running.stop().await;
}

/// Telegram connected to its stand-in, with one admin there.
fn with_admin_on_telegram(
    mut config: Config,
    telegram: &qamqor_tests::telegram_api::TelegramStandIn,
    admin_chat: i64,
) -> Config {
    config.telegram = Some(qamqor::config::TelegramConfig {
        token: "123:TEST".into(),
        api_url: Some(telegram.api_url().parse().unwrap()),
        webhook: None,
    });
    config.duty.admins = vec![qamqor_flows::Address::new(qamqor_flows::Channel::Telegram, admin_chat.to_string())];
    config
}

/// The same message from someone else.
fn from(who: &str, mut m: Value) -> Value {
    m["from"] = json!(who);
    m
}

#[tokio::test]
async fn a_russian_parent_in_crisis_is_answered_by_a_psychologist_on_whatsapp() {
    for db in TestDb::all().await {
        qamqor_tests::detector();
        let api = GraphStandIn::start().await;
        let admin = "77019998877";
        let mut config = config(&db, &api.api_url());
        config.duty.admins = vec![qamqor_flows::Address::new(qamqor_flows::Channel::Whatsapp, admin)];
        let running = app::start(config).await.expect("qamqor starts");

        // The admin looked at the queue today, so WhatsApp lets Qamqor write to them.
        exchange(&running, &api, from(admin, text("wamid.a0", "/queue")), "Открытых обращений нет").await;
        exchange(&running, &api, text("wamid.p1", "/start"), "lang:ru").await;
        exchange(&running, &api, reply_to("wamid.p2", "lang:ru"), "consent:yes").await;
        exchange(&running, &api, reply_to("wamid.p3", "consent:yes"), "menu:talk").await;
        let before = api.sent_to(admin).len();
        let safety =
            exchange(&running, &api, text("wamid.p4", "Не хочу больше жить. Всем будет лучше без меня"), "112").await;
        assert!(!safety.iter().any(|m| words(m).contains("лучше без меня")), "never repeats the parent's words");

        // The admin hears of it on WhatsApp, with a Take button, and takes it there.
        let note = api.wait_for(admin, before + 1, WAIT).await;
        let note = note.last().unwrap();
        let take = choices(note).into_iter().find(|c| c.starts_with("take:")).expect("a Take button");
        assert!(!words(note).contains(PARENT), "staff see the pseudonym only: {note}");
        let history = exchange(&running, &api, from(admin, reply_to("wamid.a1", &take)), "лучше без меня").await;
        assert!(!history.is_empty());
        let joined = api.sent_to(PARENT);
        assert!(words(joined.last().unwrap()).contains("на связи"), "{joined:#?}");

        // Both ways.
        let before = api.sent_to(admin).len();
        assert_eq!(
            post_signed(&running, &delivery(vec![text("wamid.p5", "муж ушёл, я одна с ребёнком")], vec![])).await,
            200
        );
        let relayed = api.wait_for(admin, before + 1, WAIT).await;
        assert!(words(relayed.last().unwrap()).contains("муж ушёл"), "{relayed:#?}");
        let before = api.sent_to(PARENT).len();
        assert_eq!(
            post_signed(
                &running,
                &delivery(vec![from(admin, text("wamid.a2", "Я здесь, с вами. Вы сейчас в безопасности?"))], vec![])
            )
            .await,
            200
        );
        let answer = api.wait_for(PARENT, before + 1, WAIT).await;
        assert!(words(answer.last().unwrap()).contains("Я здесь, с вами"), "{answer:#?}");
        running.stop().await;
    }
}

/// A day passes in the parent's chat: everything they wrote is now 25 hours old.
async fn a_day_passes(pool: &sqlx::AnyPool, chat: &str) {
    let day = 25 * 3600 * 1000_i64;
    sqlx::query("UPDATE inbox SET sent_at = sent_at - $1, received_at = received_at - $1 WHERE chat = $2")
        .bind(day)
        .bind(chat)
        .execute(pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn after_a_day_of_silence_staff_replies_wait_and_a_template_asks_the_parent_back() {
    // A fresh database for each: the Telegram stand-in numbers its updates from 1 again.
    for (lang, words_of) in [
        ("kk", ("бүгін түнде барлық дәрілерді ішемін", "Сәлем, мен осындамын", "Ертең де осындамын", "Қалыңыз қалай?")),
        (
            "ru",
            ("сегодня ночью выпью все таблетки, прощайте", "Здравствуйте, я на связи", "Я рядом и завтра", "Как вы?"),
        ),
    ] {
        for db in TestDb::all().await {
            qamqor_tests::detector();
            let (crisis, first, second, third) = words_of;
            let api = GraphStandIn::start().await;
            let telegram = qamqor_tests::telegram_api::TelegramStandIn::start().await;
            let admin_chat = 555_002;
            let config = with_admin_on_telegram(config(&db, &api.api_url()), &telegram, admin_chat);
            let running = app::start(config).await.expect("qamqor starts");
            let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
            let parent = "77015550001".to_string();
            let id = |n: u32| format!("wamid.w{lang}{n}");

            exchange(&running, &api, from(&parent, text(&id(1), "/start")), &format!("lang:{lang}")).await;
            exchange(&running, &api, from(&parent, reply_to(&id(2), &format!("lang:{lang}"))), "consent:yes").await;
            exchange(&running, &api, from(&parent, reply_to(&id(3), "consent:yes")), "menu:services").await;
            exchange(&running, &api, from(&parent, text(&id(4), crisis)), "112").await;
            let note = telegram.wait_for_sent(admin_chat, 1, WAIT).await;
            let note = note.last().unwrap();
            let (_, take) = note.buttons.iter().flatten().find(|(_, d)| d.starts_with("take:")).cloned().unwrap();
            let before = api.sent_to(&parent).len();
            telegram.user_presses(admin_chat, note.message_id, &take);
            api.wait_for(&parent, before + 1, WAIT).await;
            let told = telegram.wait_for_sent(admin_chat, 2, WAIT).await.len();

            // The parent goes quiet for a day. The admin's two messages wait; WhatsApp gets
            // the template, once, in the parent's language; the admin hears why, once.
            a_day_passes(&pool, &parent).await;
            let before = api.sent_to(&parent).len();
            telegram.user_sends_text(admin_chat, first);
            let template = api.wait_for(&parent, before + 1, WAIT).await;
            let template = template.last().unwrap();
            assert_eq!(template["type"], "template", "{template:#}");
            assert_eq!(template["template"]["name"], TEMPLATE);
            assert_eq!(template["template"]["language"]["code"], lang);
            let away = telegram.wait_for_sent(admin_chat, told + 1, WAIT).await;
            let away = &away.last().unwrap().text;
            assert!(away.contains("WhatsApp") && !away.contains(&parent), "{away}");
            telegram.user_sends_text(admin_chat, second);
            let held = "SELECT COUNT(*) FROM outbox WHERE held_at IS NOT NULL AND failed_at IS NULL";
            for _ in 0..200 {
                if scalar(&pool, held).await == 2 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            assert_eq!(scalar(&pool, held).await, 2, "both of the admin's messages wait");
            tokio::time::sleep(Duration::from_millis(600)).await;
            assert_eq!(api.sent_to(&parent).len(), before + 1, "nothing but the template reached the parent");
            assert_eq!(telegram.sent_to(admin_chat).len(), told + 1, "the admin was told once");

            // The parent taps the template's quick reply: the window opens and the waiting
            // messages arrive, in order, before anything else.
            let tap = message(&id(5), "button", json!({"payload": "Көрсету", "text": "Көрсету"}));
            post_signed(&running, &delivery(vec![from(&parent, tap)], vec![])).await;
            let got = api.wait_for(&parent, before + 3, WAIT).await;
            assert!(words(&got[before + 1]).contains(first), "{got:#?}");
            assert!(words(&got[before + 2]).contains(second), "{got:#?}");
            assert_eq!(scalar(&pool, held).await, 0);
            assert_eq!(got.iter().filter(|m| m["type"] == "template").count(), 1, "one template per silence");

            // Meta may see the window closed when Qamqor did not (a send retried for a
            // day): the message is kept, not failed, and goes when the parent writes.
            api.refuse_next_as_outside_the_window();
            let before = api.sent_to(&parent).len();
            telegram.user_sends_text(admin_chat, third);
            for _ in 0..200 {
                if scalar(&pool, held).await == 1 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            assert_eq!((scalar(&pool, held).await, api.refused()), (1, 1), "kept for later");
            exchange(&running, &api, from(&parent, text(&id(6), "/menu")), "menu:services").await;
            assert!(api.sent_to(&parent)[before..].iter().any(|m| words(m).contains(third)));
            running.stop().await;
        }
    }
}
