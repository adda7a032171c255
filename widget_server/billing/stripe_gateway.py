"""The Stripe gateway: PaymentIntents, customers and payment methods through Stripe's HTTP API.

The platform runs on Stripe Connect: its secret key (STRIPE_SECRET_KEY) acts for each merchant's
connected account (the `Stripe-Account` header), whose id the merchant enters in Configuration
→ Payments. The browser turns card and bank numbers into a `pm_…` PaymentMethod with Stripe.js;
this server only ever sees and stores that id, brand, last four and expiry (PCI).

Every POST carries our own idempotency key (the stripe package would send a random one), and the
client makes no retries of its own: a retry is ours, with the same key, so it can never charge
twice. An answer that does not arrive (timeout, 5xx, rate limit) is "pending", never "failed":
the money may have moved, and `resolve` finds out later.
"""
import hashlib
import json
import logging
import re

import stripe
from flask import current_app

from ..core.domain import DomainError
from ..core.i18n import gettext
from ..tenancy.configuration import STRIPE_ACCOUNT_RE
from ..tenancy.models import Merchant
from ..tenancy.services import merchants_with_account
from .gateways import (
    MESSAGES,
    ChargeRequest,
    ChargeResult,
    GatewayUnavailable,
    MethodToken,
    RefundRequest,
    RefundResult,
)
from .reasons import N_

log = logging.getLogger(__name__)
# The package would otherwise write an id to ~/.config/stripe of whatever user runs the web
# server or the worker, and send the host's platform details with every request.
stripe.enable_telemetry = False

# (connect, read) seconds: a customer is waiting; an answer that takes longer is resolved later.
TIMEOUT = (3.05, 10)
UNREACHABLE = N_("The payment provider could not be reached. Please try again in a moment.")
PROCESSING = N_("The payment is being processed; a bank payment can take a few days.")
GENERIC_DECLINE = N_("The payment was declined. Please use another payment method.")
REFUSED = N_("The payment could not be made. Please use another payment method or try again "
             "later.")
NEEDS_ACTION = N_("Your bank asked to confirm this payment, which cannot be done here. Please "
                  "use another payment method.")
# Stripe's decline and error codes, in words a customer can act on. Codes that must not be
# revealed (lost or stolen card, fraud) fall through to the generic decline on purpose.
DECLINES = {
    "card_declined": MESSAGES["declined"],
    "generic_decline": MESSAGES["declined"],
    "insufficient_funds": MESSAGES["insufficient_funds"],
    "expired_card": N_("The card has expired. Please use another card."),
    "incorrect_cvc": N_("The card's security code is incorrect."),
    "invalid_cvc": N_("The card's security code is incorrect."),
    "processing_error": N_("The card could not be processed. Please try again in a moment."),
    "authentication_required": NEEDS_ACTION,
    "payment_intent_authentication_failure": NEEDS_ACTION,
}
METHOD_TYPES = {"card": "card", "ach": "us_bank_account"}
BRANDS = {"amex": "American Express", "diners": "Diners Club", "discover": "Discover",
          "jcb": "JCB", "mastercard": "Mastercard", "unionpay": "UnionPay", "visa": "Visa",
          "cartes_bancaires": "Cartes Bancaires", "eftpos_au": "eftpos"}
PM_RE = re.compile(r"pm_[A-Za-z0-9_]{1,250}")

_http_client = None


def http_client() -> stripe.HTTPClient:
    """One requests-based client for every merchant: it keeps a session (and its connection
    pool) per thread, and `responses` intercepts it in tests."""
    global _http_client
    if _http_client is None:
        _http_client = stripe.RequestsClient(timeout=TIMEOUT)
    return _http_client


def customer_key(merchant_id: int, customer_id: int, digest: str) -> str:
    return f"customer-{merchant_id}-{customer_id}-{digest}"


def decline_message(error: dict | None, default: str = GENERIC_DECLINE) -> str:
    """A customer-readable reason from Stripe's error object (a 402's `error`, an intent's
    `last_payment_error`). Stripe's own text is written for customers and never holds card
    data; ours takes precedence where we have one."""
    error = error or {}
    ours = DECLINES.get(error.get("decline_code") or "") or DECLINES.get(error.get("code") or "")
    return (ours or error.get("message") or default)[:300]


def intent_result(intent: dict) -> ChargeResult:
    """Our answer for a PaymentIntent (from the API or a webhook event)."""
    status, ref = intent.get("status"), intent.get("id", "")
    if status == "succeeded":
        return ChargeResult("succeeded", ref)
    if status == "requires_action":
        return ChargeResult("failed", ref, NEEDS_ACTION)
    if status in ("requires_payment_method", "canceled"):
        return ChargeResult("failed", ref, decline_message(intent.get("last_payment_error")))
    # processing (bank debits take days), or a state we do not expect: not an answer yet
    return ChargeResult("pending", ref, PROCESSING if status == "processing"
                        else MESSAGES["network_error"])


