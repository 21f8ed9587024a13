//! Gatehouse's uses of well-kept cryptography crates: random tokens and
//! their hashes, keyed hashes under the server key,
//! and sealing secrets at rest.

pub mod sealing;
pub mod tokens;
