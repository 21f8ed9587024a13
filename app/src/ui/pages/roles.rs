//! Roles and Profiles pages, a role's and a profile's page, and the *Roles
//! and profiles* section of a user page. All server rendered; the forms
//! post without JavaScript, checkbox lists as repeated `name[]` fields.

use crate::api::roles::{
    AddProfile, AddRole, SaveProfile, SaveRole, SaveUserAccess, load_profile, load_profiles,
    load_role, load_roles, load_user_access,
};
use crate::ui::components::form::{ErrorSummary, PlainField, posted_error};
use crate::ui::components::once::once_per_request;
use crate::ui::layout::ErrorPanel;
use domain::AppError;
use domain::Permission;
use domain::wire::{
    AccessChoice, AccessMember, ProfileDetail, ProfileSummary, RoleDetail, RoleSummary, UserAccess,
};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

const TWO_FACTOR: &str = "Requires two-factor authentication";

/// Roles and profiles have pages of the same shape; this says whose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Role,
    Profile,
}

/// The words and places that differ between a role's pages and a profile's.
struct Texts {
    /// "role", "profile".
    noun: &'static str,
    /// A column and a section heading.
    heading: &'static str,
    /// The list page's title.
    plural: &'static str,
    /// The list page, under which each has its own page.
    page: &'static str,
    /// What one is made of: permissions (of a role) or roles (of a profile).
    contents: &'static str,
    /// The label and hint of the name field.
    naming: (&'static str, &'static str),
    /// The hint of the *Add a role* or *Add a profile* form.
    add_hint: &'static str,
    /// The Members section of one nobody holds.
    no_members: &'static str,
}

const ROLE: Texts = Texts {
    noun: "role",
    heading: "Role",
    plural: "Roles",
    page: "/roles",
    contents: "Permissions",
    naming: (
        "Role name",
        "2 to 60 characters, unlike any other role's name.",
    ),
    add_hint: "It starts with no permissions: choose them on its page.",
    no_members: "Nobody holds this role yet. Give it to people on their user page, or put it in a profile.",
};

const PROFILE: Texts = Texts {
    noun: "profile",
    heading: "Profile",
    plural: "Profiles",
    page: "/profiles",
    contents: "Roles",
    naming: (
        "Profile name",
        "2 to 60 characters, unlike any other profile's name.",
    ),
    add_hint: "It starts with no roles: choose them on its page.",
    no_members: "Nobody holds this profile yet. Give it to people on their user page.",
};

impl Kind {
    fn texts(self) -> &'static Texts {
        match self {
            Kind::Role => &ROLE,
            Kind::Profile => &PROFILE,
        }
    }
}

fn id_param() -> i64 {
    use_params_map().with_untracked(|p| p.get("id").and_then(|id| id.parse().ok()).unwrap_or(0))
}

/// The notice after a save, from the `saved` the server function redirected with.
fn saved_notice(noun: &'static str) -> Option<String> {
    use_query_map().with_untracked(|q| match q.get("saved").as_deref() {
        Some("created") => Some(format!("The {noun} was added.")),
        Some("changes") => Some(format!("The {noun} was saved.")),
        _ => None,
    })
}

fn loading() -> impl IntoView {
    view! { <p class="loading" role="status">"Loading…"</p> }
}

