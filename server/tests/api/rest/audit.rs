//! The audit trail an API user leaves: every write, with its token.

use super::*;

/// `(action, actor_user_id, actor_token_id, target_user_id)` of an entry.
type AuditEntry = (String, Option<i64>, Option<i64>, Option<i64>);

both_backends!(
    async fn every_write_through_the_api_is_audited_with_its_token(app: TestApp) {
        let (sync, token) = administrator_token(&app).await;
        let rest = app.rest(&token);
        let token_id = token_id(&app, &token).await;
        let before: (i64,) = sqlx::query_as("SELECT COALESCE(MAX(id), 0) FROM audit_log")
            .fetch_one(&app.state.db.pool)
            .await
            .expect("audit");
        let zoe = rest
            .create_user(&json!({"first_name": "Zoe", "last_name": "Angstrom", "email": ZOE_EMAIL, "send_welcome_email": true}))
            .await
            .unwrap();
        let id = zoe.id;
        rest.update_user(id, &json!({"first_name": "Zoë"}))
            .await
            .unwrap();
        let teacher = role_id(&rest, "Teacher").await;
        let teaching = profile_id(&rest, "Teaching staff").await;
        rest.give_role(id, teacher).await.expect("role given");
        rest.take_role(id, teacher).await.expect("role taken away");
        rest.give_profile(id, teaching)
            .await
            .expect("profile given");
        rest.take_profile(id, teaching)
            .await
            .expect("profile taken away");
        rest.deactivate(id).await.expect("deactivated");
        rest.reactivate(id).await.expect("reactivated");
        rest.send_email(id, "welcome").await.expect("email queued");

        let entries: Vec<AuditEntry> = sqlx::query_as(
            "SELECT action, actor_user_id, actor_token_id, target_user_id FROM audit_log
             WHERE id > $1 ORDER BY id",
        )
        .bind(before.0)
        .fetch_all(&app.state.db.pool)
        .await
        .expect("audit");
        let actions: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
        for action in [
            "account.created",
            "email.queued",
            "account.details_changed",
            "access.granted",
            "access.removed",
            "account.deactivated",
            "account.reactivated",
        ] {
            assert!(actions.contains(&action), "{action} in {actions:?}");
        }
        assert!(
            actions.iter().filter(|a| **a == "email.queued").count() >= 2,
            "{actions:?}"
        );
        for (action, actor, token_used, target) in &entries {
            assert_eq!(*actor, Some(sync), "{action}");
            assert_eq!(
                *token_used,
                Some(token_id),
                "{action} was made with the token"
            );
            assert_eq!(*target, Some(id), "{action}");
        }
        // Reading changes nothing in the log.
        let count = entries.len();
        rest.get_user(id).await.unwrap();
        rest.list_users("").await.unwrap();
        let (after,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE id > $1")
            .bind(before.0)
            .fetch_one(&app.state.db.pool)
            .await
            .expect("audit");
        assert_eq!(after, i64::try_from(count).expect("count"));

        // The Audit log page says which token.
        let page = api_json(
            app.call("audit_log", &[("target", ZOE_EMAIL)]).await,
            StatusCode::OK,
        )
        .await;
        let rows = page["rows"].as_array().expect("rows");
        assert!(!rows.is_empty());
        for row in rows {
            let actor = row["actor"].as_str().expect("actor");
            assert!(
                actor.starts_with("HR Sync (") && actor.ends_with(" with token “HR import”"),
                "{actor}"
            );
        }
        // Siân's own actions carry no token.
        let (_, _) = app
            .add_and_activate(&person_form(
                "Amara",
                "Okafor",
                "amara.okafor@riverside.example",
                "AO",
            ))
            .await;
        let page = api_json(
            app.call("audit_log", &[("target", "amara.okafor@riverside.example")])
                .await,
            StatusCode::OK,
        )
        .await;
        let created = page["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["what"] == "Account created")
            .expect("created");
        assert_eq!(created["actor"], "Siân O’Brien (sian.obrien)");
    }
);
