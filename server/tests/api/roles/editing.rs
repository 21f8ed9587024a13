//! Adding and editing roles and profiles: names, descriptions, permissions,
//! unique names, and two administrators at once.

use super::*;

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
