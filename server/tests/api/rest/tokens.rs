//! The caller and its bearer token: whoami, what a token looks like and how
//! it is stored, missing, unknown, expired and revoked tokens, the rate limit,
//! last use, deactivation on another instance, and who may manage tokens.

use super::*;

both_backends!(
    async fn whoami_names_the_api_user_its_organisation_token_and_permissions(app: TestApp) {
        let (id, token) = administrator_token(&app).await;
        let me = app.rest(&token).whoami().await.unwrap();
        assert_eq!(me.user_id, id);
        assert_eq!(me.first_name, "HR");
        assert_eq!(me.last_name, "Sync");
        assert_eq!(me.organisation.name, "Riverside College");
        assert_eq!(me.token.name, "HR import");
        assert_eq!(me.token.prefix, token[..12]);
        assert_eq!(me.token.expires_at, None);
        let permissions = &me.permissions;
        for key in [
            "users.view",
            "users.manage",
            "roles.manage",
            "api_users.manage",
            "audit.view",
        ] {
            assert!(
                permissions.iter().any(|p| p == key),
                "{key} in {permissions:?}"
            );
        }
        // The first token activated the pending API user.
        let (state, kind, _, activated_at) = app.account_row(id).await;
        assert_eq!((state.as_str(), kind.as_str()), ("active", "api"));
        assert_eq!(activated_at, Some(START));
        assert!(
            app.audit_actions_for(id)
                .await
                .contains(&"account.activated".to_owned())
        );
    }
);

both_backends!(
    async fn a_token_is_gat_and_64_hexadecimal_characters_and_only_its_hash_is_stored(
        app: TestApp,
    ) {
        let (_, token) = administrator_token(&app).await;
        let secret = token.strip_prefix("gat_").expect("gat_ prefix");
        assert_eq!(secret.len(), 64, "{token}");
        assert!(secret.chars().all(|c| c.is_ascii_hexdigit()), "{token}");
        // Use it for a write, so that the audit log has entries made with it.
        app.rest(&token)
            .create_user(&json!({"first_name": "Zoë", "last_name": "Ångström", "email": ZOE_EMAIL}))
            .await
            .unwrap();
        let tokens: Vec<(String,)> = sqlx::query_as(
            "SELECT name || ' ' || prefix || ' ' || token_hash || ' ' || COALESCE(revoke_reason, '')
             FROM api_tokens",
        )
        .fetch_all(&app.state.db.pool)
        .await
        .expect("tokens");
        let audit: Vec<(String,)> = sqlx::query_as(
            "SELECT action || ' ' || detail || ' ' || client_address FROM audit_log",
        )
        .fetch_all(&app.state.db.pool)
        .await
        .expect("audit log");
        assert!(!tokens.is_empty() && !audit.is_empty());
        for (row,) in tokens.iter().chain(&audit) {
            assert!(!row.contains(secret), "the token is stored: {row}");
        }
        let (hash,): (String,) = sqlx::query_as("SELECT token_hash FROM api_tokens")
            .fetch_one(&app.state.db.pool)
            .await
            .expect("hash");
        assert_eq!(hash, backend::crypto::tokens::hash(&token));
        // The section shows the token once, and never again.
        let id = app.user_id_by_email(SYNC_EMAIL).await.to_string();
        let again = app.call("api_tokens", &[("id", &id)]).await;
        let section = api_json(again, StatusCode::OK).await;
        assert_eq!(section["new_token"], Value::Null);
        assert_eq!(section["tokens"][0]["prefix"], &token[..12]);
        assert_eq!(section["tokens"][0]["live"], true);
        assert!(!section.to_string().contains(secret));
    }
);

