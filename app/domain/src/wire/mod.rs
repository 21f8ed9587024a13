//! Every type that crosses the wire between the browser and the server
//! functions, in one namespace. Nothing secret is in here, except what a
//! page shows its own person once (a new key, recovery codes, a token).

mod access;
mod accounts;
mod api_reference;
mod api_tokens;
mod applications;
mod audit;
mod two_factor;

pub use access::*;
pub use accounts::*;
pub use api_reference::*;
pub use api_tokens::*;
pub use applications::*;
pub use audit::*;
pub use two_factor::*;
