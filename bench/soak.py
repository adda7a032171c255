"""`make soak` (#19 item 15): the outbox, the job queue and payments under faults, counted.

What runs, on this machine's loopback only, every loop bounded in count and time:

* A PostgreSQL database of its own (`soak_<pid>_<hex>`), migrated with `flask db upgrade`
  and dropped at the end (`--keep-db` keeps it). A merchant with customers and invoices is
  seeded in-process; emails are queued through the outbox (`queue_email`) while the soak runs.
* A fault-injecting SMTP server (aiosmtpd, in this process). The recipient's local part
  chooses the fault: `ok-` accepted; `rcpt4xx-` and `data4xx-` refused with a 451 at RCPT or
  DATA `--temp-failures` times, then accepted (temporary: must end sent); `rcpt5xx-` and
  `data5xx-` refused with a 550 / 554 (permanent: must end failed); `quitdrop-` accepted, then
  the line drops before QUIT's reply (must count as sent, once); `slow-` accepted after 1.5
  leases (a job that runs longer than its lease must renew it, not be run twice). Every
  accepted message is logged by Message-ID. The server is stopped for `--outage` seconds.
* `--workers` `flask worker` processes whose PostgreSQL connections carry
  `application_name=soak-worker`; `--kills` times one is killed with `kill -9` and restarted,
  `--terminations` times their connections are terminated with `pg_terminate_backend` (in the
  soak's own database only); every second termination waits for the next message the SMTP
  server accepts, so it lands between "sent" and "marked sent".
* Two gunicorn web processes; `--customers` customers each load the Pay page in `--tabs`
  tabs (one idempotency key each) and all post at once behind a barrier (`--bursts` times, one
  invoice each), while one web process is killed with `kill -9` and restarted; the workers
  then resolve whatever payment was left pending.

The soak's clock. The queue's delays are minutes long (backoff from 30 s, a 5-minute lease,
payments resolved after 2 minutes); the soak runs them faster, from outside the code under test:

* a queued job's remaining wait is divided by `--warp` (60: a 30 s backoff takes 0.5 s, the 8
  attempts of an email span about a minute instead of an hour, and a 15 s SMTP outage stands for
  a 15-minute one);
* workers are started with `JOB_LEASE_SECONDS=--lease`; where the code under test ignores that
  setting (its lease is longer), a running job whose lease has not been renewed for `--lease`
  seconds is treated as expired, as it would be with that lease.

At the end it prints, and exits 1 unless all are 0 (duplicates: at most one per `kill -9`,
the documented window between the SMTP server's acceptance and the commit that marks a message
sent):

  lost               should be delivered (ok, 4xx, quitdrop, slow), not received or not sent
  duplicated         accepted by the SMTP server more than once (same Message-ID)
  wrongly failed     a deliverable message marked failed, or a permanent one not failed
  stuck              jobs still queued or running, payments still pending, after the drain
  double charges     an invoice with more than one succeeded payment, or customer credit
  balance mismatches an invoice whose balance is not its total minus its allocations, or < 0

    .venv/bin/python -m bench.soak                      # the full run: 10,000 emails
    .venv/bin/python -m bench.soak --emails 300 --duration 30 --workers 2 ...   # smaller
"""
import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
SECRET = "soak-" + secrets.token_hex(16)
DOMAIN = "soak.test"
WORKER_APP = "soak-worker"

# The recipient classes and their share of the emails (slow ones are counted, not a share).
DELIVERABLE = ("ok", "rcpt4xx", "data4xx", "quitdrop", "slow")
PERMANENT = ("rcpt5xx", "data5xx")
SHARES = {"rcpt4xx": 0.05, "data4xx": 0.05, "quitdrop": 0.05, "rcpt5xx": 0.03, "data5xx": 0.03}
CARD = {"method": "card", "card_number": "4242 4242 4242 4242", "expiry": "12/39",
        "cvc": "123"}
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# Every hidden input of a page, as tests/payment_support.hidden_fields reads them.
HIDDEN_RE = re.compile(
    r'<input id="[^"]*" name="(?P<name>[^"]+)" type="hidden" value="(?P<value>[^"]*)"')


def say(*args) -> None:
    print(*args, flush=True)


@dataclass
class Options:
    emails: int = 10_000
    workers: int = 4
    duration: float = 180.0
    kills: int = 6
    terminations: int = 6
    outage: float = 15.0
    customers: int = 6
    tabs: int = 4
    bursts: int = 2
    slow: int = 2
    temp_failures: int = 2
    lease: int = 10
    warp: float = 60.0
    drain_timeout: float = 300.0
    seed: int = 19
    pg: str = DEFAULT_PG
    keep_db: bool = False
    json: str = ""
    logs: str = ""


