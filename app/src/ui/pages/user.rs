//! The user page: details, state, email actions, deactivation, roles and
//! profiles, and history.
//! Rendered on the server; its forms post without needing JavaScript.

use crate::api::types::UserDetail;
use crate::api::users::{SendUserEmail, SetUserActive, UpdateUser, user};
use crate::ui::components::form::{ErrorSummary, PlainField, posted_error};
use crate::ui::layout::ErrorPanel;
use crate::ui::pages::roles::UserAccessSection;
use crate::ui::pages::two_factor::UserSecuritySection;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

fn user_id() -> i64 {
    use_params_map().with_untracked(|p| p.get("id").and_then(|id| id.parse().ok()).unwrap_or(0))
}

#[component]
pub fn UserPage() -> impl IntoView {
    let id = user_id();
    let detail = Resource::new(move || id, user);
    view! {
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => view! { <UserView detail/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn state_label(state: &str, welcome_expired: bool) -> &'static str {
    match (state, welcome_expired) {
        ("pending", true) => "Pending: activation link expired",
        ("pending", false) => "Pending activation",
        ("active", _) => "Active",
        _ => "Deactivated",
    }
}

#[component]
fn UserView(detail: UserDetail) -> impl IntoView {
    let name = format!("{} {}", detail.first_name, detail.last_name);
    let notice = use_query_map().with_untracked(|q| match (q.get("saved").as_deref(), q.get("sent").as_deref()) {
        _ if q.get("created").as_deref() == Some("organisation") => Some("The organisation was created and you now work in it. Its first administrator has been sent a welcome email."),
        (Some("details"), _) => Some("The details were saved."),
        (Some("deactivated"), _) => Some("The account was deactivated: its sessions have ended and its links no longer work."),
        (Some("reactivated"), _) => Some("The account was reactivated. Old sessions and links stay ended."),
        (Some("access"), _) => Some("The roles and profiles were saved. They hold from the person's next request."),
        (_, Some("welcome")) => Some("A welcome email is on its way."),
        (_, Some("set_password")) => Some("A set-password email is on its way."),
        _ => None,
    });
    let action_error = [
        posted_error::<SendUserEmail>(),
        posted_error::<SetUserActive>(),
    ]
    .into_iter()
    .flatten()
    .next();
    let facts = [
        (
            "State",
            Some(state_label(&detail.state, detail.welcome_expired).to_owned()),
        ),
        (
            "Kind",
            Some(if detail.is_api_user {
                "API user".to_owned()
            } else {
                "Person".to_owned()
            }),
        ),
        (
            "Created",
            Some(match &detail.created_by {
                Some(by) => format!("{} by {by}", detail.created_at),
                None => detail.created_at.clone(),
            }),
        ),
        ("Welcome email sent", detail.welcome_sent_at.clone()),
        ("Welcome link expires", detail.welcome_expires_at.clone()),
        ("Activated", detail.activated_at.clone()),
        ("Deactivated", detail.deactivated_at.clone()),
    ];
    view! {
        <Title text=name.clone()/>
        <p><a href="/users">"Back to users"</a></p>
        <h1>{name}</h1>
        {notice.map(|text| view! { <p class="notice" role="status">{text}</p> })}
        <ErrorSummary error=Signal::stored(action_error)/>
        <section class="panel" aria-labelledby="state-heading">
            <h2 id="state-heading">"Account"</h2>
            <dl class="details">
                {facts
                    .into_iter()
                    .filter_map(|(term, value)| value.map(|v| view! { <div><dt>{term}</dt><dd>{v}</dd></div> }))
                    .collect::<Vec<_>>()}
            </dl>
            {detail.can_manage.then(|| view! { <Actions detail=detail.clone()/> })}
        </section>
        <Details detail=detail.clone()/>
        <UserAccessSection user_id=detail.id person_name=format!("{} {}", detail.first_name, detail.last_name)/>
        {(detail.can_manage && !detail.is_api_user).then(|| view! { <UserSecuritySection user_id=detail.id/> })}
        <History detail/>
    }
}

#[component]
fn Details(detail: UserDetail) -> impl IntoView {
    let editable = detail.can_manage && detail.details_editable;
    let rows = [
        ("First name", "first_name", detail.first_name.clone()),
        ("Last name", "last_name", detail.last_name.clone()),
        ("Email", "email", detail.email.clone()),
        ("Initials", "initials", detail.initials.clone()),
    ];
    if !editable {
        return view! {
            <section class="panel" aria-labelledby="details-heading">
                <h2 id="details-heading">"Details"</h2>
                {(detail.state != "pending").then(|| view! {
                    <p class="hint">"The person maintains these details themselves since activating the account."</p>
                })}
                <dl class="details">
                    {rows.into_iter().map(|(label, _, value)| view! { <div><dt>{label}</dt><dd>{value}</dd></div> }).collect::<Vec<_>>()}
                    <div><dt>"Username"</dt><dd>{detail.username.clone()}</dd></div>
                </dl>
            </section>
        }
        .into_any();
    }
    let update = ServerAction::<UpdateUser>::new();
    let error = posted_error::<UpdateUser>();
    view! {
        <section class="panel" aria-labelledby="details-heading">
            <h2 id="details-heading">"Details"</h2>
            <p class="hint">"You can change these until the person activates the account."</p>
            <ActionForm action=update attr:novalidate=true>
                <ErrorSummary error=Signal::stored(error.clone())/>
                <input type="hidden" name="id" value=detail.id/>
                {rows
                    .into_iter()
                    .map(|(label, name, value)| view! { <PlainField label name value error=error.clone()/> })
                    .collect::<Vec<_>>()}
                <p><strong>"Username: "</strong>{detail.username.clone()}</p>
                <button type="submit" class="button primary">"Save"</button>
            </ActionForm>
        </section>
    }
    .into_any()
}

#[component]
fn Actions(detail: UserDetail) -> impl IntoView {
    let send = ServerAction::<SendUserEmail>::new();
    let reactivate = ServerAction::<SetUserActive>::new();
    let is_person = !detail.is_api_user;
    let id = detail.id;
    view! {
        <div class="actions">
            {(is_person && detail.state == "pending").then(|| view! {
                <ActionForm action=send>
                    <input type="hidden" name="id" value=id/>
                    <input type="hidden" name="kind" value="welcome"/>
                    <button type="submit" class="button secondary">"Send welcome email"</button>
                </ActionForm>
            })}
            {(is_person && detail.state != "deactivated").then(|| view! {
                <ActionForm action=send>
                    <input type="hidden" name="id" value=id/>
                    <input type="hidden" name="kind" value="set_password"/>
                    <button type="submit" class="button secondary">"Send set-password email"</button>
                </ActionForm>
            })}
            {if detail.state == "deactivated" {
                view! {
                    <ActionForm action=reactivate>
                        <input type="hidden" name="id" value=id/>
                        <input type="hidden" name="active" value="true"/>
                        <button type="submit" class="button secondary">"Reactivate"</button>
                    </ActionForm>
                }.into_any()
            } else {
                let href = format!("/users/{id}/deactivate");
                view! { <a class="button danger" href=href>"Deactivate"</a> }.into_any()
            }}
        </div>
    }
}

#[component]
fn History(detail: UserDetail) -> impl IntoView {
    let rows = detail
        .audit
        .into_iter()
        .map(|line| {
            view! {
                <tr>
                    <td>{line.at}</td>
                    <td>{line.what}</td>
                    <td>{line.by.unwrap_or_else(|| "—".into())}</td>
                    <td>{line.client_address}</td>
                </tr>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <section class="panel" aria-labelledby="history-heading">
            <h2 id="history-heading">"History"</h2>
            <div class="table-wrap">
                <table>
                    <thead><tr><th scope="col">"When"</th><th scope="col">"What"</th><th scope="col">"By"</th><th scope="col">"From"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
}

/// Asks before deactivating, saying exactly what will happen.
#[component]
pub fn DeactivateUserPage() -> impl IntoView {
    let id = user_id();
    let detail = Resource::new(move || id, user);
    let deactivate = ServerAction::<SetUserActive>::new();
    view! {
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => {
                        let name = format!("{} {}", detail.first_name, detail.last_name);
                        let back = format!("/users/{}", detail.id);
                        view! {
                            <Title text=format!("Deactivate {name}")/>
                            <h1>{format!("Deactivate {name}?")}</h1>
                            <div class="panel warning">
                                <p>"Deactivating this account will, at once:"</p>
                                <ul>
                                    <li>"sign it out everywhere: every open session ends at its next request;"</li>
                                    {detail.is_api_user.then(|| view! { <li>"stop every API token of this API user, in every program that uses one;"</li> })}
                                    <li>"make its welcome and password links stop working;"</li>
                                    <li>"stop it signing in or resetting its password."</li>
                                </ul>
                                <p>"Nothing is deleted. You can reactivate the account later, but its old sessions and links will not come back."</p>
                            </div>
                            <ActionForm action=deactivate>
                                <input type="hidden" name="id" value=detail.id/>
                                <input type="hidden" name="active" value="false"/>
                                <button type="submit" class="button danger">"Deactivate"</button>
                                " "
                                <a href=back>"Cancel"</a>
                            </ActionForm>
                        }
                        .into_any()
                    }
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
