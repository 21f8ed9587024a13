use crate::ui::components::card::CardPage;
use crate::ui::layout::answer_with_status;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    answer_with_status(404);
    view! {
        <Title text="Page not found"/>
        <CardPage>
            <h1>"Page not found"</h1>
            <p>"If you typed the address, check it is correct. If you followed a link, it may be out of date."</p>
            <p><a href="/">"Go to the start page"</a></p>
        </CardPage>
    }
}
