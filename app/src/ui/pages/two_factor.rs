//! Enrolling in two-factor authentication and the recovery codes it gives:
//! single-card pages outside the shell (someone who must enrol can reach
//! nothing else). Also the user page's section on a person's two-factor
//! authentication and sessions. All rendered on the server (the QR code is
//! an SVG drawn there); the forms post without JavaScript.

use crate::api::SignOut;
use crate::api::two_factor::{
    ConfirmTwoFactor, EndUserSessions, ResetTwoFactor, recovery_codes, two_factor_enrolment,
    user_security,
};
use crate::ui::components::card::CardPage;
use crate::ui::components::form::{ErrorSummary, PlainField, posted_error};
use crate::ui::components::once::once_per_request;
use domain::AppError;
use domain::wire::{AccountSecurity, Enrolment, RecoveryCodesToKeep};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

#[component]
pub fn EnrolPage() -> impl IntoView {
    let enrolment = Resource::new(|| (), |_| two_factor_enrolment());
    view! {
        <Title text="Set up two-factor authentication"/>
        <CardPage wide=true>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match enrolment.await {
                        Ok(enrolment) => view! { <Enrol enrolment/> }.into_any(),
                        Err(AppError::Unauthorized) => view! { <Redirect path="/sign-in"/> }.into_any(),
                        Err(error) => view! {
                            <h1>"Set up two-factor authentication"</h1>
                            <p role="alert">{error.to_string()}</p>
                            <p><a href="/profile">"Go to My profile"</a></p>
                        }
                        .into_any(),
                    }
                })}
            </Suspense>
        </CardPage>
    }
}

#[component]
fn Enrol(enrolment: Enrolment) -> impl IntoView {
    let confirm = ServerAction::<ConfirmTwoFactor>::new();
    let error = posted_error::<ConfirmTwoFactor>();
    let sign_out = ServerAction::<SignOut>::new();
    let intro = match (enrolment.required, enrolment.again) {
        (_, true) => "Set up your new device. Your old one keeps working until you finish.",
        (true, false) => {
            "Your account can reach information that needs more protection than a password. \
             Signing in will also take a code from an app on your phone. Set it up now to continue."
        }
        (false, false) => "Signing in will also take a code from an app on your phone.",
    };
    view! {
        <h1>"Set up two-factor authentication"</h1>
        <p>{intro}</p>
        <ol class="steps">
            <li>
                <p>"Open an authenticator app on your phone (such as Microsoft Authenticator, Google Authenticator or FreeOTP) and scan this QR code."</p>
                <img
                    class="qr-code"
                    src=enrolment.qr_code
                    width="200"
                    height="200"
                    alt="QR code holding your two-factor key; the same key is written out below"
                />
            </li>
            <li>
                <p>"If you cannot scan it, add the account by hand with this key (time-based, 6 digits):"</p>
                <dl class="details">
                    <div><dt>"Key"</dt><dd><code id="two-factor-key">{enrolment.key}</code></dd></div>
                    <div><dt>"Account"</dt><dd>{format!("{} ({})", enrolment.account_name, enrolment.issuer)}</dd></div>
                </dl>
                <p><a href=enrolment.uri>"Open in an authenticator app on this device"</a></p>
            </li>
            <li>
                <p>"Enter the 6-digit code the app now shows."</p>
                <ActionForm action=confirm attr:novalidate=true>
                    <ErrorSummary error=Signal::stored(error.clone())/>
                    <PlainField label="Authentication code" name="code" error=error autocomplete="one-time-code"/>
                    <button type="submit" class="button primary">"Turn on two-factor authentication"</button>
                </ActionForm>
            </li>
        </ol>
        {if enrolment.required {
            view! {
                <ActionForm action=sign_out>
                    <button type="submit" class="button secondary">"Sign out"</button>
                </ActionForm>
            }
            .into_any()
        } else {
            view! { <p><a href="/profile">"Not now"</a></p> }.into_any()
        }}
    }
}

