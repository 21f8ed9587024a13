//! One unit of work done on someone's behalf. `Acting` fixes once when it
//! happens, who does it and from which client; the write it begins is one
//! transaction whose audit entries all carry those three, and which counts
//! only once committed. Functions that change things take an `Acting` (or
//! the `Write` it began) instead of a clock reading, an actor and an
//! address each.

use crate::access::actor::Actor;
use crate::audit::{ActedBy, Action, Subject};
use crate::clock::UnixTime;
use crate::db::Db;
use std::ops::{Deref, DerefMut};

/// When, by whom and from where.
#[derive(Debug, Clone, Copy)]
pub struct Acting<'a> {
    pub now: UnixTime,
    pub by: ActedBy,
    /// The client's address, as the audit log shows it.
    pub client: &'a str,
}

impl<'a> Acting<'a> {
    pub fn new(now: UnixTime, by: ActedBy, client: &'a str) -> Self {
        Acting { now, by, client }
    }

    /// An actor (a signed-in person or an API user) acting now.
    pub fn by(actor: &Actor, now: UnixTime, client: &'a str) -> Self {
        Acting::new(now, ActedBy::from(actor), client)
    }

    /// Begins the write: a transaction that takes the write lock at once on
    /// SQLite (see `Db::begin_write`).
    pub async fn begin(self, db: &Db) -> Result<Write<'a>, sqlx::Error> {
        Ok(Write {
            tx: db.begin_write().await?,
            acting: self,
        })
    }

    /// Appends an audit entry outside any write (a refused attempt, which
    /// must be recorded even though nothing else is).
    pub async fn audit<'c, E>(
        &self,
        executor: E,
        action: Action,
        subject: Subject,
        detail: impl Into<String>,
    ) -> Result<(), sqlx::Error>
    where
        E: sqlx::Executor<'c, Database = sqlx::Any>,
    {
        record(executor, self, action, subject, detail.into()).await
    }
}

/// The open transaction of an `Acting`. It dereferences to its connection
/// for queries; dropped without `commit`, it changes nothing.
pub struct Write<'a> {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    pub acting: Acting<'a>,
}

impl Write<'_> {
    pub fn now(&self) -> UnixTime {
        self.acting.now
    }

    /// Appends an audit entry of this write.
    pub async fn audit(
        &mut self,
        action: Action,
        subject: Subject,
        detail: impl Into<String>,
    ) -> Result<(), sqlx::Error> {
        let acting = self.acting;
        record(&mut *self.tx, &acting, action, subject, detail.into()).await
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    /// Gives the write up now (rather than when dropped), releasing its
    /// lock before, say, a refusal is recorded outside it.
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl Deref for Write<'_> {
    type Target = sqlx::AnyConnection;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl DerefMut for Write<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// Appends one audit entry: `action` on `subject` by whoever is `acting`.
async fn record<'c, E>(
    executor: E,
    acting: &Acting<'_>,
    action: Action,
    subject: Subject,
    detail: String,
) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO audit_log (at, organisation_id, actor_user_id, target_user_id, action, detail, client_address, actor_token_id)
         VALUES ($1, COALESCE($2, (SELECT organisation_id FROM users WHERE id = $4)), $3, $4, $5, $6, $7, $8)",
    )
    .bind(acting.now)
    .bind(subject.organisation_id())
    .bind(acting.by.user_id)
    .bind(subject.user_id())
    .bind(action.as_str())
    .bind(detail)
    .bind(acting.client)
    .bind(acting.by.token_id)
    .execute(executor)
    .await?;
    Ok(())
}
