//! Users page search at scale (docs/benchmarks.md, "User search").
//!
//! Seeds a fresh database through the real migrations with `--users` accounts
//! (default 1,000,000) spread over `--organisations` (default 100), then times
//! `backend::search::search_users` for selective 3+ character searches, 2
//! character prefixes and a search that matches nothing, each next to the
//! same question answered by a plain LIKE (SQLite) / ILIKE (PostgreSQL) scan
//! over first name, last name, username and email.
//!
//! ```sh
//! cargo bench -p server --bench user_search -- --backend sqlite|postgres|both [--users 1000000]
//! ```
//!
//! PostgreSQL: a new database on `GATEHOUSE_BENCH_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), dropped afterwards unless
//! `--keep`. SQLite: a file in a temporary directory (kept with `--keep`).
// A benchmark measures real time.
#![allow(clippy::disallowed_methods)]
// A benchmark that cannot seed or measure should stop at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use backend::accounts::search::{Count, SortKey, UserQuery, search_users};
use backend::db::{Backend, Db};
use domain::search_key;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use support::{BenchDatabase, Error, label, load_average, ms, percentile};

mod support;

/// 2026-11-23 09:00 UTC, as in the tests.
const NOW: i64 = 1_795_424_400;
const PAGE: u32 = 50;

struct Options {
    backends: Vec<Backend>,
    users: usize,
    organisations: usize,
    queries: usize,
    scans: usize,
    keep: bool,
    explain: bool,
    /// An already seeded SQLite file / PostgreSQL database (from `--keep`).
    sqlite_file: Option<String>,
    postgres_database: Option<String>,
}

fn options() -> Result<Options, Error> {
    let mut options = Options {
        backends: vec![Backend::Sqlite, Backend::Postgres],
        users: 1_000_000,
        organisations: 100,
        queries: 200,
        scans: 10,
        keep: false,
        explain: false,
        sqlite_file: None,
        postgres_database: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--backend" => options.backends = support::backends(&value()?)?,
            "--users" => options.users = value()?.parse()?,
            "--organisations" => options.organisations = value()?.parse()?,
            "--queries" => options.queries = value()?.parse()?,
            "--scans" => options.scans = value()?.parse()?,
            "--keep" => options.keep = true,
            "--explain" => options.explain = true,
            "--sqlite-file" => options.sqlite_file = Some(value()?),
            "--postgres-database" => options.postgres_database = Some(value()?),
            // cargo bench passes --bench to every bench target.
            "--bench" => {}
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(options)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let options = options()?;
    println!(
        "user search: {} users in {} organisations, {} timed searches per case, {} scans\n",
        options.users, options.organisations, options.queries, options.scans
    );
    let people = People::generate(options.users, options.organisations);
    for backend in &options.backends {
        let database = match backend {
            Backend::Sqlite => BenchDatabase::sqlite(options.sqlite_file.as_deref()).await?,
            Backend::Postgres => {
                BenchDatabase::postgres(options.postgres_database.as_deref()).await?
            }
        };
        let db = Db::connect(&database.url).await?;
        let outcome = run(&db, &options, &people, database.fresh).await;
        db.pool.close().await;
        database.finish(options.keep).await?;
        outcome?;
    }
    Ok(())
}

async fn run(db: &Db, options: &Options, people: &People, fresh: bool) -> Result<(), Error> {
    let label = label(db.backend);
    db.migrate().await?;
    if fresh {
        let started = Instant::now();
        seed(db, people).await?;
        if db.backend == Backend::Postgres {
            // What autovacuum does shortly after a bulk load.
            sqlx::query("VACUUM ANALYZE users")
                .execute(&db.pool)
                .await?;
        }
        println!(
            "{label}: seeded in {:.0} s",
            started.elapsed().as_secs_f64()
        );
    }

    let mut rng = Rng(7);
    let organisations = options.organisations as i64;
    let cases = [
        Case::Selective,
        Case::Prefix,
        Case::NoMatch,
        Case::Common,
        Case::Everyone,
    ];
    println!("\n{label}: load average {}", load_average());
    println!(
        "\n| {label} | searches | p50 | p99 | rows found (mean) | org scan p50 | table scan p50 | ×org scan | ×table scan |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for case in cases {
        let questions: Vec<(i64, String)> = (0..options.queries)
            .map(|_| {
                (
                    1 + rng.below(organisations as u64) as i64,
                    case.text(people, &mut rng),
                )
            })
            .collect();
        if options.explain {
            let (organisation, text) = &questions[0];
            let mut conn = db.pool.acquire().await?;
            let plans = backend::accounts::search::query_plans(
                &mut conn,
                db.backend,
                &query(*organisation, text),
            )
            .await?;
            println!("plan for {text:?}:\n  {}", plans.join("\n  "));
        }
        // Warm-up, then the timed run.
        for (organisation, text) in questions.iter().take(20) {
            search(db, *organisation, text).await?;
        }
        let mut times = Vec::with_capacity(questions.len());
        let mut found = 0usize;
        for (organisation, text) in &questions {
            let started = Instant::now();
            let page = search(db, *organisation, text).await?;
            times.push(started.elapsed());
            found += match page.total {
                Count::Exact(n) | Count::AtLeast(n) => n as usize,
            };
        }
        let (org_scan, table_scan) = if case == Case::Everyone {
            (None, None)
        } else {
            let mut org_times = Vec::new();
            let mut table_times = Vec::new();
            for (organisation, text) in questions.iter().take(options.scans * 3) {
                let started = Instant::now();
                scan(db, *organisation, text, false).await?;
                org_times.push(started.elapsed());
            }
            for (organisation, text) in questions.iter().take(options.scans) {
                let started = Instant::now();
                scan(db, *organisation, text, true).await?;
                table_times.push(started.elapsed());
            }
            (
                Some(percentile(&mut org_times, 50)),
                Some(percentile(&mut table_times, 50)),
            )
        };
        let p50 = percentile(&mut times, 50);
        let p99 = percentile(&mut times, 99);
        let ratio = |scan: Option<Duration>| {
            scan.map_or("—".to_owned(), |scan| {
                format!("{:.0}×", scan.as_secs_f64() / p50.as_secs_f64())
            })
        };
        println!(
            "| {} | {} | {} | {} | {:.1} | {} | {} | {} | {} |",
            case.label(),
            questions.len(),
            ms(p50),
            ms(p99),
            found as f64 / questions.len() as f64,
            org_scan.map_or("—".to_owned(), ms),
            table_scan.map_or("—".to_owned(), ms),
            ratio(org_scan),
            ratio(table_scan),
        );
    }
    println!("\n{label}: load average {}\n", load_average());
    Ok(())
}

async fn search(
    db: &Db,
    organisation_id: i64,
    text: &str,
) -> Result<backend::accounts::search::UserPage, sqlx::Error> {
    search_users(db, &query(organisation_id, text)).await
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
        limit: PAGE,
        now: NOW,
    }
}

