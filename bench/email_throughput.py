"""Email delivery throughput: emails per second with 1 and 3 workers to a local SMTP sink (#19).

Not a unit test: numbers depend on the machine. Each run makes a fresh database (a temporary
SQLite file, or with DATABASE_URL pointing at PostgreSQL a fresh schema `bench_email` in that
database, dropped afterwards), queues `--emails` messages of one merchant the way the app does
(`queue_email`: one message and one job each), starts an aiosmtpd sink in this process and W
worker processes (`run_worker(once=True)`, the code behind `flask worker --once`), releases them
together and times until the last one finds nothing left to do. It then checks every message is
marked sent and that the sink received each Message-ID exactly once, and prints SQL statements
and commits and the workers' CPU time per email (the machine may be shared: CPU time says what
the code costs when wall time says what the neighbours took).

    .venv/bin/python -m bench.email_throughput [--emails 600] [--workers 1 3] [--tries 2]
"""
import argparse
import multiprocessing as mp
import os
import shutil
import socket
import statistics
import tempfile
import time
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _config(db_url: str, port: int) -> dict:
    return {"TESTING": False, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": db_url,
            "PUBLIC_URL": "https://portal.example.test", "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": port, "MAIL_DEFAULT_SENDER": "portal@example.test",
            "RATELIMIT_ENABLED": False}


def _app(db_url: str, port: int):
    from widget_server import create_app

    return create_app(_config(db_url, port))


def _prepare(db_url: str, port: int, emails: int) -> None:
    from sqlalchemy import text

    from widget_server.core.extensions import db
    from widget_server.notifications.outbox import Rendered, queue_email
    from widget_server.tenancy.models import Merchant

    app = _app(db_url, port)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS bench_email CASCADE"))
                conn.execute(text("CREATE SCHEMA bench_email"))
        db.create_all()
        merchant = Merchant(slug="bench", name="Bench Shop", currency="USD", locale="en_US",
                            timezone="UTC", config={})
        db.session.add(merchant)
        db.session.flush()
        content = Rendered("Your invoice", "Hello,\nyour invoice is ready.\n" * 20,
                           "<p>Hello,</p><p>your invoice is ready.</p>" * 20)
        for n in range(emails):
            queue_email(merchant, "invoice_issued", [f"customer{n}@example.test"], content)
        db.session.commit()
        db.engine.dispose()


def _worker(db_url: str, port: int, barrier, results) -> None:
    from sqlalchemy import event

    from widget_server.core.extensions import db
    from widget_server.jobs.worker import run_worker

    app = _app(db_url, port)
    counts = {"statements": 0, "commits": 0}
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "before_cursor_execute")
        def _statement(*_args):
            counts["statements"] += 1

        @event.listens_for(engine, "commit")
        def _commit(*_args):
            counts["commits"] += 1

        db.session.execute(db.select(1))  # connect before the clock starts
        db.session.rollback()
        counts["statements"] = counts["commits"] = 0
        barrier.wait()
        cpu = time.process_time()
        try:
            ran = run_worker(once=True)
        except Exception as exc:  # reported, not hung on: e.g. "database is locked"
            results.put(exc.__class__.__name__ + ": " + str(exc)[:300])
            return
        results.put((ran, counts["statements"], counts["commits"], time.process_time() - cpu))


def run_once(db_url: str, workers: int, emails: int) -> dict:
    from aiosmtpd.controller import Controller

    received: list[str] = []

    class Sink:
        async def handle_DATA(self, server, session, envelope):
            for line in envelope.content.split(b"\r\n"):
                if line.lower().startswith(b"message-id:"):
                    received.append(line.split(b":", 1)[1].strip().decode())
                    break
            return "250 OK"

    port = _free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        _prepare(db_url, port, emails)
        ctx = mp.get_context("spawn")
        barrier, results = ctx.Barrier(workers + 1), ctx.Queue()
        procs = [ctx.Process(target=_worker, args=(db_url, port, barrier, results))
                 for _ in range(workers)]
        for p in procs:
            p.start()
        barrier.wait(timeout=120)
        started = time.perf_counter()
        outcome = [results.get(timeout=600) for _ in procs]
        elapsed = time.perf_counter() - started
        errors = [o for o in outcome if isinstance(o, str)]
        outcome = [o for o in outcome if not isinstance(o, str)]
        for p in procs:
            p.join(timeout=60)
    finally:
        controller.stop()
    sent = _count_sent(db_url, port)
    statements = sum(o[1] for o in outcome)
    commits = sum(o[2] for o in outcome)
    cpu = sum(o[3] for o in outcome)
    return {"workers": workers, "emails": emails, "seconds": elapsed, "rate": emails / elapsed,
            "sent": sent, "received": len(received), "errors": errors, "duplicates": len(received) -
            len(set(received)), "statements_per_email": statements / emails,
            "commits_per_email": commits / emails, "cpu_ms_per_email": cpu * 1000 / emails}


def _count_sent(db_url: str, port: int) -> int:
    from sqlalchemy import func, select

    from widget_server.core.extensions import db
    from widget_server.notifications.models import SENT, EmailMessage

    app = _app(db_url, port)
    with app.app_context():
        sent = db.session.scalar(select(func.count(EmailMessage.id))
                                 .where(EmailMessage.status == SENT))
        db.engine.dispose()
        return sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--emails", type=int, default=600)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--tries", type=int, default=2, help="runs per worker count (best kept)")
    args = parser.parse_args()
    base_url = os.environ.get("DATABASE_URL", "")
    for workers in args.workers:
        runs = []
        for _ in range(args.tries):
            tmp = Path(tempfile.mkdtemp(prefix="bench-email-"))
            try:
                if base_url.startswith(("postgres://", "postgresql")):
                    from widget_server.core.config import database_url

                    url = database_url(base_url)
                    sep = "&" if "?" in url else "?"
                    db_url = f"{url}{sep}options=-csearch_path%3Dbench_email"
                else:
                    db_url = f"sqlite:///{tmp / 'bench.db'}"
                runs.append(run_once(db_url, workers, args.emails))
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        best = max(runs, key=lambda r: r["rate"])
        ok = best["sent"] == best["emails"] == best["received"] and not best["duplicates"]
        print(f"{workers} worker(s): {best['rate']:7.1f} emails/s (best of {len(runs)}; "
              f"median {statistics.median(r['rate'] for r in runs):.1f}), "
              f"{best['statements_per_email']:.1f} statements and "
              f"{best['commits_per_email']:.2f} commits per email, "
              f"{best['cpu_ms_per_email']:.1f} ms of worker CPU per email; "
              f"sent {best['sent']}/{best['emails']}, received {best['received']}, "
              f"duplicates {best['duplicates']}{'' if ok else '  <-- NOT OK'}")
        for run in runs:
            for error in run["errors"]:
                print(f"   a worker stopped: {error}")


if __name__ == "__main__":
    main()
