"""/api/v1/products (issue #25 item 2): the catalogue, read only. Prices in minor units."""
from flask import abort
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..catalogue import services
from ..core.extensions import csrf, limiter
from .auth import authenticate, current_merchant, rate_key, rate_limit
from .schemas import ListArgsSchema, answers, list_schema

blp = Blueprint("api_products", __name__, url_prefix="/api/v1/products",
                description="Your catalogue: what invoices, orders and the cart are made of.")
blp.before_request(authenticate)
csrf.exempt(blp)
limiter.shared_limit(rate_limit, scope="api", key_func=rate_key)(blp)


class ProductSchema(Schema):
    object = fields.Constant("product", required=True)
    id = fields.Integer(required=True)
    sku = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String()
    unit_amount = fields.Integer(attribute="unit_price_minor", required=True, metadata={
        "description": "The price in the currency's minor unit (cents)."})
    currency = fields.String(required=True, metadata={"description": "ISO 4217, upper case."})
    tax_rate_bp = fields.Integer(metadata={"description": "Tax rate in basis points (1900 = "
                                                          "19 %)."})
    interval = fields.String(allow_none=True, metadata={
        "description": "null for a one-time price; else how often it recurs."})
    interval_count = fields.Integer()
    active = fields.Boolean(metadata={"description": "On sale (false: archived)."})


class ProductListArgsSchema(ListArgsSchema):
    active = fields.Boolean(metadata={"description": "Only those on sale (true) or archived "
                                                     "(false)."})


@blp.route("")
class Products(MethodView):
    @blp.arguments(ProductListArgsSchema, location="query")
    @blp.response(200, list_schema(ProductSchema, "ProductList"))
    @answers(blp, 404)
    def get(self, args):
        """List products"""
        merchant = current_merchant()
        after = args.get("starting_after")
        if after is not None and services.get_product(merchant, after) is None:
            abort(404, description="No such product.")
        rows, more = services.products_after(merchant, limit=args["limit"], starting_after=after,
                                             active=args.get("active"))
        return {"data": rows, "has_more": more}


@blp.route("/<id:product_id>")
class ProductById(MethodView):
    @blp.response(200, ProductSchema)
    @answers(blp, 404)
    def get(self, product_id):
        """Read a product"""
        product = services.get_product(current_merchant(), product_id)
        if product is None:
            abort(404, description="No such product.")
        return product
