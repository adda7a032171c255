"""Webhook endpoints and their signed deliveries (#25 item 5, A-2, Standard Webhooks 1.0).

An endpoint is an https URL (plain http for loopback hosts, as every URL setting, T-3), the
event types it wants and a `whsec_` signing secret, shown to the admin once (when made or
rotated). The server must keep the secret to sign with it, so it is stored as it is.

A domain event (`core.events`) of a wanted type enqueues one `webhook` job per endpoint in the
transaction of the change: a change rolled back sends nothing. The job builds the body (event
type, timestamp, the object's ids and public fields), signs it with the `standardwebhooks`
package (`webhook-id`, `webhook-timestamp`, `webhook-signature`), POSTs it with a 5 s timeout
and no redirects followed, and records the attempt in the delivery log (status, response code,
latency, the first kilobyte of the answer). A non-2xx answer or a network error is retried with
the queue's backoff over about three days. An endpoint failing `WEBHOOK_DISABLE_AFTER` times in a
row, or failing for three days, is disabled and the merchant's owners are emailed.

Server-side request forgery: outside development (`WEBHOOKS_ALLOW_PRIVATE`, by default on only
when PUBLIC_URL is a loopback address), a URL whose host resolves to a loopback, private,
link-local or reserved address is refused, at save and again at every delivery.
"""
import base64
import ipaddress
import json
import secrets
import socket
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from flask import current_app
from sqlalchemy import select
from standardwebhooks import Webhook

from ..core import validation
from ..core.database import utcnow
from ..core.domain import DomainError
from ..core.events import NAMES, DomainEvent, subscriber
from ..core.extensions import db
from ..jobs.models import FAILED as JOB_FAILED
from ..jobs.queue import PermanentError, RetryLater, enqueue, handler, on_failure
from .models import FAILED, PENDING, RETRYING, SUCCEEDED, WebhookDelivery, WebhookEndpoint

JOB_KIND = "webhook"
FAMILIES = ("customer.", "credentials.", "invoice.", "payment.", "order.", "proposal.")
EVENT_TYPES = tuple(sorted(name for name in NAMES if name.startswith(FAMILIES)))
TIMEOUT = 5  # seconds, to connect and to read
# 30 s, 1 min, … then every 2 h (the queue's backoff): 44 attempts span about three days
MAX_ATTEMPTS = 44
FAILING_FOR = timedelta(days=3)
EXCERPT = 1024
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def private_allowed() -> bool:
    """Development: PUBLIC_URL on a loopback host, unless WEBHOOKS_ALLOW_PRIVATE says."""
    flag = current_app.config.get("WEBHOOKS_ALLOW_PRIVATE")
    if flag is not None:
        return bool(flag)
    host = urlsplit(current_app.config["PUBLIC_URL"]).hostname or ""
    return host in LOOPBACK_NAMES


def check_url(url: str) -> str:
    """The URL if it may be called; ValueError in the admin's words otherwise."""
    url = validation.secure_url(url or "")
    if private_allowed():
        return url
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise ValueError("The URL must start with https://.")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise ValueError(f"The host {parts.hostname} could not be found.") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global or address.is_reserved or address.is_multicast:
            raise ValueError(f"The host {parts.hostname} resolves to a private, loopback, "
                             "link-local or reserved address, which webhooks may not call.")
    return url


def _clean(url: str, description: str, event_types) -> tuple[str, str, list[str]]:
    try:
        url = check_url(url)
    except ValueError as exc:
        raise DomainError(str(exc), "url") from exc
    description = " ".join((description or "").split())
    if len(description) > 200:
        raise DomainError("Use at most 200 characters.", "description")
    types = sorted(set(event_types or ()))
    if not types:
        raise DomainError("Choose at least one event type.", "event_types")
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        raise DomainError(f"Unknown event type {unknown[0]}.", "event_types")
    return url, description, types


def state(endpoint: WebhookEndpoint) -> dict:
    """What the audit log compares (the secret never: only that it changed)."""
    return {"url": endpoint.url, "description": endpoint.description,
            "event_types": list(endpoint.event_types), "enabled": endpoint.enabled}


def create_endpoint(merchant, url: str, description: str, event_types) -> WebhookEndpoint:
    url, description, types = _clean(url, description, event_types)
    endpoint = WebhookEndpoint(merchant_id=merchant.id, url=url, description=description,
                               event_types=types, secret=new_secret())
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def update_endpoint(endpoint: WebhookEndpoint, url: str, description: str, event_types,
                    enabled: bool) -> None:
    endpoint.url, endpoint.description, endpoint.event_types = _clean(url, description,
                                                                      event_types)
    if enabled and not endpoint.enabled:  # switched on again: a fresh count of failures
        endpoint.consecutive_failures, endpoint.failing_since = 0, None
        endpoint.disabled_reason = ""
    endpoint.enabled = enabled
    db.session.flush()


