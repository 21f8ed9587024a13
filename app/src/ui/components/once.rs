//! Loads that hand something over once: the token or secret just made,
//! which the server forgets as it gives it. The server render may build a
//! section more than once (Suspense re-runs its children to find their
//! resources, and abandons the earlier builds), so every build of one
//! request shares the first answer.

use domain::AppError;
use std::future::Future;

/// One load's answer, of whatever type it has.
#[cfg(feature = "ssr")]
type Answer = std::sync::Arc<dyn std::any::Any + Send + Sync>;

/// The cell a load's answer is kept in.
#[cfg(feature = "ssr")]
type Cell = std::sync::Arc<tokio::sync::OnceCell<Answer>>;

/// The answers of this request's once-only loads, by what and whose.
#[cfg(feature = "ssr")]
#[derive(Clone, Default)]
pub struct ThisRequest(
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<(&'static str, i64), Cell>>>,
);

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
    Fut: Future<Output = Result<T, AppError>>,
{
    #[cfg(feature = "ssr")]
    if let Some(ThisRequest(cells)) = leptos::prelude::use_context::<ThisRequest>() {
        let cell = cells
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry((what, id))
            .or_default()
            .clone();
        // Only an answer is kept: a build abandoned before its call could
        // start fails (`Transport`), and the next build calls again.
        let answer = cell
            .get_or_try_init(|| async {
                let value = load().await?;
                Ok::<_, AppError>(
                    std::sync::Arc::new(value) as std::sync::Arc<dyn std::any::Any + Send + Sync>
                )
            })
            .await?;
        // One `what`, one type: the cast cannot fail.
        return answer
            .downcast_ref::<T>()
            .cloned()
            .ok_or(AppError::Transport);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = (what, id);
    load().await
}
