//! Leptos' reactive owners, as Gatehouse's server functions use them: a
//! server function called during a page render reads `AppState` and the
//! request through `use_context`, and may still run after its render was
//! torn down. Such a lookup must never hang its thread (vendor/README.md).

use leptos::prelude::{Owner, provide_context, use_context};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A context value whose `Clone` lets go of the render's root, as a render
/// torn down on another thread at that moment would.
struct LastHandleOfTheRoot(Arc<Mutex<Option<Owner>>>);

impl Clone for LastHandleOfTheRoot {
    fn clone(&self) -> Self {
        let root = self.0.lock().expect("slot").take();
        drop(root);
        LastHandleOfTheRoot(Arc::clone(&self.0))
    }
}

#[test]
fn a_context_lookup_that_outlives_its_render_returns_instead_of_hanging() {
    let slot = Arc::new(Mutex::new(None));
    let root = Owner::new();
    root.with(|| provide_context(LastHandleOfTheRoot(Arc::clone(&slot))));
    let resource = root.with(Owner::new);
    *slot.lock().expect("slot") = Some(root);
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let found = resource.with(use_context::<LastHandleOfTheRoot>);
        let _ = done.send(found.is_some());
    });
    assert_eq!(
        finished.recv_timeout(Duration::from_secs(10)),
        Ok(true),
        "the lookup hung (or found nothing) once it held the root's last handle"
    );
}
