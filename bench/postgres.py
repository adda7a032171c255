"""The PostgreSQL side of `make bench`: the server started the way `.ci/run` starts it, a
database of the run's own, and the server's processes that count as part of the system under
test.

Without DATABASE_URL the run makes a database under a unique name (`widget_bench_<time>_<pid>`)
on the local cluster and drops it at the end, as `.ci/run` does for the suite, so runs never see
each other's tables and nothing is left behind. With DATABASE_URL that database is used (its
schemas bench_small and bench_large, as before) and kept.
"""
import os
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# The cluster `.ci/run` uses; its `postgres` database only serves CREATE/DROP DATABASE.
SERVER = os.environ.get("BENCH_PG_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres")


def _ready(host: str, port: int) -> bool:
    return subprocess.run(["pg_isready", "-q", "-h", host, "-p", str(port)],  # noqa: S603, S607
                          check=False).returncode == 0


def ensure_running(server: str = SERVER) -> None:
    """`pg_isready`, and when the server is down `pg_ctlcluster … main start` (the first
    cluster under /etc/postgresql), waiting up to 30 s: what `.ci/run` does."""
    from sqlalchemy.engine import make_url

    url = make_url(server)
    host, port = url.host or "127.0.0.1", url.port or 5432
    if _ready(host, port):
        return
    versions = sorted(os.listdir("/etc/postgresql")) if Path("/etc/postgresql").is_dir() else []
    if not versions:
        raise SystemExit(f"PostgreSQL does not answer on {host}:{port} and no cluster is "
                         "installed here: run with --backends sqlite")
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[0], "main",  # noqa: S603, S607
                    "start"], check=False)
    for _ in range(30):
        if _ready(host, port):
            return
        time.sleep(1)
    raise SystemExit(f"PostgreSQL did not start on {host}:{port} within 30 s")


def _admin(server: str, statement: str) -> None:
    """One statement outside a transaction (CREATE/DROP DATABASE refuse to run inside one)."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server)
    with psycopg.connect(host=url.host, port=url.port, user=url.username,
                         password=url.password, dbname=url.database, autocommit=True) as conn:
        conn.execute(statement)


@contextmanager
def database(server: str = SERVER) -> Iterator[str]:
    """The URL of DATABASE_URL's database when it is set (kept), else of a database made for
    this run on `server` and dropped when the block ends, even after an error or Ctrl-C."""
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql")):
        yield os.environ["DATABASE_URL"]
        return
    from sqlalchemy.engine import make_url

    ensure_running(server)
    name = f"widget_bench_{int(time.time())}_{os.getpid()}"
    _admin(server, f"CREATE DATABASE {name}")
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        _admin(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def version(url: str) -> str:
    """The server's version, e.g. '15.20', for the report's heading."""
    from sqlalchemy import create_engine, text

    from widget_server.core.config import database_url

    engine = create_engine(database_url(url))
    try:
        with engine.connect() as conn:
            return conn.execute(text("SHOW server_version")).scalar().split()[0]
    finally:
        engine.dispose()


def database_name(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).database


# A client backend's title names its client's address: "… user db 127.0.0.1(5432) idle".
_CLIENT = re.compile(r"\(\d+\)|\[local\]")


def server_pids(database: str) -> list[int]:
    """The PostgreSQL processes that work for the bench: the postmaster and its auxiliary
    processes (checkpointer, WAL and background writers, autovacuum), and the backends connected
    to `database`. Backends of other databases are other people's work (their test runs share
    the cluster) and stay "other"; a backend's process title says its database."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace")
        except OSError:
            continue
        if not _CLIENT.search(title) or f" {database} " in title:
            found.append(int(entry.name))
    return found