both_backends!(
    async fn missing_unknown_expired_and_revoked_tokens_are_401_problems(app: TestApp) {
        let (sync, token) = administrator_token(&app).await;
        // Expires at the end of today (START is 09:00 UTC).
        let expiring = app.create_token(sync, "Until tonight", "2026-11-23").await;
        let revoked = app.create_token(sync, "Old laptop", "").await;
        for working in [&token, &expiring, &revoked] {
            app.rest(working).whoami().await.expect("the token works");
        }
        let revoked_id = token_id(&app, &revoked).await;
        let response = app
            .call(
                "revoke_api_token",
                &[
                    ("id", &sync.to_string()),
                    ("token_id", &revoked_id.to_string()),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        app.clock.advance(15 * 3600);
        // Siân's session has timed out meanwhile.
        app.sign_in("sian.obrien", PASSWORD).await;

        let unknown = format!("gat_{}", "0".repeat(64));
        let cases: [(Option<&str>, &str); 6] = [
            (None, "Send an API token"),
            (Some(""), "Send an API token"),
            (Some(&unknown), "not valid"),
            (Some("sk_live_something"), "not valid"),
            (Some(&expiring), "expired"),
            (Some(&revoked), "revoked"),
        ];
        for (bearer, says) in cases {
            let response = app
                .api(Method::GET, "/api/v1/users", bearer)
                .send()
                .await
                .expect("request");
            let challenge = response
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            assert!(challenge.starts_with("Bearer"), "{bearer:?}: {challenge}");
            let problem = typed_problem(response, StatusCode::UNAUTHORIZED).await;
            assert!(problem.detail.contains(says), "{bearer:?}: {problem:?}");
        }
        // Basic authentication is not a bearer token.
        let basic = app
            .api(Method::GET, "/api/v1/whoami", None)
            .basic_auth("hr.sync", Some(PASSWORD))
            .send()
            .await
            .expect("request");
        api_problem(basic, StatusCode::UNAUTHORIZED).await;
        // The token without expiry still works.
        app.rest(&token).whoami().await.expect("still works");
        // The list says which is which.
        let section = api_json(
            app.call("api_tokens", &[("id", &sync.to_string())]).await,
            StatusCode::OK,
        )
        .await;
        let statuses: Vec<(String, String, bool)> = section["tokens"]
            .as_array()
            .expect("tokens")
            .iter()
            .map(|t| {
                (
                    t["name"].as_str().expect("name").to_owned(),
                    t["status"].as_str().expect("status").to_owned(),
                    t["live"].as_bool().expect("live"),
                )
            })
            .collect();
        assert_eq!(statuses.len(), 3, "{statuses:?}");
        assert_eq!(statuses[0].0, "Old laptop");
        assert!(statuses[0].1.starts_with("Revoked"), "{statuses:?}");
        assert_eq!(
            statuses[1],
            ("Until tonight".into(), "Expired".into(), false)
        );
        assert_eq!(statuses[2], ("HR import".into(), "Active".into(), true));
        let actions = app.audit_actions_for(sync).await;
        assert!(
            actions.contains(&"api_token.revoked".to_owned()),
            "{actions:?}"
        );
        assert_eq!(
            actions.iter().filter(|a| *a == "api_token.created").count(),
            3
        );
    }
);

both_backends!(
    |settings| settings.api_requests_per_minute = 3,
    async fn a_token_making_too_many_requests_a_minute_gets_429_with_retry_after(app: TestApp) {
        let (sync, token) = administrator_token(&app).await;
        let rest = app.rest(&token);
        // START is on a minute boundary; move 20 s into the minute.
        app.clock.advance(20);
        for _ in 0..3 {
            rest.whoami().await.expect("within the allowance");
        }
        let refused = get(&app, "/api/v1/whoami", &token).await;
        let retry_after = refused
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<i64>().ok())
            .expect("Retry-After in seconds");
        assert_eq!(retry_after, 40, "until the minute ends");
        let problem = typed_problem(refused, StatusCode::TOO_MANY_REQUESTS).await;
        assert_eq!(problem.problem_type, "/api/docs#problem-rate-limited");
        // Another token of the same API user has its own allowance.
        let other = app.create_token(sync, "Second", "").await;
        app.rest(&other).whoami().await.expect("its own allowance");
        // The next minute, the token works again.
        app.clock.advance(retry_after);
        rest.whoami().await.expect("works again");
    }
);

both_backends!(
    async fn last_used_is_written_at_most_once_a_minute(app: TestApp) {
        let (_, token) = administrator_token(&app).await;
        let rest = app.rest(&token);
        let id = token_id(&app, &token).await;
        let last_used = || async {
            let (at,): (Option<i64>,) =
                sqlx::query_as("SELECT last_used_at FROM api_tokens WHERE id = $1")
                    .bind(id)
                    .fetch_one(&app.state.db.pool)
                    .await
                    .expect("token");
            at
        };
        assert_eq!(last_used().await, None, "not used yet");
        app.clock.advance(5);
        rest.whoami().await.unwrap();
        assert_eq!(last_used().await, Some(START + 5));
        app.clock.advance(30);
        rest.whoami().await.unwrap();
        rest.list_users("").await.unwrap();
        assert_eq!(last_used().await, Some(START + 5), "same minute");
        app.clock.advance(30);
        rest.whoami().await.unwrap();
        assert_eq!(last_used().await, Some(START + 65), "the next minute");
        let section = api_json(
            app.call(
                "api_tokens",
                &[("id", &app.user_id_by_email(SYNC_EMAIL).await.to_string())],
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert!(section["tokens"][0]["last_used"].is_string(), "{section}");
    }
);

both_backends!(
    async fn deactivation_holds_at_once_on_another_instance_and_reactivation_revives_no_token(
        app: TestApp,
    ) {
        let (sync, token) = administrator_token(&app).await;
        let replica = app.second_instance().await;
        let on_replica = |token: &str| Rest {
            base: replica.clone(),
            token: token.to_owned(),
        };
        on_replica(&token)
            .whoami()
            .await
            .expect("works on the replica");
        let id = sync.to_string();
        let response = app
            .call("set_user_active", &[("id", &id), ("active", "false")])
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let problem = problem_of(on_replica(&token).whoami().await, StatusCode::UNAUTHORIZED);
        assert!(problem.detail.contains("revoked"), "{problem:?}");
        // A deactivated API user gets no new token.
        let refused = app
            .call(
                "create_api_token",
                &[("id", &id), ("name", "Again"), ("expires_on", "")],
            )
            .await;
        assert_eq!(refused.status(), StatusCode::CONFLICT);

        let response = app
            .call("set_user_active", &[("id", &id), ("active", "true")])
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(app.account_row(sync).await.0, "active");
        problem_of(on_replica(&token).whoami().await, StatusCode::UNAUTHORIZED);
        let (reason,): (Option<String>,) =
            sqlx::query_as("SELECT revoke_reason FROM api_tokens WHERE user_id = $1")
                .bind(sync)
                .fetch_one(&app.state.db.pool)
                .await
                .expect("token");
        assert_eq!(reason.as_deref(), Some("account_deactivated"));
        // A new token works, on both instances.
        let fresh = app.create_token(sync, "After reactivation", "").await;
        on_replica(&fresh)
            .whoami()
            .await
            .expect("works on the replica");
        app.rest(&fresh).whoami().await.expect("works here");
    }
);

both_backends!(
    async fn a_person_cannot_hold_a_token_and_an_api_user_cannot_sign_in(app: TestApp) {
        let (sync, _) = administrator_token(&app).await;
        let sian = app.user_id("sian.obrien").await.to_string();
        let zoe = app
            .add_person(&person_form("Zoë", "Ångström", ZOE_EMAIL, "ZA"))
            .await
            .to_string();
        for person in [&sian, &zoe] {
            let refused = app
                .call(
                    "create_api_token",
                    &[("id", person), ("name", "Sneaky"), ("expires_on", "")],
                )
                .await;
            assert_eq!(refused.status(), StatusCode::CONFLICT, "{person}");
            let listing = app.call("api_tokens", &[("id", person)]).await;
            assert_eq!(listing.status(), StatusCode::CONFLICT, "{person}");
        }
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM api_tokens")
            .fetch_one(&app.state.db.pool)
            .await
            .expect("count");
        assert_eq!(count, 1, "only HR Sync's");

        let (_, _, username, _) = app.account_row(sync).await;
        for password in [PASSWORD, "another password entirely"] {
            let browser = app.new_browser();
            let response = app
                .call_as(
                    &browser,
                    "sign_in",
                    &[("login", &username), ("password", password)],
                )
                .await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(error_of(response).await, "InvalidCredentials");
            assert!(app.whoami_as(&browser).await.is_none());
        }
        let (detail,): (String,) = sqlx::query_as(
            "SELECT detail FROM audit_log WHERE action = 'sign_in.failed' AND target_user_id = $1
             ORDER BY id DESC LIMIT 1",
        )
        .bind(sync)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("an audited failure");
        assert!(detail.contains("reason=api_user"), "{detail}");
    }
);

both_backends!(
    async fn token_management_needs_api_users_manage(app: TestApp) {
        let (sync, token) = administrator_token(&app).await;
        let (zoe, browser) = app
            .add_and_activate(&person_form("Zoë", "Ångström", ZOE_EMAIL, "ZA"))
            .await;
        // Office staff look people up, nothing more.
        let rest = app.rest(&token);
        let office = role_id(&rest, "Office staff").await;
        rest.give_role(zoe, office).await.unwrap();
        let id = sync.to_string();
        let token_id = token_id(&app, &token).await.to_string();
        for (function, args) in [
            ("api_tokens", vec![("id", id.as_str())]),
            (
                "create_api_token",
                vec![("id", id.as_str()), ("name", "Mine"), ("expires_on", "")],
            ),
            (
                "revoke_api_token",
                vec![("id", id.as_str()), ("token_id", token_id.as_str())],
            ),
        ] {
            let response = app.call_as(&browser, function, &args).await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{function}");
            let anonymous = app.call_as(&app.new_browser(), function, &args).await;
            assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{function}");
        }
        rest.whoami().await.expect("still not revoked");
    }
);
