"""Issue #20's "Done when", by keyboard alone: the demo shop, in German and at 360 px, lets the
demo customer pay two invoices seeing the total first, download the receipt and reach every page
by keyboard.

The seeded demo, its shop page opened at 127.0.0.1 and the account widget from localhost
(cross-site, as on a merchant's own server), a German browser at a phone's width. Every action
of the customer is a key: Tab (Shift+Tab back to the navigation), Enter, Space and typing;
nothing is clicked or filled in by Playwright. After each page change inside the widget, focus
is on the new page's heading (widget.js, #20-7), and nothing scrolls sideways in the frame."""
import re
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser import BROWSER_TIMEOUT_MS, frames_settled
from widget_server.billing.models import Invoice
from widget_server.core.extensions import db
from widget_server.core.money import format_money
from widget_server.customers.models import Customer
from widget_server.demo.seed import CUSTOMER_PASSWORD, CUSTOMER_USERNAME
from widget_server.tenancy.models import Merchant

pytestmark = pytest.mark.browser

FRAME = "#my-account iframe"
MAX_TABS = 60  # more presses than any page of the demo has stops in it

# what an element is called, as far as this test needs it: its aria-label, else its label's
# text, else its own text (a link or button), else its value; spaces collapsed, cut short
DESCRIBE = """e => {
  const label = e.getAttribute('aria-label')
    || (e.labels && e.labels.length ? Array.from(e.labels).map(l => l.innerText).join(' ') : '')
    || e.innerText || e.value || '';
  const words = e === document.body ? '' : label.replace(/\\s+/g, ' ').trim();
  return e.tagName.toLowerCase() + (words ? ' "' + words.slice(0, 60) + '"' : '');
}"""


@pytest.fixture
def demo(demo_shop):
    """The account widget alone, on the demo shop's "Mein Konto" page."""
    return demo_shop


@pytest.fixture
def german_phone(chromium):
    context = chromium.new_context(locale="de-DE", viewport={"width": 360, "height": 740},
                                   extra_http_headers={"Accept-Language": "de-DE,de;q=0.9"})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def tab_to(page, target, what: str, key: str = "Tab") -> None:
    """Presses Tab (or `key`, e.g. Shift+Tab) until the focused element inside the account
    frame is `target` (a locator in the frame); fails naming where focus went on the way."""
    frame = page.frame_locator(FRAME)
    focused = frame.locator(":focus")
    target.wait_for(state="attached")
    seen = []
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        if target.evaluate("e => e.matches(':focus')"):
            return
        seen.append(focused.evaluate(DESCRIBE) if focused.count() == 1
                    else "shop page " + page.evaluate(f"({DESCRIBE})(document.activeElement)"))
    pytest.fail(f"{MAX_TABS} presses of {key} never reached {what}; focus went to: "
                + ", ".join(seen))


def expect_new_page(page, heading=None) -> None:
    """After a key that changed the widget's page (the body marked stale before it): the new
    page is there, its h1 visible and focused, and the frame does not scroll sideways."""
    frame = page.frame_locator(FRAME)
    expect(frame.locator("body[data-stale]")).to_have_count(0)
    h1 = frame.locator("#main h1")
    expect(h1).to_be_visible()
    if heading is not None:
        expect(h1).to_have_text(heading)
    # widget.js gives the h1 tabindex=-1 and focuses it once the page has loaded
    expect(frame.locator("#main h1:focus"),
           "focus is not on the new page's heading").to_have_count(1)
    expect(h1).to_have_attribute("tabindex", "-1")
    widths = frame.locator("html").evaluate(
        "e => [e.scrollWidth, e.clientWidth, location.pathname]")
    assert widths[0] <= widths[1], f"{widths[2]} scrolls sideways: {widths[0]} > {widths[1]} px"


def press_to_new_page(page, key: str) -> None:
    """Presses a key that leaves the frame's page, marking the page first: a look at the page
    being replaced would otherwise pass for a look at the new one."""
    page.frame_locator(FRAME).locator("body").evaluate(
        "b => b.setAttribute('data-stale', '')")
    page.keyboard.press(key)


def _open_invoices(app) -> list[Invoice]:
    with app.app_context():
        merchant = db.session.scalar(select(Merchant).where(Merchant.slug == "demo"))
        assert (merchant.currency, merchant.locale) == ("EUR", "de_DE")
        customer = db.session.scalar(select(Customer).where(
            Customer.merchant_id == merchant.id, Customer.username == CUSTOMER_USERNAME))
        return db.session.scalars(select(Invoice).where(
            Invoice.customer_id == customer.id, Invoice.status == "issued",
            Invoice.balance_minor > 0).order_by(Invoice.due_date)).all()


