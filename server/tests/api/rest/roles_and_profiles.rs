//! Roles and profiles through the API: listed, given and taken away.

use super::*;

both_backends!(
    async fn roles_and_profiles_are_listed_given_and_taken_away(app: TestApp) {
        let (_, token) = administrator_token(&app).await;
        let roles = api_json(get(&app, "/api/v1/roles", &token).await, StatusCode::OK).await;
        let role_names = names(&roles);
        for name in [
            "Administrator",
            "User administrator",
            "Teacher",
            "Office staff",
        ] {
            assert!(role_names.contains(&name.to_owned()), "{name} in {roles}");
        }
        let teacher = roles
            .as_array()
            .expect("roles")
            .iter()
            .find(|r| r["name"] == "Teacher")
            .expect("Teacher");
        for key in ["pupils.view", "pupils.edit", "reports.view"] {
            assert!(
                teacher["permissions"]
                    .as_array()
                    .expect("permissions")
                    .contains(&json!(key)),
                "{key}: {teacher}"
            );
        }
        let profiles = api_json(get(&app, "/api/v1/profiles", &token).await, StatusCode::OK).await;
        let teaching = profiles
            .as_array()
            .expect("profiles")
            .iter()
            .find(|p| p["name"] == "Teaching staff")
            .expect("Teaching staff");
        assert_eq!(names(&teaching["roles"]), vec!["Teacher"]);

        let zoe = create(
            &app,
            &token,
            json!({"first_name": "Zoë", "last_name": "Ångström", "email": ZOE_EMAIL}),
        )
        .await;
        let id = zoe["id"].as_i64().expect("id");
        let teacher = role_id(&app, &token, "Teacher").await;
        let path = format!("/api/v1/users/{id}/roles/{teacher}");
        let given = api_json(call(&app, Method::PUT, &path, &token).await, StatusCode::OK).await;
        assert_eq!(names(&given["roles"]), vec!["Teacher"]);
        assert!(
            given["permissions"]
                .as_array()
                .expect("permissions")
                .contains(&json!("pupils.view")),
            "{given}"
        );
        // Giving it again changes nothing.
        let again = api_json(call(&app, Method::PUT, &path, &token).await, StatusCode::OK).await;
        assert_eq!(names(&again["roles"]), vec!["Teacher"]);
        let taken = api_json(
            call(&app, Method::DELETE, &path, &token).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(taken["roles"], json!([]));
        assert_eq!(taken["permissions"], json!([]));

        let office = profile_id(&app, &token, "Office administrator").await;
        let path = format!("/api/v1/users/{id}/profiles/{office}");
        let given = api_json(call(&app, Method::PUT, &path, &token).await, StatusCode::OK).await;
        assert_eq!(names(&given["profiles"]), vec!["Office administrator"]);
        assert!(
            given["permissions"]
                .as_array()
                .expect("permissions")
                .contains(&json!("users.manage")),
            "{given}"
        );
        let taken = api_json(
            call(&app, Method::DELETE, &path, &token).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(taken["profiles"], json!([]));
        let actions = app.audit_actions_for(id).await;
        assert_eq!(
            actions.iter().filter(|a| *a == "access.granted").count(),
            2,
            "{actions:?}"
        );
        assert_eq!(
            actions.iter().filter(|a| *a == "access.removed").count(),
            2,
            "{actions:?}"
        );
    }
);
