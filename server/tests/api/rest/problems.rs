//! Problems (RFC 9457): invalid fields (422), unreadable requests (400),
//! unknown or foreign ids (404) and missing permissions (403).

use super::*;

both_backends!(
    async fn a_new_users_invalid_or_taken_fields_are_named_in_a_422_problem(app: TestApp) {
        let (_, token) = administrator_token(&app).await;
        let rest = app.rest(&token);
        // The username made from the names is Siân's: free alternatives are offered.
        let taken = rest
            .create_user(&json!({"first_name": "Siân", "last_name": "O’Brien", "email": "another.sian@riverside.example"}))
            .await;
        let problem = problem_of(taken, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem_fields(&problem), vec!["username"]);
        let message = &problem.errors[0].message;
        assert!(
            message.contains("sian.obrien") && message.contains("Free alternatives"),
            "{message}"
        );
        // The same when the username is typed, in another case.
        let typed = rest
            .create_user(&json!({"first_name": "Sam", "last_name": "Lee", "email": "sam@riverside.example", "username": "SIAN.OBRIEN"}))
            .await;
        let problem = problem_of(typed, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem_fields(&problem), vec!["username"]);

        // Several invalid fields at once.
        let invalid = rest
            .create_user(&json!({"first_name": "", "last_name": "Lee", "email": "not an email", "username": "1abc"}))
            .await;
        let problem = problem_of(invalid, StatusCode::UNPROCESSABLE_ENTITY);
        let fields = problem_fields(&problem);
        for field in ["first_name", "email", "username"] {
            assert!(fields.contains(&field.to_owned()), "{field} in {problem:?}");
        }
        assert_eq!(problem.problem_type, "/api/docs#problem-validation");

        // A field of the wrong type, an unknown field, a missing field (sent
        // as they are, not as the typed client would send them).
        for (body, field) in [
            (
                json!({"first_name": 7, "last_name": "Lee", "email": "sam@riverside.example"}),
                "first_name",
            ),
            (
                json!({"first_name": "Sam", "last_name": "Lee", "email": "sam@riverside.example", "role": "x"}),
                "role",
            ),
            (json!({"first_name": "Sam", "last_name": "Lee"}), "email"),
            (
                json!({"first_name": "Sam", "last_name": "Lee", "email": "sam@riverside.example", "kind": "robot"}),
                "kind",
            ),
        ] {
            let response = send(&app, Method::POST, "/api/v1/users", &token, body.clone()).await;
            let problem = typed_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert_eq!(problem_fields(&problem), vec![field], "{body}: {problem:?}");
        }
        // The email of an account of the organisation.
        let same_email = rest
            .create_user(&json!({"first_name": "Sam", "last_name": "Lee", "email": "SIAN.OBRIEN@riverside.example"}))
            .await;
        let problem = problem_of(same_email, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem_fields(&problem), vec!["email"]);
        // Nothing was created.
        let list = rest.list_users("").await.unwrap();
        assert_eq!(list.total.count, 2, "Siân and HR Sync: {list:?}");
    }
);

both_backends!(
    async fn unreadable_queries_bodies_and_cursors_are_400_problems(app: TestApp) {
        let (_, token) = administrator_token(&app).await;
        // Sent as they are: the point is what an unreadable request gets.
        for (query, field) in [
            ("state=bogus", Some("state")),
            ("kind=robot", Some("kind")),
            ("sort=shoe_size", Some("sort")),
            ("dir=sideways", Some("dir")),
            ("limit=many", Some("limit")),
            ("limit=0", Some("limit")),
            ("limit=101", Some("limit")),
            ("cursor=not-hex", Some("cursor")),
            ("cursor=7b7d", Some("cursor")),
            ("colour=blue", None),
        ] {
            let response = get(&app, &format!("/api/v1/users?{query}"), &token).await;
            let problem = typed_problem(response, StatusCode::BAD_REQUEST).await;
            assert_eq!(problem.problem_type, "/api/docs#problem-bad-request");
            if let Some(field) = field {
                assert_eq!(
                    problem_fields(&problem),
                    vec![field],
                    "{query}: {problem:?}"
                );
            }
        }
        // A body that is not JSON at all, or cut short.
        for body in ["{", "first_name=Zoë", "{\"first_name\": \"Zoë\",}"] {
            let response = app
                .api(Method::POST, "/api/v1/users", Some(&token))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .expect("request");
            let problem = typed_problem(response, StatusCode::BAD_REQUEST).await;
            assert!(
                problem.detail.contains("not valid JSON"),
                "{body}: {problem:?}"
            );
        }
    }
);

