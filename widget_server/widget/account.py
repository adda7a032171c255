"""The account overview (W-1)."""

from flask import g, redirect, url_for

from ..billing import account as billing_account
from . import bp
from .access import customer_required
from .forms import ActionForm
from .rendering import merchant_today, render_widget


@bp.get("/")
def index():
    return redirect(url_for(".overview" if g.customer else ".login"))


@bp.get("/account")
@customer_required
def overview():
    summary = billing_account.summary(g.merchant, g.customer, merchant_today())
    return render_widget("widget/overview.html", summary=summary, action_form=ActionForm())
