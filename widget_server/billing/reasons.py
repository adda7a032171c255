"""Why a payment failed, waits or was cancelled: the texts stored with it (B-5).

A reason is stored in English: the admin reads it, the API and webhooks carry it, and a worker
writes most of them with no customer present. A customer is shown it in their own language, by
the page or the email that shows it. Every such text is written through `N_`, which marks it for
the catalogues (`make translations` extracts `N_`) and registers it, so `shown` knows it is
ours; a text not registered (a gateway's own words) is shown as stored.
`tests/test_languages.py` fails on a reason the billing code writes without `N_`.
"""
from ..core.i18n import gettext

STORED: set[str] = set()


def N_(text: str) -> str:
    """Mark `text` as a stored reason: extracted for translation, translated when shown."""
    STORED.add(text)
    return text


def shown(text: str | None) -> str:
    """A stored reason in the current language (a text not written by us: as it is)."""
    if not text:
        return ""
    return gettext(text) if text in STORED else text


NOT_SET_UP = N_("Payments are not set up for this merchant yet.")
OTHER_PROVIDER = N_("The payment was made through another payment provider.")
NOTHING_LEFT = N_("Nothing was left to pay.")
INVOICE_PAID = N_("The invoice was paid.")
