//! Roles, profiles and who holds them, over HTTP: the starter set, adding
//! and editing roles and profiles, unique names, permissions through
//! profiles, changes holding at once on another server, who may edit and
//! who may give, other organisations' ids, the audit log, and the forms as a
//! browser posts them.

use crate::both_backends;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

const ZOE_EMAIL: &str = "zoe.angstrom@riverside.example";

fn zoe() -> Vec<(&'static str, &'static str)> {
    person_form("Zoë", "Ångström", ZOE_EMAIL, "ZA")
}

fn yusuf() -> Vec<(&'static str, &'static str)> {
    person_form("Yusuf", "Demir", "yusuf.demir@riverside.example", "YD")
}

async fn organisation_of(app: &TestApp, username: &str) -> i64 {
    let (id,): (i64,) = sqlx::query_as("SELECT organisation_id FROM users WHERE username = $1")
        .bind(username)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("organisation");
    id
}

async fn id_by_name(app: &TestApp, table: &str, organisation: i64, name: &str) -> i64 {
    let (id,): (i64,) = sqlx::query_as(&format!(
        "SELECT id FROM {table} WHERE organisation_id = $1 AND name = $2"
    ))
    .bind(organisation)
    .bind(name)
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap_or_else(|_| panic!("{table} {name}"));
    id
}

async fn role_id(app: &TestApp, organisation: i64, name: &str) -> i64 {
    id_by_name(app, "roles", organisation, name).await
}

async fn profile_id(app: &TestApp, organisation: i64, name: &str) -> i64 {
    id_by_name(app, "profiles", organisation, name).await
}

/// `(name, description, permission keys)` of a role, straight from the database.
async fn stored_role(app: &TestApp, id: i64) -> (String, String, Vec<String>) {
    let (name, description): (String, String) =
        sqlx::query_as("SELECT name, description FROM roles WHERE id = $1")
            .bind(id)
            .fetch_one(&app.state.db.pool)
            .await
            .expect("role");
    let permissions: Vec<(String,)> = sqlx::query_as(
        "SELECT permission FROM role_permissions WHERE role_id = $1 ORDER BY permission",
    )
    .bind(id)
    .fetch_all(&app.state.db.pool)
    .await
    .expect("permissions");
    (
        name,
        description,
        permissions.into_iter().map(|(p,)| p).collect(),
    )
}

/// `(name, role ids)` of a profile, straight from the database.
async fn stored_profile(app: &TestApp, id: i64) -> (String, Vec<i64>) {
    let (name,): (String,) = sqlx::query_as("SELECT name FROM profiles WHERE id = $1")
        .bind(id)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("profile");
    let roles: Vec<(i64,)> =
        sqlx::query_as("SELECT role_id FROM profile_roles WHERE profile_id = $1 ORDER BY role_id")
            .bind(id)
            .fetch_all(&app.state.db.pool)
            .await
            .expect("roles");
    (name, roles.into_iter().map(|(r,)| r).collect())
}

/// The role and profile ids an account holds, straight from the database.
async fn held(app: &TestApp, user_id: i64) -> (Vec<i64>, Vec<i64>) {
    let roles: Vec<(i64,)> =
        sqlx::query_as("SELECT role_id FROM user_roles WHERE user_id = $1 ORDER BY role_id")
            .bind(user_id)
            .fetch_all(&app.state.db.pool)
            .await
            .expect("roles");
    let profiles: Vec<(i64,)> = sqlx::query_as(
        "SELECT profile_id FROM user_profiles WHERE user_id = $1 ORDER BY profile_id",
    )
    .bind(user_id)
    .fetch_all(&app.state.db.pool)
    .await
    .expect("profiles");
    (
        roles.into_iter().map(|(r,)| r).collect(),
        profiles.into_iter().map(|(p,)| p).collect(),
    )
}

/// The details of every audit entry of `action`, oldest first.
async fn audit_details(app: &TestApp, action: &str) -> Vec<String> {
    sqlx::query_as::<_, (String,)>("SELECT detail FROM audit_log WHERE action = $1 ORDER BY id")
        .bind(action)
        .fetch_all(&app.state.db.pool)
        .await
        .expect("audit log")
        .into_iter()
        .map(|(d,)| d)
        .collect()
}

/// `fields` plus one `list[]` field per item, as a form with checkboxes posts.
fn with_list(fields: &[(&str, String)], list: &str, items: &[String]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(f, v)| ((*f).to_owned(), v.clone()))
        .chain(items.iter().map(|item| (format!("{list}[]"), item.clone())))
        .collect()
}

async fn post(
    app: &TestApp,
    client: &reqwest::Client,
    function: &str,
    form: &[(String, String)],
) -> reqwest::Response {
    let form: Vec<(&str, &str)> = form.iter().map(|(f, v)| (f.as_str(), v.as_str())).collect();
    app.call_as(client, function, &form).await
}

async fn add_role(app: &TestApp, client: &reqwest::Client, name: &str) -> reqwest::Response {
    app.call_as(
        client,
        "add_role",
        &[("name", name), ("description", "Added in a test")],
    )
    .await
}

