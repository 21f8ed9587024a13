//! The user page: details, state, email actions, deactivation, roles and
//! profiles, and history.
//! Rendered on the server; its forms post without needing JavaScript.

use crate::api::api_tokens::{CreateApiToken, RevokeApiToken, load_api_tokens};
use crate::api::users::{SendUserEmail, SetUserActive, UpdateUser, user};
use crate::ui::components::delivery::delivery_text;
use crate::ui::components::form::{ErrorSummary, PlainField, posted_error};
use crate::ui::components::once::once_per_request;
use crate::ui::layout::ErrorPanel;
use crate::ui::pages::applications::UserApplicationsSection;
use crate::ui::pages::roles::UserAccessSection;
use crate::ui::pages::two_factor::UserSecuritySection;
use domain::AppError;
use domain::Permission;
use domain::wire::ApiTokens;
use domain::wire::{CurrentUser, UserDetail};
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
    let detail = Resource::new(
        move || id,
        |id| once_per_request("user", id, move || user(id)),
    );
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
        (Some("applications"), _) => Some("Signed out of the application: it has been told."),
        (_, Some("welcome")) => Some("A welcome email is on its way."),
        (_, Some("set_password")) => Some("A set-password email is on its way."),
        _ => None,
    });
    // The section is for holders of `api_users.manage`; the server checks again.
    let can_manage_tokens =
        use_context::<CurrentUser>().is_some_and(|u| u.can(Permission::ApiUsersManage));
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
        ("Last email", detail.last_email.as_ref().map(delivery_text)),
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
            {detail.refusal.clone().map(|reason| view! { <p class="hint" id="refusal">{reason}</p> })}
        </section>
        <Details detail=detail.clone()/>
        <UserAccessSection user_id=detail.id person_name=format!("{} {}", detail.first_name, detail.last_name)/>
        {(detail.can_manage && !detail.is_api_user).then(|| view! { <UserSecuritySection user_id=detail.id/> })}
        {(!detail.is_api_user).then(|| view! { <UserApplicationsSection user_id=detail.id can_manage=detail.can_manage/> })}
        {(detail.is_api_user && can_manage_tokens).then(|| view! {
            <ApiTokensSection user_id=detail.id deactivated={detail.state == "deactivated"}/>
        })}
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
                    <p class="hint">{if detail.is_api_user {
                        "These details are fixed since the API user's first token activated it."
                    } else {
                        "The person maintains these details themselves since activating the account."
                    }}</p>
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

