use crate::api::types::CurrentUser;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ProfilePage() -> impl IntoView {
    let user = expect_context::<CurrentUser>();
    let rows = [
        ("First name", user.first_name.clone()),
        ("Last name", user.last_name.clone()),
        ("Email", user.email.clone()),
        ("Username", user.username.clone()),
        ("Initials", user.initials.clone()),
        ("Organisation", user.organisation_name.clone()),
    ];
    view! {
        <Title text="My profile"/>
        <h1>"My profile"</h1>
        <section aria-labelledby="details-heading" class="panel">
            <h2 id="details-heading">"My details"</h2>
            <dl class="details">
                {rows
                    .into_iter()
                    .map(|(term, value)| view! { <div><dt>{term}</dt><dd>{value}</dd></div> })
                    .collect::<Vec<_>>()}
            </dl>
        </section>
    }
}
