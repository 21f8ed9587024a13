//! Signing out: an application revoking its tokens or sending the person
//! to the end-session endpoint, the person on My profile, an administrator
//! on the user page.

use super::*;
use crate::both_backends;
use openidconnect::{OAuth2TokenResponse, TokenResponse};

/// The sign-ins a list server function answers with, by application name.
async fn sign_ins(
    app: &TestApp,
    client: &reqwest::Client,
    function: &str,
    args: &[(&str, &str)],
) -> Vec<(i64, String)> {
    let response = app.call_as(client, function, args).await;
    assert_eq!(response.status(), StatusCode::OK);
    let list: Value = response.json().await.expect("json");
    list.as_array()
        .expect("list")
        .iter()
        .map(|s| {
            (
                s["id"].as_i64().expect("id"),
                s["application"].as_str().expect("name").to_owned(),
            )
        })
        .collect()
}

both_backends!(
    async fn a_person_sees_and_ends_their_application_sign_ins_on_my_profile(app: TestApp) {
        app.set_up_first_administrator().await;
        let (zoe_id, zoe) = zoe(&app).await;
        let wiki = app.relying_party(&[]).await;
        let timetable = app.relying_party(&[("name", "Timetable")]).await;
        let (wiki_tokens, _) = wiki.sign_in(&zoe, &[]).await;
        let (timetable_tokens, _) = timetable.sign_in(&zoe, &[]).await;
        let mine = sign_ins(&app, &zoe, "my_application_sign_ins", &[]).await;
        let names: Vec<&str> = mine.iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(names, ["Timetable", "Staff wiki"], "newest first");

        // One: the wiki's tokens stop, the timetable's go on.
        let wiki_sign_in = mine[1].0.to_string();
        let ended = app
            .call_as(
                &zoe,
                "sign_out_of_my_applications",
                &[("sign_in", &wiki_sign_in)],
            )
            .await;
        assert_eq!(ended.status(), StatusCode::OK);
        let refused = wiki
            .refresh(wiki_tokens.refresh_token().expect("refresh").secret())
            .await
            .expect_err("signed out of the wiki");
        assert!(refused.contains("invalid_grant"), "{refused}");
        let (status, _) = timetable
            .userinfo(timetable_tokens.access_token().secret())
            .await;
        assert_eq!(status, StatusCode::OK);

        // All.
        let ended = app.call_as(&zoe, "sign_out_of_my_applications", &[]).await;
        assert_eq!(ended.status(), StatusCode::OK);
        let (status, _) = timetable
            .userinfo(timetable_tokens.access_token().secret())
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(
            sign_ins(&app, &zoe, "my_application_sign_ins", &[])
                .await
                .is_empty()
        );
        assert!(
            app.whoami_as(&zoe).await.is_some(),
            "still signed in to Gatehouse"
        );
        assert!(
            app.audit_actions_for(zoe_id)
                .await
                .contains(&"application.signed_out".to_owned())
        );

        // Someone else's sign-in is not hers to end.
        wiki.sign_in(&app.client, &[]).await;
        let siân_sign_in = sign_ins(&app, &app.client, "my_application_sign_ins", &[]).await[0].0;
        let refused = app
            .call_raw_as(
                &zoe,
                "sign_out_of_my_applications",
                &[("sign_in", &siân_sign_in.to_string())],
            )
            .await;
        assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    }
);

both_backends!(
    async fn an_administrator_sees_and_ends_a_persons_application_sign_ins(app: TestApp) {
        app.set_up_first_administrator().await;
        let (zoe_id, zoe) = zoe(&app).await;
        let wiki = app.relying_party(&[]).await;
        let (tokens, _) = wiki.sign_in(&zoe, &[]).await;
        let id = zoe_id.to_string();
        let listed = sign_ins(&app, &app.client, "application_sign_ins", &[("id", &id)]).await;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].1, "Staff wiki");
        let ended = app.call("sign_out_of_applications", &[("id", &id)]).await;
        assert_eq!(ended.status(), StatusCode::OK);
        let (status, _) = wiki.userinfo(tokens.access_token().secret()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(
            sign_ins(&app, &app.client, "application_sign_ins", &[("id", &id)])
                .await
                .is_empty()
        );
    }
);

