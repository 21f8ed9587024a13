//! Who may do what: giving and taking access without editing roles, seeing
//! access without giving it, and never leaving an organisation without
//! someone able to manage roles.

use super::*;

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
            "applications.manage",
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
