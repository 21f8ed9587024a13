//! The `gatehouse` binary itself: settings errors, commands and the setup
//! link printed on first start.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `gatehouse ARGS` and returns its stdout, failing the test if it fails.
fn succeeds(data_dir: &std::path::Path, args: &[&str]) -> String {
    let output = gatehouse(data_dir).args(args).output().expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn gatehouse(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GATEHOUSE_DATA_DIR", data_dir)
        .current_dir(data_dir);
    command
}

#[test]
fn help_explains_every_command_and_setting() {
    let dir = tempfile::tempdir().expect("dir");
    let output = gatehouse(dir.path()).arg("--help").output().expect("run");
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    for word in [
        "serve",
        "migrate",
        "create-org",
        "create-admin",
        "rotate-signing-keys",
        "GATEHOUSE_DATABASE_URL",
        "GATEHOUSE_PUBLIC_URL",
        "GATEHOUSE_BIND_ADDRESS",
        "GATEHOUSE_DATA_DIR",
        "GATEHOUSE_SMTP_URL",
        "GATEHOUSE_SESSION_IDLE_TIMEOUT_MINUTES",
        "GATEHOUSE_SESSION_ABSOLUTE_TIMEOUT_HOURS",
        "GATEHOUSE_LOG_FORMAT",
        "GATEHOUSE_API_REQUESTS_PER_MINUTE",
        "GATEHOUSE_FORWARDED_FOR_PROXIES",
        "GATEHOUSE_PASSWORD_QUEUE",
    ] {
        assert!(help.contains(word), "--help does not mention {word}");
    }
}

#[test]
fn a_bad_setting_stops_start_up_naming_the_setting() {
    let dir = tempfile::tempdir().expect("dir");
    let output = gatehouse(dir.path())
        .env("GATEHOUSE_PUBLIC_URL", "accounts.example.org")
        .arg("migrate")
        .output()
        .expect("run");
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("public_url"), "{error}");

    let output = gatehouse(dir.path())
        .env("GATEHOUSE_SESSION_IDLE_TIMEOUT_MINUTES", "soon")
        .arg("migrate")
        .output()
        .expect("run");
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr).to_lowercase();
    assert!(error.contains("session_idle_timeout_minutes"), "{error}");
}

#[test]
fn other_variables_sharing_the_prefix_do_not_stop_start_up() {
    let dir = tempfile::tempdir().expect("dir");
    let output = gatehouse(dir.path())
        .env("GATEHOUSE_TOOLS_DIR", "/somewhere")
        .env("GATEHOUSE_TEST_POSTGRES_URL", "postgres://elsewhere")
        .arg("migrate")
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_settings_file_is_read_and_the_environment_wins() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("settings.toml");
    std::fs::write(
        &file,
        "public_url = \"https://from-file.example\"\nlog_format = \"xml\"\n",
    )
    .expect("write");
    let output = gatehouse(dir.path())
        .arg("--config")
        .arg(&file)
        .arg("migrate")
        .output()
        .expect("run");
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(
        error.contains("log_format"),
        "the file's bad value is reported: {error}"
    );
    let output = gatehouse(dir.path())
        .env("GATEHOUSE_LOG_FORMAT", "json")
        .arg("--config")
        .arg(&file)
        .arg("create-admin")
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let link = String::from_utf8_lossy(&output.stdout);
    assert!(
        link.starts_with("https://from-file.example/setup/"),
        "{link}"
    );
}

#[test]
fn create_org_then_create_admin_prints_a_link_for_that_organisation() {
    let dir = tempfile::tempdir().expect("dir");
    let created = succeeds(dir.path(), &["create-org", "--name", "Hillside Academy"]);
    assert!(
        created.contains("Created organisation 1: Hillside Academy"),
        "{created}"
    );

    let link = succeeds(
        dir.path(),
        &["create-admin", "--organisation", "Hillside Academy"],
    )
    .trim()
    .to_owned();
    let token = link
        .strip_prefix("http://127.0.0.1:3000/setup/")
        .expect("a setup link");
    assert_eq!(token.len(), 64);

    let output = gatehouse(dir.path())
        .args(["create-admin", "--organisation", "Nowhere School"])
        .output()
        .expect("run");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("Nowhere School"));

    let output = gatehouse(dir.path())
        .args(["create-org", "--name", "   "])
        .output()
        .expect("run");
    assert!(!output.status.success());
}