async fn save_role(
    app: &TestApp,
    client: &reqwest::Client,
    id: i64,
    name: &str,
    description: &str,
    permissions: &[&str],
) -> reqwest::Response {
    let form = with_list(
        &[
            ("id", id.to_string()),
            ("name", name.to_owned()),
            ("description", description.to_owned()),
        ],
        "permissions",
        &permissions
            .iter()
            .map(|p| (*p).to_owned())
            .collect::<Vec<_>>(),
    );
    post(app, client, "save_role", &form).await
}

async fn save_profile(
    app: &TestApp,
    client: &reqwest::Client,
    id: i64,
    name: &str,
    roles: &[i64],
) -> reqwest::Response {
    let form = with_list(
        &[
            ("id", id.to_string()),
            ("name", name.to_owned()),
            ("description", String::new()),
        ],
        "roles",
        &roles.iter().map(i64::to_string).collect::<Vec<_>>(),
    );
    post(app, client, "save_profile", &form).await
}

/// Gives `user_id` exactly these roles and profiles.
async fn save_access(
    app: &TestApp,
    client: &reqwest::Client,
    user_id: i64,
    roles: &[i64],
    profiles: &[i64],
) -> reqwest::Response {
    let mut form = with_list(
        &[("id", user_id.to_string())],
        "roles",
        &roles.iter().map(i64::to_string).collect::<Vec<_>>(),
    );
    form.extend(
        profiles
            .iter()
            .map(|p| ("profiles[]".to_owned(), p.to_string())),
    );
    post(app, client, "save_user_access", &form).await
}

async fn ok(response: reqwest::Response) {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn json(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|item| item[key].as_str().expect("text").to_owned())
        .collect()
}

/// The permissions whoami reports for `client` on the server at `base`.
async fn permissions_at(app: &TestApp, base: &str, client: &reqwest::Client) -> Vec<String> {
    let me = json(app.call_at(base, client, "whoami", &[]).await).await;
    me["permissions"]
        .as_array()
        .expect("permissions")
        .iter()
        .map(|p| p.as_str().expect("name").to_owned())
        .collect()
}

/// Siân's organisation, Riverside College, and Zoë, a person in it with no
/// roles, signed in on the returned browser.
async fn riverside_with_zoe(app: &TestApp) -> (i64, i64, reqwest::Client) {
    app.set_up_first_administrator().await;
    let riverside = organisation_of(app, "sian.obrien").await;
    let (zoe, browser) = app.add_and_activate(&zoe()).await;
    (riverside, zoe, browser)
}

// --- The starter set ------------------------------------------------------------

both_backends!(
    async fn a_new_organisation_starts_with_the_starter_roles_and_profiles(app: TestApp) {
        app.set_up_first_administrator().await;
        let roles = json(app.call("roles", &[]).await).await;
        assert_eq!(
            names(&roles, "name"),
            [
                "Administrator",
                "Office staff",
                "Teacher",
                "User administrator"
            ]
        );
        let administrator = &roles[0];
        assert_eq!(
            administrator["permissions"],
            serde_json::json!([
                "UsersView",
                "UsersManage",
                "RolesManage",
                "ApiUsersManage",
                "AuditView",
                "PupilsView",
                "PupilsEdit",
                "ReportsView"
            ]),
            "every permission, so its holders reach every account"
        );
        assert_eq!(administrator["member_count"], 1, "Siân holds it");
        assert_eq!(administrator["requires_2fa"], true);
        assert_eq!(roles[1]["requires_2fa"], false, "Office staff");

        let profiles = json(app.call("profiles", &[]).await).await;
        assert_eq!(
            names(&profiles, "name"),
            [
                "Head of department",
                "Office administrator",
                "Teaching staff"
            ]
        );
        let role_names = |profile: &serde_json::Value| -> Vec<String> {
            profile["roles"]
                .as_array()
                .expect("roles")
                .iter()
                .map(|pair| pair[1].as_str().expect("name").to_owned())
                .collect()
        };
        assert_eq!(
            role_names(&profiles[1]),
            ["Office staff", "User administrator"]
        );
        assert_eq!(role_names(&profiles[2]), ["Teacher"]);

        // A second organisation gets its own set.
        let (tomasz, _) = app.second_organisation().await;
        let theirs = json(app.call_as(&tomasz, "profiles", &[]).await).await;
        assert_eq!(names(&theirs, "name"), names(&profiles, "name"));
        assert_ne!(theirs[0]["id"], profiles[0]["id"]);
    }
);

// --- Adding and editing ---------------------------------------------------------

