//! Text understanding for Qamqor: what a parent's message says, with no I/O.
//!
//! This crate knows nothing of messengers or databases. It turns text into facts the
//! conversation engine acts on: the language it is written in ([`lang`]), a normalised
//! form for matching ([`text`]) and whether the writer may be in danger ([`distress`]).

pub mod detector;
pub mod distress;
pub mod embed;
pub mod eval;
pub mod head;
pub mod lang;
pub mod model_file;
pub mod stem;
pub mod text;
pub mod words;

pub use distress::{Assessment, Risk};
pub use lang::Lang;
