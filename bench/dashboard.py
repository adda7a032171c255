"""The admin dashboard at a thousand and at a million invoices (issue #24 item 1): its figures
are aggregate statements (`billing/reports.py`), so its server time should not follow the number
of invoices further than the open ones it sums.

Builds (or, with `--reuse`, reuses) `make bench`'s two databases: the demo grown to 1,000
invoices over 100 customers and to 1,000,000 over 100,000 (a fifth of them open, half of those
overdue; `bench/seed.py`), signs in as the demo owner with Flask's test client (no network, no
load generator: server time only) and times `/admin/` request by request, the sizes taking
turns. Prints the median and p90 server milliseconds, the SQL statements of one request and the
large/small ratio, and writes instance/bench-dashboard.json.

    .venv/bin/python -m bench.dashboard            # SQLite, instance/bench-*.db
    .venv/bin/python -m bench.dashboard --quick    # 10,000 invoices for the large size
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.dashboard
"""
import argparse
import json
import re
import secrets
import statistics
import time

from bench.run import LARGE, ROOT, SMALL, build, count_statements, database_urls, machine, make_app

RESULTS = ROOT / "instance" / "bench-dashboard.json"
PATH = "/admin/"


def owner_client(app):
    from widget_server.demo.seed import OWNER_EMAIL, OWNER_PASSWORD

    client = app.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
    answer = client.post("/admin/login", data={"csrf_token": token, "email": OWNER_EMAIL,
                                                "password": OWNER_PASSWORD})
    assert answer.status_code == 302, answer.status_code
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--reuse", action="store_true",
                        help="use the databases a previous run (or make bench) built")
    args = parser.parse_args()
    sizes = {"small": SMALL, "large": (1_000, 10_000) if args.quick else LARGE}
    print(f"Machine: {machine()}", flush=True)
    urls = database_urls(sizes, reset=not args.reuse)
    secret = secrets.token_urlsafe(32)
    apps, clients, results = {}, {}, {}
    for size, (customers, invoices) in sizes.items():
        apps[size] = make_app(urls[size], secret)
        if not args.reuse:
            print(f"Building {size}: {invoices:,} invoices over {customers:,} customers",
                  flush=True)
            build(apps[size], urls[size], customers, invoices)
        clients[size] = owner_client(apps[size])
        results[size] = {"invoices": invoices,
                         "queries": count_statements(apps[size], clients[size], PATH)}
    times: dict[str, list[float]] = {size: [] for size in sizes}
    for _ in range(args.repeat):
        for size in sizes:
            started = time.perf_counter()
            clients[size].get(PATH).close()
            times[size].append((time.perf_counter() - started) * 1000)
    for size in sizes:
        ordered = sorted(times[size])
        results[size]["server_ms_p50"] = statistics.median(ordered)
        results[size]["server_ms_p90"] = ordered[int(len(ordered) * 0.9) - 1]
    ratio = results["large"]["server_ms_p50"] / results["small"]["server_ms_p50"]
    print("| admin dashboard | invoices | SQL statements | server ms p50 | p90 |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for size in sizes:
        r = results[size]
        print(f"| {size} | {r['invoices']:,} | {r['queries']} | {r['server_ms_p50']:.1f} | "
              f"{r['server_ms_p90']:.1f} |")
    print(f"large / small p50: {ratio:.2f}")
    RESULTS.write_text(json.dumps({"machine": machine(), "results": results,
                                   "ratio": ratio}, indent=1))


if __name__ == "__main__":
    main()
