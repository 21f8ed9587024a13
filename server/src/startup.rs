//! Builds the application (state, router) and serves it. Tests call the same
//! functions with their own settings, clock and listener.

use any_spawner::{CustomExecutor, Executor, PinnedFuture, PinnedLocalFuture};
use app::{App, shell};
use axum::Router;
use axum::body::Body;
use axum::extract::FromRef;
use axum::extract::Request;
use axum::middleware::from_fn_with_state;
use axum::middleware::map_response;
use axum::response::Response;
use axum::routing::get;
use backend::auth::passwords::PasswordHasher;
use backend::config::CheckedSettings;
use backend::db::Db;
use backend::metrics::{Limit, Metrics};
use backend::{AppState, Clock, web};
use http::{HeaderName, HeaderValue, header};
use leptos::config::{Env, LeptosOptions};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::LatencyUnit;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Instrument;

/// The output name cargo-leptos gives the browser files (`[[workspace.metadata.leptos]] name`).
const OUTPUT_NAME: &str = "gatehouse";

/// Connects to the database, runs migrations and assembles the state.
pub async fn build_state(
    settings: CheckedSettings,
    clock: Arc<dyn Clock>,
) -> Result<AppState, String> {
    let db = Db::connect(&settings.database_url)
        .await
        .map_err(|e| format!("cannot open the database (setting `database_url`): {e}"))?;
    db.migrate()
        .await
        .map_err(|e| format!("cannot migrate the database: {e}"))?;
    let metrics = Arc::new(Metrics::new());
    let hasher = PasswordHasher::new(
        settings.password_queue,
        metrics.throttled(Limit::PasswordQueue),
    )
    .map_err(|e| format!("cannot start the password hashing threads: {e}"))?;
    Ok(AppState {
        db,
        hasher,
        metrics,
        settings: Arc::new(settings),
        clock,
    })
}

/// What the Leptos routes need: the backend's state (as context for the
/// server functions) and where the built browser files are.
#[derive(Clone, FromRef)]
struct Site {
    app: AppState,
    leptos_options: LeptosOptions,
}

fn leptos_options(settings: &CheckedSettings) -> LeptosOptions {
    let env = match std::env::var("LEPTOS_ENV").as_deref() {
        Ok("DEV") | Ok("dev") => Env::DEV,
        _ => Env::PROD,
    };
    let hash_file = hash_file(settings);
    LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(settings.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(settings.bind_address)
        .env(env)
        .hash_files(hash_file.is_some())
        .hash_file(hash_file.map_or_else(
            || "hash.txt".into(),
            |path| path.display().to_string().into(),
        ))
        .build()
}

/// `hash.txt`, which names the content-hashed browser files of a build: in
/// the site root (the build scripts put it there, so the site travels with
/// it), else beside the binary (where cargo-leptos writes it). Without it
/// the files have their plain names.
fn hash_file(settings: &CheckedSettings) -> Option<PathBuf> {
    let beside_binary = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("hash.txt")));
    std::iter::once(settings.site_root.join("hash.txt"))
        .chain(beside_binary)
        .find(|path| path.is_file())
        .and_then(|path| std::path::absolute(path).ok())
}

