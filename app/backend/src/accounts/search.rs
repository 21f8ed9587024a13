//! The Users page's list: search as you type, filters, sorting and keyset
//! pagination, always within one organisation.
//!
//! The text is compared as search keys (`domain::search_key`: lower case,
//! accents removed, so "sian" finds "Siân"), split into words; every word
//! must match (AND):
//! - a word of **1–2 characters** matches the *start* of the first name, last
//!   name, username or email ("si" finds Siân and simon@…, not Louisa): B-tree
//!   ranges on the organisation's sort indexes;
//! - a word of **3 or more** matches *anywhere* in them ("obri" in O’Brien,
//!   "river" in the email's domain): a trigram index (PostgreSQL `pg_trgm`
//!   GIN; SQLite FTS5 `trigram`), also scoped by organisation.
//!
//! Neither path scans the table (migrations `0002_user_search.sql`, whose
//! plans `server/tests/api/search.rs` checks). On PostgreSQL, a search made
//! only of 1–2 character words reads its matches from the four prefix indexes
//! alone and the table only for the rows of the page (`prefix_matches`,
//! migration `0004_search_prefix.sql`). Results come a page at a time after a
//! [`Cursor`] (the last row's sort values and id), with a count capped at
//! [`COUNT_CAP`].

use crate::accounts::users::{AccountKind, AccountState};
use crate::clock::UnixTime;
use crate::db::{Backend, Db};
use domain::search_key;

/// The most rows one page may hold.
pub const MAX_LIMIT: u32 = 100;
/// Counting stops here: more matches are reported as `Count::AtLeast(COUNT_CAP)`.
pub const COUNT_CAP: i64 = 1000;
/// Longer search text is cut to this many characters, and to [`MAX_WORDS`] words.
pub const MAX_TEXT_CHARS: usize = 100;
pub const MAX_WORDS: usize = 8;

/// (The REST API reads these from its query as their `as_str` names.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StateFilter {
    /// Pending with a welcome link that can still be used.
    Pending,
    /// Pending, and no open welcome link is left (none sent, or all expired).
    ActivationExpired,
    Active,
    Deactivated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KindFilter {
    Person,
    Api,
}

/// The list's order; ties are broken by the next name, then by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    /// Last name, then first name.
    #[default]
    LastName,
    /// First name, then last name.
    FirstName,
    Username,
    Email,
    /// State (active, deactivated, pending), then last and first name.
    State,
    /// Creation time.
    Created,
}

impl StateFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            StateFilter::Pending => "pending",
            StateFilter::ActivationExpired => "activation_expired",
            StateFilter::Active => "active",
            StateFilter::Deactivated => "deactivated",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [
            StateFilter::Pending,
            StateFilter::ActivationExpired,
            StateFilter::Active,
            StateFilter::Deactivated,
        ]
        .into_iter()
        .find(|s| s.as_str() == value)
    }
}

impl KindFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            KindFilter::Person => "person",
            KindFilter::Api => "api",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [KindFilter::Person, KindFilter::Api]
            .into_iter()
            .find(|k| k.as_str() == value)
    }
}

impl SortKey {
    pub const ALL: [SortKey; 6] = [
        SortKey::LastName,
        SortKey::FirstName,
        SortKey::Username,
        SortKey::Email,
        SortKey::State,
        SortKey::Created,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::LastName => "last_name",
            SortKey::FirstName => "first_name",
            SortKey::Username => "username",
            SortKey::Email => "email",
            SortKey::State => "state",
            SortKey::Created => "created",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        SortKey::ALL.into_iter().find(|k| k.as_str() == value)
    }

    /// The columns the list is ordered by, before the final `id`. Each list
    /// has an index `(organisation_id, these…, id)` (migration 0002).
    fn columns(self) -> &'static [&'static str] {
        match self {
            SortKey::LastName => &["last_name_key", "first_name_key"],
            SortKey::FirstName => &["first_name_key", "last_name_key"],
            SortKey::Username => &["username_key"],
            SortKey::Email => &["email_key"],
            SortKey::State => &["state", "last_name_key", "first_name_key"],
            SortKey::Created => &["created_at"],
        }
    }
}

