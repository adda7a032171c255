"""`make bench`: how fast the widget is, next to the fastest a Flask page can be here (B-2, B-3).

It measures both databases in one run, each in its own part (`--backends` for one only):
SQLite, and PostgreSQL, the production database, started the way `.ci/run` starts it
(`bench/postgres.py`). Each part measures its own hello-world beside its pages, with the same
gunicorn settings: before the first page and again after each one, so each page's ratio is
taken against the yardstick of the same minutes (the mean of the runs just before and after it;
the machine's speed drifts by a tenth over minutes).

What it measures, and why:

1. Throughput and latency. The app runs under gunicorn with the production settings of `make run`
   (2 workers x 4 threads, `RATELIMIT_ENABLED` as deployed; the limiter only counts POSTs)
   beside `bench/hello.py`, a Flask hello-world under the very same gunicorn settings. wrk drives
   each URL on loopback in turn (same threads, connections and duration) and we print requests
   per second, p50 and p99 latency, and each page's throughput as a fraction of the
   hello-world's measured in the same run: absolute numbers depend on the machine, the ratio
   says how much the page costs over Flask itself. Pages: the login page (anonymous), the
   account overview, the invoice list, the orders list and the cart page of the signed-in demo
   customer (the demo seed gives them orders and enables the cart), the loader script.
   wrk sends `Connection: close`: one request per connection, as nginx proxies to gunicorn by
   default. With persistent connections (`--keep-alive`) each gthread worker keeps the
   connections it happened to accept, and now and then one worker takes all 32 while the
   other idles: throughput halves from one run to the next, which measures luck, not the app.
   The machine is shared with whatever else runs on it: each measurement records the CPU share
   other processes used meanwhile and is taken again (up to `--tries`) when it is too high. On
   PostgreSQL the database server's processes serving the run count as ours, not as others'.
2. Scale. Two databases hold the same demo merchant, one with 1,000 invoices over 100
   customers (the database of part 1), one with a million over 100,000 (bulk-inserted,
   `bench/seed.py`), each served by its own gunicorn. The overview and the invoice list are
   measured on both by turns (`--rounds`), and the ratio of the median latencies is printed,
   beside the ratio of in-process server times (requests to both sizes alternating). Turns,
   because this machine's speed drifts by 10-20 % over minutes: two measurements minutes apart
   would compare the drift. The signed-in customer's own invoices are the same in both: the
   question is whether everyone else's data slows them down.
3. Sizes. `loader.js` gzipped, and each widget page's transfer as a browser fetches it: the HTML
   and its same-origin CSS, JS and images, bodies as served plus response headers (the app does
   not compress; a gzip column shows what a compressing proxy would send).
4. Queries. SQL statements per page, counted in-process with the same listener as the test
   suite's `count_queries` (the suite asserts they stay constant; here they are only printed),
   and the server time of one request at a time, without the network or the load generator.
5. Sign-in capacity (`bench/signin.py`, issue #19 item 13). Sign-ins per second during a flood
   of sign-ins, and the overview's p50/p99 during it next to the overview's on its own: whether
   password hashing (argon2id, bounded per process) starves the pages. In the first backend's
   part only: the database does not change what hashing costs.

The SQLite databases are `instance/bench-small.db` and `instance/bench-large.db`, made anew each
run (the dev database is untouched). On PostgreSQL they are the schemas `bench_small` and
`bench_large` of a database made for the run under a unique name and dropped at its end, or of
DATABASE_URL's database when it is set (dropped and made anew; nothing else in it is touched).
The results of both go to instance/bench-results.json; `--markdown` prints them as the README's
tables (also `python -m bench.report`).

    .venv/bin/python -m bench.run [--backends sqlite postgresql] [--duration 8] [--quick]
    .venv/bin/python -m bench.run --markdown       # the last run's tables, for the README
    .venv/bin/python -m bench.profile [PATH ...]   # where the server time goes, afterwards
    .venv/bin/python -m bench.signin [--duration 5]  # only the sign-in flood, on its own database
"""
import argparse
import gzip
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "instance" / "bench-results.json"
# The same for the app and the hello-world: `make run`'s settings, without the access log.
GUNICORN = ["--workers", "2", "--threads", "4", "--worker-class", "gthread"]
SLUG = "demo"
PAGES = {  # name: (path, needs the signed-in cookie)
    "login page": (f"/p/{SLUG}/login", False),
    "account overview": (f"/p/{SLUG}/account", True),
    "invoice list": (f"/p/{SLUG}/invoices", True),
    "orders list": (f"/p/{SLUG}/orders", True),
    "cart page": (f"/p/{SLUG}/cart", True),
    "loader.js": ("/embed/loader.js", False),
}
SCALED_PAGES = ("account overview", "invoice list")
# The pages held to the throughput target (issue #26): what a signed-in customer looks at.
TARGET_PAGES = ("account overview", "invoice list", "orders list", "cart page")
SMALL, LARGE = (100, 1_000), (100_000, 1_000_000)  # (customers, invoices)
BACKENDS = ("sqlite", "postgresql")
BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
TARGETS = {"throughput ratio": {"sqlite": 0.25, "postgresql": 0.20}, "p99/p50": 4.0,
           "scale ratio": 1.3, "loader gzipped": 2048, "page weight": 30 * 1024}


