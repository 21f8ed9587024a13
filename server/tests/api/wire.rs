//! What goes over the wire: the built browser files under content-hashed
//! names, kept by browsers for a year, sent as the build's brotli or gzip
//! copies to browsers that take them; pages compressed on the fly; and the
//! wasm only on the pages that hold an island.

use crate::both_backends;
use crate::helpers::{person_form, with};
use reqwest::StatusCode;
use std::path::PathBuf;

const CSS: &str = "body { color: CanvasText; }\n";
const CSS_BROTLI: &[u8] = b"the build's brotli copy";

/// A built site as `scripts/build.sh` leaves it: hashed names in
/// `hash.txt`, and a brotli copy beside the stylesheet.
fn built_site() -> PathBuf {
    let root = std::env::temp_dir().join(format!("gatehouse-site-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(root.join("pkg")).expect("site");
    std::fs::write(
        root.join("hash.txt"),
        "js: JsHash0\nwasm: WasmHash0\ncss: CssHash0\n",
    )
    .expect("hash.txt");
    std::fs::write(root.join("pkg/gatehouse.CssHash0.css"), CSS).expect("css");
    std::fs::write(root.join("pkg/gatehouse.CssHash0.css.br"), CSS_BROTLI).expect("brotli");
    std::fs::write(root.join("favicon.svg"), "<svg/>").expect("icon");
    root
}

both_backends!(
    |s| s.site_root = built_site(),
    async fn built_files_have_hashed_names_are_kept_a_year_and_go_compressed(app: TestApp) {
        let get = |path: &str, encodings: &str| {
            app.client
                .get(format!("{}{path}", app.address))
                .header("accept", "*/*")
                .header("accept-encoding", encodings)
                .send()
        };
        let page = get("/sign-in", "identity").await.expect("page");
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.expect("html");
        // The scripts' hashed names: `only_pages_with_islands_load_the_wasm`.
        assert!(
            html.contains("/pkg/gatehouse.CssHash0.css"),
            "the hashed stylesheet not in the page:\n{html}"
        );

        let brotli = get("/pkg/gatehouse.CssHash0.css", "gzip, br")
            .await
            .expect("css");
        assert_eq!(brotli.status(), StatusCode::OK);
        let headers = brotli.headers().clone();
        assert_eq!(headers["content-encoding"], "br");
        assert_eq!(headers["content-type"], "text/css");
        assert_eq!(
            headers["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(headers["vary"], "accept-encoding");
        assert_eq!(brotli.bytes().await.expect("body").as_ref(), CSS_BROTLI);

        let plain = get("/pkg/gatehouse.CssHash0.css", "identity")
            .await
            .expect("css");
        assert!(plain.headers().get("content-encoding").is_none());
        assert_eq!(plain.text().await.expect("body"), CSS);

        // Only a file found is kept: a name from another build is not.
        let missing = get("/pkg/gatehouse.OldHash.css", "br").await.expect("css");
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert_ne!(
            missing.headers().get("cache-control").map(|v| v.as_bytes()),
            Some(b"public, max-age=31536000, immutable".as_ref())
        );

        let icon = get("/favicon.svg", "identity").await.expect("icon");
        assert_eq!(icon.headers()["cache-control"], "public, max-age=86400");

        // Pages and answers are compressed on the fly.
        for encoding in ["br", "gzip"] {
            let compressed = get("/sign-in", encoding).await.expect("page");
            assert_eq!(compressed.headers()["content-encoding"], encoding);
            let size = compressed.bytes().await.expect("body").len();
            assert!(
                size < html.len() / 2,
                "{encoding}: {size} of {}",
                html.len()
            );
        }
        let document = get("/api/v1/openapi.json", "gzip").await.expect("JSON");
        assert_eq!(document.status(), StatusCode::OK);
        assert_eq!(document.headers()["content-encoding"], "gzip");
        let _ = std::fs::remove_dir_all(&app.state.settings.site_root);
    }
);

both_backends!(
    |s| s.site_root = built_site(),
    async fn only_pages_with_islands_load_the_wasm(app: TestApp) {
        app.set_up_first_administrator().await;
        app.add_person(&with(
            &person_form("Zoë", "Ångström", "zoe@riverside.example", "ZA"),
            "send_welcome_email",
            "on",
        ))
        .await;
        let activation = app.link_in_last_email("zoe@riverside.example").await;
        let activation = activation.trim_start_matches(&app.address).to_owned();
        let stranger = app.new_browser();
        let page = |browser: &reqwest::Client, path: String| {
            let request = browser
                .get(format!("{}{path}", app.address))
                .header("accept", "text/html");
            async move {
                let response = request.send().await.expect("page");
                assert_eq!(response.status(), StatusCode::OK, "{path}");
                (path, response.text().await.expect("html"))
            }
        };
        let mut pages = Vec::new();
        for path in ["/sign-in", "/forgotten-password", "/api/docs"] {
            pages.push(page(&stranger, path.to_owned()).await);
        }
        pages.push(page(&stranger, activation).await);
        for path in [
            "/",
            "/profile",
            "/users",
            "/users/new",
            "/roles",
            "/organisations",
            "/audit",
            "/applications",
        ] {
            pages.push(page(&app.client, path.to_owned()).await);
        }
        let mut with_islands = Vec::new();
        for (path, html) in &pages {
            let islands = html.contains("<leptos-island");
            let wasm = html.contains("/pkg/gatehouse.WasmHash0.wasm")
                && html.contains("/pkg/gatehouse.JsHash0.js");
            assert_eq!(islands, wasm, "{path}: islands {islands}, wasm {wasm}");
            // Held back until the person uses a form (`ui::PageScript`):
            // nothing outside the template fetches or preloads the scripts.
            let outside_template = match html.split_once(r#"<template id="island-scripts">"#) {
                Some((before, rest)) => {
                    let (_, after) = rest.split_once("</template>").expect("template closes");
                    format!("{before}{after}")
                }
                None => html.clone(),
            };
            assert!(
                !outside_template.contains("WasmHash0") && !outside_template.contains("JsHash0"),
                "{path} loads its scripts before they are needed"
            );
            // No page's data is serialised for the browser: only islands
            // run there, and they load their own. (A page that waited to
            // send its resources after the HTML could hang on one from a
            // build the render abandoned.)
            assert!(
                !html.contains("__RESOLVED_RESOURCES["),
                "{path} carries its resources: {html}"
            );
            if islands {
                with_islands.push(path.as_str());
            }
        }
        // The forms that run in the browser, and nothing else.
        assert_eq!(with_islands.len(), 3, "{with_islands:?}");
        assert!(with_islands.contains(&"/users"));
        assert!(with_islands.contains(&"/users/new"));
        assert!(
            with_islands
                .iter()
                .any(|path| path.starts_with("/activate/"))
        );
        let _ = std::fs::remove_dir_all(&app.state.settings.site_root);
    }
);
