//! Roles and Profiles pages, a role's and a profile's page, and the *Roles
//! and profiles* section of a user page. All server rendered; the forms
//! post without JavaScript, checkbox lists as repeated `name[]` fields.

use crate::api::roles::{
    AccessChoice, AccessMember, AddProfile, AddRole, ProfileDetail, ProfileSummary, RoleDetail,
    RoleSummary, SaveProfile, SaveRole, SaveUserAccess, UserAccess, load_profile, load_profiles,
    load_role, load_roles, load_user_access,
};
use crate::domain::Permission;
use crate::ui::components::form::{ErrorSummary, PlainField, posted_error};
use crate::ui::layout::ErrorPanel;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

const TWO_FACTOR: &str = "Requires two-factor authentication";

/// The label and hint of the name field.
const ROLE_NAME: (&str, &str) = (
    "Role name",
    "2 to 60 characters, unlike any other role's name.",
);
const PROFILE_NAME: (&str, &str) = (
    "Profile name",
    "2 to 60 characters, unlike any other profile's name.",
);

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

/// "Requires two-factor authentication", or nothing.
fn two_factor_mark(required: bool) -> impl IntoView {
    required.then(|| view! { " " <span class="badge">{TWO_FACTOR}</span> })
}

#[component]
pub fn RolesPage() -> impl IntoView {
    let roles = Resource::new(|| (), |_| load_roles());
    view! {
        <Title text="Roles"/>
        <h1>"Roles"</h1>
        <p class="hint">
            "A role is a set of permissions. Give people roles on their user page, or group roles into "
            <a href="/profiles">"profiles"</a>" so a job's access is given in one step."
        </p>
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match roles.await {
                    Ok(roles) => view! { <RoleTable roles/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
        <AddRoleForm/>
    }
}

#[component]
fn RoleTable(roles: Vec<RoleSummary>) -> impl IntoView {
    let rows = roles
        .into_iter()
        .map(|role| {
            let href = format!("/roles/{}", role.id);
            view! {
                <tr>
                    <th scope="row"><a href=href>{role.name}</a></th>
                    <td>{role.description}</td>
                    <td class="number">{role.permission_count}</td>
                    <td class="number">{role.member_count}</td>
                    <td>{if role.requires_2fa { "Yes" } else { "No" }}</td>
                </tr>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <div class="table-wrap panel">
            <table>
                <caption class="visually-hidden">"Roles of the organisation"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Description"</th>
                        <th scope="col">"Permissions"</th>
                        <th scope="col">"Members"</th>
                        <th scope="col">{TWO_FACTOR}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
pub fn ProfilesPage() -> impl IntoView {
    let profiles = Resource::new(|| (), |_| load_profiles());
    view! {
        <Title text="Profiles"/>
        <h1>"Profiles"</h1>
        <p class="hint">
            "A profile is a set of "<a href="/roles">"roles"</a>
            ", such as everything an office administrator needs, given to people in one step on their user page."
        </p>
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match profiles.await {
                    Ok(profiles) => view! { <ProfileTable profiles/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
        <AddProfileForm/>
    }
}

#[component]
fn ProfileTable(profiles: Vec<ProfileSummary>) -> impl IntoView {
    let rows = profiles
        .into_iter()
        .map(|profile| {
            let href = format!("/profiles/{}", profile.id);
            view! {
                <tr>
                    <th scope="row"><a href=href>{profile.name}</a></th>
                    <td>{profile.description}</td>
                    <td>{profile.roles.join(", ")}</td>
                    <td class="number">{profile.member_count}</td>
                    <td>{if profile.requires_2fa { "Yes" } else { "No" }}</td>
                </tr>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <div class="table-wrap panel">
            <table>
                <caption class="visually-hidden">"Profiles of the organisation"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Profile"</th>
                        <th scope="col">"Description"</th>
                        <th scope="col">"Roles"</th>
                        <th scope="col">"Members"</th>
                        <th scope="col">{TWO_FACTOR}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// The *Add a role* or *Add a profile* panel around its form.
#[component]
fn AddPanel(noun: &'static str, hint: &'static str, children: Children) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="add-heading">
            <h2 id="add-heading">{format!("Add a {noun}")}</h2>
            <p class="hint">{hint}</p>
            {children()}
        </section>
    }
}

#[component]
fn AddRoleForm() -> impl IntoView {
    let error = posted_error::<AddRole>();
    view! {
        <AddPanel noun="role" hint="It starts with no permissions: choose them on its page.">
            <ActionForm action={ServerAction::<AddRole>::new()} attr:novalidate=true>
                <ErrorSummary error=Signal::stored(error.clone())/>
                <NamingFields naming=ROLE_NAME name=String::new() description=String::new() error=error.clone()/>
                <button type="submit" class="button primary">"Add a role"</button>
            </ActionForm>
        </AddPanel>
    }
}

#[component]
fn AddProfileForm() -> impl IntoView {
    let error = posted_error::<AddProfile>();
    view! {
        <AddPanel noun="profile" hint="It starts with no roles: choose them on its page.">
            <ActionForm action={ServerAction::<AddProfile>::new()} attr:novalidate=true>
                <ErrorSummary error=Signal::stored(error.clone())/>
                <NamingFields naming=PROFILE_NAME name=String::new() description=String::new() error=error.clone()/>
                <button type="submit" class="button primary">"Add a profile"</button>
            </ActionForm>
        </AddPanel>
    }
}

/// The name and description fields of a role or profile.
#[component]
fn NamingFields(
    /// [`ROLE_NAME`] or [`PROFILE_NAME`].
    naming: (&'static str, &'static str),
    name: String,
    description: String,
    error: Option<crate::error::AppError>,
) -> impl IntoView {
    let (label, hint) = naming;
    view! {
        <PlainField label name="name" value=name error=error.clone() hint/>
        <PlainField label="Description" name="description" value=description error
            hint="Optional: what it is for, in a line."/>
    }
}

#[component]
pub fn RolePage() -> impl IntoView {
    let role = Resource::new(id_param, load_role);
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match role.await {
                    Ok(role) => view! { <RoleView role/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn RoleView(role: RoleDetail) -> impl IntoView {
    let save = ServerAction::<SaveRole>::new();
    let error = posted_error::<SaveRole>();
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
        .then(|| view! { <p>"Part of the profiles: "{role.profiles.join(", ")}"."</p> });
    view! {
        <Title text=role.name.clone()/>
        <p><a href="/roles">"Back to roles"</a></p>
        <h1>{role.name.clone()}</h1>
        {saved_notice("role").map(|text| view! { <p class="notice" role="status">{text}</p> })}
        <section class="panel" aria-labelledby="role-heading">
            <h2 id="role-heading">"Role"</h2>
            <ActionForm action=save attr:novalidate=true>
                <ErrorSummary error=Signal::stored(error.clone())/>
                <input type="hidden" name="id" value=role.id/>
                <NamingFields naming=ROLE_NAME name=role.name.clone() description=role.description.clone() error/>
                <fieldset>
                    <legend>"Permissions"</legend>
                    <p class="hint">
                        "People holding a permission marked “"{TWO_FACTOR}
                        "” must set up two-factor authentication before they can do anything else."
                    </p>
                    {permission_groups}
                </fieldset>
                <button type="submit" class="button primary">"Save"</button>
            </ActionForm>
            {profiles}
        </section>
        <Members members=role.members with_how=true empty="Nobody holds this role yet. Give it to people on their user page, or put it in a profile."/>
    }
}

#[component]
pub fn AccessProfilePage() -> impl IntoView {
    let profile = Resource::new(id_param, load_profile);
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match profile.await {
                    Ok(profile) => view! { <ProfileView profile/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ProfileView(profile: ProfileDetail) -> impl IntoView {
    let save = ServerAction::<SaveProfile>::new();
    let error = posted_error::<SaveProfile>();
    view! {
        <Title text=profile.name.clone()/>
        <p><a href="/profiles">"Back to profiles"</a></p>
        <h1>{profile.name.clone()}</h1>
        {saved_notice("profile").map(|text| view! { <p class="notice" role="status">{text}</p> })}
        <section class="panel" aria-labelledby="profile-heading">
            <h2 id="profile-heading">"Profile"</h2>
            <ActionForm action=save attr:novalidate=true>
                <ErrorSummary error=Signal::stored(error.clone())/>
                <input type="hidden" name="id" value=profile.id/>
                <NamingFields naming=PROFILE_NAME name=profile.name.clone() description=profile.description.clone() error/>
                <Choices legend="Roles" field="roles[]" id_prefix="role" choices=profile.roles/>
                <button type="submit" class="button primary">"Save"</button>
            </ActionForm>
        </section>
        <Members members=profile.members empty="Nobody holds this profile yet. Give it to people on their user page."/>
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
                view! { " " <span class="hint">"(only someone who manages roles can change this)"</span> }
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
    let access = Resource::new(move || user_id, load_user_access);
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
