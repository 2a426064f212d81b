//! The WhatsApp Cloud API adapter, inbound half: the webhook at `/webhooks/whatsapp`.
//!
//! `GET` is Meta's verification handshake. `POST` carries messages and status callbacks,
//! signed with the app secret: the signature is checked on the raw bytes, in constant
//! time, before anything is parsed. Every message becomes an `Inbound` keyed by its
//! `wamid`, so Meta's redeliveries (for days, in any order) are dropped by the inbox;
//! status callbacks are logged, never taken for messages. The answer is 200 only once
//! every message of the delivery is committed, so a failure makes Meta deliver again.

use crate::intake::Intake;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use hmac::{Hmac, Mac};
use qamqor_flows::{Address, Channel, Event, Inbound, Media};
use serde::Deserialize;
use sha2::Sha256;
use std::collections::HashMap;
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
    let Some(expected) = decode_hex(hex) else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() % 2 != 0 {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
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
    Inbound { address: Address::new(Channel::Whatsapp, m.from.clone()), external_id: m.id.clone(), event }
}