both_backends!(
    async fn unknown_foreign_and_non_numeric_ids_and_unknown_endpoints_are_404_problems(
        app: TestApp,
    ) {
        let (_, token) = administrator_token(&app).await;
        let (_tomasz_browser, _) = app.second_organisation().await;
        let tomasz = app.user_id("tomasz.nowak").await;
        let (hillside_teacher,): (i64,) = sqlx::query_as(
            "SELECT r.id FROM roles r JOIN users u ON u.organisation_id = r.organisation_id
             WHERE u.id = $1 AND r.name = 'Teacher'",
        )
        .bind(tomasz)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("role");
        let sian = app.user_id("sian.obrien").await;
        for (method, path) in [
            (Method::GET, format!("/api/v1/users/{tomasz}")),
            (Method::GET, "/api/v1/users/999999".to_owned()),
            (Method::GET, "/api/v1/users/abc".to_owned()),
            (Method::GET, "/api/v1/users/1.5".to_owned()),
            (Method::POST, format!("/api/v1/users/{tomasz}/deactivate")),
            (Method::POST, format!("/api/v1/users/{tomasz}/reactivate")),
            (
                Method::PUT,
                format!("/api/v1/users/{sian}/roles/{hillside_teacher}"),
            ),
            (
                Method::PUT,
                format!("/api/v1/users/{tomasz}/roles/{hillside_teacher}"),
            ),
            (
                Method::DELETE,
                format!("/api/v1/users/{sian}/profiles/999999"),
            ),
            (Method::GET, "/api/v1/nothing-here".to_owned()),
            (Method::GET, "/api/v2/users".to_owned()),
        ] {
            let response = app
                .api(method.clone(), &path, Some(&token))
                .send()
                .await
                .expect("request");
            // The whole body, as sent: nothing in it may name Tomasz.
            let problem = api_problem(response, StatusCode::NOT_FOUND).await;
            assert!(
                !problem.to_string().contains("Tomasz"),
                "{method} {path}: {problem}"
            );
        }
        let patch = app
            .rest(&token)
            .update_user(tomasz, &json!({"first_name": "Changed"}))
            .await;
        problem_of(patch, StatusCode::NOT_FOUND);
        let (first_name,): (String,) = sqlx::query_as("SELECT first_name FROM users WHERE id = $1")
            .bind(tomasz)
            .fetch_one(&app.state.db.pool)
            .await
            .expect("Tomasz");
        assert_eq!(first_name, "Tomasz");
    }
);

both_backends!(
    async fn an_api_user_without_the_permission_gets_403_problems(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, token) = app
            .api_user_with_token(
                "Pupil",
                "Portal",
                "pupil.portal@riverside.example",
                "PP",
                &["Teacher"],
                "Portal",
            )
            .await;
        let sian = app.user_id("sian.obrien").await;
        // Who it is needs no permission.
        let me = app.rest(&token).whoami().await.unwrap();
        assert!(!me.permissions.iter().any(|p| p == "users.view"), "{me:?}");
        for (method, path, body) in [
            (Method::GET, "/api/v1/users".to_owned(), None),
            (Method::GET, format!("/api/v1/users/{sian}"), None),
            (Method::GET, "/api/v1/roles".to_owned(), None),
            (Method::GET, "/api/v1/profiles".to_owned(), None),
            (
                Method::POST,
                "/api/v1/users".to_owned(),
                Some(json!({"first_name": "Zoë", "last_name": "Ångström", "email": ZOE_EMAIL})),
            ),
            (
                Method::PATCH,
                format!("/api/v1/users/{sian}"),
                Some(json!({"first_name": "Changed"})),
            ),
            (
                Method::POST,
                format!("/api/v1/users/{sian}/deactivate"),
                None,
            ),
        ] {
            let mut request = app.api(method.clone(), &path, Some(&token));
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.expect("request");
            let problem = typed_problem(response, StatusCode::FORBIDDEN).await;
            assert_eq!(
                problem.problem_type, "/api/docs#problem-forbidden",
                "{method} {path}"
            );
        }
        assert_eq!(app.account_row(sian).await.0, "active");
        let (created,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM users WHERE email_normalized = $1")
                .bind(ZOE_EMAIL)
                .fetch_one(&app.state.db.pool)
                .await
                .expect("count");
        assert_eq!(created, 0, "nobody was created");
    }
);