def parse_args(argv=None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = Options()
    for name, value in asdict(defaults).items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            parser.add_argument(flag, action="store_true")
        else:
            parser.add_argument(flag, type=type(value), default=value)
    options = Options(**vars(parser.parse_args(argv)))
    if options.emails < 10 or options.workers < 1 or options.duration < 5:
        parser.error("at least 10 emails, 1 worker and 5 seconds")
    return options


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def kind_of(address: str) -> str:
    return address.split("@", 1)[0].split("-", 1)[0].lower()


# --- the database ---------------------------------------------------------------------------

class Database:
    """A database of the soak's own on the PostgreSQL server of `server_url` (created and
    dropped from the database that URL names, `postgres` by default)."""

    def __init__(self, server_url: str):
        from sqlalchemy.engine import make_url

        self.server = make_url(server_url).set(drivername="postgresql")
        self.name = f"soak_{os.getpid()}_{secrets.token_hex(3)}"

    def url(self, application_name: str = "") -> str:
        url = self.server.set(database=self.name)
        if application_name:
            url = url.update_query_dict({"application_name": application_name})
        return url.render_as_string(hide_password=False)

    def _admin(self):
        import psycopg

        admin = self.server if self.server.database else self.server.set(database="postgres")
        return psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True,
                               connect_timeout=10)

    def create(self) -> None:
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def terminate_workers(self) -> int:
        """pg_terminate_backend on the workers' connections, in this database only."""
        import psycopg

        with psycopg.connect(self.url("soak-terminator"), autocommit=True,
                             connect_timeout=10) as conn:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND application_name = %s", (WORKER_APP,)).fetchall()
        return len(rows)


# --- the fault-injecting SMTP server ---------------------------------------------------------

class FaultSmtp:
    """aiosmtpd on a fixed loopback port, refusing by the recipient's local part, logging every
    accepted message by Message-ID. `stop()` and `start()` again make an outage."""

    def __init__(self, port: int, *, temp_failures: int, slow_seconds: float, terminate):
        self.port, self.temp_failures, self.slow_seconds = port, temp_failures, slow_seconds
        self.terminate = terminate
        self.lock = threading.Lock()
        self.received: Counter = Counter()  # Message-ID -> times accepted
        self.rcpt_tries: Counter = Counter()  # address -> RCPT commands seen
        self.data_tries: Counter = Counter()  # address -> DATA commands seen
        self.verdicts: Counter = Counter()  # (class, verdict)
        self.armed = 0  # terminations waiting for the next accepted message
        self.terminated_after_accept = 0
        self.controller = None

    def _count(self, counter: Counter, key) -> int:
        with self.lock:
            counter[key] += 1
            return counter[key]

    def arm_termination(self) -> None:
        with self.lock:
            self.armed += 1

    def _take_armed(self) -> bool:
        with self.lock:
            if self.armed:
                self.armed -= 1
                return True
            return False

    def handler(self):
        smtp = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                kind = kind_of(address)
                tries = smtp._count(smtp.rcpt_tries, address.lower())
                if kind == "rcpt4xx" and tries <= smtp.temp_failures:
                    smtp._count(smtp.verdicts, (kind, "451 at RCPT"))
                    return "451 4.2.1 try later"
                if kind == "rcpt5xx":
                    smtp._count(smtp.verdicts, (kind, "550 at RCPT"))
                    return "550 5.1.1 no such user"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                address = envelope.rcpt_tos[0] if envelope.rcpt_tos else ""
                kind = kind_of(address)
                tries = smtp._count(smtp.data_tries, address.lower())
                if kind == "data4xx" and tries <= smtp.temp_failures:
                    smtp._count(smtp.verdicts, (kind, "451 at DATA"))
                    return "451 4.3.0 try later"
                if kind == "data5xx":
                    smtp._count(smtp.verdicts, (kind, "554 at DATA"))
                    return "554 5.6.0 message refused"
                if kind == "slow":
                    await asyncio.sleep(smtp.slow_seconds)
                content = envelope.original_content or envelope.content
                if isinstance(content, str):
                    content = content.encode()
                headers = BytesParser(policy=default_policy).parsebytes(content,
                                                                        headersonly=True)
                message_id = str(headers.get("Message-ID", "")).strip()
                if smtp._take_armed():  # the worker's connection goes between send and commit
                    loop = asyncio.get_running_loop()
                    try:
                        await loop.run_in_executor(None, smtp.terminate)
                        smtp.terminated_after_accept += 1
                    except Exception as exc:
                        say(f"  terminating after an accepted message failed: {exc}")
                smtp._count(smtp.received, message_id)
                smtp._count(smtp.verdicts, (kind, "accepted"))
                if kind == "quitdrop":
                    server.soak_drop_at_quit = True
                return "250 OK"

            async def handle_QUIT(self, server, session, envelope):
                if getattr(server, "soak_drop_at_quit", False):
                    smtp._count(smtp.verdicts, ("quitdrop", "line dropped at QUIT"))
                    server.transport.abort()  # the line drops before QUIT's reply
                return "221 Bye"

        return Handler()

    def start(self) -> "FaultSmtp":
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.handler(), hostname="127.0.0.1", port=self.port,
                                     ready_timeout=10)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def up(self) -> bool:
        return self.controller is not None


