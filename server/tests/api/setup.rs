use crate::both_backends;
use crate::helpers::*;
use reqwest::StatusCode;

both_backends!(
    async fn the_setup_link_creates_the_organisation_and_signs_its_administrator_in(app: TestApp) {
        assert!(app.whoami().await.is_none());
        app.set_up_first_administrator().await;
        let me = app.whoami().await.expect("signed in after setup");
        assert_eq!(me["username"], "sian.obrien");
        assert_eq!(me["first_name"], "Siân");
        assert_eq!(me["organisation_name"], "Riverside College");
        assert_eq!(me["is_platform_admin"], true);
        let actions = app.audit_actions().await;
        assert!(
            actions.contains(&"organisation.created".to_owned()),
            "{actions:?}"
        );
        assert!(
            actions.contains(&"account.created".to_owned()),
            "{actions:?}"
        );
    }
);

both_backends!(
    async fn a_setup_link_works_only_once(app: TestApp) {
        let token = app.setup_token().await;
        assert_eq!(
            app.complete_setup(&token, &admin_form()).await.status(),
            StatusCode::OK
        );
        let mut second = admin_form();
        second[0] = ("organisation_name", "Another College");
        second[3] = ("email", "someone@another.example");
        let again = app.complete_setup(&token, &second).await;
        assert_eq!(again.status(), StatusCode::GONE);
        assert_eq!(error_of(again).await, "LinkExpired");
        let (organisations,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM organisations")
            .fetch_one(&app.state.db.pool)
            .await
            .expect("count");
        assert_eq!(organisations, 1);
    }
);

both_backends!(
    async fn opening_a_setup_link_does_not_use_it_up(app: TestApp) {
        let token = app.setup_token().await;
        for _ in 0..2 {
            let page = app.get(&format!("/setup/{token}")).await;
            assert_eq!(page.status(), StatusCode::OK);
            let html = page.text().await.expect("html");
            assert!(html.contains("Set up your organisation"), "{html}");
        }
        assert_eq!(
            app.complete_setup(&token, &admin_form()).await.status(),
            StatusCode::OK
        );
        let used = app
            .get(&format!("/setup/{token}"))
            .await
            .text()
            .await
            .expect("html");
        assert!(used.contains("This setup link cannot be used"), "{used}");
    }
);

both_backends!(
    async fn a_newer_setup_link_replaces_the_older_one(app: TestApp) {
        let old = app.setup_token().await;
        let new = app.setup_token().await;
        assert_eq!(
            app.complete_setup(&old, &admin_form()).await.status(),
            StatusCode::GONE
        );
        assert_eq!(
            app.complete_setup(&new, &admin_form()).await.status(),
            StatusCode::OK
        );
    }
);

both_backends!(
    async fn a_setup_link_expires_after_a_day(app: TestApp) {
        let token = app.setup_token().await;
        app.clock.advance(24 * 3600);
        assert_eq!(
            app.complete_setup(&token, &admin_form()).await.status(),
            StatusCode::GONE
        );
    }
);

both_backends!(
    async fn invalid_setup_fields_are_each_named_and_nothing_is_written(app: TestApp) {
        let token = app.setup_token().await;
        let form = [
            ("organisation_name", ""),
            ("first_name", "R2-D2"),
            ("last_name", "<script>"),
            ("email", "not-an-email"),
            ("username", "1abc"),
            ("initials", ""),
            ("password", "short"),
        ];
        let response = app.complete_setup(&token, &form).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = error_of(response).await;
        let fields: Vec<&str> = body["Validation"]
            .as_array()
            .expect("field errors")
            .iter()
            .map(|e| e["field"].as_str().expect("field"))
            .collect();
        for field in [
            "organisation_name",
            "first_name",
            "last_name",
            "email",
            "username",
            "initials",
            "password",
        ] {
            assert!(fields.contains(&field), "{field} missing from {body}");
        }
        let (users,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
            .fetch_one(&app.state.db.pool)
            .await
            .expect("count");
        assert_eq!(users, 0);
        // The link is still good after a failed attempt.
        assert_eq!(
            app.complete_setup(&token, &admin_form()).await.status(),
            StatusCode::OK
        );
    }
);

both_backends!(
    async fn a_password_containing_the_name_is_refused_with_the_reason(app: TestApp) {
        let token = app.setup_token().await;
        let mut form = admin_form();
        form[7] = ("password", "obrien-is-my-password");
        let body = error_of(app.complete_setup(&token, &form).await).await;
        let message = body["Validation"][0]["message"].as_str().expect("message");
        assert_eq!(body["Validation"][0]["field"], "password");
        assert!(message.contains("name"), "{message}");
    }
);

both_backends!(
    async fn an_organisation_administrator_link_adds_to_an_existing_organisation(app: TestApp) {
        let path = app.organisation_setup_path("Hillside Academy").await;
        let token = path.trim_start_matches("/setup/");
        let page = app.get(&path).await.text().await.expect("html");
        assert!(
            page.contains("Create an administrator for Hillside Academy"),
            "{page}"
        );
        let mut form = admin_form();
        form[0] = ("organisation_name", "");
        assert_eq!(
            app.complete_setup(token, &form).await.status(),
            StatusCode::OK
        );
        let me = app.whoami().await.expect("signed in");
        assert_eq!(me["organisation_name"], "Hillside Academy");
        assert_eq!(me["is_platform_admin"], false);
    }
);

both_backends!(
    async fn usernames_are_unique_across_organisations_whatever_their_case(app: TestApp) {
        app.set_up_first_administrator().await;
        let path = app.organisation_setup_path("Hillside Academy").await;
        let form = [
            ("first_name", "Sian"),
            ("last_name", "OBrien"),
            ("email", "sian@hillside.example"),
            ("username", "Sian.OBrien"),
            ("initials", "SO"),
            ("password", PASSWORD),
        ];
        let response = app
            .complete_setup(path.trim_start_matches("/setup/"), &form)
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = error_of(response).await;
        assert_eq!(body["Validation"][0]["field"], "username", "{body}");
    }
);

both_backends!(
    async fn two_replicas_starting_together_on_a_new_database_migrate_it_once(app: TestApp) {
        let mut settings = (*app.state.settings).clone();
        settings.database_url = match app.state.db.backend {
            backend::db::Backend::Postgres => fresh_postgres_database().await,
            backend::db::Backend::Sqlite => {
                format!(
                    "sqlite://{}?mode=rwc",
                    settings.data_dir.join("replicas.db").display()
                )
            }
        };
        let clock: std::sync::Arc<dyn backend::Clock> = std::sync::Arc::new(app.clock.clone());
        let (first, second) = tokio::join!(
            server::startup::build_state(settings.clone(), clock.clone()),
            server::startup::build_state(settings, clock),
        );
        let first = first.expect("first replica started");
        second.expect("second replica started");
        let (applied,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(&first.db.pool)
            .await
            .expect("migrations table");
        let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/sqlite"))
            .expect("migrations")
            .count();
        assert_eq!(applied, i64::try_from(files).expect("count"));
    }
);