def test_the_demo_customer_does_it_all_by_keyboard_in_german_at_360px(app, demo, german_phone):
    page = german_phone
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(demo)
    assert urlsplit(page.url).hostname == "127.0.0.1"
    assert urlsplit(page.locator(FRAME).get_attribute("src")).hostname == "localhost"
    frame = page.frame_locator(FRAME)

    # 1. sign in: Tab from the shop's page into the frame, type, Enter
    login = frame.get_by_label("Benutzername oder E-Mail")
    tab_to(page, login, "the sign-in form's user name")
    page.keyboard.type(CUSTOMER_USERNAME)
    tab_to(page, frame.get_by_label("Passwort"), "the password")
    page.keyboard.type(CUSTOMER_PASSWORD)
    press_to_new_page(page, "Enter")
    expect_new_page(page, re.compile("^Hallo"))

    # 2. every page of the navigation: back to it with Shift+Tab, Enter
    nav = frame.get_by_role("navigation", name="Mein Konto")
    names = [n.strip() for n in nav.get_by_role("link").all_inner_texts()]
    assert "Bezahlen" in names and "Zahlungen" in names, names
    for name in names:
        link = nav.get_by_role("link", name=name, exact=True)
        tab_to(page, link, f"the navigation's {name!r}", key="Shift+Tab")
        press_to_new_page(page, "Enter")
        expect_new_page(page)
        expect(nav.get_by_role("link", name=name, exact=True)).to_have_attribute(
            "aria-current", "page")

    # 3. pay two open invoices, the total on the button before anything is charged
    invoices = _open_invoices(app)
    assert len(invoices) >= 2, [i.number for i in invoices]
    two = invoices[:2]
    total = format_money(sum(i.balance_minor for i in two), "EUR", "de_DE")
    tab_to(page, nav.get_by_role("link", name="Bezahlen", exact=True), "Bezahlen",
           key="Shift+Tab")
    press_to_new_page(page, "Enter")
    expect_new_page(page)
    for invoice in two:
        box = frame.locator(f"#invoice-{invoice.id}")
        tab_to(page, box, f"the checkbox of {invoice.number}")
        page.keyboard.press("Space")
        expect(box).to_be_checked()
    pay = frame.get_by_role("button", name=f"{total} bezahlen", exact=True)
    expect(pay).to_be_visible()
    expect(frame.locator("#pay-total")).to_have_text(f"Zu zahlender Gesamtbetrag: {total}")
    new_card = frame.get_by_label(re.compile("^Neue (Kredit)?[Kk]arte$"))
    if not new_card.is_checked():
        tab_to(page, new_card, "the new card's radio button")
        page.keyboard.press("Space")
        expect(new_card).to_be_checked()
    for label, typed in (("Kartennummer", "4242 4242 4242 4242"),
                         (re.compile("^Gültig bis"), "12/39"), ("Sicherheitscode", "123")):
        tab_to(page, frame.get_by_label(label), f"the field {label}")
        page.keyboard.type(typed)
    expect(pay).to_be_visible()
    tab_to(page, pay, f"the button {total} bezahlen")
    press_to_new_page(page, "Enter")
    expect_new_page(page, "Vielen Dank")
    number = frame.get_by_test_id("payment-number").inner_text()

    # 4. the receipt from Zahlungen, listing both invoices, and its PDF
    tab_to(page, nav.get_by_role("link", name="Zahlungen", exact=True), "Zahlungen",
           key="Shift+Tab")
    press_to_new_page(page, "Enter")
    expect_new_page(page, "Zahlungen")
    assert number.startswith("PAY-"), number
    receipt = frame.get_by_role("link", name=f"Beleg {number}", exact=True)
    tab_to(page, receipt, f"the link Beleg {number}")
    press_to_new_page(page, "Enter")
    expect_new_page(page, f"Beleg {number}")
    for invoice in two:
        expect(frame.get_by_role("main")).to_contain_text(f"Rechnung {invoice.number}")
    pdf = frame.get_by_role("link", name="Beleg herunterladen (PDF)")
    tab_to(page, pdf, "the receipt's PDF link")
    href = pdf.get_attribute("href")
    frame_url = next(f.url for f in page.frames if urlsplit(f.url).hostname == "localhost")
    response = page.request.get(urljoin(frame_url, href))
    assert response.ok
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")

    frames_settled(page, FRAME)  # the last page's scripts have run: their errors are in
    assert errors == []
