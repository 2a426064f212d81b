//! The WhatsApp Cloud API adapter: the webhook at `/webhooks/whatsapp` in, the Graph
//! API's `/messages` out.
//!
//! `GET` is Meta's verification handshake. `POST` carries messages and status callbacks,
//! signed with the app secret: the signature is checked on the raw bytes, in constant
//! time, before anything is parsed. Every message becomes an `Inbound` keyed by its
//! `wamid`, so Meta's redeliveries (for days, in any order) are dropped by the inbox;
//! status callbacks are logged, never taken for messages. The answer is 200 only once
//! every message of the delivery is committed, so a failure makes Meta deliver again.

use crate::intake::Intake;
use crate::outbox::{Deliver, DeliveryError};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use hmac::{Hmac, Mac};
use qamqor_flows::{Address, Channel, Event, Inbound, Media, OutButton, Outgoing};
use qamqor_models::Lang;
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;
use std::collections::HashMap;
use std::time::Duration;
use subtle::ConstantTimeEq;

/// Meta's deliveries are a few kilobytes; anything much larger is not from Meta.
pub const MAX_BODY: usize = 256 * 1024;

#[derive(Clone, Debug)]
pub struct WhatsappConfig {
    /// `WHATSAPP_TOKEN`: the access token for the Graph API.
    pub token: String,
    /// `WHATSAPP_PHONE_NUMBER_ID`: the business number messages are sent from.
    pub phone_number_id: String,
    /// `WHATSAPP_APP_SECRET`: signs every webhook delivery.
    pub app_secret: String,
    /// `WHATSAPP_VERIFY_TOKEN`: what Meta must present when the webhook is registered.
    pub verify_token: String,
    /// `WHATSAPP_API_URL`: the Graph API, or a test stand-in.
    pub api_url: String,
    /// `WHATSAPP_TEMPLATE_KK`, `WHATSAPP_TEMPLATE_RU`: the approved templates (language
    /// codes `kk`, `ru`) that ask a person to write back once the 24-hour window has
    /// closed; their wording is `whatsapp-reopen` in the Fluent files. One alone serves
    /// both languages; with neither, held messages wait until the person writes.
    pub template_kk: Option<String>,
    pub template_ru: Option<String>,
}

pub const DEFAULT_API_URL: &str = "https://graph.facebook.com/v21.0";

#[derive(Clone)]
struct WebhookState {
    intake: Intake,
    app_secret: String,
    verify_token: String,
}

/// The webhook's route, `/webhooks/whatsapp`, for both methods.
pub fn webhook(intake: Intake, config: &WhatsappConfig) -> Router {
    let state =
        WebhookState { intake, app_secret: config.app_secret.clone(), verify_token: config.verify_token.clone() };
    Router::new()
        .route("/webhooks/whatsapp", get(verify).post(receive))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// The handshake: `hub.challenge` back only for `subscribe` with our verify token.
async fn verify(State(s): State<WebhookState>, Query(q): Query<HashMap<String, String>>) -> (StatusCode, String) {
    let token = q.get("hub.verify_token").map(String::as_bytes).unwrap_or_default();
    let subscribe = q.get("hub.mode").is_some_and(|m| m == "subscribe");
    match q.get("hub.challenge") {
        Some(challenge) if subscribe && bool::from(token.ct_eq(s.verify_token.as_bytes())) => {
            (StatusCode::OK, challenge.clone())
        }
        _ => (StatusCode::FORBIDDEN, String::new()),
    }
}

async fn receive(State(s): State<WebhookState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let Some(signature) = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok()) else {
        return StatusCode::UNAUTHORIZED;
    };
    if !signed(&s.app_secret, &body, signature) {
        tracing::warn!(bytes = body.len(), "WhatsApp webhook with a wrong signature rejected");
        return StatusCode::FORBIDDEN;
    }
    let Ok(delivery) = serde_json::from_slice::<Delivery>(&body) else {
        tracing::warn!(bytes = body.len(), "malformed WhatsApp webhook body rejected");
        return StatusCode::BAD_REQUEST;
    };
    for value in delivery.entry.iter().flat_map(|e| &e.changes).map(|c| &c.value) {
        for status in &value.statuses {
            // Meta reports each message sent, delivered, read or failed. Logged (without
            // the recipient), never treated as something a person did.
            match status.status.as_str() {
                "failed" => tracing::warn!(errors = %status.errors, "WhatsApp reports a message failed"),
                other => tracing::debug!(status = other, "WhatsApp message status"),
            }
        }
        for message in &value.messages {
            if let Err(error) = s.intake.receive(inbound(message)).await {
                tracing::error!(%error, "a WhatsApp message could not be stored");
                return StatusCode::INTERNAL_SERVER_ERROR;
            }
        }
    }
    StatusCode::OK
}

