"""Single sign-on in real Chromium (issue #25's test that must exist, E-8): the demo shop's
"Angemeldet im Shop" page, opened at 127.0.0.1 with the widget from localhost (cross-site, as on
a merchant's server), shows the widget signed in without a password inside the iframe, the token
gone from the frame's URL; the same token used again in another browser is refused."""
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from widget_server.core.extensions import db
from widget_server.demo.seed import seed_demo

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(app, live_server, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", live_server)
    with app.app_context():
        seed_demo()
        db.session.commit()
    port = urlsplit(live_server).port
    return f"http://127.0.0.1:{port}/demo/shop/sso"


def _german(chromium):
    context = chromium.new_context(locale="de-DE", extra_http_headers={
        "Accept-Language": "de-DE,de;q=0.9"})
    context.set_default_timeout(10_000)
    return context


def test_the_shop_signs_the_customer_into_the_cross_site_widget_once(demo, chromium):
    shop = _german(chromium)
    page = shop.new_page()
    page.goto(demo)
    frame_element = page.locator("#my-account iframe")
    src = frame_element.get_attribute("src")
    assert urlsplit(page.url).hostname == "127.0.0.1" and urlsplit(src).hostname == "localhost"
    token = parse_qs(urlsplit(src).query)["session"][0]

    account = page.frame_locator("#my-account iframe")
    account.get_by_role("heading", name=re.compile("^Hallo")).wait_for()
    expect(account.get_by_role("button", name="Abmelden")).to_be_visible()
    expect(page.locator("#event-log")).to_contain_text("my-account logged-in")
    frame = next(f for f in page.frames if urlsplit(f.url).hostname == "localhost")
    assert "session=" not in frame.url and token not in frame.url  # not kept in the history

    # the same token in another browser (a leaked link): refused, with the sign-in form
    other = _german(chromium)
    intruder = other.new_page()
    intruder.goto(src)
    expect(intruder.get_by_role("main")).to_contain_text(
        "Dieser Anmeldelink kann nicht mehr verwendet werden.")
    expect(intruder.get_by_role("button", name="Anmelden")).to_be_visible()
    assert token not in intruder.url
    other.close()
    shop.close()