# --- the load generator ------------------------------------------------------------------------

@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # socket errors and non-2xx/3xx answers
    other_cpu: float = 0.0  # share of the machine's CPU used meanwhile by processes not ours
    # the hello-world's req/s in the same minutes: the mean of its runs just before and just
    # after this one (0: not measured beside it); the page's ratio is taken against it
    yardstick_rps: float = 0.0


def ensure_wrk() -> str:
    """wrk from Debian; installed here when missing and we are root (as .ci/ensure-chromium)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)  # noqa: S607
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env,  # noqa: S607
                       stdout=subprocess.DEVNULL)
        found = shutil.which("wrk")
    if not found:
        sys.exit("wrk is missing: run 'sudo apt-get install -y wrk'")
    return found


def _duration_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk_command(binary: str, url: str, args, cookie: str | None = None,
                seconds: float | None = None, connections: int | None = None,
                script: str | None = None) -> list[str]:
    command = [binary, f"-t{args.threads}", f"-c{connections or args.connections}",
               f"-d{seconds or args.duration:g}s", "--latency", "--timeout", "10s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    if not args.keep_alive:
        command += ["-H", "Connection: close"]
    if script:
        command += ["-s", script]
    return [*command, url]


def wrk(binary: str, url: str, args, cookie: str | None = None, seconds: float | None = None,
        connections: int | None = None) -> Load:
    out = subprocess.run(wrk_command(binary, url, args, cookie, seconds, connections),  # noqa: S603
                         check=True, capture_output=True, text=True).stdout
    return parse_wrk(out)


def parse_wrk(out: str) -> Load:
    percentile = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)\s*$", out, re.MULTILINE))
    if len(percentile) != 2:
        sys.exit(f"could not read wrk's latency distribution:\n{out}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return Load(rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),
                p50_ms=_duration_ms(percentile["50"]), p99_ms=_duration_ms(percentile["99"]),
                requests=int(re.search(r"(\d+) requests in", out)[1]),
                errors=errors + (int(non_2xx[1]) if non_2xx else 0))


# --- who else is using the CPU -------------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def _machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine since boot, from /proc/stat."""
    user, nice, system, idle, iowait, irq, softirq, steal = (
        int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9])
    return user + nice + system + irq + softirq + steal, user + nice + system + idle + iowait + \
        irq + softirq + steal


