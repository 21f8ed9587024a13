//! Registering and changing applications: every bad field named at once,
//! names unique in the organisation, a type that does not change, and a
//! replaced secret that stops working at once.

use super::*;
use crate::both_backends;

both_backends!(
    async fn a_bad_registration_names_every_field_at_fault(app: TestApp) {
        app.set_up_first_administrator().await;
        let response = app
            .call(
                "register_application",
                &application_form(&[
                    ("name", "x"),
                    ("redirect_uris", "http://wiki.riverside.example/cb"),
                    ("backchannel_logout_uri", "wiki.riverside.example/logout"),
                    ("access_token_minutes", "0"),
                ]),
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = error_of(response).await;
        assert_eq!(
            fields_of(&body),
            [
                "name",
                "redirect_uris",
                "backchannel_logout_uri",
                "access_token_minutes"
            ]
        );
        let list: Value = app
            .call("applications", &[])
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(list, serde_json::json!([]), "nothing half-written");
    }
);

both_backends!(
    async fn names_are_unique_and_the_type_does_not_change(app: TestApp) {
        app.set_up_first_administrator().await;
        let (id, _, _) = app.register_application(&[]).await;
        let again = app
            .call(
                "register_application",
                &application_form(&[("name", "STAFF WIKI")]),
            )
            .await;
        assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let message = field_message(&error_of(again).await, "name").expect("name error");
        assert!(message.contains("already has an application"), "{message}");

        let id = id.to_string();
        let mut form = application_form(&[("client_kind", "public")]);
        form.push(("id", &id));
        let changed = app.call("save_application", &form).await;
        assert_eq!(changed.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(field_message(&error_of(changed).await, "client_kind").is_some());
    }
);

both_backends!(
    async fn a_replaced_secret_stops_working_at_once(app: TestApp) {
        app.set_up_first_administrator().await;
        let (_, zoe) = zoe(&app).await;
        let rp = app.relying_party(&[]).await;
        let replaced = app
            .call("new_application_secret", &[("id", &rp.id.to_string())])
            .await;
        assert_eq!(replaced.status(), StatusCode::OK);
        let detail: Value = app
            .call("application", &[("id", &rp.id.to_string())])
            .await
            .json()
            .await
            .expect("json");
        let new_secret = detail["new_secret"]
            .as_str()
            .expect("shown once")
            .to_owned();
        assert_ne!(Some(new_secret.as_str()), rp.secret.as_deref());
        let shown_again: Value = app
            .call("application", &[("id", &rp.id.to_string())])
            .await
            .json()
            .await
            .expect("json");
        assert!(shown_again["new_secret"].is_null(), "shown only once");

        let started = rp.start(&[]);
        let code = rp.code_for(&zoe, &started).await;
        let refused = rp
            .exchange(&code, started.verifier)
            .await
            .expect_err("old secret");
        assert!(refused.contains("invalid_client"), "{refused}");
        let renewed = app
            .relying_party_for(rp.id, &rp.client_id, Some(new_secret))
            .await;
        renewed.sign_in(&zoe, &[]).await;

        // A public application has no secret to replace.
        let public = app
            .relying_party(&[("name", "Phone app"), ("client_kind", "public")])
            .await;
        let refused = app
            .call("new_application_secret", &[("id", &public.id.to_string())])
            .await;
        assert_eq!(refused.status(), StatusCode::CONFLICT);
    }
);