/// One page of the list, as the Users page asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserQuery {
    pub organisation_id: i64,
    /// What was typed; empty lists everyone.
    pub text: String,
    pub state: Option<StateFilter>,
    pub kind: Option<KindFilter>,
    pub sort: SortKey,
    pub descending: bool,
    /// The page after this one (`UserPage::next` of the previous page).
    pub after: Option<Cursor>,
    /// Rows per page, 1 to [`MAX_LIMIT`] (outside values are clamped).
    pub limit: u32,
    /// For "activation expired".
    pub now: UnixTime,
}

/// Where a page ends: the sort values and id of its last row, for the order
/// it was made for. Opaque and URL-safe; a cursor that does not decode, or
/// was made for another order, is no cursor (the list starts again), and an
/// edited one can only move the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    sort: SortKey,
    descending: bool,
    values: Vec<SortValue>,
    id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum SortValue {
    Text(String),
    Int(i64),
}

impl Cursor {
    /// Hex of a small JSON array: `["last_name",false,"obrien","sian",42]`.
    pub fn encode(&self) -> String {
        let mut items = vec![
            serde_json::Value::from(self.sort.as_str()),
            serde_json::Value::from(self.descending),
        ];
        items.extend(self.values.iter().map(|value| match value {
            SortValue::Text(text) => serde_json::Value::from(text.as_str()),
            SortValue::Int(number) => serde_json::Value::from(*number),
        }));
        items.push(serde_json::Value::from(self.id));
        hex::encode(serde_json::Value::Array(items).to_string())
    }

    /// Whether this cursor was made for the list in this order.
    pub fn is_for(&self, sort: SortKey, descending: bool) -> bool {
        self.sort == sort && self.descending == descending
    }

