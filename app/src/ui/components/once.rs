//! Loads run once per request. The server render may build a section more
//! than once (Suspense re-runs its children to find their resources, and
//! abandons the earlier builds): every build of one request shares the
//! first answer. That halves a page's queries, and is what makes loads
//! that hand something over once (the token or secret just made, which the
//! server forgets as it gives it) show it at all.

use domain::AppError;
use std::future::Future;

/// One load's answer, of whatever type it has.
#[cfg(feature = "ssr")]
type Answer = std::sync::Arc<dyn std::any::Any + Send + Sync>;

/// One load, shared by every build that asks for it: whichever build polls
/// it drives it, so one build abandoned mid-load (never polled again)
/// cannot leave the others waiting.
#[cfg(feature = "ssr")]
type Load = futures::future::Shared<futures::future::BoxFuture<'static, Result<Answer, AppError>>>;

/// The loads of this request, by what and whose.
#[cfg(feature = "ssr")]
#[derive(Clone, Default)]
pub struct ThisRequest(
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<(&'static str, i64), Load>>>,
);

/// A key for `once_per_request` from whatever a load depends on.
pub fn key(value: &impl std::hash::Hash) -> i64 {
    use std::hash::Hasher;
    let mut hasher = std::hash::DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish().cast_signed()
}

/// `load()` once per request for `(what, id)`; `what` names one kind of
/// answer (one `T`).
pub async fn once_per_request<T, F, Fut>(
    what: &'static str,
    id: i64,
    load: F,
) -> Result<T, AppError>
where
    T: Clone + Send + Sync + 'static,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, AppError>> + Send + 'static,
{
    #[cfg(feature = "ssr")]
    if let Some(ThisRequest(loads)) = leptos::prelude::use_context::<ThisRequest>() {
        use futures::FutureExt;
        let shared = loads
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry((what, id))
            .or_insert_with(|| {
                let load = load();
                async move { load.await.map(|value| std::sync::Arc::new(value) as Answer) }
                    .boxed()
                    .shared()
            })
            .clone();
        // One `what`, one type: the cast cannot fail.
        return shared
            .await?
            .downcast_ref::<T>()
            .cloned()
            .ok_or(AppError::Transport);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = (what, id);
    load().await
}
