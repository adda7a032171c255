"""A "Pay invoice" link (W-5), from an email or a PDF: the invoice after sign-in, or the guest
payment page when the merchant allows paying without signing in; and what such a link says
once it no longer pays (already paid, expired). Guest payment itself is `guest`."""
from flask import abort, g, redirect, session, url_for

from ..billing import issuing
from ..tenancy.configuration import PORTAL, merchant_settings
from . import bp
from .rendering import render_widget

AFTER_LOGIN = "after_login"
GUEST_LINK_KEY = "guest_pay_link"


def guest_payment_allowed() -> bool:
    return (merchant_settings(g.merchant, PORTAL).allow_guest_invoice_payment
            and g.profile.payment.allow_payments)


def skips_login() -> bool:
    return guest_payment_allowed() and merchant_settings(g.merchant, PORTAL).skip_login_screen


def guest_link() -> str | None:
    """On the sign-in page: "Pay without signing in" for the Pay invoice link that led there."""
    token = session.get(GUEST_LINK_KEY)
    return url_for(".guest_pay", token=token) if token and guest_payment_allowed() else None


def pay_link_closed(token: str):
    """A pay link that no longer pays: "already paid" for a paid invoice, else the expired
    link page (a void invoice, a forged or foreign link)."""
    named = issuing.invoice_named_by(g.merchant, token)
    if named is not None and named.status == "paid":
        return render_widget("widget/already_paid.html", invoice=named)
    return render_widget("widget/link_expired.html", status=404, request_url=url_for(".login"))


@bp.get("/pay/<token>")
def pay(token: str):
    """The "Pay invoice" link of an email or PDF: the invoice after sign-in, or the guest
    payment page when the merchant allows it (W-5)."""
    invoice = issuing.invoice_for_pay_token(g.merchant, token)
    if invoice is None:
        return pay_link_closed(token)
    if g.customer is None:
        session[AFTER_LOGIN] = url_for(".pay", token=token)
        if guest_payment_allowed():  # W-5: pay without signing in, offered or straight
            if skips_login():
                return redirect(url_for(".guest_pay", token=token))
            session[GUEST_LINK_KEY] = token
        return redirect(url_for(".login"))
    if invoice.customer_id != g.customer.id:
        abort(404)
    if g.profile.payment.allow_payments:  # straight to paying it, the invoice ticked
        return redirect(url_for(".pay_invoices", invoice=invoice.id))
    if g.profile.invoice.enable_pdf_mode_only:
        return redirect(url_for(".invoice_pdf", invoice_id=invoice.id))
    return redirect(url_for(".invoice_detail", invoice_id=invoice.id))
