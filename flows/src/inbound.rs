//! What arrives from a messenger, after its adapter translated it.

use serde::{Deserialize, Serialize};

/// A messenger (or the terminal) that Qamqor talks through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Telegram,
    Whatsapp,
    Terminal,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Telegram => "telegram",
            Channel::Whatsapp => "whatsapp",
            Channel::Terminal => "terminal",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "telegram" => Some(Channel::Telegram),
            "whatsapp" => Some(Channel::Whatsapp),
            "terminal" => Some(Channel::Terminal),
            _ => None,
        }
    }
}

/// Where a conversation lives: a channel and the chat's id on it. One person, one chat.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Address {
    pub channel: Channel,
    pub chat: String,
}

impl Address {
    pub fn new(channel: Channel, chat: impl Into<String>) -> Self {
        Address { channel, chat: chat.into() }
    }
}

/// One thing a person did in a chat, with the messenger's own id for it, which makes
/// redeliveries recognisable.
#[derive(Clone, Debug, PartialEq)]
pub struct Inbound {
    pub address: Address,
    pub external_id: String,
    pub event: Event,
    /// When the person sent it, by the messenger's clock (UTC milliseconds), where that
    /// matters: WhatsApp's 24-hour window runs from it.
    pub sent_at: Option<i64>,
}

/// What the person did, in the engine's terms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// Typed text, including commands such as `/start`.
    Text { text: String },
    /// A button press: the button's action data, and the id of the message that carried
    /// the button where the channel can edit it in place.
    Button { data: String, message: Option<String> },
    /// Anything that is not text: the bot cannot read it, but a caption is still text.
    Media { media: Media, caption: Option<String> },
}

impl Event {
    /// The words the person wrote, if any: what the distress detector must see.
    pub fn free_text(&self) -> Option<&str> {
        match self {
            Event::Text { text } => Some(text),
            Event::Media { caption, .. } => caption.as_deref(),
            Event::Button { .. } => None,
        }
    }
}

/// Kinds of non-text messages. A voice note is told apart: its sender may be unable to type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Media {
    Sticker,
    Photo,
    Voice,
    Video,
    Document,
    Location,
    Contact,
    Other,
}
