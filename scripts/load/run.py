#!/usr/bin/env python3
"""Gatehouse under a mixed load, and under faults (docs/benchmarks.md, "Under
load and faults"). Run it with scripts/load.sh, which builds the release and
installs the pinned load tools first.

It starts the release binary (one replica, or several behind HAProxy) on a
fresh PostgreSQL database, sets up an organisation over HTTP as a person
would (setup link, two-factor enrolment, welcome emails, chosen passwords),
gives each simulated client an account of its own, runs locust
(scripts/load/locustfile.py), and can meanwhile stop PostgreSQL for a while
or kill a replica. Afterwards it checks that nothing was lost or half
written: every person whose addition was acknowledged exists, every person
added has exactly one welcome email and it was delivered, and a deactivated
account's sessions are refused by every replica. It prints per request
kind: count, failures, p50 and p99, and each failure with its count.
Exits non-zero when a check fails, or when a run without faults had
failures.
"""

import argparse
import csv
import email
import email.policy
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pyotp
import requests

from names import CODE_STEP_SECONDS, letters

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/gatehouse/target"))
PASSWORD = "correct horse battery staple 42"
WITNESS_EMAIL = "witness@riverside.example"


def postgres(action: str, *extra: str, check: bool = True):
    """Stops or starts the machine's PostgreSQL cluster (Debian's pg_ctlcluster)."""
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action, *extra],
                   check=check, capture_output=not check)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(url: str, sql: str) -> list[list[str]]:
    out = subprocess.run(
        ["psql", url, "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True, capture_output=True, text=True,
    ).stdout
    return [line.split("\t") for line in out.splitlines() if line]


class Replica:
    """One `gatehouse serve` process."""

    def __init__(self, number: int, env: dict, logs: Path):
        self.number = number
        self.port = free_port()
        self.address = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "GATEHOUSE_BIND_ADDRESS": f"127.0.0.1:{self.port}"}
        self.log = logs / f"replica-{number}.log"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [str(TARGET / "release/gatehouse"), "serve"],
            env=self.env, stdout=open(self.log, "a"), stderr=subprocess.STDOUT,
        )
        wait_until(lambda: requests.get(f"{self.address}/ready", timeout=1).ok, f"replica {self.number} ready")

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def setup_link(self) -> str:
        found = re.search(r"/setup/[0-9a-f]+", self.log.read_text())
        if not found:
            raise SystemExit(f"no setup link in {self.log}")
        return found.group(0)


