"""The live preview page (P-9), framed by the admin's profile page."""
from datetime import date, timedelta
from types import SimpleNamespace

from flask import abort, g, request

from ..billing.account import AccountSummary, Activity
from ..profiles import preview
from ..profiles.tabs import GLOBAL
from . import bp
from .forms import ActionForm
from .rendering import render_widget


def sample_summary(currency: str) -> AccountSummary:
    today = date.today()
    return AccountSummary(
        balance_minor=48250, overdue_minor=12000, open_invoices=3,
        next_due_date=today + timedelta(days=9), next_due_minor=21250, currency=currency,
        recent=[Activity(today - timedelta(days=2), "invoice", "Invoice INV-01042", 21250,
                         currency, "due"),
                Activity(today - timedelta(days=16), "payment", "Payment", 9900, currency,
                         "succeeded"),
                Activity(today - timedelta(days=40), "invoice", "Invoice INV-00987", 12000,
                         currency, "overdue")])


@bp.get("/preview")
def preview_page():
    if not preview.check_token(request.args.get("token"), g.profile):
        abort(403)
    stored = (g.profile.settings or {}).get(GLOBAL.key) or {}
    overrides = {key: request.args[key] for key in preview.LOOK_KEYS if key in request.args}
    look = GLOBAL.view({**stored, **overrides})  # values that do not fit fall back to defaults
    g.customer = SimpleNamespace(first_name="Alex", last_name="Sample", credit_minor=0,
                                 autopay=False)
    # The admin page frames the preview from this origin: the preview reports its height there,
    # as the real widget does to the merchant's site, so it is never clipped (issue #20-9).
    return render_widget("widget/overview.html", look=look, preview=True,
                         origins=[request.host_url.rstrip("/")],
                         summary=sample_summary(g.merchant.currency), action_form=ActionForm())
