//! The Users page search (`backend::search`) on both backends: matching,
//! filters, sorting with keyset pagination, the capped count, and query
//! plans that never scan the users table.

use crate::both_backends;
use crate::helpers::*;
use backend::accounts::search::{
    Count, Cursor, KindFilter, SortKey, StateFilter, UserPage, UserQuery, query_plans, search_users,
};
use backend::accounts::users::{AccountKind, AccountState};
use backend::db::{Backend, Db};
use domain::search_key;
use std::collections::HashSet;

/// first name, last name, username, email, state, kind, created (minutes before START)
type Person = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
);

const RIVERSIDE: &[Person] = &[
    (
        "Siân",
        "O’Brien",
        "sian.obrien",
        "Sian.OBrien@riverside.example",
        "active",
        "person",
        10,
    ),
    (
        "Simon",
        "Price",
        "sprice",
        "simon.price@riverside.example",
        "active",
        "person",
        20,
    ),
    (
        "Louisa",
        "Cassidy",
        "lcassidy",
        "l.cassidy@riverside.example",
        "active",
        "person",
        30,
    ),
    (
        "Zoë",
        "Ødegård",
        "zoe.odegard",
        "zoe@riverside.example",
        "active",
        "person",
        40,
    ),
    (
        "Jean-Luc",
        "Lefèvre",
        "jl.lefevre",
        "jean-luc@riverside.example",
        "deactivated",
        "person",
        50,
    ),
    (
        "Thảo",
        "Nguyễn",
        "thao.nguyen",
        "thao@riverside.example",
        "active",
        "person",
        60,
    ),
    (
        "Mary Ann",
        "Smith",
        "maryann.smith",
        "mas@riverside.example",
        "active",
        "person",
        70,
    ),
    (
        "John",
        "Smith",
        "john.smith",
        "john.smith@riverside.example",
        "active",
        "person",
        70,
    ),
    (
        "John",
        "Smith",
        "john.smith2",
        "js2@riverside.example",
        "active",
        "person",
        70,
    ),
    (
        "Anna",
        "Smith",
        "anna.smith",
        "anna@riverside.example",
        "pending",
        "person",
        80,
    ),
    (
        "Peter",
        "Jones",
        "pjones",
        "zz.top@riverside.example",
        "active",
        "person",
        90,
    ),
    (
        "Percy",
        "Sale",
        "tap_dancer",
        "50%off@riverside.example",
        "active",
        "person",
        100,
    ),
    (
        "Rapid",
        "Apxd",
        "rapid.apxd",
        "50xxoff@riverside.example",
        "active",
        "person",
        110,
    ),
    (
        "Petra",
        "Pending",
        "petra.pending",
        "petra@riverside.example",
        "pending",
        "person",
        120,
    ),
    (
        "Ezra",
        "Expired",
        "ezra.expired",
        "ezra@riverside.example",
        "pending",
        "person",
        130,
    ),
    (
        "Nora",
        "Nolink",
        "nora.nolink",
        "nora@riverside.example",
        "pending",
        "person",
        140,
    ),
    (
        "Uma",
        "Used",
        "uma.used",
        "uma@riverside.example",
        "pending",
        "person",
        150,
    ),
    (
        "Build",
        "Robot",
        "build.robot",
        "build.robot@riverside.example",
        "active",
        "api",
        160,
    ),
    (
        "Sync",
        "Robot",
        "sync.robot",
        "sync.robot@riverside.example",
        "deactivated",
        "api",
        170,
    ),
    (
        "Ástríður",
        "Ólafsdóttir",
        "astridur.o",
        "astridur@riverside.example",
        "active",
        "person",
        180,
    ),
    (
        "Émile",
        "Zola",
        "emile.zola",
        "emile@riverside.example",
        "active",
        "person",
        190,
    ),
    (
        "zeb",
        "adams",
        "zeb.adams",
        "Zeb.Adams@Riverside.example",
        "active",
        "person",
        5,
    ),
];

const NORTHFIELD: &[Person] = &[
    (
        "Siân",
        "Jones",
        "sian.jones",
        "sian.jones@northfield.example",
        "active",
        "person",
        10,
    ),
    (
        "Simon",
        "O’Brien",
        "simon.obrien",
        "simon@northfield.example",
        "active",
        "person",
        20,
    ),
];

