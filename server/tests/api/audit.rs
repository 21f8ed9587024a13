//! The Audit log page's function over HTTP: filters, paging, permission,
//! organisation scope, and no secret in any entry.

use crate::both_backends;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

const ZOE_EMAIL: &str = "zoe.angstrom@riverside.example";

async fn audit_page(app: &TestApp, client: &reqwest::Client, filters: &[(&str, &str)]) -> Value {
    let response = app.call_as(client, "audit_log", filters).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        response.text().await.unwrap_or_default()
    );
    response.json().await.expect("json")
}

fn whats(page: &Value) -> Vec<String> {
    page["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["what"].as_str().expect("what").to_owned())
        .collect()
}

both_backends!(
    async fn the_audit_log_filters_by_actor_target_action_and_day(app: TestApp) {
        app.set_up_first_administrator().await;
        let zoe = app
            .add_person(&with(
                &person_form("Zoë", "Ångström", ZOE_EMAIL, "ZA"),
                "send_welcome_email",
                "on",
            ))
            .await;
        app.clock.advance(3 * 24 * 3600);
        app.sign_in("sian.obrien", PASSWORD).await;
        app.call(
            "set_user_active",
            &[("id", &zoe.to_string()), ("active", "false")],
        )
        .await;
        app.call_as(
            &app.new_browser(),
            "sign_in",
            &[("login", "zoe.angstrom"), ("password", "not it")],
        )
        .await;

        let everything = audit_page(&app, &app.client, &[]).await;
        let all = whats(&everything);
        assert_eq!(
            all.first().map(String::as_str),
            Some("Sign-in failed"),
            "newest first: {all:?}"
        );
        assert!(all.contains(&"Account created".to_owned()), "{all:?}");
        let first = &everything["rows"][0];
        assert_eq!(first["target"], "Zoë Ångström (zoe.angstrom)");
        assert_eq!(first["client_address"], "127.0.0.1");

        let about_zoe = whats(&audit_page(&app, &app.client, &[("target", "ZOE.ANGSTROM")]).await);
        assert_eq!(
            about_zoe,
            vec![
                "Sign-in failed",
                "Account deactivated",
                "Email sent",
                "Account created"
            ]
        );
        let by_email = whats(&audit_page(&app, &app.client, &[("target", ZOE_EMAIL)]).await);
        assert_eq!(by_email, about_zoe);

        let deactivations =
            whats(&audit_page(&app, &app.client, &[("action", "account.deactivated")]).await);
        assert_eq!(deactivations, vec!["Account deactivated"]);

        let by_sian = audit_page(&app, &app.client, &[("actor", "sian.obrien")]).await;
        assert!(
            whats(&by_sian).iter().all(|w| w != "Sign-in failed"),
            "nobody acted in a failed sign-in"
        );
        assert!(
            by_sian["rows"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["actor"] == "Siân O’Brien (sian.obrien)")
        );

        // Day filters are whole UTC days, both included.
        let today = whats(
            &audit_page(
                &app,
                &app.client,
                &[("from", "2026-11-26"), ("to", "2026-11-26")],
            )
            .await,
        );
        assert_eq!(
            today,
            vec!["Sign-in failed", "Account deactivated", "Signed in"]
        );
        let before = whats(&audit_page(&app, &app.client, &[("to", "2026-11-25")]).await);
        assert!(
            before.contains(&"Account created".to_owned())
                && !before.contains(&"Account deactivated".to_owned())
        );
    }
);

both_backends!(
    async fn bad_filters_are_field_errors(app: TestApp) {
        app.set_up_first_administrator().await;
        let response = app
            .call(
                "audit_log",
                &[
                    ("action", "account.deleted"),
                    ("from", "26/11/2026"),
                    ("to", "2026-11-26"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = error_of(response).await;
        assert_eq!(fields_of(&body), vec!["action", "from"]);
        let response = app
            .call("audit_log", &[("from", "2026-11-26"), ("to", "2026-11-25")])
            .await;
        let body = error_of(response).await;
        assert_eq!(
            field_message(&body, "to").as_deref(),
            Some("The last day must not be before the first day")
        );
    }
);

both_backends!(
    async fn the_audit_log_pages_without_gaps_or_repeats(app: TestApp) {
        app.set_up_first_administrator().await;
        let zoe = app
            .add_person(&person_form("Zoë", "Ångström", ZOE_EMAIL, "ZA"))
            .await
            .to_string();
        // Many entries in the same second, so the cursor must tell them apart.
        for _ in 0..60 {
            let response = app
                .call("send_user_email", &[("id", &zoe), ("kind", "welcome")])
                .await;
            assert_eq!(response.status(), StatusCode::OK);
        }
        let (total,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE organisation_id IS NOT NULL")
                .fetch_one(&app.state.db.pool)
                .await
                .expect("count");
        let mut seen = Vec::new();
        let mut after = String::new();
        loop {
            let page = audit_page(&app, &app.client, &[("after", &after)]).await;
            let rows = page["rows"].as_array().expect("rows");
            assert!(rows.len() <= 50);
            seen.extend(rows.iter().map(|r| r.to_string()));
            match page["next"].as_str() {
                Some(next) => after = next.to_owned(),
                None => break,
            }
        }
        assert_eq!(seen.len() as i64, total);
        let garbled = audit_page(&app, &app.client, &[("after", "not-a-cursor")]).await;
        assert_eq!(
            garbled["rows"].as_array().unwrap().len(),
            50,
            "a bad cursor starts again"
        );
    }
);

both_backends!(
    async fn only_audit_viewers_see_only_their_organisations_log(app: TestApp) {
        app.set_up_first_administrator().await;
        let (tomasz, _) = app.second_organisation().await;
        let hillside = audit_page(&app, &tomasz, &[]).await;
        let rows = hillside["rows"].as_array().expect("rows");
        assert!(!rows.is_empty());
        assert!(
            rows.iter().all(|r| !r.to_string().contains("sian.obrien")),
            "Riverside's entries stay in Riverside: {rows:?}"
        );
        let (_, zoe) = app
            .add_and_activate(&person_form("Zoë", "Ångström", ZOE_EMAIL, "ZA"))
            .await;
        let response = app.call_as(&zoe, "audit_log", &[]).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let response = app.call_as(&app.new_browser(), "audit_log", &[]).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
);

both_backends!(
    async fn no_entry_holds_a_password_or_a_link_token(app: TestApp) {
        app.set_up_first_administrator().await;
        app.add_person(&with(
            &person_form("Zoë", "Ångström", ZOE_EMAIL, "ZA"),
            "send_welcome_email",
            "on",
        ))
        .await;
        let token = app.token_in_last_email(ZOE_EMAIL).await;
        app.choose_password_in_new_browser(&token, PASSWORD).await;
        app.call_as(
            &app.new_browser(),
            "sign_in",
            &[("login", "zoe.angstrom"), ("password", "wrong secret 123")],
        )
        .await;
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT action, detail FROM audit_log")
            .fetch_all(&app.state.db.pool)
            .await
            .expect("log");
        for (action, detail) in rows {
            for secret in [PASSWORD, token.as_str(), "wrong secret 123"] {
                assert!(!detail.contains(secret), "{action}: {detail}");
            }
        }
    }
);
