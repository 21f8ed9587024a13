//! What goes over the wire: the built browser files under content-hashed
//! names, kept by browsers for a year, sent as the build's brotli or gzip
//! copies to browsers that take them; pages compressed on the fly.

use crate::both_backends;
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
        for name in [
            "/pkg/gatehouse.CssHash0.css",
            "/pkg/gatehouse.JsHash0.js",
            "/pkg/gatehouse.WasmHash0.wasm",
        ] {
            assert!(html.contains(name), "{name} not in the page:\n{html}");
        }

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
