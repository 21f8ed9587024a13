//! schemathesis against the OpenAPI document: it generates requests for
//! every operation from `/api/v1/openapi.json` (valid ones and invalid ones)
//! and checks that the API never fails (no 5xx) and that every answer's
//! status, content type and body are the ones the document gives.
//!
//! The CLI comes from `GATEHOUSE_SCHEMATHESIS` (`scripts/test.sh` installs
//! the version pinned in `scripts/schemathesis-requirements.txt` and sets
//! it). Without it the test is skipped with a loud notice, except under CI,
//! where it fails.

use crate::both_backends;
use crate::helpers::*;
use std::path::PathBuf;

/// Test cases per operation and phase: enough to find what is wrong, small
/// enough for a minute or two per backend.
const MAX_EXAMPLES: &str = "100";

fn schemathesis() -> Option<PathBuf> {
    match std::env::var_os("GATEHOUSE_SCHEMATHESIS") {
        Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("GATEHOUSE_SCHEMATHESIS must name the schemathesis CLI under CI")
        }
        _ => {
            eprintln!(
                "\n!!! SKIPPED schemathesis: GATEHOUSE_SCHEMATHESIS is not set (scripts/test.sh installs it) !!!\n"
            );
            None
        }
    }
}

both_backends!(
    |settings| settings.api_requests_per_minute = 100_000,
    async fn the_api_answers_as_its_openapi_document_says(app: TestApp) {
        let Some(binary) = schemathesis() else {
            return;
        };
        // Riverside College with people in every state, roles and profiles.
        app.set_up_first_administrator().await;
        app.add_person(&with(
            &person_form("Zoë", "Ångström", "zoe@riverside.example", "ZA"),
            "send_welcome_email",
            "on",
        ))
        .await;
        app.add_and_activate(&person_form(
            "Amara",
            "Okafor",
            "amara.okafor@riverside.example",
            "AO",
        ))
        .await;
        let leaving = app
            .add_person(&person_form(
                "Ben",
                "Carter",
                "ben.carter@riverside.example",
                "BC",
            ))
            .await;
        app.deactivate(leaving).await;
        let (_, token) = app
            .api_user_with_token(
                "HR",
                "Sync",
                "hr.sync@riverside.example",
                "HS",
                &["Administrator"],
                "schemathesis",
            )
            .await;
        // Another organisation, so ids of things that are not ours exist too.
        app.second_organisation().await;

        let work_dir = tempfile::tempdir().expect("temp dir");
        let output = tokio::process::Command::new(&binary)
            .current_dir(work_dir.path())
            .env("NO_COLOR", "1")
            .args([
                "run",
                &format!("{}/api/v1/openapi.json", app.address),
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
                "--header",
                &format!("Authorization: Bearer {token}"),
                "--max-examples",
                MAX_EXAMPLES,
                "--phases",
                "examples,coverage,fuzzing,stateful",
                "--seed",
                "20261123",
                // One worker: with several threads, hypothesis parsing its
                // own lambdas on Python 3.11 now and then fails with "AST
                // constructor recursion depth mismatch", a runtime error of
                // the tool, not a finding about the API.
                "--workers",
                "1",
                "--generation-database",
                "none",
                "--request-timeout",
                "20",
                "--no-color",
            ])
            .kill_on_drop(true)
            .output()
            .await
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "schemathesis found problems ({}):\n{stdout}\n{stderr}",
            output.status
        );
        eprintln!("{stdout}");
        // It really got in: the token was accepted and wrote something (a
        // wrong header would have made every answer a documented 401).
        let (writes,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM audit_log a JOIN api_tokens t ON t.id = a.actor_token_id
             WHERE t.name = 'schemathesis'",
        )
        .fetch_one(&app.state.db.pool)
        .await
        .expect("audit log");
        assert!(
            writes > 0,
            "schemathesis made no change with its token:\n{stdout}"
        );
    }
);
