"""Delivering queued email over SMTP, as the "email" job kind (#19).

Replies. Each step of a message (MAIL FROM, RCPT TO, DATA) is judged by the server's reply: a
4xx is temporary (greylisting, a full mailbox, a busy server) and the job is retried with
backoff; a 5xx is permanent and the message fails at once, with the server's own reply as the
reason. Not reaching or not being let in by the server (refused connection, timeout, a refused
greeting, STARTTLS or login) is temporary: the message itself was not refused. Anything else
going wrong with one message (a line break in a header, a text that cannot be encoded) fails that
message with its reason; the worker and the other messages go on.

Batches. The worker that runs an email job sends its message, then takes further due email jobs
of the same merchant (`queue.claim_batch`: claimed like any job, so two workers never take one)
a chunk at a time and sends them over the same SMTP connection, reconnecting once when the server
has dropped it between messages. A chunk's jobs share one lease, renewed by the chunk's own
heartbeat (`queue.BatchHeartbeat`) while the server answers, however slowly: no other worker
takes one over meanwhile, and sending stops if the lease is ever lost. No chunk is claimed
after `BATCH_SECONDS`; when the server cannot be reached the batch stops.

Accepted means sent, once. As soon as the server has accepted a message (its 250 after DATA) the
message is recorded as sent, with its job when that is one of the batch's, in a transaction of
its own on a fresh database connection, retried a few times. Whatever fails after that (the line
dropping before the reply to QUIT, the worker's database connection terminated before the job's
own transaction commits) the message is not sent again: a later run of its job finds it sent and
only finishes the job. One window is left: a worker killed between the server's acceptance and
that record (or a database unreachable for every try) leaves the job to be taken over after its
lease, and the message is sent again with the same Message-ID, which receivers use to drop the
duplicate. A message marked sent is never sent again.

Secrets. The same record replaces the message's secrets (`EmailMessage.secret_values`: a
temporary password, a link carrying a raw token) by "••••" in the stored subject and texts and
clears the list: once sent, the secret exists only in the recipient's mailbox.

Handlers do not commit (`jobs.queue`); this one is the documented exception: besides the fresh
transactions above, `queue.claim_batch` and `queue.fail_claimed` commit the worker's session,
which holds no change of this handler's own at that point.
"""
import logging
import smtplib
import time
from contextlib import suppress

from flask import current_app
from flask_mail import Message, sanitize_address
from sqlalchemy import null, select, update
from sqlalchemy.exc import DBAPIError

from ..core.database import utcnow
from ..core.extensions import db
from ..jobs import queue
from ..jobs.models import DONE, RUNNING, Job
from ..jobs.queue import PermanentError, RetryLater, handler, on_failure
from ..tenancy.models import Merchant
from .models import FAILED, KEPT, SENT, EmailMessage, mask
from .outbox import JOB_KIND

log = logging.getLogger(__name__)

BATCH_CHUNK = 20  # jobs claimed at a time
BATCH_SECONDS = 60.0  # no further chunk after this: other merchants' mail gets its turn
RECORD_TRIES = 6  # recording an accepted message: tries 0.1 s doubling to 1.6 s apart


class Unreachable(RetryLater):
    """The mail server could not be reached or refused the session: the batch stops."""


@handler(JOB_KIND)
def deliver(job) -> None:
    message = db.session.get(EmailMessage, job.payload["email_message_id"])
    if message is None or message.status in (SENT, KEPT):
        return
    if not current_app.config.get("MAIL_SERVER"):
        message.attempts = job.attempts
        message.status = KEPT  # nothing is dropped: readable in the admin's delivery log
        return
    now = utcnow()
    sender = _sender(db.session.get(Merchant, message.merchant_id))
    with SmtpConnection(current_app.extensions["mail"]) as smtp:
        _send(smtp, message, sender)  # a refusal raises: run_one records it
        if not record_sent(message, job.attempts, now):
            # the database is unreachable: the job's own transaction is the last chance
            message.status, message.sent_at, message.last_error = SENT, utcnow(), ""
            message.attempts = job.attempts
            return
        try:
            job.batched = _send_batch(smtp, message.merchant_id, sender)
        except Exception:  # a batch's trouble is never this job's: it was sent and recorded
            log.exception("email: the batch after job %s stopped", job.id)
            db.session.rollback()  # run_one finishes this job on a sound connection