# --- processes -------------------------------------------------------------------------------

class Slot:
    """One `flask worker` or gunicorn process, restartable."""

    def __init__(self, name: str, argv: list[str], env: dict, log_path: Path):
        self.name, self.argv, self.env, self.log_path = name, argv, env, log_path
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 (the soak's own argv)
                self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        """kill -9, the process and its children (gunicorn's master and worker)."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if not self.alive:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill9()


def app_env(db: Database, smtp_port: int, options: Options, application_name: str,
            public_url: str) -> dict:
    return {**os.environ, "FLASK_APP": "wsgi", "DATABASE_URL": db.url(application_name),
            "SECRET_KEY": SECRET, "PUBLIC_URL": public_url,
            "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_port),
            "MAIL_DEFAULT_SENDER": f"portal@{DOMAIN}", "RATELIMIT_ENABLED": "0",
            "JOB_LEASE_SECONDS": str(options.lease),
            "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "8", "ARGON2_PARALLELISM": "1",
            "PYTHONUNBUFFERED": "1"}


def http_ok(url: str) -> bool:
    import requests

    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False


def wait_until(check, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise RuntimeError(f"timed out after {seconds:.0f} s waiting for {what}")


# --- the soak's clock ------------------------------------------------------------------------

class Clock(threading.Thread):
    """Runs the queue's waits faster (see the module's docstring), from outside the workers:
    a queued job's remaining wait divided by `warp`; a lease longer than `lease` seconds that is
    not renewed within `lease` seconds expired, as the soak's lease would."""

    def __init__(self, app, warp: float, lease: float):
        super().__init__(name="soak-clock", daemon=True)
        self.app, self.warp, self.lease = app, warp, timedelta(seconds=lease)
        self.halt = threading.Event()
        self.waits: dict = {}
        self.leases: dict = {}
        self.moved = self.expired = self.errors = 0

    def run(self) -> None:
        from widget_server.core.extensions import db

        with self.app.app_context():
            while not self.halt.wait(0.25):
                try:
                    self.tick()
                except Exception as exc:
                    self.errors += 1
                    if self.errors <= 3:
                        say(f"  clock: {type(exc).__name__}: {exc}")
                    db.session.rollback()
            db.session.remove()

    def tick(self) -> None:
        from sqlalchemy import and_, or_, select, update

        from widget_server.core.database import utcnow
        from widget_server.core.extensions import db
        from widget_server.jobs.models import QUEUED, RUNNING, Job

        rows = db.session.execute(select(Job.id, Job.status, Job.run_at, Job.lease_until).where(
            or_(and_(Job.status == QUEUED, Job.run_at > utcnow() + timedelta(seconds=0.3)),
                Job.status == RUNNING))).all()
        db.session.rollback()
        now = utcnow()  # after the read: no lease seen here was taken later than this
        waits, leases, due, expired = {}, {}, [], []
        for job_id, status, run_at, lease_until in rows:
            if status == QUEUED:
                first = waits[(job_id, run_at)] = self.waits.get((job_id, run_at), now)
                if now >= first + (run_at - first) / self.warp:
                    due.append((job_id, run_at))
            elif lease_until is not None:
                first = leases[(job_id, lease_until)] = self.leases.get((job_id, lease_until),
                                                                        now)
                longer = lease_until > first + self.lease + timedelta(seconds=1)
                if longer and now >= first + self.lease:
                    expired.append((job_id, lease_until))
        self.waits, self.leases = waits, leases
        for job_id, run_at in due:
            self.moved += db.session.execute(update(Job).where(
                Job.id == job_id, Job.status == QUEUED, Job.run_at == run_at)
                .values(run_at=now)).rowcount
        for job_id, lease_until in expired:
            self.expired += db.session.execute(update(Job).where(
                Job.id == job_id, Job.status == RUNNING, Job.lease_until == lease_until)
                .values(lease_until=now)).rowcount
        db.session.commit()


