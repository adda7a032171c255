"""Finding things in the admin (issue #24 item 2, T-5): the invoice list's customer column,
search, filters (status in words, overdue, dates, customer) and "New invoice"; the payments
list; customer search without accents or case ("lukas" finds "Łukasiewicz", on SQLite and, with
TEST_DATABASE_URL, PostgreSQL); keyset pages in a constant number of statements; CSV exports of
what is filtered, formula-safe, streamed in bounded memory."""
import csv
import io
import re
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import insert

from widget_server.billing.models import Invoice, Payment
from widget_server.core.extensions import db
from widget_server.customers import services as customer_services
from widget_server.customers.models import Customer, CustomerEmail
from widget_server.tenancy.models import Merchant

OWNER = ("owner@acme.test", "owner-pass-123")


def _customer(merchant_id, first, last, company="", emails=()):
    customer = Customer(merchant_id=merchant_id, first_name=first, last_name=last,
                        company=company, custom_fields={})
    customer.emails = [CustomerEmail(merchant_id=merchant_id, address=a, position=i)
                       for i, a in enumerate(emails)]
    db.session.add(customer)
    db.session.flush()
    return customer


def _invoice(merchant_id, customer, number, status, *, issued=None, due=None, total=10000,
             balance=None):
    invoice = Invoice(merchant_id=merchant_id, customer_id=customer.id, number=number,
                      status=status, currency="EUR", total_minor=total,
                      balance_minor=total if balance is None else balance,
                      issue_date=issued, due_date=due)
    db.session.add(invoice)
    db.session.flush()
    return invoice


@pytest.fixture
def books(app, portal):
    """A de_DE merchant in Berlin (EUR) with Ignacy Łukasiewicz, Zoë Müller and Jane Doe, an
    invoice in each state and three payments."""
    p = portal()
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        merchant.locale, merchant.timezone, merchant.currency = "de_DE", "Europe/Berlin", "EUR"
        today = merchant.today()
        m = merchant.id
        lukas = _customer(m, "Ignacy", "Łukasiewicz", "Nafta Sp. z o.o.",
                          ["ignacy@nafta.test"])
        zoe = _customer(m, "Zoë", "Müller", "=HYPERLINK(\"http://evil.test\")",
                        ["zoe@muller.test"])
        jane = db.session.get(Customer, p.customer_id)
        ids = SimpleNamespace(merchant_id=m, lukas=lukas.id, zoe=zoe.id, jane=jane.id,
                              today=today)
        ids.draft = _invoice(m, jane, "INV-00001", "draft").id
        ids.open = _invoice(m, lukas, "INV-00002", "issued", issued=today - timedelta(days=5),
                            due=today + timedelta(days=25)).id
        ids.overdue = _invoice(m, lukas, "INV-00003", "issued",
                               issued=today - timedelta(days=60),
                               due=today - timedelta(days=30), balance=4000).id
        ids.paid = _invoice(m, zoe, "INV-00004", "paid", issued=today - timedelta(days=40),
                            due=today - timedelta(days=10), balance=0).id
        ids.void = _invoice(m, jane, "INV-00005", "void", issued=today - timedelta(days=3),
                            due=today + timedelta(days=27)).id
        # 23:30 UTC on 28 Nov 2026 is 00:30 on the 29th in Berlin
        late = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)
        paid = Payment(merchant_id=m, customer_id=lukas.id, amount_minor=6000, currency="EUR",
                       status="succeeded", reference="pi_3AbcDef", method_label="Visa •••• 4242",
                       number=1, created_at=late)
        failed = Payment(merchant_id=m, customer_id=zoe.id, amount_minor=2500, currency="EUR",
                         status="failed", reference="pi_9Failed", method_label="Visa •••• 0002",
                         failure_message="Your card was declined.",
                         created_at=late - timedelta(days=2))
        pending = Payment(merchant_id=m, customer_id=jane.id, amount_minor=1000,
                          currency="EUR", status="pending", method="ach",
                          reference="py_7Pending", created_at=late - timedelta(days=1))
        db.session.add_all([failed, pending, paid])  # ids in the order they were made
        db.session.commit()
        ids.payment = paid.id
    p.ids = ids
    return p


