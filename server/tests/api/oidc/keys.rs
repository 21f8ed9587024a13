//! The keys that sign ID tokens: sealed at rest, rotated with the old key
//! published until its tokens have expired.

use super::*;
use crate::both_backends;

fn kid_of(claims_token: &str) -> String {
    let header = claims_token.split('.').next().expect("header");
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header)
        .expect("base64");
    let header: Value = serde_json::from_slice(&bytes).expect("json");
    header["kid"].as_str().expect("kid").to_owned()
}

async fn published_kids(app: &TestApp) -> Vec<String> {
    let jwks: Value = app
        .client
        .get(format!("{}/oauth/jwks", app.address))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect()
}

both_backends!(
    async fn a_rotated_key_stays_published_until_its_tokens_expire(app: TestApp) {
        use openidconnect::TokenResponse;
        app.set_up_first_administrator().await;
        let (_, zoe) = zoe(&app).await;
        let rp = app.relying_party(&[]).await;
        let (tokens, _) = rp.sign_in(&zoe, &[]).await;
        let old_kid = kid_of(&tokens.id_token().expect("id token").to_string());
        assert!(published_kids(&app).await.contains(&old_kid));

        let rotation =
            backend::oidc::keys::rotate(&app.state.db, &app.state.settings, app.state.now())
                .await
                .expect("rotated");
        assert!(rotation.retired_kids.contains(&old_kid));
        let published = published_kids(&app).await;
        assert_eq!(published.len(), 4, "two new keys and the two retired ones");
        assert!(published.contains(&old_kid));

        // New tokens are signed with the new key, and verify against the
        // keys the relying party discovers now.
        let rp = app
            .relying_party_for(rp.id, &rp.client_id, rp.secret.clone())
            .await;
        let (tokens, _) = rp.sign_in(&zoe, &[]).await;
        let new_kid = kid_of(&tokens.id_token().expect("id token").to_string());
        assert_ne!(new_kid, old_kid);
        assert!(rotation.new_kids.contains(&new_kid));

        app.clock.advance(backend::oidc::ID_TOKEN_SECONDS + 1);
        let published = published_kids(&app).await;
        assert!(
            !published.contains(&old_kid),
            "gone once its tokens have expired"
        );
        assert_eq!(published.len(), 2);
        assert!(
            app.audit_actions()
                .await
                .contains(&"signing_keys.rotated".to_owned())
        );
    }
);

both_backends!(
    async fn private_keys_are_sealed_at_rest(app: TestApp) {
        app.set_up_first_administrator().await;
        backend::oidc::keys::ensure(&app.state.db, &app.state.settings, app.state.now())
            .await
            .expect("keys");
        let rows: Vec<(String, Vec<u8>)> =
            sqlx::query_as("SELECT kid, private_key FROM signing_keys")
                .fetch_all(&app.state.db.pool)
                .await
                .expect("keys");
        assert_eq!(rows.len(), 2);
        for (kid, sealed) in rows {
            // Sealed with the server key and bound to the key id: opening it
            // as another key's fails, and no DER header shows in the clear.
            assert!(
                backend::crypto::sealing::open_signing_key(&app.state.settings, &kid, &sealed)
                    .is_ok()
            );
            assert!(
                backend::crypto::sealing::open_signing_key(&app.state.settings, "other", &sealed)
                    .is_err()
            );
            assert_ne!(sealed.get(..2), Some(&[0x30u8, 0x82][..]), "not plain DER");
        }
    }
);