def _send_batch(smtp: "SmtpConnection", merchant_id: int, sender) -> int:
    """Send the merchant's further due emails over `smtp`; returns how many jobs ran."""
    started, ran = time.monotonic(), 0
    budget = BATCH_SECONDS  # each chunk's leases are renewed by its heartbeat
    while time.monotonic() - started < budget:
        now = utcnow()
        claimed = queue.claim_batch(JOB_KIND, merchant_id=merchant_id, limit=BATCH_CHUNK,
                                    now=now)
        if not claimed:
            break
        ids = [c.payload.get("email_message_id") for c in claimed]
        messages = {m.id: m for m in db.session.scalars(
            select(EmailMessage).where(EmailMessage.id.in_(ids)))}
        for message in messages.values():
            db.session.expunge(message)  # read once: a failure's rollback does not expire it
        beat = queue.BatchHeartbeat([c.id for c in claimed], claimed[0].lease_until,
                                    now).start()
        try:
            ran, stop, lost = _send_chunk(smtp, claimed, messages, sender, beat, now, ran)
        finally:
            beat.stop()
            beat.join()
        if lost:
            return ran  # the database is unreachable or the lease gone: taken over later
        if stop is not None:
            break
    return ran


def _send_chunk(smtp, claimed, messages, sender, beat, now, ran):
    """One chunk of a batch, kept alive by its heartbeat: each job is finished or failed fenced
    by the leases the heartbeat may have set, and sending stops once they are lost (another
    worker may own the jobs then). Returns (jobs run, the server's unreachability, stopped)."""
    stop: Exception | None = None
    for job in claimed:
        leases = beat.current()
        if not leases:
            return ran, stop, True
        ran += 1
        message = messages.get(job.payload.get("email_message_id"))
        if stop is not None:  # the server is unreachable: the rest wait their backoff
            queue.fail_claimed(job.id, leases, stop, now)
            continue
        if message is None or message.status in (SENT, KEPT):
            _finish(job, now, leases)
            continue
        try:
            _send(smtp, message, sender)
        except RetryLater as exc:
            queue.fail_claimed(job.id, leases, exc, now)
            if isinstance(exc, Unreachable):
                stop = exc
            continue
        except PermanentError as exc:
            queue.fail_claimed(job.id, leases, exc, now)
            continue
        if not record_sent(message, job.attempts, now, job=job, leases=beat.current()):
            return ran, stop, True  # the database is unreachable: taken over later
    return ran, stop, False


def _send(smtp: "SmtpConnection", message: EmailMessage, sender) -> None:
    """Hand one message to the server; returns once accepted, else raises RetryLater or
    PermanentError with the reason."""
    try:
        outgoing = Message(subject=message.subject, recipients=[message.to_address],
                           body=message.text_body, html=message.html_body, sender=sender,
                           reply_to=message.reply_to or None)
        outgoing.msgId = message.message_id
        if outgoing.has_bad_headers():
            raise PermanentError("a line break in the subject, the sender's name or the "
                                 "Reply-To address: the message cannot be sent as it is")
        outgoing.date = time.time()
        envelope = (sanitize_address(sender), sanitize_address(message.to_address),
                    outgoing.as_bytes())
    except PermanentError:
        raise
    except Exception as exc:
        raise PermanentError(f"the message could not be built: {_describe(exc)}") from exc
    try:
        smtp.send(*envelope)
    except (RetryLater, PermanentError):
        raise
    except Exception as exc:  # e.g. an address smtplib cannot encode: this message only
        raise PermanentError(f"the message could not be sent: {_describe(exc)}") from exc


def record_sent(message: EmailMessage, attempts: int, now, *, job=None,
                leases: list | None = None) -> bool:
    """Record an accepted message as sent (its secrets masked), with its batch job when given,
    in a transaction of its own on a fresh connection; False when every try failed."""
    values = {"status": SENT, "sent_at": utcnow(), "last_error": "", "attempts": attempts}
    if message.secret_values:
        values.update(subject=mask(message.subject, message.secret_values),
                      text_body=mask(message.text_body, message.secret_values),
                      html_body=mask(message.html_body, message.secret_values),
                      secret_values=null())
    for attempt in range(RECORD_TRIES):
        try:
            with db.engine.begin() as conn:
                conn.execute(update(EmailMessage).where(EmailMessage.id == message.id)
                             .values(values))
                if job is not None:
                    conn.execute(_done(job, now, leases))
            return True
        except DBAPIError:
            log.warning("email %s: accepted, recording it failed (try %s)", message.id,
                        attempt + 1, exc_info=True)
            if attempt + 1 < RECORD_TRIES:
                time.sleep(0.1 * 2 ** attempt)
    log.error("email %s: accepted by the server but not recorded as sent", message.id)
    return False


