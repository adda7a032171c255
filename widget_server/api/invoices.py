"""/api/v1/invoices (issue #25 item 2): create a draft from catalogue lines (the admin's
new-invoice service), issue, void, read, list by customer and status, the PDF. Amounts are in
minor units with their currency."""
from contextlib import contextmanager

from flask import Response, abort, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..billing import invoices as billing
from ..billing import issuing, pdf
from ..billing.models import INVOICE_STATUSES
from ..core.domain import DomainError
from ..core.extensions import csrf, limiter
from ..customers import services as customer_services
from ..tenancy import audit
from ..web.request_guards import MAX_ID
from .auth import authenticate, current_key_prefix, current_merchant, rate_key, rate_limit
from .idempotency import idempotent
from .schemas import (
    CREATED_HEADERS,
    IDEMPOTENCY,
    BodySchema,
    ListArgsSchema,
    UTCDateTime,
    answers,
    list_schema,
)

blp = Blueprint("api_invoices", __name__, url_prefix="/api/v1/invoices",
                description="Invoices: drafts made from catalogue lines, issued (numbered, "
                            "emailed to the customer) or voided. Statuses: `draft`, `issued`, "
                            "`paid`, `void`.")
blp.before_request(authenticate)
csrf.exempt(blp)
limiter.shared_limit(rate_limit, scope="api", key_func=rate_key)(blp)

ID = validate.Range(1, MAX_ID)
STATUS = validate.OneOf(INVOICE_STATUSES)


class InvoiceLineSchema(Schema):
    product = fields.Integer(attribute="product_id", allow_none=True)
    description = fields.String(required=True)
    quantity = fields.Integer(required=True)
    unit_amount = fields.Integer(attribute="unit_price_minor", required=True)
    amount = fields.Integer(attribute="amount_minor", required=True,
                            metadata={"description": "The line's gross, in minor units."})
    net_amount = fields.Integer(attribute="net_minor")
    tax_amount = fields.Integer(attribute="tax_minor")
    tax_rate_bp = fields.Integer(metadata={"description": "Basis points (1900 = 19 %)."})


class InvoiceSchema(Schema):
    object = fields.Constant("invoice", required=True)
    id = fields.Integer(required=True)
    number = fields.String(required=True, metadata={
        "description": "`DRAFT-…` until issued, then the gapless invoice number."})
    customer = fields.Integer(attribute="customer_id", required=True)
    status = fields.String(required=True, validate=STATUS, metadata={
        "description": "`draft`, `issued` (open), `paid` or `void`."})
    currency = fields.String(required=True, metadata={"description": "ISO 4217, upper case."})
    total = fields.Integer(attribute="total_minor", required=True,
                           metadata={"description": "Minor units."})
    amount_due = fields.Integer(attribute="balance_minor", required=True,
                                metadata={"description": "What is still owed, minor units."})
    amount_credited = fields.Integer(attribute="credited_minor")
    issue_date = fields.Date(allow_none=True)
    due_date = fields.Date(allow_none=True)
    order = fields.Integer(attribute="order_id", allow_none=True)
    lines = fields.List(fields.Nested(InvoiceLineSchema), required=True)
    created_at = UTCDateTime()


class LineInSchema(BodySchema):
    product = fields.Integer(required=True, validate=ID,
                             metadata={"description": "An active product of your catalogue."})
    quantity = fields.Integer(load_default=1, validate=validate.Range(1, 10000))


class InvoiceInSchema(BodySchema):
    customer = fields.Integer(required=True, validate=ID)
    lines = fields.List(fields.Nested(LineInSchema), required=True,
                        validate=validate.Length(1, 100))
    due_date = fields.Date(metadata={"description": "Else 30 days after it is issued."})


class InvoiceListArgsSchema(ListArgsSchema):
    customer = fields.Integer(validate=ID, metadata={"description": "Only this customer's."})
    status = fields.String(validate=STATUS, metadata={"description": "Only those in this "
                                                                     "status."})


def _invoice(invoice_id: int):
    invoice = billing.get_invoice(current_merchant(), invoice_id)
    if invoice is None:
        abort(404, description="No such invoice.")
    return invoice