/// `sha256=<hex>` of the HMAC-SHA256 of the raw body with the app secret, compared in
/// constant time.
pub fn signed(app_secret: &str, body: &[u8], signature: &str) -> bool {
    let Some(hex) = signature.strip_prefix("sha256=") else { return false };
    let Ok(expected) = hex::decode(hex) else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// The parts of a webhook delivery Qamqor reads; everything else is ignored.
#[derive(Deserialize)]
struct Delivery {
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    value: Value,
}

#[derive(Deserialize)]
struct Value {
    #[serde(default)]
    messages: Vec<Message>,
    #[serde(default)]
    statuses: Vec<Status>,
}

#[derive(Deserialize)]
struct Status {
    status: String,
    #[serde(default)]
    errors: serde_json::Value,
}

#[derive(Deserialize)]
struct Message {
    /// The sender's WhatsApp id: their phone number in international form.
    from: String,
    /// The `wamid`: unique per message, the same on every redelivery.
    id: String,
    /// When the person sent it, in Unix seconds: the 24-hour window runs from it.
    timestamp: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    text: Option<Text>,
    interactive: Option<Interactive>,
    /// A quick-reply button of a template message.
    button: Option<TemplateButton>,
    image: Option<Captioned>,
    video: Option<Captioned>,
    document: Option<Captioned>,
}

#[derive(Deserialize)]
struct Text {
    body: String,
}

#[derive(Deserialize)]
struct Interactive {
    button_reply: Option<Reply>,
    list_reply: Option<Reply>,
}

#[derive(Deserialize)]
struct Reply {
    id: String,
}

#[derive(Deserialize)]
struct TemplateButton {
    payload: Option<String>,
    text: Option<String>,
}

#[derive(Deserialize)]
struct Captioned {
    caption: Option<String>,
}

/// Translates one message. Kinds Qamqor cannot read become media, so the person is told
/// so kindly; a caption is text the detector reads.
fn inbound(m: &Message) -> Inbound {
    let caption = |c: &Option<Captioned>| c.as_ref().and_then(|c| c.caption.clone());
    let media = |media, caption| Event::Media { media, caption };
    let event = match m.kind.as_str() {
        "text" => Event::Text { text: m.text.as_ref().map_or_else(String::new, |t| t.body.clone()) },
        "interactive" => {
            let reply = m.interactive.as_ref().and_then(|i| i.button_reply.as_ref().or(i.list_reply.as_ref()));
            Event::Button { data: reply.map_or_else(String::new, |r| r.id.clone()), message: None }
        }
        "button" => match &m.button {
            Some(TemplateButton { payload: Some(payload), .. }) => {
                Event::Button { data: payload.clone(), message: None }
            }
            Some(TemplateButton { text: Some(text), .. }) => Event::Text { text: text.clone() },
            _ => media(Media::Other, None),
        },
        "image" => media(Media::Photo, caption(&m.image)),
        "video" => media(Media::Video, caption(&m.video)),
        "document" => media(Media::Document, caption(&m.document)),
        "audio" | "voice" => media(Media::Voice, None),
        "sticker" => media(Media::Sticker, None),
        "location" => media(Media::Location, None),
        "contacts" => media(Media::Contact, None),
        _ => media(Media::Other, None),
    };
    Inbound {
        address: Address::new(Channel::Whatsapp, m.from.clone()),
        external_id: m.id.clone(),
        event,
        sent_at: m.timestamp.as_deref().and_then(|t| t.parse::<i64>().ok()).map(|s| s.saturating_mul(1000)),
    }
}

/// The sending half: `Outgoing` messages rendered the WhatsApp way and posted to the
/// Graph API, through the outbox (retries, nothing lost across restarts).
#[derive(Clone)]
pub struct Whatsapp {
    http: reqwest::Client,
    /// `{api_url}/{phone_number_id}/messages`
    endpoint: String,
    token: String,
    /// The reopening templates, as (name, language code), Kazakh then Russian.
    templates: [Option<(String, &'static str)>; 2],
}

/// WhatsApp's limits on what a message may hold.
const TEXT_MAX: usize = 4096;
const BODY_MAX: usize = 1024;
const BUTTONS_MAX: usize = 3;
const BUTTON_TITLE_MAX: usize = 20;
const ROWS_MAX: usize = 10;
const ROW_TITLE_MAX: usize = 24;
/// Meta's error code for a free-form message outside the 24-hour window.
const WINDOW_CLOSED: i64 = 131047;
/// How long to wait after a 429 that names no time.
const DEFAULT_RETRY: Duration = Duration::from_secs(2);

impl Whatsapp {
    pub fn new(config: &WhatsappConfig) -> Whatsapp {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("a TLS-capable client");
        let endpoint = format!("{}/{}/messages", config.api_url.trim_end_matches('/'), config.phone_number_id);
        let templates = [(&config.template_kk, "kk"), (&config.template_ru, "ru")]
            .map(|(name, code)| name.as_ref().map(|n| (n.clone(), code)));
        if templates.iter().all(Option::is_none) {
            tracing::warn!(
                "no WHATSAPP_TEMPLATE_KK or WHATSAPP_TEMPLATE_RU: people silent for 24 hours cannot be asked to \
                 write back, and messages to them wait until they do"
            );
        }
        Whatsapp { http, endpoint, token: config.token.clone(), templates }
    }

    /// The template that asks a person to write back, in their language if there is one.
    fn template(&self, lang: Lang) -> Option<&(String, &'static str)> {
        let [kk, ru] = &self.templates;
        let (own, other) = if lang == Lang::Kk { (kk, ru) } else { (ru, kk) };
        own.as_ref().or(other.as_ref())
    }

    async fn post(&self, payload: &serde_json::Value) -> Result<(), DeliveryError> {
        let response = self.http.post(&self.endpoint).bearer_auth(&self.token).json(payload).send().await;
        let response = response.map_err(|e| DeliveryError::Transient(format!("Graph API unreachable: {e}")))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let wait = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
            .map_or(DEFAULT_RETRY, Duration::from_secs);
        // Meta's error text names the problem, never the message: safe to keep.
        let error = response.text().await.unwrap_or_default();
        let code = serde_json::from_str::<serde_json::Value>(&error).ok().and_then(|e| e["error"]["code"].as_i64());
        let error = format!("Graph API {status}: {}", error.chars().take(300).collect::<String>());
        Err(match (status.as_u16(), code) {
            (429, _) => DeliveryError::RetryAfter(wait),
            (500..=599, _) => DeliveryError::Transient(error),
            (_, Some(WINDOW_CLOSED)) => DeliveryError::WindowClosed,
            _ => DeliveryError::Permanent(error),
        })
    }
}

impl Deliver for Whatsapp {
    /// A screen may take several WhatsApp messages (long text, more than ten choices);
    /// they go in order, and a failure part-way sends the whole screen again later.
    async fn deliver(&self, chat: &str, message: &Outgoing) -> Result<(), DeliveryError> {
        if let Some(lang) = message.reopen {
            let Some((name, code)) = self.template(lang) else {
                return Err(DeliveryError::Permanent(
                    "the 24-hour window is closed and no template is configured".into(),
                ));
            };
            let template = json!({"name": name, "language": {"code": code}});
            let payload =
                json!({"messaging_product": "whatsapp", "to": chat, "type": "template", "template": template});
            return self.post(&payload).await;
        }
        for payload in render(chat, message) {
            self.post(&payload).await?;
        }
        Ok(())
    }
}

/// One `Outgoing` as WhatsApp messages: plain text when there are no buttons; up to three
/// reply buttons; more choices as list messages of at most ten rows, the next page under
/// "more"; text cut at paragraph, line or word ends to fit each message.
pub fn render(to: &str, m: &Outgoing) -> Vec<serde_json::Value> {
    let buttons: Vec<&OutButton> = m.buttons.iter().flatten().collect();
    let base = |kind: &str, content: serde_json::Value| json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": kind, kind: content});
    let text = |body: &str| base("text", json!({"body": body}));
    if buttons.is_empty() {
        return split(&m.text, TEXT_MAX).iter().map(|t| text(t)).collect();
    }
    // The interactive message carries the text's last piece; the rest goes before it.
    let all = m.text.trim();
    let tail = split(all, BODY_MAX).pop().unwrap_or_default();
    let head = all[..all.len() - tail.len()].trim_end();
    let mut out: Vec<serde_json::Value> = split(head, TEXT_MAX).iter().map(|t| text(t)).collect();
    let body = if tail.trim().is_empty() { m.list_button.clone() } else { tail };
    let replies: Option<Vec<serde_json::Value>> = (buttons.len() <= BUTTONS_MAX)
        .then(|| {
            buttons
                .iter()
                .map(|b| {
                    fit(b, BUTTON_TITLE_MAX).map(|t| json!({"type": "reply", "reply": {"id": b.data, "title": t}}))
                })
                .collect()
        })
        .flatten();
    if let Some(replies) = replies {
        out.push(base(
            "interactive",
            json!({"type": "button", "body": {"text": body}, "action": {"buttons": replies}}),
        ));
        return out;
    }
    for (page, rows) in buttons.chunks(ROWS_MAX).enumerate() {
        let rows: Vec<serde_json::Value> = rows
            .iter()
            .map(|b| json!({"id": b.data, "title": fit(b, ROW_TITLE_MAX).unwrap_or_else(|| cut(&b.label))}))
            .collect();
        // The first page carries the text; the next ones say there is more.
        let body = if page == 0 { body.clone() } else { "▶".to_string() };
        let button = if page == 0 { m.list_button.clone() } else { format!("{} ▶", m.list_button) };
        out.push(base(
            "interactive",
            json!({"type": "list", "body": {"text": body}, "action": {"button": button, "sections": [{"rows": rows}]}}),
        ));
    }
    out
}

/// The label, or its short form, if one fits `max` characters.
fn fit(b: &OutButton, max: usize) -> Option<String> {
    [Some(&b.label), b.short.as_ref()].into_iter().flatten().find(|l| l.chars().count() <= max).cloned()
}

/// A label with no short form that fits a list row: cut at a word end, with "…". The
/// Fluent files give short forms for every fixed label; this is for the unexpected.
fn cut(label: &str) -> String {
    tracing::warn!(label, "a label has no short form that fits WhatsApp");
    let mut out = String::new();
    for word in label.split(' ') {
        if out.chars().count() + word.chars().count() + 2 > ROW_TITLE_MAX {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out.push('…');
    out
}

/// Text in pieces of at most `max` characters, cut at a paragraph, else a line, else a
/// word end; a single word longer than `max` is cut where it must be.
fn split(text: &str, max: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut rest = text.trim();
    while rest.chars().count() > max {
        let limit = rest.char_indices().nth(max).map_or(rest.len(), |(i, _)| i);
        let window = &rest[..limit];
        let at = ["\n\n", "\n", " "].iter().find_map(|sep| window.rfind(sep).filter(|&i| i > 0)).unwrap_or(limit);
        pieces.push(rest[..at].trim_end().to_string());
        rest = rest[at..].trim_start();
    }
    if !rest.is_empty() {
        pieces.push(rest.to_string());
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn button(label: &str, data: &str) -> OutButton {
        OutButton { label: label.into(), data: data.into(), short: None }
    }

    fn outgoing(text: &str, buttons: Vec<OutButton>) -> Outgoing {
        Outgoing {
            text: text.into(), buttons: vec![buttons], list_button: "Выбрать".into(), ..Outgoing::default()
        }
    }

    #[test]
    fn up_to_three_short_labels_are_reply_buttons() {
        let m = outgoing("Принимаете?", vec![button("Принимаю", "consent:yes"), button("Не принимаю", "consent:no")]);
        let sent = render("7701", &m);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0]["interactive"]["type"], "button");
        assert_eq!(sent[0]["interactive"]["action"]["buttons"][1]["reply"]["id"], "consent:no");
        assert_eq!(sent[0]["interactive"]["body"]["text"], "Принимаете?");
    }

    #[test]
    fn a_twelve_choice_menu_becomes_a_list_with_a_second_page() {
        let choices: Vec<OutButton> = (1..=12).map(|i| button(&format!("Вариант {i}"), &format!("x:{i}"))).collect();
        let sent = render("7701", &outgoing("Что выберете?", choices));
        assert_eq!(sent.len(), 2, "{sent:#?}");
        let rows = |i: usize| sent[i]["interactive"]["action"]["sections"][0]["rows"].as_array().unwrap().len();
        assert_eq!((rows(0), rows(1)), (10, 2));
        assert_eq!(sent[0]["interactive"]["type"], "list");
        assert_eq!(sent[0]["interactive"]["body"]["text"], "Что выберете?");
        assert_eq!(sent[1]["interactive"]["action"]["button"], "Выбрать ▶");
    }

    #[test]
    fn long_labels_use_their_short_form_or_a_list() {
        let mut long = button("Передали экстренным службам", "close:1:1");
        long.short = Some("Экстренные службы".into());
        let sent = render("7701", &outgoing("Итог?", vec![long.clone(), button("Поддержали", "close:1:0")]));
        assert_eq!(sent[0]["interactive"]["action"]["buttons"][0]["reply"]["title"], "Экстренные службы");
        // 21–24 characters and no short form: a list row still takes it whole.
        let entry = button("Пособие по воспитанию 18", "svc:e:x");
        let sent = render("7701", &outgoing("Нашла:", vec![entry]));
        assert_eq!(sent[0]["interactive"]["type"], "list");
        assert_eq!(sent[0]["interactive"]["action"]["sections"][0]["rows"][0]["title"], "Пособие по воспитанию 18");
    }

    #[test]
    fn long_text_is_split_at_paragraphs_and_the_buttons_come_last() {
        let paragraph = "слово ".repeat(150); // 900 characters
        let text = format!("{paragraph}\n\n{paragraph}\n\n{paragraph}\n\n{paragraph}\n\n{paragraph}\n\nКонец.");
        let plain = render("7701", &outgoing(&text, vec![]));
        assert!(
            plain.len() >= 2 && plain.iter().all(|p| p["text"]["body"].as_str().unwrap().chars().count() <= TEXT_MAX)
        );
        let with_buttons = render("7701", &outgoing(&text, vec![button("Ок", "x:1")]));
        let last = with_buttons.last().unwrap();
        let body = last["interactive"]["body"]["text"].as_str().unwrap();
        assert!(body.chars().count() <= BODY_MAX && body.starts_with("слово") && body.ends_with("Конец."), "{body}");
        for p in &with_buttons[..with_buttons.len() - 1] {
            let body = p["text"]["body"].as_str().unwrap();
            assert!(body.chars().count() <= TEXT_MAX && !body.ends_with("сло"), "cut mid-word");
        }
    }
}
