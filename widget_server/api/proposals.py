"""/api/v1/proposals (issue #25 item 2): write a proposal (a quote) from catalogue lines and send
it to the customer through `commerce.proposals` (the admin's own: priced as an order would be,
the Proposal Sent email queued with the change), read, list by customer and status."""
from flask import abort, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..commerce import orders as order_services
from ..commerce import proposals as proposal_services
from ..commerce.proposal_models import STATUSES
from ..core.extensions import csrf, limiter
from ..web.request_guards import MAX_ID
from .auth import authenticate, current_merchant, rate_key, rate_limit
from .idempotency import idempotent
from .invoices import LineInSchema, customer_or_404, lines_field
from .orders import OrderLineSchema
from .schemas import (
    CREATED_HEADERS,
    IDEMPOTENCY,
    BodySchema,
    ListArgsSchema,
    UTCDateTime,
    answers,
    list_schema,
)

blp = Blueprint("api_proposals", __name__, url_prefix="/api/v1/proposals",
                description="Proposals (quotes): written from catalogue lines, sent to the "
                            "customer, who accepts (an order is placed) or declines in the "
                            "portal. Statuses: `draft`, `sent`, `accepted`, `declined`, "
                            "`expired`.")
blp.before_request(authenticate)
csrf.exempt(blp)
limiter.shared_limit(rate_limit, scope="api", key_func=rate_key)(blp)

ID = validate.Range(1, MAX_ID)
STATUS = validate.OneOf(STATUSES)


class ProposalSchema(Schema):
    object = fields.Constant("proposal", required=True)
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    customer = fields.Integer(attribute="customer_id", required=True)
    status = fields.Function(lambda p: p.state(current_merchant().today()), required=True,
                             validate=STATUS, metadata={
                                 "type": "string", "enum": list(STATUSES),
                                 "description": "`draft`, `sent` (open), `accepted`, "
                                                "`declined`, or `expired` (sent, past its "
                                                "valid-until day)."})
    currency = fields.String(required=True, metadata={"description": "ISO 4217, upper case."})
    total = fields.Integer(attribute="total_minor", required=True, metadata={
        "description": "The first invoice of the order it would make (gross), minor units."})
    net_amount = fields.Integer(attribute="net_minor")
    tax_amount = fields.Integer(attribute="tax_minor")
    period_amount = fields.Integer(attribute="period_minor", metadata={
        "description": "What each later period costs (0 when nothing recurs)."})
    interval = fields.String(allow_none=True)
    interval_count = fields.Integer()
    valid_until = fields.Date(required=True)
    note = fields.String()
    order = fields.Integer(attribute="order_id", allow_none=True,
                           metadata={"description": "The order its acceptance placed."})
    accepted_name = fields.String(allow_none=True)
    decline_reason = fields.String(allow_none=True)
    sent_at = UTCDateTime(allow_none=True)
    decided_at = UTCDateTime(allow_none=True)
    lines = fields.List(fields.Nested(OrderLineSchema), required=True)
    created_at = UTCDateTime()


class ProposalInSchema(BodySchema):
    customer = fields.Integer(required=True, validate=ID)
    lines = fields.List(fields.Nested(LineInSchema), required=True,
                        validate=validate.Length(1, 100))
    valid_until = fields.Date(required=True, metadata={
        "description": "The last day it can be accepted (your calendar)."})
    note = fields.String(validate=validate.Length(max=proposal_services.MAX_NOTE))


class ProposalListArgsSchema(ListArgsSchema):
    customer = fields.Integer(validate=ID, metadata={"description": "Only this customer's."})
    status = fields.String(validate=STATUS, metadata={"description": "Only those in this "
                                                                     "status."})


def _proposal(proposal_id: int):
    proposal = proposal_services.get_proposal(current_merchant(), proposal_id)
    if proposal is None:
        abort(404, description="No such proposal.")
    return proposal


@blp.route("")
class Proposals(MethodView):
    @blp.arguments(ProposalListArgsSchema, location="query")
    @blp.response(200, list_schema(ProposalSchema, "ProposalList"))
    @answers(blp, 404)
    def get(self, args):
        """List proposals, oldest first, optionally one customer's or in one status"""
        merchant = current_merchant()
        after = args.get("starting_after")
        if after is not None:
            _proposal(after)  # a cursor of another merchant (or none) is not found
        if args.get("customer") is not None:
            customer_or_404(args["customer"])
        rows, more = proposal_services.proposals_after(
            merchant, customer_id=args.get("customer"), status=args.get("status"),
            limit=args["limit"], starting_after=after)
        return {"data": rows, "has_more": more}

    @idempotent
    @blp.doc(parameters=[IDEMPOTENCY])
    @blp.arguments(ProposalInSchema)
    @blp.response(201, ProposalSchema, headers=CREATED_HEADERS)
    @answers(blp, 404, 409)
    def post(self, data):
        """Write a draft proposal from catalogue lines (send it next)"""
        merchant = current_merchant()
        customer = customer_or_404(data["customer"])
        with lines_field():
            proposal = proposal_services.create(
                merchant, customer, [order_services.Item(line["product"], line["quantity"])
                                     for line in data["lines"]],
                valid_until=data["valid_until"], note=data.get("note", ""), today=merchant.today())
        location = url_for("api_proposals.ProposalById", proposal_id=proposal.id)
        return proposal, 201, {"Location": location}


@blp.route("/<id:proposal_id>")
class ProposalById(MethodView):
    @blp.response(200, ProposalSchema)
    @answers(blp, 404)
    def get(self, proposal_id):
        """Read a proposal"""
        return _proposal(proposal_id)


@blp.route("/<id:proposal_id>/send")
class ProposalSend(MethodView):
    @blp.response(200, ProposalSchema)
    @answers(blp, 404, 409)
    def post(self, proposal_id):
        """Send a draft to the customer: the portal shows it and it is emailed (409 if sent
        already or past its valid-until day)"""
        merchant = current_merchant()
        return proposal_services.send(merchant, _proposal(proposal_id), merchant.today())