/// The same question without the search indexes: a page and a capped count
/// by LIKE (SQLite, case-insensitive for ASCII) or ILIKE (PostgreSQL) over
/// the four fields, of the organisation's rows (found by the foundation's
/// organisation index) or, with `whole_table`, of every row.
async fn scan(db: &Db, organisation_id: i64, text: &str, whole_table: bool) -> Result<(), Error> {
    let like = match db.backend {
        Backend::Sqlite => "LIKE",
        Backend::Postgres => "ILIKE",
    };
    let pattern = if text.chars().count() <= 2 {
        format!("{text}%")
    } else {
        format!("%{text}%")
    };
    let organisation = if whole_table {
        "organisation_id + 0"
    } else {
        "organisation_id"
    };
    let filter = format!(
        "{organisation} = $1 AND (first_name {like} $2 OR last_name {like} $2 OR username {like} $2 OR email {like} $2)"
    );
    let page: Vec<(i64, String)> = sqlx::query_as(&format!(
        "SELECT id, last_name FROM users WHERE {filter} ORDER BY last_name, first_name, id LIMIT {}",
        PAGE + 1
    ))
    .bind(organisation_id)
    .bind(&pattern)
    .fetch_all(&db.pool)
    .await?;
    let (count,): (i64,) = sqlx::query_as(&format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM users WHERE {filter} LIMIT 1001) AS matched"
    ))
    .bind(organisation_id)
    .bind(&pattern)
    .fetch_one(&db.pool)
    .await?;
    std::hint::black_box((page, count));
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    /// A fragment (4–5 characters) of one of the rarest surnames.
    Selective,
    /// The first two letters of a first or last name.
    Prefix,
    /// Matches nobody.
    NoMatch,
    /// A 3-letter fragment of the commonest names (not a target: many rows).
    Common,
    /// No text: the first page of everyone.
    Everyone,
}

