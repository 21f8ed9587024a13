//! Users through the API: created, listed, searched and paged, details
//! changed while pending, emails sent, deactivated and reactivated.

use super::*;

both_backends!(
    async fn creating_a_user_generates_the_username_suggests_initials_and_sends_the_welcome_email(
        app: TestApp,
    ) {
        let (_, token) = administrator_token(&app).await;
        let response = send(
            &app,
            Method::POST,
            "/api/v1/users",
            &token,
            json!({
                "first_name": "Zoë",
                "last_name": "Ångström",
                "email": ZOE_EMAIL,
                "send_welcome_email": true
            }),
        )
        .await;
        let location = location(&response).expect("Location");
        let zoe = api_json(response, StatusCode::CREATED).await;
        let id = zoe["id"].as_i64().expect("id");
        assert_eq!(location, format!("/api/v1/users/{id}"));
        assert_eq!(zoe["username"], "zoe.angstrom");
        assert_eq!(
            zoe["initials"], "ZÅ",
            "as the Add a user form suggests them"
        );
        assert_eq!(zoe["kind"], "person");
        assert_eq!(zoe["state"], "pending");
        assert_eq!(zoe["details_editable"], true);
        assert_eq!(zoe["roles"], json!([]));
        let emails = app.emails_to(ZOE_EMAIL).await;
        assert_eq!(emails.len(), 1, "one welcome email");
        assert!(
            first_link(&emails[0].text).is_some(),
            "a link in {}",
            emails[0].text
        );
        // The Location answers with the same account.
        let fetched = api_json(get(&app, &location, &token).await, StatusCode::OK).await;
        assert_eq!(fetched, zoe);

        // An explicit username and initials, an API user, no email.
        let robot = create(
            &app,
            &token,
            json!({
                "first_name": "Timetable",
                "last_name": "Robot",
                "email": "timetable@riverside.example",
                "username": "timetable.bot",
                "initials": "TB",
                "kind": "api",
                "send_welcome_email": false
            }),
        )
        .await;
        assert_eq!(robot["username"], "timetable.bot");
        assert_eq!(robot["initials"], "TB");
        assert_eq!(robot["kind"], "api");
        assert_eq!(robot["state"], "pending");
        assert!(
            app.emails_to("timetable@riverside.example")
                .await
                .is_empty()
        );
    }
);

