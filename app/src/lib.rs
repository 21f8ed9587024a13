//! Gatehouse's app: the pages (`ui`) and the server functions behind them
//! (`api`). Shared by the browser (wasm, `hydrate`) and the server (`ssr`);
//! on the server the server functions call the `backend` crate, which the
//! browser build never sees. Validated and wire types come from `domain`.
#![recursion_limit = "256"]

pub mod api;
pub mod ui;

pub use ui::{App, shell};
