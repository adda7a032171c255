"""Sign-in capacity (issue #19 item 13): sign-ins per second, and what a flood of sign-ins does
to everyone else's pages.

A separate gunicorn (the same settings as `bench/run.py`'s, on the small database) serves the
flood with `RATELIMIT_ENABLED=false`: the limiter counts per client address and per account, so
from one loopback address it would answer 429 after 20 posts and measure the limiter. What this
measures is the flood the limiter does not stop: many people (or addresses) signing in at once.

- The flood: wrk posts the demo customer's right credentials to the login form (one CSRF token
  and its cookie, replayed; `--signin-connections`, 32 by default: "32 people signing in at
  once") for the whole round. Each answer is counted by status: 302 a sign-in, 503 "busy, try
  again" (the bound on concurrent hashing), anything else an error. Sign-ins per second are the
  302s over the flood's length; the sign-in's own p50/p99 are wrk's latency.
- The pages: the signed-in overview driven by wrk with `--page-connections` (8), first on its
  own, then during the flood (after `--warmup` seconds of flood), the same duration. Its p50/p99
  during the flood next to the quiet ones say whether sign-ins starve page requests.
- The reference: the overview again while as many connections fetch the login page (GET, no
  password hashed). A closed-loop flood of any request saturates the server and slows the pages
  by its volume alone; the sign-in flood's figures next to this one show what hashing adds.

Rounds (`--rounds`) take quiet and flood by turns, and the medians are reported, because this
machine is shared and its speed drifts.

    .venv/bin/python -m bench.signin [--duration 5] [--rounds 3]   # on its own database
    make bench                                                     # as its last part
"""
import argparse
import json
import re
import secrets
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench import run

LOGIN, OVERVIEW = run.PAGES["login page"][0], run.PAGES["account overview"][0]

# Counts every answer by status, per wrk thread; `done` prints the totals ("STATUS 302 1234").
POST = """
wrk.method = "POST"
wrk.body = %(body)s
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
"""
LUA = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) counts = {} end
function response(status, headers, body) counts[status] = (counts[status] or 0) + 1 end
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do total[status] = (total[status] or 0) + n end
  end
  for status, n in pairs(total) do io.write(string.format("STATUS %d %d\\n", status, n)) end
end
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--signin-connections", type=int, default=32,
                        help="wrk connections posting the login form during the flood")
    parser.add_argument("--page-connections", type=int, default=8,
                        help="wrk connections on the overview, quiet and during the flood")


def _login_form(port: int, username: str, password: str) -> tuple[str, str]:
    """(cookie, urlencoded body) of the login form as a browser would post it."""
    from urllib.parse import urlencode

    status, headers, body, _ = run.fetch(port, LOGIN)
    if status != 200:
        raise SystemExit(f"the login page answered {status}")
    cookie = "; ".join(raw.split(";", 1)[0] for raw in headers.get_all("Set-Cookie") or [])
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body)[1].decode()
    return cookie, urlencode({"csrf_token": token, "login": username, "password": password})