/// `resource` shown by `show` once loaded, or the error it gave.
fn loaded<T>(resource: Resource<Result<T, AppError>>, show: fn(T) -> AnyView) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
{
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match resource.await {
                    Ok(value) => show(value),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// "Requires two-factor authentication", or nothing.
fn two_factor_mark(required: bool) -> impl IntoView {
    required.then(|| view! { " " <span class="badge">{TWO_FACTOR}</span> })
}

#[component]
pub fn RolesPage() -> impl IntoView {
    let roles = Resource::new(|| (), |_| load_roles());
    let table = loaded(roles, |roles| {
        let lines = roles.into_iter().map(Line::from).collect();
        view! { <LineTable kind=Kind::Role lines/> }.into_any()
    });
    view! {
        <ListPage kind=Kind::Role table=table.into_any()>
            "A role is a set of permissions. Give people roles on their user page, or group roles into "
            <a href="/profiles">"profiles"</a>" so a job's access is given in one step."
        </ListPage>
    }
}

#[component]
pub fn ProfilesPage() -> impl IntoView {
    let profiles = Resource::new(|| (), |_| load_profiles());
    let table = loaded(profiles, |profiles| {
        let lines = profiles.into_iter().map(Line::from).collect();
        view! { <LineTable kind=Kind::Profile lines/> }.into_any()
    });
    view! {
        <ListPage kind=Kind::Profile table=table.into_any()>
            "A profile is a set of "<a href="/roles">"roles"</a>
            ", such as everything an office administrator needs, given to people in one step on their user page."
        </ListPage>
    }
}

/// The Roles or the Profiles page: what they are (`children`), the table
/// and the form adding one.
#[component]
fn ListPage(kind: Kind, table: AnyView, children: Children) -> impl IntoView {
    let texts = kind.texts();
    view! {
        <Title text=texts.plural/>
        <h1>{texts.plural}</h1>
        <p class="hint">{children()}</p>
        {table}
        <AddForm kind/>
    }
}

/// A line of the Roles or the Profiles page.
struct Line {
    id: i64,
    name: String,
    description: String,
    /// The cell saying what it is made of.
    contents: AnyView,
    member_count: i64,
    requires_2fa: bool,
}

impl From<RoleSummary> for Line {
    fn from(role: RoleSummary) -> Line {
        Line {
            id: role.id,
            name: role.name,
            description: role.description,
            contents: view! { <td class="number">{role.permissions.len()}</td> }.into_any(),
            member_count: role.member_count,
            requires_2fa: role.requires_2fa,
        }
    }
}

impl From<ProfileSummary> for Line {
    fn from(profile: ProfileSummary) -> Line {
        Line {
            id: profile.id,
            name: profile.name,
            description: profile.description,
            contents: view! { <td>{profile.roles.iter().map(|(_, name)| name.as_str()).collect::<Vec<_>>().join(", ")}</td> }.into_any(),
            member_count: profile.member_count,
            requires_2fa: profile.requires_2fa,
        }
    }
}

#[component]
fn LineTable(kind: Kind, lines: Vec<Line>) -> impl IntoView {
    let texts = kind.texts();
    let rows = lines
        .into_iter()
        .map(|line| {
            let href = format!("{}/{}", texts.page, line.id);
            view! {
                <tr>
                    <th scope="row"><a href=href>{line.name}</a></th>
                    <td>{line.description}</td>
                    {line.contents}
                    <td class="number">{line.member_count}</td>
                    <td>{if line.requires_2fa { "Yes" } else { "No" }}</td>
                </tr>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <div class="table-wrap panel">
            <table>
                <caption class="visually-hidden">{format!("{} of the organisation", texts.plural)}</caption>
                <thead>
                    <tr>
                        <th scope="col">{texts.heading}</th>
                        <th scope="col">"Description"</th>
                        <th scope="col">{texts.contents}</th>
                        <th scope="col">"Members"</th>
                        <th scope="col">{TWO_FACTOR}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// The *Add a role* or *Add a profile* panel and its form.
#[component]
fn AddForm(kind: Kind) -> impl IntoView {
    let texts = kind.texts();
    let add = format!("Add a {}", texts.noun);
    let fields = {
        let add = add.clone();
        move |error: Option<AppError>| {
            view! {
                <ErrorSummary error=Signal::stored(error.clone())/>
                <NamingFields kind name=String::new() description=String::new() error/>
                <button type="submit" class="button primary">{add}</button>
            }
        }
    };
    let form = match kind {
        Kind::Role => view! {
            <ActionForm action={ServerAction::<AddRole>::new()} attr:novalidate=true>
                {fields(posted_error::<AddRole>())}
            </ActionForm>
        }
        .into_any(),
        Kind::Profile => view! {
            <ActionForm action={ServerAction::<AddProfile>::new()} attr:novalidate=true>
                {fields(posted_error::<AddProfile>())}
            </ActionForm>
        }
        .into_any(),
    };
    view! {
        <section class="panel" aria-labelledby="add-heading">
            <h2 id="add-heading">{add}</h2>
            <p class="hint">{texts.add_hint}</p>
            {form}
        </section>
    }
}

/// The name and description fields of a role or profile.
#[component]
fn NamingFields(
    kind: Kind,
    name: String,
    description: String,
    error: Option<AppError>,
) -> impl IntoView {
    let (label, hint) = kind.texts().naming;
    view! {
        <PlainField label name="name" value=name error=error.clone() hint/>
        <PlainField label="Description" name="description" value=description error
            hint="Optional: what it is for, in a line."/>
    }
}

#[component]
pub fn RolePage() -> impl IntoView {
    let role = Resource::new(id_param, load_role);
    loaded(role, |role| view! { <RoleView role/> }.into_any())
}

#[component]
fn RoleView(role: RoleDetail) -> impl IntoView {
    // Each group once, in the catalogue's order.
    let mut groups: Vec<&'static str> = Vec::new();
    for permission in Permission::ALL {
        if !groups.contains(&permission.group()) {
            groups.push(permission.group());
        }
    }
    let permission_groups = groups
        .into_iter()
        .map(|group| {
            let boxes = Permission::ALL
                .into_iter()
                .filter(|p| p.group() == group)
                .map(|permission| {
                    let id = format!("permission-{}", permission.key().replace(['.', '_'], "-"));
                    let checked = role.permissions.contains(&permission);
                    view! {
                        <div class="checkbox">
                            <input type="checkbox" id=id.clone() name="permissions[]" value=permission.key() checked=checked/>
                            <label for=id>{permission.label()}{two_factor_mark(permission.requires_2fa())}</label>
                        </div>
                    }
                })
                .collect::<Vec<_>>();
            view! { <fieldset><legend>{group}</legend>{boxes}</fieldset> }
        })
        .collect::<Vec<_>>();
    let profiles = (!role.profiles.is_empty())
        .then(|| view! { <p>"Part of the profiles: "{role.profiles.join(", ")}"."</p> }.into_any());
    view! {
        <DetailPage kind=Kind::Role id=role.id name=role.name description=role.description
            members=role.members after=profiles>
            <fieldset>
                <legend>"Permissions"</legend>
                <p class="hint">
                    "People holding a permission marked “"{TWO_FACTOR}
                    "” must set up two-factor authentication before they can do anything else."
                </p>
                {permission_groups}
            </fieldset>
        </DetailPage>
    }
}

#[component]
pub fn AccessProfilePage() -> impl IntoView {
    let profile = Resource::new(id_param, load_profile);
    loaded(profile, |profile| {
        view! { <ProfileView profile/> }.into_any()
    })
}

#[component]
fn ProfileView(profile: ProfileDetail) -> impl IntoView {
    view! {
        <DetailPage kind=Kind::Profile id=profile.id name=profile.name
            description=profile.description members=profile.members after=None>
            <Choices legend="Roles" field="roles[]" id_prefix="role" choices=profile.roles/>
        </DetailPage>
    }
}

/// A role's or a profile's page: the form saving its name, description and
/// what it is made of (`children`), anything `after` the form, and its members.
#[component]
fn DetailPage(
    kind: Kind,
    id: i64,
    name: String,
    description: String,
    members: Vec<AccessMember>,
    after: Option<AnyView>,
    children: Children,
) -> impl IntoView {
    let texts = kind.texts();
    let title = name.clone();
    let fields = move |error: Option<AppError>| {
        view! {
            <ErrorSummary error=Signal::stored(error.clone())/>
            <input type="hidden" name="id" value=id/>
            <NamingFields kind name description error/>
            {children()}
            <button type="submit" class="button primary">"Save"</button>
        }
    };
    let form = match kind {
        Kind::Role => view! {
            <ActionForm action={ServerAction::<SaveRole>::new()} attr:novalidate=true>
                {fields(posted_error::<SaveRole>())}
            </ActionForm>
        }
        .into_any(),
        Kind::Profile => view! {
            <ActionForm action={ServerAction::<SaveProfile>::new()} attr:novalidate=true>
                {fields(posted_error::<SaveProfile>())}
            </ActionForm>
        }
        .into_any(),
    };
    let heading_id = format!("{}-heading", texts.noun);
    let labelled_by = heading_id.clone();
    view! {
        <Title text=title.clone()/>
        <p><a href=texts.page>{format!("Back to {}s", texts.noun)}</a></p>
        <h1>{title}</h1>
        {saved_notice(texts.noun).map(|text| view! { <p class="notice" role="status">{text}</p> })}
        <section class="panel" aria-labelledby=labelled_by>
            <h2 id=heading_id>{texts.heading}</h2>
            {form}
            {after}
        </section>
        <Members members with_how={kind == Kind::Role} empty=texts.no_members/>
    }
}

/// Roles or profiles as checkboxes, each with what it includes and the
/// two-factor mark. A locked one cannot be changed here: it is shown
/// disabled, and a hidden field keeps it as it is.
#[component]
fn Choices(
    legend: &'static str,
    field: &'static str,
    id_prefix: &'static str,
    choices: Vec<AccessChoice>,
) -> impl IntoView {
    let boxes = choices
        .into_iter()
        .map(|choice| {
            let id = format!("{id_prefix}-{}", choice.id);
            let hint_id = format!("{id}-hint");
            let includes = if choice.includes.is_empty() {
                "Nothing yet".to_owned()
            } else {
                choice.includes.join(", ")
            };
            let kept = (choice.locked && choice.held)
                .then(|| view! { <input type="hidden" name=field value=choice.id/> });
            let locked = choice.locked.then(|| {
                view! { " " <span class="hint">"(carries permissions you do not hold, so you cannot change this)"</span> }
            });
            view! {
                <div class="checkbox">
                    <input type="checkbox" id=id.clone() name=field value=choice.id checked=choice.held
                        disabled=choice.locked aria-describedby=hint_id.clone()/>
                    <label for=id>{choice.name}{two_factor_mark(choice.requires_2fa)}{locked}</label>
                    {kept}
                </div>
                <p class="hint" id=hint_id>{includes}</p>
            }
        })
        .collect::<Vec<_>>();
    view! { <fieldset><legend>{legend}</legend>{boxes}</fieldset> }
}

#[component]
fn Members(
    members: Vec<AccessMember>,
    empty: &'static str,
    /// Say whether each holds it directly or through a profile (roles).
    #[prop(optional)]
    with_how: bool,
) -> impl IntoView {
    let body = if members.is_empty() {
        view! { <p>{empty}</p> }.into_any()
    } else {
        let rows = members
            .into_iter()
            .map(|member| {
                let href = format!("/users/{}", member.user_id);
                let how = match member.through {
                    Some(profile) => format!("Through the profile {profile}"),
                    None => "Given directly".to_owned(),
                };
                view! {
                    <tr>
                        <th scope="row"><a href=href>{member.name}</a></th>
                        <td>{member.username}</td>
                        <td>{member.state}</td>
                        {with_how.then(|| view! { <td>{how}</td> })}
                    </tr>
                }
            })
            .collect::<Vec<_>>();
        view! {
            <div class="table-wrap">
                <table>
                    <thead>
                        <tr>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Username"</th>
                            <th scope="col">"State"</th>
                            {with_how.then(|| view! { <th scope="col">"How"</th> })}
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <section class="panel" aria-labelledby="members-heading">
            <h2 id="members-heading">"Members"</h2>
            {body}
        </section>
    }
}

/// The *Roles and profiles* section of a user page: what the account holds
/// (a form for holders of `users.manage`) and the permissions that gives,
/// each with where it comes from.
#[component]
pub fn UserAccessSection(user_id: i64, person_name: String) -> impl IntoView {
    let access = Resource::new(
        move || user_id,
        |id| once_per_request("user_access", id, move || load_user_access(id)),
    );
    view! {
        <section class="panel" aria-labelledby="access-heading">
            <h2 id="access-heading">"Roles and profiles"</h2>
            <Suspense fallback=loading>
                {move || {
                    let person_name = person_name.clone();
                    Suspend::new(async move {
                        match access.await {
                            Ok(access) => view! { <AccessView access person_name/> }.into_any(),
                            Err(error) => view! { <p role="alert">{error.to_string()}</p> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn AccessView(access: UserAccess, person_name: String) -> impl IntoView {
    let needs_2fa =
        !access.is_api_user && access.effective.iter().any(|e| e.permission.requires_2fa());
    let two_factor_warning = needs_2fa.then(|| {
        view! {
            <p class="notice">
                {format!("{person_name} holds permissions that require two-factor authentication: they must set it up, if they have not yet, before they can do anything else.")}
            </p>
        }
    });
    let holdings = if access.can_assign {
        let save = ServerAction::<SaveUserAccess>::new();
        let error = posted_error::<SaveUserAccess>();
        let warning = (!access.is_api_user).then(|| view! {
            <p class="hint">
                "Giving a role or profile marked “"{TWO_FACTOR}"” means the person will have to set up two-factor authentication before they can do anything else."
            </p>
        });
        view! {
            <ActionForm action=save>
                <ErrorSummary error=Signal::stored(error)/>
                <input type="hidden" name="id" value=access.user_id/>
                {warning}
                <Choices legend="Roles" field="roles[]" id_prefix="role" choices=access.roles/>
                <Choices legend="Profiles" field="profiles[]" id_prefix="profile" choices=access.profiles/>
                <button type="submit" class="button primary">"Save roles and profiles"</button>
            </ActionForm>
        }
        .into_any()
    } else {
        let held = |choices: Vec<AccessChoice>| {
            let names: Vec<String> = choices
                .into_iter()
                .filter(|c| c.held)
                .map(|c| c.name)
                .collect();
            if names.is_empty() {
                "None".to_owned()
            } else {
                names.join(", ")
            }
        };
        view! {
            {access.refusal.map(|reason| view! { <p class="hint">{reason}</p> })}
            <dl class="details">
                <div><dt>"Roles"</dt><dd>{held(access.roles)}</dd></div>
                <div><dt>"Profiles"</dt><dd>{held(access.profiles)}</dd></div>
            </dl>
        }
        .into_any()
    };
    let edit_link = access.can_edit_roles.then(|| view! {
        <p>"Change what roles and profiles contain on the "<a href="/roles">"Roles"</a>" and "<a href="/profiles">"Profiles"</a>" pages."</p>
    });
    let effective = if access.effective.is_empty() {
        view! { <p>"No permissions: this account can do nothing yet."</p> }.into_any()
    } else {
        let rows = access
            .effective
            .into_iter()
            .map(|e| {
                view! {
                    <tr>
                        <th scope="row">{e.permission.label()}{two_factor_mark(e.permission.requires_2fa())}</th>
                        <td>{e.permission.group()}</td>
                        <td>{e.granted_by.join("; ")}</td>
                    </tr>
                }
            })
            .collect::<Vec<_>>();
        view! {
            <div class="table-wrap">
                <table>
                    <caption class="visually-hidden">"Effective permissions and what gives each"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Permission"</th>
                            <th scope="col">"Group"</th>
                            <th scope="col">"Given by"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        {holdings}
        {edit_link}
        <h3>"Effective permissions"</h3>
        {two_factor_warning}
        {effective}
    }
}
