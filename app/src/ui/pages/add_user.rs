//! *Add a user*: every field checked as it is typed by the same domain code
//! the server runs; the username generated from the names and checked
//! across all organisations; similar accounts shown before a duplicate is made.

use crate::api::users::{AddUser, add_user_hints};
use crate::ui::components::form::{
    Checkbox, ErrorSummary, ServerForm, SubmitButton, action_error, checkbox, mark_hydrated,
    posted_error,
};
use crate::ui::components::person::{NameAndEmailFields, PersonFields, UsernameAndInitialsFields};
use crate::ui::pages::organisations::OrganisationPicker;
use domain::AppError;
use domain::wire::CurrentUser;
use domain::wire::{UserSummary, UsernameCheck};
use domain::{Email, Username};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AddUserPage() -> impl IntoView {
    let organisation = use_context::<CurrentUser>()
        .map(|u| u.working_organisation_name)
        .unwrap_or_default();
    view! {
        <Title text="Add a user"/>
        <p><a href="/users">"Back to users"</a></p>
        <h1>"Add a user"</h1>
        <OrganisationPicker next="/users/new"/>
        <p>
            "The account is added to " <strong>{organisation}</strong> " and starts as pending. "
            "With a welcome email the person activates it themselves."
        </p>
        <AddUserForm initial_error={posted_error::<AddUser>()} />
    }
}

/// Runs `work` once the inputs it reads have been still for a moment, so a
/// fast typist does not send a request per key.
fn debounced<T, F, Fut>(work: F) -> ReadSignal<Option<T>>
where
    T: Send + Sync + 'static,
    F: Fn() -> Option<Fut> + Send + Sync + 'static,
    Fut: std::future::Future<Output = Option<T>> + 'static,
{
    let (result, set_result) = signal(None::<T>);
    let generation = StoredValue::new(0_u64);
    Effect::new(move |_| {
        let Some(request) = work() else {
            set_result.set(None);
            return;
        };
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        set_timeout(
            move || {
                leptos::task::spawn_local(async move {
                    let answer = request.await;
                    // Only the newest request may answer.
                    if generation.get_value() == mine {
                        set_result.set(answer);
                    }
                });
            },
            std::time::Duration::from_millis(300),
        );
    });
    result
}

#[island]
fn AddUserForm(initial_error: Option<AppError>) -> impl IntoView {
    mark_hydrated();
    let action = ServerAction::<AddUser>::new();
    let submitted = action_error(action, initial_error);
    let person = PersonFields::new(submitted);
    let PersonFields {
        first,
        last,
        email,
        username,
        generate_username,
        ..
    } = person;
    let api_user = checkbox("api_user", false);
    let send_welcome = checkbox("send_welcome_email", true);

    let hints = debounced(move || {
        let (first, last, mail, wanted, generate) = (
            first.value.get(),
            last.value.get(),
            email.value.get(),
            username.value.get(),
            generate_username.get(),
        );
        let username_ready = Username::parse(&wanted).is_ok();
        let similar_ready = last.trim().chars().count() >= 2 || Email::parse(&mail).is_ok();
        if !username_ready && !similar_ready {
            return None;
        }
        let wanted = if username_ready {
            wanted
        } else {
            String::new()
        };
        Some(async move {
            add_user_hints(first, last, mail, wanted, generate && username_ready)
                .await
                .ok()
        })
    });
    let availability = Signal::derive(move || hints.get().and_then(|h| h.username));
    let similar = Signal::derive(move || hints.get().map(|h| h.similar));

    let choose = move |alternative: String| {
        generate_username.set(false);
        username.value.set(alternative);
    };

    view! {
        <ServerForm
            action=action
            args=move || AddUser {
                first_name: first.value.get_untracked(),
                last_name: last.value.get_untracked(),
                email: email.value.get_untracked(),
                generate_username: person.generate_username_arg(),
                username: username.value.get_untracked(),
                initials: person.initials.value.get_untracked(),
                api_user: api_user.get_untracked().then(|| "on".to_owned()),
                send_welcome_email: (send_welcome.get_untracked() && !api_user.get_untracked()).then(|| "on".to_owned()),
            }
        >
            <ErrorSummary error=submitted/>
            <NameAndEmailFields
                fields=person
                email_hint="How the person is contacted: their welcome and password emails go here."
            />
            <SimilarAccounts similar/>
            <UsernameAndInitialsFields fields=person>
                <UsernameStatus availability choose/>
            </UsernameAndInitialsFields>
            <Checkbox id="api_user" label="API user" checked=api_user/>
            <p class="hint">"An API user is for programs: it can never sign in here. This cannot be changed later."</p>
            <Checkbox
                id="send_welcome_email"
                label="Send welcome email"
                checked=send_welcome
                disabled=Signal::derive(move || api_user.get())
            />
            <SubmitButton label="Add a user" pending=action.pending()/>
        </ServerForm>
    }
}

#[component]
fn UsernameStatus(
    availability: Signal<Option<UsernameCheck>>,
    choose: impl Fn(String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <div class="username-status" aria-live="polite">
            {move || availability.get().map(|check| {
                if check.available {
                    view! { <p class="ok">{format!("{} is available", check.username)}</p> }.into_any()
                } else if let Some(problem) = check.problem {
                    view! { <p>{problem}</p> }.into_any()
                } else {
                    let offers = check.alternatives.into_iter().map(|alternative| {
                        let label = format!("Use {alternative}");
                        view! {
                            <li><button type="button" class="button secondary" on:click=move |_| choose(alternative.clone())>{label}</button></li>
                        }
                    }).collect::<Vec<_>>();
                    view! {
                        <p class="taken">{format!("{} is already taken.", check.username)}</p>
                        <p>"Free alternatives:"</p>
                        <ul class="alternatives">{offers}</ul>
                    }.into_any()
                }
            })}
        </div>
    }
}

#[component]
fn SimilarAccounts(similar: Signal<Option<Vec<UserSummary>>>) -> impl IntoView {
    move || {
        similar.get().filter(|list| !list.is_empty()).map(|list| {
            let items = list
                .into_iter()
                .map(|u| {
                    let href = format!("/users/{}", u.id);
                    view! { <li><a href=href>{u.name}</a>" · "{u.username}" · "{u.email}" · "{u.state}</li> }
                })
                .collect::<Vec<_>>();
            view! {
                <div class="similar" role="status">
                    <h2>"Is this person already here?"</h2>
                    <p>"These accounts in your organisation look similar:"</p>
                    <ul>{items}</ul>
                </div>
            }
        })
    }
}
