"""One invoice, one payment in flight (W-3, #18 defect 1): the Pay page loaded in several tabs
(one idempotency key each) and submitted at once charges the card once. Real concurrent HTTP
requests against the threaded live server, on SQLite and (in CI) PostgreSQL."""
import re
import threading

import pytest
import requests

from tests.conftest import csrf_from
from tests.payment_support import CARD, hidden_fields
from widget_server.billing import gateways
from widget_server.billing.models import Invoice, Payment
from widget_server.core.extensions import db
from widget_server.customers.models import Customer


class Tab:
    """A browser's cookie kept by hand: Python clients do not send Secure cookies over http."""

    def __init__(self, base: str):
        self.base, self.http, self.cookie = base, requests.Session(), ""

    def _keep(self, response):
        for name, value in re.findall(r"(?:^|, )([\w-]+)=([^;]*);", response.headers.get(
                "Set-Cookie", "")):
            if value:
                self.cookie = f"{name}={value}"
        return response

    def get(self, path):
        return self._keep(self.http.get(self.base + path, headers={"Cookie": self.cookie},
                                        allow_redirects=False, timeout=20))

    def post(self, path, data):
        return self._keep(self.http.post(self.base + path, data=data, timeout=30,
                                         headers={"Cookie": self.cookie},
                                         allow_redirects=False))

    def sign_in(self, login, password):
        page = self.get("/login")
        answer = self.post("/login", {"csrf_token": csrf_from(page.text), "login": login,
                                      "password": password})
        assert answer.status_code == 302, answer.text[:300]


@pytest.fixture
def charges(monkeypatch):
    """Every charge the gateway is asked for (the sandbox itself, only counted)."""
    seen, lock = [], threading.Lock()
    real = gateways.SandboxGateway.charge

    def counted(self, request):
        with lock:
            seen.append(request.amount_minor)
        return real(self, request)

    monkeypatch.setattr(gateways.SandboxGateway, "charge", counted)
    return seen


def _submit_at_once(forms, tab, path="/pay"):
    barrier, answers = threading.Barrier(len(forms)), []

    def post(form):
        barrier.wait(timeout=10)
        answers.append(tab.post(path, form))

    threads = [threading.Thread(target=post, args=(f,)) for f in forms]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return answers


@pytest.mark.parametrize("tabs", [2, 8])
def test_tabs_submitted_at_once_charge_one_invoice_once(app, billed, live_server, charges,
                                                        tabs):
    tab = Tab(live_server + billed.base)
    tab.sign_in(billed.username, billed.password)
    invoice_id = billed.invoice_ids[1]
    forms = []
    for _ in range(tabs):  # each tab loads the page: its own idempotency key
        page = tab.get(f"/pay?invoice={invoice_id}")
        assert page.status_code == 200
        forms.append({**hidden_fields(page.text), **CARD, "invoice": str(invoice_id)})
    assert len({f["idempotency_key"] for f in forms}) == tabs

    answers = _submit_at_once(forms, tab)

    assert len(charges) == 1, charges
    assert sorted(a.status_code for a in answers) == [200] + [409] * (tabs - 1)
    for refused in (a for a in answers if a.status_code == 409):  # each told why, none charged
        assert "being processed" in refused.text or "already paid" in refused.text
    with app.app_context():
        assert db.session.get(Invoice, invoice_id).balance_minor == 0
        assert db.session.get(Customer, billed.customer_id).credit_minor == 0
        assert db.session.query(Payment).filter_by(status="succeeded").count() == 1
        # the claim is released once the payment settles
        assert db.session.get(Invoice, invoice_id).payment_claim_id is None
