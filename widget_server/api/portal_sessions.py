"""/api/v1/portal_sessions (issue #25 item 6, SPEC E-8): single sign-on into the widget. The
merchant's server asks for a token for one of its customers and hands it to the loader as
`data-session` (or sends the browser to `url`); the widget exchanges it once, within 5 minutes,
for a portal session. A new token for a customer cancels that customer's older unused ones.
No Idempotency-Key here: a replay would have to keep the token itself, and only its hash is
kept (ask again instead: the newer token cancels the older)."""
from urllib.parse import quote

from flask import abort, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..core.extensions import csrf, limiter
from ..customers import services, sign_in_tokens
from ..profiles import services as profile_services
from ..tenancy.configuration import EMBEDDING, merchant_settings
from ..web.request_guards import MAX_ID
from .auth import authenticate, current_merchant, rate_key, rate_limit
from .schemas import BodySchema, UTCDateTime, answers

blp = Blueprint("api_portal_sessions", __name__, url_prefix="/api/v1/portal_sessions",
                description="Single sign-on: sign a customer into the widget or the portal "
                            "without a password.")
blp.before_request(authenticate)
csrf.exempt(blp)
limiter.shared_limit(rate_limit, scope="api", key_func=rate_key)(blp)


class PortalSessionInSchema(BodySchema):
    customer = fields.Integer(required=True, strict=True,
                              validate=validate.Range(1, MAX_ID),  # INTEGER keys
                              metadata={"description": "The customer's id."})
    profile = fields.String(validate=validate.Length(1, 64), metadata={
        "description": "A self-service profile's id (slug); the default profile when left out."})
    return_url = fields.String(validate=validate.Length(max=500), metadata={
        "description": "Where the portal leads back to: https, or on your allowed embed "
                       "origins."})


class PortalSessionSchema(Schema):
    object = fields.Constant("portal_session", required=True)
    token = fields.String(required=True, metadata={
        "description": "Give it to the loader as `data-session`. Single use."})
    url = fields.String(required=True, metadata={
        "description": "Opens the standalone portal signed in. Single use."})
    customer = fields.Integer(required=True)
    return_url = fields.String()
    expires_at = UTCDateTime(required=True)


@blp.route("")
class PortalSessions(MethodView):
    @blp.arguments(PortalSessionInSchema)
    @blp.response(201, PortalSessionSchema)
    @answers(blp, 404)
    def post(self, data):
        """Create a single sign-on token for a customer (valid 5 minutes, single use)"""
        merchant = current_merchant()
        customer = services.get_customer(merchant, data["customer"])
        if customer is None or customer.archived_at is not None:
            abort(404, description="No such customer.")
        _found, profile = profile_services.portal_for(merchant.slug, data.get("profile"))
        if profile is None:
            abort(404, description="No such profile.")
        return_url = sign_in_tokens.check_return_url(
            data.get("return_url"), merchant_settings(merchant, EMBEDDING).allowed_origins)
        row, token = sign_in_tokens.issue(customer, return_url)
        base = current_app.config["PUBLIC_URL"].rstrip("/") + "/"
        path = (f"p/{quote(merchant.slug)}/" if "profile" not in data
                else f"w/{quote(merchant.slug)}/{quote(profile.slug)}/")
        return {"token": token, "url": f"{base}{path}?session={token}",
                "customer": customer.id, "return_url": return_url,
                "expires_at": row.expires_at}, 201
