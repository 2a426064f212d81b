//! Qamqor's conversation engine and domain.
//!
//! `flows` decides what happens when a person writes: onboarding, the main menu, data
//! rights, the services guide, and the crisis path from a parent's message to a
//! psychologist (booking and peer groups come later). It stores everything through [`storage`] and renders texts
//! through [`i18n`], but it knows nothing of Telegram or WhatsApp: channel adapters live
//! in the `qamqor` binary.
//! To find what happens when a parent presses a button, start at [`conversation`].

pub mod cases;
pub mod conversation;
pub mod duty;
pub mod engine;
pub mod i18n;
pub mod inbound;
pub mod screen;
pub mod state;
pub mod storage;

mod crisis;
mod menu;
mod onboarding;
mod privacy;
mod services;
mod sla;
mod staff;

pub use duty::Duty;
pub use engine::{Clock, Engine};
pub use inbound::{Address, Channel, Event, Inbound, Media};
pub use screen::{OutButton, Outgoing};
pub use storage::Db;
