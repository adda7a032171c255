"""/api/v1/orders (issue #25 item 2): place an order from catalogue lines (the admin's and the
customer's `commerce.orders.place`: its first period invoiced when its start has come), read,
list by customer and status, cancel at the end of the period or at once."""
from flask import abort, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..commerce import changes as order_changes
from ..commerce import orders as order_services
from ..commerce.models import ORDER_STATUSES
from ..core.extensions import csrf, limiter
from ..web.request_guards import MAX_ID
from .auth import authenticate, current_merchant, rate_key, rate_limit
from .idempotency import idempotent
from .invoices import InvoiceLineSchema, LineInSchema, customer_or_404, lines_field
from .schemas import (
    CREATED_HEADERS,
    IDEMPOTENCY,
    BodySchema,
    ListArgsSchema,
    UTCDateTime,
    answers,
    list_schema,
)

blp = Blueprint("api_orders", __name__, url_prefix="/api/v1/orders",
                description="Orders and subscriptions: catalogue items for a customer from a "
                            "start date, billed every period of their recurring lines. "
                            "Statuses: `active`, `cancelled`, `ended`.")
blp.before_request(authenticate)
csrf.exempt(blp)
limiter.shared_limit(rate_limit, scope="api", key_func=rate_key)(blp)

ID = validate.Range(1, MAX_ID)
STATUS = validate.OneOf(ORDER_STATUSES)


class OrderLineSchema(InvoiceLineSchema):
    recurring = fields.Boolean(metadata={"description": "Billed every period (else once)."})


class OrderSchema(Schema):
    object = fields.Constant("order", required=True)
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    customer = fields.Integer(attribute="customer_id", required=True)
    status = fields.String(required=True, validate=STATUS, metadata={
        "description": "`active` (also while cancelled at the period's end, until then), "
                       "`cancelled` or `ended`."})
    currency = fields.String(required=True, metadata={"description": "ISO 4217, upper case."})
    period_total = fields.Integer(attribute="total_minor", required=True, metadata={
        "description": "What one period costs (gross), minor units."})
    interval = fields.String(allow_none=True, metadata={
        "description": "null for a one-time order; else how often it is billed."})
    interval_count = fields.Integer()
    start_date = fields.Date(allow_none=True)
    end_date = fields.Date(allow_none=True, metadata={"description": "Not billed from then."})
    next_billing_date = fields.Date(allow_none=True)
    cancelled_at = UTCDateTime(allow_none=True)
    sales_agent = fields.Integer(attribute="sales_agent_id", allow_none=True)
    first_invoice = fields.Integer(attribute="invoice_id", allow_none=True)
    lines = fields.List(fields.Nested(OrderLineSchema), required=True)
    created_at = UTCDateTime()


class OrderInSchema(BodySchema):
    customer = fields.Integer(required=True, validate=ID)
    lines = fields.List(fields.Nested(LineInSchema), required=True,
                        validate=validate.Length(1, 100))
    start = fields.Date(metadata={"description": "Today (the default) bills the first period "
                                                 "at once; a later day bills it then."})
    sales_agent = fields.Integer(validate=ID, allow_none=True)


class CancelSchema(BodySchema):
    at_period_end = fields.Boolean(load_default=True, metadata={
        "description": "true (the default): billing stops and the order runs until its "
                       "period ends; false: at once (the period is not refunded)."})


class ChangeSchema(BodySchema):
    line = fields.Integer(validate=ID, allow_none=True, metadata={
        "description": "The order line to change (its id); left out: the order's one "
                       "recurring line."})
    product = fields.Integer(validate=ID, allow_none=True, metadata={
        "description": "Another product billed at the same period; left out: the same."})
    # not `required` here: an unknown order answers 404 before its body is judged; the
    # service refuses a missing quantity, naming the field
    quantity = fields.Integer(load_default=None, validate=validate.Range(1, 10_000),
                              metadata={"description": "The new quantity (1 to 10,000)."})


class OrderListArgsSchema(ListArgsSchema):
    customer = fields.Integer(validate=ID, metadata={"description": "Only this customer's."})
    status = fields.String(validate=STATUS, metadata={"description": "Only those in this "
                                                                     "status."})


def _order(order_id: int):
    order = order_services.get_order(current_merchant(), order_id)
    if order is None:
        abort(404, description="No such order.")
    return order


@blp.route("")
class Orders(MethodView):
    @blp.arguments(OrderListArgsSchema, location="query")
    @blp.response(200, list_schema(OrderSchema, "OrderList"))
    @answers(blp, 404)
    def get(self, args):
        """List orders, oldest first, optionally one customer's or in one status"""
        merchant = current_merchant()
        after = args.get("starting_after")
        if after is not None:
            _order(after)  # a cursor of another merchant (or none) is not found
        if args.get("customer") is not None:
            customer_or_404(args["customer"])
        rows, more = order_services.orders_after(
            merchant, customer_id=args.get("customer"), status=args.get("status"),
            limit=args["limit"], starting_after=after)
        return {"data": rows, "has_more": more}

    @idempotent
    @blp.doc(parameters=[IDEMPOTENCY])
    @blp.arguments(OrderInSchema)
    @blp.response(201, OrderSchema, headers=CREATED_HEADERS)
    @answers(blp, 404, 409)
    def post(self, data):
        """Place an order (its first period is invoiced when its start has come)"""
        merchant = current_merchant()
        customer = customer_or_404(data["customer"])
        today = merchant.today()
        with lines_field():
            order = order_services.place(
                merchant, customer, [order_services.Item(line["product"], line["quantity"])
                                     for line in data["lines"]], today,
                start=data.get("start") or today, sales_agent_id=data.get("sales_agent"))
        location = url_for("api_orders.OrderById", order_id=order.id)
        return order, 201, {"Location": location}


@blp.route("/<id:order_id>")
class OrderById(MethodView):
    @blp.response(200, OrderSchema)
    @answers(blp, 404)
    def get(self, order_id):
        """Read an order"""
        return _order(order_id)


@blp.route("/<id:order_id>/cancel")
class OrderCancel(MethodView):
    @blp.arguments(CancelSchema)
    @blp.response(200, OrderSchema)
    @answers(blp, 404, 409)
    def post(self, data, order_id):
        """Cancel an order at the end of its period or at once (409 if already cancelled or
        ended)"""
        merchant = current_merchant()
        order = _order(order_id)
        return order_services.cancel(merchant, order, merchant.today(),
                                     at_period_end=data["at_period_end"])


@blp.route("/<id:order_id>/change")
class OrderChange(MethodView):
    @blp.arguments(ChangeSchema)
    @blp.response(200, OrderSchema)
    @answers(blp, 404, 409)
    def post(self, data, order_id):
        """Change a subscription's quantity or product (W-11): the unused part of the invoiced
        periods is credited and the new plan charged on the next invoice, as in the portal; a
        product billed at another period restarts the subscription today as a new order (the
        answer), its first invoice issued at once (409 for an order that is not an active
        subscription)"""
        merchant = current_merchant()
        order = _order(order_id)
        change = order_changes.apply(merchant, order, data.get("line"), data.get("product"),
                                     data.get("quantity"), merchant.today())
        return change.new_order or change.order