both_backends!(
    async fn an_administrator_adds_renames_and_edits_a_role_and_each_change_is_audited(
        app: TestApp,
    ) {
        app.set_up_first_administrator().await;
        let riverside = organisation_of(&app, "sian.obrien").await;
        ok(add_role(&app, &app.client, "  Exams   officer ").await).await;
        let id = role_id(&app, riverside, "Exams officer").await;
        assert_eq!(
            stored_role(&app, id).await,
            ("Exams officer".into(), "Added in a test".into(), vec![])
        );

        ok(save_role(
            &app,
            &app.client,
            id,
            "Exams officers",
            "Enter pupils for exams",
            &["reports.view", "pupils.view"],
        )
        .await)
        .await;
        assert_eq!(
            stored_role(&app, id).await,
            (
                "Exams officers".into(),
                "Enter pupils for exams".into(),
                vec!["pupils.view".into(), "reports.view".into()]
            )
        );
        let role = json(app.call("role", &[("id", &id.to_string())]).await).await;
        assert_eq!(
            role["permissions"],
            serde_json::json!(["PupilsView", "ReportsView"])
        );

        ok(save_role(
            &app,
            &app.client,
            id,
            "Exams officers",
            "Enter pupils for exams",
            &["reports.view", "users.view"],
        )
        .await)
        .await;
        assert_eq!(
            stored_role(&app, id).await.2,
            ["reports.view", "users.view"]
        );
        // Saving without a change records nothing.
        ok(save_role(
            &app,
            &app.client,
            id,
            "Exams officers",
            "Enter pupils for exams",
            &["users.view", "reports.view"],
        )
        .await)
        .await;
        // No permission ticked: the role keeps none.
        ok(save_role(
            &app,
            &app.client,
            id,
            "Exams officers",
            "Enter pupils for exams",
            &[],
        )
        .await)
        .await;
        assert!(stored_role(&app, id).await.2.is_empty());

        assert_eq!(
            audit_details(&app, "role.created").await,
            ["role=Exams officer"]
        );
        assert_eq!(
            audit_details(&app, "role.changed").await,
            [
                "role=Exams officers renamed_from=Exams officer description_changed added=pupils.view,reports.view",
                "role=Exams officers added=users.view removed=pupils.view",
                "role=Exams officers removed=users.view,reports.view",
            ]
        );
        let (organisation, actor): (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT organisation_id, actor_user_id FROM audit_log WHERE action = 'role.created'",
        )
        .fetch_one(&app.state.db.pool)
        .await
        .expect("entry");
        assert_eq!(organisation, Some(riverside));
        assert_eq!(actor, Some(app.user_id("sian.obrien").await));
    }
);

both_backends!(
    async fn an_administrator_adds_a_profile_and_chooses_its_roles(app: TestApp) {
        app.set_up_first_administrator().await;
        let riverside = organisation_of(&app, "sian.obrien").await;
        ok(app
            .call(
                "add_profile",
                &[("name", "Reception"), ("description", "Front desk")],
            )
            .await)
        .await;
        let id = profile_id(&app, riverside, "Reception").await;
        let office = role_id(&app, riverside, "Office staff").await;
        let teacher = role_id(&app, riverside, "Teacher").await;

        ok(save_profile(&app, &app.client, id, "Reception desk", &[office, teacher]).await).await;
        let mut both = vec![office, teacher];
        both.sort();
        assert_eq!(
            stored_profile(&app, id).await,
            ("Reception desk".into(), both)
        );
        let page = json(app.call("access_profile", &[("id", &id.to_string())]).await).await;
        let ticked: Vec<&str> = page["roles"]
            .as_array()
            .expect("roles")
            .iter()
            .filter(|r| r["held"] == true)
            .map(|r| r["name"].as_str().expect("name"))
            .collect();
        assert_eq!(ticked, ["Office staff", "Teacher"]);

        ok(save_profile(&app, &app.client, id, "Reception desk", &[office]).await).await;
        assert_eq!(stored_profile(&app, id).await.1, [office]);

        assert_eq!(
            audit_details(&app, "profile.created").await,
            ["profile=Reception"]
        );
        assert_eq!(
            audit_details(&app, "profile.changed").await,
            [
                "profile=Reception desk renamed_from=Reception description_changed added=Office staff,Teacher",
                "profile=Reception desk removed=Teacher",
            ]
        );
    }
);

both_backends!(
    async fn names_are_checked_and_unique_in_the_organisation_whatever_their_case(app: TestApp) {
        app.set_up_first_administrator().await;
        let riverside = organisation_of(&app, "sian.obrien").await;
        let taken = |body: &Value| field_message(body, "name").unwrap_or_default();

        let body = error_of(add_role(&app, &app.client, "teacher").await).await;
        assert_eq!(taken(&body), "There is already a role called “teacher”");
        let body = error_of(app.call("add_profile", &[("name", "TEACHING STAFF")]).await).await;
        assert_eq!(
            taken(&body),
            "There is already a profile called “TEACHING STAFF”"
        );
        // Case beyond ASCII counts too (SQLite's own lower() would miss it).
        ok(add_role(&app, &app.client, "Élèves et familles").await).await;
        let body = error_of(add_role(&app, &app.client, "élèves et familles").await).await;
        assert!(
            taken(&body).starts_with("There is already a role"),
            "{body}"
        );

        let office = role_id(&app, riverside, "Office staff").await;
        let response = save_role(&app, &app.client, office, "TEACHER", "", &["users.view"]).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            stored_role(&app, office).await.0,
            "Office staff",
            "nothing changed"
        );
        // A role may keep its own name in another case.
        ok(save_role(
            &app,
            &app.client,
            office,
            "Office Staff",
            "",
            &["users.view"],
        )
        .await)
        .await;
        // A role and a profile may share a name.
        ok(add_role(&app, &app.client, "Teaching staff").await).await;

        let response = add_role(&app, &app.client, " x ").await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            field_message(&error_of(response).await, "name").as_deref(),
            Some("Role name must be at least 2 characters")
        );
        let long = "d".repeat(201);
        let body = error_of(
            app.call(
                "add_profile",
                &[("name", "Governors"), ("description", &long)],
            )
            .await,
        )
        .await;
        assert_eq!(fields_of(&body), ["description"]);
        let body = error_of(save_role(&app, &app.client, office, "", "", &[]).await).await;
        assert_eq!(taken(&body), "Enter a role name");
        let body = error_of(
            save_role(
                &app,
                &app.client,
                office,
                "Office staff",
                "",
                &["users.delete"],
            )
            .await,
        )
        .await;
        assert!(body["BadRequest"].is_string(), "{body}");
    }
);