def _process_jiffies(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except FileNotFoundError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


class OtherCpu:
    """The share of the machine's CPU that processes other than the bench, its servers and wrk
    used between `start()` and `stop()`: the servers and wrk share the cores with whatever else
    runs here, and a measurement taken beside a busy neighbour is low and noisy.

    With `database` (PostgreSQL) the database server's processes that serve it are ours too
    (`postgres.server_pids`): the database is part of the system under test, and counting its
    CPU as a neighbour's made every PostgreSQL measurement look noisy (17-26 %) and retried.
    The processes are looked up at both ends, so a backend that starts meanwhile counts whole."""

    def __init__(self, server_pid: int, database: str | None = None):
        self.server_pid, self.database = server_pid, database

    def _ours(self) -> dict[int, int]:
        """CPU jiffies so far of each of our processes (this one and its children as one)."""
        from bench import postgres

        pids = [self.server_pid, *_children(self.server_pid)]
        if self.database:
            pids += postgres.server_pids(self.database)
        own = os.times()
        return {pid: _process_jiffies(pid) for pid in pids} | {0: round(
            (own.user + own.system + own.children_user + own.children_system) * TICKS)}

    def start(self) -> None:
        self.machine, self.ours = _machine_jiffies(), self._ours()

    def stop(self) -> float:
        (busy, total), ours = _machine_jiffies(), self._ours()
        used = sum(now - self.ours.get(pid, 0) for pid, now in ours.items()
                   if now >= self.ours.get(pid, 0))  # a reused pid is not ours twice
        elapsed = total - self.machine[1]
        return max(0.0, (busy - self.machine[0] - used) / elapsed) if elapsed else 0.0


# --- servers -----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(port: int, path: str, cookie: str | None = None, method: str = "GET",
          form: dict | None = None, headers: dict | None = None):
    """(status, headers, body, header bytes) of one request, redirects not followed."""
    from urllib.parse import urlencode

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = dict(headers or {})
    if cookie:
        headers["Cookie"] = cookie
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    head = len(f"HTTP/1.1 {response.status} {response.reason}\r\n") + sum(
        len(f"{k}: {v}\r\n") for k, v in response.getheaders()) + 2
    conn.close()
    return response.status, response.headers, data, head


class Server:
    """A gunicorn process on a free loopback port, stopped by `stop()` (or `with`)."""

    def __init__(self, target: str, env: dict, database: str | None = None):
        self.port, self.database = free_port(), database  # PostgreSQL's, for OtherCpu
        self.process = subprocess.Popen(  # noqa: S603  (our own gunicorn, fixed arguments)
            [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.port}", *GUNICORN, target],
            cwd=ROOT, env={**os.environ, **env, "PUBLIC_URL": f"http://127.0.0.1:{self.port}"},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"gunicorn {target} exited:\n{self.process.stderr.read().decode()}")
            try:
                fetch(self.port, "/healthz" if target == "wsgi:app" else "/")
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        sys.exit(f"gunicorn {target} did not answer within 30 s")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def sign_in(port: int, username: str, password: str) -> str:
    """The demo customer's widget cookie, as a browser would get it: the login page (for the
    CSRF token and its session), the form, then one page so the one-shot "logged-in" event and
    the fresh CSRF token are in the cookie wrk replays (otherwise every request would re-issue
    the cookie)."""
    jar: dict[str, str] = {}

    def remember(headers) -> None:
        for raw in headers.get_all("Set-Cookie") or []:
            name, _, value = raw.split(";", 1)[0].partition("=")
            jar[name.strip()] = value

    def cookie() -> str:
        return "; ".join(f"{k}={v}" for k, v in jar.items())

    status, headers, body, _ = fetch(port, PAGES["login page"][0])
    remember(headers)
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body)[1].decode()
    status, headers, body, _ = fetch(port, PAGES["login page"][0], cookie(), "POST",
                                     {"csrf_token": token, "login": username,
                                      "password": password})
    if status != 302:
        sys.exit(f"signing in failed: {status} {body[:300]!r}")
    remember(headers)
    for _ in range(3):
        status, headers, _, _ = fetch(port, PAGES["account overview"][0], cookie())
        if status != 200:
            sys.exit(f"the overview answered {status} after signing in")
        if not headers.get_all("Set-Cookie"):
            return cookie()
        remember(headers)
    sys.exit("the session cookie keeps changing: wrk could not replay it")


# --- the in-process side: database, seed, query counts -----------------------------------------

