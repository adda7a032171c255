"""/api/v1/customers (issue #25 item 2): create, read, update, list with search. Primary Email
addresses are `emails`; custom field values are named by their definitions' names."""
from flask import abort, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..core import validation
from ..core.domain import DomainError
from ..core.extensions import csrf, limiter
from ..customers import services
from ..customers.fields import list_definitions
from .auth import authenticate, current_merchant, rate_key, rate_limit
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

blp = Blueprint("api_customers", __name__, url_prefix="/api/v1/customers",
                description="Your customers: their details, Primary Email addresses and custom "
                            "field values.")
blp.before_request(authenticate)
csrf.exempt(blp)
limiter.shared_limit(rate_limit, scope="api", key_func=rate_key)(blp)

COUNTRY = validate.Regexp(r"^([A-Za-z]{2})?$", error="A two-letter country code (ISO 3166).")


def _text(size, **kwargs):
    return fields.String(validate=validate.Length(max=size), **kwargs)


class CustomerSchema(Schema):
    object = fields.Constant("customer", required=True)
    id = fields.Integer(required=True)
    first_name = fields.String(required=True)
    last_name = fields.String(required=True)
    company = fields.String()
    emails = fields.List(fields.String(), required=True,
                         metadata={"description": "The Primary Email addresses, in order."})
    phone = fields.String()
    address_line1 = fields.String()
    address_line2 = fields.String()
    city = fields.String()
    region = fields.String()
    postal_code = fields.String()
    country = fields.String()
    custom_fields = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True),
                                metadata={"description": "Values by their field's name."})
    archived = fields.Boolean()
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class CustomerInSchema(BodySchema):
    first_name = _text(100, required=True)
    last_name = _text(100, required=True)
    company = _text(200)
    emails = fields.List(fields.String(validate=validate.Length(max=254)), required=True,
                         validate=validate.Length(1, 20),
                         metadata={"description": "Primary Email: one or more addresses; "
                                                  "every notification goes to each."})
    phone = _text(40)
    address_line1 = _text(200)
    address_line2 = _text(200)
    city = _text(100)
    region = _text(100)
    postal_code = _text(20)
    country = fields.String(validate=COUNTRY)
    custom_fields = fields.Dict(keys=fields.String(validate=validate.Length(max=80)),
                                values=fields.Raw(allow_none=True),
                                metadata={"description": "Values by their field's name; "
                                                         "a yes/no field takes true or false."})


class CustomerChangeSchema(CustomerInSchema):
    """The same fields, each optional (send only what changes)."""


class CustomerListArgsSchema(ListArgsSchema):
    q = fields.String(validate=validate.Length(max=200), metadata={
        "description": "Search names, company, username and Primary Email addresses."})


def _dump(customer, definitions, merchant) -> dict:
    out = {name: getattr(customer, name) for name in services.PROFILE_FIELDS}
    out.update(id=customer.id, emails=customer.primary_emails,
               custom_fields=services.custom_values_named(merchant, customer, definitions),
               archived=customer.archived_at is not None, created_at=customer.created_at,
               updated_at=customer.updated_at)
    return out


def public_customer(customer, merchant) -> dict:
    """A customer as the API shows it; webhooks send the same (registered in `api.register`)."""
    return CustomerSchema().dump(_dump(customer, None, merchant))


def _emails(raw: list[str]) -> list[str]:
    try:
        return validation.primary_emails(raw)
    except ValueError as exc:
        raise DomainError.invalid({"emails": str(exc)}, status=422) from exc


def _customer(customer_id: int):
    customer = services.get_customer(current_merchant(), customer_id)
    if customer is None:
        abort(404, description="No such customer.")
    return customer


@blp.route("")
class Customers(MethodView):
    @blp.arguments(CustomerListArgsSchema, location="query")
    @blp.response(200, list_schema(CustomerSchema, "CustomerList"))
    @answers(blp, 404)
    def get(self, args):
        """List customers, newest last, optionally searched (`q`)"""
        merchant = current_merchant()
        after = args.get("starting_after")
        if after is not None:
            _customer(after)  # a cursor of another merchant (or none) is not found
        rows, more = services.customers_after(merchant, args.get("q", ""), limit=args["limit"],
                                              starting_after=after)
        definitions = list_definitions(merchant)
        return {"data": [_dump(c, definitions, merchant) for c in rows], "has_more": more}

    @idempotent
    @blp.doc(parameters=[IDEMPOTENCY])
    @blp.arguments(CustomerInSchema)
    @blp.response(201, CustomerSchema, headers=CREATED_HEADERS)
    @answers(blp, 409)
    def post(self, data):
        """Create a customer"""
        merchant = current_merchant()
        details = services.check_details({name: data.get(name, "")
                                          for name in services.PROFILE_FIELDS})
        emails = _emails(data["emails"])
        custom = services.custom_values_by_name(merchant, data.get("custom_fields") or {})
        customer = services.save_customer(merchant, None, details=details, emails=emails,
                                          custom_values=custom)
        location = url_for("api_customers.CustomerById", customer_id=customer.id)
        return _dump(customer, None, merchant), 201, {"Location": location}


@blp.route("/<id:customer_id>")
class CustomerById(MethodView):
    @blp.response(200, CustomerSchema)
    @answers(blp, 404)
    def get(self, customer_id):
        """Read a customer"""
        return _dump(_customer(customer_id), None, current_merchant())

    @blp.arguments(CustomerChangeSchema(partial=True))
    @blp.response(200, CustomerSchema)
    @answers(blp, 404)
    def patch(self, data, customer_id):
        """Change a customer: only the fields sent; `custom_fields` names only those to change"""
        merchant = current_merchant()
        customer = _customer(customer_id)
        details = services.check_details({name: data[name] for name in services.PROFILE_FIELDS
                                          if name in data})
        emails = _emails(data["emails"]) if "emails" in data else customer.primary_emails
        custom = services.custom_values_by_name(merchant, data.get("custom_fields") or {},
                                                customer.custom_fields)
        services.save_customer(merchant, customer, details=details, emails=emails,
                               custom_values=custom)
        return _dump(customer, None, merchant)
