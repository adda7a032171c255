"""`make screenshots`: what the product looks like, taken from the running demo (issue #20 item 10).

Starts the app as `make run` does (migrate, seed the demo with DEMO_ENABLED=1, gunicorn) on a free
port with a fresh temporary instance directory and SQLite database, drives Debian's Chromium
through the demo shop (the widget embedded cross-site, as on a merchant's page) and the admin,
and writes `docs/screenshots/*.png`. Run it again whenever a page changes, so the pictures in the
README stay current:

    .venv/bin/python -m bench.screenshots [--out docs/screenshots]
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
VIEWPORT = {"width": 1200, "height": 800}
PHONE = {"width": 360, "height": 760}
MERCHANT, PROFILE = "demo", "default"
CUSTOMER = ("demo", "demo-customer-pass")
OWNER = ("admin@demo.test", "demo-admin-pass")
WIDGET = f"/w/{MERCHANT}/{PROFILE}"
# file name: (the page's path, what the picture shows). `{profile_id}` is the demo's default
# profile, found at run time. tests/test_screenshots.py checks each path is a route of the app.
SHOTS = {
    "widget-overview": ("/demo/shop", "the demo shop, the widget signed in: the overview"),
    "widget-pay": (f"{WIDGET}/pay", "Pay: an invoice ticked, the button shows the total"),
    "widget-payments": (f"{WIDGET}/payments", "the payment history"),
    "widget-phone": ("/demo/shop", "the demo shop at 360 px: the widget's phone layout"),
    "admin-profile": ("/admin/profiles/{profile_id}", "a self-service profile, live preview"),
    "admin-customers": ("/admin/customers", "the customers list"),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(instance: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "FLASK_APP": "wsgi", "DEMO_ENABLED": "1", "PORT": str(port),
           "INSTANCE_PATH": str(instance), "DATABASE_URL": f"sqlite:///{instance}/widget.db",
           "PUBLIC_URL": f"http://localhost:{port}"}
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run([str(BIN / "flask"), *command], env=env, cwd=ROOT, check=True,  # noqa: S603
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = subprocess.Popen([str(BIN / "gunicorn"),  # noqa: S603  (our gunicorn, fixed args) "--bind", f"127.0.0.1:{port}",
                               "--workers", "1", "--threads", "4", "wsgi:app"],
                              env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/demo/shop", timeout=2)
            return server
        except OSError as error:
            if time.monotonic() > deadline or server.poll() is not None:
                server.terminate()
                raise SystemExit("the app did not start") from error
            time.sleep(0.2)


def optimise(path: Path) -> None:
    """Lossless recompression when optipng is installed; the PNGs stay as taken otherwise."""
    if shutil.which("optipng"):
        subprocess.run(["optipng", "-quiet", "-o2", str(path)], check=False)  # noqa: S603, S607


def sign_in_widget(frame) -> None:
    frame.get_by_label("Username or email").fill(CUSTOMER[0])
    frame.get_by_label("Password").fill(CUSTOMER[1])
    frame.get_by_role("button", name="Sign in").click()
    frame.get_by_role("heading", name=re.compile("^Hello")).wait_for()


def take(browser, port: int, out: Path) -> list[Path]:
    shop = f"http://127.0.0.1:{port}{SHOTS['widget-overview'][0]}"
    admin = f"http://localhost:{port}"
    taken = []

    def shot(page, name, **kwargs):
        page.wait_for_timeout(400)  # the iframe's resize and fonts settle
        for frame in page.frames:  # no focus ring from the heading that took the focus
            frame.evaluate("document.activeElement && document.activeElement.blur()")
        path = out / f"{name}.png"
        page.screenshot(path=str(path), **kwargs)
        optimise(path)
        taken.append(path)

    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(8000)
    page = context.new_page()
    page.goto(shop)
    frame = page.frame_locator("iframe")
    sign_in_widget(frame)
    shot(page, "widget-overview")

    frame.get_by_role("link", name="Pay", exact=True).first.click()
    frame.locator("input[name=invoice]").first.check()
    pay = frame.get_by_role("button", name=re.compile(r"^Pay .*\d"))
    pay.wait_for()
    page.wait_for_timeout(400)
    page.mouse.wheel(0, 260)  # the ticked invoice and the "Pay <total>" button both in view
    shot(page, "widget-pay")

    frame.get_by_role("link", name=re.compile("^Payments")).first.click()
    frame.get_by_role("heading", name=re.compile("Payment")).first.wait_for()
    shot(page, "widget-payments")

    page.set_viewport_size(PHONE)
    frame.get_by_role("link", name=re.compile("^(Overview|Account|Home)")).first.click()
    frame.get_by_role("heading", name=re.compile("^Hello")).wait_for()
    page.wait_for_timeout(400)
    page.mouse.wheel(0, 180)
    shot(page, "widget-phone")
    context.close()

    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(8000)
    page = context.new_page()
    page.goto(f"{admin}/admin/login")
    page.get_by_label("Email").fill(OWNER[0])
    page.get_by_label("Password").fill(OWNER[1])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(f"Signed in as {OWNER[0]}").wait_for()
    page.goto(f"{admin}/admin/profiles")
    link = page.locator("a[href*='/admin/profiles/']").filter(
        has_not_text=re.compile("new|New")).first
    profile_id = re.search(r"/profiles/(\d+)", link.get_attribute("href")).group(1)
    page.goto(admin + SHOTS["admin-profile"][0].format(profile_id=profile_id))
    page.frame_locator("iframe").locator("body").wait_for()
    page.wait_for_timeout(700)
    page.evaluate("window.scrollTo(0, 0)")  # the preview's focused heading scrolled the page
    shot(page, "admin-profile", full_page=True)
    page.goto(admin + SHOTS["admin-customers"][0])
    shot(page, "admin-customers")
    context.close()
    return taken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="screenshots-") as instance:
        server = start_app(Path(instance), port)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    taken = take(browser, port, args.out)
                finally:
                    browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    total = sum(p.stat().st_size for p in taken)
    for path in taken:
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}"
              f"  {path.stat().st_size // 1024} KiB")
    print(f"total {total // 1024} KiB")


if __name__ == "__main__":
    main()