both_backends!(
    async fn users_are_listed_searched_filtered_and_paged_with_a_cursor(app: TestApp) {
        let (_, token) = administrator_token(&app).await;
        for (first, last, email) in [
            ("Zoë", "Ångström", ZOE_EMAIL),
            ("Amara", "Okafor", "amara.okafor@riverside.example"),
            ("Ben", "Carter", "ben.carter@riverside.example"),
            ("Chloé", "Dubois", "chloe.dubois@riverside.example"),
            ("Dev", "Patel", "dev.patel@riverside.example"),
        ] {
            create(
                &app,
                &token,
                json!({"first_name": first, "last_name": last, "email": email}),
            )
            .await;
        }
        // Seven accounts (Siân, HR Sync and five people), two a page.
        let mut seen = Vec::new();
        let mut path = "/api/v1/users?limit=2".to_owned();
        let mut pages = 0;
        loop {
            let page = api_json(get(&app, &path, &token).await, StatusCode::OK).await;
            pages += 1;
            assert_eq!(page["total"], json!({"count": 7, "exact": true}));
            let items = page["items"].as_array().expect("items");
            assert!(items.len() <= 2);
            seen.extend(
                items
                    .iter()
                    .map(|u| u["last_name"].as_str().expect("name").to_owned()),
            );
            match page["next_cursor"].as_str() {
                Some(cursor) => path = format!("/api/v1/users?limit=2&cursor={cursor}"),
                None => break,
            }
            assert!(pages < 10, "the cursor does not advance");
        }
        assert_eq!(pages, 4);
        assert_eq!(
            seen,
            vec![
                "Ångström",
                "Carter",
                "Dubois",
                "O’Brien",
                "Okafor",
                "Patel",
                "Sync"
            ],
            "by last name, accents ignored, each once"
        );

        // Descending by username, across pages.
        let first = api_json(
            get(&app, "/api/v1/users?sort=username&dir=desc&limit=3", &token).await,
            StatusCode::OK,
        )
        .await;
        let usernames: Vec<&str> = first["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|u| u["username"].as_str())
            .collect();
        assert_eq!(usernames, vec!["zoe.angstrom", "sian.obrien", "hr.sync"]);
        let cursor = first["next_cursor"].as_str().expect("a next page");
        // That cursor is for that order only.
        let wrong = get(&app, &format!("/api/v1/users?cursor={cursor}"), &token).await;
        let problem = api_problem(wrong, StatusCode::BAD_REQUEST).await;
        assert_eq!(problem_fields(&problem), vec!["cursor"]);

        // Search, accents and case ignored; filters.
        let found = api_json(
            get(&app, "/api/v1/users?q=ZOE", &token).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(found["total"]["count"], 1);
        assert_eq!(found["items"][0]["email"], ZOE_EMAIL);
        let api_users = api_json(
            get(&app, "/api/v1/users?kind=api", &token).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(api_users["total"]["count"], 1);
        assert_eq!(api_users["items"][0]["kind"], "api");
        let active = api_json(
            get(&app, "/api/v1/users?state=active&sort=first_name", &token).await,
            StatusCode::OK,
        )
        .await;
        let active_names: Vec<&str> = active["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|u| u["first_name"].as_str())
            .collect();
        assert_eq!(active_names, vec!["HR", "Siân"]);
        let nobody = api_json(
            get(&app, "/api/v1/users?state=deactivated", &token).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(nobody["items"], json!([]));
        assert_eq!(nobody["next_cursor"], Value::Null);
    }
);

both_backends!(
    async fn a_pending_account_is_changed_and_an_activated_one_answers_409(app: TestApp) {
        let (_, token) = administrator_token(&app).await;
        let zoe = create(
            &app,
            &token,
            json!({"first_name": "Zoe", "last_name": "Angstrom", "email": ZOE_EMAIL}),
        )
        .await;
        let id = zoe["id"].as_i64().expect("id");
        let changed = api_json(
            send(
                &app,
                Method::PATCH,
                &format!("/api/v1/users/{id}"),
                &token,
                json!({"first_name": "Zoë", "last_name": "Ångström"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(changed["first_name"], "Zoë");
        assert_eq!(changed["last_name"], "Ångström");
        assert_eq!(changed["email"], ZOE_EMAIL, "left out, left as it was");
        assert_eq!(changed["username"], zoe["username"]);
        // An invalid change is a field error and changes nothing.
        let invalid = send(
            &app,
            Method::PATCH,
            &format!("/api/v1/users/{id}"),
            &token,
            json!({"email": "nope"}),
        )
        .await;
        let problem = api_problem(invalid, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(problem_fields(&problem), vec!["email"]);

        // After activation the details are the person's own.
        let (amara, _) = app
            .add_and_activate(&person_form(
                "Amara",
                "Okafor",
                "amara.okafor@riverside.example",
                "AO",
            ))
            .await;
        let activated = api_json(
            get(&app, &format!("/api/v1/users/{amara}"), &token).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(activated["state"], "active");
        assert_eq!(activated["details_editable"], false);
        let refused = send(
            &app,
            Method::PATCH,
            &format!("/api/v1/users/{amara}"),
            &token,
            json!({"first_name": "Changed"}),
        )
        .await;
        let problem = api_problem(refused, StatusCode::CONFLICT).await;
        assert_eq!(problem["type"], "/api/docs#problem-conflict");
        let after = api_json(
            get(&app, &format!("/api/v1/users/{amara}"), &token).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(after["first_name"], "Amara");
    }
);

both_backends!(
    async fn emails_are_sent_to_people_only(app: TestApp) {
        let (sync, token) = administrator_token(&app).await;
        let zoe = create(
            &app,
            &token,
            json!({"first_name": "Zoë", "last_name": "Ångström", "email": ZOE_EMAIL}),
        )
        .await;
        let id = zoe["id"].as_i64().expect("id");
        let queued = api_json(
            send(
                &app,
                Method::POST,
                &format!("/api/v1/users/{id}/emails"),
                &token,
                json!({"kind": "welcome"}),
            )
            .await,
            StatusCode::ACCEPTED,
        )
        .await;
        assert!(queued["link_expires_at"].is_string(), "{queued}");
        assert_eq!(app.emails_to(ZOE_EMAIL).await.len(), 1);
        let to_api_user = send(
            &app,
            Method::POST,
            &format!("/api/v1/users/{sync}/emails"),
            &token,
            json!({"kind": "set_password"}),
        )
        .await;
        api_problem(to_api_user, StatusCode::CONFLICT).await;
        let unknown_kind = send(
            &app,
            Method::POST,
            &format!("/api/v1/users/{id}/emails"),
            &token,
            json!({"kind": "birthday"}),
        )
        .await;
        let problem = api_problem(unknown_kind, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(problem_fields(&problem), vec!["kind"]);
    }
);

both_backends!(
    async fn accounts_are_deactivated_and_reactivated(app: TestApp) {
        let (sync, token) = administrator_token(&app).await;
        let (amara, browser) = app
            .add_and_activate(&person_form(
                "Amara",
                "Okafor",
                "amara.okafor@riverside.example",
                "AO",
            ))
            .await;
        let path = format!("/api/v1/users/{amara}/deactivate");
        let deactivated = api_json(
            call(&app, Method::POST, &path, &token).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(deactivated["state"], "deactivated");
        assert!(deactivated["deactivated_at"].is_string());
        assert!(app.whoami_as(&browser).await.is_none(), "her session ended");
        // Again: nothing changes, still 200.
        let again = app
            .api(Method::POST, &path, Some(&token))
            .send()
            .await
            .expect("request");
        assert_eq!(again.status(), StatusCode::OK);
        // A deactivated account's details cannot be changed.
        let patch = send(
            &app,
            Method::PATCH,
            &format!("/api/v1/users/{amara}"),
            &token,
            json!({"first_name": "X"}),
        )
        .await;
        api_problem(patch, StatusCode::CONFLICT).await;
        let reactivated = api_json(
            app.api(
                Method::POST,
                &format!("/api/v1/users/{amara}/reactivate"),
                Some(&token),
            )
            .send()
            .await
            .expect("request"),
            StatusCode::OK,
        )
        .await;
        assert_eq!(reactivated["state"], "active");
        assert_eq!(reactivated["deactivated_at"], Value::Null);
        let actions = app.audit_actions_for(amara).await;
        assert_eq!(
            actions
                .iter()
                .filter(|a| *a == "account.deactivated")
                .count(),
            1,
            "{actions:?}"
        );
        assert!(actions.contains(&"account.reactivated".to_owned()));
        // An API user cannot deactivate itself.
        let itself = app
            .api(
                Method::POST,
                &format!("/api/v1/users/{sync}/deactivate"),
                Some(&token),
            )
            .send()
            .await
            .expect("request");
        api_problem(itself, StatusCode::CONFLICT).await;
        assert_eq!(app.account_row(sync).await.0, "active");
    }
);
