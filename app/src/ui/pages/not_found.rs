use crate::ui::components::card::CardPage;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found"/>
        <CardPage>
            <h1>"Page not found"</h1>
            <p>"If you typed the address, check it is correct. If you followed a link, it may be out of date."</p>
            <p><a href="/">"Go to the start page"</a></p>
        </CardPage>
    }
}