    /// `None` for anything that [`Cursor::encode`] did not make.
    pub fn decode(encoded: &str) -> Option<Cursor> {
        if encoded.len() > 8 * 1024 {
            return None;
        }
        let bytes = hex::decode(encoded).ok()?;
        let items: Vec<serde_json::Value> = serde_json::from_slice(&bytes).ok()?;
        let (head, rest) = items.split_at_checked(2)?;
        let (id, values) = rest.split_last()?;
        let sort = SortKey::parse(head[0].as_str()?)?;
        let descending = head[1].as_bool()?;
        let id = id.as_i64()?;
        let expected = sort.columns();
        if values.len() != expected.len() {
            return None;
        }
        let values = values
            .iter()
            .zip(expected)
            .map(|(value, column)| match *column {
                "created_at" => value.as_i64().map(SortValue::Int),
                // No NUL: PostgreSQL text cannot hold it.
                _ => value
                    .as_str()
                    .filter(|text| !text.contains('\0'))
                    .map(|text| SortValue::Text(text.to_owned())),
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Cursor {
            sort,
            descending,
            values,
            id,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserListRow {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub username: String,
    pub email: String,
    pub initials: String,
    pub state: AccountState,
    pub kind: AccountKind,
    pub created_at: UnixTime,
    /// Pending, and no open welcome link is left.
    pub activation_expired: bool,
}

/// How many rows match, up to [`COUNT_CAP`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    Exact(i64),
    /// More than this many ("1,000+").
    AtLeast(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPage {
    pub rows: Vec<UserListRow>,
    /// The cursor of the following page, if there is one.
    pub next: Option<Cursor>,
    pub total: Count,
}

/// One page of an organisation's accounts matching `query`.
pub async fn search_users(db: &Db, query: &UserQuery) -> Result<UserPage, sqlx::Error> {
    let words = words(&query.text);
    let limit = query.limit.clamp(1, MAX_LIMIT);
    let after = query
        .after
        .as_ref()
        .filter(|c| c.sort == query.sort && c.descending == query.descending);

    let page = page_sql(db.backend, query, &words, after, limit);
    let mut found: Vec<Row> = fetch_all(db, &page).await?;
    let more = found.len() > limit as usize;
    let counted = found.first().and_then(|row| row.matched);
    found.truncate(limit as usize);
    let next = found
        .last()
        .filter(|_| more)
        .map(|last| last.cursor(query.sort, query.descending));

    // A first page with room to spare holds every match: no need to count.
    let matched = if after.is_none() && !more {
        found.len() as i64
    } else if let Some(counted) = counted {
        counted
    } else {
        let count = count_sql(db.backend, query, &words);
        let (matched,): (i64,) = bind(sqlx::query_as(&count.text), &count)
            .fetch_one(&db.pool)
            .await?;
        matched
    };
    let total = if matched > COUNT_CAP {
        Count::AtLeast(COUNT_CAP)
    } else {
        Count::Exact(matched)
    };

    Ok(UserPage {
        rows: found.into_iter().map(Row::into_list_row).collect(),
        next,
        total,
    })
}

/// The plans of the page and count queries for `query`, one line per plan
/// node: SQLite's `EXPLAIN QUERY PLAN` details (e.g. `SEARCH users USING
/// INDEX …`), PostgreSQL's `EXPLAIN` lines. Tests check that no plan scans
/// the table; run on a connection whose planner settings they chose.
pub async fn query_plans(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    query: &UserQuery,
) -> Result<Vec<String>, sqlx::Error> {
    let words = words(&query.text);
    let limit = query.limit.clamp(1, MAX_LIMIT);
    let mut lines = Vec::new();
    for sql in [
        page_sql(backend, query, &words, query.after.as_ref(), limit),
        count_sql(backend, query, &words),
    ] {
        match backend {
            Backend::Sqlite => {
                let text = format!("EXPLAIN QUERY PLAN {}", sql.text);
                let rows: Vec<(i64, i64, i64, String)> =
                    bind_once(sqlx::query_as(&text), &sql.args)
                        .fetch_all(&mut *conn)
                        .await?;
                lines.extend(rows.into_iter().map(|(_, _, _, detail)| detail));
            }
            Backend::Postgres => {
                let text = format!("EXPLAIN {}", sql.text);
                let rows: Vec<(String,)> = bind_once(sqlx::query_as(&text), &sql.args)
                    .fetch_all(&mut *conn)
                    .await?;
                lines.extend(rows.into_iter().map(|(line,)| line));
            }
        }
    }
    Ok(lines)
}

/// The search text as words of search keys (see the module comment).
fn words(text: &str) -> Vec<String> {
    let cut: String = text.trim().chars().take(MAX_TEXT_CHARS).collect();
    // Control characters (NUL above all, which PostgreSQL text cannot hold)
    // separate words like spaces do.
    let key: String = search_key(&cut)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_TEXT_CHARS)
        .collect();
    key.split_whitespace()
        .take(MAX_WORDS)
        .map(str::to_owned)
        .collect()
}

/// Words this short match as prefixes only; longer ones anywhere.
const PREFIX_ONLY_CHARS: usize = 2;

/// The smallest string greater than every string starting with `prefix`
/// (byte order, which is code point order in UTF-8), or `None` when there is
/// none (the prefix is all U+10FFFF).
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last as u32 + 1 {
            0xD800 => Some('\u{E000}'),
            code => char::from_u32(code),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// `%`, `_` and `\` stand for themselves in a PostgreSQL LIKE pattern.
fn like_escape(word: &str) -> String {
    let mut escaped = String::with_capacity(word.len() + 2);
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// An FTS5 phrase: the word in double quotes, its own quotes doubled.
fn fts_phrase(word: &str) -> String {
    format!("\"{}\"", word.replace('"', "\"\""))
}

/// SQL text with `$n` placeholders and the values they stand for.
#[derive(Debug, Default)]
struct Sql {
    text: String,
    args: Vec<SortValue>,
    /// Whether the statement is prepared once per connection and kept: only
    /// when the best plan does not depend on the values (see [`bind`]).
    prepared: bool,
}

impl Sql {
    /// Adds a value and returns its placeholder.
    fn arg(&mut self, value: SortValue) -> String {
        self.args.push(value);
        format!("${}", self.args.len())
    }

    fn text(&mut self, value: &str) -> String {
        self.arg(SortValue::Text(value.to_owned()))
    }

    fn int(&mut self, value: i64) -> String {
        self.arg(SortValue::Int(value))
    }
}

/// An open welcome link of the account `user_id` (a column reference): not
/// used, not revoked, not expired (`one_time_links_open_welcome`).
fn open_welcome_link(sql: &mut Sql, user_id: &str, now: UnixTime) -> String {
    let now = sql.int(now);
    format!(
        "EXISTS (SELECT 1 FROM one_time_links l WHERE l.user_id = {user_id} AND l.purpose = 'welcome' \
         AND l.used_at IS NULL AND l.revoked_at IS NULL AND l.expires_at > {now})"
    )
}

/// The keys a word of 1–2 characters may start, each the first key of an
/// index `(organisation_id, key, …)` (migration 0002). In this order, each
/// index also holds the keys before its own (migration 0004 adds them to the
/// username and email indexes), which [`prefix_matches`] relies on.
const PREFIX_COLUMNS: [&str; 4] = [
    "first_name_key",
    "last_name_key",
    "username_key",
    "email_key",
];

/// A word of 1–2 characters as the placeholders of a key range: `key >=
/// from AND key < to` holds for the keys that start with the word.
struct Prefix {
    from: String,
    to: Option<String>,
}

impl Prefix {
    fn new(sql: &mut Sql, word: &str) -> Prefix {
        Prefix {
            from: sql.text(word),
            to: prefix_upper_bound(word).map(|upper| sql.text(&upper)),
        }
    }

    /// `column` starts with the word.
    fn starts(&self, column: &str) -> String {
        let from = &self.from;
        match &self.to {
            Some(to) => format!("{column} >= {from} AND {column} < {to}"),
            None => format!("{column} >= {from}"),
        }
    }

    /// `column` of a row of the organisation starts with the word.
    fn range(&self, organisation: &str, column: &str) -> String {
        format!(
            "organisation_id = {organisation} AND {}",
            self.starts(column)
        )
    }
}

/// Whether PostgreSQL answers `query` from the four prefix indexes alone
/// (index-only scans; no row is read until the page is known): every word has
/// 1–2 characters and no filter asks for a column those indexes lack.
///
/// A word of 1–2 characters such as "ja" matches 5–20 % of an organisation,
/// whose rows are scattered over the table: reading every match from the
/// table to sort the page and count them (the other searches' plan) costs a
/// page read per match. Here the matches are a set of ids and sort keys read
/// from the indexes ([`prefix_matches`]): the count counts it, and the page is
/// sorted from it, so that only the page's own rows are read.
fn from_prefix_indexes(backend: Backend, query: &UserQuery, words: &[String]) -> bool {
    backend == Backend::Postgres
        && !words.is_empty()
        && words
            .iter()
            .all(|word| word.chars().count() <= PREFIX_ONLY_CHARS)
        && query.state.is_none()
        && query.kind.is_none()
}

/// Orders whose keys every prefix index holds (as key or `INCLUDE` column):
/// their pages are sorted from [`prefix_matches`] alone.
fn sorted_by_prefix_indexes(sort: SortKey) -> bool {
    matches!(sort, SortKey::LastName | SortKey::FirstName)
}

/// The rows of the organisation matching every word (all of 1–2
/// characters), as a set expression of `id` and `extra` columns (sort keys)
/// read from the prefix indexes alone. For each word, one range per key in a
/// `UNION ALL`, each range leaving out the rows an earlier one finds (tested
/// on keys its index holds): the ranges are disjoint, so no row comes twice,
/// nothing has to be deduplicated and a capped count stops at the cap.
/// Between words, `INTERSECT`.
fn prefix_matches(sql: &mut Sql, organisation_id: i64, words: &[String], extra: &[&str]) -> String {
    let organisation = sql.int(organisation_id);
    let columns = std::iter::once("id")
        .chain(extra.iter().copied())
        .collect::<Vec<_>>()
        .join(", ");
    let per_word: Vec<String> = words
        .iter()
        .map(|word| {
            let prefix = Prefix::new(sql, word);
            let ranges: Vec<String> = PREFIX_COLUMNS
                .iter()
                .enumerate()
                .map(|(n, column)| {
                    let mut conditions = vec![prefix.range(&organisation, column)];
                    // IS NOT TRUE rather than NOT: were a key NULL (none
                    // is), its row would still be found.
                    conditions.extend(
                        PREFIX_COLUMNS[..n]
                            .iter()
                            .map(|earlier| format!("({}) IS NOT TRUE", prefix.starts(earlier))),
                    );
                    format!(
                        "SELECT {columns} FROM users WHERE {}",
                        conditions.join(" AND ")
                    )
                })
                .collect();
            format!("({})", ranges.join(" UNION ALL "))
        })
        .collect();
    per_word.join(" INTERSECT ")
}

/// The WHERE conditions of the organisation, the filters and the words.
fn conditions(sql: &mut Sql, backend: Backend, query: &UserQuery, words: &[String]) -> Vec<String> {
    let (short, long): (Vec<&String>, Vec<&String>) = words
        .iter()
        .partition(|word| word.chars().count() <= PREFIX_ONLY_CHARS);

    // With words, the rows must be found through the word indexes, which are
    // scoped by organisation themselves. Otherwise a planner may walk the
    // whole organisation in sort order, testing each row, and stop at a full
    // page: quick for common words, a scan of the organisation for rare ones
    // (SQLite, having no statistics, always does). So the organisation term
    // here is written to be ignored for index choice: unary plus on SQLite,
    // `+ 0` on PostgreSQL — except where PostgreSQL's trigram index needs it
    // (its estimates for LIKE are good enough to choose well).
    let organisation = sql.int(query.organisation_id);
    let organisation_term = match backend {
        Backend::Sqlite if !words.is_empty() => format!("+organisation_id = {organisation}"),
        Backend::Postgres if long.is_empty() && !short.is_empty() => {
            format!("organisation_id + 0 = {organisation}")
        }
        _ => format!("organisation_id = {organisation}"),
    };
    let mut conditions = vec![organisation_term];
    if let Some(kind) = query.kind {
        conditions.push(format!("kind = {}", sql.text(kind.as_str())));
    }
    match query.state {
        Some(StateFilter::Active) => conditions.push("state = 'active'".to_owned()),
        Some(StateFilter::Deactivated) => conditions.push("state = 'deactivated'".to_owned()),
        Some(StateFilter::Pending) => conditions.push(format!(
            "state = 'pending' AND {}",
            open_welcome_link(sql, "users.id", query.now)
        )),
        Some(StateFilter::ActivationExpired) => conditions.push(format!(
            "state = 'pending' AND NOT {}",
            open_welcome_link(sql, "users.id", query.now)
        )),
        None => {}
    }

    for word in short {
        // Each alternative repeats the organisation so that it is a range on
        // one index (SQLite's OR optimisation looks at each alternative alone).
        let prefix = Prefix::new(sql, word);
        let alternatives: Vec<String> = PREFIX_COLUMNS
            .iter()
            .map(|column| format!("({})", prefix.range(&organisation, column)))
            .collect();
        conditions.push(format!("({})", alternatives.join(" OR ")));
    }
    if !long.is_empty() {
        match backend {
            Backend::Postgres => {
                for word in long {
                    let pattern = sql.text(&format!("%{}%", like_escape(word)));
                    conditions.push(format!("search_text LIKE {pattern}"));
                }
            }
            Backend::Sqlite => {
                let mut terms = vec![format!(
                    "organisation : {}",
                    fts_phrase(&format!("<{}>", query.organisation_id))
                )];
                terms.extend(
                    long.iter()
                        .map(|word| format!("search_text : {}", fts_phrase(word))),
                );
                let matching = sql.text(&terms.join(" AND "));
                conditions.push(format!(
                    "id IN (SELECT rowid FROM users_search WHERE users_search MATCH {matching})"
                ));
            }
        }
    }
    conditions
}

const LIST_COLUMNS: &str = "id, first_name, last_name, username, email, initials, state, kind, created_at, \
     first_name_key, last_name_key, username_key, email_key";

/// The page (one row more than asked for, to know whether another follows).
fn page_sql(
    backend: Backend,
    query: &UserQuery,
    words: &[String],
    after: Option<&Cursor>,
    limit: u32,
) -> Sql {
    let mut sql = Sql::default();
    let columns = query.sort.columns();
    let (direction, beyond) = if query.descending {
        ("DESC", "<")
    } else {
        ("ASC", ">")
    };
    let keyset = after.map(|after| {
        let mut values: Vec<String> = Vec::new();
        for value in &after.values {
            values.push(sql.arg(value.clone()));
        }
        values.push(sql.int(after.id));
        format!(
            "({}, id) {beyond} ({})",
            columns.join(", "),
            values.join(", ")
        )
    });
    let order = columns
        .iter()
        .chain(&["id"])
        .map(|column| format!("{column} {direction}"))
        .collect::<Vec<_>>()
        .join(", ");
    let (with, rows, counted) =
        if from_prefix_indexes(backend, query, words) && sorted_by_prefix_indexes(query.sort) {
            // The matches' ids and sort keys from the indexes, once: the page
            // is sorted from them and reads only its own rows, and the count
            // comes with it. Each row is fetched by id on its own (a LATERAL
            // subquery with a LIMIT is not made a join), so that the planner
            // of a small table cannot read all of it to join a page.
            let matches = prefix_matches(&mut sql, query.organisation_id, words, columns);
            sql.prepared = true;
            let keyset = keyset.map(|keyset| format!(" WHERE {keyset}"));
            (
                format!("WITH hit AS MATERIALIZED ({matches}) "),
                format!(
                    "SELECT {LIST_COLUMNS} FROM \
                     (SELECT id AS hit_id FROM hit{} ORDER BY {order} LIMIT {}) AS top \
                     CROSS JOIN LATERAL \
                     (SELECT {LIST_COLUMNS} FROM users WHERE id = top.hit_id LIMIT 1) AS found",
                    keyset.unwrap_or_default(),
                    limit + 1
                ),
                format!(
                    ", (SELECT COUNT(*) FROM (SELECT 1 FROM hit LIMIT {}) AS capped) AS matched",
                    COUNT_CAP + 1
                ),
            )
        } else {
            let mut conditions = conditions(&mut sql, backend, query, words);
            conditions.extend(keyset);
            (
                String::new(),
                format!(
                    "SELECT {LIST_COLUMNS} FROM users WHERE {} ORDER BY {order} LIMIT {}",
                    conditions.join(" AND "),
                    limit + 1
                ),
                String::new(),
            )
        };
    let expired = format!(
        "CASE WHEN page.state = 'pending' AND NOT {} THEN 1 ELSE 0 END",
        open_welcome_link(&mut sql, "page.id", query.now)
    );
    sql.text = format!(
        "{with}SELECT {LIST_COLUMNS}, {expired} AS activation_expired{counted} \
         FROM ({rows}) AS page ORDER BY {order}"
    );
    sql
}

/// Counts matches up to one more than the cap.
fn count_sql(backend: Backend, query: &UserQuery, words: &[String]) -> Sql {
    let mut sql = Sql::default();
    let matched = if from_prefix_indexes(backend, query, words) {
        sql.prepared = true;
        prefix_matches(&mut sql, query.organisation_id, words, &[])
    } else {
        let conditions = conditions(&mut sql, backend, query, words);
        format!("SELECT 1 FROM users WHERE {}", conditions.join(" AND "))
    };
    sql.text = format!(
        "SELECT COUNT(*) FROM ({matched} LIMIT {}) AS matched",
        COUNT_CAP + 1
    );
    sql
}

type AnyQueryAs<'q, O> = sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>;

/// Binds the values of `sql` in order. Searches are in general not prepared
/// for reuse: PostgreSQL plans each with its values (a generic plan cannot
/// know that "obri" is rare). Those made of [`prefix_matches`] are
/// (`Sql::prepared`): each of their ranges has the one index that answers it,
/// whatever the values, so PostgreSQL may keep a generic plan and skip
/// planning (about half a millisecond), and the text is not parsed again.
fn bind<'q, O>(query: AnyQueryAs<'q, O>, sql: &Sql) -> AnyQueryAs<'q, O> {
    bind_values(query.persistent(sql.prepared), &sql.args)
}

/// Binds `args` in order to a statement that is not kept.
fn bind_once<'q, O>(query: AnyQueryAs<'q, O>, args: &[SortValue]) -> AnyQueryAs<'q, O> {
    bind_values(query.persistent(false), args)
}

fn bind_values<'q, O>(query: AnyQueryAs<'q, O>, args: &[SortValue]) -> AnyQueryAs<'q, O> {
    args.iter().fold(query, |query, arg| match arg {
        SortValue::Text(text) => query.bind(text.clone()),
        SortValue::Int(number) => query.bind(*number),
    })
}

async fn fetch_all(db: &Db, sql: &Sql) -> Result<Vec<Row>, sqlx::Error> {
    bind(sqlx::query_as(&sql.text), sql)
        .fetch_all(&db.pool)
        .await
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    first_name: String,
    last_name: String,
    username: String,
    email: String,
    initials: String,
    #[sqlx(try_from = "String")]
    state: AccountState,
    #[sqlx(try_from = "String")]
    kind: AccountKind,
    created_at: i64,
    first_name_key: String,
    last_name_key: String,
    username_key: String,
    email_key: String,
    activation_expired: i64,
    /// The capped count of all matches, when the page query counts them too
    /// (on every row alike).
    #[sqlx(default)]
    matched: Option<i64>,
}

impl Row {
    fn cursor(&self, sort: SortKey, descending: bool) -> Cursor {
        let text = |value: &str| SortValue::Text(value.to_owned());
        let values = sort
            .columns()
            .iter()
            .map(|column| match *column {
                "first_name_key" => text(&self.first_name_key),
                "last_name_key" => text(&self.last_name_key),
                "username_key" => text(&self.username_key),
                "email_key" => text(&self.email_key),
                "state" => text(self.state.as_str()),
                _ => SortValue::Int(self.created_at),
            })
            .collect();
        Cursor {
            sort,
            descending,
            values,
            id: self.id,
        }
    }