impl Case {
    fn label(self) -> &'static str {
        match self {
            Case::Selective => "selective 3+ chars (rare surname fragment)",
            Case::Prefix => "2-char prefix",
            Case::NoMatch => "no match (\"qzxv\")",
            Case::Common => "common 3 chars (e.g. \"mar\", \"son\")",
            Case::Everyone => "no text (first page, everyone)",
        }
    }

    fn text(self, people: &People, rng: &mut Rng) -> String {
        match self {
            Case::Selective => {
                let last = LAST_NAMES.len();
                let name = search_key(LAST_NAMES[last - 1 - rng.below(30) as usize]);
                let chars: Vec<char> = name.chars().filter(|c| c.is_alphanumeric()).collect();
                let length = (4 + rng.below(2) as usize).min(chars.len());
                let start = rng.below((chars.len() - length + 1) as u64) as usize;
                chars[start..start + length].iter().collect()
            }
            Case::Prefix => {
                let person = &people.rows[rng.below(people.rows.len() as u64) as usize];
                let key = if rng.below(2) == 0 {
                    &person.first_key
                } else {
                    &person.last_key
                };
                key.chars().take(2).collect()
            }
            Case::NoMatch => "qzxv".to_owned(),
            Case::Common => ["mar", "son", "ann", "ell", "ber"][rng.below(5) as usize].to_owned(),
            Case::Everyone => String::new(),
        }
    }
}

/// Deterministic pseudo-random numbers (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Picks index i with weight 1 / (i + 1)^s: a few names are common, many rare.
struct Zipf(Vec<f64>);

impl Zipf {
    fn new(n: usize, s: f64) -> Zipf {
        let mut total = 0.0;
        Zipf(
            (0..n)
                .map(|i| {
                    total += 1.0 / ((i + 1) as f64).powf(s);
                    total
                })
                .collect(),
        )
    }

