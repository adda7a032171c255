"""Why a payment failed or was cancelled, in the customer's language (B-5).

Those reasons are stored with the payment in English (the admin reads them, webhooks will carry
them, and a worker writes most of them with no customer present), so they are translated when
shown: each stored text the code writes is a key here. A text not listed (a gateway's own
message) is shown as stored. `tests/test_languages.py` checks the table covers what the billing
code writes.
"""
from ..core.i18n import lazy_gettext as _l
from . import bp

KNOWN = {
    # gateways.MESSAGES and Stripe's declines
    "The card was declined. Please use another payment method.":
        _l("The card was declined. Please use another payment method."),
    "The payment was declined for insufficient funds.":
        _l("The payment was declined for insufficient funds."),
    "The payment provider could not be reached; the payment is pending.":
        _l("The payment provider could not be reached; the payment is pending."),
    "The card has expired. Please use another card.":
        _l("The card has expired. Please use another card."),
    "The card's security code is incorrect.": _l("The card's security code is incorrect."),
    "The card could not be processed. Please try again in a moment.":
        _l("The card could not be processed. Please try again in a moment."),
    "Your bank asked to confirm this payment, which cannot be done here. Please use another "
    "payment method.": _l("Your bank asked to confirm this payment, which cannot be done here. "
                          "Please use another payment method."),
    # scheduled and autopay payments
    "Cancelled: the payment method was removed.":
        _l("Cancelled: the payment method was removed."),
    "Autopay was turned off.": _l("Autopay was turned off."),
    "The invoice was paid.": _l("The invoice was paid."),
    "Autopay is off or no payment method is on file.":
        _l("Autopay is off or no payment method is on file."),
    "Nothing was left to pay.": _l("Nothing was left to pay."),
    "Cancelled by you.": _l("Cancelled by you."),
    "Replaced by the payment you scheduled.": _l("Replaced by the payment you scheduled."),
}


@bp.app_template_global("stored_message")
def stored_message(text: str | None) -> str:
    if not text:
        return ""
    known = KNOWN.get(text)
    return str(known) if known is not None else text