def make_app(database_url: str, secret: str):
    from widget_server import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": secret,
                       "PUBLIC_URL": "http://127.0.0.1"})


FROM_ENVIRONMENT = "DATABASE_URL"


def database_urls(sizes: dict, reset: bool, postgres: str | None = FROM_ENVIRONMENT
                  ) -> dict[str, str]:
    """One database per size, so both can be served side by side: instance/bench-SIZE.db, or
    on PostgreSQL the schemas bench_SIZE of the `postgres` URL's database (through
    `search_path`; nothing else in it is touched). `postgres` None means SQLite; left out, it is
    DATABASE_URL's (SQLite without it), as bench.dashboard, bench.profile and bench.billing
    use it. `reset` drops and recreates them."""
    from sqlalchemy import create_engine, text

    from widget_server.core.config import database_url as normalise

    if postgres == FROM_ENVIRONMENT:
        postgres = os.environ.get("DATABASE_URL") or None
    urls = {}
    for size in sizes:
        if postgres:
            base, schema = normalise(postgres), f"bench_{size}"
            if reset:
                engine = create_engine(base)
                with engine.begin() as conn:
                    conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    conn.execute(text(f"CREATE SCHEMA {schema}"))
                engine.dispose()
            urls[size] = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
        else:
            path = ROOT / "instance" / f"bench-{size}.db"
            path.parent.mkdir(exist_ok=True)
            for suffix in ("", "-wal", "-shm") if reset else ():
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            urls[size] = f"sqlite:///{path}"
    return urls


def build(app, url: str, customers: int, invoices: int) -> float:
    """Migrate the empty database (`flask db upgrade`, as a deployment does; its log is shown
    only when it fails), seed the demo, grow it; returns the bulk seed's seconds."""
    from bench import seed as bulk
    from widget_server.demo.seed import seed_demo

    migrated = subprocess.run(  # noqa: S603  (our own flask, fixed arguments)
        [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, capture_output=True,
        text=True, env={**os.environ, "DATABASE_URL": url})
    if migrated.returncode:
        sys.exit(f"flask db upgrade failed:\n{migrated.stderr}")
    with app.app_context():
        seed_demo()
        return bulk.grow(customers, invoices)


def signed_in_client(app):
    """A test client signed in as the demo customer, the way `sign_in` does it over HTTP."""
    from widget_server.demo.seed import CUSTOMER_PASSWORD, CUSTOMER_USERNAME

    client = app.test_client()
    page = client.get(PAGES["login page"][0]).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
    client.post(PAGES["login page"][0], data={"csrf_token": token, "login": CUSTOMER_USERNAME,
                                              "password": CUSTOMER_PASSWORD})
    client.get(PAGES["account overview"][0])  # the one-shot "logged-in" event, as in sign_in
    return client


def count_statements(app, client, path: str) -> int:
    """SQL statements of one request, counted like the suite's `count_queries`."""
    from sqlalchemy import event

    from widget_server.core.extensions import db

    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200, (path, response.status_code)
    response.close()
    return len(statements)


def queries_and_server_time(apps: dict, repeat: int) -> dict[str, dict]:
    """Per size and page: SQL statements of one request, and the median time of `repeat`
    requests made one at a time through Flask's test client (no network, no load generator).
    The sizes take turns request by request, so a machine that slows down slows both."""
    clients = {size: (signed_in_client(app), app.test_client()) for size, app in apps.items()}
    results: dict[str, dict] = {size: {} for size in apps}
    for name, (path, signed_in) in PAGES.items():
        times: dict[str, list[float]] = {size: [] for size in apps}
        for size, app in apps.items():
            client = clients[size][0 if signed_in else 1]
            results[size][name] = {"queries": count_statements(app, client, path)}
        for _ in range(repeat):
            for size in apps:
                client = clients[size][0 if signed_in else 1]
                started = time.perf_counter()
                client.get(path).close()
                times[size].append((time.perf_counter() - started) * 1000)
        for size in apps:
            results[size][name]["server_ms"] = statistics.median(times[size])
    return results


# --- sizes -------------------------------------------------------------------------------------

ASSET_RE = re.compile(rb'<(?:link|script|img)\b[^>]*?\b(?:href|src)="(/[^"/][^"]*)"')


def page_weights(port: int, cookie: str) -> dict:
    """Bytes a browser receives for each widget page (the HTML, then each same-origin
    stylesheet, script and image it names; bodies as served plus response headers), and the
    loader gzipped at level 9 (what `gzip -9` or a pre-compressing CDN serves)."""
    accept = {"Accept-Encoding": "gzip, deflate, br"}
    result = {}
    for name, (path, signed_in) in PAGES.items():
        if name == "loader.js":
            continue
        status, _, html, head = fetch(port, path, cookie if signed_in else None, headers=accept)
        assert status == 200, (path, status)
        parts = {"html": len(html), "css": 0, "js": 0, "other": 0}
        headers_total, gzipped = head, len(gzip.compress(html, 6))
        for asset in dict.fromkeys(ASSET_RE.findall(html)):
            status, _, body, head = fetch(port, asset.decode().replace("&amp;", "&"),
                                          headers=accept)
            assert status == 200, (asset, status)
            kind = ("css" if asset.endswith(b".css") else
                    "js" if asset.endswith(b".js") else "other")
            parts[kind] += len(body)
            headers_total += head
            gzipped += len(gzip.compress(body, 6))
        result[name] = {**parts, "headers": headers_total,
                        "total": sum(parts.values()) + headers_total, "gzipped": gzipped}
    _, _, loader, _ = fetch(port, PAGES["loader.js"][0])
    result["loader.js"] = {"raw": len(loader), "gzipped": len(gzip.compress(loader, 9))}
    return result


# --- the run -----------------------------------------------------------------------------------

def machine_facts() -> dict:
    """What the report's heading says about where it ran (the PostgreSQL version is added by
    the run that used it)."""
    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "unknown CPU")
    return {"cpu": model, "cores": os.cpu_count(), "python": sys.version.split()[0]}


