//! Users through the API: created, listed, searched and paged, details
//! changed while pending, emails sent, deactivated and reactivated.

use super::*;

both_backends!(
    async fn creating_a_user_generates_the_username_suggests_initials_and_sends_the_welcome_email(
        app: TestApp,
    ) {
        let (_, token) = administrator_token(&app).await;
        let rest = app.rest(&token);
        // Sent by hand, to read the Location header.
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
        let zoe: User = typed_answer(response, StatusCode::CREATED).await.unwrap();
        assert_eq!(location, format!("/api/v1/users/{}", zoe.id));
        assert_eq!(zoe.username, "zoe.angstrom");
        assert_eq!(zoe.initials, "ZÅ", "as the Add a user form suggests them");
        assert_eq!(zoe.kind, AccountKindName::Person);
        assert_eq!(zoe.state, AccountStateName::Pending);
        assert!(zoe.details_editable);
        assert!(zoe.roles.is_empty(), "{zoe:?}");
        let emails = app.emails_to(ZOE_EMAIL).await;
        assert_eq!(emails.len(), 1, "one welcome email");
        assert!(
            first_link(&emails[0].text).is_some(),
            "a link in {}",
            emails[0].text
        );
        // The Location answers with the same account.
        let fetched = api_json(get(&app, &location, &token).await, StatusCode::OK).await;
        assert_eq!(fetched, serde_json::to_value(&zoe).unwrap());

        // An explicit username and initials, an API user, no email.
        let robot = rest
            .create_user(&json!({
                "first_name": "Timetable",
                "last_name": "Robot",
                "email": "timetable@riverside.example",
                "username": "timetable.bot",
                "initials": "TB",
                "kind": "api",
                "send_welcome_email": false
            }))
            .await
            .unwrap();
        assert_eq!(robot.username, "timetable.bot");
        assert_eq!(robot.initials, "TB");
        assert_eq!(robot.kind, AccountKindName::Api);
        assert_eq!(robot.state, AccountStateName::Pending);
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
        let rest = app.rest(&token);
        for (first, last, email) in [
            ("Zoë", "Ångström", ZOE_EMAIL),
            ("Amara", "Okafor", "amara.okafor@riverside.example"),
            ("Ben", "Carter", "ben.carter@riverside.example"),
            ("Chloé", "Dubois", "chloe.dubois@riverside.example"),
            ("Dev", "Patel", "dev.patel@riverside.example"),
        ] {
            rest.create_user(&json!({"first_name": first, "last_name": last, "email": email}))
                .await
                .unwrap();
        }
        // Seven accounts (Siân, HR Sync and five people), two a page.
        let mut seen = Vec::new();
        let mut query = "limit=2".to_owned();
        let mut pages = 0;
        loop {
            let page = rest.list_users(&query).await.unwrap();
            pages += 1;
            assert_eq!((page.total.count, page.total.exact), (7, true));
            assert!(page.items.len() <= 2);
            seen.extend(page.items.iter().map(|u| u.last_name.clone()));
            match page.next_cursor {
                Some(cursor) => query = format!("limit=2&cursor={cursor}"),
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
        let first = rest
            .list_users("sort=username&dir=desc&limit=3")
            .await
            .unwrap();
        let usernames: Vec<&str> = first.items.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(usernames, vec!["zoe.angstrom", "sian.obrien", "hr.sync"]);
        let cursor = first.next_cursor.expect("a next page");
        // That cursor is for that order only.
        let wrong = rest.list_users(&format!("cursor={cursor}")).await;
        let problem = problem_of(wrong, StatusCode::BAD_REQUEST);
        assert_eq!(problem_fields(&problem), vec!["cursor"]);

        // Search, accents and case ignored; filters.
        let found = rest.list_users("q=ZOE").await.unwrap();
        assert_eq!(found.total.count, 1);
        assert_eq!(found.items[0].email, ZOE_EMAIL);
        let api_users = rest.list_users("kind=api").await.unwrap();
        assert_eq!(api_users.total.count, 1);
        assert_eq!(api_users.items[0].kind, AccountKindName::Api);
        let active = rest
            .list_users("state=active&sort=first_name")
            .await
            .unwrap();
        let active_names: Vec<&str> = active.items.iter().map(|u| u.first_name.as_str()).collect();
        assert_eq!(active_names, vec!["HR", "Siân"]);
        let nobody = rest.list_users("state=deactivated").await.unwrap();
        assert!(nobody.items.is_empty(), "{nobody:?}");
        assert_eq!(nobody.next_cursor, None);
    }
);

both_backends!(
    async fn a_pending_account_is_changed_and_an_activated_one_answers_409(app: TestApp) {
        let (_, token) = administrator_token(&app).await;
        let rest = app.rest(&token);
        let zoe = rest
            .create_user(&json!({"first_name": "Zoe", "last_name": "Angstrom", "email": ZOE_EMAIL}))
            .await
            .unwrap();
        let changed = rest
            .update_user(
                zoe.id,
                &json!({"first_name": "Zoë", "last_name": "Ångström"}),
            )
            .await
            .unwrap();
        assert_eq!(changed.first_name, "Zoë");
        assert_eq!(changed.last_name, "Ångström");
        assert_eq!(changed.email, ZOE_EMAIL, "left out, left as it was");
        assert_eq!(changed.username, zoe.username);
        // An invalid change is a field error and changes nothing.
        let invalid = rest.update_user(zoe.id, &json!({"email": "nope"})).await;
        let problem = problem_of(invalid, StatusCode::UNPROCESSABLE_ENTITY);
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
        let activated = rest.get_user(amara).await.unwrap();
        assert_eq!(activated.state, AccountStateName::Active);
        assert!(!activated.details_editable);
        let refused = rest
            .update_user(amara, &json!({"first_name": "Changed"}))
            .await;
        let problem = problem_of(refused, StatusCode::CONFLICT);
        assert_eq!(problem.problem_type, "/api/docs#problem-conflict");
        let after = rest.get_user(amara).await.unwrap();
        assert_eq!(after.first_name, "Amara");
    }
);

both_backends!(
    async fn emails_are_sent_to_people_only(app: TestApp) {
        let (sync, token) = administrator_token(&app).await;
        let rest = app.rest(&token);
        let zoe = rest
            .create_user(&json!({"first_name": "Zoë", "last_name": "Ångström", "email": ZOE_EMAIL}))
            .await
            .unwrap();
        let queued = rest.send_email(zoe.id, "welcome").await.unwrap();
        assert!(!queued.link_expires_at.is_empty(), "{queued:?}");
        assert_eq!(app.emails_to(ZOE_EMAIL).await.len(), 1);
        let to_api_user = rest.send_email(sync, "set_password").await;
        problem_of(to_api_user, StatusCode::CONFLICT);
        let unknown_kind = rest.send_email(zoe.id, "birthday").await;
        let problem = problem_of(unknown_kind, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem_fields(&problem), vec!["kind"]);
    }
);

both_backends!(
    async fn accounts_are_deactivated_and_reactivated(app: TestApp) {
        let (sync, token) = administrator_token(&app).await;
        let rest = app.rest(&token);
        let (amara, browser) = app
            .add_and_activate(&person_form(
                "Amara",
                "Okafor",
                "amara.okafor@riverside.example",
                "AO",
            ))
            .await;
        let deactivated = rest.deactivate(amara).await.unwrap();
        assert_eq!(deactivated.state, AccountStateName::Deactivated);
        assert!(deactivated.deactivated_at.is_some(), "{deactivated:?}");
        assert!(app.whoami_as(&browser).await.is_none(), "her session ended");
        // Again: nothing changes, still 200.
        rest.deactivate(amara).await.expect("still 200");
        // A deactivated account's details cannot be changed.
        let patch = rest.update_user(amara, &json!({"first_name": "X"})).await;
        problem_of(patch, StatusCode::CONFLICT);
        let reactivated = rest.reactivate(amara).await.unwrap();
        assert_eq!(reactivated.state, AccountStateName::Active);
        assert_eq!(reactivated.deactivated_at, None);
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
        let itself = rest.deactivate(sync).await;
        problem_of(itself, StatusCode::CONFLICT);
        assert_eq!(app.account_row(sync).await.0, "active");
    }
);
