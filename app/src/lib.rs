//! Gatehouse: account administration for organisations. This crate is shared
//! by the browser (wasm, `hydrate`) and the server (`ssr`).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![recursion_limit = "256"]

pub mod api;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod domain;
pub mod error;
#[cfg(feature = "ssr")]
pub mod rest;
pub mod ui;

pub use ui::{App, shell};
