//! The page a setup link opens: create the first organisation and its
//! administrator, or an administrator of an existing organisation. Every
//! field is checked in the browser by the same domain code the server runs.

use crate::api::setup::{CompleteSetup, setup_link};
use crate::ui::components::card::LinkPage;
use crate::ui::components::form::{
    ErrorSummary, FieldState, NewPasswordField, ServerForm, SubmitButton, TextField, action_error,
    field_error, mark_hydrated, new_password_error, posted_error,
};
use crate::ui::components::person::{NameAndEmailFields, PersonFields, UsernameAndInitialsFields};
use domain::AppError;
use domain::OrganisationName;
use domain::wire::SetupLinkInfo;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SetupPage() -> impl IntoView {
    view! {
        <Title text="Set up Gatehouse"/>
        <LinkPage look_up=setup_link show=show_setup wide=true/>
    }
}

fn show_setup(token: String, link: Result<SetupLinkInfo, AppError>) -> AnyView {
    match link {
        Ok(info) => {
            view! { <SetupForm token info initial_error={posted_error::<CompleteSetup>()} /> }
                .into_any()
        }
        Err(AppError::LinkExpired) => view! { <ExpiredLink/> }.into_any(),
        Err(other) => view! {
            <h1>"Set up Gatehouse"</h1>
            <p role="alert" class="error-summary">{other.to_string()}</p>
        }
        .into_any(),
    }
}

#[component]
fn ExpiredLink() -> impl IntoView {
    view! {
        <h1>"This setup link cannot be used"</h1>
        <p>"It has expired, has already been used, or a newer link replaced it."</p>
        <p>"Ask your platform administrator for a new link. They can print one with "
            <code>"gatehouse create-admin"</code> "."</p>
    }
}

/// An island: the only part of the page that runs in the browser.
#[island]
fn SetupForm(token: String, info: SetupLinkInfo, initial_error: Option<AppError>) -> impl IntoView {
    mark_hydrated();
    let action = ServerAction::<CompleteSetup>::new();
    let submitted = action_error(action, initial_error);
    let token_arg = token.clone();
    let organisation = FieldState::new("organisation_name");
    let person = PersonFields::new(submitted);
    let password = FieldState::new("password");

    let organisation_error = field_error(
        organisation,
        "organisation_name",
        |v| OrganisationName::parse(v).err().map(|e| e.message),
        submitted,
    );
    let password_error = new_password_error(password, submitted, move || {
        [person.first, person.last, person.username, person.email].map(|f| f.value.get_untracked())
    });

    let heading = if info.creates_organisation {
        "Set up your organisation".to_owned()
    } else {
        format!(
            "Create an administrator for {}",
            info.organisation_name.clone().unwrap_or_default()
        )
    };
    let button = if info.creates_organisation {
        "Create organisation"
    } else {
        "Create administrator"
    };
    view! {
        <h1>{heading}</h1>
        <p>"This link works once. You will be signed in when you finish."</p>
        <ServerForm
            action=action
            args=move || CompleteSetup {
                token: token_arg.clone(),
                organisation_name: organisation.value.get_untracked(),
                first_name: person.first.value.get_untracked(),
                last_name: person.last.value.get_untracked(),
                email: person.email.value.get_untracked(),
                username: person.username.value.get_untracked(),
                generate_username: person.generate_username_arg(),
                initials: person.initials.value.get_untracked(),
                password: password.value.get_untracked(),
            }
        >
            <ErrorSummary error=submitted/>
            <input type="hidden" name="token" value=token/>
            {info.creates_organisation.then(|| view! {
                <TextField label="Organisation name" name="organisation_name" state=organisation error=organisation_error autocomplete="organization"/>
            })}
            <fieldset>
                <legend>"Your account"</legend>
                <NameAndEmailFields fields=person email_hint="We send sign-in and password emails to this address."/>
                <UsernameAndInitialsFields fields=person/>
                <NewPasswordField state=password error=password_error/>
            </fieldset>
            <SubmitButton label=button pending=action.pending()/>
        </ServerForm>
    }
}
