//! The Users page: search, filters, sorting and paging, all carried in the
//! address, so it works without JavaScript, can be bookmarked and goes
//! Back correctly. A small island makes the search run as you type.

use crate::api::users::list_users;
use crate::ui::components::form::mark_hydrated;
use crate::ui::components::href_with_query;
use crate::ui::components::once::{key, once_per_request};
use crate::ui::layout::ErrorPanel;
use crate::ui::pages::organisations::OrganisationPicker;
use domain::wire::UserListPage;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The page's address parameters.
#[derive(Debug, Clone, Default, PartialEq, Hash)]
struct ListParams {
    q: String,
    state: String,
    kind: String,
    sort: String,
    dir: String,
    after: String,
}

impl ListParams {
    fn href(&self) -> String {
        let pairs = [
            ("q", &self.q),
            ("state", &self.state),
            ("kind", &self.kind),
            ("sort", &self.sort),
            ("dir", &self.dir),
            ("after", &self.after),
        ];
        href_with_query("/users", &pairs)
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let params = use_query_map().with_untracked(|q| ListParams {
        q: q.get("q").unwrap_or_default(),
        state: q.get("state").unwrap_or_default(),
        kind: q.get("kind").unwrap_or_default(),
        sort: q.get("sort").unwrap_or_default(),
        dir: q.get("dir").unwrap_or_default(),
        after: q.get("after").unwrap_or_default(),
    });
    let request = params.clone();
    let page = Resource::new(
        move || request.clone(),
        |p| {
            once_per_request("list_users", key(&p), move || {
                list_users(p.q, p.state, p.kind, p.sort, p.dir, p.after)
            })
        },
    );
    view! {
        <Title text="Users"/>
        <div class="page-heading">
            <h1>"Users"</h1>
        </div>
        <OrganisationPicker next="/users"/>
        <SearchForm params=params.clone()/>
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || {
                let params = params.clone();
                Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <Results page params/> }.into_any(),
                        Err(error) => view! { <ErrorPanel error/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn SearchForm(params: ListParams) -> impl IntoView {
    let option = |value: &'static str, label: &'static str, current: &str| {
        let selected = current == value;
        view! { <option value=value selected=selected>{label}</option> }
    };
    view! {
        <form method="get" action="/users" role="search" class="search-form">
            <LiveSearch value=params.q.clone()/>
            <div class="field">
                <label for="state">"State"</label>
                <select id="state" name="state">
                    {option("", "Any state", &params.state)}
                    {option("pending", "Pending", &params.state)}
                    {option("activation_expired", "Activation expired", &params.state)}
                    {option("active", "Active", &params.state)}
                    {option("deactivated", "Deactivated", &params.state)}
                </select>
            </div>
            <div class="field">
                <label for="kind">"Kind"</label>
                <select id="kind" name="kind">
                    {option("", "People and API users", &params.kind)}
                    {option("person", "People", &params.kind)}
                    {option("api", "API users", &params.kind)}
                </select>
            </div>
            <input type="hidden" name="sort" value=params.sort.clone()/>
            <input type="hidden" name="dir" value=params.dir.clone()/>
            <button type="submit" class="button secondary">"Search"</button>
        </form>
    }
}

/// The search box. In the browser it submits the form by itself once the
/// person pauses typing (also after typing before the page came to life),
/// and keeps the caret where it was after the reload.
#[island]
fn LiveSearch(value: String) -> impl IntoView {
    mark_hydrated();
    let input = NodeRef::<leptos::html::Input>::new();
    let generation = StoredValue::new(0_u64);
    let search_after_pause = move || {
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        set_timeout(
            move || {
                if generation.get_value() == mine
                    && let Some(form) = input.get_untracked().and_then(|i| i.form())
                {
                    let _ = form.request_submit();
                }
            },
            std::time::Duration::from_millis(400),
        );
    };
    let searched = value.clone();
    // After a search the box keeps the focus; that also brings the island
    // to life (see `ui::PageScript`), which then puts the caret at the end.
    let autofocus = !value.is_empty();
    Effect::new(move |_| {
        let Some(input) = input.get() else { return };
        if input.value() != searched {
            search_after_pause();
        } else if !searched.is_empty() {
            let end = input.value().len() as u32;
            let _ = input.focus();
            let _ = input.set_selection_range(end, end);
        }
    });
    view! {
        <div class="field search-field">
            <label for="q">"Search"</label>
            <p class="hint" id="q-hint">"Any part of a name, username or email address"</p>
            <input
                id="q"
                name="q"
                type="search"
                value=value
                autofocus=autofocus
                aria-describedby="q-hint"
                node_ref=input
                on:input=move |_| search_after_pause()
            />
        </div>
    }
}

#[component]
fn Results(page: UserListPage, params: ListParams) -> impl IntoView {
    let sort_params = params.clone();
    let sort_link = move |key: &'static str, label: &'static str| {
        let params = &sort_params;
        let current = if params.sort.is_empty() {
            "last_name"
        } else {
            params.sort.as_str()
        };
        let is_current = current == key;
        let descending = is_current && params.dir == "desc";
        let next = ListParams {
            sort: key.into(),
            dir: if is_current && !descending {
                "desc".into()
            } else {
                String::new()
            },
            after: String::new(),
            ..params.clone()
        };
        let aria_sort = match (is_current, descending) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        };
        view! {
            <th scope="col" aria-sort=aria_sort>
                <a href=next.href()>{label}{is_current.then_some(if descending { " ▼" } else { " ▲" })}</a>
            </th>
        }
    };
    let next_href = page.next.clone().map(|after| {
        ListParams {
            after,
            ..params.clone()
        }
        .href()
    });
    let first_href = (!params.after.is_empty()).then(|| {
        ListParams {
            after: String::new(),
            ..params.clone()
        }
        .href()
    });
    let empty = page.rows.is_empty();
    let rows = page
        .rows
        .into_iter()
        .map(|row| {
            let href = format!("/users/{}", row.id);
            view! {
                <tr>
                    <td><a href=href>{row.name}</a>{row.is_api_user.then(|| view! { <span class="badge">"API user"</span> })}</td>
                    <td>{row.username}</td>
                    <td>{row.email}</td>
                    <td>{row.state}</td>
                    <td>{row.created_at}</td>
                </tr>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <div class="results-bar">
            <p role="status">{page.total.clone()}</p>
            {page.can_add.then(|| view! { <a class="button primary" href="/users/new">"Add a user"</a> })}
        </div>
        {if empty {
            view! {
                <div class="panel empty">
                    <p>{if params.q.is_empty() && params.state.is_empty() && params.kind.is_empty() {
                        "There are no accounts yet."
                    } else {
                        "No accounts match. Check the spelling, or search for part of the name."
                    }}</p>
                </div>
            }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                    <table>
                        <caption class="visually-hidden">"Accounts"</caption>
                        <thead>
                            <tr>
                                {sort_link("last_name", "Name")}
                                {sort_link("username", "Username")}
                                {sort_link("email", "Email")}
                                {sort_link("state", "State")}
                                {sort_link("created", "Created")}
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            }.into_any()
        }}
        <nav aria-label="Pages" class="pager">
            {first_href.map(|href| view! { <a href=href>"First page"</a> })}
            {next_href.map(|href| view! { <a href=href>"Next page"</a> })}
        </nav>
    }
}
