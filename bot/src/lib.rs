//! The `qamqor` binary's library: configuration, the HTTP server, channel adapters
//! (Telegram, terminal) and the workers that move messages in and out.
//!
//! Adapters only translate between a messenger and the engine's `Inbound`/`Outgoing`;
//! what happens in a conversation is decided in `qamqor-flows`.

pub mod app;
pub mod cli;
pub mod config;
pub mod http;
pub mod intake;
pub mod outbox;
pub mod telegram;
pub mod terminal;
pub mod whatsapp;
