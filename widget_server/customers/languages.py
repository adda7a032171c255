"""The customer's language, remembered for their emails (issue #20 item 5, B-5).

The widget chooses a language on every request (`core.i18n.select_locale`: the browser's best
match among the merchant's enabled languages, else the merchant's). Emails are sent without a
browser (an invoice issued by the admin, a scheduled payment's job), so the widget's choice is
recorded on the customer: on sign-in and on each signed-in request where it differs from the
recorded one (one write when the customer changes language, none otherwise). Emails are then
rendered in `core.i18n.customer_language`: that recorded language while the merchant enables it,
else the merchant's. Flushed, never committed: the request commits.
"""
from ..core.extensions import db
from ..core.i18n import current_language


def remember_language(customer) -> None:
    """Record the language of the current widget request as `customer`'s (None: nobody is
    signed in, nothing to do)."""
    if customer is None:
        return
    language = current_language()
    if customer.language != language:
        customer.language = language
        db.session.flush()
