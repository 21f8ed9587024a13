//! Where an email stands, in words, for the user page and the platform
//! administrator's list of undelivered mail.

use domain::wire::{DeliveryState, EmailDelivery};

/// "Welcome email, queued 2026-12-06 09:00 UTC: sent 2026-12-06 09:00 UTC."
pub fn delivery_text(email: &EmailDelivery) -> String {
    format!(
        "{}, queued {}: {}",
        email.what,
        email.queued_at,
        state_text(&email.state)
    )
}

fn state_text(state: &DeliveryState) -> String {
    let attempts = |count: i64| {
        if count == 1 {
            "1 attempt".to_owned()
        } else {
            format!("{count} attempts")
        }
    };
    match state {
        DeliveryState::Waiting => "waiting to be sent.".to_owned(),
        DeliveryState::Sent { at } => format!("sent {at}."),
        DeliveryState::Retrying {
            attempts: count,
            reason,
            next_attempt_at,
        } => format!(
            "not delivered after {} ({}). Trying again {next_attempt_at}.",
            attempts(*count),
            reason.trim_end_matches('.')
        ),
        DeliveryState::Failed {
            attempts: count,
            reason,
            at,
        } => format!(
            "failed after {} ({}); given up {at}. Send a new one.",
            attempts(*count),
            reason.trim_end_matches('.')
        ),
    }
}