# --- seeding and queueing --------------------------------------------------------------------

@dataclass
class Shopper:
    customer_id: int
    username: str
    password: str
    invoice_ids: list[int] = field(default_factory=list)


def make_app(db: Database):
    from widget_server import create_app

    os.environ.setdefault("SECRET_KEY", SECRET)
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": db.url("soak-driver"), "SECRET_KEY": SECRET,
        "PUBLIC_URL": f"http://{DOMAIN}", "RATELIMIT_ENABLED": False,
        "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1})
    from widget_server.core.extensions import limiter

    limiter.enabled = False
    return app


def seed(app, options: Options) -> tuple[int, list[Shopper]]:
    """A merchant with a default profile, customers who can sign in and invoices to pay."""
    from widget_server.billing.invoices import build_invoice
    from widget_server.catalogue.models import Product
    from widget_server.core.extensions import db
    from widget_server.core.passwords import hash_password
    from widget_server.customers.models import Customer, CustomerEmail
    from widget_server.profiles import services as profile_services
    from widget_server.tenancy import admins
    from widget_server.tenancy.models import Merchant

    with app.app_context():
        merchant = Merchant(slug="soak", name="Soak Ltd", currency="USD", locale="en_US",
                            timezone="UTC", config={})
        db.session.add(merchant)
        admins.create_admin(merchant, f"owner@{DOMAIN}", "owner-pass-123", "owner")
        db.session.flush()
        profile_services.create_profile(merchant, "Standard", "standard")
        product = Product(merchant_id=merchant.id, sku="S", name="Service",
                          unit_price_minor=2500, currency="USD")
        db.session.add(product)
        shoppers = []
        for n in range(options.customers):
            password = f"customer-pass-{n}"
            customer = Customer(merchant_id=merchant.id, first_name="Soak", last_name=f"C{n}",
                                username=f"shopper{n}", password_hash=hash_password(password),
                                custom_fields={})
            customer.emails = [CustomerEmail(merchant_id=merchant.id, position=0,
                                             address=f"ok-customer{n}@{DOMAIN}")]
            db.session.add(customer)
            db.session.flush()
            shopper = Shopper(customer.id, customer.username, password)
            for b in range(max(options.bursts, 1)):
                invoice = build_invoice(merchant, customer, [(product, b + 1)],
                                        number=f"S{n:03d}-{b}", issue_date=date.today(),
                                        due_date=date.today() + timedelta(days=b + 1))
                db.session.flush()
                shopper.invoice_ids.append(invoice.id)
            shoppers.append(shopper)
        db.session.commit()
        return merchant.id, shoppers


def recipients(options: Options, rng: random.Random) -> list[str]:
    kinds = []
    for kind, share in SHARES.items():
        kinds += [kind] * max(1, round(options.emails * share))
    kinds += ["slow"] * options.slow
    kinds += ["ok"] * max(0, options.emails - len(kinds))
    kinds = kinds[:options.emails]
    rng.shuffle(kinds)
    return [f"{kind}-{n}@{DOMAIN}" for n, kind in enumerate(kinds)]


class Producer(threading.Thread):
    """Queues the emails through the outbox over `seconds`, a batch a commit."""

    def __init__(self, app, merchant_id: int, addresses: list[str], seconds: float):
        super().__init__(name="soak-producer", daemon=True)
        self.app, self.merchant_id, self.addresses = app, merchant_id, addresses
        self.seconds = seconds
        self.queued = 0
        self.error = ""

    def run(self) -> None:
        from widget_server.core.extensions import db
        from widget_server.notifications.outbox import Rendered, queue_email
        from widget_server.tenancy.models import Merchant

        start = time.monotonic()
        try:
            with self.app.app_context():
                merchant = db.session.get(Merchant, self.merchant_id)
                total = len(self.addresses)
                while self.queued < total and time.monotonic() - start < self.seconds + 120:
                    elapsed = time.monotonic() - start
                    target = min(total, int(total * min(1.0, (elapsed + 0.5) / self.seconds)))
                    for address in self.addresses[self.queued:target]:
                        queue_email(merchant, "test", [address], Rendered(
                            f"Soak {address}", f"Hello {address}",
                            f"<p>Hello {address}</p>"))
                    db.session.commit()
                    self.queued = target
                    if self.queued < total:
                        time.sleep(0.5)
                db.session.remove()
        except Exception as exc:  # reported; the counts then show what was not queued
            self.error = f"{type(exc).__name__}: {exc}"


