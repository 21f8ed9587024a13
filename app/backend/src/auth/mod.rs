//! Proving who someone is: sessions, password sign-in and hashing,
//! two-factor authentication, confirming it is still them, known browsers,
//! where they go next, and the throttling that counts every guess.

pub mod devices;
pub mod passwords;
pub mod reauthentication;
pub mod redirect;
pub mod sessions;
pub mod sign_in;
pub mod throttle;
pub mod two_factor;