def _flood(binary: str, server: "run.Server", cookie: str, body: str | None, seconds: float,
           args) -> subprocess.Popen:
    """wrk on the login page for `seconds`: posting `body` (the sign-in flood), or with no body
    fetching the page (the reference flood: as many requests, no password hashed)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        if body is not None:
            script.write(POST % {"body": '"' + body.replace('"', '\\"') + '"'})
        script.write(LUA)
    process = subprocess.Popen(  # noqa: S603  (wrk, fixed arguments)
        run.wrk_command(binary, server.url(LOGIN), args, cookie, seconds,
                        args.signin_connections, script.name),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.script = script.name
    return process


def _overview_during(binary: str, server: "run.Server", cookie: str, form: tuple[str, str],
                     body: str | None, args) -> tuple["run.Load", dict]:
    other = run.OtherCpu(server.process.pid)
    flood_seconds = args.warmup + args.duration + 1
    flood = _flood(binary, server, form[0], body, flood_seconds, args)
    try:
        time.sleep(args.warmup)
        other.start()
        during = run.wrk(binary, server.url(OVERVIEW), args, cookie,
                         connections=args.page_connections)
        during.other_cpu = other.stop()
        out, err = flood.communicate(timeout=flood_seconds + 30)
    finally:
        Path(flood.script).unlink(missing_ok=True)
    if flood.returncode:
        raise SystemExit(f"wrk (flood) failed: {err}")
    if not during.requests:  # starved: no overview answered during the flood
        during.p50_ms = during.p99_ms = args.duration * 1000  # at least the whole run
    statuses = {int(s): int(n) for s, n in re.findall(r"^STATUS (\d+) (\d+)$", out, re.M)}
    seconds = float(re.search(r"requests in ([\d.]+)s", out)[1])
    load = run.parse_wrk(out)
    return during, {"statuses": statuses, "seconds": seconds, "p50_ms": load.p50_ms,
                    "p99_ms": load.p99_ms, "rps": load.rps}


def flood_round(binary: str, server: "run.Server", cookie: str, form: tuple[str, str],
                args) -> dict:
    """One round: the overview quiet, during a flood of sign-ins, and during the reference
    flood (the login page fetched by as many connections: the flood's volume without hashing)."""
    other = run.OtherCpu(server.process.pid)
    url = server.url(OVERVIEW)
    run.wrk(binary, url, args, cookie, seconds=args.warmup, connections=args.page_connections)
    other.start()
    quiet = run.wrk(binary, url, args, cookie, connections=args.page_connections)
    quiet.other_cpu = other.stop()
    during, flood = _overview_during(binary, server, cookie, form, form[1], args)
    reference, page_flood = _overview_during(binary, server, cookie, form, None, args)
    signed_in, busy = flood["statuses"].get(302, 0), flood["statuses"].get(503, 0)
    return {"quiet": vars(quiet), "during": vars(during), "reference": vars(reference),
            "signin": {"per_second": signed_in / flood["seconds"],
                       "busy_per_second": busy / flood["seconds"],
                       "p50_ms": flood["p50_ms"], "p99_ms": flood["p99_ms"],
                       "statuses": flood["statuses"]},
            "page_flood": {"per_second": page_flood["rps"]}}


def measure(binary: str, database_url: str, secret: str, args) -> dict:
    """The flood's rounds against its own gunicorn on `database_url`; medians and each round."""
    from widget_server.demo.seed import CUSTOMER_PASSWORD, CUSTOMER_USERNAME

    env = {"SECRET_KEY": secret, "DATABASE_URL": database_url, "RATELIMIT_ENABLED": "false"}
    rounds = []
    with run.Server("wsgi:app", env) as server:
        cookie = run.sign_in(server.port, CUSTOMER_USERNAME, CUSTOMER_PASSWORD)
        form = _login_form(server.port, CUSTOMER_USERNAME, CUSTOMER_PASSWORD)
        print(f"Sign-in flood: {args.signin_connections} connections posting the login form, "
              f"the overview at {args.page_connections} connections, {args.rounds} rounds",
              flush=True)
        for _ in range(args.rounds):
            result = flood_round(binary, server, cookie, form, args)
            rounds.append(result)
            print(f"  {result['signin']['per_second']:6.1f} sign-ins/s "
                  f"({result['signin']['busy_per_second']:.1f}/s busy); overview p99 "
                  f"{result['quiet']['p99_ms']:.1f} ms quiet, {result['during']['p99_ms']:.1f} "
                  f"ms during, {result['reference']['p99_ms']:.1f} ms during the reference "
                  f"flood", flush=True)

    def median(part: str, key: str) -> float:
        return statistics.median(r[part][key] for r in rounds)

    return {"argon2": _argon2_parameters(), "rounds": rounds,
            "median": {part: {key: median(part, key) for key in keys} for part, keys in (
                ("signin", ("per_second", "busy_per_second", "p50_ms", "p99_ms")),
                ("quiet", ("rps", "p50_ms", "p99_ms")),
                ("during", ("rps", "p50_ms", "p99_ms")),
                ("reference", ("rps", "p50_ms", "p99_ms")),
                ("page_flood", ("per_second",)))}}


def _argon2_parameters() -> dict:
    from widget_server.core.config import from_environment

    cfg = from_environment()
    return {k.removeprefix("ARGON2_").lower(): v for k, v in cfg.items()
            if k.startswith("ARGON2_")}


def report(r: dict, args: dict) -> None:
    m, a = r["median"], r["argon2"]
    print()
    print(f"== Sign-in flood (argon2id {', '.join(f'{k}={v}' for k, v in a.items())}; "
          f"{args['signin_connections']} connections posting the login form, the overview at "
          f"{args['page_connections']}; medians of {len(r['rounds'])} rounds) ==")
    print(f"sign-ins/s {m['signin']['per_second']:.1f}, busy answers/s "
          f"{m['signin']['busy_per_second']:.1f}, sign-in p50 {m['signin']['p50_ms']:.0f} ms, "
          f"p99 {m['signin']['p99_ms']:.0f} ms")
    print(f"login-page flood (reference, no hashing): {m['page_flood']['per_second']:.0f} req/s")
    print(f"{'overview':<18} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for part, label in (("quiet", "quiet"), ("during", "sign-in flood"),
                        ("reference", "login-page flood")):
        print(f"{label:<18} {m[part]['rps']:8.0f} {m[part]['p50_ms']:8.2f} "
              f"{m[part]['p99_ms']:8.2f}")
    starved = sum(not run_["during"]["requests"] for run_ in r["rounds"])
    if starved:
        print(f"(in {starved} of {len(r['rounds'])} rounds no overview answered during the flood; "
              f"its latency counts as the whole {args['duration']:g} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds of load per part")
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep-alive", action="store_true")
    add_arguments(parser)
    args = parser.parse_args()
    args.connections = args.page_connections

    binary = run.ensure_wrk()
    print(f"Machine: {run.machine()}", flush=True)
    run.check_idle("before the run")
    secret = secrets.token_urlsafe(32)
    url = run.database_urls({"signin": None}, reset=True)["signin"]
    run.build(run.make_app(url, secret), url, *run.SMALL)
    results = measure(binary, url, secret, args)
    results["args"] = vars(args)
    (run.ROOT / "instance" / "bench-signin.json").write_text(json.dumps(
        results, indent=2))
    report(results, vars(args))


if __name__ == "__main__":
    main()
