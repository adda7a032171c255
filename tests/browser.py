"""Browser fixtures: a live server in a thread and one Debian Chromium per test run.

Imported by the conftest of tests that drive a real browser; skipped where SKIP_BROWSER_TESTS=1
(CI's PostgreSQL pass) or Chromium is not installed.
"""
import os
import shutil
import socket
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]

# Every wait of a browser test: long enough for a loaded 2-core machine (a page that never
# comes still fails), short enough that a hang fails fast.
BROWSER_TIMEOUT_MS = 10_000


def browser_tests_skipped() -> str | None:
    if os.environ.get("SKIP_BROWSER_TESTS") == "1":
        return "SKIP_BROWSER_TESTS=1"
    if not shutil.which("chromium") and not os.path.exists(CHROMIUM):
        return "Debian's chromium is not installed"
    return None


def frames_settled(page, frame: str) -> None:
    """Waits until the frame's height stops changing: a widget reports its height as its
    content changes and the loader resizes the frame, moving everything below it; a click aimed
    before such a move can land beside the button (in another frame of the page, too)."""
    element = page.locator(frame)
    before = element.evaluate("f => f.getBoundingClientRect().height")
    for _ in range(20):
        page.wait_for_timeout(150)
        now = element.evaluate("f => f.getBoundingClientRect().height")
        if now == before:
            return
        before = now


@pytest.fixture
def demo_shop(app, live_server, monkeypatch) -> str:
    """The demo seeded as `make run` seeds it, its widget origin the live server's; the demo
    shop's address on 127.0.0.1, so its widgets (from localhost) are cross-site."""
    from urllib.parse import urlsplit

    from widget_server.core.extensions import db
    from widget_server.demo.seed import seed_demo

    monkeypatch.setitem(app.config, "PUBLIC_URL", live_server)
    with app.app_context():
        seed_demo()
        db.session.commit()
    return f"http://127.0.0.1:{urlsplit(live_server).port}/demo/shop"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(app):
    """The test app served on 127.0.0.1 (reachable as localhost too) in a background thread."""
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def chromium():
    reason = browser_tests_skipped()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=BROWSER_TIMEOUT_MS)  # expect(...) waits as long as any wait
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context()
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


class HostSite:
    """A stand-in for a merchant's website: a real server on a loopback address that serves the
    HTML pages a test registers. Real, because Chromium's Local Network Access check refuses a
    page that Playwright merely fulfils when it loads the widget from a loopback address."""

    def __init__(self, address: str):
        from werkzeug.wrappers import Request, Response

        self.pages: dict[str, str] = {}

        @Request.application
        def serve(request):
            body = self.pages.get(request.path)
            if body is None:
                return Response("not found", status=404)
            return Response(body, content_type="text/html; charset=utf-8")

        self.port = free_port()
        self.origin = f"http://{address}:{self.port}"
        self.server = make_server(address, self.port, serve, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def page(self, path: str, html: str) -> str:
        self.pages[path] = html
        return f"{self.origin}{path}"

    def stop(self):
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture(scope="session")
def host_site():
    site = HostSite("127.0.0.1")
    yield site
    site.stop()


@pytest.fixture(scope="session")
def foreign_site():
    """Another site on another loopback address, never in any merchant's allowed origins."""
    site = HostSite("127.0.0.2")
    yield site
    site.stop()
