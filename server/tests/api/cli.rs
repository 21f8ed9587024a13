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
        "GATEHOUSE_DATABASE_URL",
        "GATEHOUSE_PUBLIC_URL",
        "GATEHOUSE_BIND_ADDRESS",
        "GATEHOUSE_DATA_DIR",
        "GATEHOUSE_SMTP_URL",
        "GATEHOUSE_SESSION_IDLE_TIMEOUT_MINUTES",
        "GATEHOUSE_SESSION_ABSOLUTE_TIMEOUT_HOURS",
        "GATEHOUSE_LOG_FORMAT",
        "GATEHOUSE_API_REQUESTS_PER_MINUTE",
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
