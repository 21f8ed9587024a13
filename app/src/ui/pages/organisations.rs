//! The platform administrator's Organisations page, the organisation picker
//! they see on the Users pages, and an organisation's settings. All server
//! rendered; the forms post without JavaScript.

use crate::api::organisations::{
    AddOrganisation, EnterOrganisation, SaveOrganisationSettings, list_organisations,
    load_organisation_settings, undelivered_mail,
};
use crate::ui::components::delivery::delivery_text;
use crate::ui::components::form::{ErrorSummary, PlainField, posted_error};
use crate::ui::components::once::once_per_request;
use crate::ui::layout::ErrorPanel;
use domain::LinkLifetimes;
use domain::wire::{CurrentUser, OrganisationSummary, UndeliveredEmail};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn OrganisationsPage() -> impl IntoView {
    let organisations = Resource::new(
        || (),
        |_| once_per_request("organisations", 0, list_organisations),
    );
    view! {
        <Title text="Organisations"/>
        <h1>"Organisations"</h1>
        <ErrorSummary error=Signal::stored(posted_error::<EnterOrganisation>())/>
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match organisations.await {
                    Ok(list) => view! { <OrganisationTable list/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
        <UndeliveredMailSection/>
        <AddOrganisationForm/>
    }
}

/// Mail the worker could not deliver, in every organisation, so that
/// someone acts on it: the mail server's settings, or a wrong address.
#[component]
fn UndeliveredMailSection() -> impl IntoView {
    let mail = Resource::new(|| (), |_| undelivered_mail());
    view! {
        <section class="panel" aria-labelledby="undelivered-heading">
            <h2 id="undelivered-heading">"Mail not delivered"</h2>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match mail.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="hint">"Every email has been sent or is waiting for its first attempt."</p>
                        }
                        .into_any(),
                        Ok(list) => view! { <UndeliveredTable list/> }.into_any(),
                        Err(error) => view! { <ErrorPanel error/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn UndeliveredTable(list: Vec<UndeliveredEmail>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|email| {
            view! {
                <tr>
                    <td>{email.organisation.unwrap_or_else(|| "None".to_owned())}</td>
                    <td>{email.recipient}</td>
                    <td>{email.subject}</td>
                    <td>{delivery_text(&email.delivery)}</td>
                </tr>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <div class="table-wrap">
            <table>
                <caption class="visually-hidden">"Emails not delivered, newest first"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Organisation"</th>
                        <th scope="col">"To"</th>
                        <th scope="col">"Subject"</th>
                        <th scope="col">"Where it stands"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn OrganisationTable(list: Vec<OrganisationSummary>) -> impl IntoView {
    let enter = ServerAction::<EnterOrganisation>::new();
    let rows = list
        .into_iter()
        .map(|organisation| {
            let label = format!(": {}", organisation.name);
            let action = if organisation.is_working_here {
                view! { <span class="badge">"Working here"</span> }.into_any()
            } else {
                view! {
                    <ActionForm action=enter>
                        <input type="hidden" name="organisation_id" value=organisation.id/>
                        <button type="submit" class="button secondary">
                            "Work here"
                            <span class="visually-hidden">{label}</span>
                        </button>
                    </ActionForm>
                }
                .into_any()
            };
            view! {
                <tr>
                    <th scope="row">
                        {organisation.name}
                        {organisation.is_own.then(|| view! { " " <span class="hint">"(yours)"</span> })}
                    </th>
                    <td class="number">{organisation.active}</td>
                    <td class="number">{organisation.pending}</td>
                    <td class="number">{organisation.deactivated}</td>
                    <td>{organisation.created_at}</td>
                    <td>{action}</td>
                </tr>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <div class="table-wrap panel">
            <table>
                <caption class="visually-hidden">"Organisations and their accounts"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Organisation"</th>
                        <th scope="col">"Active"</th>
                        <th scope="col">"Pending"</th>
                        <th scope="col">"Deactivated"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col"><span class="visually-hidden">"Action"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn AddOrganisationForm() -> impl IntoView {
    let add = ServerAction::<AddOrganisation>::new();
    let error = posted_error::<AddOrganisation>();
    view! {
        <section class="panel" aria-labelledby="add-organisation-heading">
            <h2 id="add-organisation-heading">"Add an organisation"</h2>
            <p class="hint">
                "It starts with the usual roles. Its first administrator holds the Administrator role, "
                "gets a welcome email to activate their account, and has a username made from their name."
            </p>
            <ActionForm action=add attr:novalidate=true>
                <ErrorSummary error=Signal::stored(error.clone())/>
                <PlainField label="Organisation name" name="organisation_name" autocomplete="organization" error=error.clone()/>
                <fieldset>
                    <legend>"First administrator"</legend>
                    <PlainField label="First name" name="first_name" error=error.clone()/>
                    <PlainField label="Last name" name="last_name" error=error.clone()/>
                    <PlainField label="Email" name="email" input_type="email" error=error.clone()
                        hint="The welcome email goes to this address."/>
                </fieldset>
                <button type="submit" class="button primary">"Add the organisation"</button>
            </ActionForm>
        </section>
    }
}

/// Lets a platform administrator choose the organisation the Users pages
/// show; nothing for anyone else.
#[component]
pub fn OrganisationPicker(next: &'static str) -> impl IntoView {
    let is_platform_admin = use_context::<CurrentUser>().is_some_and(|u| u.is_platform_admin);
    is_platform_admin.then(|| {
        let organisations = Resource::new(
            || (),
            |_| once_per_request("organisations", 0, list_organisations),
        );
        let enter = ServerAction::<EnterOrganisation>::new();
        view! {
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    organisations.await.ok().map(|list| {
                        let options = list
                            .into_iter()
                            .map(|o| view! { <option value=o.id selected=o.is_working_here>{o.name}</option> })
                            .collect::<Vec<_>>();
                        view! {
                            <ActionForm action=enter attr:class="organisation-picker">
                                <input type="hidden" name="next" value=next/>
                                <label for="organisation_id">"Organisation"</label>
                                <select id="organisation_id" name="organisation_id">{options}</select>
                                <button type="submit" class="button secondary">"Switch"</button>
                            </ActionForm>
                        }
                    })
                })}
            </Suspense>
        }
    })
}

#[component]
pub fn OrganisationSettingsPage() -> impl IntoView {
    let settings = Resource::new(|| (), |_| load_organisation_settings());
    let saved = use_query_map().with_untracked(|q| q.get("saved").is_some());
    view! {
        <Title text="Organisation settings"/>
        <h1>"Organisation settings"</h1>
        {saved.then(|| view! { <p class="notice" role="status">"The settings were saved. Links sent from now on use them."</p> })}
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(settings) => view! { <SettingsForm name=settings.name lifetimes=settings.lifetimes/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SettingsForm(name: String, lifetimes: LinkLifetimes) -> impl IntoView {
    let save = ServerAction::<SaveOrganisationSettings>::new();
    let error = posted_error::<SaveOrganisationSettings>();
    view! {
        <section class="panel" aria-labelledby="links-heading">
            <h2 id="links-heading">{format!("Email links of {name}")}</h2>
            <p class="hint">"Links already sent keep the expiry their email states."</p>
            <ActionForm action=save attr:novalidate=true>
                <ErrorSummary error=Signal::stored(error.clone())/>
                <PlainField label="Welcome link lifetime (hours)" name=LinkLifetimes::WELCOME_FIELD input_type="number"
                    value=lifetimes.welcome_link_hours.to_string() error=error.clone()
                    hint="How long the link in a welcome email works: 1 to 720 hours. The usual is 72."/>
                <PlainField label="Set-password link lifetime (minutes)" name=LinkLifetimes::PASSWORD_FIELD input_type="number"
                    value=lifetimes.password_link_minutes.to_string() error=error.clone()
                    hint="How long set-password, forgotten-password and email-change links work: 5 to 1440 minutes. The usual is 60."/>
                <button type="submit" class="button primary">"Save"</button>
            </ActionForm>
        </section>
    }
}
