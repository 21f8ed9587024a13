//! The browser app: shell, router and pages.

pub mod components;
pub mod layout;
pub mod pages;

use layout::SignedInLayout;
use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{SsrMode, path};
use pages::add_user::AddUserPage;
use pages::api_docs::ApiDocsPage;
use pages::applications::{
    ApplicationContinuePage, ApplicationPage, ApplicationRefusedPage, ApplicationsPage,
};
use pages::audit::AuditPage;
use pages::home::HomePage;
use pages::not_found::NotFoundPage;
use pages::organisations::{OrganisationSettingsPage, OrganisationsPage};
use pages::password_link::{ForgottenPasswordPage, PasswordLinkPage};
use pages::profile::{ConfirmEmailPage, ProfilePage, UndoEmailChangePage};
use pages::roles::{AccessProfilePage, ProfilesPage, RolePage, RolesPage};
use pages::setup::SetupPage;
use pages::sign_in::{SignInCodePage, SignInPage};
use pages::two_factor::{EnrolPage, RecoveryCodesPage};
use pages::user::{DeactivateUserPage, UserPage};
use pages::users::UsersPage;

/// The HTML document around the app. On the server it also sets the page's
/// Content-Security-Policy with this response's nonce.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(nonce) = use_nonce() {
        crate::api::context::set_page_security_policy(&nonce);
    }
    #[cfg(feature = "ssr")]
    let hydrates =
        use_context::<http::request::Parts>().is_none_or(|request| has_islands(request.uri.path()));
    #[cfg(not(feature = "ssr"))]
    let hydrates = true;
    // Nothing on a page without islands reads its resources in the browser:
    // they are not serialised into it, and the response does not wait for
    // them after the HTML (`HydrationScripts` says the same on the others).
    #[cfg(feature = "ssr")]
    if !hydrates && let Some(context) = Owner::current_shared_context() {
        context.set_is_hydrating(false);
    }
    view! {
        <!DOCTYPE html>
        <html lang="en-GB">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link id="leptos" rel="stylesheet" href=stylesheet_href(&options)/>
                <AutoReload options=options.clone()/>
                {hydrates.then(|| view! { <IslandScripts options/> })}
                <PageScript/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Leptos' scripts that bring the page's islands to life, held back in a
/// `<template>` until the person first uses one of those forms (presses on
/// it, moves into it or types in it): `PageScript` loads them. Until then the
/// page is HTML and CSS only, which keeps a first visit small on a slow
/// connection; what they type meanwhile is kept (`FieldState::new`), and
/// without JavaScript the forms post as plain forms.
#[component]
fn IslandScripts(options: LeptosOptions) -> impl IntoView {
    view! { <template id="island-scripts"><HydrationScripts options islands=true/></template> }
}

/// The script every page carries (a few KB, inline): it loads the islands'
/// wasm on first use, and shows the next page of Gatehouse in place of this
/// one without reloading the document (see the script). Leptos' own islands
/// router would need the wasm on every page, which a page without islands
/// must not load, and does not remove attributes that a new page drops.
#[component]
fn PageScript() -> impl IntoView {
    static SCRIPT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let script = SCRIPT.get_or_init(|| without_comments(include_str!("page_script.js")));
    view! { <script nonce=use_nonce()>{script.as_str()}</script> }
}

/// A script as the browser needs it, without its comment lines and
/// indentation (a third of its bytes, in every page).
fn without_comments(script: &str) -> String {
    script
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether the page at `path` holds an island (a form that runs in the
/// browser), and so needs the wasm; every other page is HTML and CSS only.
/// `server/tests/api/wire.rs` checks each page's islands against this.
#[cfg(feature = "ssr")]
fn has_islands(path: &str) -> bool {
    matches!(path, "/users" | "/users/new")
        || ["/setup/", "/activate/", "/set-password/"]
            .iter()
            .any(|prefix| path.starts_with(prefix))
}

/// The stylesheet's address: with the content hash that the build put in
/// `hash.txt` (`css: <hash>`), when the server found one (see the server's
/// `startup::hash_file`). Read once: a build's files do not change under a
/// running server.
fn stylesheet_href(options: &LeptosOptions) -> String {
    let name = &options.output_name;
    let pkg = &options.site_pkg_dir;
    #[cfg(feature = "ssr")]
    if options.hash_files {
        static CSS_HASH: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
        let hash = CSS_HASH.get_or_init(|| {
            let hashes = std::fs::read_to_string(options.hash_file.as_ref()).ok()?;
            hashes.lines().find_map(|line| {
                let (file, hash) = line.split_once(':')?;
                (file.trim() == "css").then(|| hash.trim().to_owned())
            })
        });
        if let Some(hash) = hash {
            return format!("/{pkg}/{name}.{hash}.css");
        }
    }
    format!("/{pkg}/{name}.css")
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // One per request: see `components::once`.
    #[cfg(feature = "ssr")]
    provide_context(components::once::ThisRequest::default());
    // Pages render completely on the server before they are sent (Async), so
    // redirects and status codes work, also without JavaScript.
    view! {
        <Title formatter=|text: String| format!("{text} · Gatehouse")/>
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/sign-in") view=SignInPage ssr=SsrMode::Async/>
                <Route path=path!("/sign-in/code") view=SignInCodePage ssr=SsrMode::Async/>
                <Route path=path!("/two-factor/enrol") view=EnrolPage ssr=SsrMode::Async/>
                <Route path=path!("/two-factor/recovery-codes") view=RecoveryCodesPage ssr=SsrMode::Async/>
                <Route path=path!("/setup/:token") view=SetupPage ssr=SsrMode::Async/>
                <Route path=path!("/activate/:token") view=PasswordLinkPage ssr=SsrMode::Async/>
                <Route path=path!("/set-password/:token") view=PasswordLinkPage ssr=SsrMode::Async/>
                <Route path=path!("/forgotten-password") view=ForgottenPasswordPage ssr=SsrMode::Async/>
                <Route path=path!("/confirm-email/:token") view=ConfirmEmailPage ssr=SsrMode::Async/>
                <Route path=path!("/undo-email-change/:token") view=UndoEmailChangePage ssr=SsrMode::Async/>
                <Route path=path!("/api/docs") view=ApiDocsPage ssr=SsrMode::Async/>
                <Route path=path!("/applications/refused") view=ApplicationRefusedPage ssr=SsrMode::Async/>
                <Route path=path!("/applications/continue") view=ApplicationContinuePage ssr=SsrMode::Async/>
                <ParentRoute path=path!("") view=SignedInLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("profile") view=ProfilePage ssr=SsrMode::Async/>
                    <Route path=path!("users") view=UsersPage ssr=SsrMode::Async/>
                    <Route path=path!("users/new") view=AddUserPage ssr=SsrMode::Async/>
                    <Route path=path!("users/:id") view=UserPage ssr=SsrMode::Async/>
                    <Route path=path!("users/:id/deactivate") view=DeactivateUserPage ssr=SsrMode::Async/>
                    <Route path=path!("organisation") view=OrganisationSettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("organisations") view=OrganisationsPage ssr=SsrMode::Async/>
                    <Route path=path!("roles") view=RolesPage ssr=SsrMode::Async/>
                    <Route path=path!("roles/:id") view=RolePage ssr=SsrMode::Async/>
                    <Route path=path!("profiles") view=ProfilesPage ssr=SsrMode::Async/>
                    <Route path=path!("profiles/:id") view=AccessProfilePage ssr=SsrMode::Async/>
                    <Route path=path!("audit") view=AuditPage ssr=SsrMode::Async/>
                    <Route path=path!("applications") view=ApplicationsPage ssr=SsrMode::Async/>
                    <Route path=path!("applications/new") view=ApplicationPage ssr=SsrMode::Async/>
                    <Route path=path!("applications/:id") view=ApplicationPage ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