struct Seeded {
    riverside: i64,
    northfield: i64,
}

async fn organisation(db: &Db, name: &str) -> i64 {
    let (id,): (i64,) =
        sqlx::query_as("INSERT INTO organisations (name, created_at) VALUES ($1, $2) RETURNING id")
            .bind(name)
            .bind(START)
            .fetch_one(&db.pool)
            .await
            .expect("organisation");
    id
}

/// Inserts accounts as `users::insert` does, search keys included.
async fn add(db: &Db, organisation_id: i64, people: &[Person]) {
    for (n, (first, last, username, email, state, kind, minutes)) in people.iter().enumerate() {
        let search_text = [*first, last, username, email].map(search_key).join(" ");
        sqlx::query(
            "INSERT INTO users (organisation_id, kind, state, first_name, last_name, email, email_normalized,
                                username, initials, created_at, updated_at, first_name_key, last_name_key, search_text)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12, $13)",
        )
        .bind(organisation_id)
        .bind(*kind)
        .bind(*state)
        .bind(*first)
        .bind(*last)
        .bind(*email)
        .bind(email.to_lowercase())
        .bind(*username)
        .bind(format!("I{n}"))
        .bind(START - minutes * 60)
        .bind(search_key(first))
        .bind(search_key(last))
        .bind(search_text)
        .execute(&db.pool)
        .await
        .expect("insert account");
    }
}

/// A welcome link for `username`: expiring `expires_in` seconds after START.
async fn welcome_link(app: &TestApp, username: &str, expires_in: i64, used: bool) {
    let user_id = app.user_id(username).await;
    sqlx::query(
        "INSERT INTO one_time_links (purpose, token_hash, user_id, created_at, expires_at, used_at)
         VALUES ('welcome', $1, $2, $3, $4, $5)",
    )
    .bind(format!("hash-{username}-{expires_in}"))
    .bind(user_id)
    .bind(START - 3600)
    .bind(START + expires_in)
    .bind(used.then_some(START - 60))
    .execute(&app.state.db.pool)
    .await
    .expect("link");
}

async fn seed(app: &TestApp) -> Seeded {
    let db = &app.state.db;
    let riverside = organisation(db, "Riverside College").await;
    let northfield = organisation(db, "Northfield Academy").await;
    add(db, riverside, RIVERSIDE).await;
    add(db, northfield, NORTHFIELD).await;
    // Petra can still activate; Ezra's link has expired, Uma's was used, and
    // Nora never had one. Anna's open link is superseded by nothing.
    welcome_link(app, "petra.pending", 3600, false).await;
    welcome_link(app, "ezra.expired", -1, false).await;
    welcome_link(app, "uma.used", 3600, true).await;
    welcome_link(app, "anna.smith", 7 * 86_400, false).await;
    Seeded {
        riverside,
        northfield,
    }
}

fn query(organisation_id: i64, text: &str) -> UserQuery {
    UserQuery {
        organisation_id,
        text: text.to_owned(),
        state: None,
        kind: None,
        sort: SortKey::LastName,
        descending: false,
        after: None,
        limit: 100,
        now: START,
    }
}

async fn page_of(app: &TestApp, query: &UserQuery) -> UserPage {
    search_users(&app.state.db, query).await.expect("search")
}

/// The usernames found, in order.
async fn found(app: &TestApp, organisation_id: i64, text: &str) -> Vec<String> {
    usernames(&page_of(app, &query(organisation_id, text)).await)
}

fn usernames(page: &UserPage) -> Vec<String> {
    page.rows.iter().map(|row| row.username.clone()).collect()
}

both_backends!(
    async fn search_ignores_case_and_accents(app: TestApp) {
        let s = seed(&app).await;
        assert_eq!(found(&app, s.riverside, "sian").await, ["sian.obrien"]);
        assert_eq!(found(&app, s.riverside, "SIÂN").await, ["sian.obrien"]);
        assert_eq!(found(&app, s.riverside, "odegard").await, ["zoe.odegard"]);
        assert_eq!(found(&app, s.riverside, "nguyen").await, ["thao.nguyen"]);
        assert_eq!(found(&app, s.riverside, "ólafs").await, ["astridur.o"]);
        assert_eq!(found(&app, s.riverside, "EMILE").await, ["emile.zola"]);
    }
);

