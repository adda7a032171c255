"""Guest checkout (issue #22 slice c): a six-digit code proves a guest's address, then the
address finds the merchant's customer or makes one (`customers.email_proof`).

The code goes out through the real SMTP path (aiosmtpd) and is never kept in clear: not in the
proof row, not in the domain event, not in the stored message once sent."""
import json
import re
from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import func, select

from widget_server.core.database import utcnow
from widget_server.core.domain import DomainError
from widget_server.core.events import DomainEvent
from widget_server.core.extensions import db
from widget_server.customers import email_proof
from widget_server.customers.email_proof import TooManyCodes
from widget_server.customers.models import Customer, CustomerEmail, EmailProof
from widget_server.jobs import queue
from widget_server.notifications.models import EmailMessage
from widget_server.notifications.types import EMAIL_TYPES
from widget_server.tenancy.models import Merchant

CODE_RE = re.compile(r"\b(\d{6})\b")


def _merchant(merchant_id) -> Merchant:
    return db.session.get(Merchant, merchant_id)


def _send(app, merchant_id, email="guest@example.test", client="10.0.0.1", **request):
    """Ask for a code as a request would (committed at its end); returns the proof's id."""
    with app.test_request_context("/", **request):
        g.merchant = _merchant(merchant_id)  # as the widget's requests set it
        proof = email_proof.send_code(g.merchant, email, client)
        db.session.commit()
        return proof.id


def _delivered_code(app, smtp) -> tuple[str, object]:
    with app.app_context():
        queue.run_due()
    [(_, message)] = smtp.messages
    smtp.messages.clear()
    text = message.get_body(("plain",)).get_content()
    return CODE_RE.search(text).group(1), message


def _verify(app, merchant_id, which, code):
    with app.test_request_context("/"):
        try:
            proven = email_proof.verify(_merchant(merchant_id), which, code)
        except DomainError as exc:
            db.session.rollback()  # as a page showing the refusal does
            return exc
        db.session.commit()
        return proven


def test_the_code_is_emailed_and_never_kept_in_clear(app, portal, smtp):
    p = portal()
    proof_id = _send(app, p.merchant_id)
    code, message = _delivered_code(app, smtp)
    assert message["To"] == "guest@example.test"
    assert message["Subject"] == "Your Acme checkout code"
    assert code not in message["Subject"]
    assert "It works once, for 10 minutes" in message.get_body(("plain",)).get_content()
    with app.app_context():
        proof = db.session.get(EmailProof, proof_id)
        row = json.dumps({c.name: str(getattr(proof, c.name)) for c in EmailProof.__table__.c})
        assert code not in row and proof.email == "guest@example.test"
        assert proof.expires_at - proof.created_at == timedelta(minutes=10)
        assert "10.0.0.1" not in row  # the client key is kept as an HMAC only
        [event] = db.session.scalars(select(DomainEvent)).all()
        assert (event.name, event.payload) == ("checkout.code_requested", {"proof_id": proof_id})
        [stored] = db.session.scalars(select(EmailMessage)).all()
        assert stored.email_type == "guest_checkout_code" and stored.status == "sent"
        assert stored.secret_values is None
        assert not any(code in part for part in (stored.subject, stored.text_body,
                                                 stored.html_body))
    assert EMAIL_TYPES["guest_checkout_code"].switch is None  # without it nobody checks out


def test_the_code_is_written_in_the_requests_language(app, portal, smtp):
    p = portal(config={"portal": {"languages": ["en", "de", "fr"]}})
    _send(app, p.merchant_id, headers={"Accept-Language": "de-DE,de;q=0.9"})
    _, message = _delivered_code(app, smtp)
    assert message["Subject"] == "Ihr Bestätigungscode für Acme"
    assert 'lang="de"' in message.get_body(("html",)).get_content()


def test_a_right_code_proves_the_address_once(app, portal, smtp):
    p = portal()
    proof_id = _send(app, p.merchant_id, "Guest@Example.test")
    code, _ = _delivered_code(app, smtp)
    proven = _verify(app, p.merchant_id, proof_id, f" {code[:3]} {code[3:]} ")
    assert proven == email_proof.ProvenEmail(p.merchant_id, "guest@example.test", proof_id)
    again = _verify(app, p.merchant_id, proof_id, code)
    assert isinstance(again, DomainError) and again.code == "code_used"
    assert again.field == "code" and "Ask for a new code" in again.message
    with app.app_context():
        assert email_proof.proven(_merchant(p.merchant_id), proof_id) == proven


def test_the_address_finds_its_newest_proof(app, portal, smtp):
    p = portal()
    _send(app, p.merchant_id)
    first, _ = _delivered_code(app, smtp)
    _send(app, p.merchant_id)
    second, _ = _delivered_code(app, smtp)
    if first != second:  # an earlier code stops working once a new one is sent
        assert _verify(app, p.merchant_id, "guest@example.test", first).code == "code_wrong"
    assert isinstance(_verify(app, p.merchant_id, "GUEST@example.test", second),
                      email_proof.ProvenEmail)


