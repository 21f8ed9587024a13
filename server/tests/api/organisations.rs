//! Organisations over HTTP: the platform administrator adds organisations
//! with their first administrator and chooses where to work; nobody else
//! can; an organisation's link lifetimes are its own setting.

use crate::both_backends;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

const ADA_EMAIL: &str = "ada.lovelace@northfield.example";

fn northfield() -> Vec<(&'static str, &'static str)> {
    vec![
        ("organisation_name", "Northfield School"),
        ("first_name", "Ada"),
        ("last_name", "Lovelace"),
        ("email", ADA_EMAIL),
    ]
}

async fn organisation_count(app: &TestApp) -> i64 {
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM organisations")
        .fetch_one(&app.state.db.pool)
        .await
        .expect("count");
    count
}

async fn listed_usernames(app: &TestApp, client: &reqwest::Client) -> Vec<String> {
    let response = app.call_as(client, "list_users", &[("q", "")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page: Value = response.json().await.expect("json");
    let mut names: Vec<String> = page["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["username"].as_str().expect("username").to_owned())
        .collect();
    names.sort();
    names
}

async fn working_organisation(app: &TestApp, client: &reqwest::Client) -> String {
    app.whoami_as(client).await.expect("signed in")["working_organisation_name"]
        .as_str()
        .expect("name")
        .to_owned()
}

both_backends!(
    async fn a_platform_administrator_adds_an_organisation_and_its_first_administrator(
        app: TestApp,
    ) {
        app.set_up_first_administrator().await;
        let response = app.call("add_organisation", &northfield()).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{}",
            response.text().await.unwrap_or_default()
        );

        let ada = app.user_id_by_email(ADA_EMAIL).await;
        let (state, kind, username, _) = app.account_row(ada).await;
        assert_eq!(
            (state.as_str(), kind.as_str(), username.as_str()),
            ("pending", "person", "ada.lovelace")
        );
        let (organisation, initials): (i64, String) =
            sqlx::query_as("SELECT organisation_id, initials FROM users WHERE id = $1")
                .bind(ada)
                .fetch_one(&app.state.db.pool)
                .await
                .expect("ada");
        assert_eq!(initials, "AL");
        let (role,): (String,) = sqlx::query_as(
            "SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id
             WHERE ur.user_id = $1 AND r.organisation_id = $2",
        )
        .bind(ada)
        .bind(organisation)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("Ada's role");
        assert_eq!(role, "Administrator");
        let (starter_roles,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM roles WHERE organisation_id = $1")
                .bind(organisation)
                .fetch_one(&app.state.db.pool)
                .await
                .expect("roles");
        assert_eq!(starter_roles, 4);

        let (subject, text) = app.last_email_to(ADA_EMAIL).await;
        assert!(subject.contains("Northfield School"), "{subject}");
        assert!(text.contains("/activate/"), "{text}");

        // Siân now works in Northfield: its list holds Ada only.
        assert_eq!(
            working_organisation(&app, &app.client).await,
            "Northfield School"
        );
        assert_eq!(
            listed_usernames(&app, &app.client).await,
            vec!["ada.lovelace"]
        );
        let actions: Vec<(String, i64)> = sqlx::query_as(
            "SELECT action, organisation_id FROM audit_log WHERE action IN ('organisation.created', 'account.created') ORDER BY id",
        )
        .fetch_all(&app.state.db.pool)
        .await
        .expect("audit");
        assert!(
            actions.contains(&("organisation.created".into(), organisation)),
            "{actions:?}"
        );
        assert!(
            actions.contains(&("account.created".into(), organisation)),
            "{actions:?}"
        );
    }
);

both_backends!(
    async fn a_bad_organisation_form_names_each_field_and_writes_nothing(app: TestApp) {
        app.set_up_first_administrator().await;
        let before = organisation_count(&app).await;
        let response = app
            .call(
                "add_organisation",
                &[
                    ("organisation_name", " "),
                    ("first_name", "Ada"),
                    ("last_name", ""),
                    ("email", "ada@nowhere"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = error_of(response).await;
        assert_eq!(
            fields_of(&body),
            vec!["organisation_name", "last_name", "email"]
        );

        // The name of an existing organisation, in another case.
        let taken = with(&northfield(), "organisation_name", "riverside college");
        let response = app.call("add_organisation", &taken).await;
        let body = error_of(response).await;
        assert_eq!(
            field_message(&body, "organisation_name").as_deref(),
            Some("An organisation with this name already exists")
        );
        assert_eq!(organisation_count(&app).await, before);
        let (accounts,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
            .fetch_one(&app.state.db.pool)
            .await
            .expect("count");
        assert_eq!(accounts, 1, "no half-written administrator");
    }
);

both_backends!(
    async fn only_platform_administrators_list_add_and_enter_organisations(app: TestApp) {
        app.set_up_first_administrator().await;
        let (tomasz, hillside) = app.second_organisation().await;
        let hillside = hillside.to_string();
        for (function, form) in [
            ("organisations", vec![]),
            ("add_organisation", northfield()),
            (
                "enter_organisation",
                vec![("organisation_id", hillside.as_str())],
            ),
        ] {
            let response = app.call_as(&tomasz, function, &form).await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{function}");
            let anonymous = app.call_as(&app.new_browser(), function, &form).await;
            assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{function}");
        }
        assert_eq!(
            working_organisation(&app, &tomasz).await,
            "Hillside Academy"
        );
    }
);

both_backends!(
    async fn a_platform_administrator_works_in_the_organisation_they_enter(app: TestApp) {
        app.set_up_first_administrator().await;
        let (tomasz, hillside) = app.second_organisation().await;
        let response = app.call("organisations", &[]).await;
        assert_eq!(response.status(), StatusCode::OK);
        let list: Value = response.json().await.expect("json");
        let names: Vec<&str> = list
            .as_array()
            .expect("list")
            .iter()
            .map(|o| o["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec!["Hillside Academy", "Riverside College"]);
        assert_eq!(list[1]["is_working_here"], true);
        assert_eq!(list[0]["active"], 1);

        let response = app
            .call(
                "enter_organisation",
                &[("organisation_id", &hillside.to_string())],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            listed_usernames(&app, &app.client).await,
            vec!["tomasz.nowak"]
        );
        let tomasz_id = app.user_id("tomasz.nowak").await.to_string();
        let response = app.call("user", &[("id", &tomasz_id)]).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "Hillside's accounts are open to her now"
        );
        let zoe = app
            .add_person(&person_form(
                "Zoë",
                "Ångström",
                "zoe@hillside.example",
                "ZA",
            ))
            .await;
        let (organisation,): (i64,) =
            sqlx::query_as("SELECT organisation_id FROM users WHERE id = $1")
                .bind(zoe)
                .fetch_one(&app.state.db.pool)
                .await
                .expect("zoe");
        assert_eq!(organisation, hillside, "added where she works");
        // Tomasz, working in Hillside, sees the account she added.
        assert_eq!(
            listed_usernames(&app, &tomasz).await,
            vec!["tomasz.nowak", "zoe.angstrom"]
        );

        let unknown = app
            .call("enter_organisation", &[("organisation_id", "999999")])
            .await;
        assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

        // Once she is no longer a platform administrator, her session is back
        // in her own organisation at the next request.
        sqlx::query("UPDATE users SET is_platform_admin = 0 WHERE username = 'sian.obrien'")
            .execute(&app.state.db.pool)
            .await
            .expect("demote");
        assert_eq!(
            working_organisation(&app, &app.client).await,
            "Riverside College"
        );
        assert_eq!(
            listed_usernames(&app, &app.client).await,
            vec!["sian.obrien"]
        );
    }
);

both_backends!(
    async fn an_organisation_chooses_how_long_its_links_work(app: TestApp) {
        app.set_up_first_administrator().await;
        let response = app.call("organisation_settings", &[]).await;
        assert_eq!(response.status(), StatusCode::OK);
        let settings: Value = response.json().await.expect("json");
        assert_eq!(settings["lifetimes"]["welcome_link_hours"], 72);
        assert_eq!(settings["lifetimes"]["password_link_minutes"], 60);

        let response = app
            .call(
                "save_organisation_settings",
                &[
                    ("welcome_link_hours", "721"),
                    ("password_link_minutes", "four"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = error_of(response).await;
        assert_eq!(
            fields_of(&body),
            vec!["welcome_link_hours", "password_link_minutes"]
        );

        let response = app
            .call(
                "save_organisation_settings",
                &[
                    ("welcome_link_hours", "48"),
                    ("password_link_minutes", "30"),
                ],
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{}",
            response.text().await.unwrap_or_default()
        );
        assert!(
            app.audit_actions()
                .await
                .contains(&"organisation.settings_changed".to_owned())
        );

        let zoe = app
            .add_person(&with(
                &person_form("Zoë", "Ångström", "zoe@riverside.example", "ZA"),
                "send_welcome_email",
                "on",
            ))
            .await;
        app.call(
            "send_user_email",
            &[("id", &zoe.to_string()), ("kind", "set_password")],
        )
        .await;
        let lifetimes: Vec<(String, i64)> = sqlx::query_as(
            "SELECT purpose, expires_at - created_at FROM one_time_links WHERE user_id = $1 ORDER BY id",
        )
        .bind(zoe)
        .fetch_all(&app.state.db.pool)
        .await
        .expect("links");
        assert_eq!(
            lifetimes,
            vec![
                ("welcome".to_owned(), 48 * 3600),
                ("set_password".to_owned(), 30 * 60)
            ]
        );

        // Someone without users.manage can neither read nor change them.
        let (_, oisin) = app
            .add_and_activate(&person_form(
                "Oisín",
                "Ó Murchú",
                "oisin@riverside.example",
                "OM",
            ))
            .await;
        for (function, form) in [
            ("organisation_settings", vec![]),
            (
                "save_organisation_settings",
                vec![("welcome_link_hours", "1"), ("password_link_minutes", "5")],
            ),
        ] {
            let response = app.call_as(&oisin, function, &form).await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{function}");
        }
    }
);