# --- payments --------------------------------------------------------------------------------

class Tab:
    """A browser's cookies, kept by hand (Python clients send no Secure cookie over http)."""

    def __init__(self, cookies: dict):
        import requests

        self.cookies, self.http = cookies, requests.Session()

    def request(self, method: str, url: str, **kwargs):
        header = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        answer = self.http.request(method, url, headers={"Cookie": header}, timeout=30,
                                   allow_redirects=False, **kwargs)
        for name, value in re.findall(r"(?:^|, )([\w-]+)=([^;]*);",
                                      answer.headers.get("Set-Cookie", "")):
            if value:
                self.cookies[name] = value
        return answer


class Burst(threading.Thread):
    """Every shopper loads the Pay page for one invoice in `tabs` tabs, spread over both web
    processes; all post at once; `kill` kills a web process just after the barrier opens."""

    def __init__(self, webs: list[str], shoppers: list[Shopper], cookies: dict, index: int,
                 tabs: int, kill, rng: random.Random):
        super().__init__(name=f"soak-burst-{index}", daemon=True)
        self.webs, self.shoppers, self.cookies = webs, shoppers, cookies
        self.index, self.tabs, self.kill = index, tabs, kill
        self.delay = rng.uniform(0.0, 0.15)
        self.answers: Counter = Counter()
        self.error = ""

    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"

    def _run(self) -> None:
        import requests

        forms = []
        for n, shopper in enumerate(self.shoppers):
            invoice = shopper.invoice_ids[self.index % len(shopper.invoice_ids)]
            for t in range(self.tabs):
                web = self.webs[(n + t) % len(self.webs)]
                tab = Tab(self.cookies[shopper.username])
                page = tab.request("GET", f"{web}/w/soak/standard/pay?"
                                   + urlencode({"invoice": invoice}))
                if page.status_code != 200:
                    self.answers[f"page {page.status_code}"] += 1
                    continue
                fields = {m["name"]: m["value"] for m in HIDDEN_RE.finditer(page.text)}
                forms.append((tab, web, {**fields, **CARD, "invoice": str(invoice)}))
        barrier = threading.Barrier(len(forms) + 1)

        def post(tab, web, form):
            try:
                barrier.wait(timeout=30)
                answer = tab.request("POST", f"{web}/w/soak/standard/pay", data=form)
                self.answers[str(answer.status_code)] += 1
            except (requests.RequestException, threading.BrokenBarrierError) as exc:
                self.answers[f"cut ({type(exc).__name__})"] += 1

        threads = [threading.Thread(target=post, args=f, daemon=True) for f in forms]
        for thread in threads:
            thread.start()
        barrier.wait(timeout=30)
        time.sleep(self.delay)
        self.kill()
        for thread in threads:
            thread.join(timeout=60)


def sign_in(web: str, shopper: Shopper) -> dict:
    cookies: dict = {}
    tab = Tab(cookies)
    page = tab.request("GET", f"{web}/w/soak/standard/login")
    match = CSRF_RE.search(page.text)
    if page.status_code != 200 or not match:
        raise RuntimeError(f"the login page answered {page.status_code}")
    answer = tab.request("POST", f"{web}/w/soak/standard/login", data={
        "csrf_token": match.group(1), "login": shopper.username, "password": shopper.password})
    if answer.status_code != 302:
        raise RuntimeError(f"signing in {shopper.username} answered {answer.status_code}")
    return cookies


# --- counting --------------------------------------------------------------------------------

