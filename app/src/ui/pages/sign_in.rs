use crate::api::SignIn;
use crate::api::two_factor::SignInCode;
use crate::ui::components::card::CardPage;
use crate::ui::components::form::{ErrorSummary, PlainField, posted_error};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Sign-in is a plain server-rendered form: it needs nothing from the
/// browser but a form post, and leaving it out of the wasm keeps the bundle
/// for the forms that check as you type.
#[component]
pub fn SignInPage() -> impl IntoView {
    let next = use_query_map().with_untracked(|q| q.get("next").unwrap_or_default());
    let notice = use_query_map().with_untracked(|q| match q.get("notice").as_deref() {
        Some("email_change_undone") => Some(
            "Your email address is kept and your account is signed out everywhere. Choose a new password with “Forgotten your password?” if someone else may know it.",
        ),
        Some("signed_out") => Some("You are signed out of Gatehouse and its applications."),
        _ => None,
    });
    let action = ServerAction::<SignIn>::new();
    let error = posted_error::<SignIn>();
    view! {
        <Title text="Sign in"/>
        <CardPage>
                <h1>"Sign in"</h1>
                {notice.map(|text| view! { <p class="notice" role="status">{text}</p> })}
                <ActionForm action=action attr:novalidate=true>
                    <ErrorSummary error=Signal::stored(error.clone())/>
                    <PlainField label="Username or email" name="login" error=error.clone() autocomplete="username"/>
                    <PlainField label="Password" name="password" error=error.clone() input_type="password" autocomplete="current-password"/>
                    <input type="hidden" name="next" value=next/>
                    <button type="submit" class="button primary">"Sign in"</button>
                </ActionForm>
                <p><a href="/forgotten-password">"Forgotten your password?"</a></p>
        </CardPage>
    }
}

/// The second step for people who have enrolled in two-factor
/// authentication: a code from their app, or a recovery code.
#[component]
pub fn SignInCodePage() -> impl IntoView {
    let next = use_query_map().with_untracked(|q| q.get("next").unwrap_or_default());
    let action = ServerAction::<SignInCode>::new();
    let error = posted_error::<SignInCode>();
    view! {
        <Title text="Enter your authentication code"/>
        <CardPage>
                <h1>"Enter your authentication code"</h1>
                <ActionForm action=action attr:novalidate=true>
                    <ErrorSummary error=Signal::stored(error.clone())/>
                    <PlainField
                        label="Authentication code"
                        name="code"
                        error=error
                        autocomplete="one-time-code"
                        hint="The 6-digit code your authenticator app shows now, or one of your recovery codes."
                    />
                    <input type="hidden" name="next" value=next/>
                    <button type="submit" class="button primary">"Sign in"</button>
                </ActionForm>
                <p><a href="/sign-in">"Start again"</a></p>
        </CardPage>
    }
}
