"""The mixed load of docs/benchmarks.md ("Under load and faults"), run by
scripts/load/run.py: people who manage accounts sign in (password, then a
code from their authenticator), search, open accounts and add people, as
the browser app does. Each simulated person has an account of their own,
listed by run.py in GATEHOUSE_LOAD_ACCOUNTS; the people they add are
written to GATEHOUSE_LOAD_ADDED so run.py can check that every one of them
exists, once, with its welcome email.
"""

import itertools
import json
import os
import random
import time

import gevent
import pyotp
from locust import HttpUser, between, events, task
from names import CODE_STEP_SECONDS, letters

ACCOUNTS = json.load(open(os.environ["GATEHOUSE_LOAD_ACCOUNTS"], encoding="utf-8"))
NEXT_ACCOUNT = itertools.count()
ADDED = open(os.environ["GATEHOUSE_LOAD_ADDED"], "a", encoding="utf-8")
SEARCHES = ["an", "ow", "hughes", "jones", "sian", "price", "ev", "zz-nobody"]
FIRST_NAMES = ["Nia", "Owain", "Ffion", "Dylan", "Carys", "Rhys", "Elin", "Gethin"]
LAST_NAMES = ["Hughes", "Jones", "Price", "Evans", "Morgan", "Lloyd", "Rees", "Bowen"]
class AccountManager(HttpUser):
    wait_time = between(1, 3)
    # A page that never finishes is a failure, not a client waiting for ever.
    network_timeout = 30.0

    def on_start(self):
        number = next(NEXT_ACCOUNT)
        self.account = ACCOUNTS[number % len(ACCOUNTS)]
        # Each person signs in from their own address, as 200 people would
        # (sign-ins are throttled per client address).
        self.client.headers["X-Forwarded-For"] = f"10.0.{number // 256}.{number % 256}"
        self.totp = pyotp.TOTP(self.account["totp_secret"])
        self.added = 0
        # Enrolment used this step's code: the first sign-in waits for the next.
        self.last_code_step = int(self.account["enrolled_at"]) // CODE_STEP_SECONDS
        self.user_ids = list(self.account["colleague_ids"])
        self.sign_in()

    def post(self, name, path, fields):
        """A server function call as the app's forms make it."""
        return self.client.post(
            path,
            data=fields,
            headers={"Origin": self.host},
            name=name,
            catch_response=True,
        )

    def sign_in(self):
        """Signs in afresh, as a person would; a failure leaves them signed
        out, and their next action starts by trying again."""
        self.signed_in = False
        self.client.cookies.clear()
        with self.post(
            "sign in: password",
            "/fn/sign_in",
            {"login": self.account["login"], "password": self.account["password"]},
        ) as response:
            if response.status_code != 200 or not response.headers.get("location", "").startswith(
                "/sign-in/code"
            ):
                response.failure(f"{response.status_code} {response.headers.get('location')}")
                return
        step = int(time.time()) // CODE_STEP_SECONDS
        if step == self.last_code_step:
            # This step's code was used: wait for the next, as the app asks.
            gevent.sleep((step + 1) * CODE_STEP_SECONDS - time.time() + 0.1)
            step += 1
        with self.post("sign in: code", "/fn/sign_in_code", {"code": self.totp.now()}) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} {response.text[:200]}")
                return
        self.last_code_step = step
        self.signed_in = True

    def page(self, name, path, marker):
        """Opens a page, which must be the page asked for (`marker` in it),
        not the sign-in page a signed-out person is shown."""
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
            elif marker not in response.text:
                response.failure("200 but not the page: signed out")
                self.signed_in = False

    def signed_out(self) -> bool:
        """Signs in first if the last attempt failed."""
        if not self.signed_in:
            self.sign_in()
        return not self.signed_in

    @task(6)
    def search(self):
        if self.signed_out():
            return
        self.page("search", f"/users?q={random.choice(SEARCHES)}", 'id="q"')

    @task(4)
    def open_account(self):
        if self.signed_out():
            return
        self.page("user page", f"/users/{random.choice(self.user_ids)}", 'id="details-heading"')

    @task(1)
    def add_person(self):
        if self.signed_out():
            return
        number = self.account["index"] * 1000 + self.added
        self.added += 1
        suffix = letters(number, 4)
        first, last = random.choice(FIRST_NAMES), f"{random.choice(LAST_NAMES)}-{suffix}"
        email = f"{first}.{last}@load.example".lower()
        with self.post(
            "add person",
            "/fn/add_user",
            {
                "first_name": first,
                "last_name": last,
                "email": email,
                "generate_username": "on",
                "username": "",
                "initials": f"Z{suffix}",
                "send_welcome_email": "on",
            },
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} {response.text[:200]}")
                return
            location = response.headers.get("location", "")
            if location.startswith("/users/"):
                self.user_ids.append(int(location.rsplit("/", 1)[1]))
            ADDED.write(json.dumps({"email": email}) + "\n")
            ADDED.flush()

    @task(1)
    def sign_in_again(self):
        # A code works once: sign in again only in a new 30 s step.
        if int(time.time()) // CODE_STEP_SECONDS != self.last_code_step:
            self.sign_in()


@events.quitting.add_listener
def close_added(environment, **_kwargs):
    ADDED.close()