/// Shown once, right after enrolment or after making new codes.
#[component]
pub fn RecoveryCodesPage() -> impl IntoView {
    let codes = Resource::new(|| (), |_| recovery_codes());
    let next = use_query_map().with_untracked(|q| match q.get("next").as_deref() {
        Some("/profile") => "/profile",
        _ => "/",
    });
    view! {
        <Title text="Your recovery codes"/>
        <CardPage wide=true>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match codes.await {
                        Ok(Some(codes)) => view! { <RecoveryCodes codes next/> }.into_any(),
                        Ok(None) => view! {
                            <h1>"Your recovery codes"</h1>
                            <p>"Recovery codes are shown only once, and these have been shown already. If you did not keep them, make new ones on My profile."</p>
                            <p><a class="button primary" href="/profile">"Go to My profile"</a></p>
                        }
                        .into_any(),
                        Err(AppError::Unauthorized) => view! { <Redirect path="/sign-in"/> }.into_any(),
                        Err(error) => view! { <p role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </CardPage>
    }
}

/// Shows the Copy button and copies the codes; without JavaScript the
/// button stays hidden and the codes can still be selected or downloaded.
const COPY_SCRIPT: &str = "(function(){\
var b=document.getElementById('copy-recovery-codes'),t=document.getElementById('recovery-codes'),\
s=document.getElementById('copy-status');\
if(!b||!t||!s||!navigator.clipboard)return;b.hidden=false;\
b.addEventListener('click',function(){navigator.clipboard.writeText(t.value).then(\
function(){s.textContent='Copied.';},\
function(){t.select();s.textContent='Could not copy: the codes are selected, copy them yourself.';});});\
})();";

#[component]
fn RecoveryCodes(codes: RecoveryCodesToKeep, next: &'static str) -> impl IntoView {
    let text = codes.codes.join("\n");
    let rows = codes.codes.len();
    view! {
        <h1>"Save your recovery codes"</h1>
        <p>"If you lose your phone, each of these codes signs you in once in place of a code from the app. Keep them somewhere safe, such as a password manager or a printout."</p>
        <p><strong>"They are shown only this once."</strong></p>
        <div class="field">
            <label for="recovery-codes">"Your recovery codes"</label>
            <textarea id="recovery-codes" class="recovery-codes" readonly=true rows=rows cols="14" spellcheck="false">{text}</textarea>
        </div>
        <div class="actions">
            <button type="button" class="button secondary" id="copy-recovery-codes" hidden=true>"Copy"</button>
            <a class="button secondary" href=codes.download_url download="gatehouse-recovery-codes.txt">"Download"</a>
        </div>
        <p id="copy-status" role="status"></p>
        <script nonce=use_nonce() inner_html=COPY_SCRIPT></script>
        <p><a class="button primary" href=next>"I have saved my codes – continue"</a></p>
    }
}

/// The user page's section for administrators: the person's two-factor
/// authentication (with *Reset*) and open sessions (with *End all sessions*).
#[component]
pub fn UserSecuritySection(user_id: i64) -> impl IntoView {
    let security = Resource::new(
        move || user_id,
        |id| once_per_request("user_security", id, move || user_security(id)),
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match security.await {
                    Ok(security) => view! { <UserSecurity user_id security/> }.into_any(),
                    Err(error) => view! {
                        <section class="panel" role="alert"><p>{error.to_string()}</p></section>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn UserSecurity(user_id: i64, security: AccountSecurity) -> impl IntoView {
    let reset = ServerAction::<ResetTwoFactor>::new();
    let end_sessions = ServerAction::<EndUserSessions>::new();
    let error = posted_error::<ResetTwoFactor>().or_else(posted_error::<EndUserSessions>);
    let notice = use_query_map().with_untracked(|q| match q.get("security").as_deref() {
        Some("two_factor_reset") => Some(
            "Two-factor authentication was reset and the person's sessions ended. They set it up again when they next sign in.",
        ),
        Some("sessions_ended") => Some("Every session of the person was ended."),
        _ => None,
    });
    let state = match (&security.enrolled_since, security.required) {
        (Some(since), _) => format!(
            "Set up since {since}; {} unused recovery codes",
            security.recovery_codes_left
        ),
        (None, true) => {
            "Not set up: required by their permissions, so they set it up at their next sign-in"
                .to_owned()
        }
        (None, false) => "Not set up".to_owned(),
    };
    let rows = security
        .sessions
        .iter()
        .map(|session| {
            view! {
                <tr>
                    <td>{session.device.clone()}{session.awaiting_code.then(|| view! { <span class="badge">"Waiting for code"</span> })}</td>
                    <td>{session.client_address.clone()}</td>
                    <td>{session.started.clone()}</td>
                    <td>{session.last_active.clone()}</td>
                </tr>
            }
        })
        .collect::<Vec<_>>();
    let has_sessions = !rows.is_empty();
    view! {
        <section class="panel" aria-labelledby="security-heading">
            <h2 id="security-heading">"Two-factor authentication and sessions"</h2>
            {notice.map(|text| view! { <p class="notice" role="status">{text}</p> })}
            <ErrorSummary error=Signal::stored(error)/>
            <dl class="details">
                <div><dt>"Two-factor authentication"</dt><dd>{state}</dd></div>
            </dl>
            {security.enrolled_since.is_some().then(|| view! {
                <p class="hint">"Reset it when the person has lost their phone and their recovery codes. Their sessions end at once; they set it up again when they next sign in."</p>
                <ActionForm action=reset>
                    <input type="hidden" name="id" value=user_id/>
                    <button type="submit" class="button secondary">"Reset two-factor authentication"</button>
                </ActionForm>
            })}
            <h3>"Open sessions"</h3>
            {if has_sessions {
                view! {
                    <div class="table-wrap">
                        <table>
                            <thead>
                                <tr>
                                    <th scope="col">"Device"</th>
                                    <th scope="col">"From"</th>
                                    <th scope="col">"Signed in"</th>
                                    <th scope="col">"Last active"</th>
                                </tr>
                            </thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                    <ActionForm action=end_sessions>
                        <input type="hidden" name="id" value=user_id/>
                        <button type="submit" class="button secondary">"End all sessions"</button>
                    </ActionForm>
                }
                .into_any()
            } else {
                view! { <p>"None."</p> }.into_any()
            }}
        </section>
    }
}
