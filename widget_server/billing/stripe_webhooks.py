"""`POST /hooks/stripe`: Stripe tells us what became of a payment after the fact (a bank debit
that settled days later, a charge whose answer our request never received).

Trust comes from the `Stripe-Signature` header, an HMAC of the raw body with the endpoint's
secret (STRIPE_WEBHOOK_SECRET), checked before the body is even parsed and refused when older
than five minutes (a replayed capture). Stripe delivers at least once: each event id is recorded
in `gateway_event`, and the record commits in the same transaction as the settlement, so a crash
between them leaves neither and Stripe's retry does both. A connected account can only settle
the payments of the merchant(s) whose configuration names it.
"""
import json
import logging

import stripe
from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from ..core.extensions import csrf, db, limiter
from ..customers.models import Customer
from ..tenancy.models import Merchant
from . import payments
from .gateways import ChargeResult
from .models import GatewayEvent, Payment
from .stripe_gateway import decline_message, merchants_for_account

bp = Blueprint("gateway_hooks", __name__)
log = logging.getLogger(__name__)

PROVIDER = "stripe"
TOLERANCE = 300  # seconds between Stripe signing an event and our accepting it
HANDLED = ("payment_intent.succeeded", "payment_intent.payment_failed")


@bp.post("/hooks/stripe")
@csrf.exempt  # Stripe has no session; the signature is the proof
@limiter.exempt  # Stripe's bursts and retries must not be throttled into lost answers
def stripe_hook():
    payload = request.get_data()  # the exact bytes Stripe signed
    try:
        stripe.WebhookSignature.verify_header(
            payload, request.headers.get("Stripe-Signature"),
            current_app.config.get("STRIPE_WEBHOOK_SECRET") or None, TOLERANCE)
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError):
        log.warning("stripe webhook refused: bad or stale signature")
        return jsonify(error="The webhook signature is not valid."), 400
    if not isinstance(event, dict) or not isinstance(event.get("id"), str):
        return jsonify(error="Not a Stripe event."), 400
    if event.get("type") not in HANDLED:
        return jsonify(received=True, ignored=True)
    if _seen(event["id"]):
        return jsonify(received=True, duplicate=True)
    intent = (event.get("data") or {}).get("object") or {}
    payment = _payment_for(event.get("account"), intent)
    if payment is None:
        log.info("stripe webhook %s: no payment of ours for %s", event["id"], intent.get("id"))
        return jsonify(received=True, ignored=True)
    if (intent.get("amount"), intent.get("currency")) != (payment.amount_minor,
                                                           payment.currency.lower()):
        log.error("stripe webhook %s: amount or currency differs from payment %s",
                  event["id"], payment.id)
        return jsonify(received=True, ignored=True)
    if event["type"] == "payment_intent.succeeded":
        result = ChargeResult("succeeded", intent.get("id", ""))
    else:
        result = ChargeResult("failed", intent.get("id", ""),
                              decline_message(intent.get("last_payment_error")))
    return _record_and_settle(event, payment, result)


def _seen(event_id: str) -> bool:
    return db.session.scalar(select(GatewayEvent.id).where(
        GatewayEvent.provider == PROVIDER, GatewayEvent.event_id == event_id)) is not None


def _payment_for(account, intent: dict) -> Payment | None:
    """Our payment behind this PaymentIntent, among the account's merchants only: by the
    intent's id, or by the idempotency key we put in its metadata (when our request timed out
    and the id never reached us)."""
    merchants = merchants_for_account(account) if isinstance(account, str) else []
    metadata = intent.get("metadata") or {}
    ids = [m.id for m in merchants if metadata.get("merchant_id") in (None, str(m.id))]
    ref, key = intent.get("id"), metadata.get("idempotency_key")
    matches = []
    if isinstance(ref, str) and ref.startswith("pi_"):
        matches.append(Payment.reference == ref)
    if isinstance(key, str) and key:
        matches.append(Payment.idempotency_key == key)
    if not ids or not matches:
        return None
    found = db.session.scalars(select(Payment).where(Payment.merchant_id.in_(ids),
                                                     or_(*matches)).order_by(Payment.id))
    # a payment with another intent's id is another attempt, whatever its key says
    return next((p for p in found if p.reference in ("", ref)), None)


def _record_and_settle(event: dict, payment: Payment, result: ChargeResult):
    db.session.add(GatewayEvent(provider=PROVIDER, event_id=event["id"],
                                event_type=event["type"]))
    try:
        db.session.flush()
    except IntegrityError:  # the same event, delivered twice at once
        db.session.rollback()
        return jsonify(received=True, duplicate=True)
    if payment.status == "pending":
        merchant = db.session.get(Merchant, payment.merchant_id)
        customer = db.session.get(Customer, payment.customer_id)
        # the event row commits with the settlement, at the end of the request
        payments.settle(merchant, customer, payment, result)
    elif payment.status != result.status:
        log.error("stripe webhook %s says %s for payment %s, which is %s", event["id"],
                  result.status, payment.id, payment.status)
    return jsonify(received=True)