/// An API user's tokens, for holders of `api_users.manage`: the token just
/// made (shown this once), the list with *Revoke*, and *Create a token*.
#[component]
fn ApiTokensSection(user_id: i64, deactivated: bool) -> impl IntoView {
    let tokens = Resource::new(move || user_id, tokens_once);
    view! {
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match tokens.await {
                    Ok(tokens) => view! { <ApiTokensView user_id deactivated tokens/> }.into_any(),
                    // Without the permission the section is simply not there.
                    Err(AppError::Forbidden) => ().into_any(),
                    Err(error) => view! {
                        <section class="panel" role="alert"><p>{error.to_string()}</p></section>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

/// The API user's tokens, loaded once per page render: loading them hands
/// over (and forgets) the token just made.
async fn tokens_once(user_id: i64) -> Result<ApiTokens, AppError> {
    once_per_request("api_tokens", user_id, || load_api_tokens(user_id)).await
}

/// Shows the Copy button and copies the new token; without JavaScript the
/// button stays hidden and the token can still be selected in its field.
const COPY_TOKEN_SCRIPT: &str = "(function(){\
var b=document.getElementById('copy-new-token'),t=document.getElementById('new-token'),\
s=document.getElementById('copy-token-status');\
if(!b||!t||!s||!navigator.clipboard)return;b.hidden=false;\
b.addEventListener('click',function(){navigator.clipboard.writeText(t.value).then(\
function(){s.textContent='Copied.';},\
function(){t.select();s.textContent='Could not copy: the token is selected, copy it yourself.';});});\
})();";

#[component]
fn ApiTokensView(user_id: i64, deactivated: bool, tokens: ApiTokens) -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let error = posted_error::<CreateApiToken>();
    let revoke_error = posted_error::<RevokeApiToken>();
    // A failed post comes back to the address it came from, which may still
    // say what the previous one did.
    let failed = error.is_some() || revoke_error.is_some();
    let notice = use_query_map().with_untracked(|q| match q.get("saved").as_deref() {
        _ if failed => None,
        Some("token") => Some("The token was created."),
        Some("token_revoked") => {
            Some("The token was revoked: programs using it are refused from their next request.")
        }
        _ => None,
    });
    let new_token = tokens.new_token.map(|token| {
        view! {
            <div class="token-notice">
                <p><strong>"Copy this token now: it is shown only once."</strong></p>
                <p>"Keep it in the program's secret store. Gatehouse keeps only a fingerprint of it and cannot show it again."</p>
                <div class="field">
                    <label for="new-token">"New token"</label>
                    <input id="new-token" class="token" type="text" readonly=true value=token spellcheck="false" autocomplete="off"/>
                </div>
                <button type="button" class="button secondary" id="copy-new-token" hidden=true>"Copy"</button>
                <p id="copy-token-status" role="status"></p>
                <script nonce=use_nonce() inner_html=COPY_TOKEN_SCRIPT></script>
            </div>
        }
    });
    let list = if tokens.tokens.is_empty() {
        view! { <p>"No tokens yet."</p> }.into_any()
    } else {
        let rows = tokens
            .tokens
            .into_iter()
            .map(|token| {
                let revoke_label = format!(" {}", token.name);
                let revoke_button = (token.live && tokens.refusal.is_none()).then(|| {
                    view! {
                        <ActionForm action=revoke>
                            <input type="hidden" name="id" value=user_id/>
                            <input type="hidden" name="token_id" value=token.id/>
                            <button type="submit" class="button secondary">
                                "Revoke"<span class="visually-hidden">{revoke_label}</span>
                            </button>
                        </ActionForm>
                    }
                });
                view! {
                    <tr>
                        <th scope="row">{token.name.clone()}</th>
                        <td><code>{token.prefix}</code></td>
                        <td>{token.created}</td>
                        <td>{token.last_used.unwrap_or_else(|| "Never".into())}</td>
                        <td>{token.expires.unwrap_or_else(|| "Never".into())}</td>
                        <td>{token.status}</td>
                        <td>{revoke_button}</td>
                    </tr>
                }
            })
            .collect::<Vec<_>>();
        view! {
            <div class="table-wrap">
                <table>
                    <caption class="visually-hidden">"Tokens of this API user"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Prefix"</th>
                            <th scope="col">"Created"</th>
                            <th scope="col">"Last used"</th>
                            <th scope="col">"Expires"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Action"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    let form = if let Some(reason) = tokens.refusal.clone() {
        view! { <p class="hint">{reason}</p> }.into_any()
    } else if deactivated {
        view! { <p>"This API user is deactivated: reactivate it to give it a new token."</p> }
            .into_any()
    } else {
        view! {
            <ActionForm action=create attr:novalidate=true attr:aria-labelledby="create-token-heading">
                <h3 id="create-token-heading">"Create a token"</h3>
                <ErrorSummary error=Signal::stored(error.clone())/>
                <input type="hidden" name="id" value=user_id/>
                <PlainField label="Token name" name="name" error=error.clone() hint="What uses it, such as “Nightly import from the student system”"/>
                <PlainField label="Expires on" name="expires_on" input_type="date" error hint="Leave empty for a token that does not expire"/>
                <button type="submit" class="button primary">"Create token"</button>
            </ActionForm>
        }
        .into_any()
    };
    view! {
        <section class="panel" id="api-tokens" aria-labelledby="api-tokens-heading">
            <h2 id="api-tokens-heading">"API tokens"</h2>
            {notice.map(|text| view! { <p class="notice" role="status">{text}</p> })}
            <ErrorSummary error=Signal::stored(revoke_error)/>
            {new_token}
            <p class="hint">"Programs send a token as "<code>"Authorization: Bearer …"</code>". What they may do comes from this API user's roles. See the "<a href="/api/docs">"API reference"</a>"."</p>
            {list}
            {form}
        </section>
    }
}

/// Asks before deactivating, saying exactly what will happen.
#[component]
pub fn DeactivateUserPage() -> impl IntoView {
    let id = user_id();
    let detail = Resource::new(
        move || id,
        |id| once_per_request("user", id, move || user(id)),
    );
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
