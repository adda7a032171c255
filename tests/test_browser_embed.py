"""The embed in real Chromium, cross-site: the host page is on 127.0.0.1, the widget on localhost
(E-1…E-7). Debian's Chromium keeps only partitioned cookies in a cross-site iframe, so these
tests fail if the widget's cookie loses `Partitioned`."""
import json
import re
from urllib.parse import urlsplit

import pytest

from widget_server.core.extensions import db
from widget_server.tenancy.models import Merchant

pytestmark = pytest.mark.browser

HOST_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>Shop</h1>{widgets}
<ol id="log"></ol>
<script>
  document.querySelectorAll("[data-box]").forEach(function (box) {{
    ["loaded", "resized", "logged-in", "logged-out", "storage-blocked", "payment-succeeded",
     "payment-failed", "order-created", "order-cancelled", "order-changed", "proposal-accepted",
     "proposal-declined", "issue-opened", "issue-replied"].forEach(function (t) {{
      box.addEventListener("myaccount:" + t, function (e) {{
        var li = document.createElement("li");
        li.textContent = box.id + " " + t + " " + JSON.stringify(e.detail);
        document.getElementById("log").appendChild(li);
      }});
    }});
  }});
</script></body></html>"""

SNIPPET = ('<div id="{box}" data-box></div><script src="{widget}/embed/loader.js" '
           'data-merchant="{merchant}" data-profile="{profile}" data-target="#{box}" async>'
           '</script>')


def host_html(live_server, merchant, profiles):
    widgets = "".join(SNIPPET.format(box=f"box-{i}", widget=live_server, merchant=merchant,
                                     profile=profile) for i, profile in enumerate(profiles))
    return HOST_PAGE.format(widgets=widgets)


@pytest.fixture
def shop(app, live_server, portal, page, host_site, foreign_site):
    """A portal whose allowed origin is the host site's, and a function that opens a host page
    on http://127.0.0.1:HOSTPORT (a different site from the widget's localhost) embedding the
    given profiles."""
    p = portal(config={"embedding": {"allowed_origins": [host_site.origin]}})

    def open_host(profiles=("standard",), site=host_site):
        page.goto(site.page("/host", host_html(live_server, p.slug, profiles)))
        return page

    p.open_host, p.host_origin = open_host, host_site.origin
    p.host_site, p.foreign_site = host_site, foreign_site
    return p


def _log(page):
    return page.locator("#log li").all_inner_texts()


def _sign_in(frame, login, password):
    frame.get_by_label("Username or email").fill(login)
    frame.get_by_label("Password").fill(password)
    frame.get_by_role("button", name="Sign in").click()


def _no_inner_scrollbar(page, box="box-0"):
    frame = page.frame_locator(f"#{box} iframe")
    return frame.locator("html").evaluate(
        "el => el.scrollHeight <= el.clientHeight + 1")


def test_customer_signs_in_inside_the_cross_site_iframe(shop):
    page = shop.open_host()
    frame = page.frame_locator("#box-0 iframe")
    _sign_in(frame, shop.username, shop.password)
    frame.get_by_role("heading", name="Hello, Jane").wait_for()
    page.wait_for_function("document.querySelectorAll('#log li').length >= 4")
    log = _log(page)
    assert any(line.startswith("box-0 loaded") for line in log)
    assert f'box-0 logged-in {{"customer_id":{shop.customer_id}}}' in log  # issue #20-6
    assert any(line.startswith("box-0 resized") for line in log)
    page.wait_for_timeout(300)
    assert _no_inner_scrollbar(page)
    cookie = next(c for c in page.context.cookies() if c["name"] == "ws_widget")
    assert cookie["sameSite"] == "None" and cookie["secure"]
    assert cookie.get("partitionKey") == "http://127.0.0.1"


def test_iframe_follows_growing_content_without_scrollbar_or_endless_growth(shop):
    page = shop.open_host()
    frame = page.frame_locator("#box-0 iframe")
    _sign_in(frame, shop.username, shop.password)
    frame.get_by_role("heading", name="Hello, Jane").wait_for()
    page.wait_for_timeout(300)
    before = page.locator("#box-0 iframe").evaluate("f => f.getBoundingClientRect().height")
    frame.locator("#main").evaluate(
        "m => { const d = document.createElement('div'); d.style.height = '900px';"
        " d.textContent = 'More'; m.appendChild(d); }")
    page.wait_for_function(
        f"document.querySelector('#box-0 iframe').getBoundingClientRect().height > {before + 800}")
    assert _no_inner_scrollbar(page)
    # content as tall as the viewport must not make the frame grow for ever
    frame.locator("#main").evaluate(
        "m => { const d = document.createElement('div'); d.style.minHeight = '100vh';"
        " m.appendChild(d); }")
    page.wait_for_timeout(1000)
    first = page.locator("#box-0 iframe").evaluate("f => f.getBoundingClientRect().height")
    page.wait_for_timeout(1000)
    second = page.locator("#box-0 iframe").evaluate("f => f.getBoundingClientRect().height")
    assert second == first
    assert second < 20000


def test_two_widgets_on_one_page_are_independent(app, shop):
    with app.app_context():
        from widget_server.profiles import services

        services.create_profile(db.session.get(Merchant, shop.merchant_id), "Second", "second")
        db.session.commit()
    page = shop.open_host(profiles=("standard", "second"))
    first, second = page.frame_locator("#box-0 iframe"), page.frame_locator("#box-1 iframe")
    second.get_by_role("heading", name="Sign in").wait_for()
    _sign_in(first, shop.username, shop.password)
    first.get_by_role("heading", name="Hello, Jane").wait_for()
    page.wait_for_function("[...document.querySelectorAll('#log li')]"
                           ".some(li => li.textContent.startsWith('box-0 logged-in'))")
    assert not any(line.startswith("box-1 logged-in") for line in _log(page))
    page.wait_for_timeout(300)
    for box, frame in (("box-0", first), ("box-1", second)):  # each sized to its own content
        outer = page.locator(f"#{box} iframe").evaluate("f => f.getBoundingClientRect().height")
        inner = frame.locator("#widget").evaluate("w => w.getBoundingClientRect().height")
        assert abs(outer - inner) <= 3, (box, outer, inner)


def test_widget_posts_only_to_the_exact_parent_origin(app, shop):
    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        merchant.config = {"embedding": {"allowed_origins": [
            "https://other-shop.example", shop.host_origin]}}
        db.session.commit()
    page = shop.open_host()
    frame = page.frame_locator("#box-0 iframe")
    frame.get_by_role("heading", name="Sign in").wait_for()
    assert frame.locator("body").evaluate("() => myAccount.targets()") == [shop.host_origin]


def test_a_site_that_is_not_allowed_gets_no_widget(shop):
    page = shop.open_host(site=shop.foreign_site)
    page.wait_for_timeout(1500)
    assert _log(page) == []
    frames = [f for f in page.frames if f != page.main_frame]
    assert frames and all(f.locator("#widget").count() == 0 for f in frames)


def test_blocked_iframe_cookies_fall_back_to_a_new_tab(shop, tmp_path, live_server, chromium):
    from tests.browser import BROWSER_TIMEOUT_MS, CHROMIUM, CHROMIUM_ARGS

    profile_dir = tmp_path / "profile"
    (profile_dir / "Default").mkdir(parents=True)
    widget_port = urlsplit(live_server).port
    rule = f"http://localhost:{widget_port},{shop.host_origin}"
    (profile_dir / "Default" / "Preferences").write_text(json.dumps(
        {"profile": {"content_settings": {"exceptions": {"cookies": {
            rule: {"setting": 2}}}}}}))
    url = shop.host_site.page("/blocked", host_html(live_server, shop.slug, ["standard"]))
    context = chromium.browser_type.launch_persistent_context(
        str(profile_dir), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(url)
        frame = page.frame_locator("#box-0 iframe")
        frame.get_by_text("Your browser blocks sign-in inside this frame.").wait_for()
        assert not frame.get_by_label("Password").is_visible()
        page.wait_for_function("[...document.querySelectorAll('#log li')]"
                               ".some(li => li.textContent.includes('storage-blocked'))")
        with context.expect_page() as new_tab:
            frame.get_by_role("link", name="Open in a new tab").click()
        tab = new_tab.value
        tab.get_by_label("Username or email").fill(shop.username)
        tab.get_by_label("Password").fill(shop.password)
        tab.get_by_role("button", name="Sign in").click()
        tab.get_by_role("heading", name="Hello, Jane").wait_for()
    finally:
        context.close()


def _events_of(page, box, type_):
    prefix = f"{box} {type_} "
    return [json.loads(line[len(prefix):]) for line in _log(page) if line.startswith(prefix)]


def test_payment_events_carry_the_payment_to_the_host_page(app, shop):
    """Issue #20-6: payment-succeeded and payment-failed tell the host page which payment, how
    much, in which currency and for which invoices; postMessage goes only to the host."""
    from datetime import date, timedelta

    from widget_server.billing.invoices import build_invoice
    from widget_server.catalogue.models import Product
    from widget_server.customers.models import Customer

    with app.app_context():
        merchant = db.session.get(Merchant, shop.merchant_id)
        product = Product(merchant_id=merchant.id, sku="S", name="Service",
                          unit_price_minor=5000, currency="USD")
        db.session.add(product)
        db.session.flush()
        invoices = [build_invoice(merchant, db.session.get(Customer, shop.customer_id),
                                  [(product, qty)], number=f"EV-{qty}", issue_date=date.today(),
                                  due_date=date.today() + timedelta(days=qty))
                    for qty in (1, 2)]
        db.session.flush()
        first, second = (i.id for i in invoices)
        db.session.commit()
    page = shop.open_host()
    frame = page.frame_locator("#box-0 iframe")
    frame.get_by_role("heading", name="Sign in").wait_for()
    assert page.evaluate("document.activeElement.tagName") == "BODY"  # the host keeps focus
    _sign_in(frame, shop.username, shop.password)
    frame.get_by_role("heading", name="Hello, Jane").wait_for()
    frame.get_by_role("link", name="Pay", exact=True).click()
    frame.get_by_role("heading", name="Make a payment").wait_for()
    # issue #20-7: a page change inside the iframe puts the focus on the new page's heading
    assert frame.locator("h1").evaluate(
        "h => new Promise(ok => { const end = Date.now() + 3000; const t = () =>"
        " document.activeElement === h || Date.now() > end ? ok(document.activeElement === h)"
        " : setTimeout(t, 20); t(); })")
    frame.locator(f"#invoice-{second}").check()
    frame.get_by_label("Card number").fill("4000 0000 0000 0002")  # declined
    frame.get_by_label("Expiry (MM/YY)").fill("12/39")
    frame.get_by_label("Security code").fill("123")
    frame.get_by_role("button", name=re.compile(r"^Pay .*\d")).click()
    page.wait_for_function("[...document.querySelectorAll('#log li')]"
                           ".some(li => li.textContent.startsWith('box-0 payment-failed'))")
    [failed] = _events_of(page, "box-0", "payment-failed")
    assert failed == {"payment_id": failed["payment_id"], "status": "failed", "amount": "100.00",
                      "amount_minor": 10000, "currency": "USD",
                      "invoices": [{"id": second, "number": "EV-2"}]}
    frame.get_by_role("link", name="Pay", exact=True).click()
    frame.get_by_role("heading", name="Make a payment").wait_for()
    frame.locator(f"#invoice-{first}").check()
    frame.get_by_label("Card number").fill("4242 4242 4242 4242")
    frame.get_by_label("Expiry (MM/YY)").fill("12/39")
    frame.get_by_label("Security code").fill("123")
    frame.get_by_role("button", name=re.compile(r"^Pay .*\d")).click()
    page.wait_for_function("[...document.querySelectorAll('#log li')]"
                           ".some(li => li.textContent.startsWith('box-0 payment-succeeded'))")
    [paid] = _events_of(page, "box-0", "payment-succeeded")
    assert paid["payment_id"] != failed["payment_id"]
    assert paid == {"payment_id": paid["payment_id"], "status": "succeeded", "amount": "50.00",
                    "amount_minor": 5000, "currency": "USD",
                    "invoices": [{"id": first, "number": "EV-1"}]}
    assert frame.locator("body").evaluate("() => myAccount.targets()") == [shop.host_origin]