def _finish(job, now, leases: list) -> None:
    """A batch job with nothing to send (its message was sent already, or is gone)."""
    with db.engine.begin() as conn:
        conn.execute(_done(job, now, leases))


def _done(job, now, leases: list | None = None):
    """Fenced like run_one's: only while this worker still holds the job's lease (one its
    batch heartbeat set)."""
    return (update(Job).where(Job.id == job.id, Job.status == RUNNING,
                              Job.lease_until.in_(leases or [job.lease_until]))
            .values(status=DONE, finished_at=now, lease_until=None, last_error=""))


def _sender(merchant):
    """From: the merchant's name on the configured sending address."""
    address = current_app.config["MAIL_DEFAULT_SENDER"]
    return (merchant.name, address) if merchant else address


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc.smtp_code, exc.smtp_error)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _reply(code: int, text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(str(text).split())}"


class SmtpConnection:
    """One SMTP connection for a run's messages (Flask-Mail's settings): opened when first
    needed, opened again once when the server has dropped it between messages. Leaving says
    QUIT without waiting on the answer for anything: every accepted message is recorded."""

    def __init__(self, state):
        self.state, self.host = state, None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self.host is not None:
            # the line may drop before the reply to QUIT: every accepted message is recorded
            with suppress(OSError, smtplib.SMTPException):
                self.host.quit()
            self.close()

    def close(self) -> None:
        if self.host is not None:
            with suppress(OSError):
                self.host.close()
            self.host = None

    def _open(self) -> smtplib.SMTP:
        state = self.state
        host = None
        try:
            host = (smtplib.SMTP_SSL if state.use_ssl else smtplib.SMTP)()
            host.connect(state.server, state.port)
            host.ehlo()
            if state.use_tls:
                host.starttls()
                host.ehlo()
            if state.username and state.password:
                host.login(state.username, state.password)
        except (OSError, smtplib.SMTPException) as exc:
            if host is not None:
                host.close()
            raise Unreachable(f"mail server unavailable: {_describe(exc)}") from exc
        return host

    def send(self, sender: str, recipient: str, data: bytes) -> None:
        """MAIL FROM, RCPT TO, DATA; returns when the server accepted the message."""
        if self.state.suppress:  # MAIL_SUPPRESS_SEND (TESTING): Flask-Mail sends nothing
            return
        reused = self.host is not None
        if not reused:
            self.host = self._open()
        try:
            code, reply = self.host.mail(sender)
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            if not reused:
                raise RetryLater(f"mail server unavailable: {_describe(exc)}") from exc
            code = None
        if reused and code in (None, 421):  # the server closed the idle connection: again
            self.close()
            self.host = self._open()
            code, reply = self._step("MAIL FROM", lambda: self.host.mail(sender))
        self._judge("MAIL FROM", code, reply)
        self._judge("RCPT TO", *self._step("RCPT TO", lambda: self.host.rcpt(recipient)))
        self._judge("DATA", *self._step("DATA", lambda: self.host.data(data)))

    def _step(self, step: str, call) -> tuple[int, bytes]:
        try:
            return call()
        except smtplib.SMTPResponseException as exc:  # DATA refused before the content
            return exc.smtp_code, exc.smtp_error
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise RetryLater(f"the connection to the mail server failed at {step}: "
                             f"{_describe(exc)}") from exc
        except Exception:
            self.close()  # in an unknown state: the next message starts a new connection
            raise

    def _judge(self, step: str, code: int, reply) -> None:
        if code == 250 or (step == "RCPT TO" and code == 251):
            return
        if code == 421:
            self.close()  # the server is closing the connection
        elif self.host is not None:
            try:
                self.host.rset()
            except (OSError, smtplib.SMTPException):
                self.close()
        answer = _reply(code, reply)
        if 500 <= code < 600:
            raise PermanentError(f"the mail server refused the message at {step}: {answer}")
        raise RetryLater(f"the mail server deferred the message at {step}: {answer}")


@on_failure(JOB_KIND)
def record_failure(job) -> None:
    message = db.session.get(EmailMessage, job.payload.get("email_message_id"))
    if message is None:
        return
    message.attempts = job.attempts
    message.last_error = job.last_error
    if job.status == "failed":
        message.status = FAILED