both_backends!(
    async fn three_or_more_characters_match_anywhere_in_any_field(app: TestApp) {
        let s = seed(&app).await;
        // Inside the last name; apostrophes are ignored, whichever is typed.
        assert_eq!(found(&app, s.riverside, "brie").await, ["sian.obrien"]);
        for typed in ["obri", "o’bri", "o'bri"] {
            assert_eq!(
                found(&app, s.riverside, typed).await,
                ["sian.obrien"],
                "{typed}"
            );
        }
        // Inside the username and the email.
        assert_eq!(found(&app, s.riverside, "n.obr").await, ["sian.obrien"]);
        assert_eq!(found(&app, s.riverside, "top@").await, ["pjones"]);
        assert_eq!(found(&app, s.riverside, "ssid").await, ["lcassidy"]);
        // The domain is everyone's.
        let page = page_of(&app, &query(s.riverside, "riverside")).await;
        assert_eq!(page.rows.len(), RIVERSIDE.len());
        assert_eq!(page.total, Count::Exact(RIVERSIDE.len() as i64));
        assert!(found(&app, s.riverside, "qzxv").await.is_empty());
    }
);

both_backends!(
    async fn one_or_two_characters_match_only_the_start_of_a_field(app: TestApp) {
        let s = seed(&app).await;
        // First names Siân and Simon; "si" inside Cassidy or Louisa does not count.
        assert_eq!(
            found(&app, s.riverside, "si").await,
            ["sian.obrien", "sprice"]
        );
        assert_eq!(
            found(&app, s.riverside, "Sî").await,
            ["sian.obrien", "sprice"]
        );
        // Only the email starts with "zz"; only the username with "tap".
        assert_eq!(found(&app, s.riverside, "zz").await, ["pjones"]);
        assert_eq!(found(&app, s.riverside, "ta").await, ["tap_dancer"]);
        // First names Zoë and zeb (stored lower case), last name Zola, email zz.top@.
        assert_eq!(
            found(&app, s.riverside, "z").await,
            ["zeb.adams", "pjones", "zoe.odegard", "emile.zola"]
        );
        assert_eq!(found(&app, s.riverside, "ss").await, Vec::<String>::new());
        // Apostrophes are ignored, whichever is typed.
        assert_eq!(found(&app, s.riverside, "o’b").await, ["sian.obrien"]);
        assert_eq!(found(&app, s.riverside, "o'b").await, ["sian.obrien"]);
    }
);

both_backends!(
    async fn every_word_must_match(app: TestApp) {
        let s = seed(&app).await;
        assert_eq!(
            found(&app, s.riverside, "  smith   john ").await,
            ["john.smith", "john.smith2"]
        );
        assert_eq!(
            found(&app, s.riverside, "john sm").await,
            ["john.smith", "john.smith2"]
        );
        assert_eq!(found(&app, s.riverside, "j smith2").await, ["john.smith2"]);
        assert_eq!(
            found(&app, s.riverside, "mary ann").await,
            ["maryann.smith"]
        );
        assert_eq!(
            found(&app, s.riverside, "sian smith").await,
            Vec::<String>::new()
        );
        assert_eq!(found(&app, s.riverside, "si pr").await, ["sprice"]);
    }
);

both_backends!(
    async fn only_the_given_organisation_is_searched(app: TestApp) {
        let s = seed(&app).await;
        assert_eq!(found(&app, s.northfield, "sian").await, ["sian.jones"]);
        assert_eq!(
            found(&app, s.northfield, "si").await,
            ["sian.jones", "simon.obrien"]
        );
        assert_eq!(found(&app, s.northfield, "brien").await, ["simon.obrien"]);
        assert_eq!(
            found(&app, s.northfield, "").await,
            ["sian.jones", "simon.obrien"]
        );
        assert!(
            found(&app, s.riverside + s.northfield + 1, "")
                .await
                .is_empty()
        );
    }
);

