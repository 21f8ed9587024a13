//! Counts the SQL statements each request runs. sqlx reports every statement
//! as a `tracing` event (target `sqlx::query`), inside the span of the
//! request that ran it (`request`, with its `request_id`); a subscriber for
//! just those, installed once for the whole test binary, adds them up per
//! request id until the request is answered (the trace layer's response
//! event; the span itself may live on in a task the render left behind).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

/// Statements per finished request, by request id.
fn finished() -> &'static Mutex<HashMap<String, usize>> {
    static FINISHED: OnceLock<Mutex<HashMap<String, usize>>> = OnceLock::new();
    FINISHED.get_or_init(Default::default)
}

/// Starts counting (once per test binary).
pub fn count_statements() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let _ = tracing_subscriber::registry()
            .with(StatementCounter)
            .try_init();
    });
}

/// The statements the request `request_id` ran, once it has been answered.
pub fn statements_of(request_id: &str) -> Option<usize> {
    finished()
        .lock()
        .map_or(None, |finished| finished.get(request_id).copied())
}

/// Whether an event's statement sets up a connection (`PRAGMA …`).
struct Statement(bool);

impl Visit for Statement {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "db.statement" {
            self.0 = format!("{value:?}").contains("PRAGMA ");
        }
    }
}

struct Counting {
    request_id: String,
    statements: AtomicUsize,
}

struct StatementCounter;

fn is_request(metadata: &Metadata<'_>) -> bool {
    metadata.is_span() && metadata.name() == "request"
}

fn is_statement(metadata: &Metadata<'_>) -> bool {
    metadata.is_event() && metadata.target() == "sqlx::query"
}

fn is_answer(metadata: &Metadata<'_>) -> bool {
    metadata.is_event() && metadata.target() == "tower_http::trace::on_response"
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for StatementCounter {
    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        is_request(metadata) || is_statement(metadata) || is_answer(metadata)
    }

    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, context: Context<'_, S>) {
        if !is_request(attributes.metadata()) {
            return;
        }
        struct RequestId(String);
        impl Visit for RequestId {
            fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
                if field.name() == "request_id" {
                    self.0 = format!("{value:?}");
                }
            }
        }
        let mut request_id = RequestId(String::new());
        attributes.record(&mut request_id);
        if let Some(span) = context.span(id) {
            span.extensions_mut().insert(Counting {
                request_id: request_id.0,
                statements: AtomicUsize::new(0),
            });
        }
    }

    fn on_event(&self, event: &Event<'_>, context: Context<'_, S>) {
        if is_answer(event.metadata()) {
            let Some(span) = context.event_span(event) else {
                return;
            };
            if let Some(counting) = span.extensions().get::<Counting>()
                && let Ok(mut finished) = finished().lock()
            {
                finished.insert(
                    counting.request_id.clone(),
                    counting.statements.load(Ordering::Relaxed),
                );
            }
            return;
        }
        if !is_statement(event.metadata()) {
            return;
        }
        // A new connection's settings are the pool's cost, not the request's.
        let mut statement = Statement(false);
        event.record(&mut statement);
        if statement.0 {
            return;
        }
        let Some(scope) = context.event_scope(event) else {
            return;
        };
        for span in scope {
            if let Some(counting) = span.extensions().get::<Counting>() {
                counting.statements.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
    }
}