    fn into_list_row(self) -> UserListRow {
        UserListRow {
            id: self.id,
            first_name: self.first_name,
            last_name: self.last_name,
            username: self.username,
            email: self.email,
            initials: self.initials,
            state: self.state,
            kind: self.kind,
            created_at: self.created_at,
            activation_expired: self.activation_expired != 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_becomes_words_of_search_keys() {
        assert_eq!(words("  Siân   O’Brien "), ["sian", "obrien"]);
        assert_eq!(words("a\u{0}b"), ["a", "b"]);
        assert!(words(" \t ").is_empty());
        assert_eq!(words(&"x ".repeat(50)).len(), MAX_WORDS);
        assert_eq!(words(&"y".repeat(500))[0].len(), MAX_TEXT_CHARS);
    }

    #[test]
    fn a_prefix_upper_bound_is_the_prefix_with_its_last_character_incremented() {
        assert_eq!(prefix_upper_bound("si").as_deref(), Some("sj"));
        assert_eq!(
            prefix_upper_bound("a\u{D7FF}").as_deref(),
            Some("a\u{E000}")
        );
        assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound("\u{10FFFF}"), None);
    }

    #[test]
    fn like_wildcards_in_a_word_are_escaped() {
        assert_eq!(like_escape(r"50%_a\b"), r"50\%\_a\\b");
        assert_eq!(fts_phrase(r#"a"b"#), r#""a""b""#);
    }

    #[test]
    fn a_cursor_survives_encoding_and_nothing_else_decodes() {
        let cursor = Cursor {
            sort: SortKey::LastName,
            descending: true,
            values: vec![
                SortValue::Text("o’brien".into()),
                SortValue::Text("sian".into()),
            ],
            id: 42,
        };
        let encoded = cursor.encode();
        assert!(encoded.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(Cursor::decode(&encoded), Some(cursor));
        for bad in [
            "",
            "zz",
            "7b7d",
            &hex::encode(r#"["created",false,"x",1]"#),
            &hex::encode(r#"["username",false,"x"]"#),
            &hex::encode(r#"["nope",false,"x",1]"#),
            &hex::encode(r#"["username",false,"x",1.5]"#),
            &hex::encode(r#"["username",false,"\u0000",1]"#),
        ] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
        let created = hex::encode(r#"["created",false,17,3]"#);
        assert!(Cursor::decode(&created).is_some());
    }
}
