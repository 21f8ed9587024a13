//! Pages and forms as a browser uses them: ticked checkboxes posted without
//! JavaScript, and the roles and profiles pages.

use super::*;

/// Posts `body` to a server function exactly as a browser without
/// JavaScript submits a form on `page`.
async fn browser_post(app: &TestApp, function: &str, page: &str, body: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/fn/{function}", app.address))
        .header("origin", &app.address)
        .header("referer", format!("{}{page}", app.address))
        .header("sec-fetch-site", "same-origin")
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )
        .body(body.to_owned())
        .send()
        .await
        .expect("request")
}

both_backends!(
    async fn the_forms_post_their_ticked_checkboxes_as_a_browser_sends_them(app: TestApp) {
        let (riverside, zoe, _) = riverside_with_zoe(&app).await;
        let office = role_id(&app, riverside, "Office staff").await;
        let teaching = profile_id(&app, riverside, "Teaching staff").await;
        let page = format!("/roles/{office}");

        let html = app.get(&page).await.text().await.expect("page");
        assert!(html.contains(r#"name="permissions[]""#), "{html}");
        assert!(html.contains(r#"value="users.view" checked"#), "{html}");
        for group in ["Accounts", "Administration", "Pupil data", "Reports"] {
            let legend = format!("<legend>{group}</legend>");
            assert_eq!(html.matches(&legend).count(), 1, "{legend} once: {html}");
        }
        assert!(
            html.contains("Requires two-factor authentication"),
            "{html}"
        );

        // Two boxes ticked, bracketed names percent-encoded as browsers do.
        let body = format!(
            "id={office}&name=Office+staff&description=Front+desk&permissions%5B%5D=users.view&permissions%5B%5D=pupils.view"
        );
        let response = browser_post(&app, "save_role", &page, &body).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(
            location(&response).unwrap_or_default(),
            format!("/roles/{office}?saved=changes")
        );
        assert_eq!(
            stored_role(&app, office).await.2,
            ["pupils.view", "users.view"]
        );
        // One box ticked.
        let body =
            format!("id={office}&name=Office+staff&description=&permissions%5B%5D=reports.view");
        browser_post(&app, "save_role", &page, &body).await;
        assert_eq!(stored_role(&app, office).await.2, ["reports.view"]);
        // None ticked: no permissions field at all.
        let body = format!("id={office}&name=Office+staff&description=");
        assert_eq!(
            browser_post(&app, "save_role", &page, &body).await.status(),
            StatusCode::FOUND
        );
        assert!(stored_role(&app, office).await.2.is_empty());

        // A field error comes back to the page, which shows it beside the field.
        let body = format!("id={office}&name=teacher&description=");
        let response = browser_post(&app, "save_role", &page, &body).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let back = location(&response)
            .unwrap_or_default()
            .replacen(&app.address, "", 1);
        assert!(back.starts_with(&page) && back.contains("__err"), "{back}");
        let html = app.get(&back).await.text().await.expect("page");
        assert!(
            html.contains("There is already a role called “teacher”"),
            "{html}"
        );
        assert!(
            html.contains(r##"href="#name""##),
            "the summary links to the field"
        );

        // The user page: roles and profiles as checkboxes.
        let user_page = format!("/users/{zoe}");
        let body = format!("id={zoe}&roles%5B%5D={office}&profiles%5B%5D={teaching}");
        let response = browser_post(&app, "save_user_access", &user_page, &body).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(
            location(&response).unwrap_or_default(),
            format!("/users/{zoe}?saved=access")
        );
        assert_eq!(held(&app, zoe).await, (vec![office], vec![teaching]));
        let html = app
            .get(&format!("{user_page}?saved=access"))
            .await
            .text()
            .await
            .expect("page");
        assert!(html.contains("Roles and profiles"), "{html}");
        assert!(
            html.contains(&format!(r#"name="profiles[]" value="{teaching}" checked"#)),
            "{html}"
        );
        assert!(
            html.contains("Profile Teaching staff (role Teacher)"),
            "{html}"
        );
        assert!(
            html.contains("holds permissions that require two-factor authentication"),
            "pupil data needs two-factor authentication: {html}"
        );
        let body = format!("id={zoe}");
        browser_post(&app, "save_user_access", &user_page, &body).await;
        assert_eq!(held(&app, zoe).await, (vec![], vec![]));
    }
);

both_backends!(
    async fn the_roles_and_profiles_pages_list_members_and_the_nav_links_them(app: TestApp) {
        let (riverside, zoe, browser) = riverside_with_zoe(&app).await;
        let office = role_id(&app, riverside, "Office staff").await;
        ok(save_access(&app, &app.client, zoe, &[office], &[]).await).await;

        let home = app.get("/").await.text().await.expect("page");
        assert!(home.contains(r#"href="/roles""#) && home.contains(r#"href="/profiles""#));
        let roles = app.get("/roles").await.text().await.expect("page");
        assert!(
            roles.contains(&format!(r#"href="/roles/{office}""#)),
            "{roles}"
        );
        assert!(roles.contains("Add a role"), "{roles}");
        let role = app
            .get(&format!("/roles/{office}"))
            .await
            .text()
            .await
            .expect("page");
        assert!(role.contains(&format!(r#"href="/users/{zoe}""#)), "{role}");
        assert!(role.contains("Given directly"), "{role}");
        let profiles = app.get("/profiles").await.text().await.expect("page");
        assert!(profiles.contains("Office administrator") && profiles.contains("Add a profile"));
        let teaching = profile_id(&app, riverside, "Teaching staff").await;
        let profile = app
            .get(&format!("/profiles/{teaching}"))
            .await
            .text()
            .await
            .expect("page");
        assert!(profile.contains(r#"name="roles[]""#), "{profile}");
        assert!(profile.contains("<legend>Roles</legend>"), "{profile}");

        // Zoë (Office staff) sees no Roles link.
        let home = browser
            .get(format!("{}/", app.address))
            .header("accept", "text/html")
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("page");
        assert!(!home.contains(r#"href="/roles""#), "{home}");
    }
);
