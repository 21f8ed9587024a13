//! The Applications pages: the organisation's connected applications, the
//! form registering or changing one, its secret, and the page a person sees
//! when Gatehouse cannot sign them in to an application. All server
//! rendered; the forms post without JavaScript.

use crate::api::applications::{
    NewApplicationSecret, RegisterApplication, SaveApplication, SetApplicationDisabled,
    SignOutOfApplications, SignOutOfMyApplications, load_application, load_application_sign_ins,
    load_applications, load_my_application_sign_ins, load_refused_application,
};
use crate::ui::components::card::CardPage;
use crate::ui::components::form::{ErrorSummary, PlainField, posted_error};
use crate::ui::components::once::once_per_request;
use crate::ui::layout::ErrorPanel;
use domain::wire::{ApplicationDetail, ApplicationLine, ApplicationSignIn, AudienceChoice};
use domain::{AppError, Audience, ClientKind, SigningAlgorithm};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::{use_params_map, use_query_map};

fn loading() -> impl IntoView {
    view! { <p class="loading" role="status">"Loading…"</p> }
}

#[component]
pub fn ApplicationsPage() -> impl IntoView {
    let applications = Resource::new(|| (), |_| load_applications());
    view! {
        <Title text="Applications"/>
        <h1>"Applications"</h1>
        <p class="hint">
            "Applications your organisation registers here sign people in with their Gatehouse account "
            "(OpenID Connect). Deactivating someone signs them out of every one at once."
        </p>
        <p><a class="button primary" href="/applications/new">"Register an application"</a></p>
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match applications.await {
                    Ok(lines) if lines.is_empty() => view! {
                        <p>"No applications yet."</p>
                    }.into_any(),
                    Ok(lines) => view! { <ApplicationTable lines/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ApplicationTable(lines: Vec<ApplicationLine>) -> impl IntoView {
    let rows = lines
        .into_iter()
        .map(|line| {
            let href = format!("/applications/{}", line.id);
            view! {
                <tr>
                    <th scope="row"><a href=href>{line.name}</a></th>
                    <td>{line.kind}</td>
                    <td>{line.audience}</td>
                    <td>{if line.requires_two_factor { "Yes" } else { "No" }}</td>
                    <td class="number">{line.signed_in}</td>
                    <td>{if line.disabled { "Disabled" } else { "Enabled" }}</td>
                </tr>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <div class="table-wrap panel">
            <table>
                <caption class="visually-hidden">"Applications of the organisation"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Application"</th>
                        <th scope="col">"Type"</th>
                        <th scope="col">"Who may use it"</th>
                        <th scope="col">"Requires two-factor authentication"</th>
                        <th scope="col">"People signed in"</th>
                        <th scope="col">"Status"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// `/applications/new` (no id) and `/applications/:id`.
#[component]
pub fn ApplicationPage() -> impl IntoView {
    let id = move || use_params_map().with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()));
    // Loading an application hands over (and forgets) its new secret.
    let application = Resource::new(id, |id| {
        once_per_request("application", id.unwrap_or(0), move || load_application(id))
    });
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match application.await {
                    Ok(detail) => view! { <ApplicationView detail/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The notice after a save, from the `saved` the server function redirected with.
fn saved_notice() -> Option<&'static str> {
    use_query_map().with_untracked(|q| match q.get("saved").as_deref() {
        Some("registered") => Some("The application was registered."),
        Some("changes") => Some("The application was saved."),
        Some("secret") => Some("The application has a new secret: the old one no longer works."),
        Some("disabled") => Some("The application is disabled: nobody can sign in to it, and everyone was signed out of it."),
        Some("enabled") => Some("The application is enabled again."),
        _ => None,
    })
}

#[component]
fn ApplicationView(detail: ApplicationDetail) -> impl IntoView {
    let ApplicationDetail {
        id,
        client_id,
        form,
        roles,
        profiles,
        disabled,
        secret_set,
        new_secret,
        discovery_url,
    } = detail;
    let title = match id {
        Some(_) => form.name.clone(),
        None => "Register an application".to_owned(),
    };
    let fields = move |error: Option<AppError>| {
        let kind = ClientKind::from_name(&form.client_kind);
        view! {
            <ErrorSummary error=Signal::stored(error.clone())/>
            {id.map(|id| view! { <input type="hidden" name="id" value=id/> })}
            <PlainField label="Name" name="name" value=form.name.clone() error=error.clone()
                hint="What people see, e.g. “Staff wiki”: 2 to 60 characters."/>
            <Choice legend="Type" name="client_kind" error=error.clone()
                locked=id.is_some()
                options=vec![
                    (ClientKind::Confidential.as_str(), "Confidential: a server-side application that keeps a secret", kind == Some(ClientKind::Confidential)),
                    (ClientKind::Public.as_str(), "Public: a single-page or mobile application, proving itself with PKCE alone", kind == Some(ClientKind::Public)),
                ]/>
            <Lines label="Redirect addresses" name="redirect_uris" value=form.redirect_uris.clone()
                error=error.clone()
                hint="Where Gatehouse sends people back after they sign in, one per line, exactly as the application sends it: https:// (http:// only for localhost)."/>
            <Lines label="Addresses after signing out" name="post_logout_redirect_uris"
                value=form.post_logout_redirect_uris.clone() error=error.clone()
                hint="Optional: where the application may send people after they sign out, one per line."/>
            <PlainField label="Back-channel logout address" name="backchannel_logout_uri"
                value=form.backchannel_logout_uri.clone() error=error.clone()
                hint="Optional: Gatehouse tells the application here, server to server, when someone's session ends."/>
            <Choice legend="Who may use it" name="audience" error=error.clone() locked=false
                options=vec![
                    (Audience::Everyone.as_str(), "Everyone in the organisation", form.audience == Audience::Everyone.as_str()),
                    (Audience::Chosen.as_str(), "Holders of the roles or profiles chosen below", form.audience == Audience::Chosen.as_str()),
                ]/>
            <AudienceChoices legend="Roles" field="role_ids[]" id_prefix="role" choices=roles.clone()/>
            <AudienceChoices legend="Profiles" field="profile_ids[]" id_prefix="profile" choices=profiles.clone()/>
            <div class="checkbox">
                <input type="checkbox" id="requires_two_factor" name="requires_two_factor"
                    checked=form.requires_two_factor/>
                <label for="requires_two_factor">"Requires two-factor authentication"</label>
            </div>
            <Choice legend="ID token signature" name="id_token_algorithm" error=error.clone() locked=false
                options=vec![
                    (SigningAlgorithm::Rs256.as_str(), "RS256 (RSA): what every library accepts", form.id_token_algorithm == SigningAlgorithm::Rs256.as_str()),
                    (SigningAlgorithm::EdDsa.as_str(), "EdDSA (Ed25519)", form.id_token_algorithm == SigningAlgorithm::EdDsa.as_str()),
                ]/>
            <PlainField label="Access tokens last (minutes)" name="access_token_minutes"
                value=form.access_token_minutes.clone() error=error.clone() input_type="number"
                hint="1 to 60."/>
            <PlainField label="Refresh tokens last (hours)" name="refresh_token_hours"
                value=form.refresh_token_hours.clone() error=error.clone() input_type="number"
                hint="1 to 2160 (90 days). Each use gives a new one; none outlasts the Gatehouse session it came from."/>
            <button type="submit" class="button primary">
                {if id.is_some() { "Save" } else { "Register" }}
            </button>
        }
    };
    let form_view = match id {
        Some(_) => view! {
            <ActionForm action={ServerAction::<SaveApplication>::new()} attr:novalidate=true>
                {fields(posted_error::<SaveApplication>())}
            </ActionForm>
        }
        .into_any(),
        None => view! {
            <ActionForm action={ServerAction::<RegisterApplication>::new()} attr:novalidate=true>
                {fields(posted_error::<RegisterApplication>())}
            </ActionForm>
        }
        .into_any(),
    };
    let connection = client_id.map(|client_id| {
        view! {
            <section class="panel" aria-labelledby="connect-heading">
                <h2 id="connect-heading">"Connecting the application"</h2>
                <dl>
                    <dt>"Discovery address"</dt><dd><code>{discovery_url.clone()}</code></dd>
                    <dt>"Client ID"</dt><dd><code data-testid="client-id">{client_id}</code></dd>
                </dl>
                {new_secret.map(|secret| view! {
                    <div class="notice" role="status">
                        <p><strong>"Client secret: "</strong><code data-testid="client-secret">{secret}</code></p>
                        <p>"Copy it into the application now: it is shown only this once."</p>
                    </div>
                })}
            </section>
        }
    });
    let actions = id.map(|id| {
        let secret = secret_set.map(|set| {
            view! {
                <p>{format!("The current secret was made {set}.")}</p>
                <ActionForm action={ServerAction::<NewApplicationSecret>::new()}>
                    <input type="hidden" name="id" value=id/>
                    <button type="submit" class="button">"Replace the secret"</button>
                </ActionForm>
            }
        });
        let (label, value, hint) = if disabled {
            (
                "Enable",
                "false",
                "Nobody can sign in to it while it is disabled.",
            )
        } else {
            (
                "Disable",
                "true",
                "Nobody can sign in to it, and everyone signed in is signed out of it.",
            )
        };
        view! {
            <section class="panel" aria-labelledby="manage-heading">
                <h2 id="manage-heading">"Secret and status"</h2>
                {secret}
                <p class="hint">{hint}</p>
                <ActionForm action={ServerAction::<SetApplicationDisabled>::new()}>
                    <input type="hidden" name="id" value=id/>
                    <input type="hidden" name="disabled" value=value/>
                    <button type="submit" class="button">{label}</button>
                </ActionForm>
            </section>
        }
    });
    view! {
        <Title text=title.clone()/>
        <p><a href="/applications">"Back to applications"</a></p>
        <h1>{title}</h1>
        {saved_notice().map(|text| view! { <p class="notice" role="status">{text}</p> })}
        {connection}
        <section class="panel" aria-labelledby="settings-heading">
            <h2 id="settings-heading">"Settings"</h2>
            {form_view}
        </section>
        {actions}
    }
}

/// A multi-line field: one address per line.
#[component]
fn Lines(
    label: &'static str,
    name: &'static str,
    value: String,
    error: Option<AppError>,
    hint: &'static str,
) -> impl IntoView {
    let message = error.as_ref().and_then(|e| e.field_message(name));
    let hint_id = format!("{name}-hint");
    let error_id = format!("{name}-error");
    let described_by = format!("{hint_id} {error_id}");
    view! {
        <div class="field" class:field-invalid=message.is_some()>
            <label for=name>{label}</label>
            <p class="hint" id=hint_id>{hint}</p>
            <p class="field-error" id=error_id>{message.clone()}</p>
            <textarea id=name name=name rows="3" spellcheck="false"
                aria-invalid=if message.is_some() { "true" } else { "false" }
                aria-describedby=described_by>{value}</textarea>
        </div>
    }
}

/// One choice of several, as radio buttons. A `locked` choice is shown
/// disabled and posted as it is.
#[component]
fn Choice(
    legend: &'static str,
    name: &'static str,
    error: Option<AppError>,
    locked: bool,
    options: Vec<(&'static str, &'static str, bool)>,
) -> impl IntoView {
    let message = error.as_ref().and_then(|e| e.field_message(name));
    let kept = options
        .iter()
        .find(|(_, _, checked)| *checked && locked)
        .map(|(value, _, _)| view! { <input type="hidden" name=name value=*value/> });
    let radios = options
        .into_iter()
        .map(|(value, label, checked)| {
            let id = format!("{name}-{}", value.to_lowercase());
            view! {
                <div class="checkbox">
                    <input type="radio" id=id.clone() name=name value=value checked=checked disabled=locked/>
                    <label for=id>{label}</label>
                </div>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <fieldset id=name class:field-invalid=message.is_some()>
            <legend>{legend}</legend>
            <p class="field-error">{message.clone()}</p>
            {radios}
            {kept}
        </fieldset>
    }
}

/// Roles or profiles an application may be opened to, as checkboxes.
#[component]
fn AudienceChoices(
    legend: &'static str,
    field: &'static str,
    id_prefix: &'static str,
    choices: Vec<AudienceChoice>,
) -> impl IntoView {
    let boxes = choices
        .into_iter()
        .map(|choice| {
            let id = format!("{id_prefix}-{}", choice.id);
            view! {
                <div class="checkbox">
                    <input type="checkbox" id=id.clone() name=field value=choice.id checked=choice.chosen/>
                    <label for=id>{choice.name}</label>
                </div>
            }
        })
        .collect::<Vec<_>>();
    view! { <fieldset><legend>{legend}</legend>{boxes}</fieldset> }
}

/// What a person sees when Gatehouse cannot sign them in to an application.
/// The reason comes from the authorization endpoint; an unknown one reads
/// as the generic case.
#[component]
pub fn ApplicationRefusedPage() -> impl IntoView {
    let (reason, client_id) = use_query_map().with_untracked(|q| {
        (
            q.get("reason").unwrap_or_default(),
            q.get("client_id").unwrap_or_default(),
        )
    });
    let name = Resource::new(
        move || client_id.clone(),
        |client_id| async move {
            if client_id.is_empty() {
                return Ok(None);
            }
            load_refused_application(client_id).await
        },
    );
    view! {
        <Suspense fallback=loading>
            {move || {
                let reason = reason.clone();
                Suspend::new(async move {
                    let application = name.await.ok().flatten();
                    view! { <Refusal reason application/> }
                })
            }}
        </Suspense>
    }
}

/// What the refusal page says for `reason`, naming the application when known.
#[component]
fn Refusal(reason: String, application: Option<String>) -> impl IntoView {
    let named = application
        .map(|name| format!("“{name}”"))
        .unwrap_or_else(|| "This application".to_owned());
    let (heading, explanation) = match reason.as_str() {
        "not_for_you" => (
            "You cannot use this application".to_owned(),
            format!("{named} is only for people with certain roles in your organisation. Ask an administrator if you need it."),
        ),
        "two_factor_required" => (
            "Set up two-factor authentication first".to_owned(),
            format!("{named} asks for two-factor authentication. Set it up on My profile, then go back to the application and sign in again."),
        ),
        "disabled" => (
            "This application is switched off".to_owned(),
            format!("{named} has been disabled by your organisation's administrators."),
        ),
        "unregistered_redirect" => (
            "The application's address is not registered".to_owned(),
            format!("{named} asked Gatehouse to send you to an address it has not registered, so Gatehouse will not. Tell whoever runs the application."),
        ),
        _ => (
            "Unknown application".to_owned(),
            "Gatehouse does not know the application that sent you here, so it cannot sign you in to it.".to_owned(),
        ),
    };
    let profile = (reason == "two_factor_required")
        .then(|| view! { <p><a href="/profile">"Go to My profile"</a></p> });
    view! {
        <Title text=heading.clone()/>
        <CardPage>
            <h1>{heading}</h1>
            <p>{explanation}</p>
            {profile}
            <p><a href="/">"Go to Gatehouse"</a></p>
        </CardPage>
    }
}

/// The applications a person is signed in to: on their user page (with
/// sign-out buttons for those who may act on the account) and on My profile.
#[component]
fn SignInTable(
    sign_ins: Vec<ApplicationSignIn>,
    /// One form per line and one for all, or none (a viewer who may not).
    sign_out: Option<fn(Option<i64>) -> AnyView>,
) -> impl IntoView {
    if sign_ins.is_empty() {
        return view! { <p>"Not signed in to any application."</p> }.into_any();
    }
    let all = sign_out.map(|form| form(None));
    let rows = sign_ins
        .into_iter()
        .map(|line| {
            view! {
                <tr>
                    <th scope="row">{line.application}</th>
                    <td>{line.since}</td>
                    <td>{line.last_used}</td>
                    {sign_out.map(|form| view! { <td>{form(Some(line.id))}</td> })}
                </tr>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <div class="table-wrap">
            <table>
                <thead>
                    <tr>
                        <th scope="col">"Application"</th>
                        <th scope="col">"Signed in"</th>
                        <th scope="col">"Last used"</th>
                        {sign_out.map(|_| view! { <th scope="col"><span class="visually-hidden">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {all}
    }
    .into_any()
}

/// The sign-out buttons' label: of one application, or of all.
fn sign_out_label(sign_in: Option<i64>) -> &'static str {
    if sign_in.is_some() {
        "Sign out"
    } else {
        "Sign out of every application"
    }
}

/// The *Applications* section of a user page.
#[component]
pub fn UserApplicationsSection(user_id: i64, can_manage: bool) -> impl IntoView {
    let sign_ins = Resource::new(
        move || user_id,
        |id| {
            once_per_request("application_sign_ins", id, move || {
                load_application_sign_ins(id)
            })
        },
    );
    let error = posted_error::<SignOutOfApplications>();
    let sign_out: Option<fn(Option<i64>) -> AnyView> =
        can_manage.then_some(user_sign_out as fn(Option<i64>) -> AnyView);
    view! {
        <section class="panel" id="applications" aria-labelledby="applications-heading">
            <h2 id="applications-heading">"Applications"</h2>
            <ErrorSummary error=Signal::stored(error)/>
            <Suspense fallback=loading>
                {move || Suspend::new(async move {
                    match sign_ins.await {
                        Ok(sign_ins) => view! { <SignInTable sign_ins sign_out/> }.into_any(),
                        Err(error) => view! { <ErrorPanel error/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn user_sign_out(sign_in: Option<i64>) -> AnyView {
    let id = use_params_map().with_untracked(|p| p.get("id").unwrap_or_default());
    view! {
        <ActionForm action={ServerAction::<SignOutOfApplications>::new()}>
            <input type="hidden" name="id" value=id/>
            {sign_in.map(|sign_in| view! { <input type="hidden" name="sign_in" value=sign_in/> })}
            <button type="submit" class="button secondary">{sign_out_label(sign_in)}</button>
        </ActionForm>
    }
    .into_any()
}

fn my_sign_out(sign_in: Option<i64>) -> AnyView {
    view! {
        <ActionForm action={ServerAction::<SignOutOfMyApplications>::new()}>
            {sign_in.map(|sign_in| view! { <input type="hidden" name="sign_in" value=sign_in/> })}
            <button type="submit" class="button secondary">{sign_out_label(sign_in)}</button>
        </ActionForm>
    }
    .into_any()
}

/// The *My applications* section of My profile.
#[component]
pub fn MyApplicationsSection() -> impl IntoView {
    let sign_ins = Resource::new(
        || (),
        |_| once_per_request("my_application_sign_ins", 0, load_my_application_sign_ins),
    );
    let error = posted_error::<SignOutOfMyApplications>();
    let sign_out: Option<fn(Option<i64>) -> AnyView> = Some(my_sign_out);
    view! {
        <section class="panel" id="applications" aria-labelledby="applications-heading">
            <h2 id="applications-heading">"My applications"</h2>
            <ErrorSummary error=Signal::stored(error)/>
            <Suspense fallback=loading>
                {move || Suspend::new(async move {
                    match sign_ins.await {
                        Ok(sign_ins) => view! { <SignInTable sign_ins sign_out/> }.into_any(),
                        Err(error) => view! { <ErrorPanel error/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// After signing in on the way to an application: goes on to the
/// authorization endpoint with a fresh navigation (see
/// `backend::auth::redirect::after_sign_in_post`), and offers a link for a
/// browser that does not follow the refresh. Only an authorization request
/// of this origin is followed.
#[component]
pub fn ApplicationContinuePage() -> impl IntoView {
    let to = use_query_map().with_untracked(|q| q.get("to").unwrap_or_default());
    let follows = to.starts_with("/oauth/authorize?")
        && !to
            .chars()
            .any(|c| c == '\\' || c.is_whitespace() || c.is_control());
    let to = if follows { to } else { "/".to_owned() };
    view! {
        <Title text="Signing you in"/>
        <Meta http_equiv="refresh" content=format!("0;url={to}")/>
        <CardPage>
            <h1>"Signing you in to the application"</h1>
            <p><a href=to>"Continue to the application"</a></p>
        </CardPage>
    }
}
