"""Scale-out, shown (B-6, #19 item 14): two app processes and two workers on one PostgreSQL
and one Redis. A customer signed in on one process is signed in on the other; a rate limit hit
on one counts on the other; each queued email is sent once by whichever worker takes it.

Runs in CI's PostgreSQL pass (Redis runs on this machine); skipped on SQLite, whose single
file is not a deployment of several machines."""
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.browser import free_port
from tests.conftest import SmtpSink, csrf_from

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="needs PostgreSQL (CI's second pass) and Redis")


def _redis_up() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture
def cluster(app, portal):
    """Two gunicorn app processes and two workers sharing the test's database and Redis."""
    if not _redis_up():
        if os.environ.get("CI"):
            raise AssertionError("CI needs Redis on 127.0.0.1:6379 for the scale-out test")
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    smtp = SmtpSink(free_port()).start()
    env = {**os.environ,
           "DATABASE_URL": os.environ["TEST_DATABASE_URL"], "SECRET_KEY": "shared-secret",
           "REDIS_URL": "redis://127.0.0.1:6379/0",
           "RATELIMIT_KEY_PREFIX": f"scale-{uuid.uuid4().hex[:8]}", "RATELIMIT_ENABLED": "1",
           "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp.port),
           "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "8", "ARGON2_PARALLELISM": "1",
           "FLASK_APP": "wsgi"}
    ports = [free_port(), free_port()]
    env["PUBLIC_URL"] = f"http://localhost:{ports[0]}"
    procs = [subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                               "--workers", "1", "--threads", "4", "wsgi:app"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for port in ports]
    procs += [subprocess.Popen([sys.executable, "-m", "flask", "worker", "--poll", "0.2"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        for port in ports:
            _wait_until(lambda p=port: _answers(p), 20)
        yield [f"http://localhost:{p}" for p in ports], smtp, portal()
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        smtp.stop()


def _answers(port) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok
    except requests.RequestException:
        return False


def _wait_until(check, seconds) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


class Browser:
    """One browser's cookie jar, kept by hand (Secure cookies over http://localhost)."""

    def __init__(self):
        self.cookies = {}

    def request(self, method, url, **kwargs):
        header = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        answer = requests.request(method, url, headers={"Cookie": header}, timeout=20,
                                  allow_redirects=False, **kwargs)
        for name, value in re.findall(r"(?:^|, )([\w-]+)=([^;]*);",
                                      answer.headers.get("Set-Cookie", "")):
            self.cookies[name] = value
        return answer


def test_a_session_a_rate_limit_and_the_queue_work_across_processes(app, cluster):
    (one, two), smtp, p = cluster
    browser = Browser()
    page = browser.request("GET", f"{one}{p.base}/login")
    signed_in = browser.request("POST", f"{one}{p.base}/login", data={
        "csrf_token": csrf_from(page.text), "login": p.username, "password": p.password})
    assert signed_in.status_code == 302
    assert "Hello, Jane" in browser.request("GET", f"{two}{p.base}/account").text

    # the per-account sign-in limit (10 per 5 minutes) counts on both processes together
    stranger = Browser()
    csrf = csrf_from(stranger.request("GET", f"{one}{p.base}/login").text)
    answers = [stranger.request("POST", f"{(one, two)[n % 2]}{p.base}/login", data={
        "csrf_token": csrf, "login": "nobody@example.test", "password": "wrong"}).status_code
        for n in range(11)]
    assert answers[:10] == [400] * 10 and answers[10] == 429

    # 20 emails queued at once: two workers, each sent exactly once
    from widget_server.core.extensions import db
    from widget_server.notifications.models import EmailMessage
    from widget_server.notifications.outbox import Rendered, queue_email
    from widget_server.tenancy.models import Merchant

    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        for n in range(20):
            queue_email(merchant, "test", [f"reader{n}@example.test"],
                        Rendered(f"Note {n}", "text", "<p>html</p>"))
        db.session.commit()

    def all_sent():
        with app.app_context():
            return db.session.query(EmailMessage).filter_by(status="sent").count() == 20

    _wait_until(all_sent, 30)
    time.sleep(1)  # a duplicate would arrive now
    received = sorted(rcpt[0] for rcpt, _ in smtp.messages)
    assert received == sorted(f"reader{n}@example.test" for n in range(20))