both_backends!(
    async fn two_administrators_adding_the_same_name_at_once_get_one_role_and_one_field_error(
        app: TestApp,
    ) {
        app.set_up_first_administrator().await;
        let riverside = organisation_of(&app, "sian.obrien").await;
        let second = app.signed_in_browser("sian.obrien", PASSWORD).await;
        for round in 0..3 {
            let name = format!("Cover supervisor {round}");
            let shouted = name.to_uppercase();
            let (a, b) = tokio::join!(
                add_role(&app, &app.client, &name),
                add_role(&app, &second, &shouted)
            );
            let mut statuses = [a.status(), b.status()];
            statuses.sort();
            assert_eq!(
                statuses,
                [StatusCode::OK, StatusCode::UNPROCESSABLE_ENTITY],
                "never a 500"
            );
            let (count,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM roles WHERE organisation_id = $1 AND lower(name) = lower($2)",
            )
            .bind(riverside)
            .bind(&name)
            .fetch_one(&app.state.db.pool)
            .await
            .expect("count");
            assert_eq!(count, 1);
        }
    }
);

// --- Effective permissions ------------------------------------------------------

both_backends!(
    async fn a_profile_gives_the_permissions_of_its_roles_and_the_user_page_says_where_each_comes_from(
        app: TestApp,
    ) {
        let (riverside, zoe, browser) = riverside_with_zoe(&app).await;
        assert!(
            permissions_at(&app, &app.address, &browser)
                .await
                .is_empty()
        );
        assert_eq!(
            app.call_as(&browser, "list_users", &[("q", "")])
                .await
                .status(),
            StatusCode::FORBIDDEN
        );

        ok(app.call("add_profile", &[("name", "Reception")]).await).await;
        let reception = profile_id(&app, riverside, "Reception").await;
        let office = role_id(&app, riverside, "Office staff").await;
        ok(save_profile(&app, &app.client, reception, "Reception", &[office]).await).await;
        ok(save_access(&app, &app.client, zoe, &[], &[reception]).await).await;

        assert_eq!(held(&app, zoe).await, (vec![], vec![reception]));
        assert_eq!(
            permissions_at(&app, &app.address, &browser).await,
            ["UsersView", "ReportsView"]
        );
        assert_eq!(
            app.call_as(&browser, "list_users", &[("q", "")])
                .await
                .status(),
            StatusCode::OK
        );

        // Given the role directly as well, the page names both sources.
        ok(save_access(&app, &app.client, zoe, &[office], &[reception]).await).await;
        let access = json(app.call("user_access", &[("id", &zoe.to_string())]).await).await;
        assert_eq!(access["can_assign"], true);
        let effective = access["effective"].as_array().expect("effective");
        assert_eq!(effective.len(), 2);
        assert_eq!(effective[0]["permission"], "UsersView");
        assert_eq!(
            effective[0]["granted_by"],
            serde_json::json!(["Role Office staff", "Profile Reception (role Office staff)"])
        );
        let role = json(app.call("role", &[("id", &office.to_string())]).await).await;
        let through: Vec<&Value> = role["members"]
            .as_array()
            .expect("members")
            .iter()
            .map(|m| &m["through"])
            .collect();
        assert_eq!(through, [&Value::Null, &Value::from("Reception")]);
        let roles = json(app.call("roles", &[]).await).await;
        let office_line = roles
            .as_array()
            .expect("roles")
            .iter()
            .find(|r| r["name"] == "Office staff")
            .expect("Office staff");
        assert_eq!(office_line["member_count"], 1, "Zoë counts once");

        assert_eq!(
            audit_details(&app, "access.granted").await,
            ["profile=Reception", "role=Office staff"]
        );
        let targets: Vec<(Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT target_user_id, organisation_id FROM audit_log WHERE action = 'access.granted'",
        )
        .fetch_all(&app.state.db.pool)
        .await
        .expect("entries");
        assert!(targets.iter().all(|t| *t == (Some(zoe), Some(riverside))));
    }
);

