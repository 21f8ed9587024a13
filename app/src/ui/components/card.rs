//! The single-card pages outside the signed-in shell (sign-in, links, setup).

use domain::AppError;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::{Serialize, de::DeserializeOwned};
use std::future::Future;

/// `<main>` with one card, headed by the product's name.
#[component]
pub fn CardPage(#[prop(optional)] wide: bool, children: Children) -> impl IntoView {
    view! {
        <main id="main" class="auth-page">
            <div class="card" class:wide=wide>
                <p class="brand">"Gatehouse"</p>
                {children()}
            </div>
        </main>
    }
}

/// A page opened from a one-time link: the token comes from the address and
/// `look_up` (which consumes nothing) says what the link is for; `show` gets
/// the token and that answer.
#[component]
pub fn LinkPage<T, Fut>(
    look_up: fn(String) -> Fut,
    show: fn(String, Result<T, AppError>) -> AnyView,
    #[prop(optional)] wide: bool,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    Fut: Future<Output = Result<T, AppError>> + Send + 'static,
{
    let token = use_params_map().with_untracked(|p| p.get("token").unwrap_or_default());
    let key = token.clone();
    let link = Resource::new(move || key.clone(), look_up);
    view! {
        <CardPage wide>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Checking your link…"</p> }>
                {move || {
                    let token = token.clone();
                    Suspend::new(async move { show(token, link.await) })
                }}
            </Suspense>
        </CardPage>
    }
}
