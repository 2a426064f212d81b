//! The Telegram adapter: Bot API updates become `Inbound` events; `Outgoing` messages
//! become messages with inline keyboards. No business logic here.
//!
//! Sending goes through teloxide's `Throttle` (about 30 messages/s overall, 1/s per
//! chat) with its own retries off, so a 429's `retry_after` reaches the outbox, which
//! schedules the message again instead of losing it.

use crate::config::{TelegramConfig, Webhook};
use crate::intake::Intake;
use crate::outbox::{Deliver, DeliveryError};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use futures_util::StreamExt;
use qamqor_flows::{Address, Channel, Event, Inbound, Media, Outgoing};
use std::time::Duration;
use subtle::ConstantTimeEq;
use teloxide::adaptors::Throttle;
use teloxide::adaptors::throttle::{Limits, Settings};
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, MessageId, UpdateKind};
use teloxide::update_listeners::{AsUpdateStream, Polling, UpdateListener};
use teloxide::{ApiError, RequestError};
use tokio::sync::watch;

#[derive(Clone)]
pub struct Telegram {
    bot: Throttle<Bot>,
}

impl Telegram {
    /// Must be called inside the runtime: the throttle runs a worker task.
    pub fn new(config: &TelegramConfig) -> Telegram {
        let mut bot = Bot::new(&config.token);
        if let Some(url) = &config.api_url {
            bot = bot.set_api_url(url.clone());
        }
        let settings = Settings::default().limits(Limits::default()).no_retry();
        Telegram { bot: Throttle::spawn_with_settings(bot, settings) }
    }

    /// Hands one update in. A button press is acknowledged to Telegram at once, so the
    /// person's button stops spinning even before the answer is ready.
    async fn receive(&self, intake: &Intake, update: Update) -> anyhow::Result<()> {
        if let UpdateKind::CallbackQuery(query) = &update.kind
            && let Err(error) = self.bot.answer_callback_query(query.id.clone()).await
        {
            tracing::warn!(error = describe(&error), "answerCallbackQuery failed");
        }
        if let Some(inbound) = inbound(&update) {
            intake.receive(inbound).await?;
        }
        Ok(())
    }