def count(app, smtp: FaultSmtp, shoppers: list[Shopper]) -> dict:
    from sqlalchemy import func, select

    from widget_server.billing.models import Invoice, Payment, PaymentAllocation
    from widget_server.core.extensions import db
    from widget_server.customers.models import Customer
    from widget_server.jobs.models import QUEUED, RUNNING, Job
    from widget_server.notifications.models import EmailMessage

    per_class: dict = defaultdict(Counter)
    lost = duplicated = copies = wrongly_failed = permanent_retried = 0
    with app.app_context():
        for address, status, message_id in db.session.execute(select(
                EmailMessage.to_address, EmailMessage.status, EmailMessage.message_id)):
            kind = kind_of(address)
            received = smtp.received.get(message_id, 0)
            row = per_class[kind]
            row["emails"] += 1
            row[status] += 1
            row["received"] += received > 0
            if received > 1:
                row["duplicated"] += 1
                duplicated += 1
                copies += received - 1
            if kind in PERMANENT:
                if status != "failed":
                    row["wrongly failed"] += 1
                    wrongly_failed += 1
                tries = smtp.rcpt_tries if kind == "rcpt5xx" else smtp.data_tries
                if tries.get(address.lower(), 0) > 1:
                    row["retried"] += 1
                    permanent_retried += 1
            else:
                if received == 0 or status != "sent":
                    row["lost"] += 1
                    lost += 1
                if status == "failed":
                    row["wrongly failed"] += 1
                    wrongly_failed += 1
        jobs = dict(db.session.execute(select(Job.status, func.count(Job.id))
                                       .group_by(Job.status)).all())
        stuck_jobs = jobs.get(QUEUED, 0) + jobs.get(RUNNING, 0)
        payments = db.session.scalars(select(Payment)).all()
        by_status = Counter(p.status for p in payments)
        stuck_payments = by_status.get("pending", 0) + by_status.get("scheduled", 0)
        succeeded_for: Counter = Counter()
        for payment in payments:
            if payment.status == "succeeded":
                for invoice_id in (payment.plan or {}).get("invoice_ids", []):
                    succeeded_for[invoice_id] += 1
        extra_charges = sum(n - 1 for n in succeeded_for.values() if n > 1)
        credited = db.session.scalar(select(func.count(Customer.id))
                                     .where(Customer.credit_minor != 0))
        allocated = dict(db.session.execute(
            select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount_minor))
            .group_by(PaymentAllocation.invoice_id)).all())
        mismatches, paid = 0, 0
        for invoice in db.session.scalars(select(Invoice)):
            expected = invoice.total_minor - int(allocated.get(invoice.id, 0))
            if (invoice.balance_minor != expected or invoice.balance_minor < 0
                    or (invoice.status == "paid") != (invoice.balance_minor == 0)):
                mismatches += 1
            paid += invoice.status == "paid"
        db.session.remove()
    return {
        "lost": lost, "duplicated": duplicated, "duplicate copies": copies,
        "wrongly failed": wrongly_failed, "stuck": stuck_jobs + stuck_payments,
        "stuck jobs": stuck_jobs, "stuck payments": stuck_payments,
        "double charges": extra_charges + credited, "customers with credit": credited,
        "balance mismatches": mismatches, "permanent retried": permanent_retried,
        "jobs": jobs, "payments": dict(by_status), "invoices paid": paid,
        "invoices": sum(len(s.invoice_ids) for s in shoppers),
        "per class": {k: dict(v) for k, v in sorted(per_class.items())},
        "smtp verdicts": {f"{k} {v}": n for (k, v), n in sorted(smtp.verdicts.items())},
    }


def report(counts: dict, events: dict, options: Options, seconds: float) -> bool:
    allowed = events["worker kills"]
    say("")
    say(f"soak: {sum(r.get('emails', 0) for r in counts['per class'].values())} emails "
        f"({options.emails} queued by the soak, the rest receipts), {options.workers} "
        f"workers, {seconds:.0f} s")
    say("  events: " + ", ".join(f"{k} {v}" for k, v in events.items()))
    say("")
    columns = ["emails", "sent", "failed", "unfinished", "received", "duplicated", "lost",
               "wrongly failed", "retried"]
    say("  " + f"{'class':<10}" + "".join(f"{c:>15}" for c in columns))
    for kind, row in counts["per class"].items():
        values = [row.get("emails", 0), row.get("sent", 0), row.get("failed", 0),
                  row.get("emails", 0) - row.get("sent", 0) - row.get("failed", 0),
                  row.get("received", 0), row.get("duplicated", 0), row.get("lost", 0),
                  row.get("wrongly failed", 0), row.get("retried", 0)]
        say("  " + f"{kind:<10}" + "".join(f"{v:>15}" for v in values))
    say("  (unfinished: neither sent nor failed at the end; received: accepted by the SMTP "
        "server; retried: a permanent refusal tried again)")
    say("")
    say(f"  payments: {counts['payments']}; invoices paid {counts['invoices paid']} of "
        f"{counts['invoices']}; tab answers {events.get('tab answers', {})}")
    say("")
    checks = [
        ("lost", counts["lost"], 0),
        ("duplicated", counts["duplicated"], allowed),
        ("wrongly failed", counts["wrongly failed"], 0),
        ("stuck", counts["stuck"], 0),
        ("double charges", counts["double charges"], 0),
        ("balance mismatches", counts["balance mismatches"], 0),
    ]
    ok = True
    for name, value, limit in checks:
        good = value <= limit
        ok &= good
        note = f"(allowed up to {limit}: one per kill -9)" if name == "duplicated" else ""
        say(f"  {name:<20}{value:>8}   {'ok' if good else 'FAIL'} {note}")
    say(f"  {'permanent retried':<20}{counts['permanent retried']:>8}   (information)")
    say("")
    say("PASS" if ok else "FAIL")
    return ok


