//! Organisations: another organisation's roles, profiles and people are not
//! found and cannot be given; a platform administrator edits the roles of the
//! organisation they work in.

use super::*;

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