@pytest.fixture
def admin(books, browser_like):
    assert browser_like.login(*OWNER).status_code == 302
    return browser_like.client


def _numbers(html: str, prefix: str) -> list[str]:
    return re.findall(rf">({prefix}-\d+)<", html)


# --- customer search -------------------------------------------------------------------------

@pytest.mark.parametrize("typed, found", [
    ("lukas", {"Łukasiewicz"}), ("LUKAS", {"Łukasiewicz"}), ("łukas", {"Łukasiewicz"}),
    ("ŁUKASIEWICZ", {"Łukasiewicz"}), ("muller", {"Müller"}), ("zoe mull", {"Müller"}),
    ("MÜLLER", {"Müller"}), ("nafta", {"Łukasiewicz"}), ("ignacy@", {"Łukasiewicz"}),
    ("jane", {"Doe"}), ("%", set()), ("_", set()), ("x" * 199, set())])
def test_customer_search_ignores_accents_and_case(app, books, typed, found):
    """The same on SQLite and PostgreSQL: the folded column is compared with a plain LIKE."""
    with app.app_context():
        merchant = db.session.get(Merchant, books.merchant_id)
        page = customer_services.search_customers(merchant, typed, 1, 25)
        assert {c.last_name for c in page.items} == found


def test_search_text_follows_every_write(app, books):
    with app.app_context():
        merchant = db.session.get(Merchant, books.merchant_id)
        zoe = db.session.get(Customer, books.ids.zoe)
        zoe.last_name, zoe.company = "Ångström", "Ørsted A/S"
        zoe.username = "ZOE.Å"
        db.session.commit()
        assert zoe.search_text == "zoe angstrom orsted a/s zoe.a"
        for typed in ("angstrom", "ØRSTED", "zoe.a"):
            assert [c.id for c in customer_services.search_customers(
                merchant, typed, 1, 25).items] == [zoe.id], typed
        assert "muller" not in zoe.search_text


def test_admin_customer_list_finds_lukasiewicz_by_lukas(admin, books):
    html = admin.get("/admin/customers?q=lukas").get_data(as_text=True)
    assert "Ignacy Łukasiewicz" in html and "Jane Doe" not in html


# --- invoices --------------------------------------------------------------------------------

