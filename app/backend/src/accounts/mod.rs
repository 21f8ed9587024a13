//! People's accounts: stored (`users`), administered within the actor's
//! reach (`administration`), searched (`search`) and maintained by their
//! own person (`profile`).

pub mod administration;
pub mod profile;
pub mod search;
pub mod users;