def test_an_expired_code_asks_for_a_new_one(app, portal, smtp):
    p = portal()
    proof_id = _send(app, p.merchant_id)
    code, _ = _delivered_code(app, smtp)
    with app.app_context():
        db.session.get(EmailProof, proof_id).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    refused = _verify(app, p.merchant_id, proof_id, code)
    assert refused.code == "code_expired"
    assert refused.message == "This code has expired. Ask for a new code."


def test_five_wrong_codes_spend_the_proof(app, portal, smtp):
    p = portal()
    proof_id = _send(app, p.merchant_id)
    code, _ = _delivered_code(app, smtp)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    messages = [_verify(app, p.merchant_id, proof_id, wrong).message for _ in range(5)]
    assert messages[:4] == ["That code is not right. 4 tries left.",
                            "That code is not right. 3 tries left.",
                            "That code is not right. 2 tries left.",
                            "That code is not right. 1 try left."]
    assert messages[4] == "Too many wrong codes. Ask for a new code."
    # counted although each refusal was rolled back; the right code no longer works
    refused = _verify(app, p.merchant_id, proof_id, code)
    assert refused.code == "code_spent"
    with app.app_context():
        assert db.session.get(EmailProof, proof_id).attempts == 5
        assert db.session.get(EmailProof, proof_id).used_at is None


def test_a_malformed_code_is_not_a_try(app, portal, smtp):
    p = portal()
    proof_id = _send(app, p.merchant_id)
    refused = _verify(app, p.merchant_id, proof_id, "12ab")
    assert refused.message == "Enter the six-digit code from the email."
    with app.app_context():
        assert db.session.get(EmailProof, proof_id).attempts == 0


def test_a_code_is_checked_within_its_merchant_only(app, portal, smtp):
    a, b = portal("acme"), portal("globex")
    proof_id = _send(app, a.merchant_id)
    code, _ = _delivered_code(app, smtp)
    assert _verify(app, b.merchant_id, proof_id, code).code == "code_missing"
    assert _verify(app, b.merchant_id, "guest@example.test", code).code == "code_missing"
    with app.app_context():
        assert email_proof.proven(_merchant(b.merchant_id), proof_id) is None
    proven = _verify(app, a.merchant_id, proof_id, code)
    with app.app_context(), pytest.raises(DomainError):
        email_proof.customer_for_proven_email(_merchant(b.merchant_id), proven, "Gus", "Guest")


def _throttled(app, merchant_id, email, client) -> TooManyCodes:
    with app.test_request_context("/"), pytest.raises(TooManyCodes) as caught:
        email_proof.send_code(_merchant(merchant_id), email, client)
    return caught.value


def test_three_codes_per_address_each_quarter_hour(app, portal, smtp):
    p = portal()
    for client in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        _send(app, p.merchant_id, client=client)
    refused = _throttled(app, p.merchant_id, "guest@example.test", "10.0.0.4")
    assert refused.status == 429 and refused.field == "email"
    assert refused.retry_after_minutes == 15
    assert refused.message == ("Too many codes were sent to this address. Please wait 15 "
                               "minutes before asking for another.")
    with app.app_context():  # the oldest code leaves the window in 6 minutes
        oldest = db.session.scalars(select(EmailProof).order_by(EmailProof.id)).first()
        oldest.created_at = utcnow() - timedelta(minutes=9, seconds=30)
        db.session.commit()
    assert _throttled(app, p.merchant_id, "guest@example.test", "x").retry_after_minutes == 6
    with app.app_context():
        oldest = db.session.scalars(select(EmailProof).order_by(EmailProof.id)).first()
        oldest.created_at = utcnow() - timedelta(minutes=16)
        db.session.commit()
    _send(app, p.merchant_id, client="10.0.0.5")  # room again


def test_ten_codes_per_client_each_hour(app, portal, smtp):
    p = portal()
    for n in range(10):
        _send(app, p.merchant_id, f"guest{n}@example.test", client="10.0.0.9")
    refused = _throttled(app, p.merchant_id, "other@example.test", "10.0.0.9")
    assert refused.field is None and refused.retry_after_minutes == 60
    assert refused.message == ("Too many codes were asked for from here. Please wait 60 "
                               "minutes before asking for another.")
    _send(app, p.merchant_id, "other@example.test", client="10.0.0.10")  # another client


