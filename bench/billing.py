"""The billing run's throughput and whether its cost per invoice stays flat (issue #21 item 4).

On PostgreSQL (the run's `FOR UPDATE SKIP LOCKED` batches and the bulk load are PostgreSQL's):
DATABASE_URL's database, or without it a database of its own on the cluster `.ci/run` uses,
made for the run and dropped after it (`bench.postgres`, as `make bench`'s pages). For each
size N (1,000 and 100,000 orders; `--quick`: 1,000 and 10,000) the schema `bench_billing` of
that database is made anew (migrated,
the demo seeded), N monthly orders of the demo merchant are bulk-inserted with SQL (one
`INSERT … SELECT generate_series`, with their lines), each a month old and due (its next
billing date yesterday), over min(N, 10,000) customers, and `billing_run.run()` bills them in
this process, as the worker's job does: one invoice per order, issued (number, Invoice Issued
emails to the customer's address), in batches of `billing_run.BATCH`, each its own transaction.

It prints invoices per second, milliseconds, CPU (this process and its PostgreSQL backend, read
from /proc: steadier than wall time on a shared machine), SQL statements per invoice, this
process's peak resident memory after each size (bounded memory: it does not grow with N), and the
CPU per invoice of the run's first, median and last batches. Flat means: the largest N's CPU per
invoice within 1.3x of the smallest's, and the last batch's near the first's (a per-invoice scan
of a growing table shows up as both growing).

    .venv/bin/python -m bench.billing                  # 1,000 and 100,000 (about 15 minutes)
    .venv/bin/python -m bench.billing --quick          # 1,000 and 10,000
    .venv/bin/python -m bench.billing --sizes 2000     # any sizes
"""
import argparse
import itertools
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from bench import postgres
from bench.run import BIN, ROOT, check_idle, database_urls, machine, make_app

RESULTS = ROOT / "instance" / "bench-billing.json"
FLAT = 1.3  # the largest size's cost per invoice at most this many times the smallest's
MAX_CUSTOMERS = 10_000


