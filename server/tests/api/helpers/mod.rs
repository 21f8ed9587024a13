//! What every test file uses: `TestApp` (the real router on port 0 with a
//! fresh database, driven over HTTP) and the helpers around it, one file per
//! part of the product they serve. Everything is re-exported here, so a test
//! file needs only `use crate::helpers::*;`.

mod accounts;
mod app;
mod rest;
mod statements;
mod two_factor;

pub use accounts::*;
pub use app::*;
pub use rest::*;
pub use statements::*;
pub use two_factor::*;