#[test]
fn the_first_start_prints_a_one_time_setup_link_and_serves() {
    let dir = tempfile::tempdir().expect("dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut child = gatehouse(dir.path())
        .env("GATEHOUSE_BIND_ADDRESS", format!("127.0.0.1:{port}"))
        .env("GATEHOUSE_PUBLIC_URL", format!("http://localhost:{port}"))
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start");
    let stdout = child.stdout.take().expect("stdout");
    let prefix = format!("http://localhost:{port}/setup/");
    let (found, link_seen) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let link = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find(|line| line.trim().starts_with(&prefix));
        let _ = found.send(link);
    });
    let link = link_seen
        .recv_timeout(Duration::from_secs(20))
        .ok()
        .flatten();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut ready = false;
    while Instant::now() < deadline && !ready {
        ready = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(link.is_some(), "no setup link printed");
    assert!(ready, "the server did not listen");
    assert!(
        dir.path().join("gatehouse.db").exists(),
        "the SQLite file is created in the data directory"
    );
}

/// A form post as a browser makes it; its status (0 when unanswered).
fn post_form(client: &reqwest::blocking::Client, url: &str, form: &[(&str, &str)]) -> u16 {
    client
        .post(url)
        .form(form)
        .send()
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// `gatehouse serve` running on a free port, its log going to a file.
struct Served {
    base: String,
    log_path: std::path::PathBuf,
    child: std::process::Child,
}

/// Starts `gatehouse serve` in `data_dir` with the environment `env` added;
/// its stdout (where the setup link is printed) is piped.
fn serve(data_dir: &std::path::Path, env: &[(&str, &str)]) -> Served {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let log_path = data_dir.join("server.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let child = gatehouse(data_dir)
        .env("GATEHOUSE_BIND_ADDRESS", format!("127.0.0.1:{port}"))
        .env("GATEHOUSE_PUBLIC_URL", &base)
        .envs(env.iter().copied())
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("start");
    Served {
        base,
        log_path,
        child,
    }
}

#[test]
fn link_tokens_never_reach_the_log_even_at_debug_level() {
    let dir = tempfile::tempdir().expect("dir");
    let Served {
        base,
        log_path,
        mut child,
    } = serve(dir.path(), &[("RUST_LOG", "debug")]);
    let stdout = child.stdout.take().expect("stdout");
    let prefix = format!("{base}/setup/");
    let setup_token = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| line.trim().strip_prefix(&prefix).map(str::to_owned))
        .expect("the setup link");
    let client = reqwest::blocking::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.get(format!("{base}/ready")).send().is_err() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }

    // The setup link: its page, what it will do, and its form.
    let page = client
        .get(format!("{base}/setup/{setup_token}"))
        .header("accept", "text/html")
        .send()
        .expect("page");
    assert_eq!(page.status().as_u16(), 200);
    let mut form = vec![("token", setup_token.as_str())];
    form.extend([
        ("organisation_name", "Riverside College"),
        ("first_name", "Siân"),
        ("last_name", "O’Brien"),
        ("email", "sian@riverside.example"),
        ("generate_username", "on"),
        ("username", ""),
        ("initials", "SO"),
        ("password", "correct horse battery staple 42"),
    ]);
    assert_eq!(
        post_form(&client, &format!("{base}/fn/complete_setup"), &form),
        200
    );

    // A set-password link from the forgotten-password form, delivered by
    // the server's own mail worker as a file.
    let asked = post_form(
        &client,
        &format!("{base}/fn/forgotten_password"),
        &[("login", "sian@riverside.example")],
    );
    assert_eq!(asked, 200);
    let mail_dir = dir.path().join("mail");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mail = loop {
        let found = std::fs::read_dir(&mail_dir).ok().and_then(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "eml"))
        });
        if let Some(path) = found {
            let raw = std::fs::read(path).expect("mail");
            let message = mail_parser::MessageParser::default()
                .parse(&raw)
                .expect("a parseable message");
            break message.body_text(0).expect("a text body").into_owned();
        }
        assert!(Instant::now() < deadline, "no mail written");
        std::thread::sleep(Duration::from_millis(200));
    };
    let link_prefix = format!("{base}/set-password/");
    let password_token: String = mail
        .split(&link_prefix)
        .nth(1)
        .expect("a set-password link")
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    assert_eq!(password_token.len(), 64);
    let page = client
        .get(format!("{base}/set-password/{password_token}"))
        .header("accept", "text/html")
        .send()
        .expect("page");
    assert_eq!(page.status().as_u16(), 200);
    let chosen = post_form(
        &client,
        &format!("{base}/fn/choose_password"),
        &[
            ("token", password_token.as_str()),
            ("password", "a different passphrase for 2027"),
        ],
    );
    assert_eq!(chosen, 200);
    // A used link, tried again, fails without naming itself either.
    client
        .get(format!("{base}/set-password/{password_token}"))
        .header("accept", "text/html")
        .send()
        .expect("page");

    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(&log_path).expect("log");
    assert!(
        log.contains("/setup/{token}"),
        "spans name the route: {log}"
    );
    for token in [&setup_token, &password_token] {
        assert!(!log.contains(token.as_str()), "a link token in the log");
        assert!(
            !log.contains(&token[..16]),
            "part of a link token in the log"
        );
    }
}

