"""Idempotency keys on the API's creating POSTs (A-3, issue #25 item 4), Stripe's semantics.

A POST with `Idempotency-Key: <key>` first claims (merchant, key) in a transaction of its own,
committed before the work starts, so a concurrent duplicate finds the claim and gets 409
(`idempotency_key_in_use`) instead of doing the work twice: the unique constraint on
(merchant_id, key) makes one of two simultaneous claims fail, on SQLite and PostgreSQL alike.
The answer (status, body) is stored with the work, in the request's one commit, and for 24 hours
the same key with the same body replays it with `Idempotent-Replayed: true`; the same key with
another body is refused (422, `idempotency_key_reused`). A request that was refused before or
during its work (a validation error, a domain refusal, a crash) releases its claim, so the
client may retry it, corrected, with the same key. The daily job forgets claims after 24 hours.
"""
import hashlib
import json
import logging
from datetime import datetime, timedelta
from functools import wraps

from flask import Response, current_app, g, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..core.database import utcnow
from ..core.domain import DomainError
from ..core.extensions import db
from ..jobs.periodic import daily
from ..jobs.queue import handler
from ..tenancy.idempotency_keys import IdempotencyKey

LIFETIME = timedelta(hours=24)
HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
PURGE_JOB = "idempotency_purge"
log = logging.getLogger(__name__)


def fingerprint() -> str:
    """The request as the key must see it again: method, path and body (JSON compared by
    value, so the order of its keys does not matter)."""
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        body = raw
    return hashlib.sha256(b"%s %s\n%s" % (request.method.encode(), request.path.encode(),
                                          body)).hexdigest()


def _find(merchant_id: int, key: str) -> IdempotencyKey | None:
    return db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.merchant_id == merchant_id,
                                                          IdempotencyKey.key == key))


def in_use_error() -> DomainError:
    return DomainError("A request with this Idempotency-Key is still being processed; retry "
                       "once it has finished.", HEADER, code="idempotency_key_in_use", status=409)


def _claim(merchant_id: int, key: str, digest: str) -> IdempotencyKey | Response:
    """The claim for this request, or the stored answer to replay; raises 422/409."""
    row = _find(merchant_id, key)
    if row is not None and row.created_at <= utcnow() - LIFETIME:
        db.session.delete(row)  # expired: the key is new again
        db.session.flush()
        row = None
    if row is None:
        row = IdempotencyKey(merchant_id=merchant_id, key=key, request_hash=digest)
        db.session.add(row)
        try:
            db.session.commit()  # the claim is visible before the work starts
            return row
        except IntegrityError:  # a concurrent request claimed it first
            db.session.rollback()
            row = _find(merchant_id, key)
            if row is None:  # ... and has released it already
                raise in_use_error() from None
    if row.request_hash != digest:
        raise DomainError("This Idempotency-Key was used with another request; use a new key "
                          "for a different request.", HEADER, code="idempotency_key_reused",
                          status=422)
    if row.status_code is None:
        raise in_use_error()
    replay = Response(row.response_body, status=row.status_code, content_type=row.content_type)
    replay.headers[REPLAYED] = "true"
    if row.location:
        replay.headers["Location"] = row.location
    return replay


def _release(claim_id: int) -> None:
    """Undo the request's work and forget its claim (its own small transaction)."""
    db.session.rollback()
    db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == claim_id))
    db.session.commit()


def idempotent(view):
    """Wrap a creating POST (outermost, under the route): claim, run, store or release."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        key = key.strip()
        if not key or len(key) > 255 or not key.isprintable():
            raise DomainError("An Idempotency-Key is 1 to 255 printable characters.", HEADER,
                              code="invalid_idempotency_key", status=400)
        claim = _claim(g.api_key_merchant_id, key, fingerprint())
        if isinstance(claim, Response):
            return claim
        claim_id = claim.id
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except Exception:
            _release(claim_id)
            raise
        if response.status_code >= 500:
            _release(claim_id)
            return response
        claim = db.session.get(IdempotencyKey, claim_id)
        claim.status_code = response.status_code
        claim.content_type = response.content_type or ""
        claim.response_body = response.get_data(as_text=True)
        claim.location = (response.headers.get("Location") or "")[:500]
        db.session.flush()  # committed with the work, at the request's end
        return response

    return wrapper


def purge(now: datetime | None = None) -> int:
    """Forget the keys older than 24 hours; how many. The job commits."""
    gone = db.session.execute(delete(IdempotencyKey).where(
        IdempotencyKey.created_at < (now or utcnow()) - LIFETIME))
    return gone.rowcount or 0


@handler(PURGE_JOB)
def purge_job(job) -> None:
    log.info("idempotency purge: %s key(s) past 24 hours forgotten", purge())


daily(PURGE_JOB)