def machine() -> str:
    facts = machine_facts()
    return f"{facts['cores']} cores ({facts['cpu']}), Python {facts['python']}"


def check_idle(when: str) -> float:
    """The CPU share other processes use over two seconds while the bench does nothing."""
    before, own = _machine_jiffies(), os.times()
    time.sleep(2)
    (busy, total), mine = _machine_jiffies(), os.times()
    ours = (mine.user + mine.system - own.user - own.system) * TICKS
    share = max(0.0, (busy - before[0] - ours) / max(1, total - before[1]))
    if share > 0.05:
        print(f"WARNING: other processes use {share:.0%} of the CPU {when}: figures taken "
              "beside them are low and noisy", flush=True)
    return share


def load_url(binary: str, server: Server, path: str, cookie: str | None, args) -> Load:
    """Check the URL answers 200 (not a redirect to the login page), warm up, measure, and
    check again that it still answers 200 (the session was not lost on the way). When other
    processes took more than `--max-other-cpu` of the machine meanwhile, measure again (up to
    `--tries` times) and keep the quietest run."""
    runs = []
    other = OtherCpu(server.process.pid, server.database)
    for _ in range(args.tries):
        status, _, _, _ = fetch(server.port, path, cookie)
        if status != 200:
            sys.exit(f"{path} answered {status} before the load")
        wrk(binary, server.url(path), args, cookie, seconds=args.warmup)
        other.start()
        load = wrk(binary, server.url(path), args, cookie)
        load.other_cpu = other.stop()
        runs.append(load)
        status, _, _, _ = fetch(server.port, path, cookie)
        if status != 200:
            sys.exit(f"{path} answered {status} after the load")
        if load.other_cpu <= args.max_other_cpu:
            break
        print(f"  ({path}: other processes used {load.other_cpu:.0%} of the CPU meanwhile)",
              flush=True)
    return min(runs, key=lambda run: run.other_cpu)


