"""Where a widget page's server time goes: `python -m bench.profile [PATH ...]`.

Runs after `make bench`, on the databases it leaves behind (instance/bench-large.db with the
million invoices, or the schema bench_large of DATABASE_URL's database; `--database small` for
the other). The PostgreSQL database a run makes for itself is dropped at its end: to profile on
PostgreSQL, run the bench with DATABASE_URL set (`--backends postgresql` is enough) and this
with the same DATABASE_URL. Every page of `bench.run.PAGES` by default (orders and cart too).
Each page is requested in-process, one request at a time, first unprofiled (the
median time), then under cProfile; the profile's own time is summed by package (sqlalchemy,
jinja2, babel, the app, ...) and the app's and Babel's slowest functions are listed. cProfile
is in the standard library; for a sampling view of the gunicorn workers under wrk's load use
py-spy (`pip install py-spy`; `py-spy record --gil --subprocesses --pid <gunicorn master>`).
"""
import argparse
import cProfile
import pstats
import re
import statistics
import time
from collections import Counter

from bench.run import PAGES, database_urls, make_app


def package(filename: str) -> str:
    found = re.search(r"site-packages/([^/]+)", filename)
    if found:
        return found[1].removesuffix(".py")
    if "/widget_server/" in filename:
        return "widget_server (the app)"
    if "/themes/" in filename or filename.endswith(".html"):
        return "templates"
    return "stdlib and builtins"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", default=[p for p, _ in PAGES.values()])
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--database", choices=("small", "large"), default="large")
    args = parser.parse_args()

    from widget_server.demo.seed import CUSTOMER_PASSWORD, CUSTOMER_USERNAME

    url = database_urls({args.database: None}, reset=False)[args.database]
    app = make_app(url, "bench-profile-" + "x" * 32)
    signed_in, anonymous = app.test_client(), app.test_client()
    login = PAGES["login page"][0]
    page = signed_in.get(login).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
    signed_in.post(login, data={"csrf_token": token, "login": CUSTOMER_USERNAME,
                                "password": CUSTOMER_PASSWORD})
    signed_in.get(PAGES["account overview"][0])
    needs_session = {path for path, session in PAGES.values() if session}

    for path in args.paths:
        client = signed_in if path in needs_session else anonymous
        for _ in range(50):  # templates compiled, caches warm
            client.get(path).close()
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            client.get(path).close()
            times.append((time.perf_counter() - started) * 1000)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.repeat):
            client.get(path).close()
        profiler.disable()
        stats = pstats.Stats(profiler)
        by_package: Counter[str] = Counter()
        for (filename, _, _), (_, _, own, _, _) in stats.stats.items():
            by_package[package(filename)] += own
        total = sum(by_package.values())
        print(f"\n{path}: {statistics.median(times):.2f} ms a request (median of "
              f"{args.repeat}, unprofiled)")
        for name, own in by_package.most_common(8):
            print(f"  {own / total:6.1%}  {name}")
        print("  slowest functions (cumulative, per request):")
        rows = sorted(stats.stats.items(), key=lambda item: item[1][3], reverse=True)
        shown = 0
        for (filename, line, function), (_, _, _, cumulative, _) in rows:
            if "widget_server" in filename or "babel" in filename:
                print(f"    {cumulative / args.repeat * 1000:6.2f} ms  {function} "
                      f"({filename.rsplit('/', 2)[-2]}/{filename.rsplit('/', 1)[-1]}:{line})")
                shown += 1
            if shown == 10:
                break


if __name__ == "__main__":
    main()
