//! Text understanding for Qamqor: what a parent's message says, with no I/O.
//!
//! This crate knows nothing of messengers or databases. It turns text into facts the
//! conversation engine acts on: the language it is written in ([`lang`]), a normalised
//! form for matching ([`text`]), whether the writer may be in danger ([`distress`]) and which
//! services answer their question ([`catalog`], [`search`]).

pub mod catalog;
pub mod detector;
pub mod distress;
pub mod embed;
pub mod eval;
pub mod head;
pub mod intent;
pub mod lang;
pub mod linear;
pub mod model_file;
pub mod q4;
pub mod search;
pub mod stem;
pub mod text;
pub mod words;

pub use distress::{Assessment, Risk};
pub use intent::Intent;
pub use lang::Lang;