# --- the run ---------------------------------------------------------------------------------

def main(argv=None) -> int:
    options = parse_args(argv)
    started = time.monotonic()
    rng = random.Random(options.seed)  # noqa: S311 (faults, not secrets: a seed repeats a run)
    logs = Path(options.logs or tempfile.mkdtemp(prefix="soak-"))
    logs.mkdir(parents=True, exist_ok=True)
    db = Database(options.pg)
    say(f"soak: database {db.name}, logs in {logs}")
    db.create()
    slots: list[Slot] = []
    smtp = None
    clock = None
    try:
        env = {**os.environ, "FLASK_APP": "wsgi", "DATABASE_URL": db.url("soak-migrate"),
               "SECRET_KEY": SECRET}
        subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env,
                       check=True, timeout=120, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
        app = make_app(db)
        merchant_id, shoppers = seed(app, options)
        addresses = recipients(options, rng)

        smtp_port = free_port()
        smtp = FaultSmtp(smtp_port, temp_failures=options.temp_failures,
                         slow_seconds=options.lease * 1.5,
                         terminate=db.terminate_workers).start()
        web_ports = [free_port(), free_port()]
        public = f"http://localhost:{web_ports[0]}"
        webs = [Slot(f"web{n}", [sys.executable, "-m", "gunicorn", "--bind",
                                 f"127.0.0.1:{port}", "--workers", "1", "--threads", "8",
                                 "--timeout", "60", "wsgi:app"],
                     app_env(db, smtp_port, options, "soak-web", public), logs / f"web{n}.log")
                for n, port in enumerate(web_ports)]
        workers = [Slot(f"worker{n}", [sys.executable, "-m", "flask", "worker", "--poll",
                                       "0.2"],
                        app_env(db, smtp_port, options, WORKER_APP, public),
                        logs / f"worker{n}.log") for n in range(options.workers)]
        slots = webs + workers
        for slot in slots:
            slot.start()
        web_urls = [f"http://127.0.0.1:{port}" for port in web_ports]
        for url in web_urls:
            wait_until(lambda u=url: http_ok(f"{u}/healthz"), 60, f"{url}/healthz")
        cookies = {s.username: sign_in(web_urls[0], s) for s in shoppers}

        clock = Clock(app, options.warp, options.lease)
        clock.start()
        producer = Producer(app, merchant_id, addresses, options.duration * 0.6)
        events: Counter = Counter()
        lock = threading.Lock()

        def restart_later(slot: Slot, delay: float) -> None:
            def later():
                time.sleep(delay)
                slot.start()

            threading.Thread(target=later, daemon=True).start()

        def kill_worker() -> None:
            slot = rng.choice([w for w in workers if w.alive] or workers)
            slot.kill9()
            with lock:
                events["worker kills"] += 1
            restart_later(slot, rng.uniform(0.5, 2.0))

        def terminate() -> None:
            with lock:
                events["terminations"] += 1
                armed = events["terminations"] % 2 == 0
            if armed:
                smtp.arm_termination()
            else:
                events["connections terminated"] += db.terminate_workers()

        bursts: list[Burst] = []

        def burst(index: int) -> None:
            web = webs[index % 2]

            def kill():
                web.kill9()
                with lock:
                    events["web kills"] += 1
                restart_later(web, 1.0)

            b = Burst(web_urls, shoppers, cookies, index, options.tabs, kill, rng)
            bursts.append(b)
            b.start()

        def outage_start() -> None:
            smtp.stop()
            events["smtp outages"] += 1

        def outage_end() -> None:
            smtp.start()

        d = options.duration
        timeline = [(rng.uniform(0.1 * d, 0.85 * d), "kill -9 a worker", kill_worker)
                    for _ in range(options.kills)]
        timeline += [(rng.uniform(0.1 * d, 0.85 * d), "terminate connections", terminate)
                     for _ in range(options.terminations)]
        if options.outage > 0:
            timeline += [(0.4 * d, "SMTP down", outage_start),
                         (0.4 * d + options.outage, "SMTP up", outage_end)]
        timeline += [(d * (0.25 + 0.35 * b / max(1, options.bursts - 1)),
                      f"payment burst {b}", lambda b=b: burst(b))
                     for b in range(options.bursts if options.customers and options.tabs
                                    else 0)]
        timeline.sort(key=lambda e: e[0])

        run_start = time.monotonic()
        producer.start()
        next_status = 10.0
        for at, what, action in timeline:
            while (now := time.monotonic() - run_start) < at:
                time.sleep(min(0.2, at - now))
                if now >= next_status:
                    status_line(app, smtp, now, producer)
                    next_status += 10
            say(f"  {time.monotonic() - run_start:6.1f} s  {what}")
            action()
        while (now := time.monotonic() - run_start) < d:
            time.sleep(0.2)
            if now >= next_status:
                status_line(app, smtp, now, producer)
                next_status += 10

        say(f"  {time.monotonic() - run_start:6.1f} s  faults over; draining "
            f"(at most {options.drain_timeout:.0f} s)")
        producer.join(timeout=120)
        for b in bursts:
            b.join(timeout=90)
        if not smtp.up:
            smtp.start()
        time.sleep(2.5)  # restarts under way
        for slot in slots:
            if not slot.alive:
                slot.start()
        drained = drain(app, options.drain_timeout, smtp, producer, run_start)
        time.sleep(1.0)  # a duplicate would arrive now
        for slot in slots:
            slot.stop()
        clock.halt.set()
        clock.join(timeout=10)
        smtp.stop()

        counts = count(app, smtp, shoppers)
        answers: Counter = Counter()
        for b in bursts:
            answers.update(b.answers)
            if b.error:
                say(f"  burst {b.index}: {b.error}")
        if producer.error:
            say(f"  producer: {producer.error}")
        events.update({"armed terminations landed": smtp.terminated_after_accept,
                       "clock moved": clock.moved, "clock expired leases": clock.expired})
        events = {"worker kills": events["worker kills"], **{k: v for k, v in events.items()
                                                            if k != "worker kills"}}
        events["tab answers"] = dict(answers)
        events["drained"] = drained
        seconds = time.monotonic() - started
        ok = report(counts, events, options, seconds)
        if producer.error or producer.queued < len(addresses):
            say(f"FAIL: only {producer.queued} of {len(addresses)} emails were queued")
            ok = False
        if options.json:
            Path(options.json).write_text(json.dumps(
                {"ok": ok, "seconds": round(seconds, 1), "options": asdict(options),
                 "events": events, "counts": counts}, indent=2, default=str))
        with app.app_context():
            from widget_server.core.extensions import db as sqla

            sqla.engine.dispose()
        return 0 if ok else 1
    finally:
        for slot in slots:
            if slot.alive:
                slot.kill9()
        if clock is not None:
            clock.halt.set()
        if smtp is not None:
            smtp.stop()
        if not options.keep_db:
            try:
                db.drop()
            except Exception as exc:
                say(f"soak: could not drop {db.name}: {exc}")


