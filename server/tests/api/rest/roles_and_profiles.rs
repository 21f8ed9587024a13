//! Roles and profiles through the API: listed, given and taken away.

use super::*;

both_backends!(
    async fn roles_and_profiles_are_listed_given_and_taken_away(app: TestApp) {
        let (_, token) = administrator_token(&app).await;
        let rest = app.rest(&token);
        let roles = rest.roles().await.unwrap();
        let role_names: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
        for name in [
            "Administrator",
            "User administrator",
            "Teacher",
            "Office staff",
        ] {
            assert!(role_names.contains(&name), "{name} in {role_names:?}");
        }
        let teacher = roles.iter().find(|r| r.name == "Teacher").expect("Teacher");
        for key in ["pupils.view", "pupils.edit", "reports.view"] {
            assert!(
                teacher.permissions.iter().any(|p| p == key),
                "{key}: {teacher:?}"
            );
        }
        let profiles = rest.profiles().await.unwrap();
        let teaching = profiles
            .iter()
            .find(|p| p.name == "Teaching staff")
            .expect("Teaching staff");
        assert_eq!(names(&teaching.roles), vec!["Teacher"]);

        let zoe = rest
            .create_user(&json!({"first_name": "Zoë", "last_name": "Ångström", "email": ZOE_EMAIL}))
            .await
            .unwrap();
        let id = zoe.id;
        let teacher = role_id(&rest, "Teacher").await;
        let given = rest.give_role(id, teacher).await.unwrap();
        assert_eq!(names(&given.roles), vec!["Teacher"]);
        assert!(
            given.permissions.iter().any(|p| p == "pupils.view"),
            "{given:?}"
        );
        // Giving it again changes nothing.
        let again = rest.give_role(id, teacher).await.unwrap();
        assert_eq!(names(&again.roles), vec!["Teacher"]);
        let taken = rest.take_role(id, teacher).await.unwrap();
        assert!(taken.roles.is_empty(), "{taken:?}");
        assert!(taken.permissions.is_empty(), "{taken:?}");

        let office = profile_id(&rest, "Office administrator").await;
        let given = rest.give_profile(id, office).await.unwrap();
        assert_eq!(names(&given.profiles), vec!["Office administrator"]);
        assert!(
            given.permissions.iter().any(|p| p == "users.manage"),
            "{given:?}"
        );
        let taken = rest.take_profile(id, office).await.unwrap();
        assert!(taken.profiles.is_empty(), "{taken:?}");
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