def rotate_secret(endpoint: WebhookEndpoint) -> str:
    endpoint.secret = new_secret()
    db.session.flush()
    return endpoint.secret


def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    db.session.delete(endpoint)
    db.session.flush()


def list_endpoints(merchant) -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).where(
        WebhookEndpoint.merchant_id == merchant.id).order_by(WebhookEndpoint.id)))


def get_endpoint(merchant, endpoint_id: int) -> WebhookEndpoint | None:
    return db.session.scalar(select(WebhookEndpoint).where(
        WebhookEndpoint.merchant_id == merchant.id, WebhookEndpoint.id == endpoint_id))


def deliveries(endpoint: WebhookEndpoint, limit: int = 50) -> list[WebhookDelivery]:
    return list(db.session.scalars(select(WebhookDelivery).where(
        WebhookDelivery.merchant_id == endpoint.merchant_id,
        WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.id.desc()).limit(limit)))


def _enqueue(delivery: WebhookDelivery) -> None:
    enqueue(JOB_KIND, {"delivery_id": delivery.id}, merchant_id=delivery.merchant_id,
            max_attempts=MAX_ATTEMPTS)


def send_again(merchant, delivery_id: int, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A new attempt series for a logged delivery, with the same `webhook-id` (receivers
    de-duplicate on it)."""
    delivery = db.session.scalar(select(WebhookDelivery).where(
        WebhookDelivery.merchant_id == merchant.id, WebhookDelivery.endpoint_id == endpoint.id,
        WebhookDelivery.id == delivery_id))
    if delivery is None:
        raise DomainError("No such delivery.", code="not_found")
    delivery.status, delivery.error = PENDING, ""
    db.session.flush()
    _enqueue(delivery)
    return delivery


def on_event(merchant, event: DomainEvent, **_transient):
    """The subscriber: one delivery (and its job) per enabled endpoint wanting the event, in
    the change's transaction. The event's transient values (a reset link, a temporary
    password) are never sent: only the stored ids and flags are."""
    made = []
    for endpoint in db.session.scalars(select(WebhookEndpoint).where(
            WebhookEndpoint.merchant_id == merchant.id, WebhookEndpoint.enabled.is_(True))):
        if event.name not in endpoint.event_types:
            continue
        delivery = WebhookDelivery(merchant_id=merchant.id, endpoint_id=endpoint.id,
                                   event_id=event.id, event_type=event.name,
                                   message_id=f"msg_{uuid.uuid4().hex}")
        db.session.add(delivery)
        db.session.flush()
        _enqueue(delivery)
        made.append(delivery)
    return made


for _name in EVENT_TYPES:
    subscriber(_name)(on_event)


# How a customer reads in a webhook: the API's own representation, which the API face registers
# when the app is made (`api.register`), so that this service imports no face.
customer_shape: Callable[[object, object], dict] | None = None


def _object_data(merchant, event: DomainEvent) -> dict:
    """The event's ids, and the object's public fields (the API's schema for a customer)."""
    data = dict(event.payload or {})
    family = event.name.split(".")[0]
    if family == "customer" and data.get("customer_id") and customer_shape is not None:
        from ..customers.models import Customer

        customer = db.session.get(Customer, data["customer_id"])
        if customer is not None and customer.merchant_id == merchant.id:
            data["customer"] = customer_shape(customer, merchant)
    elif family in ("invoice", "payment", "order", "proposal"):
        row = _row(family, data.get(f"{family}_id"), merchant)
        if row is not None:
            data[family] = {key: _plain(getattr(row, key)) for key in (
                "id", "number", "status", "currency", "total_minor", "amount_minor",
                "customer_id") if hasattr(row, key)}
    return data


def _row(family: str, row_id, merchant):
    if not row_id:
        return None
    from ..billing.models import Invoice, Payment
    from ..commerce.models import Order
    from ..commerce.proposal_models import Proposal

    model = {"invoice": Invoice, "payment": Payment, "order": Order,
             "proposal": Proposal}[family]
    row = db.session.get(model, row_id)
    return row if row is not None and row.merchant_id == merchant.id else None


def _plain(value):
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)


def body_of(delivery: WebhookDelivery) -> str:
    event = db.session.get(DomainEvent, delivery.event_id) if delivery.event_id else None
    created = event.created_at if event is not None else delivery.created_at
    data = _object_data(delivery.endpoint.merchant, event) if event is not None else {}
    return json.dumps({"type": delivery.event_type,
                       "timestamp": created.isoformat().replace("+00:00", "Z"),
                       "data": data}, separators=(",", ":"), sort_keys=True)


# What the last attempt of a job answered, for the failure hook (the handler's own writes are
# rolled back when it raises): job id → outcome. Process-local; the hook runs right after.
_OUTCOMES: dict[int, dict] = {}


class DeliveryFailed(RetryLater):
    """A non-2xx answer or a network error: retried with backoff."""


@handler(JOB_KIND)
def deliver(job) -> None:
    delivery = db.session.get(WebhookDelivery, job.payload.get("delivery_id"))
    if delivery is None:
        return
    endpoint = delivery.endpoint
    if not endpoint.enabled:
        _OUTCOMES[job.id] = {"error": "The endpoint is disabled."}
        raise PermanentError("the endpoint is disabled")
    try:
        url = check_url(endpoint.url)
    except ValueError as exc:
        _OUTCOMES[job.id] = {"error": str(exc)[:500]}
        raise PermanentError(str(exc)) from exc
    body = body_of(delivery)
    now = utcnow()
    signature = Webhook(endpoint.secret).sign(delivery.message_id, now, body)
    headers = {"content-type": "application/json", "user-agent": "widget-server-webhooks/1",
               "webhook-id": delivery.message_id,
               "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": signature}
    started = time.monotonic()
    try:
        answer = requests.post(url, data=body.encode(), headers=headers, timeout=TIMEOUT,
                               allow_redirects=False)
    except requests.RequestException as exc:
        _OUTCOMES[job.id] = {"latency_ms": int((time.monotonic() - started) * 1000),
                             "error": f"{type(exc).__name__}: {exc}"[:500]}
        raise DeliveryFailed(f"{type(exc).__name__}") from exc
    outcome = {"code": answer.status_code,
               "latency_ms": int((time.monotonic() - started) * 1000),
               "excerpt": answer.content[:EXCERPT].decode("utf-8", "replace")}
    if not 200 <= answer.status_code < 300:
        _OUTCOMES[job.id] = {**outcome, "error": f"HTTP {answer.status_code}"}
        raise DeliveryFailed(f"HTTP {answer.status_code}")
    _note(delivery, job, outcome, SUCCEEDED)
    endpoint.consecutive_failures, endpoint.failing_since = 0, None


def _note(delivery: WebhookDelivery, job, outcome: dict, status: str) -> None:
    delivery.status = status
    delivery.attempts += 1
    delivery.last_attempt_at = utcnow()
    delivery.response_code = outcome.get("code")
    delivery.latency_ms = outcome.get("latency_ms")
    delivery.response_excerpt = outcome.get("excerpt", "")
    delivery.error = outcome.get("error", "")[:500]


@on_failure(JOB_KIND)
def record_failure(job) -> None:
    outcome = _OUTCOMES.pop(job.id, {"error": (job.last_error or "")[:500]})
    delivery = db.session.get(WebhookDelivery, job.payload.get("delivery_id"))
    if delivery is None:
        return
    _note(delivery, job, outcome, FAILED if job.status == JOB_FAILED else RETRYING)
    endpoint = delivery.endpoint
    if not endpoint.enabled or ("code" not in outcome and "latency_ms" not in outcome):
        return  # refused before any call (disabled, a forbidden address): not the endpoint's
    now = utcnow()
    endpoint.consecutive_failures += 1
    endpoint.failing_since = endpoint.failing_since or now
    limit = int(current_app.config.get("WEBHOOK_DISABLE_AFTER", 100))
    if endpoint.consecutive_failures >= limit or now - endpoint.failing_since >= FAILING_FOR:
        _disable(endpoint, f"{endpoint.consecutive_failures} failed deliveries in a row")


def _disable(endpoint: WebhookEndpoint, reason: str) -> None:
    from ..notifications import templates
    from ..notifications.outbox import queue_email
    from ..tenancy.models import AdminUser

    endpoint.enabled, endpoint.disabled_reason = False, reason[:200]
    merchant = endpoint.merchant
    owners = db.session.scalars(select(AdminUser.email).where(
        AdminUser.merchant_id == merchant.id, AdminUser.role == "owner",
        AdminUser.active.is_(True))).all()
    content = templates.render(merchant, "webhook_endpoint_disabled", {
        "endpoint_url": endpoint.url, "failure": reason,
        "endpoint_link": f"{current_app.config['PUBLIC_URL']}/admin/webhooks/{endpoint.id}"})
    queue_email(merchant, "webhook_endpoint_disabled", list(owners), content)
