//! Which applications a person is signed in to, on their user page and on
//! My profile, and signing them out of one or all: their application
//! sessions end (tokens with them) and each application is told.

use super::grants::{Ending, end_application_sessions};
use crate::acting::Acting;
use crate::audit::{Action, Subject};
use crate::auth::sessions::{ClientInfo, SignedIn};
use crate::clock::format_utc;
use crate::state::AppState;
use domain::AppError;
use domain::wire::ApplicationSignIn;

/// The person's live application sessions (their Gatehouse session live
/// too), newest first.
async fn live(state: &AppState, user_id: i64) -> Result<Vec<ApplicationSignIn>, AppError> {
    let now = state.now();
    let rows: Vec<(i64, String, i64, i64)> = sqlx::query_as(
        "SELECT a.id, ap.name, a.created_at, a.last_used_at
         FROM application_sessions a
         JOIN applications ap ON ap.id = a.application_id
         JOIN sessions s ON s.id = a.session_id
         WHERE a.user_id = $1 AND a.ended_at IS NULL
           AND s.ended_at IS NULL AND s.expires_at > $2 AND s.last_seen_at > $3
         ORDER BY a.created_at DESC, a.id DESC",
    )
    .bind(user_id)
    .bind(now)
    .bind(now - state.settings.session_idle_timeout_seconds)
    .fetch_all(&state.db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, application, since, last_used)| ApplicationSignIn {
            id,
            application,
            since: format_utc(since),
            last_used: format_utc(last_used),
        })
        .collect())
}

/// My profile's list.
pub async fn mine(state: &AppState, me: &SignedIn) -> Result<Vec<ApplicationSignIn>, AppError> {
    live(state, me.user_id).await
}

/// A user page's list (holders of `users.view`, in their organisation).
pub async fn of_user(
    state: &AppState,
    admin: &SignedIn,
    user_id: i64,
) -> Result<Vec<ApplicationSignIn>, AppError> {
    let account = crate::accounts::administration::account(state, admin, user_id).await?;
    live(state, account.id).await
}

/// Signs the person out of one application session of theirs (`Some`), or
/// of every application (`None`).
async fn sign_out(
    state: &AppState,
    acting: Acting<'_>,
    user_id: i64,
    which: Option<i64>,
    by: &str,
) -> Result<(), AppError> {
    let mut write = acting.begin(&state.db).await?;
    let ending = match which {
        Some(id) => {
            let owned: Option<(i64,)> = sqlx::query_as(
                "SELECT id FROM application_sessions WHERE id = $1 AND user_id = $2",
            )
            .bind(id)
            .bind(user_id)
            .fetch_optional(&mut *write)
            .await?;
            if owned.is_none() {
                return Err(AppError::NotFound("The application sign-in".into()));
            }
            Ending::One(id)
        }
        None => Ending::User(user_id),
    };
    let ended = end_application_sessions(&mut write, ending, by).await?;
    if ended > 0 {
        write
            .audit(
                Action::ApplicationSignedOut,
                Subject::Account(user_id),
                format!("sessions={ended} by={by}"),
            )
            .await?;
    }
    write.commit().await?;
    Ok(())
}

/// Moves the live application sessions of Gatehouse session `from` to
/// `to`, which replaces it for the same person (a new sign-in, the code
/// step, enrolment), in the caller's transaction.
pub async fn carry_over(
    conn: &mut sqlx::AnyConnection,
    from: i64,
    to: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE application_sessions SET session_id = $1 WHERE session_id = $2 AND ended_at IS NULL",
    )
    .bind(to)
    .bind(from)
    .execute(conn)
    .await?;
    Ok(())
}

/// From My profile.
pub async fn sign_out_mine(
    state: &AppState,
    me: &SignedIn,
    which: Option<i64>,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let acting = Acting::by(me, state.now(), &client.address);
    sign_out(state, acting, me.user_id, which, "owner").await
}

/// From a user page, by a holder of `users.manage` who may act on the account.
pub async fn sign_out_user(
    state: &AppState,
    admin: &SignedIn,
    user_id: i64,
    which: Option<i64>,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let account = crate::accounts::administration::account_to_change(state, admin, user_id).await?;
    let acting = Acting::by(admin, state.now(), &client.address);
    sign_out(state, acting, account.id, which, "administrator").await
}