both_backends!(
    async fn an_application_revokes_its_own_tokens_only(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, zoe) = zoe(&app).await;
        let wiki = app.relying_party(&[]).await;
        let other = app.relying_party(&[("name", "Timetable")]).await;
        let (tokens, _) = wiki.sign_in(&zoe, &[]).await;
        let revoke = |rp: &RelyingParty, token: &str| {
            let request = rp
                .http
                .post(format!("{}/oauth/revoke", app.address))
                .basic_auth(&rp.client_id, rp.secret.as_deref())
                .form(&[("token", token)]);
            async move { request.send().await.expect("revoke").status() }
        };
        // Another application's revocation changes nothing, and says nothing.
        assert_eq!(
            revoke(&other, tokens.access_token().secret()).await,
            StatusCode::OK
        );
        let (status, _) = wiki.userinfo(tokens.access_token().secret()).await;
        assert_eq!(status, StatusCode::OK);
        // The access token alone.
        assert_eq!(
            revoke(&wiki, tokens.access_token().secret()).await,
            StatusCode::OK
        );
        let (status, _) = wiki.userinfo(tokens.access_token().secret()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let renewed = wiki
            .refresh(tokens.refresh_token().expect("refresh").secret())
            .await
            .expect("the refresh token still works");
        // The refresh token: the whole application session.
        let refresh = renewed.refresh_token().expect("refresh").secret().clone();
        assert_eq!(revoke(&wiki, &refresh).await, StatusCode::OK);
        let refused = wiki.refresh(&refresh).await.expect_err("revoked");
        assert!(refused.contains("invalid_grant"), "{refused}");
        let (status, _) = wiki.userinfo(renewed.access_token().secret()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        // Unknown tokens are answered the same.
        assert_eq!(revoke(&wiki, "gar_nothing").await, StatusCode::OK);
    }
);

both_backends!(
    async fn the_end_session_endpoint_signs_out_only_with_the_persons_id_token(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, zoe) = zoe(&app).await;
        let wiki = app
            .relying_party(&[("post_logout_redirect_uris", "http://127.0.0.1:9/signed-out")])
            .await;
        let (tokens, _) = wiki.sign_in(&zoe, &[]).await;
        let id_token = tokens.id_token().expect("id token").to_string();
        let end = |query: String| {
            let request = zoe.get(format!("{}/oauth/end-session?{query}", app.address));
            async move {
                let response = request.send().await.expect("end session");
                assert_eq!(response.status(), StatusCode::FOUND);
                response.headers()["location"]
                    .to_str()
                    .expect("text")
                    .to_owned()
            }
        };
        // A bare link signs nobody out, and does not go to unregistered places.
        let location = end("post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F".into()).await;
        assert_eq!(location, "/");
        assert!(app.whoami_as(&zoe).await.is_some());
        // Siân's ID token does not sign Zoë out either.
        let (siân_tokens, _) = wiki.sign_in(&app.client, &[]).await;
        let siân_id_token = siân_tokens.id_token().expect("id token").to_string();
        end(format!("id_token_hint={siân_id_token}")).await;
        assert!(app.whoami_as(&zoe).await.is_some());
        // Her own does, and the browser goes where the wiki registered.
        let location = end(format!(
            "id_token_hint={id_token}&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fsigned-out&state=bye"
        ))
        .await;
        assert_eq!(location, "http://127.0.0.1:9/signed-out?state=bye");
        assert!(app.whoami_as(&zoe).await.is_none());
        let refused = wiki
            .refresh(tokens.refresh_token().expect("refresh").secret())
            .await
            .expect_err("signed out");
        assert!(refused.contains("invalid_grant"), "{refused}");
    }
);