both_backends!(
    async fn percent_and_underscore_are_literal(app: TestApp) {
        let s = seed(&app).await;
        assert_eq!(found(&app, s.riverside, "50%o").await, ["tap_dancer"]);
        assert_eq!(found(&app, s.riverside, "%off").await, ["tap_dancer"]);
        assert_eq!(found(&app, s.riverside, "p_d").await, ["tap_dancer"]);
        assert_eq!(found(&app, s.riverside, "ap_d").await, ["tap_dancer"]);
        assert!(found(&app, s.riverside, "%").await.is_empty());
        assert!(found(&app, s.riverside, "_").await.is_empty());
        assert!(found(&app, s.riverside, "%%%").await.is_empty());
        assert!(found(&app, s.riverside, r#"\"'"#).await.is_empty());
        assert!(found(&app, s.riverside, "a\u{0}b").await.is_empty());
    }
);

both_backends!(
    async fn accounts_are_filtered_by_state_and_kind(app: TestApp) {
        let s = seed(&app).await;
        let filtered = |state: Option<StateFilter>, kind: Option<KindFilter>, now: i64| {
            let mut q = query(s.riverside, "");
            q.state = state;
            q.kind = kind;
            q.now = now;
            q
        };
        let page = page_of(&app, &filtered(Some(StateFilter::Pending), None, START)).await;
        assert_eq!(usernames(&page), ["petra.pending", "anna.smith"]);
        assert!(page.rows.iter().all(|row| !row.activation_expired));
        let page = page_of(
            &app,
            &filtered(Some(StateFilter::ActivationExpired), None, START),
        )
        .await;
        assert_eq!(
            usernames(&page),
            ["ezra.expired", "nora.nolink", "uma.used"]
        );
        assert!(
            page.rows
                .iter()
                .all(|row| row.activation_expired && row.state == AccountState::Pending)
        );
        // An hour later Petra's link has expired too.
        let later = START + 3600;
        let page = page_of(&app, &filtered(Some(StateFilter::Pending), None, later)).await;
        assert_eq!(usernames(&page), ["anna.smith"]);
        let page = page_of(
            &app,
            &filtered(Some(StateFilter::ActivationExpired), None, later),
        )
        .await;
        assert_eq!(
            usernames(&page),
            ["ezra.expired", "nora.nolink", "petra.pending", "uma.used"]
        );
        // The unfiltered list marks them alike.
        let everyone = page_of(&app, &filtered(None, None, later)).await;
        let expired: Vec<&str> = everyone
            .rows
            .iter()
            .filter(|row| row.activation_expired)
            .map(|row| row.username.as_str())
            .collect();
        assert_eq!(
            expired,
            ["ezra.expired", "nora.nolink", "petra.pending", "uma.used"]
        );

        let page = page_of(&app, &filtered(Some(StateFilter::Deactivated), None, START)).await;
        assert_eq!(usernames(&page), ["jl.lefevre", "sync.robot"]);
        let page = page_of(
            &app,
            &filtered(Some(StateFilter::Active), Some(KindFilter::Api), START),
        )
        .await;
        assert_eq!(usernames(&page), ["build.robot"]);
        let page = page_of(&app, &filtered(None, Some(KindFilter::Api), START)).await;
        assert_eq!(usernames(&page), ["build.robot", "sync.robot"]);
        assert_eq!(page.rows[0].kind, AccountKind::Api);
        let page = page_of(&app, &filtered(None, Some(KindFilter::Person), START)).await;
        assert_eq!(page.total, Count::Exact(RIVERSIDE.len() as i64 - 2));
        // Filters and words together.
        let mut q = filtered(Some(StateFilter::Active), None, START);
        q.text = "smith".into();
        assert_eq!(
            usernames(&page_of(&app, &q).await),
            ["john.smith", "john.smith2", "maryann.smith"]
        );
    }
);

/// The sort values of a row, as the database orders them (byte order).
fn sort_values(person: &Person, sort: SortKey) -> Vec<String> {
    let (first, last, username, email, state, _, minutes) = person;
    match sort {
        SortKey::LastName => vec![search_key(last), search_key(first)],
        SortKey::FirstName => vec![search_key(first), search_key(last)],
        SortKey::Username => vec![username.to_lowercase()],
        SortKey::Email => vec![search_key(email)],
        SortKey::State => vec![state.to_string(), search_key(last), search_key(first)],
        SortKey::Created => vec![format!("{:020}", START - minutes * 60)],
    }
}

both_backends!(
    async fn every_order_pages_through_every_row_exactly_once(app: TestApp) {
        let s = seed(&app).await;
        let mut ids = Vec::new();
        for person in RIVERSIDE {
            ids.push(app.user_id(person.2).await);
        }
        for sort in SortKey::ALL {
            for descending in [false, true] {
                let mut expected: Vec<(Vec<String>, i64, &str)> = RIVERSIDE
                    .iter()
                    .zip(&ids)
                    .map(|(person, id)| (sort_values(person, sort), *id, person.2))
                    .collect();
                expected.sort();
                if descending {
                    expected.reverse();
                }
                let expected: Vec<&str> = expected.iter().map(|e| e.2).collect();

                let mut seen = Vec::new();
                let mut q = query(s.riverside, "");
                q.sort = sort;
                q.descending = descending;
                q.limit = 4;
                let mut pages = 0;
                loop {
                    let page = page_of(&app, &q).await;
                    pages += 1;
                    assert!(page.rows.len() <= 4);
                    assert_eq!(page.total, Count::Exact(RIVERSIDE.len() as i64));
                    seen.extend(usernames(&page));
                    match page.next {
                        Some(next) => {
                            // The cursor survives a round trip through a URL.
                            q.after = Cursor::decode(&next.encode());
                            assert!(q.after.is_some());
                        }
                        None => break,
                    }
                }
                assert_eq!(seen, expected, "{sort:?} descending={descending}");
                assert_eq!(pages, RIVERSIDE.len().div_ceil(4));
            }
        }
        // Paging through search results too.
        let mut q = query(s.riverside, "riverside");
        q.limit = 5;
        q.sort = SortKey::Email;
        let mut seen = HashSet::new();
        loop {
            let page = page_of(&app, &q).await;
            for row in &page.rows {
                assert!(seen.insert(row.id), "{} twice", row.username);
            }
            match page.next {
                Some(next) => q.after = Some(next),
                None => break,
            }
        }
        assert_eq!(seen.len(), RIVERSIDE.len());
    }
);

/// The keys a word of 1–2 characters may start: first name, last name,
/// username and email, as search keys.
fn prefix_keys(person: &Person) -> [String; 4] {
    let (first, last, username, email, ..) = person;
    [
        search_key(first),
        search_key(last),
        username.to_lowercase(),
        search_key(email),
    ]
}

both_backends!(
    async fn short_words_find_the_accounts_whose_keys_start_with_them_in_every_order(app: TestApp) {
        // PostgreSQL answers these from the prefix indexes alone (sorted from
        // the keys they hold, the four ranges kept disjoint, the count taken
        // with the page): the same accounts as a key-by-key check, in every
        // order, a page at a time, counted alike on every page.
        let s = seed(&app).await;
        let mut ids = Vec::new();
        for person in RIVERSIDE {
            ids.push(app.user_id(person.2).await);
        }
        let mut texts: Vec<String> = RIVERSIDE
            .iter()
            .flat_map(prefix_keys)
            .flat_map(|key| {
                let chars: Vec<char> = key.chars().collect();
                [1, 2]
                    .into_iter()
                    .filter(|n| chars.len() >= *n)
                    .map(|n| chars[..n].iter().collect::<String>())
                    .collect::<Vec<_>>()
            })
            .filter(|prefix| !prefix.contains(char::is_whitespace))
            .collect();
        texts.sort();
        texts.dedup();
        // Several words (every one must match), and starts of nothing.
        texts.extend(["si pr", "j sm", "sm j", "s j", "z zo", "a a", "qz", "ss"].map(String::from));
        for text in &texts {
            let words: Vec<&str> = text.split_whitespace().collect();
            let matching: Vec<usize> = (0..RIVERSIDE.len())
                .filter(|&i| {
                    let keys = prefix_keys(&RIVERSIDE[i]);
                    words
                        .iter()
                        .all(|word| keys.iter().any(|key| key.starts_with(word)))
                })
                .collect();
            for sort in SortKey::ALL {
                for descending in [false, true] {
                    let mut expected: Vec<(Vec<String>, i64, &str)> = matching
                        .iter()
                        .map(|&i| (sort_values(&RIVERSIDE[i], sort), ids[i], RIVERSIDE[i].2))
                        .collect();
                    expected.sort();
                    if descending {
                        expected.reverse();
                    }
                    let expected: Vec<&str> = expected.iter().map(|e| e.2).collect();
                    let mut q = query(s.riverside, text);
                    q.sort = sort;
                    q.descending = descending;
                    q.limit = 3;
                    let mut seen = Vec::new();
                    loop {
                        let page = page_of(&app, &q).await;
                        assert_eq!(
                            page.total,
                            Count::Exact(expected.len() as i64),
                            "{text:?} {sort:?} descending={descending}"
                        );
                        seen.extend(usernames(&page));
                        match page.next {
                            Some(next) => q.after = Some(next),
                            None => break,
                        }
                    }
                    assert_eq!(seen, expected, "{text:?} {sort:?} descending={descending}");
                }
            }
            // A page past the last one is empty and still counts every match.
            let mut q = query(s.riverside, text);
            q.after = Cursor::decode(&hex_encode(
                r#"["last_name",false,"zzzz","zzzz",9223372036854775807]"#,
            ));
            let page = page_of(&app, &q).await;
            assert!(page.rows.is_empty(), "{text:?}");
            assert_eq!(page.total, Count::Exact(matching.len() as i64), "{text:?}");
        }
    }
);

both_backends!(
    async fn a_tampered_cursor_gives_a_page_never_an_error(app: TestApp) {
        let s = seed(&app).await;
        let mut q = query(s.riverside, "");
        q.limit = 3;
        let first = page_of(&app, &q).await;
        let encoded = first.next.expect("more pages").encode();
        assert!(Cursor::decode("not a cursor").is_none());
        assert!(Cursor::decode(&encoded[..encoded.len() - 2]).is_none());

        let json = String::from_utf8(hex_decode(&encoded)).expect("utf-8");
        for edited in [
            json.replacen("\"last_name\"", "\"created\"", 1),
            json.replacen(",false,", ",true,", 1),
            json.replacen(",false,\"", ",false,\"\\u0000'%_\\\"", 1),
            json.replacen(",false,\"", ",false,\"\u{10FFFF}", 1),
            r#"["created",false,-9223372036854775808,9223372036854775807]"#.to_owned(),
            r#"["username",true,"",-1]"#.to_owned(),
        ] {
            let Some(cursor) = Cursor::decode(&hex_encode(&edited)) else {
                continue;
            };
            for sort in SortKey::ALL {
                let mut q = query(s.riverside, "smith");
                q.sort = sort;
                q.after = Some(cursor.clone());
                let page = search_users(&app.state.db, &q).await;
                assert!(page.is_ok(), "{edited}: {page:?}");
            }
        }
        // A cursor of another order is ignored: the list starts again.
        let mut q = query(s.riverside, "");
        q.limit = 3;
        q.sort = SortKey::Username;
        q.after = Cursor::decode(&encoded);
        assert_eq!(
            usernames(&page_of(&app, &q).await),
            ["anna.smith", "astridur.o", "build.robot"]
        );
    }
);

fn hex_decode(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

fn hex_encode(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Adds `n` accounts, "Bulk Qea" (a three-letter name from i) with username
/// bulk.person<i>, in one statement, spread over
/// `organisations` new organisations (account i in the (i mod organisations)th);
/// returns the first organisation.
async fn bulk_organisations(app: &TestApp, n: i64, organisations: i64) -> i64 {
    let db = &app.state.db;
    let first = organisation(db, "Bulk Academy 0").await;
    for k in 1..organisations {
        let id = organisation(db, &format!("Bulk Academy {k}")).await;
        assert_eq!(id, first + k, "organisation ids are consecutive");
    }
    sqlx::query(
        "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
         INSERT INTO users (organisation_id, kind, state, first_name, last_name, email, email_normalized,
                            username, initials, created_at, updated_at, first_name_key, last_name_key, search_text)
         SELECT $1 + i % $4, 'person', 'active', 'Bulk', code, 'bulk' || i || '@bulk.example',
                'bulk' || i || '@bulk.example', 'bulk.person' || i, 'B' || i, $3 + i, $3 + i, 'bulk',
                lower(code), 'bulk ' || lower(code) || ' bulk.person' || i || ' bulk' || i || '@bulk.example'
         FROM (SELECT i, upper(substr(letters, i % 26 + 1, 1)) || substr(letters, i / 26 % 26 + 1, 1)
                         || substr(letters, i / 676 % 26 + 1, 1) AS code
               FROM n, (SELECT 'abcdefghijklmnopqrstuvwxyz' AS letters) AS alphabet) AS coded",
    )
    .bind(first)
    .bind(n)
    .bind(START)
    .bind(organisations)
    .execute(&db.pool)
    .await
    .expect("bulk insert");
    first
}

both_backends!(
    async fn the_count_stops_at_a_thousand(app: TestApp) {
        let s = seed(&app).await;
        let bulk = bulk_organisations(&app, 1001, 1).await;
        let page = page_of(&app, &query(bulk, "")).await;
        assert_eq!(page.total, Count::AtLeast(1000));
        assert_eq!(page.rows.len(), 100);
        assert_eq!(
            page_of(&app, &query(bulk, "bulk")).await.total,
            Count::AtLeast(1000)
        );
        assert_eq!(
            page_of(&app, &query(bulk, "bu")).await.total,
            Count::AtLeast(1000)
        );
        // person1, person10…person19, person100…person199, person1000, person1001
        assert_eq!(
            page_of(&app, &query(bulk, "person1")).await.total,
            Count::Exact(113)
        );
        assert_eq!(
            page_of(&app, &query(bulk, "person1000")).await.total,
            Count::Exact(1)
        );
        let mut q = query(bulk, "person1");
        q.after = page_of(&app, &q).await.next;
        let second = page_of(&app, &q).await;
        assert_eq!((second.rows.len(), second.total), (13, Count::Exact(113)));
        assert_eq!(
            page_of(&app, &query(s.riverside, "")).await.total,
            Count::Exact(RIVERSIDE.len() as i64)
        );
    }
);

both_backends!(
    async fn an_account_added_by_the_application_is_found_by_its_parts(app: TestApp) {
        use backend::accounts::users::{AccountKind, AccountState, NewAccount, insert};
        use domain::{Email, FirstName, Initials, LastName, Username};
        let db = &app.state.db;
        let organisation_id = organisation(db, "Riverside College").await;
        let account = NewAccount {
            organisation_id,
            kind: AccountKind::Person,
            first_name: FirstName::parse("Siân").expect("first name"),
            last_name: LastName::parse("O’Brien").expect("last name"),
            email: Email::parse("Siân.Jones@Riverside.example").expect("email"),
            username: Username::parse("Sian.OBrien").expect("username"),
            initials: Initials::parse("SO").expect("initials"),
            password_hash: None,
            state: AccountState::Active,
            is_platform_admin: false,
            created_by: None,
        };
        let mut conn = db.pool.acquire().await.expect("connection");
        insert(&mut conn, START, &account).await.expect("insert");
        drop(conn);
        for text in [
            "sian",
            "SIÂN",
            "o’b",
            "brien",
            "sian.ob",
            "si",
            "o’",
            "sian.j",
            "riverside.ex",
        ] {
            assert_eq!(
                found(&app, organisation_id, text).await,
                ["Sian.OBrien"],
                "{text}"
            );
        }
        // Email and username sorting use the same keys.
        let mut q = query(organisation_id, "");
        q.sort = SortKey::Email;
        assert_eq!(page_of(&app, &q).await.rows.len(), 1);
    }
);

/// Plan lines that read the whole users table: SQLite's `SCAN users` (the
/// table or one of its indexes, without a key), PostgreSQL's sequential scan
/// or an index scan without an index condition.
fn full_scans(backend: Backend, plans: &[String]) -> Vec<String> {
    match backend {
        Backend::Sqlite => plans
            .iter()
            .filter(|line| *line == "SCAN users" || line.starts_with("SCAN users "))
            .cloned()
            .collect(),
        Backend::Postgres => {
            let mut scans = Vec::new();
            for (i, line) in plans.iter().enumerate() {
                let index_scan =
                    line.contains("Index") && line.contains("Scan") && line.contains(" using ");
                let on_users = line.contains(" on users ");
                let has_condition = plans
                    .get(i + 1)
                    .is_some_and(|next| next.contains("Index Cond"));
                if line.contains("Seq Scan on users") || (index_scan && on_users && !has_condition)
                {
                    scans.push(line.clone());
                }
            }
            scans
        }
    }
}

both_backends!(
    async fn searches_use_the_indexes_never_a_scan_of_the_table(app: TestApp) {
        let s = seed(&app).await;
        // Enough rows for PostgreSQL's planner to prefer the search indexes
        // (with a few dozen it rightly reads the organisation's rows): twenty
        // organisations of 500.
        let bulk = bulk_organisations(&app, 10_000, 20).await;
        let db = &app.state.db;
        let mut conn = db.pool.acquire().await.expect("connection");
        if db.backend == Backend::Postgres {
            // As autovacuum would: statistics, and the trigram index's
            // pending list merged (the planner prices reading that list).
            sqlx::query("VACUUM ANALYZE users")
                .execute(&mut *conn)
                .await
                .expect("vacuum");
        }
        let cases = [
            (bulk, "bz", "users_by_first_name"),
            (bulk, "pe", ""),
            // Account 120 is "Bulk Qea".
            (bulk, "qea", "users_search"),
            (bulk, "qzxv", "users_search"),
            (bulk, "qea bu", "users_search"),
            (s.riverside, "si", "users_by_first_name"),
            (s.riverside, "z", "users_by_email"),
            (s.riverside, "brie", ""),
            (s.riverside, "o’brien sian", ""),
            (s.riverside, "si brie", ""),
            (s.riverside, "", ""),
        ];
        for (organisation_id, text, index) in cases {
            let plans = query_plans(&mut conn, db.backend, &query(organisation_id, text))
                .await
                .expect("plan");
            let plan = plans.join("\n");
            assert!(
                full_scans(db.backend, &plans).is_empty(),
                "{text:?}:\n{plan}"
            );
            assert!(plan.contains(index), "{text:?} should use {index}:\n{plan}");
        }
        if db.backend == Backend::Postgres {
            // Words of 1–2 characters only: the matches come from the four
            // prefix indexes alone (index-only scans, which also hold the
            // name keys the page is sorted by), and the table is read only
            // for the page's rows, by id.
            for (organisation_id, text) in [
                (bulk, "bu"),
                (bulk, "bz"),
                (bulk, "b bu"),
                (s.riverside, "si"),
            ] {
                for sort in [SortKey::LastName, SortKey::FirstName] {
                    let mut q = query(organisation_id, text);
                    q.sort = sort;
                    let plans = query_plans(&mut conn, db.backend, &q).await.expect("plan");
                    let plan = plans.join("\n");
                    for index in [
                        "users_by_first_name",
                        "users_by_last_name",
                        "users_by_username",
                        "users_by_email",
                    ] {
                        let scan = format!("Index Only Scan using {index} on users ");
                        assert!(
                            plan.contains(&scan),
                            "{text:?} {sort:?} should use {index} alone:\n{plan}"
                        );
                    }
                    // Any other read of the table looks up one id.
                    for (i, line) in plans.iter().enumerate() {
                        if line.contains(" on users ")
                            && !line.contains("Index Only Scan using users_by_")
                        {
                            let by_id = line.contains("Index Scan using ")
                                && plans
                                    .get(i + 1)
                                    .is_some_and(|next| next.contains("Index Cond: (id = "));
                            assert!(
                                by_id,
                                "{text:?} {sort:?} should read rows only by id:\n{plan}"
                            );
                        }
                    }
                }
            }
        }
        for sort in SortKey::ALL {
            for state in [
                None,
                Some(StateFilter::ActivationExpired),
                Some(StateFilter::Active),
            ] {
                let mut q = query(bulk, "");
                q.sort = sort;
                q.state = state;
                q.kind = Some(KindFilter::Person);
                let plans = query_plans(&mut conn, db.backend, &q).await.expect("plan");
                assert!(
                    full_scans(db.backend, &plans).is_empty(),
                    "{sort:?} {state:?}:\n{}",
                    plans.join("\n")
                );
            }
        }
        if db.backend == Backend::Postgres {
            // With the table scan priced out, even a tiny organisation's
            // search goes through an index.
            sqlx::query("SET enable_seqscan = off")
                .execute(&mut *conn)
                .await
                .expect("set");
            for text in ["brie", "si", ""] {
                let plans = query_plans(&mut conn, db.backend, &query(s.riverside, text))
                    .await
                    .expect("plan");
                assert!(
                    full_scans(db.backend, &plans).is_empty(),
                    "{}",
                    plans.join("\n")
                );
            }
        }
    }
);
