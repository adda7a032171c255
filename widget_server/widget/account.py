"""The account overview (W-1)."""

from flask import g, redirect, url_for

from ..billing import account as billing_account
from . import bp
from .rendering import merchant_today, render_widget


@bp.get("/")
def index():
    return redirect(url_for(".overview" if g.customer else ".login"))


@bp.get("/account")
def overview():
    summary = billing_account.summary(g.merchant, g.customer, merchant_today(),
                                      show_payments=g.profile.payment.show_payments,
                                      show_invoices=g.profile.invoice.show_invoices)
    return render_widget("widget/overview.html", summary=summary)
