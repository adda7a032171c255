"""/api/v1/payments (issue #25 item 2): read, list by customer and status, and record money
received outside the portal (bank transfer, cheque, cash) through the admin's own service
(`billing.payments.record_offline`: settled, allocated to the chosen open invoices oldest due
first, the rest account credit, its receipt numbered and emailed)."""
import uuid

from flask import abort, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..billing import invoices as billing
from ..billing import payment_history, payments
from ..billing.models import OFFLINE_METHODS, PAYMENT_SOURCES, PAYMENT_STATUSES
from ..core.extensions import csrf, limiter
from ..tenancy import audit
from ..web.request_guards import MAX_ID
from .auth import authenticate, current_key_prefix, current_merchant, rate_key, rate_limit
from .idempotency import idempotent
from .invoices import customer_or_404
from .schemas import (
    CREATED_HEADERS,
    IDEMPOTENCY,
    BodySchema,
    ListArgsSchema,
    UTCDateTime,
    answers,
    list_schema,
)

blp = Blueprint("api_payments", __name__, url_prefix="/api/v1/payments",
                description="Payments: by card or bank account in the portal, autopay, account "
                            "credit, or recorded offline. Statuses: `scheduled`, `pending`, "
                            "`succeeded`, `failed`, `cancelled`.")
blp.before_request(authenticate)
csrf.exempt(blp)
limiter.shared_limit(rate_limit, scope="api", key_func=rate_key)(blp)

ID = validate.Range(1, MAX_ID)
STATUS = validate.OneOf(PAYMENT_STATUSES)


class AllocationSchema(Schema):
    invoice = fields.Integer(attribute="invoice_id", required=True)
    amount = fields.Integer(attribute="amount_minor", required=True,
                            metadata={"description": "Minor units."})


class PaymentSchema(Schema):
    object = fields.Constant("payment", required=True)
    id = fields.Integer(required=True)
    customer = fields.Integer(attribute="customer_id", required=True)
    amount = fields.Integer(attribute="amount_minor", required=True,
                            metadata={"description": "Minor units."})
    currency = fields.String(required=True, metadata={"description": "ISO 4217, upper case."})
    status = fields.String(required=True, validate=STATUS, metadata={
        "description": "`scheduled`, `pending`, `succeeded`, `failed` or `cancelled`."})
    source = fields.String(validate=validate.OneOf(PAYMENT_SOURCES), metadata={
        "description": "`browser`, `guest`, `autopay`, `schedule`, `credit` or `offline`."})
    method = fields.String(metadata={"description": "`card`, `ach`; offline: `transfer`, "
                                                    "`cheque`, `cash`."})
    method_label = fields.String(metadata={"description": "Brand and last four, or how it "
                                                          "arrived."})
    reference = fields.String()
    receipt_number = fields.String(metadata={"description": "`PAY-00001` once succeeded, "
                                                            "else empty."})
    amount_refunded = fields.Integer(attribute="refunded_minor")
    failure_message = fields.String()
    received_on = fields.Date(allow_none=True, metadata={"description": "Offline payments."})
    scheduled_for = fields.Date(allow_none=True)
    allocations = fields.List(fields.Nested(AllocationSchema), required=True, metadata={
        "description": "What it paid; the rest of a succeeded payment is account credit."})
    created_at = UTCDateTime()


class PaymentInSchema(BodySchema):
    customer = fields.Integer(required=True, validate=ID)
    amount = fields.Integer(required=True, validate=validate.Range(1, 10 ** 12),
                            metadata={"description": "Minor units, in your currency."})
    method = fields.String(required=True, validate=validate.OneOf(tuple(OFFLINE_METHODS)),
                           metadata={"description": "`transfer`, `cheque` or `cash`."})
    reference = fields.String(validate=validate.Length(max=100))
    received_on = fields.Date(metadata={"description": "Else today (your time zone)."})
    invoices = fields.List(fields.Integer(validate=ID), validate=validate.Length(max=100),
                           metadata={"description": "Open invoices of the customer it pays, "
                                                    "oldest due first."})


class PaymentListArgsSchema(ListArgsSchema):
    customer = fields.Integer(validate=ID, metadata={"description": "Only this customer's."})
    status = fields.String(validate=STATUS, metadata={"description": "Only those in this "
                                                                     "status."})


def _payment(payment_id: int):
    payment = payment_history.of_merchant(current_merchant(), payment_id)
    if payment is None:
        abort(404, description="No such payment.")
    return payment


@blp.route("")
class Payments(MethodView):
    @blp.arguments(PaymentListArgsSchema, location="query")
    @blp.response(200, list_schema(PaymentSchema, "PaymentList"))
    @answers(blp, 404)
    def get(self, args):
        """List payments, oldest first, optionally one customer's or in one status"""
        merchant = current_merchant()
        after = args.get("starting_after")
        if after is not None:
            _payment(after)  # a cursor of another merchant (or none) is not found
        if args.get("customer") is not None:
            customer_or_404(args["customer"])
        rows, more = payment_history.payments_after(
            merchant, customer_id=args.get("customer"),
            status=args.get("status"),
            limit=args["limit"], starting_after=after)
        return {"data": rows, "has_more": more}

    @idempotent
    @blp.doc(parameters=[IDEMPOTENCY])
    @blp.arguments(PaymentInSchema)
    @blp.response(201, PaymentSchema, headers=CREATED_HEADERS)
    @answers(blp, 404, 409)
    def post(self, data):
        """Record a payment received offline (transfer, cheque, cash) against open invoices"""
        merchant = current_merchant()
        customer = customer_or_404(data["customer"])
        chosen = []
        for invoice_id in dict.fromkeys(data.get("invoices") or []):
            invoice = billing.get_invoice(merchant, invoice_id)
            if invoice is None:
                abort(404, description="No such invoice.")
            chosen.append(invoice)
        payment = payments.record_offline(
            merchant, customer, chosen, data["amount"], method=data["method"],
            reference=data.get("reference", ""),
            received_on=data.get("received_on") or merchant.today(),
            idempotency_key=f"api-{uuid.uuid4().hex}")  # replays: the API's Idempotency-Key
        audit.record(merchant, None, "payment.recorded", audit.subject_of("payment", payment.id),
                     label=payment.receipt_number, method=payment.method,
                     amount_minor=payment.amount_minor, reference=payment.reference,
                     invoice_ids=[i.id for i in chosen], via_key=current_key_prefix())
        location = url_for("api_payments.PaymentById", payment_id=payment.id)
        return payment_history.of_merchant(merchant, payment.id), 201, {"Location": location}


@blp.route("/<id:payment_id>")
class PaymentById(MethodView):
    @blp.response(200, PaymentSchema)
    @answers(blp, 404)
    def get(self, payment_id):
        """Read a payment"""
        return _payment(payment_id)