def measure(binary: str, server: Server, names, cookie: str, args, label: str = ""
            ) -> dict[str, Load]:
    loads = {}
    for name in names:
        path, signed_in = PAGES[name]
        loads[name] = load_url(binary, server, path, cookie if signed_in else None, args)
        print(f"  {name:<18} {loads[name].rps:8.0f} req/s {label}", flush=True)
    return loads


def measure_beside(binary: str, hello: Server, server: Server, names, cookie: str, args
                   ) -> dict[str, Load]:
    """Each page between two runs of the hello-world, its ratio taken against their mean: the
    machine's speed drifts by a tenth over minutes (one run measured the same code a third
    slower in process at its end than at its start), and a yardstick measured once, minutes
    before the last page, compared pages with other minutes. The hello-world's row is the
    median of all its runs."""
    runs = [load_url(binary, hello, "/", None, args)]
    print(f"  {'hello-world':<18} {runs[-1].rps:8.0f} req/s", flush=True)
    loads = {}
    for name in names:
        loads |= measure(binary, server, [name], cookie, args)
        runs.append(load_url(binary, hello, "/", None, args))
        loads[name].yardstick_rps = (runs[-2].rps + runs[-1].rps) / 2
        print(f"  {'hello-world':<18} {runs[-1].rps:8.0f} req/s  ({name}: "
              f"{loads[name].rps / loads[name].yardstick_rps:.2f} x)", flush=True)
    return {"hello-world": median_load(runs), **loads}


def median_load(runs: list[Load]) -> Load:
    return Load(rps=statistics.median(r.rps for r in runs),
                p50_ms=statistics.median(r.p50_ms for r in runs),
                p99_ms=statistics.median(r.p99_ms for r in runs),
                requests=sum(r.requests for r in runs), errors=sum(r.errors for r in runs),
                other_cpu=max(r.other_cpu for r in runs))


def build_sizes(backend: str, urls: dict, sizes: dict, secret: str) -> tuple[dict, dict]:
    """Both sizes migrated, seeded and grown; (in-process apps, bulk seed seconds) by size."""
    apps, seconds = {}, {}
    for size, (customers, invoices) in sizes.items():
        print(f"Database ({BACKEND_NAMES[backend]}, {size}): {invoices:,} invoices over "
              f"{customers:,} customers", flush=True)
        apps[size] = make_app(urls[size], secret)
        seconds[size] = build(apps[size], urls[size], customers, invoices)
    return apps, seconds


def scale_run(binary: str, servers: dict, cookies: dict, args) -> dict:
    """The scaled pages on the small and the large database by turns, `--rounds` times; the
    medians per size and page."""
    print(f"Scale: the small and the large database by turns, {args.rounds} rounds", flush=True)
    runs: dict[str, dict[str, list[Load]]] = {s: {p: [] for p in SCALED_PAGES} for s in servers}
    for _ in range(args.rounds):
        for size, server in servers.items():
            for name, load in measure(binary, server, SCALED_PAGES, cookies[size], args,
                                      label=size).items():
                runs[size][name].append(load)
    return {size: {name: vars(median_load(r)) for name, r in pages.items()}
            for size, pages in runs.items()}


