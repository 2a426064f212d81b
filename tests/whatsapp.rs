//! The WhatsApp webhook, over real HTTP against `qamqor serve`: the verification
//! handshake, signatures checked on the raw bytes, bounded and malformed bodies, every
//! message type, status callbacks, and Meta's redeliveries.

use hmac::{Hmac, Mac};
use qamqor::app::{self, Running};
use qamqor::config::Config;
use qamqor::whatsapp::{MAX_BODY, WhatsappConfig};
use qamqor_tests::{TestDb, scalar};
use serde_json::{Value, json};
use sha2::Sha256;
use std::time::Duration;

const SECRET: &str = "app-secret-for-tests";
const VERIFY: &str = "verify-token-for-tests";
const PARENT: &str = "77011234567";

async fn start(db: &TestDb) -> Running {
    qamqor_tests::detector();
    let config = Config {
        database_url: db.url.clone(),
        http_addr: "127.0.0.1:0".parse().unwrap(),
        telegram: None,
        whatsapp: Some(WhatsappConfig {
            token: "EAAG-test".into(),
            phone_number_id: "1000000001".into(),
            app_secret: SECRET.into(),
            verify_token: VERIFY.into(),
            // Nothing listens here: these tests look at what is received and answered,
            // not at sending.
            api_url: "http://127.0.0.1:9/v21.0".into(),
        }),
        duty: Default::default(),
    };
    app::start(config).await.expect("qamqor starts")
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

fn message(id: &str, kind: &str, content: Value) -> Value {
    let mut m = json!({"from": PARENT, "id": id, "timestamp": "1763800000", "type": kind});
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