    fn pick(&self, rng: &mut Rng) -> usize {
        let total = self.0.last().copied().unwrap_or(1.0);
        let target = (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * total;
        self.0.partition_point(|&cumulative| cumulative < target)
    }
}

struct Person {
    organisation: i64,
    kind: &'static str,
    state: &'static str,
    first: &'static str,
    last: String,
    first_key: String,
    last_key: String,
    username: String,
    email: String,
    initials: String,
    created_at: i64,
}

struct People {
    organisations: usize,
    rows: Vec<Person>,
}

impl People {
    fn generate(users: usize, organisations: usize) -> People {
        let mut rng = Rng(42);
        let firsts = Zipf::new(FIRST_NAMES.len(), 0.9);
        let lasts = Zipf::new(LAST_NAMES.len(), 1.0);
        let mut taken: HashMap<String, u32> = HashMap::new();
        let mut per_organisation = vec![0u32; organisations.max(1)];
        let rows = (0..users)
            .map(|i| {
                let organisation = rng.below(organisations as u64) as usize;
                per_organisation[organisation] += 1;
                let first = FIRST_NAMES[firsts.pick(&mut rng)];
                let mut last = LAST_NAMES[lasts.pick(&mut rng)].to_owned();
                if rng.below(20) == 0 {
                    last = format!("{last}-{}", LAST_NAMES[lasts.pick(&mut rng)]);
                }
                let stem = format!("{}.{}", ascii(first), ascii(&last));
                let stem: String = stem.chars().take(26).collect();
                let n = taken.entry(stem.clone()).or_insert(0);
                *n += 1;
                let username = if *n == 1 { stem } else { format!("{stem}{n}") };
                let domain = DOMAINS[organisation % DOMAINS.len()];
                let email = match rng.below(4) {
                    0 => format!(
                        "{}@{domain}{}.example",
                        username.replace('.', "_"),
                        organisation + 1
                    ),
                    _ => format!("{username}@{domain}{}.example", organisation + 1),
                };
                let state = match rng.below(10) {
                    0 => "pending",
                    1 => "deactivated",
                    _ => "active",
                };
                Person {
                    organisation: organisation as i64 + 1,
                    kind: if rng.below(30) == 0 { "api" } else { "person" },
                    state,
                    first,
                    first_key: search_key(first),
                    last_key: search_key(&last),
                    last,
                    username,
                    email,
                    initials: base36(per_organisation[organisation]),
                    created_at: NOW - 5 * 365 * 86_400 + (i as i64 * 157) % (5 * 365 * 86_400),
                }
            })
            .collect();
        People {
            organisations,
            rows,
        }
    }
}

/// What a username keeps of a name: lower-case ASCII letters and hyphens.
fn ascii(name: &str) -> String {
    search_key(name)
        .chars()
        .filter(|c| c.is_ascii_lowercase() || *c == '-')
        .collect()
}

fn base36(mut n: u32) -> String {
    let digits = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = Vec::new();
    loop {
        out.push(digits[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

/// Multi-row INSERTs of 1,000 rows in transactions of 50,000, with the
/// migrations' indexes and triggers in place.
async fn seed(db: &Db, people: &People) -> Result<(), Error> {
    use sqlx::Acquire;
    let mut conn = db.pool.acquire().await?;
    if db.backend == Backend::Sqlite {
        // A page cache big enough for the indexes while loading (1 GiB).
        sqlx::query("PRAGMA cache_size = -1048576")
            .execute(&mut *conn)
            .await?;
    }
    let mut tx = conn.begin().await?;
    for organisation in 1..=people.organisations {
        sqlx::query("INSERT INTO organisations (name, created_at) VALUES ($1, $2)")
            .bind(format!("Organisation {organisation}"))
            .bind(NOW)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;

    const COLUMNS: usize = 15;
    let batch = 1000;
    for (n, chunk) in people.rows.chunks(50_000).enumerate() {
        let mut tx = conn.begin().await?;
        for rows in chunk.chunks(batch) {
            let values: Vec<String> = (0..rows.len())
                .map(|r| {
                    let p: Vec<String> = (1..=COLUMNS)
                        .map(|c| format!("${}", r * COLUMNS + c))
                        .collect();
                    format!("({})", p.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO users (organisation_id, kind, state, first_name, last_name, email, email_normalized, \
                 username, initials, created_at, activated_at, updated_at, first_name_key, last_name_key, search_text) \
                 VALUES {}",
                values.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for p in rows {
                let search_text = [
                    p.first_key.as_str(),
                    &p.last_key,
                    &p.username.to_lowercase(),
                    &search_key(&p.email),
                ]
                .join(" ");
                query = query
                    .bind(p.organisation)
                    .bind(p.kind)
                    .bind(p.state)
                    .bind(p.first)
                    .bind(p.last.clone())
                    .bind(p.email.clone())
                    .bind(p.email.to_lowercase())
                    .bind(p.username.clone())
                    .bind(p.initials.clone())
                    .bind(p.created_at)
                    .bind((p.state != "pending").then_some(p.created_at))
                    .bind(p.created_at)
                    .bind(p.first_key.clone())
                    .bind(p.last_key.clone())
                    .bind(search_text);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        if n % 4 == 3 {
            eprint!("\r  {} rows", (n + 1) * 50_000);
        }
    }
    eprintln!();
    Ok(())
}

const DOMAINS: [&str; 5] = ["riverside", "northfield", "school", "academy", "college"];

/// In rough order of frequency (the sampler makes the first ones common).
const FIRST_NAMES: [&str; 120] = [
    "James",
    "Olivia",
    "Mohammed",
    "Amelia",
    "Oliver",
    "Isla",
    "Noah",
    "Ava",
    "George",
    "Mia",
    "Harry",
    "Sophie",
    "Leo",
    "Grace",
    "Jack",
    "Lily",
    "Charlie",
    "Freya",
    "Oscar",
    "Emily",
    "Muhammad",
    "Ella",
    "Arthur",
    "Chloé",
    "Thomas",
    "Zoë",
    "William",
    "Siân",
    "Henry",
    "Ivy",
    "Jacob",
    "Evie",
    "Joshua",
    "Florence",
    "Alfie",
    "Poppy",
    "Theo",
    "Rosie",
    "Lucas",
    "Willow",
    "Maria",
    "Anna",
    "José",
    "Ana",
    "Juan",
    "Lucía",
    "Mateo",
    "Martina",
    "Jean-Luc",
    "Françoise",
    "Renée",
    "Hélène",
    "Björn",
    "Åsa",
    "Søren",
    "Ingrid",
    "Łukasz",
    "Małgorzata",
    "Jiří",
    "Tereza",
    "Dvořák",
    "Zoltán",
    "Ágnes",
    "Mehmet",
    "Ayşe",
    "Çağla",
    "Nguyễn",
    "Thảo",
    "Minh",
    "Ngọc",
    "Aoife",
    "Niamh",
    "Seán",
    "Róisín",
    "Eoin",
    "Dafydd",
    "Rhiannon",
    "Gwenllian",
    "Iestyn",
    "Ffion",
    "Priya",
    "Arjun",
    "Aarav",
    "Ananya",
    "Wei",
    "Mei",
    "Hiroshi",
    "Yuki",
    "Kwame",
    "Amara",
    "Chidi",
    "Ngozi",
    "Fatima",
    "Aisha",
    "Omar",
    "Layla",
    "Yusuf",
    "Zainab",
    "Mateus",
    "João",
    "Gonçalo",
    "Inês",
    "Matthias",
    "Jürgen",
    "Käthe",
    "Günther",
    "Lőrinc",
    "Bożena",
    "Øystein",
    "Þóra",
    "Mary Ann",
    "Anne-Marie",
    "D’Arcy",
    "Élodie",
    "Maëlle",
    "Noémie",
    "Ophélie",
    "Raphaël",
    "Zoé",
    "Anaïs",
];

/// In rough order of frequency; the last ones are rare (a few per organisation).
const LAST_NAMES: [&str; 200] = [
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Johnson",
    "Roberts",
    "Robinson",
    "Thompson",
    "Wright",
    "Walker",
    "White",
    "Edwards",
    "Hughes",
    "Green",
    "Hall",
    "Lewis",
    "Harris",
    "Clarke",
    "Patel",
    "Jackson",
    "Wood",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Morris",
    "Moore",
    "Clark",
    "Lee",
    "King",
    "Baker",
    "Harrison",
    "Morgan",
    "Allen",
    "James",
    "Scott",
    "Phillips",
    "Watson",
    "Davis",
    "Parker",
    "Price",
    "Bennett",
    "Young",
    "Griffiths",
    "Mitchell",
    "Kelly",
    "Cook",
    "Carter",
    "Richardson",
    "Bailey",
    "Collins",
    "Bell",
    "Shaw",
    "Murphy",
    "Miller",
    "Cox",
    "Richards",
    "Khan",
    "Marshall",
    "Anderson",
    "Simpson",
    "Ellis",
    "Adams",
    "Singh",
    "Begum",
    "Wilkinson",
    "Foster",
    "Chapman",
    "Powell",
    "Webb",
    "Rogers",
    "Gray",
    "Mason",
    "Ali",
    "O’Brien",
    "O’Connor",
    "McCarthy",
    "Ó Súilleabháin",
    "Ní Bhriain",
    "García",
    "Fernández",
    "González",
    "Rodríguez",
    "López",
    "Martínez",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Jiménez",
    "Muñoz",
    "Álvarez",
    "Müller",
    "Schröder",
    "Groß",
    "Böhm",
    "Köhler",
    "Weiß",
    "Krämer",
    "Lefèvre",
    "Dubois",
    "Moreau",
    "Fontaine",
    "Chevalier",
    "Gérard",
    "Lemaître",
    "Bérénger",
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Võ",
    "Đặng",
    "Kowalski",
    "Wiśniewski",
    "Wójcik",
    "Kamiński",
    "Lewandowski",
    "Zieliński",
    "Szymański",
    "Woźniak",
    "Dąbrowski",
    "Kozłowski",
    "Novák",
    "Dvořáková",
    "Černý",
    "Procházka",
    "Kučera",
    "Horváth",
    "Szabó",
    "Tóth",
    "Kovács",
    "Varga",
    "Yılmaz",
    "Kaya",
    "Demir",
    "Şahin",
    "Çelik",
    "Yıldız",
    "Öztürk",
    "Aydın",
    "Özdemir",
    "Arslan",
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Sørensen",
    "Jørgensen",
    "Håkansson",
    "Østergaard",
    "Ødegård",
    "Okafor",
    "Adeyemi",
    "Mensah",
    "Boateng",
    "Okonkwo",
    "Nwosu",
    "Achebe",
    "Eze",
    "Abiodun",
    "Oyelaran",
    "Tanaka",
    "Suzuki",
    "Takahashi",
    "Watanabe",
    "Yamamoto",
    "Nakamura",
    "Kobayashi",
    "Saitō",
    "Katō",
    "Yoshida",
    "Gruffudd",
    "Llewelyn",
    "Pritchard",
    "Vaughan",
    "ap Rhys",
    "Cadwaladr",
    "Trefor",
    "Bowen",
    "Pryce",
    "Tudur",
    "Fitzgerald-Pryor",
    "Vanderbilt",
    "Quackenbush",
    "Wolstenholme",
    "Featherstonehaugh",
    "Cholmondeley",
    "Marjoribanks",
    "Ffoulkes",
    "Urquhart",
    "Xiberras",
];