both_backends!(
    async fn taking_access_away_holds_at_the_next_request_on_another_server_sharing_the_database(
        app: TestApp,
    ) {
        let (riverside, zoe, _) = riverside_with_zoe(&app).await;
        let office = role_id(&app, riverside, "Office staff").await;
        ok(save_access(&app, &app.client, zoe, &[office], &[]).await).await;

        // A second replica: the same settings (database, public URL), its own port.
        let second = app.second_instance().await;
        let browser = app.new_browser();
        ok(app
            .call_at(
                &second,
                &browser,
                "sign_in",
                &[("login", "zoe.angstrom"), ("password", PASSWORD)],
            )
            .await)
        .await;
        let list_users = || app.call_at(&second, &browser, "list_users", &[("q", "")]);
        assert_eq!(list_users().await.status(), StatusCode::OK);

        // The role taken away on the first server: refused on the second at once.
        ok(save_access(&app, &app.client, zoe, &[], &[]).await).await;
        assert_eq!(list_users().await.status(), StatusCode::FORBIDDEN);
        assert!(permissions_at(&app, &second, &browser).await.is_empty());
        assert_eq!(
            audit_details(&app, "access.removed").await,
            ["role=Office staff"]
        );

        // Through a profile, then the role taken out of the profile.
        ok(app.call("add_profile", &[("name", "Reception")]).await).await;
        let reception = profile_id(&app, riverside, "Reception").await;
        ok(save_profile(&app, &app.client, reception, "Reception", &[office]).await).await;
        ok(save_access(&app, &app.client, zoe, &[], &[reception]).await).await;
        assert_eq!(list_users().await.status(), StatusCode::OK);
        ok(save_profile(&app, &app.client, reception, "Reception", &[]).await).await;
        assert_eq!(list_users().await.status(), StatusCode::FORBIDDEN);

        // And a permission taken out of the role itself.
        ok(save_access(&app, &app.client, zoe, &[office], &[]).await).await;
        assert_eq!(list_users().await.status(), StatusCode::OK);
        ok(save_role(
            &app,
            &app.client,
            office,
            "Office staff",
            "",
            &["reports.view"],
        )
        .await)
        .await;
        assert_eq!(list_users().await.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            permissions_at(&app, &second, &browser).await,
            ["ReportsView"]
        );
    }
);

// --- Who may do what --------------------------------------------------------------

both_backends!(
    async fn managing_users_without_managing_roles_gives_access_but_does_not_edit_roles(
        app: TestApp,
    ) {
        let (riverside, zoe, browser) = riverside_with_zoe(&app).await;
        let user_administrator = role_id(&app, riverside, "User administrator").await;
        let office = role_id(&app, riverside, "Office staff").await;
        let administrator = role_id(&app, riverside, "Administrator").await;
        let office_administrator = profile_id(&app, riverside, "Office administrator").await;
        ok(save_access(&app, &app.client, zoe, &[user_administrator], &[]).await).await;
        // Managing users needs two-factor authentication: she sets it up first.
        app.enrol_as(&browser).await;

        let before = stored_role(&app, office).await;
        let profile_before = stored_profile(&app, office_administrator).await;
        let office_id = office.to_string();
        let profile_id_text = office_administrator.to_string();
        let refused = [
            app.call_as(&browser, "roles", &[]).await,
            app.call_as(&browser, "role", &[("id", &office_id)]).await,
            app.call_as(&browser, "profiles", &[]).await,
            app.call_as(&browser, "access_profile", &[("id", &profile_id_text)])
                .await,
            add_role(&app, &browser, "Exams officer").await,
            app.call_as(&browser, "add_profile", &[("name", "Exams")])
                .await,
            save_role(
                &app,
                &browser,
                office,
                "Office staff",
                "",
                &["users.view", "users.manage"],
            )
            .await,
            save_profile(
                &app,
                &browser,
                office_administrator,
                "Office administrator",
                &[administrator],
            )
            .await,
        ];
        for response in refused {
            let url = response.url().path().to_owned();
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{url}");
            assert_eq!(error_of(response).await, "Forbidden", "{url}");
        }
        assert_eq!(stored_role(&app, office).await, before);
        assert_eq!(
            stored_profile(&app, office_administrator).await,
            profile_before
        );
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM roles WHERE name = 'Exams officer'")
                .fetch_one(&app.state.db.pool)
                .await
                .expect("count");
        assert_eq!(count, 0);

        // She gives others roles and profiles within what she holds...
        let yusuf = app.add_person(&yusuf()).await;
        ok(save_access(&app, &browser, yusuf, &[user_administrator], &[]).await).await;
        assert_eq!(held(&app, yusuf).await, (vec![user_administrator], vec![]));
        // ...but none carrying more (roles.manage, reports), to anyone,
        // and she changes nothing of her own.
        for (user, extra) in [(yusuf, administrator), (yusuf, office), (zoe, office)] {
            let (roles_before, profiles_before) = held(&app, user).await;
            let mut roles = roles_before.clone();
            roles.push(extra);
            let response = save_access(&app, &browser, user, &roles, &profiles_before).await;
            refusal(response, StatusCode::FORBIDDEN, "Overreach").await;
            assert_eq!(held(&app, user).await, (roles_before, profiles_before));
        }
        let access = json(
            app.call_as(&browser, "user_access", &[("id", &yusuf.to_string())])
                .await,
        )
        .await;
        assert_eq!(
            locked_roles(&access),
            ["Administrator", "Office staff", "Teacher"]
        );
        assert_eq!(access["can_edit_roles"], false);
    }
);