def status_line(app, smtp: FaultSmtp, now: float, producer: Producer) -> None:
    from sqlalchemy import func, select

    from widget_server.core.extensions import db
    from widget_server.jobs.models import Job

    with app.app_context():
        jobs = dict(db.session.execute(select(Job.status, func.count(Job.id))
                                       .group_by(Job.status)).all())
        db.session.remove()
    say(f"  {now:6.1f} s  queued by the soak {producer.queued}, jobs {jobs}, "
        f"accepted by SMTP {sum(smtp.received.values())}")


def drain(app, seconds: float, smtp: FaultSmtp, producer: Producer, run_start: float) -> bool:
    """Wait (bounded) until no job is queued or running and no payment is pending."""
    from sqlalchemy import func, select

    from widget_server.billing.models import Payment
    from widget_server.core.extensions import db
    from widget_server.jobs.models import QUEUED, RUNNING, Job

    deadline = time.monotonic() + seconds
    next_status = time.monotonic() + 10
    while True:
        last = time.monotonic() >= deadline
        with app.app_context():
            busy = db.session.scalar(select(func.count(Job.id))
                                     .where(Job.status.in_((QUEUED, RUNNING))))
            pending = db.session.scalar(select(func.count(Payment.id))
                                        .where(Payment.status.in_(("pending", "scheduled"))))
            db.session.remove()
        if busy == 0 and pending == 0:
            say(f"  {time.monotonic() - run_start:6.1f} s  drained")
            return True
        if last:
            say(f"  {time.monotonic() - run_start:6.1f} s  not drained: {busy} jobs queued or "
                f"running, {pending} payments pending")
            return False
        if time.monotonic() >= next_status:
            status_line(app, smtp, time.monotonic() - run_start, producer)
            next_status += 10
        time.sleep(1.0)


if __name__ == "__main__":
    sys.exit(main())