def test_invoice_list_has_customers_statuses_in_words_and_local_dates(admin, books):
    html = admin.get("/admin/invoices").get_data(as_text=True)
    assert _numbers(html, "INV") == ["INV-00005", "INV-00004", "INV-00003", "INV-00002",
                                     "INV-00001"]
    rows = dict(re.findall(r"<tr><td><a [^>]*>(INV-\d+)</a></td>(.*?)</tr>",
                                            html))
    assert "Ignacy Łukasiewicz (Nafta Sp. z o.o.)" in rows["INV-00002"]
    words = {n: re.findall(r"<td>(Draft|Open|Overdue|Paid|Void)</td>", row) for n, row in
             rows.items()}
    assert words == {"INV-00001": ["Draft"], "INV-00002": ["Open"], "INV-00003": ["Overdue"],
                     "INV-00004": ["Paid"], "INV-00005": ["Void"]}
    due = books.ids.today - timedelta(days=30)
    assert due.strftime("%d.%m.%Y") in rows["INV-00003"]
    assert "40,00\xa0€" in rows["INV-00003"]  # the balance, in the merchant's locale
    assert not re.search(r"\d{4}-\d{2}-\d{2}", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("query, expected", [
    ("status=overdue", ["INV-00003"]), ("status=open", ["INV-00002"]),
    ("status=draft", ["INV-00001"]), ("status=paid", ["INV-00004"]),
    ("status=void", ["INV-00005"]), ("status=issued", None),  # unknown: ignored
    ("q=lukas", ["INV-00003", "INV-00002"]), ("q=inv-00004", ["INV-00004"]),
    ("q=00002", ["INV-00002"]), ("q=zoe%40muller", ["INV-00004"]), ("q=nobody", []),
    ("q=lukas&status=overdue", ["INV-00003"])])
def test_invoice_filters(admin, books, query, expected):
    html = admin.get(f"/admin/invoices?{query}").get_data(as_text=True)
    all_five = ["INV-00005", "INV-00004", "INV-00003", "INV-00002", "INV-00001"]
    assert _numbers(html, "INV") == (all_five if expected is None else expected)


def test_invoice_filters_by_dates_typed_as_the_merchant_writes_them(admin, books):
    today = books.ids.today

    def de(d):
        return d.strftime("%d.%m.%Y")

    html = admin.get(f"/admin/invoices?date_from={de(today - timedelta(days=45))}"
                     f"&date_to={de(today - timedelta(days=4))}").get_data(as_text=True)
    assert _numbers(html, "INV") == ["INV-00004", "INV-00002"]
    html = admin.get(f"/admin/invoices?due_to={de(today - timedelta(days=1))}").get_data(
        as_text=True)
    assert _numbers(html, "INV") == ["INV-00004", "INV-00003"]
    bad = admin.get("/admin/invoices?date_from=31.02.2026")
    assert bad.status_code == 200
    html = bad.get_data(as_text=True)
    assert 'aria-invalid="true"' in html and "TT.MM.JJJJ" not in html  # English admin
    assert len(_numbers(html, "INV")) == 5  # the bad date is left out, not guessed


def test_invoice_list_by_customer_and_new_invoice_for_them(admin, books):
    lukas = books.ids.lukas
    html = admin.get(f"/admin/invoices?customer={lukas}").get_data(as_text=True)
    assert _numbers(html, "INV") == ["INV-00003", "INV-00002"]
    assert f'href="/admin/customers/{lukas}/invoices/new"' in html
    assert admin.get("/admin/invoices?customer=999999").status_code == 404


def test_new_invoice_button_finds_the_customer_first(admin, books):
    html = admin.get("/admin/invoices").get_data(as_text=True)
    assert 'href="/admin/invoices/new"' in html
    page = admin.get("/admin/invoices/new?q=LUKAS").get_data(as_text=True)
    assert f'href="/admin/customers/{books.ids.lukas}/invoices/new"' in page
    assert "New invoice for Ignacy Łukasiewicz" in page
    form = admin.get(f"/admin/customers/{books.ids.lukas}/invoices/new")
    assert form.status_code == 200 and "TT.MM.JJJJ" not in form.get_data(as_text=True)
    assert "No customer matches" in admin.get("/admin/invoices/new?q=nobody").get_data(
        as_text=True)


def test_another_merchants_invoices_and_customers_stay_out(app, admin, books, portal):
    other = portal("other", username="olga")
    with app.app_context():
        olga = db.session.get(Customer, other.customer_id)
        _invoice(other.merchant_id, olga, "INV-00099", "issued", issued=date(2026, 1, 1))
        db.session.commit()
    assert "INV-00099" not in admin.get("/admin/invoices").get_data(as_text=True)
    assert "INV-00099" not in admin.get("/admin/invoices.csv").get_data(as_text=True)
    assert admin.get(f"/admin/invoices?customer={other.customer_id}").status_code == 404
    assert admin.get(f"/admin/payments?customer={other.customer_id}").status_code == 404


def _bulk_invoices(app, merchant_id, customer_id, count, start=1000):
    today = date(2026, 11, 1)
    with app.app_context():
        db.session.execute(insert(Invoice), [
            {"merchant_id": merchant_id, "customer_id": customer_id, "number": f"INV-{n:06d}",
             "status": "issued", "currency": "EUR", "total_minor": 100 + n,
             "balance_minor": 100 + n, "issue_date": today, "due_date": today,
             "created_at": datetime(2026, 11, 1, tzinfo=UTC)}
            for n in range(start, start + count)])
        db.session.commit()


def test_invoice_pages_walk_by_keyset_in_a_constant_number_of_statements(
        app, admin, books, count_queries):
    def statements(url):
        with count_queries() as counter:
            assert admin.get(url).status_code == 200
        return counter.count

    small = statements("/admin/invoices")
    _bulk_invoices(app, books.merchant_id, books.ids.lukas, 120)
    seen, url, counts = [], "/admin/invoices?q=lukas", []
    while url:
        with count_queries() as counter:
            html = admin.get(url).get_data(as_text=True)
        counts.append(counter.count)
        seen += _numbers(html, "INV")
        nxt = re.search(r'href="([^"]+)" rel="next"', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    assert len(seen) == 122 and len(set(seen)) == 122  # every invoice once, newest first
    assert seen[:2] == ["INV-001119", "INV-001118"] and seen[-2:] == ["INV-00003", "INV-00002"]
    assert len(counts) == 3 and len(set(counts)) == 1, counts
    assert statements("/admin/invoices") == small  # 5 rows or 50: the same statements


# --- payments --------------------------------------------------------------------------------

def test_payments_list(admin, books):
    html = admin.get("/admin/payments").get_data(as_text=True)
    rows = re.findall(r"<tr><td>([^<]*)</td><td><a href=\"/admin/payments/\d+\">([^<]*)</a></td>"
                      r"<td><a [^>]*>([^<]*)</a></td>"
                      r"<td class=\"num\">([^<]*)</td><td>([^<]*)</td><td>(\w+)", html)
    # each payment's number leads to its page (refunds, #24 item 3)
    assert rows == [
        ("29.11.2026 00:30", "PAY-00001", "Ignacy Łukasiewicz (Nafta Sp. z o.o.)",
         "60,00\xa0€", "Visa •••• 4242", "Succeeded"),
        ("28.11.2026 00:30", "Payment", "Jane Doe", "10,00\xa0€", "ACH", "Pending"),
        ("27.11.2026 00:30", "Payment", "Zoë Müller (=HYPERLINK(&#34;http://evil.test&#34;))",
         "25,00\xa0€", "Visa •••• 0002", "Failed")]
    assert "Your card was declined." in html
    assert "UTC" not in html


@pytest.mark.parametrize("query, expected", [
    ("status=failed", ["Failed"]), ("status=succeeded", ["Succeeded"]),
    ("q=PAY-00001", ["Succeeded"]), ("q=pay-1", ["Succeeded"]), ("q=1", ["Succeeded"]),
    ("q=pi_9F", ["Failed"]), ("q=lukas", ["Succeeded"]), ("q=muller", ["Failed"]),
    ("date_from=29.11.2026", ["Succeeded"]),  # the Berlin day, not the UTC one
    ("date_to=28.11.2026", ["Pending", "Failed"]),
    ("date_from=28.11.2026&date_to=28.11.2026", ["Pending"])])
def test_payment_filters(admin, books, query, expected):
    html = admin.get(f"/admin/payments?{query}").get_data(as_text=True)
    assert re.findall(r"</td><td>(Succeeded|Pending|Failed)", html) == expected


def test_payments_list_by_customer_and_menu_entry(admin, books):
    html = admin.get(f"/admin/payments?customer={books.ids.zoe}").get_data(as_text=True)
    assert re.findall(r"</td><td>(Succeeded|Pending|Failed)", html) == ["Failed"]
    assert '<a href="/admin/payments"' in html


def test_lists_and_exports_need_a_signed_in_admin(books, client):
    for url in ("/admin/payments", "/admin/invoices", "/admin/invoices.csv",
                "/admin/payments.csv", "/admin/customers.csv", "/admin/invoices/new"):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login" in response.location, url


# --- CSV -------------------------------------------------------------------------------------

def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_csv_exports_what_is_filtered(admin, books):
    rows = _csv(admin.get("/admin/invoices.csv?status=overdue"))
    assert rows[0][:4] == ["Number", "Customer", "Company", "Status"]
    assert rows[1][:4] == ["INV-00003", "Ignacy Łukasiewicz", "Nafta Sp. z o.o.", "Overdue"]
    assert rows[1][-3:] == ["EUR", "100.00", "40.00"] and len(rows) == 2
    assert len(_csv(admin.get("/admin/invoices.csv"))) == 6
    rows = _csv(admin.get("/admin/payments.csv?q=lukas"))
    assert rows[1] == ["2026-11-29 00:30", "PAY-00001", "Ignacy Łukasiewicz",
                       "Nafta Sp. z o.o.", "60.00", "EUR", "Visa •••• 4242", "Succeeded",
                       "pi_3AbcDef"]
    rows = _csv(admin.get("/admin/customers.csv?q=LUKAS"))
    assert [r[2] for r in rows[1:]] == ["Łukasiewicz"] and rows[1][4] == "ignacy@nafta.test"
    assert len(_csv(admin.get("/admin/customers.csv"))) == 4


def test_csv_cells_never_run_as_formulas(admin, books, app):
    with app.app_context():
        jane = db.session.get(Customer, books.ids.jane)
        jane.first_name, jane.last_name, jane.company = "+SUM(A1)", "-2+3", "@cmd"
        db.session.commit()
    for url in ("/admin/invoices.csv", "/admin/payments.csv", "/admin/customers.csv"):
        cells = [c for row in _csv(admin.get(url)) for c in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")], url
        text = "\n".join(cells)
        assert "'=HYPERLINK(\"http://evil.test\")" in text or url.startswith("/admin/inv")
    cells = [c for row in _csv(admin.get("/admin/customers.csv")) for c in row]
    assert {"'+SUM(A1)", "'-2+3", "'@cmd"} <= set(cells)


@pytest.mark.timeout(240)  # ~20 s alone; a CI machine shared with browser tests is slower
def test_csv_export_of_100000_invoices_streams_in_bounded_memory(app, admin, books):
    """The rows come from the database a batch at a time and go out a line at a time: the
    peak stays far below what 100,000 rows held at once take (tens of MB as ORM objects)."""
    _bulk_invoices(app, books.merchant_id, books.ids.zoe, 100_000)
    response = admin.get("/admin/invoices.csv?q=muller", buffered=False)
    assert response.status_code == 200 and response.is_streamed
    lines = size = 0
    tracemalloc.start()
    try:
        for chunk in response.response:
            chunk = chunk.encode() if isinstance(chunk, str) else chunk
            lines += chunk.count(b"\n")
            size += len(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        response.close()
    assert lines == 1 + 100_000 + 1  # the header, the bulk rows, INV-00004
    # less than half the file itself: nothing held the export whole (~2 MB measured)
    assert size > 6_000_000 and peak < min(5_000_000, size // 2), (size, peak)


def test_payment_pages_walk_by_keyset_in_a_constant_number_of_statements(
        app, admin, books, count_queries):
    with count_queries() as counter:
        assert admin.get("/admin/payments").status_code == 200
    small = counter.count
    with app.app_context():
        db.session.execute(insert(Payment), [
            {"merchant_id": books.merchant_id, "customer_id": books.ids.jane,
             "amount_minor": 100 + n, "currency": "EUR", "status": "succeeded",
             "number": 100 + n, "reference": f"pi_{n}", "created_at": datetime.now(UTC)}
            for n in range(70)])
        db.session.commit()
    seen, url, counts = [], "/admin/payments", []
    while url:
        with count_queries() as counter:
            html = admin.get(url).get_data(as_text=True)
        counts.append(counter.count)
        seen += re.findall(r"/admin/payments/\d+\">(PAY-\d+|Payment)</a></td>", html)
        nxt = re.search(r'href="([^"]+)" rel="next"', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    assert len(seen) == 73 and seen[0] == "PAY-00169"
    assert counts == [small, small]
