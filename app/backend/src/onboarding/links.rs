//! One-time links (setup, welcome, set-password, email change). The token
//! is 256 random bits shown once; only its hash is stored. A link works once,
//! is consumed only by a POST (mail scanners open links), and a newer link of
//! a kind replaces the older ones for the same account or organisation.

use crate::clock::UnixTime;
use crate::crypto::tokens;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    PlatformSetup,
    OrganisationSetup,
    Welcome,
    SetPassword,
    EmailChange,
    /// Sent to the old address on an email change: keeps it.
    EmailChangeUndo,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::PlatformSetup => "platform_setup",
            LinkPurpose::OrganisationSetup => "organisation_setup",
            LinkPurpose::Welcome => "welcome",
            LinkPurpose::SetPassword => "set_password",
            LinkPurpose::EmailChange => "email_change",
            LinkPurpose::EmailChangeUndo => "email_change_undo",
        }
    }

    fn from_str(text: &str) -> Option<LinkPurpose> {
        [
            LinkPurpose::PlatformSetup,
            LinkPurpose::OrganisationSetup,
            LinkPurpose::Welcome,
            LinkPurpose::SetPassword,
            LinkPurpose::EmailChange,
            LinkPurpose::EmailChangeUndo,
        ]
        .into_iter()
        .find(|p| p.as_str() == text)
    }
}

/// A link to issue.
#[derive(Debug, Clone)]
pub struct NewLink {
    pub purpose: LinkPurpose,
    pub organisation_id: Option<i64>,
    pub user_id: Option<i64>,
    pub new_email: Option<String>,
    pub lifetime_seconds: i64,
    /// The administrator who sent it; `None` when the person asked for it.
    pub issued_by: Option<i64>,
}

/// Issues a link inside the caller's transaction, revoking older unused
/// links of the same purpose for the same account (or organisation), undo
/// links apart.
/// Returns the token, to put in the URL.
pub async fn issue(
    conn: &mut sqlx::AnyConnection,
    now: UnixTime,
    link: &NewLink,
) -> Result<String, sqlx::Error> {
    // Each undo link stands alone: a later email change must not revoke
    // the one the first change sent to the address it took away.
    if link.purpose != LinkPurpose::EmailChangeUndo {
        sqlx::query(
            "UPDATE one_time_links SET revoked_at = $1
             WHERE purpose = $2 AND used_at IS NULL AND revoked_at IS NULL
               AND user_id IS NOT DISTINCT FROM $3 AND organisation_id IS NOT DISTINCT FROM $4",
        )
        .bind(now)
        .bind(link.purpose.as_str())
        .bind(link.user_id)
        .bind(link.organisation_id)
        .execute(&mut *conn)
        .await?;
    }
    let token = tokens::generate();
    sqlx::query(
        "INSERT INTO one_time_links (purpose, token_hash, organisation_id, user_id, new_email, created_at, expires_at, issued_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(link.purpose.as_str())
    .bind(tokens::hash(&token))
    .bind(link.organisation_id)
    .bind(link.user_id)
    .bind(link.new_email.as_deref())
    .bind(now)
    .bind(now + link.lifetime_seconds)
    .bind(link.issued_by)
    .execute(&mut *conn)
    .await?;
    Ok(token)
}

/// A link that can still be used.
#[derive(Debug, Clone)]
pub struct LiveLink {
    pub id: i64,
    pub purpose: LinkPurpose,
    pub organisation_id: Option<i64>,
    pub user_id: Option<i64>,
    pub new_email: Option<String>,
    pub expires_at: UnixTime,
    pub issued_by: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    id: i64,
    purpose: String,
    organisation_id: Option<i64>,
    user_id: Option<i64>,
    new_email: Option<String>,
    expires_at: i64,
    issued_by: Option<i64>,
}

/// The live link for `token` among `purposes`, if any. Opening a link calls
/// this and changes nothing.
pub async fn find_live(
    pool: &sqlx::AnyPool,
    now: UnixTime,
    token: &str,
    purposes: &[LinkPurpose],
) -> Result<Option<LiveLink>, sqlx::Error> {
    let row: Option<LinkRow> = sqlx::query_as(
        "SELECT id, purpose, organisation_id, user_id, new_email, expires_at, issued_by FROM one_time_links
         WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(tokens::hash(token))
    .bind(now)
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|row| {
        let purpose = LinkPurpose::from_str(&row.purpose).filter(|p| purposes.contains(p))?;
        Some(LiveLink {
            id: row.id,
            purpose,
            organisation_id: row.organisation_id,
            user_id: row.user_id,
            new_email: row.new_email,
            expires_at: row.expires_at,
            issued_by: row.issued_by,
        })
    }))
}

/// Uses the link up, if nobody did first (two tabs, a replay): the caller
/// goes on only when this returns true, inside its transaction.
pub async fn consume(
    conn: &mut sqlx::AnyConnection,
    now: UnixTime,
    link_id: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE one_time_links SET used_at = $1
         WHERE id = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(link_id)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Revokes the unused links of `purposes` of an account (the other password
/// links, once one of them has been used).
pub async fn revoke_for_user(
    conn: &mut sqlx::AnyConnection,
    now: UnixTime,
    user_id: i64,
    purposes: &[LinkPurpose],
) -> Result<(), sqlx::Error> {
    for purpose in purposes {
        sqlx::query(
            "UPDATE one_time_links SET revoked_at = $1
             WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(user_id)
        .bind(purpose.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Revokes every unused link of an account (deactivation).
pub async fn revoke_all_for_user(
    conn: &mut sqlx::AnyConnection,
    now: UnixTime,
    user_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE one_time_links SET revoked_at = $1 WHERE user_id = $2 AND used_at IS NULL AND revoked_at IS NULL")
        .bind(now)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}
