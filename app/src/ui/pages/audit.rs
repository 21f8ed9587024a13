//! The Audit log page: filters in the address (a GET form, so it works
//! without JavaScript and can be bookmarked), newest entries first, a page
//! at a time.

use crate::api::audit::audit_log;
use crate::ui::components::href_with_query;
use crate::ui::layout::ErrorPanel;
use domain::AppError;
use domain::wire::{AuditLogLine, AuditLogPage};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[derive(Debug, Clone, Default, PartialEq)]
struct Filters {
    actor: String,
    target: String,
    action: String,
    from: String,
    to: String,
}

impl Filters {
    fn pairs(&self) -> [(&'static str, &String); 5] {
        [
            ("actor", &self.actor),
            ("target", &self.target),
            ("action", &self.action),
            ("from", &self.from),
            ("to", &self.to),
        ]
    }

    /// The address of the page after `cursor` with the same filters.
    fn older_href(&self, cursor: &str) -> String {
        let after = cursor.to_owned();
        let mut pairs = self.pairs().to_vec();
        pairs.push(("after", &after));
        href_with_query("/audit", &pairs)
    }
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let (filters, after) = use_query_map().with_untracked(|q| {
        let get = |name: &str| q.get(name).unwrap_or_default();
        (
            Filters {
                actor: get("actor"),
                target: get("target"),
                action: get("action"),
                from: get("from"),
                to: get("to"),
            },
            get("after"),
        )
    });
    let request = (filters.clone(), after);
    let page = Resource::new(
        move || request.clone(),
        |(f, after)| audit_log(f.actor, f.target, f.action, f.from, f.to, after),
    );
    view! {
        <Title text="Audit log"/>
        <h1>"Audit log"</h1>
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || {
                let filters = filters.clone();
                Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! {
                            <FilterForm filters=filters.clone() actions=page.actions.clone() error=None/>
                            <Entries page filters/>
                        }
                        .into_any(),
                        Err(error @ AppError::Validation(_)) => view! {
                            <FilterForm filters actions=Vec::new() error=Some(error)/>
                        }
                        .into_any(),
                        Err(error) => view! { <ErrorPanel error/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn FilterForm(
    filters: Filters,
    actions: Vec<(String, String)>,
    error: Option<AppError>,
) -> impl IntoView {
    let field =
        |label: &'static str, name: &'static str, input_type: &'static str, value: String| {
            let message = error.as_ref().and_then(|e| e.field_message(name));
            let error_id = format!("{name}-error");
            view! {
                <div class="field" class:field-invalid=message.is_some()>
                    <label for=name>{label}</label>
                    <p class="field-error" id=error_id.clone()>{message.clone()}</p>
                    <input id=name name=name type=input_type value=value
                        aria-invalid=if message.is_some() { "true" } else { "false" }
                        aria-describedby=message.is_some().then_some(error_id)/>
                </div>
            }
        };
    let chosen = filters.action.clone();
    let options = actions
        .into_iter()
        .map(|(key, label)| {
            let selected = key == chosen;
            view! { <option value=key selected=selected>{label}</option> }
        })
        .collect::<Vec<_>>();
    view! {
        <form method="get" action="/audit" class="search-form panel" aria-label="Filter the audit log">
            {field("Actor (username or email)", "actor", "text", filters.actor)}
            {field("Account acted on (username or email)", "target", "text", filters.target)}
            <div class="field">
                <label for="action">"Action"</label>
                <select id="action" name="action">
                    <option value="">"Any action"</option>
                    {options}
                </select>
            </div>
            {field("From (day)", "from", "date", filters.from)}
            {field("To (day)", "to", "date", filters.to)}
            <button type="submit" class="button secondary">"Filter"</button>
        </form>
    }
}

#[component]
fn Entries(page: AuditLogPage, filters: Filters) -> impl IntoView {
    if page.rows.is_empty() {
        return view! { <p class="panel empty" role="status">"No entries match these filters."</p> }
            .into_any();
    }
    let rows = page.rows.into_iter().map(|line: AuditLogLine| {
        let dash = || "—".to_owned();
        view! {
            <tr>
                <td>{line.at}</td>
                <td>{line.what}</td>
                <td>{line.actor.unwrap_or_else(dash)}</td>
                <td>{line.target.unwrap_or_else(dash)}</td>
                <td>{line.detail}</td>
                <td>{line.client_address}</td>
            </tr>
        }
    });
    view! {
        <div class="table-wrap panel">
            <table>
                <caption class="visually-hidden">"Audit log entries, newest first"</caption>
                <thead>
                    <tr>
                        <th scope="col">"When (UTC)"</th>
                        <th scope="col">"What"</th>
                        <th scope="col">"Actor"</th>
                        <th scope="col">"Account"</th>
                        <th scope="col">"Detail"</th>
                        <th scope="col">"Client address"</th>
                    </tr>
                </thead>
                <tbody>{rows.collect::<Vec<_>>()}</tbody>
            </table>
        </div>
        {page.next.map(|cursor| view! {
            <p><a class="button secondary" href=filters.older_href(&cursor)>"Older entries"</a></p>
        })}
    }
    .into_any()
}
