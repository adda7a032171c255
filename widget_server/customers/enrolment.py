"""Credential emails and the customer's own requests for them (C-3, C-4, C-5, C-12).

A request from the login page ("forgot password", "create credentials") only enqueues a job; the
worker looks the address up and sends what fits. So the page answers the same, in the same
time, whether or not the address belongs to anyone: nothing is learnt by asking.
"""
from urllib.parse import quote

from flask import current_app

from ..core import events
from ..core.extensions import db
from ..jobs.queue import enqueue, handler
from ..notifications.outbox import type_enabled
from ..tenancy.configuration import EMBEDDING, PORTAL, merchant_settings
from ..tenancy.models import Merchant
from .auth import candidates
from .credentials import issue_token
from .models import Customer

REQUEST_JOB = "credentials.request"


def portal_url(merchant) -> str:
    return f"{current_app.config['PUBLIC_URL']}/p/{merchant.slug}"


def entry_link(merchant, path: str) -> str:
    """Where an email link to a portal page goes: the merchant's own page with the embed when
    configured (the loader opens `path` in its iframe), else the standalone portal."""
    page = merchant_settings(merchant, EMBEDDING).portal_page_url
    if page:
        return f"{page.split('#')[0]}#myaccount={quote(path, safe='/')}"
    return f"{portal_url(merchant)}{path}"


def portal_on(merchant) -> bool:
    """With the portal switched off, links would lead to "portal unavailable": none are sent."""
    return merchant_settings(merchant, PORTAL).enable_customer_portal


def _send_link(merchant, customer: Customer, event: str, email_type: str, purpose: str,
               path: str) -> bool:
    """Issue a fresh link token and record `event` with the link (transient: never stored), in
    the caller's transaction; its subscriber queues the email. False when the portal or the
    email type is off, or the customer has no address (then no link is issued at all)."""
    if (not portal_on(merchant) or not type_enabled(merchant, email_type)
            or not customer.primary_emails):
        return False
    link = entry_link(merchant, f"/{path}/{issue_token(customer, purpose)}")
    return any(events.record(merchant, event, customer_id=customer.id,
                             transient={"link": link}))


def send_create(merchant, customer: Customer, purpose: str = "create") -> bool:
    return _send_link(merchant, customer, "credentials.create_requested", "credential_create",
                      purpose, "credentials")


def send_reset(merchant, customer: Customer) -> bool:
    return _send_link(merchant, customer, "credentials.reset_requested", "password_reset",
                      "reset", "reset")


def request_link(merchant, action: str, login: str) -> None:
    """Record a customer's request ("enrol" or "reset"); the worker decides what to send."""
    enqueue(REQUEST_JOB, {"action": action, "login": (login or "").strip()[:254]},
            merchant_id=merchant.id, max_attempts=3)
    db.session.flush()


@handler(REQUEST_JOB)
def _answer_request(job) -> None:
    merchant = db.session.get(Merchant, job.merchant_id)
    if merchant is None:
        return
    login = job.payload.get("login", "")
    by_email_only = job.payload.get("action") == "enrol"  # typing a username grants nothing
    for customer in candidates(merchant.id, login, with_password=False,
                               emails_only=by_email_only):
        if customer.password_hash:
            send_reset(merchant, customer)
        else:
            send_create(merchant, customer)
