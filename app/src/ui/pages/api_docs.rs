//! `/api/docs`: the REST API explained for the people who write programs
//! against it, then every endpoint and schema of the OpenAPI document.
//! Public, outside the signed-in shell; rendered on the server with nothing
//! loaded from elsewhere, so it also works offline.

use crate::api::api_docs::api_reference;
use crate::ui::layout::ErrorPage;
use domain::Permission;
use domain::wire::{ApiGroup, ApiOperation, ApiReference, ApiSchema, ApiType};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ApiDocsPage() -> impl IntoView {
    let reference = Resource::new(|| (), |_| api_reference());
    view! {
        <Title text="API reference"/>
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match reference.await {
                    Ok(reference) => view! { <ApiDocs reference/> }.into_any(),
                    Err(error) => view! { <ErrorPage error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The problem types of `rest::problem`, each explained where its `type`
/// (`/api/docs#problem-…`) points.
const PROBLEMS: [(&str, u16, &str, &str); 9] = [
    (
        "validation",
        422,
        "Some fields need attention",
        "The body was read, but fields are invalid or already taken. `errors` lists each field (`field`, as named in the body) with a message for a person; fix those fields and send again. A taken username comes with free alternatives in its message.",
    ),
    (
        "bad-request",
        400,
        "The request could not be read",
        "The body is not JSON, or a query parameter or an id in the address cannot be read. `errors` names the part at fault when it is known. Sending the same request again will fail the same way.",
    ),
    (
        "unauthorized",
        401,
        "An API token is needed",
        "No `Authorization: Bearer` header, or a token that is unknown, expired or revoked (also when its API user was deactivated). `detail` says which. Ask an administrator for a new token; do not retry with the same one.",
    ),
    (
        "forbidden",
        403,
        "Not allowed",
        "The token is good, but the API user's roles do not give the permission the endpoint needs (each endpoint below names it), or the account it would act on holds permissions the API user does not, or a role or profile it would give carries them (nobody gets more than they hold; `detail` says which). An administrator can give the API user a role that holds it; it counts from the next request.",
    ),
    (
        "not-found",
        404,
        "Not found",
        "No such account, role or profile in the API user's organisation (another organisation's ids are answered the same), or no such endpoint.",
    ),
    (
        "conflict",
        409,
        "The account's state does not allow that",
        "The request is well formed but the account is in a state that refuses it, for example changing the details of an account that has been activated (only its owner changes them then), or sending a welcome email to an account that is already active.",
    ),
    (
        "too-large",
        413,
        "The request is too large",
        "The body is larger than 64 KiB, more than any request of this API needs. Send one account per request.",
    ),
    (
        "rate-limited",
        429,
        "Too many requests",
        "The token has made too many requests this minute. Wait for the number of seconds in the `Retry-After` header, then send the request again.",
    ),
    (
        "internal",
        500,
        "Something went wrong on our side",
        "The server failed. `error_id` identifies the failure in the server's log: quote it when you report the problem. Retrying later, with a growing delay, is safe for reads.",
    ),
];

const CURL_CREATE: &str = r#"curl --fail-with-body https://gatehouse.example.org/api/v1/users \
  -H "Authorization: Bearer $GATEHOUSE_TOKEN" \
  -H "Content-Type: application/json" \
  -d '{"first_name": "Ada", "last_name": "Lovelace",
       "email": "ada.lovelace@example.org",
       "send_welcome_email": true}'"#;

const CURL_LIST: &str = r#"curl "https://gatehouse.example.org/api/v1/users?q=lovelace&limit=50" \
  -H "Authorization: Bearer $GATEHOUSE_TOKEN""#;

const PROBLEM_EXAMPLE: &str = r#"HTTP/1.1 422 Unprocessable Entity
Content-Type: application/problem+json

{
  "type": "/api/docs#problem-validation",
  "title": "Some fields need attention",
  "status": 422,
  "detail": "email: Enter an email address like name@example.org",
  "errors": [
    {"field": "email", "message": "Enter an email address like name@example.org"}
  ]
}"#;

#[component]
fn ApiDocs(reference: ApiReference) -> impl IntoView {
    let ApiReference {
        title,
        version,
        description,
        groups,
        schemas,
    } = reference;
    let contents = groups
        .iter()
        .map(|group| {
            let links = group
                .operations
                .iter()
                .map(|op| {
                    let href = format!("#{}", op.anchor);
                    view! {
                        <li>
                            <a href=href><span class="method">{op.method.clone()}</span>" "<code>{op.path.clone()}</code></a>
                            " "{op.summary.clone()}
                        </li>
                    }
                })
                .collect::<Vec<_>>();
            view! {
                <li>{group.name.clone()}<ul>{links}</ul></li>
            }
        })
        .collect::<Vec<_>>();
    let permissions = Permission::ALL
        .into_iter()
        .map(|p| view! { <tr><td><code>{p.key()}</code></td><td>{p.label()}</td></tr> })
        .collect::<Vec<_>>();
    let problems = PROBLEMS
        .into_iter()
        .map(|(code, status, title, text)| {
            let id = format!("problem-{code}");
            view! {
                <section class="api-problem" aria-labelledby=id.clone()>
                    <h3 id=id.clone()>{format!("{status} · {title}")}</h3>
                    <p><code>{format!("\"type\": \"/api/docs#{id}\"")}</code></p>
                    <p>{code_text(text)}</p>
                </section>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <a class="skip-link" href="#main">"Skip to main content"</a>
        <header class="site-header">
            <a href="/" class="brand">"Gatehouse"</a>
            <nav aria-label="API reference">
                <ul>
                    <li><a href="#start">"Getting started"</a></li>
                    <li><a href="#errors">"Errors"</a></li>
                    <li><a href="#endpoints">"Endpoints"</a></li>
                    <li><a href="#schemas">"Schemas"</a></li>
                    <li><a href="/api/v1/openapi.json">"OpenAPI document (JSON)"</a></li>
                </ul>
            </nav>
        </header>
        <main id="main" class="content api-docs">
            <h1>{title}</h1>
            <p class="hint">{format!("Version {version} · OpenAPI 3.1")}</p>
            <p>{code_text(&description)}</p>

            <section class="panel" aria-labelledby="start">
                <h2 id="start">"Getting started"</h2>
                <h3 id="base-url">"Base address"</h3>
                <p>
                    "Every endpoint is under "<code>"/api/v1"</code>" on this server, for example "
                    <code>"https://gatehouse.example.org/api/v1/users"</code>
                    ". Requests and answers are JSON (UTF-8); times are RFC 3339 in UTC. The machine-readable description is the "
                    <a href="/api/v1/openapi.json">"OpenAPI document"</a>", which tools can read to make a client."
                </p>
                <h3 id="authentication">"Authentication"</h3>
                <p>"Every request carries the token of an API user:"</p>
                <pre tabindex="0"><code>"Authorization: Bearer gat_…"</code></pre>
                <p>
                    "An API user is an account for programs: it can never sign in to the browser app. Someone holding "
                    <strong>"Can manage API users and tokens"</strong>
                    " adds one (Users, then Add a user, with the API user box ticked) and makes tokens in the "
                    <em>"API tokens"</em>" section of its page. A token is shown only once, when it is made: keep it in your program's secret store. "
                    "Tokens can be given an expiry date; a token that is revoked or expired, or whose API user is deactivated, is refused from its next request."
                </p>
                <h3 id="permissions">"Permissions"</h3>
                <p>
                    "What an API user may do comes from its roles and profiles, given on its page exactly as for people. "
                    "Each endpoint below names the permission it needs; without it the answer is "
                    <a href="#problem-forbidden">"403"</a>". Changes to the roles hold from the next request."
                </p>
                <div class="table-wrap">
                    <table>
                        <caption>"Permissions"</caption>
                        <thead><tr><th scope="col">"Key"</th><th scope="col">"What it allows"</th></tr></thead>
                        <tbody>{permissions}</tbody>
                    </table>
                </div>
                <h3 id="pagination">"Pagination"</h3>
                <p>
                    "Lists answer one page at a time (" <code>"limit"</code> " 1–100, default 50) with "
                    <code>"next_cursor"</code>
                    ". To read the next page, send the same query again with "<code>"cursor"</code>
                    " set to that value; on the last page "<code>"next_cursor"</code>" is "<code>"null"</code>
                    ". A cursor belongs to its "<code>"sort"</code>" and "<code>"dir"</code>"."
                </p>
                <h3 id="throttling">"Throttling"</h3>
                <p>
                    "Each token may make a limited number of requests a minute (600 unless the deployment sets otherwise). "
                    "Beyond that the answer is "<a href="#problem-rate-limited">"429 Too Many Requests"</a>
                    " with a "<code>"Retry-After"</code>" header giving the seconds to wait."
                </p>
                <h3 id="example">"Example"</h3>
                <p>"Add a person and email them their activation link; the answer is 201 Created, with the account and a "<code>"Location"</code>" header:"</p>
                <pre tabindex="0"><code>{CURL_CREATE}</code></pre>
                <p>"Find accounts by name, username or email:"</p>
                <pre tabindex="0"><code>{CURL_LIST}</code></pre>
            </section>

            <section class="panel" aria-labelledby="errors">
                <h2 id="errors">"Errors"</h2>
                <p>
                    "A request that fails is answered with its HTTP status and a problem report (RFC 9457) of type "
                    <code>"application/problem+json"</code>": "<code>"type"</code>" points at its explanation below, "
                    <code>"title"</code>" is the same for every problem of that type, "<code>"detail"</code>
                    " says what happened this time, "<code>"errors"</code>" lists fields that need attention and "
                    <code>"error_id"</code>" identifies an internal error in the server's log."
                </p>
                <pre tabindex="0"><code>{PROBLEM_EXAMPLE}</code></pre>
                {problems}
            </section>

            <section class="panel" aria-labelledby="endpoints">
                <h2 id="endpoints">"Endpoints"</h2>
                <ul class="api-contents">{contents}</ul>
                {groups.into_iter().map(|group| view! { <Group group/> }).collect::<Vec<_>>()}
            </section>

            <section class="panel" aria-labelledby="schemas">
                <h2 id="schemas">"Schemas"</h2>
                <p>"The objects that requests and answers are made of. Optional properties may be left out of a request."</p>
                {schemas.into_iter().map(|schema| view! { <Schema schema/> }).collect::<Vec<_>>()}
            </section>
        </main>
    }
}

/// Text whose `backquoted` parts are code, as the OpenAPI descriptions and
/// the texts above write them.
fn code_text(text: &str) -> Vec<AnyView> {
    text.split('`')
        .enumerate()
        .filter(|(_, part)| !part.is_empty())
        .map(|(index, part)| {
            let part = part.to_owned();
            if index % 2 == 1 {
                view! { <code>{part}</code> }.into_any()
            } else {
                part.into_any()
            }
        })
        .collect()
}

/// A type, linked to its schema when it names one.
fn type_view(kind: &ApiType) -> AnyView {
    match &kind.schema {
        Some(schema) => {
            let href = format!("#schema-{schema}");
            view! { <a href=href><code>{kind.text.clone()}</code></a> }.into_any()
        }
        None => view! { <code>{kind.text.clone()}</code> }.into_any(),
    }
}

#[component]
fn Group(group: ApiGroup) -> impl IntoView {
    let id = format!(
        "group-{}",
        group
            .name
            .to_lowercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    );
    view! {
        <section class="api-group" aria-labelledby=id.clone()>
            <h3 id=id.clone()>{group.name}</h3>
            {(!group.description.is_empty()).then(|| view! { <p>{group.description}</p> })}
            {group.operations.into_iter().map(|operation| view! { <Operation operation/> }).collect::<Vec<_>>()}
        </section>
    }
}

#[component]
fn Operation(operation: ApiOperation) -> impl IntoView {
    let ApiOperation {
        method,
        path,
        anchor,
        summary,
        description,
        permission,
        parameters,
        request_body,
        responses,
    } = operation;
    let heading_id = format!("{anchor}-heading");
    let permission = match permission {
        Some(p) => view! {
            <p><strong>"Needs: "</strong>{p.label}" ("<code>{p.key}</code>")"</p>
        }
        .into_any(),
        None => view! { <p><strong>"Needs: "</strong>"a valid token only"</p> }.into_any(),
    };
    let parameters = (!parameters.is_empty()).then(|| {
        let rows = parameters
            .into_iter()
            .map(|p| {
                view! {
                    <tr>
                        <th scope="row"><code>{p.name}</code></th>
                        <td>{p.location}</td>
                        <td>{type_view(&p.kind)}</td>
                        <td>{if p.required { "Yes" } else { "No" }}</td>
                        <td>{code_text(&p.description)}</td>
                    </tr>
                }
            })
            .collect::<Vec<_>>();
        view! {
            <div class="table-wrap">
                <table>
                    <caption>"Parameters"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Name"</th>
                            <th scope="col">"In"</th>
                            <th scope="col">"Type"</th>
                            <th scope="col">"Required"</th>
                            <th scope="col">"Description"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
    });
    let body = request_body.map(|kind| {
        view! { <p><strong>"Body: "</strong>{type_view(&kind)}" (JSON)"</p> }
    });
    let responses = responses
        .into_iter()
        .map(|r| {
            view! {
                <tr>
                    <th scope="row">{r.status}</th>
                    <td>{code_text(&r.description)}</td>
                    <td>{r.body.as_ref().map(type_view)}</td>
                </tr>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <article class="api-operation" id=anchor aria-labelledby=heading_id.clone()>
            <h4 id=heading_id.clone()>
                <span class="method">{method}</span>" "<code>{path}</code>
                <span class="visually-hidden">": "</span>
                <span class="api-summary">{code_text(&summary)}</span>
            </h4>
            {(!description.is_empty()).then(|| view! { <p>{code_text(&description)}</p> })}
            {permission}
            {parameters}
            {body}
            <div class="table-wrap">
                <table>
                    <caption>"Responses"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Description"</th>
                            <th scope="col">"Body"</th>
                        </tr>
                    </thead>
                    <tbody>{responses}</tbody>
                </table>
            </div>
        </article>
    }
}

#[component]
fn Schema(schema: ApiSchema) -> impl IntoView {
    let ApiSchema {
        name,
        description,
        properties,
        enum_values,
    } = schema;
    let id = format!("schema-{name}");
    let properties = (!properties.is_empty()).then(|| {
        let rows = properties
            .into_iter()
            .map(|p| {
                view! {
                    <tr>
                        <th scope="row"><code>{p.name}</code></th>
                        <td>{type_view(&p.kind)}</td>
                        <td>{if p.required { "Yes" } else { "No" }}</td>
                        <td>{code_text(&p.description)}</td>
                    </tr>
                }
            })
            .collect::<Vec<_>>();
        view! {
            <div class="table-wrap">
                <table>
                    <caption class="visually-hidden">{format!("Properties of {name}")}</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Property"</th>
                            <th scope="col">"Type"</th>
                            <th scope="col">"Required"</th>
                            <th scope="col">"Description"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
    });
    let values = (!enum_values.is_empty()).then(|| {
        view! {
            <p>
                "One of: "
                {enum_values
                    .into_iter()
                    .enumerate()
                    .map(|(index, value)| view! { {(index > 0).then_some(", ")}<code>{value}</code> })
                    .collect::<Vec<_>>()}
            </p>
        }
    });
    view! {
        <section class="api-schema" aria-labelledby=id.clone()>
            <h3 id=id.clone()><code>{name.clone()}</code></h3>
            {(!description.is_empty()).then(|| view! { <p>{code_text(&description)}</p> })}
            {values}
            {properties}
        </section>
    }
}