#[test]
fn rotate_signing_keys_makes_new_keys_and_names_the_retired_ones() {
    let dir = tempfile::tempdir().expect("dir");
    let first = succeeds(dir.path(), &["rotate-signing-keys"]);
    assert!(first.starts_with("New signing keys: "), "{first}");
    assert!(
        !first.contains("Retired"),
        "nothing to retire on a fresh database: {first}"
    );
    let new_kids: Vec<&str> = first
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("New signing keys: "))
        .expect("kids")
        .split(", ")
        .collect();
    assert_eq!(new_kids.len(), 2, "RS256 and EdDSA");
    let second = succeeds(dir.path(), &["rotate-signing-keys"]);
    let retired = second
        .lines()
        .find(|line| line.starts_with("Retired"))
        .unwrap_or_else(|| panic!("the old keys are named: {second}"));
    for kid in new_kids {
        assert!(retired.contains(kid), "{retired}");
    }
}

#[test]
fn each_request_is_one_log_line_with_route_status_latency_and_id() {
    let dir = tempfile::tempdir().expect("dir");
    let Served {
        base,
        log_path,
        mut child,
    } = serve(dir.path(), &[("GATEHOUSE_LOG_FORMAT", "json")]);
    let client = reqwest::blocking::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let answered = loop {
        match client
            .get(format!("{base}/ready"))
            .header("x-request-id", "probe-1")
            .send()
        {
            Ok(response) => break response.status().as_u16(),
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Err(error) => panic!("the server never answered: {error}"),
        }
    };
    assert_eq!(answered, 200);
    let line = loop {
        let text = std::fs::read_to_string(&log_path).expect("log");
        let found = text
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .find(|entry| entry["span"]["request_id"] == "probe-1");
        match found {
            Some(entry) => break entry,
            None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            None => panic!("no line for the request in:\n{text}"),
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(line["level"], "INFO", "{line}");
    assert_eq!(line["span"]["method"], "GET", "{line}");
    assert_eq!(line["span"]["route"], "/ready", "{line}");
    assert_eq!(line["fields"]["status"], 200, "{line}");
    assert!(
        line["fields"]["latency"]
            .as_str()
            .is_some_and(|l| l.ends_with("ms")),
        "{line}"
    );
    let lines = std::fs::read_to_string(&log_path)
        .expect("log")
        .lines()
        .filter(|line| line.contains("probe-1"))
        .count();
    assert_eq!(lines, 1, "one line per request");
}