both_backends!(
    async fn someone_without_users_manage_sees_access_but_cannot_give_or_take_it(app: TestApp) {
        let (riverside, zoe, browser) = riverside_with_zoe(&app).await;
        let office = role_id(&app, riverside, "Office staff").await;
        let teacher = role_id(&app, riverside, "Teacher").await;
        let teaching = profile_id(&app, riverside, "Teaching staff").await;
        ok(save_access(&app, &app.client, zoe, &[office], &[]).await).await;
        let yusuf = app.add_person(&yusuf()).await;

        for (user, roles, profiles) in [
            (zoe, vec![office, teacher], vec![]),
            (yusuf, vec![office], vec![]),
            (yusuf, vec![], vec![teaching]),
            (zoe, vec![], vec![]),
        ] {
            let before = held(&app, user).await;
            let response = save_access(&app, &browser, user, &roles, &profiles).await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
            assert_eq!(error_of(response).await, "Forbidden");
            assert_eq!(held(&app, user).await, before, "nothing changed");
        }
        let access = json(
            app.call_as(&browser, "user_access", &[("id", &zoe.to_string())])
                .await,
        )
        .await;
        assert_eq!(access["can_assign"], false);
        assert!(audit_details(&app, "access.granted").await.len() == 1);
    }
);

both_backends!(
    async fn nobody_can_leave_the_organisation_without_someone_able_to_manage_roles(app: TestApp) {
        let (riverside, _, _) = riverside_with_zoe(&app).await;
        let sian = app.user_id("sian.obrien").await;
        let administrator = role_id(&app, riverside, "Administrator").await;
        let all_but_roles = [
            "users.view",
            "users.manage",
            "api_users.manage",
            "audit.view",
        ];
        let before = stored_role(&app, administrator).await;
        let audit_before = app.audit_actions().await.len();

        // Siân is the only one: she cannot take roles.manage out of her role
        // (nor change her own roles at all).
        let response = save_role(
            &app,
            &app.client,
            administrator,
            "Administrator",
            &before.1,
            &all_but_roles,
        )
        .await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let body = error_of(response).await;
        assert!(
            body["Conflict"]
                .as_str()
                .expect("message")
                .contains("nobody in the organisation"),
            "{body}"
        );
        let own = save_access(&app, &app.client, sian, &[], &[]).await;
        assert_eq!(own.status(), StatusCode::FORBIDDEN);
        assert_eq!(stored_role(&app, administrator).await, before);
        assert_eq!(held(&app, sian).await, (vec![administrator], vec![]));
        assert_eq!(
            app.audit_actions().await.len(),
            audit_before,
            "nothing recorded"
        );

        // Only a platform administrator working in another organisation can
        // reach its last manager of roles, and may not take the role away.
        let (_, hillside) = app.second_organisation().await;
        let tomasz = app.user_id("tomasz.nowak").await;
        app.enter(hillside).await;
        let response = save_access(&app, &app.client, tomasz, &[], &[]).await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let their_administrator = role_id(&app, hillside, "Administrator").await;
        assert_eq!(
            held(&app, tomasz).await,
            (vec![their_administrator], vec![])
        );
    }
);

// --- Organisations ----------------------------------------------------------------

both_backends!(
    async fn another_organisations_roles_profiles_and_people_are_not_found_and_nothing_changes(
        app: TestApp,
    ) {
        let (riverside, zoe, _) = riverside_with_zoe(&app).await;
        let (tomasz, hillside) = app.second_organisation().await;
        let tomasz_id = app.user_id("tomasz.nowak").await;
        let their_role = role_id(&app, riverside, "Office staff").await;
        let their_profile = profile_id(&app, riverside, "Teaching staff").await;
        let my_role = role_id(&app, hillside, "Office staff").await;
        let my_profile = profile_id(&app, hillside, "Teaching staff").await;
        let role_before = stored_role(&app, their_role).await;
        let profile_before = stored_profile(&app, their_profile).await;
        let my_profile_before = stored_profile(&app, my_profile).await;
        let zoe_before = held(&app, zoe).await;
        let tomasz_before = held(&app, tomasz_id).await;
        let audit_before = app.audit_actions().await.len();

        let not_found = [
            app.call_as(&tomasz, "role", &[("id", &their_role.to_string())])
                .await,
            app.call_as(
                &tomasz,
                "access_profile",
                &[("id", &their_profile.to_string())],
            )
            .await,
            app.call_as(&tomasz, "user_access", &[("id", &zoe.to_string())])
                .await,
            save_role(&app, &tomasz, their_role, "Hijacked", "", &["users.manage"]).await,
            save_profile(&app, &tomasz, their_profile, "Hijacked", &[]).await,
            // His own profile, with their role in it.
            save_profile(
                &app,
                &tomasz,
                my_profile,
                "Teaching staff",
                &[my_role, their_role],
            )
            .await,
            // Their person, with his role.
            save_access(&app, &tomasz, zoe, &[my_role], &[]).await,
            // Himself, with their role or their profile.
            save_access(&app, &tomasz, tomasz_id, &[their_role], &[]).await,
            save_access(&app, &tomasz, tomasz_id, &[my_role], &[their_profile]).await,
        ];
        for response in not_found {
            let url = response.url().path().to_owned();
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{url}");
            assert!(error_of(response).await["NotFound"].is_string(), "{url}");
        }
        assert_eq!(stored_role(&app, their_role).await, role_before);
        assert_eq!(stored_profile(&app, their_profile).await, profile_before);
        assert_eq!(stored_profile(&app, my_profile).await, my_profile_before);
        assert_eq!(held(&app, zoe).await, zoe_before);
        assert_eq!(held(&app, tomasz_id).await, tomasz_before);
        assert_eq!(app.audit_actions().await.len(), audit_before);

        // His lists hold only his organisation's.
        let roles = json(app.call_as(&tomasz, "roles", &[]).await).await;
        assert!(
            roles
                .as_array()
                .expect("roles")
                .iter()
                .all(|r| r["id"] != their_role)
        );
    }
);

