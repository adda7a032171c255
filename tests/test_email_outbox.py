"""The durable outbox and worker (N-1…N-3, C-2) against a real SMTP server (aiosmtpd)."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import SmtpSink
from widget_server.core.database import utcnow
from widget_server.core.extensions import db
from widget_server.jobs import queue
from widget_server.jobs.models import Job
from widget_server.notifications.models import EmailMessage
from widget_server.notifications.outbox import Rendered, queue_email
from widget_server.tenancy.models import Merchant

CONTENT = Rendered("Your invoice INV-1", "Hello Jane,\nyour invoice is ready.",
                   "<p>Hello Jane,</p><p>your invoice is ready.</p>")


@pytest.fixture
def merchant_id(make_merchant):
    return make_merchant("acme")[0]


def _queue(merchant_id, addresses=("jane@example.test", "ap@example.test"),
           email_type="invoice_issued"):
    merchant = db.session.get(Merchant, merchant_id)
    messages = queue_email(merchant, email_type, list(addresses), CONTENT)
    db.session.commit()
    return [m.id for m in messages]


def _message(message_id):
    db.session.expire_all()
    return db.session.get(EmailMessage, message_id)


def test_each_primary_address_gets_its_own_message(ctx, merchant_id, smtp):
    ids = _queue(merchant_id)
    assert queue.run_due() == 2
    assert sorted(rcpt for rcpt, _ in smtp.messages) == [["ap@example.test"],
                                                         ["jane@example.test"]]
    rcpt, received = smtp.messages[0]
    assert received["Subject"] == "Your invoice INV-1"
    assert received.get_body(("plain",)).get_content().startswith("Hello Jane,")
    assert "<p>Hello Jane,</p>" in received.get_body(("html",)).get_content()
    stored = {_message(i).to_address: _message(i) for i in ids}
    assert stored[rcpt[0]].message_id == received["Message-ID"]
    assert all(m.status == "sent" and m.sent_at for m in stored.values())
    assert queue.run_due() == 0  # nothing is sent twice


def test_smtp_down_is_retried_and_delivered_once_back(ctx, merchant_id, smtp_port):
    [message_id] = _queue(merchant_id, ["jane@example.test"])
    now = utcnow()
    job = queue.run_one(now)
    assert job.status == "queued" and job.attempts == 1
    assert job.run_at == now + timedelta(seconds=30)
    message = _message(message_id)
    assert message.status == "queued" and "mail server unavailable" in message.last_error
    assert queue.run_one(now + timedelta(seconds=10)) is None  # backing off
    sink = SmtpSink(smtp_port).start()
    try:
        assert queue.run_due(now + timedelta(seconds=31)) == 1
        assert queue.run_due(now + timedelta(hours=1)) == 0
    finally:
        sink.stop()
    assert [rcpt for rcpt, _ in sink.messages] == [["jane@example.test"]]
    assert _message(message_id).status == "sent"


def test_job_of_a_dead_worker_is_taken_over_after_its_lease(ctx, merchant_id, smtp):
    [message_id] = _queue(merchant_id, ["jane@example.test"])
    now = utcnow()
    claimed = queue.claim(now)  # this worker "dies" here, before sending
    assert claimed is not None and claimed.status == "running"
    assert queue.run_due(now + timedelta(minutes=1)) == 0  # the lease still holds
    assert queue.run_due(now + queue.LEASE + timedelta(seconds=1)) == 1
    assert len(smtp.messages) == 1
    job = db.session.get(Job, claimed.id, populate_existing=True)
    assert (job.status, job.attempts) == ("done", 2)
    assert _message(message_id).status == "sent"


def test_failing_job_gives_up_after_max_attempts_with_the_reason(ctx, merchant_id, smtp_port):
    [message_id] = _queue(merchant_id, ["jane@example.test"])
    db.session.execute(Job.__table__.update().values(max_attempts=3))
    db.session.commit()
    now = utcnow()
    for minutes in (0, 10, 20):
        queue.run_due(now + timedelta(minutes=minutes))
    message = _message(message_id)
    assert message.status == "failed" and message.attempts == 3
    assert "mail server unavailable" in message.last_error
    assert db.session.scalar(select(Job.status)) == "failed"


def test_without_a_mail_server_messages_are_kept_not_dropped(ctx, app, merchant_id,
                                                             monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    [message_id] = _queue(merchant_id, ["jane@example.test"])
    assert queue.run_due() == 1
    message = _message(message_id)
    assert message.status == "kept" and message.html_body == CONTENT.html


def test_switched_off_type_is_not_queued(ctx, merchant_id):
    merchant = db.session.get(Merchant, merchant_id)
    merchant.config = {"notifications": {"invoice_issued": False}}
    db.session.commit()
    assert _queue(merchant_id) == []
    assert db.session.scalar(select(func.count(Job.id))) == 0
    assert _queue(merchant_id, email_type="payment_receipt") != []


def test_emails_roll_back_with_the_change_that_caused_them(ctx, merchant_id):
    merchant = db.session.get(Merchant, merchant_id)
    queue_email(merchant, "invoice_issued", ["jane@example.test"], CONTENT)
    db.session.rollback()
    assert db.session.scalar(select(func.count(EmailMessage.id))) == 0
    assert db.session.scalar(select(func.count(Job.id))) == 0


RAN: list[int] = []
RAN_LOCK = threading.Lock()


@queue.handler("test.record")
def _record(job):
    with RAN_LOCK:
        RAN.append(job.payload["n"])


def test_concurrent_workers_never_run_the_same_job(app, ctx):
    """Two workers, started together; a second job kind through the same worker."""
    RAN.clear()
    for n in range(40):
        queue.enqueue("test.record", {"n": n})
    db.session.commit()
    barrier = threading.Barrier(2)
    errors = []

    def worker():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                while queue.run_one() is not None:
                    pass
                db.session.remove()
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(RAN) == list(range(40))  # every job once, none twice
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Job.id)).where(Job.status == "done")) == 40


def test_unknown_job_kind_fails_at_once_with_the_reason(ctx):
    queue.enqueue("no.such.kind", {})
    db.session.commit()
    job = queue.run_one()
    assert job.status == "failed" and "no handler" in job.last_error


def test_worker_command_runs_due_jobs(app, ctx, merchant_id, smtp):
    _queue(merchant_id, ["jane@example.test"])
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "1 job(s) run" in result.output
    assert len(smtp.messages) == 1