/// The built browser files. With hashed names (a build's `hash.txt`) a
/// browser keeps them a year and never asks again, since a new build has
/// new names; brotli and gzip copies made by the build go to browsers that
/// take them. The icon keeps its name, so it is kept a day.
fn assets(settings: &CheckedSettings, hashed: bool) -> Router<AppState> {
    let pkg = ServeDir::new(settings.site_root.join("pkg"))
        .precompressed_br()
        .precompressed_gzip();
    let icon = ServeFile::new(settings.site_root.join("favicon.svg"))
        .precompressed_br()
        .precompressed_gzip();
    let pkg_cache = if hashed {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Router::new()
        .nest_service("/pkg", pkg)
        .layer(map_response(move |response| cached(response, pkg_cache)))
        .merge(
            Router::new()
                .route_service("/favicon.svg", icon)
                .layer(map_response(|response| {
                    cached(response, "public, max-age=86400")
                })),
        )
}

/// Lets browsers keep a file found, never an error. Which copy was sent
/// depends on `Accept-Encoding`, which shared caches must know.
async fn cached(mut response: Response, policy: &'static str) -> Response {
    if response.status().is_success() {
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// Spawns Leptos' tasks (a page's resources and server functions) on tokio
/// inside the span of the request that spawned them, so their log lines
/// and statements belong to that request.
struct SpanKeepingExecutor;

impl CustomExecutor for SpanKeepingExecutor {
    fn spawn(&self, task: PinnedFuture<()>) {
        tokio::spawn(task.in_current_span());
    }

    fn spawn_local(&self, task: PinnedLocalFuture<()>) {
        tokio::task::spawn_local(task.in_current_span());
    }

    fn poll_local(&self) {}
}

pub fn router(state: AppState) -> Router {
    // Before Leptos sets its own; once per process, so a second router
    // (tests) finds it set.
    let _ = Executor::init_custom_executor(SpanKeepingExecutor);
    let site = Site {
        app: state.clone(),
        leptos_options: leptos_options(&state.settings),
    };
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let app_shell = {
        let options = site.leptos_options.clone();
        move || shell(options.clone())
    };
    let assets = assets(&state.settings, site.leptos_options.hash_files);
    let pages: Router<AppState> = Router::new()
        .leptos_routes_with_context(&site, generate_route_list(App), context.clone(), app_shell)
        .fallback(leptos_axum::file_and_error_handler_with_context::<Site, _>(
            context, shell,
        ))
        .with_state(site);
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .route("/health", get(web::health))
        .route("/ready", get(web::ready))
        .route("/metrics", get(web::metrics))
        .merge(backend::rest::router())
        .merge(backend::oidc::endpoints::router())
        .merge(assets)
        .merge(pages)
        .route_layer(axum::middleware::from_fn(web::record_route))
        .layer(axum::middleware::from_fn(web::server_function_status))
        .layer(axum::middleware::from_fn(web::limit_body))
        .layer(from_fn_with_state(state.clone(), web::identify))
        .layer(from_fn_with_state(state.clone(), web::refuse_cross_site))
        .layer(from_fn_with_state(state.clone(), web::security_headers))
        .layer(from_fn_with_state(state.clone(), web::measure))
        // Pages and answers on the fly (the built files come compressed):
        // brotli or gzip, as the client accepts.
        .layer(CompressionLayer::new())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<Body>| {
                    let id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    // The route template, recorded once routed (`web::record_route`),
                    // never the path itself: link pages carry their token in it.
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        route = tracing::field::Empty,
                        request_id = %id
                    )
                })
                // One line per request at the default level, when it is
                // answered: the span's method, route and id, with its status
                // and latency.
                .on_response(
                    DefaultOnResponse::new()
                        .level(tracing::Level::INFO)
                        .latency_unit(LatencyUnit::Millis),
                ),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

/// Serves until the process is stopped; also runs housekeeping.
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    tokio::spawn(housekeeping(state.clone()));
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}

/// Forgets old throttle counters, API request counts, sent mail, and
/// expired authorization codes and application tokens, so those tables stay
/// small.
async fn housekeeping(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        let cutoff = state.now() - 31 * 24 * 3600;
        if let Err(error) = backend::auth::throttle::forget_before(&state.db, cutoff).await {
            tracing::warn!(%error, "housekeeping failed");
        }
        let sent_cutoff = state.now() - 30 * 24 * 3600;
        if let Err(error) = backend::mail::outbox::forget_sent_before(&state.db, sent_cutoff).await
        {
            tracing::warn!(%error, "housekeeping failed");
        }
        if let Err(error) = backend::oidc::grants::forget_expired(&state.db, state.now()).await {
            tracing::warn!(%error, "housekeeping failed");
        }
        let window_cutoff = state.now() - 3600;
        if let Err(error) =
            backend::api_tokens::forget_windows_before(&state.db, window_cutoff).await
        {
            tracing::warn!(%error, "housekeeping failed");
        }
    }
}
