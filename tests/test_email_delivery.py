"""Email delivery against a fault-injecting SMTP server (issue #19): what a reply at each step
means, a message accepted is never sent again, batches over one connection, secrets masked."""
import os
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from tests.conftest import widget_login
from widget_server.core.database import utcnow
from widget_server.core.extensions import db
from widget_server.customers import enrolment, portal_access
from widget_server.customers.models import Customer
from widget_server.jobs import queue
from widget_server.jobs.models import Job
from widget_server.notifications.models import EmailMessage
from widget_server.notifications.outbox import Rendered, queue_email
from widget_server.tenancy.models import Merchant

CONTENT = Rendered("Your invoice INV-1", "Hello Jane,\nyour invoice is ready.",
                   "<p>Hello Jane,</p><p>your invoice is ready.</p>")


class FaultySmtp:
    """aiosmtpd that answers by the recipient's local part: `rcpt4xx-…` 451 and `rcpt5xx-…`
    550 at RCPT, `data4xx-…` 452 and `data5xx-…` 554 at DATA, `quitdrop-…` accepted but the
    line drops on the QUIT that follows, `dropafter-…` accepted and the connection closed after
    the reply. Keeps what it accepted, every verdict, and the number of connections."""

    def __init__(self, port: int):
        from aiosmtpd.controller import Controller

        self.port, self.messages, self.verdicts, self.connections = port, [], [], 0
        self.slow_seconds = 0.0  # how late `slow-…` recipients are answered
        self.on_accept = None  # a callable run before a message's 250 (the test's fault)
        sink = self

        class Handler:
            async def handle_EHLO(self, server, session, envelope, hostname, responses):
                sink.connections += 1
                session.host_name = hostname
                return responses

            async def handle_RCPT(self, server, session, envelope, address, options):
                local = address.split("@")[0]
                verdict = ("451 4.2.1 try later" if local.startswith("rcpt4xx") else
                           "550 5.1.1 no such user" if local.startswith("rcpt5xx") else None)
                if verdict:
                    sink.verdicts.append((address, verdict))
                    return verdict
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                from email import message_from_bytes, policy

                local = envelope.rcpt_tos[0].split("@")[0]
                if local.startswith("data4xx"):
                    verdict = "452 4.3.1 insufficient system storage"
                elif local.startswith("data5xx"):
                    verdict = "554 5.7.1 message refused as spam"
                else:
                    if local.startswith("slow"):  # accepted, but answered late
                        import asyncio

                        await asyncio.sleep(sink.slow_seconds)
                    if sink.on_accept:
                        sink.on_accept()
                    sink.messages.append((envelope.rcpt_tos, message_from_bytes(
                        envelope.content, policy=policy.default)))
                    verdict = "250 OK"
                    if local.startswith("quitdrop"):
                        session.quitdrop = True
                    if local.startswith("dropafter"):
                        import asyncio

                        asyncio.get_running_loop().call_soon(server.transport.close)
                sink.verdicts.append((envelope.rcpt_tos[0], verdict))
                return verdict

            async def handle_QUIT(self, server, session, envelope):
                if getattr(session, "quitdrop", False):
                    server.transport.abort()  # accepted, and the line drops before the reply
                return "221 Bye"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def received(self, address: str) -> int:
        return sum(1 for rcpt, _ in self.messages if rcpt == [address])


@pytest.fixture
def faulty(smtp_port):
    server = FaultySmtp(smtp_port).start()
    yield server
    server.stop()


@pytest.fixture
def merchant_id(make_merchant):
    return make_merchant("acme")[0]


def _queue(merchant_id, addresses, content=CONTENT):
    merchant = db.session.get(Merchant, merchant_id)
    ids = []
    for address in addresses:  # one call each: one message and one job per address, in order
        [message] = queue_email(merchant, "invoice_issued", [address], content)
        ids.append(message.id)
    db.session.commit()
    return ids


