//! Pages reached from email links: activate the account, or set a new
//! password; and the forgotten-password form they fall back to.

use crate::api::onboarding::{ChoosePassword, ForgottenPassword, password_link};
use crate::ui::components::card::{CardPage, LinkPage};
use crate::ui::components::form::{
    ErrorSummary, FieldState, NewPasswordField, PlainField, ServerForm, SubmitButton, action_error,
    mark_hydrated, new_password_error, posted_error,
};
use domain::AppError;
use domain::wire::PasswordLinkInfo;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn PasswordLinkPage() -> impl IntoView {
    view! { <LinkPage look_up=password_link show=show_password_link wide=true/> }
}

fn show_password_link(token: String, link: Result<PasswordLinkInfo, AppError>) -> AnyView {
    match link {
        Ok(info) => view! { <ChoosePasswordForm token info initial_error={posted_error::<ChoosePassword>()} /> }.into_any(),
        Err(AppError::LinkExpired) => view! { <LinkExpired/> }.into_any(),
        Err(error) => view! { <p role="alert">{error.to_string()}</p> }.into_any(),
    }
}

#[component]
fn LinkExpired() -> impl IntoView {
    view! {
        <Title text="Link expired or used"/>
        <h1>"This link has expired or has already been used"</h1>
        <p>"Links in our emails work once, for a limited time, and a newer email replaces older links. \
            Ask for a new link below: we will email it to you, and it works for an hour."</p>
        <ForgottenPasswordForm/>
    }
}

#[island]
fn ChoosePasswordForm(
    token: String,
    info: PasswordLinkInfo,
    initial_error: Option<AppError>,
) -> impl IntoView {
    mark_hydrated();
    let action = ServerAction::<ChoosePassword>::new();
    let submitted = action_error(action, initial_error);
    let token_arg = token.clone();
    let password = FieldState::new("password");
    let context_info = info.clone();
    let password_error = new_password_error(password, submitted, move || {
        [
            context_info.first_name.clone(),
            context_info.last_name.clone(),
            context_info.username.clone(),
            context_info.email.clone(),
        ]
    });
    let (title, heading, button) = if info.is_welcome {
        (
            "Activate your account",
            format!("Welcome to {}", info.organisation_name),
            "Activate account",
        )
    } else {
        (
            "Choose a new password",
            "Choose a new password".to_owned(),
            "Set password",
        )
    };
    view! {
        <Title text=title/>
        <h1>{heading}</h1>
        <p>{format!("{} {}, your username is ", info.first_name, info.last_name)}<strong>{info.username.clone()}</strong>"."</p>
        <ServerForm
            action=action
            args=move || ChoosePassword { token: token_arg.clone(), password: password.value.get_untracked() }
        >
            <ErrorSummary error=submitted/>
            <input type="hidden" name="token" value=token/>
            <NewPasswordField state=password error=password_error/>
            <SubmitButton label=button pending=action.pending()/>
        </ServerForm>
    }
}

#[component]
pub fn ForgottenPasswordPage() -> impl IntoView {
    let sent = use_query_map().with_untracked(|q| q.get("sent").is_some());
    view! {
        <Title text="Forgotten password"/>
        <CardPage>
                <h1>"Forgotten password"</h1>
                {if sent {
                    view! {
                        <p role="status" class="notice">
                            "If an account uses that username or email address, we have sent it an email with a link. \
                             The link works for an hour."
                        </p>
                        <p><a href="/sign-in">"Back to sign in"</a></p>
                    }.into_any()
                } else {
                    view! {
                        <p>"Enter your username or email address and we will email you a link to choose a new password."</p>
                        <ForgottenPasswordForm/>
                    }.into_any()
                }}
        </CardPage>
    }
}

/// Server-rendered (no island): it posts as a plain form and the answer page
/// says the same whatever the address.
#[component]
fn ForgottenPasswordForm() -> impl IntoView {
    let action = ServerAction::<ForgottenPassword>::new();
    let error = posted_error::<ForgottenPassword>();
    view! {
        <ActionForm action=action>
            <ErrorSummary error=Signal::stored(error.clone())/>
            <PlainField label="Username or email" name="login" error=error.clone() autocomplete="username"/>
            <button type="submit" class="button primary">"Email me a link"</button>
        </ActionForm>
    }
}