class StripeGateway:
    """A merchant's connected Stripe account, through one `stripe.StripeClient`."""

    name = "stripe"

    def __init__(self, client: stripe.StripeClient, merchant_id: int):
        self.client, self.merchant_id = client, merchant_id

    @classmethod
    def for_merchant(cls, merchant) -> "StripeGateway":
        """Raises `GatewayUnavailable` until the platform key and the merchant's account exist."""
        api_key = current_app.config.get("STRIPE_SECRET_KEY") or ""
        account = merchant.stripe_account_id or ""  # the unique column webhooks look up too
        if not api_key or not STRIPE_ACCOUNT_RE.fullmatch(account):
            raise GatewayUnavailable()
        client = stripe.StripeClient(api_key, stripe_account=account, max_network_retries=0,
                                     http_client=http_client())
        return cls(client, merchant.id)

    # --- charging ------------------------------------------------------------------------
    def charge(self, request: ChargeRequest) -> ChargeResult:
        """Create and confirm a PaymentIntent for the token, once per idempotency key."""
        try:
            intent = self.client.v1.payment_intents.create(
                params=self._intent_params(request),
                options={"idempotency_key": request.idempotency_key})
        except stripe.CardError as exc:
            error = (exc.json_body or {}).get("error") or {}
            return ChargeResult("failed", (error.get("payment_intent") or {}).get("id", ""),
                                decline_message(error, MESSAGES["declined"]))
        except stripe.IdempotencyError:
            # The key was used before with other parameters: that attempt exists; look it up.
            return self._find_by_key(request)
        except (stripe.InvalidRequestError, stripe.AuthenticationError,
                stripe.PermissionError) as exc:
            # Refused before anything was charged: a configuration or token problem.
            log.warning("stripe refused payment %s: %s %s (request %s)",
                        request.idempotency_key, type(exc).__name__, exc.code, exc.request_id)
            return ChargeResult("failed", "", REFUSED)
        except stripe.StripeError as exc:
            # Timeouts, connection errors, 5xx, rate limits, conflicts: the answer is unknown.
            log.warning("stripe gave no answer for payment %s: %s (request %s)",
                        request.idempotency_key, type(exc).__name__, exc.request_id)
            return ChargeResult("pending", "", MESSAGES["network_error"])
        return intent_result(intent.to_dict())

    def resolve(self, request: ChargeRequest) -> ChargeResult:
        """What became of an attempt whose answer was lost.

        With the PaymentIntent's id known, it is simply retrieved (its current state: a bank
        debit that was processing may have succeeded since). Otherwise the same create call is
        sent again with the same Idempotency-Key: if the first request reached Stripe, Stripe
        replays its original answer and charges nothing more; if it never arrived, Stripe
        performs it now, once. Stripe keeps keys for 24 hours, and the worker resolves within a
        few hours. Should the parameters differ from the first call's, Stripe refuses the key
        (`IdempotencyError`) and the intent is found by the key in its metadata instead.
        """
        if not request.reference.startswith("pi_"):
            return self.charge(request)
        try:
            intent = self.client.v1.payment_intents.retrieve(request.reference)
        except stripe.StripeError as exc:
            log.warning("stripe: retrieving %s failed: %s", request.reference,
                        type(exc).__name__)
            return ChargeResult("pending", request.reference, MESSAGES["network_error"])
        return intent_result(intent.to_dict())

    def _intent_params(self, request: ChargeRequest) -> dict:
        method_type = METHOD_TYPES.get(request.kind, "card")
        params = {
            "amount": request.amount_minor, "currency": request.currency.lower(),
            "payment_method": request.token, "confirm": True,
            "payment_method_types": [method_type],
            "metadata": {"idempotency_key": request.idempotency_key,
                         "merchant_id": str(self.merchant_id)},
        }
        if request.description:
            params["description"] = request.description
        if request.customer_ref:
            params["customer"] = request.customer_ref
        if request.save:
            params["setup_future_usage"] = "off_session"
        if request.off_session:
            params["off_session"] = True
        elif method_type == "us_bank_account" and request.client_ip and request.user_agent:
            params["mandate_data"] = {"customer_acceptance": {
                "type": "online",
                "online": {"ip_address": request.client_ip, "user_agent": request.user_agent}}}
        return params

    def _find_by_key(self, request: ChargeRequest) -> ChargeResult:
        """The intent created with this idempotency key, by its metadata (Stripe's search is
        up to a minute behind: not found yet stays pending)."""
        key = request.idempotency_key.replace("\\", "\\\\").replace("'", "\\'")
        try:
            found = self.client.v1.payment_intents.search(
                params={"query": f"metadata['idempotency_key']:'{key}'", "limit": 1})
        except stripe.StripeError as exc:
            log.warning("stripe: searching payment %s failed: %s", request.idempotency_key,
                        type(exc).__name__)
            return ChargeResult("pending", "", MESSAGES["network_error"])
        intents = found.to_dict().get("data") or []
        if not intents:
            return ChargeResult("pending", "", MESSAGES["network_error"])
        return intent_result(intents[0])

    # --- refunds (#24) ----------------------------------------------------------------------
    def refund(self, request: RefundRequest) -> RefundResult:
        """`POST /v1/refunds` for the PaymentIntent, with the refund's own Idempotency-Key: a
        retry is replayed by Stripe, never a second refund. Stripe's reasons are an enum, so
        ours goes into the metadata. No answer (timeout, 5xx) is "pending": asked again later
        with the same key."""
        if not request.reference.startswith("pi_"):
            return RefundResult("failed", "", N_("This payment has no Stripe charge to refund."))
        params = {"payment_intent": request.reference, "amount": request.amount_minor,
                  "metadata": {"idempotency_key": request.idempotency_key,
                               "merchant_id": str(self.merchant_id),
                               "reason": request.reason[:500]}}
        try:
            refund = self.client.v1.refunds.create(
                params=params, options={"idempotency_key": request.idempotency_key})
        except (stripe.InvalidRequestError, stripe.CardError, stripe.AuthenticationError,
                stripe.PermissionError, stripe.IdempotencyError) as exc:
            error = (exc.json_body or {}).get("error") or {}
            return RefundResult("failed", "", (error.get("message") or
                                               N_("Stripe refused the refund."))[:300])
        except stripe.StripeError as exc:
            log.warning("stripe gave no answer for refund %s: %s (request %s)",
                        request.idempotency_key, type(exc).__name__, exc.request_id)
            return RefundResult("pending", "", UNREACHABLE)
        data = refund.to_dict()
        status = {"succeeded": "succeeded", "failed": "failed",
                  "canceled": "failed"}.get(data.get("status") or "", "pending")
        return RefundResult(status, data.get("id", ""),
                            (data.get("failure_reason") or "") if status == "failed" else "")

    # --- customers and methods -------------------------------------------------------------
    def ensure_customer(self, customer) -> str:
        """The Stripe customer a method is kept on, created once. The idempotency key is derived
        from merchant, customer and the details sent, so a creation whose answer was lost is
        replayed, not repeated (a ref left over from the sandbox is replaced)."""
        if (customer.gateway_customer_ref or "").startswith("cus_"):
            return customer.gateway_customer_ref
        emails = customer.primary_emails
        params = {"name": customer.contact_name,
                  "metadata": {"merchant_id": str(self.merchant_id),
                               "customer_id": str(customer.id)}}
        if emails:
            params["email"] = emails[0]
        # Stripe refuses a key reused with other parameters: the details are part of the key.
        digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
        try:
            created = self.client.v1.customers.create(
                params=params,
                options={"idempotency_key": customer_key(self.merchant_id, customer.id, digest)})
        except stripe.StripeError as exc:
            log.warning("stripe: creating the customer of %s failed: %s", customer.id,
                        type(exc).__name__)
            raise GatewayUnavailable(UNREACHABLE) from exc
        return created.id

    def detach(self, token: str) -> None:
        """Forget a method kept on file. One Stripe no longer knows is already gone."""
        if not PM_RE.fullmatch(token or ""):
            return  # not a Stripe method (one saved under the sandbox)
        try:
            self.client.v1.payment_methods.detach(
                token, options={"idempotency_key": f"detach-{token}"})
        except stripe.InvalidRequestError:
            return
        except stripe.StripeError as exc:
            log.warning("stripe: detaching %s failed: %s", token, type(exc).__name__)
            raise GatewayUnavailable(UNREACHABLE) from exc

    def describe(self, token: str, *, customer_ref: str = "") -> MethodToken:
        """What the customer recognises a `pm_…` by, from Stripe (not from the form): brand,
        last four and expiry of a card, or the bank and last four of an account. A method kept
        on file for another customer than `customer_ref` is refused."""
        if not PM_RE.fullmatch(token or ""):
            raise DomainError(gettext("Enter the payment details again."), "payment_method")
        try:
            method = self.client.v1.payment_methods.retrieve(token).to_dict()
        except stripe.InvalidRequestError as exc:
            raise DomainError(gettext("Enter the payment details again."),
                              "payment_method") from exc
        except stripe.StripeError as exc:
            log.warning("stripe: retrieving %s failed: %s", token, type(exc).__name__)
            raise GatewayUnavailable(UNREACHABLE) from exc
        owner = method.get("customer") or ""
        if owner and owner != customer_ref:
            raise DomainError(gettext("Enter the payment details again."), "payment_method")
        if method.get("type") == "card":
            card = method.get("card") or {}
            brand = BRANDS.get(card.get("brand") or "", "Card")
            month, year = card.get("exp_month") or 0, card.get("exp_year") or 0
            return MethodToken(token, f"{brand} •••• {card.get('last4', '')}", "card",
                               f"{month:02d}/{year % 100:02d}" if month and year else "")
        if method.get("type") == "us_bank_account":
            bank = method.get("us_bank_account") or {}
            name = (bank.get("bank_name") or "Bank account")[:40]
            return MethodToken(token, f"{name} •••• {bank.get('last4', '')}", "ach")
        raise DomainError(gettext("This payment method is not accepted here."),
                          "payment_method")


def merchants_for_account(account_id: str) -> list[Merchant]:
    """The merchants whose configuration names this connected account (normally one)."""
    if not STRIPE_ACCOUNT_RE.fullmatch(account_id or ""):
        return []
    return merchants_with_account(account_id)
