//! Effective permissions: through profiles, where each comes from, and
//! changes holding at the next request on another server.

use super::*;

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