def test_a_known_and_an_unknown_address_are_answered_alike(app, portal, smtp):
    p = portal()  # jane@example.test is Jane's Primary Email
    answers = []
    for email in ("jane@example.test", "nobody@example.test"):
        _send(app, p.merchant_id, email)
        code, message = _delivered_code(app, smtp)
        body = message.get_body(("plain",)).get_content().replace(code, "CODE")
        for _ in range(2):
            _send(app, p.merchant_id, email)
        with app.app_context():
            queue.run_due()
        smtp.messages.clear()
        refused = _throttled(app, p.merchant_id, email, "10.0.0.7")
        answers.append((message["Subject"], body, refused.message, refused.field))
    assert answers[0] == answers[1]


def _prove(app, smtp, merchant_id, email):
    proof_id = _send(app, merchant_id, email)
    code, _ = _delivered_code(app, smtp)
    return _verify(app, merchant_id, proof_id, code)


def test_a_customers_address_attaches_to_that_customer(app, portal, smtp):
    p = portal()
    proven = _prove(app, smtp, p.merchant_id, "AP@example.test")  # Jane's second address
    for _ in range(2):
        with app.test_request_context("/"):
            customer, created = email_proof.customer_for_proven_email(
                _merchant(p.merchant_id), proven, "Someone", "Else")
            db.session.commit()
            assert (customer.id, created) == (p.customer_id, False)
            assert (customer.first_name, customer.last_name) == ("Jane", "Doe")  # unchanged
    with app.app_context():
        assert db.session.scalar(select(func.count(Customer.id))) == 1
        assert [m.email_type for m in db.session.scalars(select(EmailMessage))] == [
            "guest_checkout_code"]  # no enrol email for Jane, nothing else


def test_an_unknown_address_makes_a_customer_offered_to_enrol_only_once_it_buys(app, portal,
                                                                               smtp):
    """The offer to set up an account waits for a paid order (`order.paid`, tested in
    test_guest_checkout): an address proven and left gets nothing more."""
    p = portal()
    proven = _prove(app, smtp, p.merchant_id, "gus@example.test")
    with app.test_request_context("/"):
        customer, created = email_proof.customer_for_proven_email(
            _merchant(p.merchant_id), proven, " Gus ", "Guest")
        db.session.commit()
        assert created and customer.primary_emails == ["gus@example.test"]
        assert (customer.first_name, customer.last_name) == ("Gus", "Guest")
        customer_id = customer.id
    with app.test_request_context("/"):
        again, created = email_proof.customer_for_proven_email(
            _merchant(p.merchant_id), proven, "Gus", "Guest")
        assert (again.id, created) == (customer_id, False)  # twice: one customer
    with app.app_context():
        names = [e.name for e in db.session.scalars(select(DomainEvent)
                                                   .order_by(DomainEvent.id))]
        assert names[-1] == "customer.created"
        assert db.session.scalar(select(func.count(CustomerEmail.id)).where(
            CustomerEmail.address == "gus@example.test")) == 1
        queue.run_due()
    assert smtp.messages == []


def test_a_new_customers_names_are_checked(app, portal, smtp):
    p = portal()
    proven = _prove(app, smtp, p.merchant_id, "gus@example.test")
    with app.test_request_context("/"), pytest.raises(DomainError) as caught:
        email_proof.customer_for_proven_email(_merchant(p.merchant_id), proven, "G", "")
    assert set(caught.value.errors) == {"first_name", "last_name"}


def test_an_invalid_address_is_refused_next_to_its_field(app, portal):
    p = portal()
    with app.test_request_context("/"), pytest.raises(DomainError) as caught:
        email_proof.send_code(_merchant(p.merchant_id), "not an address", "10.0.0.1")
    assert caught.value.field == "email" and "not a valid email address" in caught.value.message


def test_the_code_is_never_logged(app, portal, smtp, caplog):
    p = portal()
    caplog.set_level("DEBUG")
    proof_id = _send(app, p.merchant_id)
    code, _ = _delivered_code(app, smtp)
    _verify(app, p.merchant_id, proof_id, f"{(int(code) + 1) % 1_000_000:06d}")
    _verify(app, p.merchant_id, proof_id, code)
    ours = [r.getMessage() for r in caplog.records if r.name != "mail.log"]  # not the sink's
    assert not any(code in line for line in ours)


def test_a_wrong_try_counts_in_a_request_that_has_written(app, portal, smtp):
    """Then it is written in the request's own transaction (SQLite would wait on its own lock),
    kept when the request commits."""
    p = portal()
    proof_id = _send(app, p.merchant_id)
    code, _ = _delivered_code(app, smtp)
    with app.test_request_context("/"):
        merchant = _merchant(p.merchant_id)
        merchant.name = "Acme Two"
        db.session.flush()
        with pytest.raises(DomainError, match="4 tries left"):
            email_proof.verify(merchant, proof_id, f"{(int(code) + 1) % 1_000_000:06d}")
        db.session.commit()
    with app.app_context():
        assert db.session.get(EmailProof, proof_id).attempts == 1
