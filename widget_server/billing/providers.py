"""Which gateway a merchant's payments go through: Stripe when the platform runs on Stripe
(`PAYMENT_GATEWAY=stripe`), else the sandbox. Kept apart from `gateways` (the interface and the
sandbox) so that the Stripe adapter, which builds on that interface, is not imported by it."""
from flask import current_app

from .gateways import Gateway, SandboxGateway
from .stripe_gateway import StripeGateway


def gateway_for(merchant) -> Gateway:
    """The merchant's gateway. Raises `GatewayUnavailable` when Stripe is not set up for the
    merchant."""
    if current_app.config.get("PAYMENT_GATEWAY") == "stripe":
        return StripeGateway.for_merchant(merchant)
    return SandboxGateway()
