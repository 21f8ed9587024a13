//! The starter set of roles and profiles a new organisation begins with.

use super::*;

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
                "ApplicationsManage",
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