def _message(message_id) -> EmailMessage:
    db.session.expire_all()
    return db.session.get(EmailMessage, message_id)


def _job(message_id) -> Job:
    return db.session.get(Job, _message(message_id).job_id, populate_existing=True)


# --- 1, 2: what a reply means, at every step ---------------------------------------------------

def test_greylisting_451_at_rcpt_is_retried_later(ctx, merchant_id, faulty):
    [message_id] = _queue(merchant_id, ["rcpt4xx-jane@example.test"])
    now = utcnow()
    job = queue.run_one(now)
    assert (job.status, job.attempts) == ("queued", 1)
    assert job.run_at == now + timedelta(seconds=30)
    message = _message(message_id)
    assert message.status == "queued"
    assert "451 4.2.1 try later" in message.last_error


@pytest.mark.parametrize("local, step, reply", [
    ("rcpt5xx", "RCPT TO", "550 5.1.1 no such user"),
    ("data5xx", "DATA", "554 5.7.1 message refused as spam"),
])
def test_a_permanent_answer_fails_at_once_with_the_servers_reply(ctx, merchant_id, faulty,
                                                                 local, step, reply):
    [message_id] = _queue(merchant_id, [f"{local}-jane@example.test"])
    job = queue.run_one(utcnow())
    assert (job.status, job.attempts) == ("failed", 1)
    message = _message(message_id)
    assert message.status == "failed"
    assert reply in message.last_error and step in message.last_error
    assert "unavailable" not in message.last_error
    assert queue.run_due(utcnow() + timedelta(hours=3)) == 0  # never tried again


def test_a_temporary_answer_at_data_is_retried(ctx, merchant_id, faulty):
    [message_id] = _queue(merchant_id, ["data4xx-jane@example.test"])
    job = queue.run_one(utcnow())
    assert (job.status, job.attempts) == ("queued", 1)
    assert "452 4.3.1" in _message(message_id).last_error


# --- 3: accepted means sent, once --------------------------------------------------------------

def test_line_dropping_before_the_quit_reply_still_counts_as_sent(ctx, merchant_id, faulty):
    [message_id] = _queue(merchant_id, ["quitdrop-jane@example.test"])
    job = queue.run_one(utcnow())
    assert job.status == "done"
    message = _message(message_id)
    assert message.status == "sent" and message.last_error == ""
    assert queue.run_due(utcnow() + timedelta(hours=3)) == 0
    assert faulty.received("quitdrop-jane@example.test") == 1


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                    reason="terminates the worker's PostgreSQL connections")
def test_worker_connection_terminated_after_acceptance_does_not_send_again(app, ctx,
                                                                           merchant_id, faulty):
    [message_id] = _queue(merchant_id, ["jane@example.test"])
    killer = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)

    def terminate_the_workers_connections():
        with killer.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                              "datname = current_database() AND pid <> pg_backend_pid()"))

    faulty.on_accept = terminate_the_workers_connections
    now = utcnow()
    try:
        queue.run_one(now)  # the job's own transaction may die with its connection
    except DBAPIError:
        db.session.rollback()
    faulty.on_accept = None
    db.session.remove()
    killer.dispose()
    assert _message(message_id).status == "sent"  # recorded on a fresh connection at once
    queue.run_due(now + queue.LEASE + timedelta(seconds=1))  # a job left running is taken over
    assert _job(message_id).status == "done"
    assert faulty.received("jane@example.test") == 1  # and the message is not sent again


# --- 6: batches over one connection ------------------------------------------------------------

def test_a_worker_sends_a_batch_over_one_connection_with_few_statements(
        ctx, merchant_id, faulty, count_queries):
    ids = _queue(merchant_id, [f"c{n}@example.test" for n in range(12)])
    with count_queries() as counter:
        assert queue.run_due() == 12
    assert len(faulty.messages) == 12 and faulty.connections == 1
    assert all(_message(i).status == "sent" for i in ids)
    assert all(_job(i).status == "done" for i in ids)
    # 36 on SQLite, 38 on PostgreSQL; it was 9-10 a message (108-120), and 12 connections
    assert counter.count <= 2 * 12 + 16, counter.count