both_backends!(
    async fn a_role_or_profile_of_another_organisation_cannot_be_given(app: TestApp) {
        let (_, zoe, browser) = riverside_with_zoe(&app).await;
        let (_, hillside) = app.second_organisation().await;
        let hillside_role = role_id(&app, hillside, "Office staff").await;
        let hillside_profile = profile_id(&app, hillside, "Teaching staff").await;

        for (roles, profiles) in [
            (vec![hillside_role], vec![]),
            (vec![], vec![hillside_profile]),
        ] {
            let response = save_access(&app, &app.client, zoe, &roles, &profiles).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND);
        }
        assert_eq!(held(&app, zoe).await, (vec![], vec![]));
        assert!(
            permissions_at(&app, &app.address, &browser)
                .await
                .is_empty()
        );

        // Nor can a row slipped in behind the application's back: the
        // database refuses a profile of another organisation.
        let zoe_organisation: (i64,) =
            sqlx::query_as("SELECT organisation_id FROM users WHERE id = $1")
                .bind(zoe)
                .fetch_one(&app.state.db.pool)
                .await
                .expect("organisation");
        let inserted = sqlx::query(
            "INSERT INTO user_profiles (user_id, profile_id, organisation_id, granted_at) VALUES ($1, $2, $3, 0)",
        )
        .bind(zoe)
        .bind(hillside_profile)
        .bind(zoe_organisation.0)
        .execute(&app.state.db.pool)
        .await;
        assert!(inserted.is_err(), "the foreign keys refuse it");
        // A role of another organisation given behind its back (user_roles
        // predates the organisation keys) still grants nothing.
        sqlx::query("INSERT INTO user_roles (user_id, role_id, granted_at) VALUES ($1, $2, 0)")
            .bind(zoe)
            .bind(hillside_role)
            .execute(&app.state.db.pool)
            .await
            .expect("inserted");
        assert!(
            permissions_at(&app, &app.address, &browser)
                .await
                .is_empty()
        );
    }
);

both_backends!(
    async fn a_platform_administrator_edits_the_roles_of_the_organisation_they_work_in(
        app: TestApp,
    ) {
        app.set_up_first_administrator().await;
        let riverside = organisation_of(&app, "sian.obrien").await;
        let (_, hillside) = app.second_organisation().await;
        let riverside_role = role_id(&app, riverside, "Teacher").await;
        let hillside_role = role_id(&app, hillside, "Teacher").await;
        assert_eq!(
            app.call("role", &[("id", &hillside_role.to_string())])
                .await
                .status(),
            StatusCode::NOT_FOUND
        );

        ok(app
            .call(
                "enter_organisation",
                &[("organisation_id", &hillside.to_string())],
            )
            .await)
        .await;
        ok(save_role(
            &app,
            &app.client,
            hillside_role,
            "Class teacher",
            "",
            &["pupils.view"],
        )
        .await)
        .await;
        assert_eq!(stored_role(&app, hillside_role).await.0, "Class teacher");
        assert_eq!(
            app.call("role", &[("id", &riverside_role.to_string())])
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        let (organisation,): (Option<i64>,) =
            sqlx::query_as("SELECT organisation_id FROM audit_log WHERE action = 'role.changed'")
                .fetch_one(&app.state.db.pool)
                .await
                .expect("entry");
        assert_eq!(organisation, Some(hillside));
    }
);

// --- Pages and forms as a browser uses them -----------------------------------------

/// Posts `body` to a server function exactly as a browser without
/// JavaScript submits a form on `page`.
async fn browser_post(app: &TestApp, function: &str, page: &str, body: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/fn/{function}", app.address))
        .header("origin", &app.address)
        .header("referer", format!("{}{page}", app.address))
        .header("sec-fetch-site", "same-origin")
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )
        .body(body.to_owned())
        .send()
        .await
        .expect("request")
}