def run_backend(backend: str, postgres_url: str | None, binary: str, secret: str, args) -> dict:
    """One backend's part: its two databases, the in-process figures, then the hello-world
    (this part's yardstick), every page and the scale run under gunicorn. Every server of the
    part gets the same settings (`GUNICORN`) and the same DATABASE_URL treatment."""
    from widget_server.demo.seed import CUSTOMER_PASSWORD, CUSTOMER_USERNAME

    print(f"== {BACKEND_NAMES[backend]} ==", flush=True)
    sizes = {"small": SMALL, "large": (1_000, 10_000) if args.quick else LARGE}
    urls = database_urls(sizes, reset=True, postgres=postgres_url)
    apps, seconds = build_sizes(backend, urls, sizes, secret)
    inprocess = queries_and_server_time(apps, args.repeat)
    for app in apps.values():
        dispose(app)
    database = None
    if postgres_url:
        from bench import postgres
        database = postgres.database_name(postgres_url)
    env = {"SECRET_KEY": secret}
    with (Server("bench.hello:app", {**env, "DATABASE_URL": urls["small"]}) as hello,
          Server("wsgi:app", {**env, "DATABASE_URL": urls["small"]}, database) as small,
          Server("wsgi:app", {**env, "DATABASE_URL": urls["large"]}, database) as large):
        servers = {"small": small, "large": large}
        cookies = {size: sign_in(server.port, CUSTOMER_USERNAME, CUSTOMER_PASSWORD)
                   for size, server in servers.items()}
        weights = page_weights(small.port, cookies["small"])
        print(f"Load: wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s per URL",
              flush=True)
        loads = measure_beside(binary, hello, small, PAGES, cookies["small"], args)
        scaled = scale_run(binary, servers, cookies, args)
    result = {"name": BACKEND_NAMES[backend], "sizes": sizes, "seed_seconds": seconds,
              "load": {k: vars(v) for k, v in loads.items()}, "scaled": scaled,
              "inprocess": inprocess, "weights": weights}
    if backend == args.backends[0] and args.signin_rounds > 0:  # (0: no flood this run)
        result["signin"] = sign_in_flood(binary, urls["small"], secret, args)
    return result


def dispose(app) -> None:
    """Close the in-process app's connections (PostgreSQL keeps a backend per connection)."""
    from widget_server.core.extensions import db

    with app.app_context():
        db.engine.dispose()


def sign_in_flood(binary: str, url: str, secret: str, args) -> dict:
    """`bench/signin.py`'s flood, in the first backend's part only and `--signin-rounds`
    rounds: it measures password hashing against the pages, which the database does not
    change, and a second run would cost minutes of the whole `make bench`."""
    from bench import signin

    return signin.measure(binary, url, secret,
                          argparse.Namespace(**{**vars(args), "rounds": args.signin_rounds}))


def parse_arguments() -> argparse.Namespace:
    from bench import signin

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS),
                        help="databases to measure, in this order (both by default)")
    parser.add_argument("--duration", type=float, default=8, help="seconds of load per URL")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of load before each")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3,
                        help="turns of the small and the large database in the scale run")
    parser.add_argument("--signin-rounds", type=int, default=2,
                        help="rounds of the sign-in flood (in the first backend's part)")
    parser.add_argument("--repeat", type=int, default=200,
                        help="requests timed one at a time, in-process, per page and size")
    parser.add_argument("--keep-alive", action="store_true",
                        help="persistent connections instead of one request per connection")
    parser.add_argument("--tries", type=int, default=3,
                        help="measurements of a URL at most, while other processes are busy")
    parser.add_argument("--max-other-cpu", type=float, default=0.05,
                        help="share of the CPU other processes may use during a measurement")
    parser.add_argument("--quick", action="store_true",
                        help="10,000 invoices over 1,000 customers for the scale run")
    parser.add_argument("--markdown", action="store_true",
                        help=f"only print the last run's tables ({RESULTS.name}) as markdown")
    signin.add_arguments(parser)
    return parser.parse_args()


def main() -> None:
    from bench import postgres, report

    args = parse_arguments()
    if args.markdown:
        print(report.markdown(report.load_results()))
        return
    # `kill` ends the run like Ctrl-C: servers stopped, the run's PostgreSQL database dropped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    binary, started = ensure_wrk(), time.monotonic()
    facts = machine_facts()
    print(f"Machine: {machine()}", flush=True)
    busy_before = check_idle("before the run")
    secret = secrets.token_urlsafe(32)
    backends = {}
    for backend in args.backends:
        if backend == "postgresql":
            with postgres.database() as url:
                facts["postgresql"] = postgres.version(url)
                backends[backend] = run_backend(backend, url, binary, secret, args)
        else:
            backends[backend] = run_backend(backend, None, binary, secret, args)
    results = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": facts,
               "other_cpu": {"before": busy_before, "after": check_idle("after the run")},
               "args": vars(args), "backends": backends,
               "seconds": time.monotonic() - started}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    report.text(results)


if __name__ == "__main__":
    main()
