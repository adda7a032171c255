"""Why a payment failed or was cancelled, in the customer's language (B-5): the stored reason
(`billing.reasons`) translated where a page shows it."""
from ..billing.reasons import shown
from . import bp

bp.app_template_global("stored_message")(shown)
stored_message = shown
