use domain::wire::CurrentUser;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn HomePage() -> impl IntoView {
    let user = expect_context::<CurrentUser>();
    view! {
        <Title text="Home"/>
        <h1>"Welcome, " {user.first_name.clone()}</h1>
        <p>"You are signed in to " <strong>{user.organisation_name.clone()}</strong> " as " {user.username.clone()} "."</p>
        {user.is_platform_admin.then(|| view! { <p class="badge">"Platform administrator"</p> })}
    }
}
