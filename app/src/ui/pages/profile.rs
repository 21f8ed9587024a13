//! *My profile*: the person's own details, email address, password and
//! sessions. Server-rendered forms: they work without JavaScript and add
//! nothing to the browser bundle.

use crate::api::profile::{
    ChangeMyEmail, ChangeMyPassword, ConfirmEmail, EndMySession, UndoEmailChange, UpdateMyDetails,
    email_change_link, email_change_undo_link, profile,
};
use crate::api::two_factor::{ChangeTwoFactor, my_two_factor};
use crate::ui::components::card::LinkPage;
use crate::ui::components::form::{ErrorSummary, PlainField, posted_error};
use crate::ui::components::once::once_per_request;
use crate::ui::layout::ErrorPanel;
use crate::ui::pages::applications::MyApplicationsSection;
use domain::AppError;
use domain::password_rules_hint;
use domain::wire::EmailChangeUndo;
use domain::wire::MyProfile;
use domain::wire::TwoFactorState;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn ProfilePage() -> impl IntoView {
    let data = Resource::new(|| (), |_| once_per_request("profile", 0, profile));
    view! {
        <Title text="My profile"/>
        <h1>"My profile"</h1>
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(me) => view! { <Profile me/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Profile(me: MyProfile) -> impl IntoView {
    let notice = use_query_map().with_untracked(|q| match q.get("saved").as_deref() {
        Some("details") => Some("Your details were saved."),
        Some("email") => {
            Some("We sent a link to your new address. Your address changes when you open it.")
        }
        Some("email_confirmed") => Some("Your email address was changed."),
        Some("password") => Some("Your password was changed."),
        Some("session") => Some("The session was ended."),
        Some("applications") => Some("Signed out of the application: it has been told."),
        _ => None,
    });
    view! {
        {notice.map(|text| view! { <p class="notice" role="status">{text}</p> })}
        <MyDetails me=me.clone()/>
        <MyEmail me=me.clone()/>
        <MyPassword/>
        <TwoFactorPanel/>
        <MySessions me/>
        <MyApplicationsSection/>
    }
}

#[component]
fn MyDetails(me: MyProfile) -> impl IntoView {
    let action = ServerAction::<UpdateMyDetails>::new();
    let error = posted_error::<UpdateMyDetails>();
    let rows = [
        ("First name", me.first_name.clone()),
        ("Last name", me.last_name.clone()),
        ("Email", me.email.clone()),
        ("Username", me.username.clone()),
        ("Initials", me.initials.clone()),
        ("Organisation", me.organisation_name.clone()),
    ];
    view! {
        <section class="panel" aria-labelledby="details-heading">
            <h2 id="details-heading">"My details"</h2>
            <dl class="details">
                {rows
                    .into_iter()
                    .map(|(term, value)| view! { <div><dt>{term}</dt><dd>{value}</dd></div> })
                    .collect::<Vec<_>>()}
            </dl>
        </section>
        <section class="panel" aria-labelledby="change-details-heading">
            <h2 id="change-details-heading">"Change my details"</h2>
            <ActionForm action=action attr:novalidate=true>
                <ErrorSummary error=Signal::stored(error.clone())/>
                <PlainField label="First name" name="first_name" value=me.first_name.clone() error=error.clone() autocomplete="given-name"/>
                <PlainField label="Last name" name="last_name" value=me.last_name.clone() error=error.clone() autocomplete="family-name"/>
                <PlainField label="Initials" name="initials" value=me.initials.clone() error=error.clone()/>
                <button type="submit" class="button primary">"Save"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn MyEmail(me: MyProfile) -> impl IntoView {
    let action = ServerAction::<ChangeMyEmail>::new();
    let error = posted_error::<ChangeMyEmail>();
    view! {
        <section class="panel" aria-labelledby="email-heading">
            <h2 id="email-heading">"Email address"</h2>
            <p>"Your email address is " <strong>{me.email.clone()}</strong>". It is how we contact you."</p>
            {me.pending_email.clone().map(|pending| view! {
                <p class="notice">{format!("Waiting for you to open the link we sent to {pending}.")}</p>
            })}
            <p class="hint">"We send a link to the new address; the change happens when it is opened. Your current address is told, with a way to undo it."</p>
            <ActionForm action=action attr:novalidate=true>
                <ErrorSummary error=Signal::stored(error.clone())/>
                <PlainField label="New email address" name="email" input_type="email" error=error.clone() autocomplete="email"/>
                <PlainField label="Current password" name="current_password" input_type="password" error=error.clone() autocomplete="current-password"/>
                {me.two_factor_enrolled.then(|| view! {
                    <PlainField label="Authentication code" name="code" error=error.clone() autocomplete="one-time-code"
                        hint="The 6-digit code your authenticator app shows now, or one of your recovery codes."/>
                })}
                <button type="submit" class="button secondary">"Send a confirmation link"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn MyPassword() -> impl IntoView {
    let action = ServerAction::<ChangeMyPassword>::new();
    let error = posted_error::<ChangeMyPassword>();
    view! {
        <section class="panel" aria-labelledby="password-heading">
            <h2 id="password-heading">"Change password"</h2>
            <ActionForm action=action attr:novalidate=true>
                <ErrorSummary error=Signal::stored(error.clone())/>
                <PlainField label="Current password" name="current_password" input_type="password" error=error.clone() autocomplete="current-password"/>
                <PlainField
                    label="New password"
                    name="new_password"
                    input_type="password"
                    error=error.clone()
                    autocomplete="new-password"
                    hint=password_rules_hint()
                />
                <div class="checkbox">
                    <input type="checkbox" id="end_other_sessions" name="end_other_sessions" value="on" checked=true/>
                    <label for="end_other_sessions">"Sign me out everywhere else"</label>
                </div>
                <button type="submit" class="button primary">"Change password"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn TwoFactorPanel() -> impl IntoView {
    let state = Resource::new(
        || (),
        |_| once_per_request("my_two_factor", 0, my_two_factor),
    );
    view! {
        <section class="panel" aria-labelledby="two-factor-heading">
            <h2 id="two-factor-heading">"Two-factor authentication"</h2>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match state.await {
                        Ok(state) => view! { <TwoFactorSetUp state/> }.into_any(),
                        Err(error) => view! { <p role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn TwoFactorSetUp(state: TwoFactorState) -> impl IntoView {
    let Some(since) = state.enrolled_since else {
        let why = if state.required {
            "Not set up yet. Your permissions require it."
        } else {
            "Not set up. Signing in will also take a code from an app on your phone."
        };
        return view! {
            <p>{why}</p>
            <p><a class="button primary" href="/two-factor/enrol">"Set up two-factor authentication"</a></p>
        }
        .into_any();
    };
    let action = ServerAction::<ChangeTwoFactor>::new();
    let error = posted_error::<ChangeTwoFactor>();
    view! {
        <p>{format!(
            "On since {since}. You have {} unused recovery codes.",
            state.recovery_codes_left
        )}</p>
        <h3>"New phone, or new recovery codes"</h3>
        <p class="hint">"Confirm it is you with your password and a code from your app (or a recovery code)."</p>
        <ActionForm action=action attr:novalidate=true>
            <ErrorSummary error=Signal::stored(error.clone())/>
            <PlainField label="Password" name="password" input_type="password" error=error.clone() autocomplete="current-password"/>
            <PlainField label="Authentication code" name="code" error=error autocomplete="one-time-code"/>
            <div class="actions">
                <button type="submit" name="change" value="new_device" class="button secondary">"Set up on a new phone"</button>
                <button type="submit" name="change" value="new_recovery_codes" class="button secondary">"Make new recovery codes"</button>
            </div>
        </ActionForm>
    }
    .into_any()
}

#[component]
fn MySessions(me: MyProfile) -> impl IntoView {
    let error = posted_error::<EndMySession>();
    let rows = me
        .sessions
        .into_iter()
        .map(|session| {
            let end = ServerAction::<EndMySession>::new();
            let label = if session.current { "Sign out here" } else { "End" };
            view! {
                <tr>
                    <td>{session.device}{session.current.then(|| view! { <span class="badge">"This device"</span> })}</td>
                    <td>{session.client_address}</td>
                    <td>{session.started}</td>
                    <td>{session.last_active}</td>
                    <td>
                        <ActionForm action=end>
                            <input type="hidden" name="id" value=session.id/>
                            <button type="submit" class="button secondary">{label}</button>
                        </ActionForm>
                    </td>
                </tr>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <section class="panel" aria-labelledby="sessions-heading">
            <h2 id="sessions-heading">"My sessions"</h2>
            <ErrorSummary error=Signal::stored(error)/>
            <div class="table-wrap">
                <table>
                    <thead>
                        <tr>
                            <th scope="col">"Device"</th>
                            <th scope="col">"From"</th>
                            <th scope="col">"Signed in"</th>
                            <th scope="col">"Last active"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
}

/// The page an email-change link opens: confirming is a POST.
#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    view! {
        <Title text="Confirm your new email address"/>
        <LinkPage look_up=email_change_link show=show_email_change/>
    }
}

fn show_email_change(token: String, link: Result<String, AppError>) -> AnyView {
    match link {
        Ok(address) => {
            let action = ServerAction::<ConfirmEmail>::new();
            view! {
                <h1>"Confirm your new email address"</h1>
                <p>"Use " <strong>{address}</strong> " for your account from now on?"</p>
                <ActionForm action=action>
                    <input type="hidden" name="token" value=token/>
                    <button type="submit" class="button primary">"Confirm"</button>
                </ActionForm>
            }
            .into_any()
        }
        Err(AppError::LinkExpired) => view! {
            <h1>"This link has expired or has already been used"</h1>
            <p>"Ask for a new link on " <a href="/profile">"My profile"</a> "."</p>
        }
        .into_any(),
        Err(error) => view! { <p role="alert">{error.to_string()}</p> }.into_any(),
    }
}

/// The page of the link sent to the old address on an email change:
/// keeping the address is a POST.
#[component]
pub fn UndoEmailChangePage() -> impl IntoView {
    view! {
        <Title text="Keep your email address"/>
        <LinkPage look_up=email_change_undo_link show=show_email_change_undo/>
    }
}

fn show_email_change_undo(token: String, link: Result<EmailChangeUndo, AppError>) -> AnyView {
    match link {
        Ok(undo) => {
            let action = ServerAction::<UndoEmailChange>::new();
            let instead = (!undo.moving_to.is_empty())
                .then(|| view! { " instead of " <strong>{undo.moving_to.clone()}</strong> });
            view! {
                <h1>"Keep your email address"</h1>
                <p>"Keep " <strong>{undo.keep}</strong> {instead} " for your account?"</p>
                <p>"This cancels the change, or puts this address back if it was made. It also signs your account out everywhere and stops any password link, in case someone else asked for the change."</p>
                <ActionForm action=action>
                    <input type="hidden" name="token" value=token/>
                    <button type="submit" class="button primary">"Keep this address"</button>
                </ActionForm>
            }
            .into_any()
        }
        Err(AppError::LinkExpired) => view! {
            <h1>"This link has expired or has already been used"</h1>
            <p>"If your address was changed without you, ask your administrator."</p>
        }
        .into_any(),
        Err(error) => view! { <p role="alert">{error.to_string()}</p> }.into_any(),
    }
}