both_backends!(
    async fn the_forms_post_their_ticked_checkboxes_as_a_browser_sends_them(app: TestApp) {
        let (riverside, zoe, _) = riverside_with_zoe(&app).await;
        let office = role_id(&app, riverside, "Office staff").await;
        let teaching = profile_id(&app, riverside, "Teaching staff").await;
        let page = format!("/roles/{office}");

        let html = app.get(&page).await.text().await.expect("page");
        assert!(html.contains(r#"name="permissions[]""#), "{html}");
        assert!(html.contains(r#"value="users.view" checked"#), "{html}");
        for group in ["Accounts", "Administration", "Pupil data", "Reports"] {
            let legend = format!("<legend>{group}</legend>");
            assert_eq!(html.matches(&legend).count(), 1, "{legend} once: {html}");
        }
        assert!(
            html.contains("Requires two-factor authentication"),
            "{html}"
        );

        // Two boxes ticked, bracketed names percent-encoded as browsers do.
        let body = format!(
            "id={office}&name=Office+staff&description=Front+desk&permissions%5B%5D=users.view&permissions%5B%5D=pupils.view"
        );
        let response = browser_post(&app, "save_role", &page, &body).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(
            location(&response).unwrap_or_default(),
            format!("/roles/{office}?saved=changes")
        );
        assert_eq!(
            stored_role(&app, office).await.2,
            ["pupils.view", "users.view"]
        );
        // One box ticked.
        let body =
            format!("id={office}&name=Office+staff&description=&permissions%5B%5D=reports.view");
        browser_post(&app, "save_role", &page, &body).await;
        assert_eq!(stored_role(&app, office).await.2, ["reports.view"]);
        // None ticked: no permissions field at all.
        let body = format!("id={office}&name=Office+staff&description=");
        assert_eq!(
            browser_post(&app, "save_role", &page, &body).await.status(),
            StatusCode::FOUND
        );
        assert!(stored_role(&app, office).await.2.is_empty());

        // A field error comes back to the page, which shows it beside the field.
        let body = format!("id={office}&name=teacher&description=");
        let response = browser_post(&app, "save_role", &page, &body).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let back = location(&response)
            .unwrap_or_default()
            .replacen(&app.address, "", 1);
        assert!(back.starts_with(&page) && back.contains("__err"), "{back}");
        let html = app.get(&back).await.text().await.expect("page");
        assert!(
            html.contains("There is already a role called “teacher”"),
            "{html}"
        );
        assert!(
            html.contains(r##"href="#name""##),
            "the summary links to the field"
        );

        // The user page: roles and profiles as checkboxes.
        let user_page = format!("/users/{zoe}");
        let body = format!("id={zoe}&roles%5B%5D={office}&profiles%5B%5D={teaching}");
        let response = browser_post(&app, "save_user_access", &user_page, &body).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(
            location(&response).unwrap_or_default(),
            format!("/users/{zoe}?saved=access")
        );
        assert_eq!(held(&app, zoe).await, (vec![office], vec![teaching]));
        let html = app
            .get(&format!("{user_page}?saved=access"))
            .await
            .text()
            .await
            .expect("page");
        assert!(html.contains("Roles and profiles"), "{html}");
        assert!(
            html.contains(&format!(r#"name="profiles[]" value="{teaching}" checked"#)),
            "{html}"
        );
        assert!(
            html.contains("Profile Teaching staff (role Teacher)"),
            "{html}"
        );
        assert!(
            html.contains("holds permissions that require two-factor authentication"),
            "pupil data needs two-factor authentication: {html}"
        );
        let body = format!("id={zoe}");
        browser_post(&app, "save_user_access", &user_page, &body).await;
        assert_eq!(held(&app, zoe).await, (vec![], vec![]));
    }
);

both_backends!(
    async fn the_roles_and_profiles_pages_list_members_and_the_nav_links_them(app: TestApp) {
        let (riverside, zoe, browser) = riverside_with_zoe(&app).await;
        let office = role_id(&app, riverside, "Office staff").await;
        ok(save_access(&app, &app.client, zoe, &[office], &[]).await).await;

        let home = app.get("/").await.text().await.expect("page");
        assert!(home.contains(r#"href="/roles""#) && home.contains(r#"href="/profiles""#));
        let roles = app.get("/roles").await.text().await.expect("page");
        assert!(
            roles.contains(&format!(r#"href="/roles/{office}""#)),
            "{roles}"
        );
        assert!(roles.contains("Add a role"), "{roles}");
        let role = app
            .get(&format!("/roles/{office}"))
            .await
            .text()
            .await
            .expect("page");
        assert!(role.contains(&format!(r#"href="/users/{zoe}""#)), "{role}");
        assert!(role.contains("Given directly"), "{role}");
        let profiles = app.get("/profiles").await.text().await.expect("page");
        assert!(profiles.contains("Office administrator") && profiles.contains("Add a profile"));
        let teaching = profile_id(&app, riverside, "Teaching staff").await;
        let profile = app
            .get(&format!("/profiles/{teaching}"))
            .await
            .text()
            .await
            .expect("page");
        assert!(profile.contains(r#"name="roles[]""#), "{profile}");
        assert!(profile.contains("<legend>Roles</legend>"), "{profile}");

        // Zoë (Office staff) sees no Roles link.
        let home = browser
            .get(format!("{}/", app.address))
            .header("accept", "text/html")
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("page");
        assert!(!home.contains(r#"href="/roles""#), "{home}");
    }
);