    /// Long polling until `stop`. Telegram redelivers what was not confirmed, and the
    /// inbox drops what it already has.
    pub async fn poll(self, intake: Intake, mut stop: watch::Receiver<bool>) {
        let mut listener =
            Polling::builder(self.bot.clone()).timeout(Duration::from_secs(25)).delete_webhook().await.build();
        let stop_token = listener.stop_token();
        let stream = listener.as_stream();
        tokio::pin!(stream);
        loop {
            let next = tokio::select! {
                next = stream.next() => next,
                _ = stop.changed() => { stop_token.stop(); return; }
            };
            match next {
                None => return,
                Some(Ok(update)) => {
                    if let Err(error) = self.receive(&intake, update).await {
                        tracing::error!(%error, "a Telegram update could not be stored");
                    }
                }
                Some(Err(error)) => {
                    tracing::warn!(error = describe(&error), "Telegram getUpdates failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// Registers the webhook with Telegram and returns its route, `/webhooks/telegram`.
    pub async fn webhook(self, intake: Intake, webhook: &Webhook) -> anyhow::Result<Router> {
        let registered = self.bot.set_webhook(webhook.url.clone()).secret_token(webhook.secret.clone()).await;
        registered.map_err(|e| anyhow::anyhow!("Telegram setWebhook failed: {}", describe(&e)))?;
        let state = WebhookState { telegram: self, intake, secret: webhook.secret.clone() };
        Ok(Router::new().route("/webhooks/telegram", post(on_webhook)).with_state(state))
    }
}

#[derive(Clone)]
struct WebhookState {
    telegram: Telegram,
    intake: Intake,
    secret: String,
}

/// Telegram signs nothing; it sends the secret we registered in a header, which is
/// compared in constant time. 200 only once the update is committed, so a failure
/// makes Telegram deliver again.
async fn on_webhook(State(s): State<WebhookState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let given = headers.get("x-telegram-bot-api-secret-token").map(|v| v.as_bytes()).unwrap_or_default();
    if !bool::from(given.ct_eq(s.secret.as_bytes())) {
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(update) = serde_json::from_slice::<Update>(&body) else {
        tracing::warn!(bytes = body.len(), "malformed Telegram webhook body rejected");
        return StatusCode::BAD_REQUEST;
    };
    match s.telegram.receive(&s.intake, update).await {
        Ok(()) => StatusCode::OK,
        Err(error) => {
            tracing::error!(%error, "a Telegram update could not be stored");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// Translates an update from a private chat; anything else is not for Qamqor (yet).
pub fn inbound(update: &Update) -> Option<Inbound> {
    let (chat, event) = match &update.kind {
        UpdateKind::Message(m) | UpdateKind::EditedMessage(m) if m.chat.is_private() => (m.chat.id, message_event(m)),
        UpdateKind::CallbackQuery(q) => {
            let message = q.message.as_ref();
            if message.is_some_and(|m| !m.chat().is_private()) {
                return None;
            }
            let chat = message.map_or(ChatId(q.from.id.0 as i64), |m| m.chat().id);
            let event = Event::Button {
                data: q.data.clone().unwrap_or_default(),
                message: message.map(|m| m.id().0.to_string()),
            };
            (chat, event)
        }
        _ => return None,
    };
    Some(Inbound {
        address: Address::new(Channel::Telegram, chat.0.to_string()),
        external_id: update.id.0.to_string(),
        event,
        sent_at: None,
    })
}

fn message_event(m: &Message) -> Event {
    if let Some(text) = m.text() {
        return Event::Text { text: text.to_string() };
    }
    let media = if m.sticker().is_some() {
        Media::Sticker
    } else if m.photo().is_some() {
        Media::Photo
    } else if m.voice().is_some() {
        Media::Voice
    } else if m.video().is_some() || m.video_note().is_some() {
        Media::Video
    } else if m.document().is_some() {
        Media::Document
    } else if m.location().is_some() || m.venue().is_some() {
        Media::Location
    } else if m.contact().is_some() {
        Media::Contact
    } else {
        Media::Other
    };
    Event::Media { media, caption: m.caption().map(str::to_string) }
}

fn keyboard(message: &Outgoing) -> Option<InlineKeyboardMarkup> {
    (!message.buttons.is_empty()).then(|| {
        InlineKeyboardMarkup::new(message.buttons.iter().map(|row| {
            row.iter().map(|b| InlineKeyboardButton::callback(b.label.clone(), b.data.clone())).collect::<Vec<_>>()
        }))
    })
}

/// What went wrong, for logs and the outbox, without anything a person wrote: teloxide's
/// own `Display` can carry a raw response body (parents' messages, for getUpdates) or a
/// URL with the bot token.
fn describe(error: &RequestError) -> String {
    match error {
        RequestError::Api(e) => format!("telegram: {e}"),
        RequestError::RetryAfter(_) => "retry_after".into(),
        RequestError::MigrateToChatId(_) => "chat migrated to a supergroup".into(),
        RequestError::Network(e) if e.is_timeout() => "network: timeout".into(),
        RequestError::Network(e) if e.is_connect() => "network: cannot connect".into(),
        RequestError::Network(_) => "network".into(),
        RequestError::InvalidJson { .. } => "invalid JSON from Telegram".into(),
        RequestError::Io(e) => format!("io: {}", e.kind()),
    }
}

fn classify(error: RequestError) -> DeliveryError {
    match &error {
        RequestError::RetryAfter(wait) => DeliveryError::RetryAfter(wait.duration()),
        RequestError::Network(_)
        | RequestError::Io(_)
        | RequestError::InvalidJson { .. }
        | RequestError::Api(ApiError::Unknown(_)) => DeliveryError::Transient(describe(&error)),
        RequestError::Api(_) | RequestError::MigrateToChatId(_) => DeliveryError::Permanent(describe(&error)),
    }
}

impl Deliver for Telegram {
    async fn deliver(&self, chat: &str, message: &Outgoing) -> Result<(), DeliveryError> {
        let chat = ChatId(chat.parse().map_err(|_| DeliveryError::Permanent("not a Telegram chat id".into()))?);
        let markup = keyboard(message);
        if let Some(id) = message.replaces.as_deref().and_then(|id| id.parse().ok()) {
            let edit = self.bot.edit_message_text(chat, MessageId(id), &message.text);
            let edited = match markup.clone() {
                Some(k) => edit.reply_markup(k).await,
                None => edit.await,
            };
            match edited {
                Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => return Ok(()),
                // Too old or gone to edit: say it in a new message instead.
                Err(RequestError::Api(_)) => {}
                Err(error) => return Err(classify(error)),
            }
        }
        let send = self.bot.send_message(chat, &message.text);
        let sent = match markup {
            Some(k) => send.reply_markup(k).await,
            None => send.await,
        };
        sent.map(|_| ()).map_err(classify)
    }
}
