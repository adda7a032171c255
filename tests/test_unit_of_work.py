"""One unit of work (#18): services flush, the request, job or command commits once; one
`DomainError` mapped once per face."""
import re
from pathlib import Path

from widget_server.core.domain import DomainError
from widget_server.core.extensions import db
from widget_server.tenancy.models import Merchant
from widget_server.web.errors import refused
from widget_server.web.form_fields import show_errors

PACKAGE = Path(__file__).resolve().parents[1] / "widget_server"
# Where a commit may stand: the boundaries, and the documented commit before a gateway call.
ALLOWED = {
    "core/unit_of_work.py": 1,  # the request's end
    # a job's claim and its end; a batch's claims and its jobs' failures (claim_batch,
    # fail_claimed: the email handler's batch, #19; its sends are recorded with engine.begin())
    "jobs/queue.py": 5,
    "jobs/periodic.py": 1,  # the daily jobs enqueued by a worker
    "commerce/billing_run.py": 1,  # each batch of the billing run (#21): bounded transactions
    "cli.py": 1,  # a command's end
    "billing/payments.py": 2,  # before the gateway is called (pay, charge)
    "billing/payment_jobs.py": 1,  # before a scheduled payment's gateway call
    "billing/refunds.py": 1,  # before a refund's gateway call (#24)
    # an Idempotency-Key's claim before its request's work, and its release after a refusal
    # (#25, A-3): a concurrent duplicate must see the claim while the work runs
    "api/idempotency.py": 2,
}


def test_only_the_boundaries_commit():
    found = {}
    for path in PACKAGE.rglob("*.py"):
        count = len(re.findall(r"\bsession\.commit\(\)", path.read_text()))
        if count:
            found[path.relative_to(PACKAGE).as_posix()] = count
    assert found == ALLOWED


def test_a_refusal_shown_on_a_page_keeps_nothing_of_the_change(app, make_merchant):
    from wtforms import Form, StringField

    merchant_id, _ = make_merchant("acme")

    class NameForm(Form):
        name = StringField()

    with app.test_request_context("/admin/configuration", method="POST"):
        merchant = db.session.get(Merchant, merchant_id)
        before, merchant.name = merchant.name, "Half-made change"
        db.session.flush()
        form = NameForm()
        rest = show_errors(form, DomainError.of({"name": "No.", None: "Not now."}))
        assert form.name.errors == ["No."] and rest == ["Not now."]
        assert db.session.get(Merchant, merchant_id).name == before  # rolled back


def test_an_uncaught_refusal_is_its_status_and_message_never_a_500(app, make_merchant):
    with app.test_request_context("/api/v1/customers"):
        body, status = refused(DomainError("A payment is in flight.", "invoices",
                                           code="payment_in_progress", status=409))
        assert status == 409
        assert body.get_json() == {"error": {"code": "payment_in_progress",
                                             "message": "A payment is in flight.",
                                             "field": "invoices",
                                             "errors": {"invoices": "A payment is in flight."}}}
    with app.test_request_context("/w/acme/standard/pay"):
        page, status = refused(DomainError("Not here.", status=403))
        assert status == 403 and "Not here." in page
