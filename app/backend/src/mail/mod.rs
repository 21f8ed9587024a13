//! Outgoing email. A change that sends mail writes it to the `email_outbox`
//! table in its own transaction ([`enqueue`]); a worker ([`worker::run`])
//! delivers it later over SMTP, or writes it as `.eml` files when no SMTP
//! server is configured. An SMTP outage therefore delays mail and loses none,
//! and several workers never take the same message.

pub mod outbox;
pub mod templates;
pub mod transport;
pub mod worker;

pub use outbox::{OutgoingEmail, QueuedEmail, enqueue, outbox_depth};
pub use templates::MailContent;
pub use transport::{Mailer, SendError};
pub use worker::{DeliveryReport, deliver_due, run};