def _migrate(url: str) -> None:
    done = subprocess.run(  # noqa: S603  (our own flask, fixed arguments)
        [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, capture_output=True,
        text=True, env={**os.environ, "DATABASE_URL": url})
    if done.returncode:
        sys.exit(f"flask db upgrade failed:\n{done.stderr}")


def _load(orders: int) -> tuple[int, float]:
    """The demo merchant with `orders` due monthly orders; returns (merchant id, seconds)."""
    from sqlalchemy import select, text

    from bench import seed as bulk
    from widget_server.catalogue.models import Product
    from widget_server.core.extensions import db
    from widget_server.demo.seed import seed_demo

    seed_demo()
    db.session.commit()
    started = time.perf_counter()
    merchant_id, _, currency = bulk.demo_ids()
    customers = min(orders, MAX_CUSTOMERS)
    bulk._add_customers(merchant_id, 0, customers)
    plan = Product(merchant_id=merchant_id, sku="BENCH-PLAN", name="Bench plan (monthly)",
                   unit_price_minor=1190, currency=currency, tax_rate_bp=1900,
                   interval="month", interval_count=1)
    db.session.add(plan)
    db.session.commit()
    ids = list(db.session.scalars(select(bulk.Customer.id).where(
        bulk.Customer.company == bulk.BULK_COMPANY).order_by(bulk.Customer.id)))
    # due yesterday in UTC: due in every time zone, the merchant's (Berlin) included
    due = date.today() - timedelta(days=1)
    start = date(due.year - (due.month == 1), (due.month - 2) % 12 + 1, min(due.day, 28))
    params = {"merchant": merchant_id, "first": ids[0], "customers": len(ids), "n": orders,
              "currency": currency, "start": start, "due": due, "anchor": start.day,
              "plan": plan.id}
    if start.day != due.day:  # keep the anchor a day both months have
        params["due"] = due = due.replace(day=start.day)
    db.session.execute(text("""
        INSERT INTO sales_order (merchant_id, customer_id, number, status, currency,
            total_minor, created_at, start_date, interval, interval_count, anchor_day,
            next_billing_date)
        SELECT :merchant, :first + (g % :customers), 'BENCH-' || lpad(g::text, 8, '0'),
            'active', :currency, 1190, now(), :start, 'month', 1, :anchor, :due
        FROM generate_series(1, :n) AS g"""), params)
    db.session.execute(text("""
        INSERT INTO order_line (merchant_id, order_id, product_id, position, description,
            quantity, unit_price_minor, amount_minor, net_minor, tax_rate_bp, tax_minor,
            recurring)
        SELECT :merchant, o.id, :plan, 0, 'Bench plan (monthly)', 1, 1190, 1190, 1000, 1900,
            190, true
        FROM sales_order o WHERE o.merchant_id = :merchant"""), params)
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return merchant_id, time.perf_counter() - started


class Autoanalyze:
    """What autovacuum's analyze does on a production server, between the run's batches: a
    table changed by more than 50 rows + 10 % of its rows since its last ANALYZE (PostgreSQL's
    default autovacuum_analyze_threshold and _scale_factor) is analyzed again, on a connection
    of its own (its CPU is not the run's backend's, as autovacuum's is not).

    This machine's cluster runs with `autovacuum = off`. There, statistics stay those of the
    load (an empty invoice table) for the whole run, and the plans PostgreSQL caches for
    prepared statements (psycopg prepares a statement on its sixth execution) and foreign-key
    checks stay those chosen for empty tables: sequential scans. The cost per invoice then
    grows with the table (146 invoices/s at 1,000 orders, 66/s at the 28,000th of 100,000,
    with the "number taken" lookup most often the statement running), a trait of that setting
    and not of the run, which production's autovacuum never shows."""

    QUERY = text("""SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
                    WHERE s.schemaname = current_schema()
                      AND s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0)""")

    def __init__(self, url: str):
        self.engine = create_engine(url, isolation_level="AUTOCOMMIT")
        self.analyzed = 0

    def run(self) -> None:
        with self.engine.connect() as conn:
            for name in conn.execute(self.QUERY).scalars().all():
                conn.execute(text(f'ANALYZE "{name}"'))
                self.analyzed += 1

    def close(self) -> None:
        self.engine.dispose()


TICKS = 1 / os.sysconf("SC_CLK_TCK")


def _backend_cpu(pid: int | None) -> float:
    """CPU seconds the PostgreSQL backend serving us has used (on this machine, /proc): unlike
    wall time, it does not grow because other processes share the CPU."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) * TICKS  # utime, stime


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def measure(url: str, orders: int, secret: str) -> dict:
    from sqlalchemy import event, func, select, text

    from widget_server.billing.models import Invoice
    from widget_server.commerce import billing_run
    from widget_server.core.extensions import db

    _migrate(url)
    app = make_app(url, secret)
    with app.app_context():
        merchant_id, load_seconds = _load(orders)
        before = db.session.scalar(select(func.count(Invoice.id)))
        backend = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.rollback()
        statements = [0]

        def count(*_):
            statements[0] += 1

        batch_ends = []
        real_forget = billing_run._forget_batch

        analyzer = Autoanalyze(url)

        def forget():
            batch_ends.append((time.perf_counter(), _own_cpu() + _backend_cpu(backend)))
            real_forget()
            analyzer.run()

        billing_run._forget_batch = forget
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            db_cpu, cpu, started = _backend_cpu(backend), _own_cpu(), time.perf_counter()
            result = billing_run.run(merchant_id=merchant_id)
            seconds, cpu_after = time.perf_counter() - started, _own_cpu()
            db_cpu_after = _backend_cpu(backend)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
            billing_run._forget_batch = real_forget
            analyzer.close()
        made = db.session.scalar(select(func.count(Invoice.id))) - before
        if db.session.scalar(text("SELECT pg_backend_pid()")) != backend:
            db_cpu_after = db_cpu = 0.0  # another connection served part of the run: unknown
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()  # the next size drops this schema
    marks = [(started, cpu + db_cpu), *batch_ends]
    # CPU (ours and the backend's) per invoice of each whole batch (the last may be short)
    per_batch = [(b[1] - a[1]) * 1000 / billing_run.BATCH
                 for a, b in itertools.pairwise(marks)]
    full = per_batch[:-1] or per_batch
    return {"orders": orders, "invoices": result.invoices, "invoices_in_db": made,
            "batches": result.batches, "seconds": seconds, "load_seconds": load_seconds,
            "invoices_per_s": result.invoices / seconds if seconds else 0.0,
            "analyzes": analyzer.analyzed,
            "ms_per_invoice": seconds * 1000 / max(result.invoices, 1),
            "statements_per_invoice": statements[0] / max(result.invoices, 1),
            # this process's CPU (Python: ORM, templates) apart from the database's
            "cpu_ms_per_invoice": (cpu_after - cpu) * 1000 / max(result.invoices, 1),
            "db_cpu_ms_per_invoice": (db_cpu_after - db_cpu) * 1000 / max(result.invoices, 1),
            "first_batch_ms": full[0] if full else 0.0,
            "last_batch_ms": full[-1] if full else 0.0,
            "median_batch_ms": statistics.median(full) if full else 0.0}


def report(results: dict) -> None:
    rows = results["sizes"]
    print(f"\nBilling run, PostgreSQL, {results['date']} ({results['machine']})")
    print(f"other processes used {results['other_cpu']:.0%} of the CPU before the run")
    print(f"{'orders':>8} {'invoices':>9} {'seconds':>8} {'inv/s':>7} {'ms/inv':>7} "
          f"{'CPU ms/inv app + db':>20} {'SQL/inv':>8} "
          f"{'batch CPU ms/inv first / median / last':>40}")
    for r in rows:
        print(f"{r['orders']:>8,} {r['invoices']:>9,} {r['seconds']:>8.1f} "
              f"{r['invoices_per_s']:>7.0f} {r['ms_per_invoice']:>7.2f} "
              f"{r['cpu_ms_per_invoice']:>11.2f} + {r['db_cpu_ms_per_invoice']:.2f} "
              f"{r['statements_per_invoice']:>8.1f} "
              f"{r['first_batch_ms']:>14.2f} / {r['median_batch_ms']:.2f} / "
              f"{r['last_batch_ms']:.2f}"
              + (f"   peak RSS {r['peak_rss_mb']:.0f} MB" if "peak_rss_mb" in r else ""))
    def cpu(r):
        return r["cpu_ms_per_invoice"] + r["db_cpu_ms_per_invoice"]

    # a size measured more than once (by turns: --sizes 1000 10000 1000): its median
    small_n, large_n = min(r["orders"] for r in rows), max(r["orders"] for r in rows)
    smallest = {"orders": small_n, **{k: statistics.median(r[k] for r in rows
                                                           if r["orders"] == small_n)
                                      for k in ("cpu_ms_per_invoice", "db_cpu_ms_per_invoice",
                                                "ms_per_invoice")}}
    largest = {"orders": large_n, **{k: statistics.median(r[k] for r in rows
                                                          if r["orders"] == large_n)
                                     for k in ("cpu_ms_per_invoice", "db_cpu_ms_per_invoice",
                                               "ms_per_invoice")}}
    ratio = cpu(largest) / cpu(smallest)
    wall = largest["ms_per_invoice"] / smallest["ms_per_invoice"]
    within = max(r["last_batch_ms"] / r["first_batch_ms"] for r in rows if r["first_batch_ms"])
    print(f"CPU per invoice (app + database) at {largest['orders']:,} vs {smallest['orders']:,} "
          f"orders: {ratio:.2f}x ({'flat' if ratio <= FLAT else 'GROWS'}, target <= {FLAT}x); "
          f"wall time {wall:.2f}x; last vs first batch: up to {within:.2f}x")
    missing = [r for r in rows if r["invoices"] != r["orders"] or r["invoices_in_db"]
               != r["orders"]]
    if missing:
        print("MISSED: not one invoice per due order:", missing)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 orders")
    parser.add_argument("--sizes", type=int, nargs="*", help="order counts instead of the "
                        "default 1,000 and 100,000")
    args = parser.parse_args()
    sizes = args.sizes or [1_000, 10_000 if args.quick else 100_000]
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql")):
        run_sizes(url, sizes)
        return
    postgres.ensure_running()
    with postgres.database() as url:
        run_sizes(url, sizes)


def run_sizes(url: str, sizes: list[int]) -> None:
    secret = secrets.token_urlsafe(32)
    other_cpu = check_idle("before the billing run")
    rows = []
    for orders in sizes:
        print(f"Billing run: {orders:,} due monthly orders …", flush=True)
        schema_url = database_urls({"billing": None}, reset=True, postgres=url)["billing"]
        rows.append(measure(schema_url, orders, secret))
        r = rows[-1]
        r["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  loaded in {r['load_seconds']:.1f} s; billed {r['invoices']:,} in "
              f"{r['seconds']:.1f} s ({r['invoices_per_s']:.0f}/s)", flush=True)
    results = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine(),
               "other_cpu": other_cpu, "sizes": rows}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    report(results)


if __name__ == "__main__":
    main()
