//! The signed-in shell: header with navigation, the person's name and
//! sign-out. Every page is a server render, also when the page script shows
//! it without reloading the document, so who is signed in is checked on
//! every click.

use crate::api::{SignOut, whoami};
use crate::ui::components::card::CardPage;
use domain::AppError;
use domain::Permission;
use domain::wire::CurrentUser;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::{A, Outlet, Redirect};
use leptos_router::hooks::use_location;

#[component]
pub fn SignedInLayout() -> impl IntoView {
    let location = use_location();
    let user = Resource::new(|| (), |_| whoami());
    view! {
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(user)) => {
                        provide_context(user.clone());
                        view! { <Shell user/> }.into_any()
                    }
                    Err(AppError::TwoFactorEnrolmentRequired) => {
                        view! { <Redirect path="/two-factor/enrol"/> }.into_any()
                    }
                    Ok(None) | Err(AppError::Unauthorized) => {
                        let here = location.pathname.get_untracked();
                        let path = if here == "/" { "/sign-in".to_owned() } else { format!("/sign-in?next={here}") };
                        view! { <Redirect path/> }.into_any()
                    }
                    Err(error) => view! { <ErrorPage error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Shell(user: CurrentUser) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <a class="skip-link" href="#main">"Skip to main content"</a>
        <header class="site-header">
            <A href="/" attr:class="brand">"Gatehouse"</A>
            <nav aria-label="Main">
                <ul>
                    <li><A href="/">"Home"</A></li>
                    {user.can(Permission::UsersView).then(|| view! { <li><A href="/users">"Users"</A></li> })}
                    {user.can(Permission::UsersManage).then(|| view! { <li><A href="/organisation">"Organisation settings"</A></li> })}
                    {user.can(Permission::RolesManage).then(|| view! { <li><A href="/roles">"Roles"</A></li><li><A href="/profiles">"Profiles"</A></li> })}
                    {user.can(Permission::ApplicationsManage).then(|| view! { <li><A href="/applications">"Applications"</A></li> })}
                    {user.can(Permission::AuditView).then(|| view! { <li><A href="/audit">"Audit log"</A></li> })}
                    {user.is_platform_admin.then(|| view! { <li><A href="/organisations">"Organisations"</A></li> })}
                    <li><A href="/profile">"My profile"</A></li>
                </ul>
            </nav>
            <div class="account">
                <span class="signed-in-as">
                    <span class="visually-hidden">"Signed in as "</span>
                    {user.display_name()}
                    <span class="organisation">{user.working_organisation_name.clone()}</span>
                </span>
                <ActionForm action=sign_out>
                    <button type="submit" class="button secondary">"Sign out"</button>
                </ActionForm>
            </div>
        </header>
        <main id="main" class="content">
            <Outlet/>
        </main>
        <footer class="site-footer">
            <ul>
                <li><a href="/api/docs">"API"</a></li>
                <li><a href="/api/v1/openapi.json">"OpenAPI document (JSON)"</a></li>
            </ul>
        </footer>
    }
}

/// Gives the page's HTTP response `status` (on the server; nothing in the
/// browser), so a page that shows "Not found" is answered 404.
pub fn answer_with_status(status: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(response), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(status),
    ) {
        response.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = status;
}

#[component]
pub fn ErrorPage(error: AppError) -> impl IntoView {
    answer_with_status(error.status_code());
    view! {
        <CardPage>
            <div role="alert">
                <h1>"Something went wrong"</h1>
                <p>{error.to_string()}</p>
                <p><a href="/">"Try again"</a></p>
            </div>
        </CardPage>
    }
}

/// An error inside the signed-in shell.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    answer_with_status(error.status_code());
    view! {
        <div class="panel" role="alert">
            <h1>{if matches!(error, AppError::NotFound(_)) { "Not found" } else { "Something went wrong" }}</h1>
            <p>{error.to_string()}</p>
        </div>
    }
}
