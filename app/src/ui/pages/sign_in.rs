use crate::api::SignIn;
use crate::domain::Login;
use crate::error::AppError;
use crate::ui::components::form::{
    ErrorSummary, FieldState, SubmitButton, TextField, action_error, field_error, mark_hydrated,
    posted_error,
};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SignInPage() -> impl IntoView {
    let next = use_query_map().with_untracked(|q| q.get("next").unwrap_or_default());
    view! {
        <Title text="Sign in"/>
        <main id="main" class="auth-page">
            <div class="card">
                <p class="brand">"Gatehouse"</p>
                <h1>"Sign in"</h1>
                <SignInForm next initial_error={posted_error::<SignIn>()} />
            </div>
        </main>
    }
}

/// The form is an island: it posts as a plain form without JavaScript, and
/// with it shows errors in place, without a page load.
#[island]
fn SignInForm(next: String, initial_error: Option<AppError>) -> impl IntoView {
    mark_hydrated();
    let action = ServerAction::<SignIn>::new();
    let submitted = action_error(action, initial_error);
    let login = FieldState::new("");
    let password = FieldState::new("");
    let login_error = field_error(
        login,
        "login",
        |v| Login::parse(v).err().map(|e| e.message),
        submitted,
    );
    let password_error = field_error(
        password,
        "password",
        |v| v.is_empty().then(|| "Enter your password".to_owned()),
        submitted,
    );
    view! {
        <ActionForm action=action attr:novalidate=true>
            <ErrorSummary error=submitted/>
            <TextField label="Username or email" name="login" state=login error=login_error autocomplete="username"/>
            <TextField
                label="Password"
                name="password"
                state=password
                error=password_error
                input_type="password"
                autocomplete="current-password"
            />
            <input type="hidden" name="next" value=next/>
            <SubmitButton label="Sign in" pending=action.pending()/>
        </ActionForm>
    }
}
