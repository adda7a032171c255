"""Invoices in the widget (W-2, P-5): list, detail, PDFs, and the "Pay invoice" link."""
from flask import Response, abort, g, redirect, request, session, url_for

from ..billing import invoices as billing
from ..billing import issuing, pdf
from ..request_guards import optional_id
from . import bp, guest
from .rendering import merchant_today, render_widget

PAGE = 20
AFTER_LOGIN = "after_login"


def _own_invoice(invoice_id: int):
    invoice = billing.get_invoice(g.merchant, invoice_id, customer_id=g.customer.id)
    if invoice is None or invoice.status == "draft":
        abort(404)
    return invoice


@bp.get("/invoices")
def invoices():
    outstanding = request.args.get("show") == "outstanding"
    before = optional_id(request.args.get("before"))
    items = billing.list_for_customer(g.merchant, g.customer, before_id=before,
                                      outstanding_only=outstanding, limit=PAGE + 1)
    more = len(items) > PAGE
    # One url_for for every row: ".../invoices/0" less its last digit, then each row's id.
    row_url = url_for(".invoice_detail", invoice_id=0)[:-1]
    return render_widget("widget/invoices.html", invoices=items[:PAGE], more=more,
                         row_url=row_url,
                         outstanding=outstanding, today=merchant_today(),
                         pdf_only=g.profile.invoice.enable_pdf_mode_only)


@bp.get("/invoices/<id:invoice_id>")
def invoice_detail(invoice_id: int):
    invoice = _own_invoice(invoice_id)
    return render_widget("widget/invoice.html", invoice=invoice)


def _pdf(invoices, filename: str) -> Response:
    links = {i.id: issuing.pay_link(g.merchant, i) for i in invoices if i.status == "issued"}
    body = pdf.render(g.merchant, g.customer, invoices, links)
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/invoices/<id:invoice_id>.pdf")
def invoice_pdf(invoice_id: int):
    invoice = _own_invoice(invoice_id)
    return _pdf([invoice], f"{invoice.number}.pdf")


@bp.get("/invoices.pdf")
def invoices_pdf():
    items = billing.list_for_customer(g.merchant, g.customer, limit=500)
    if not items:
        abort(404)
    return _pdf(items, "invoices.pdf")


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
        if guest.guest_payment_allowed():  # W-5: pay without signing in, offered or straight
            if guest.skips_login():
                return redirect(url_for(".guest_pay", token=token))
            session[guest.GUEST_LINK_KEY] = token
        return redirect(url_for(".login"))
    if invoice.customer_id != g.customer.id:
        abort(404)
    if g.profile.payment.allow_payments:  # straight to paying it, the invoice ticked
        return redirect(url_for(".pay_invoices", invoice=invoice.id))
    if g.profile.invoice.enable_pdf_mode_only:
        return redirect(url_for(".invoice_pdf", invoice_id=invoice.id))
    return redirect(url_for(".invoice_detail", invoice_id=invoice.id))