def wait_until(check, what: str, seconds: float = 60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if check():
                return
        except (requests.RequestException, OSError, subprocess.CalledProcessError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for: {what}")


class Browser:
    """A person's browser, as far as the server can tell: cookies, and the
    Origin header the app's forms send. Server functions answer a redirect
    as 200 with a Location header."""

    def __init__(self, address: str, origin: str):
        self.address = address
        self.http = requests.Session()
        self.http.headers["Origin"] = origin

    def call(self, function: str, fields, expect_location: str | None = None) -> requests.Response:
        response = self.http.post(f"{self.address}/fn/{function}", data=fields, allow_redirects=False, timeout=30)
        location = response.headers.get("location", "")
        if response.status_code != 200 or (expect_location and not location.startswith(expect_location)):
            raise SystemExit(f"{function}: {response.status_code} {location} {response.text[:300]}")
        return response

    def enrol(self) -> str:
        key = self.call("two_factor_enrolment", {}).json()["key"].replace(" ", "")
        self.call("confirm_two_factor", {"code": pyotp.TOTP(key).now()}, "/two-factor/recovery-codes")
        return key

    def signed_in(self) -> bool:
        return self.call("whoami", {}).json() is not None


def written_mail(mail_dir: Path):
    """(recipient's address, plain text) of each .eml file the server wrote."""
    for path in mail_dir.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        yield message["To"].addresses[0].addr_spec, message.get_body(preferencelist=("plain",)).get_content()


def welcome_links(mail_dir: Path) -> dict[str, str]:
    """Recipient → activation path."""
    links = {}
    for recipient, text in written_mail(mail_dir):
        found = re.search(r"/activate/[0-9a-f]+", text)
        if found:
            links[recipient] = found.group(0)
    return links


def seed(entry: str, origin: str, setup_link: str, clients: int, mail_dir: Path):
    """The organisation, its administrator, one account per client (User
    administrator, two-factor enrolled) and a witness without roles; returns the
    administrator's browser, the accounts and the witness's details."""
    admin = Browser(entry, origin)
    admin.call("complete_setup", {
        "token": setup_link.rsplit("/", 1)[1], "organisation_name": "Riverside College",
        "first_name": "Siân", "last_name": "O’Brien", "email": "sian.obrien@riverside.example",
        "generate_username": "on", "username": "", "initials": "SO", "password": PASSWORD,
    })
    admin.enrol()
    roles = admin.http.get(f"{entry}/roles", timeout=30).text
    user_administrator = re.search(r'href="/roles/(\d+)"[^>]*>User administrator<', roles)
    if not user_administrator:
        raise SystemExit("no User administrator role on /roles")

    people = []
    for n in range(clients + 1):
        witness = n == clients
        first, last = ("Wyn", "Witness") if witness else ("Staff", f"Member-{letters(n, 3)}")
        address = WITNESS_EMAIL if witness else f"staff.{n}@riverside.example"
        added = admin.call("add_user", {
            "first_name": first, "last_name": last, "email": address, "generate_username": "on",
            "username": "", "initials": f"A{letters(n, 3)}", "send_welcome_email": "on",
        }, "/users/")
        user_id = int(added.headers["location"].rsplit("/", 1)[1])
        if not witness:
            admin.call("save_user_access", {"id": user_id, "roles[]": user_administrator.group(1)})
        people.append((user_id, address, witness))
    wait_until(lambda: len(welcome_links(mail_dir)) >= len(people), "the welcome emails", 120)
    links = welcome_links(mail_dir)

    accounts, witness_browser, witness_id = [], None, None
    ids = [user_id for user_id, _, _ in people]
    for index, (user_id, address, witness) in enumerate(people):
        person = Browser(entry, origin)
        if witness:
            person.call("choose_password", {"token": links[address].rsplit("/", 1)[1], "password": PASSWORD})
            witness_browser, witness_id = person, user_id
            continue
        person.call("choose_password", {"token": links[address].rsplit("/", 1)[1], "password": PASSWORD},
                    "/two-factor/enrol")
        secret = person.enrol()
        accounts.append({
            "index": index, "login": address, "password": PASSWORD, "totp_secret": secret,
            "enrolled_at": time.time(), "colleague_ids": ids,
        })
    return admin, accounts, witness_browser, witness_id


def haproxy_config(port: int, replicas: list[Replica]) -> str:
    servers = "\n".join(
        f"    server replica{r.number} 127.0.0.1:{r.port} check inter 500ms fall 2 rise 2" for r in replicas
    )
    # A request that could not reach a replica is sent to another; a read
    # (GET, HEAD) that a dying replica never answered is sent again; a
    # change that reached a replica is never sent twice.
    return f"""global
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    retries 3
    option redispatch
    retry-on conn-failure empty-response response-timeout
    option forwardfor
frontend gatehouse
    bind 127.0.0.1:{port}
    default_backend replicas
backend replicas
    balance roundrobin
    http-request disable-l7-retry if !METH_GET !METH_HEAD
    option httpchk GET /ready
    http-check expect status 200
{servers}
"""


def after(seconds: float, action):
    timer = threading.Timer(seconds, action)
    timer.daemon = True
    timer.start()
    return timer


def read_stats(prefix: Path):
    kinds = []
    with open(f"{prefix}_stats.csv", newline="") as f:
        for row in csv.DictReader(f):
            kinds.append((row["Name"], int(row["Request Count"]), int(row["Failure Count"]), row["50%"], row["99%"]))
    failures = []
    with open(f"{prefix}_failures.csv", newline="") as f:
        for row in csv.DictReader(f):
            failures.append((row["Name"], row["Error"], int(row["Occurrences"])))
    return kinds, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--spawn-rate", type=float, default=10, help="clients started per second")
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--stop-postgres-at", type=float, help="seconds into the load")
    parser.add_argument("--postgres-down-for", type=float, default=5)
    parser.add_argument("--kill-replica-at", type=float, help="seconds into the load (needs --replicas 2)")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    if args.kill_replica_at is not None and args.replicas < 2:
        parser.error("--kill-replica-at needs --replicas 2 or more")

    database = f"gatehouse_load_{os.getpid()}"
    psql(f"{args.postgres}/postgres", f"CREATE DATABASE {database}")
    work = Path(tempfile.mkdtemp(prefix="gatehouse-load-"))
    balancer_port = free_port()
    replicas_behind = args.replicas > 1
    env = {
        **os.environ,
        "GATEHOUSE_DATABASE_URL": f"{args.postgres}/{database}",
        "GATEHOUSE_DATA_DIR": str(work / "data"),
        "GATEHOUSE_SITE_ROOT": str(ROOT / "target/site"),
        "GATEHOUSE_TWO_FACTOR_KEY": secrets.token_hex(32),
        # Each simulated client sends its own address (X-Forwarded-For), as
        # if an outer proxy had set it; HAProxy appends its own hop.
        "GATEHOUSE_TRUST_FORWARDED_FOR": "true",
        "GATEHOUSE_FORWARDED_FOR_PROXIES": "2" if replicas_behind else "1",
        "RUST_LOG": "warn",
    }
    replicas = [Replica(n, env, work) for n in range(args.replicas)]
    entry = f"http://127.0.0.1:{balancer_port}" if replicas_behind else replicas[0].address
    for replica in replicas:
        replica.env["GATEHOUSE_PUBLIC_URL"] = entry
    balancer = None
    ok = True
    try:
        replicas[0].start()
        for replica in replicas[1:]:
            replica.start()
        if replicas_behind:
            (work / "haproxy.cfg").write_text(haproxy_config(balancer_port, replicas))
            balancer = subprocess.Popen(["haproxy", "-f", str(work / "haproxy.cfg")],
                                        stdout=open(work / "haproxy.log", "w"), stderr=subprocess.STDOUT)
            wait_until(lambda: balancer.poll() is None and requests.get(f"{entry}/ready", timeout=1).ok
                       or balancer.poll() is not None and sys.exit(f"HAProxy stopped: {work}/haproxy.log"),
                       "HAProxy")
        print(f"seeding {args.clients} accounts through {entry} ...", flush=True)
        admin, accounts, witness, witness_id = seed(
            # Each replica started before set-up prints a new link, which
            # replaces the one before.
            entry, entry, replicas[-1].setup_link(), args.clients, work / "data/mail")
        # The witness is signed in on every replica, directly.
        witnesses = []
        for replica in replicas:
            browser = Browser(replica.address, entry)
            browser.call("sign_in", {"login": WITNESS_EMAIL, "password": PASSWORD})
            if not browser.signed_in():
                raise SystemExit(f"the witness is not signed in on replica {replica.number}")
            witnesses.append((replica, browser))
        (work / "accounts.json").write_text(json.dumps(accounts))
        # Enrolment used each account's code of this step, and a code works
        # once: the load starts in the next step.
        time.sleep(CODE_STEP_SECONDS - time.time() % CODE_STEP_SECONDS + 0.5)
        added_file = work / "added.jsonl"
        added_file.touch()

        events = []
        if args.stop_postgres_at is not None:
            def stop_postgres():
                events.append(f"{time.strftime('%H:%M:%S')} PostgreSQL stopped for {args.postgres_down_for:g} s")
                postgres("stop", "-m", "fast")
                time.sleep(args.postgres_down_for)
                postgres("start")
                events.append(f"{time.strftime('%H:%M:%S')} PostgreSQL started")
            after(args.stop_postgres_at, stop_postgres)
        if args.kill_replica_at is not None:
            def kill_replica():
                replicas[-1].kill()
                events.append(f"{time.strftime('%H:%M:%S')} replica {replicas[-1].number} killed (SIGKILL)")
            after(args.kill_replica_at, kill_replica)

        print(f"locust: {args.clients} clients for {args.seconds} s", flush=True)
        started = time.strftime("%H:%M:%S")
        subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(ROOT / "scripts/load/locustfile.py"), "--headless",
             "--users", str(args.clients), "--spawn-rate", str(args.spawn_rate), "--run-time", f"{args.seconds}s",
             "--host", entry, "--csv", str(work / "locust"), "--only-summary", "--loglevel", "WARNING"],
            env={**os.environ, "GATEHOUSE_LOAD_ACCOUNTS": str(work / "accounts.json"),
                 "GATEHOUSE_LOAD_ADDED": str(added_file)},
            check=False,
        )
        for line in [f"{started} load started", *events]:
            print(line)

        # Everything the load added must be there, once, with its email sent.
        if replicas[-1].process.poll() is not None:
            replicas[-1].start()
        acknowledged = {json.loads(line)["email"] for line in added_file.read_text().splitlines()}
        db_url = f"{args.postgres}/{database}"

        def undelivered():
            return int(psql(db_url, "SELECT count(*) FROM email_outbox WHERE sent_at IS NULL")[0][0])
        wait_until(lambda: undelivered() == 0, "the outbox to empty", 180)
        rows = psql(db_url, """
            SELECT u.email, count(o.id), count(o.sent_at)
            FROM users u LEFT JOIN email_outbox o ON o.user_id = u.id AND o.kind = 'welcome'
            WHERE u.email LIKE '%@load.example' GROUP BY u.email""")
        in_database = {row[0]: (int(row[1]), int(row[2])) for row in rows}
        delivered_files = {recipient for recipient, _ in written_mail(work / "data/mail")}
        lost = sorted(acknowledged - in_database.keys())
        without_one_email = sorted(e for e, (queued, sent) in in_database.items() if queued != 1 or sent != 1)
        without_file = sorted(e for e in in_database if e not in delivered_files)

        # Deactivation holds on every replica at once.
        admin.call("set_user_active", {"id": witness_id, "active": "false"}, f"/users/{witness_id}")
        still_in = [r.number for r, browser in witnesses if browser.signed_in()]
        still_in += ["first session"] if witness.signed_in() else []

        kinds, failures = read_stats(work / "locust")
        print("\n| request | count | failures | p50 | p99 |\n|---|---|---|---|---|")
        for name, count, failed, p50, p99 in kinds:
            print(f"| {name} | {count} | {failed} | {p50} ms | {p99} ms |")
        if failures:
            print("\nfailures:")
            for name, error, count in failures:
                print(f"  {count} × {name}: {error}")
        print(f"\nadded and acknowledged: {len(acknowledged)}; load accounts in the database: {len(in_database)}")
        print(f"acknowledged but missing: {lost or 'none'}")
        print(f"without exactly one delivered welcome email: {without_one_email or 'none'}")
        print(f"without a written email file: {without_file or 'none'}")
        print(f"deactivated witness still signed in on: {still_in or 'none'}")
        idle = [name for name, count, _, _, _ in kinds if count == 0]
        expected = {"sign in: password", "sign in: code", "search", "user page", "add person"}
        idle += sorted(expected - {name for name, *_ in kinds})
        print(f"request kinds never made: {idle or 'none'}")
        ok = not lost and not without_one_email and not without_file and not still_in and not idle
        faults = args.stop_postgres_at is not None or args.kill_replica_at is not None
        if not faults and failures:
            ok = False
        if faults:
            # While PostgreSQL is down Gatehouse answers 503; a replica killed
            # mid-answer leaves HAProxy a broken response (502) for the
            # requests it was serving. Anything else is a defect.
            unclean = [(n, e, c) for n, e, c in failures if not re.search(r"\b50[23]\b", e)]
            print(f"failures other than 503 and 502 during the faults: {unclean or 'none'}")
            ok = ok and not unclean
        print("\nALL CHECKS PASSED" if ok else "\nA CHECK FAILED")
        print(f"(logs in {work})")
    finally:
        if balancer:
            balancer.kill()
        for replica in replicas:
            replica.kill()
        postgres("start", check=False)
        wait_until(lambda: psql(f"{args.postgres}/postgres", "SELECT 1") is not None, "PostgreSQL", 30)
        psql(f"{args.postgres}/postgres", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