def test_a_batch_keeps_its_leases_while_the_server_is_slow(app, ctx, merchant_id, faulty,
                                                            monkeypatch):
    """The soak of #19: jobs a batch took had no heartbeat, so an answer slower than the lease
    let another worker take a job over and send it again while the first still waited."""
    import threading

    monkeypatch.setitem(app.config, "JOB_LEASE_SECONDS", 1.2)
    faulty.slow_seconds = 2.0
    addresses = ["first@example.test", "slow-a@example.test", "slow-b@example.test"]
    _queue(merchant_id, addresses)
    done = threading.Event()

    def batch_worker():
        with app.app_context():
            queue.run_one()  # the first message, then the two slow ones as its batch
        done.set()

    def other_worker():
        with app.app_context():
            while not done.wait(0.3):
                queue.run_one()  # takes over any job whose lease ran out

    threads = [threading.Thread(target=batch_worker), threading.Thread(target=other_worker)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(r[0] for r, _ in faulty.messages) == sorted(addresses)  # each once


def test_a_batch_reconnects_when_the_server_drops_the_connection(ctx, merchant_id, faulty):
    addresses = ["a@example.test", "dropafter-b@example.test", "c@example.test",
                 "dropafter-d@example.test", "e@example.test"]
    ids = _queue(merchant_id, addresses)
    assert queue.run_due() == 5
    assert all(_message(i).status == "sent" for i in ids)
    assert sorted(r[0] for r, _ in faulty.messages) == sorted(addresses)
    assert faulty.connections == 3


def test_each_message_of_a_batch_gets_its_own_outcome(ctx, merchant_id, faulty):
    addresses = ["a@example.test", "rcpt4xx-b@example.test", "rcpt5xx-c@example.test",
                 "data5xx-d@example.test", "e@example.test"]
    ids = dict(zip(addresses, _queue(merchant_id, addresses), strict=True))
    now = utcnow()
    assert queue.run_due(now) == 5
    status = {a: (_message(i).status, _job(i).status) for a, i in ids.items()}
    assert status == {"a@example.test": ("sent", "done"),
                      "rcpt4xx-b@example.test": ("queued", "queued"),
                      "rcpt5xx-c@example.test": ("failed", "failed"),
                      "data5xx-d@example.test": ("failed", "failed"),
                      "e@example.test": ("sent", "done")}
    retry_at = _job(ids["rcpt4xx-b@example.test"]).run_at - now
    assert timedelta(seconds=30) <= retry_at < timedelta(seconds=40)
    assert "554 5.7.1" in _message(ids["data5xx-d@example.test"]).last_error
    assert faulty.connections == 1


def test_concurrent_workers_batch_without_sending_a_message_twice(app, ctx, merchant_id,
                                                                  faulty):
    ids = _queue(merchant_id, [f"c{n}@example.test" for n in range(60)])
    barrier, errors, ran = threading.Barrier(3), [], []

    def worker():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                ran.append(queue.run_due())
                db.session.remove()
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sum(ran) == 60
    assert sorted(r[0] for r, _ in faulty.messages) == sorted(
        f"c{n}@example.test" for n in range(60))  # each once
    assert all(_message(i).status == "sent" for i in ids)


# --- 11: an unexpected error fails that message, not the queue ----------------------------------

@pytest.mark.parametrize("bad", [0, 1])
def test_a_header_error_fails_that_message_only(ctx, merchant_id, faulty, bad):
    ids = _queue(merchant_id, ["a@example.test", "b@example.test", "c@example.test"])
    db.session.execute(update(EmailMessage).where(EmailMessage.id == ids[bad])
                       .values(subject="Hello\r\nBcc: everyone@example.test"))
    db.session.commit()
    assert queue.run_due() == 3
    message = _message(ids[bad])
    assert message.status == "failed" and "line break" in message.last_error
    assert _job(ids[bad]).attempts == 1
    assert sorted(_message(i).status for i in ids) == ["failed", "sent", "sent"]


def test_a_line_break_in_the_merchant_name_fails_its_messages_with_the_reason(
        app, ctx, merchant_id, faulty):
    db.session.get(Merchant, merchant_id).name = "Acme\r\nBcc: everyone@example.test"
    [message_id] = _queue(merchant_id, ["a@example.test"])
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    message = _message(message_id)
    assert message.status == "failed" and "line break" in message.last_error
    assert faulty.messages == []


# --- 7: secrets live only until the message is sent --------------------------------------------

SECRET_TEXT = ("temporary password is", "/credentials/", "/reset/")


def _secrets_in(text_: str) -> list[str]:
    found = re.findall(r"temporary password is (\S+)", text_)
    found += re.findall(r"/(?:credentials|reset)/([A-Za-z0-9_-]{20,})", text_)
    return found


@pytest.mark.parametrize("page_url", ["", "https://shop.example.test/account?a=1&b=2"])
def test_secrets_are_masked_once_sent_and_never_shown(app, portal, faulty, browser_like,
                                                      page_url):
    p = portal(config={"embedding": {"portal_page_url": page_url}} if page_url else None)
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        customer = db.session.get(Customer, p.customer_id)
        assert enrolment.send_reset(merchant, customer)
        db.session.commit()
        assert portal_access.send_temporary_password(merchant, customer)
        db.session.commit()
        ids = db.session.scalars(select(EmailMessage.id).order_by(EmailMessage.id)).all()
        queued = {i: db.session.get(EmailMessage, i) for i in ids}
        secrets = {i: _secrets_in(m.text_body) for i, m in queued.items()}
        assert all(len(found) == 1 for found in secrets.values()), secrets

    browser_like.login("owner@acme.test", "owner-pass-123")
    for message_id, [secret] in secrets.items():  # queued: the log shows it masked already
        for url in (f"/admin/emails/{message_id}", f"/admin/emails/{message_id}/html"):
            page = browser_like.client.get(url).get_data(as_text=True)
            assert secret not in page and "••••" in page

    with app.app_context():
        assert queue.run_due() == len(ids)
        received = "\n".join(m.get_body(("plain",)).get_content() + m.get_body(
            ("html",)).get_content() for _, m in faulty.messages)
        for message_id, [secret] in secrets.items():
            assert secret in received  # the recipient got the real thing
            message = _message(message_id)
            assert message.status == "sent" and message.secret_values is None
            stored = message.subject + message.text_body + message.html_body
            assert secret not in stored and "••••" in message.text_body
        rows = db.session.scalars(select(EmailMessage.html_body)).all()
        assert not any(s in row for row in rows for [s] in secrets.values())

    for message_id in secrets:
        assert "••••" in browser_like.client.get(f"/admin/emails/{message_id}").get_data(
            as_text=True)
    # the temporary password still works: masking the record changed nothing else
    [temporary] = next(s for i, s in secrets.items()
                       if queued[i].email_type == "temporary_password")
    assert widget_login(app.test_client(), p.base, p.username, temporary).status_code == 302


def test_without_a_mail_server_kept_messages_keep_their_secret_for_a_later_send(
        app, portal, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    p = portal()
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        assert portal_access.send_temporary_password(merchant, db.session.get(Customer,
                                                                               p.customer_id))
        db.session.commit()
        assert queue.run_due() == 2
        messages = db.session.scalars(select(EmailMessage)).all()
        assert {m.status for m in messages} == {"kept"}
        for message in messages:
            [secret] = _secrets_in(message.text_body)  # not sent: still sendable
            assert message.secret_values and secret not in message.shown_text
        assert db.session.scalar(select(func.count(Job.id)).where(Job.status == "done")) == 2
