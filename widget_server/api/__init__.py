"""The merchant's REST API under /api/v1 (SPEC A-1, A-3; issue #25): a face like the admin and
the widget, calling domain services only. flask-smorest and marshmallow schemas both check the
requests and write the OpenAPI document (/api/v1/openapi.json); /api/v1/docs renders that
document on this server. Errors are mapped once, app-wide, in `web.errors` (JSON under /api/)."""
from flask import Flask
from flask_smorest import Api

from .schemas import ErrorSchema

API_BLUEPRINTS = ("customers", "products", "invoices", "payments", "orders",
                 "proposals", "portal_sessions")


class MerchantApi(Api):
    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None  # every operation lists its own statuses instead

    def _register_error_handlers(self):
        """None: smorest's would answer every HTTP error of the whole app; `web.errors`
        already answers JSON `{"error": {...}}` under /api/ and pages elsewhere."""


def register(app: Flask) -> Api:
    from ..web.request_guards import IdConverter
    from ..webhooks import services as webhooks
    from . import customers, docs, invoices, orders, payments, portal_sessions, products, proposals

    webhooks.customer_shape = customers.public_customer  # a webhook's customer reads as here

    for name, value in {"API_TITLE": "Widget server API", "API_VERSION": "v1",
                        "OPENAPI_VERSION": "3.0.3", "OPENAPI_URL_PREFIX": "/api/v1",
                        "OPENAPI_JSON_PATH": "openapi.json"}.items():
        app.config.setdefault(name, value)
    api = MerchantApi(app, spec_kwargs={
        "info": {"description": "Authenticate with `Authorization: Bearer sk_live_…` (a key "
                                "made in the admin under API keys). Amounts are in minor "
                                "units with their currency; timestamps ISO 8601 in UTC. "
                                "Lists page with `limit` and `starting_after`."},
        "security": [{"bearerAuth": []}]})
    api.register_converter(IdConverter, lambda converter: {
        "type": "integer", "minimum": converter.min, "maximum": converter.max})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for blp in (customers.blp, products.blp, invoices.blp, payments.blp, orders.blp,
                proposals.blp, portal_sessions.blp):
        api.register_blueprint(blp)
    app.register_blueprint(docs.bp)
    return api