@contextmanager
def lines_field():
    """The line rules of `commerce.orders` name the form's `product`/`quantity`; the API's
    body calls them `lines`."""
    try:
        yield
    except DomainError as exc:
        if exc.field not in ("product", "quantity"):
            raise
        raise DomainError(exc.message, "lines", code=exc.code, status=exc.status) from exc


def customer_or_404(customer_id: int):
    customer = customer_services.get_customer(current_merchant(), customer_id)
    if customer is None:
        abort(404, description="No such customer.")
    return customer


@blp.route("")
class Invoices(MethodView):
    @blp.arguments(InvoiceListArgsSchema, location="query")
    @blp.response(200, list_schema(InvoiceSchema, "InvoiceList"))
    @answers(blp, 404)
    def get(self, args):
        """List invoices, oldest first, optionally one customer's or in one status"""
        merchant = current_merchant()
        after = args.get("starting_after")
        if after is not None:
            _invoice(after)  # a cursor of another merchant (or none) is not found
        if args.get("customer") is not None:
            customer_or_404(args["customer"])
        rows, more = billing.invoices_after(merchant, customer_id=args.get("customer"),
                                            status=args.get("status"), limit=args["limit"],
                                            starting_after=after)
        return {"data": rows, "has_more": more}

    @idempotent
    @blp.doc(parameters=[IDEMPOTENCY])
    @blp.arguments(InvoiceInSchema)
    @blp.response(201, InvoiceSchema, headers=CREATED_HEADERS)
    @answers(blp, 404, 409)
    def post(self, data):
        """Create a draft invoice from catalogue lines (issue it next)"""
        merchant = current_merchant()
        customer = customer_or_404(data["customer"])
        invoice = billing.create_draft(merchant, customer,
                                       [(line["product"], line["quantity"])
                                        for line in data["lines"]], data.get("due_date"))
        location = url_for("api_invoices.InvoiceById", invoice_id=invoice.id)
        return invoice, 201, {"Location": location}


@blp.route("/<id:invoice_id>")
class InvoiceById(MethodView):
    @blp.response(200, InvoiceSchema)
    @answers(blp, 404)
    def get(self, invoice_id):
        """Read an invoice"""
        return _invoice(invoice_id)


@blp.route("/<id:invoice_id>/issue")
class InvoiceIssue(MethodView):
    @blp.response(200, InvoiceSchema)
    @answers(blp, 404)
    def post(self, invoice_id):
        """Issue a draft: it takes its number, is emailed and can be paid (400 if not a
        draft)"""
        merchant = current_merchant()
        invoice = _invoice(invoice_id)
        issuing.issue(merchant, invoice, merchant.today())
        return invoice


@blp.route("/<id:invoice_id>/void")
class InvoiceVoid(MethodView):
    @blp.response(200, InvoiceSchema)
    @answers(blp, 404, 409)
    def post(self, invoice_id):
        """Void a draft or an unpaid issued invoice (409 while a payment for it is being
        processed)"""
        merchant = current_merchant()
        invoice = _invoice(invoice_id)
        billing.void(invoice)
        audit.record(merchant, None, "invoice.voided", audit.subject_of("invoice", invoice.id),
                     label=invoice.number, number=invoice.number,
                     total_minor=invoice.total_minor, via_key=current_key_prefix())
        return invoice


@blp.route("/<id:invoice_id>/pdf")
class InvoicePdf(MethodView):
    @blp.response(200, {"type": "string", "format": "binary"},
                  content_type="application/pdf", description="The invoice as the customer "
                                                              "gets it.")
    @answers(blp, 404)
    def get(self, invoice_id):
        """The invoice's PDF"""
        merchant = current_merchant()
        invoice = _invoice(invoice_id)
        customer = customer_services.get_customer(merchant, invoice.customer_id)
        links = ({invoice.id: issuing.pay_link(merchant, invoice)}
                 if invoice.status == "issued" else {})
        return Response(pdf.render(merchant, customer, [invoice], links),
                        mimetype="application/pdf", headers={
                            "Content-Disposition": f'attachment; filename="{invoice.number}.pdf"'})
