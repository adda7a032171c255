"""Invoices in the widget (W-2, P-5): list, detail and PDFs. The "Pay invoice" link is
`pay_links`."""
from flask import Response, abort, g, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..billing import invoices as billing
from ..billing import issuing, pdf, tax
from ..billing.models import Invoice
from ..core.extensions import db
from ..web.request_guards import optional_id
from . import bp
from .rendering import merchant_today, render_widget, widget_url_for

PAGE = 20


def _own_invoice(invoice_id: int):
    invoice = billing.get_invoice(g.merchant, invoice_id, customer_id=g.customer.id)
    if invoice is None or invoice.status == "draft":
        abort(404)
    return invoice


@bp.get("/invoices")
def invoices():
    outstanding = request.args.get("show") == "outstanding"
    before = optional_id(request.args.get("before"))
    after = optional_id(request.args.get("after")) if before is None else None
    if after is not None:  # the "newer" link: a page above the cursor (#20)
        items = billing.newer_for_customer(g.merchant, g.customer, after_id=after,
                                           outstanding_only=outstanding, limit=PAGE + 1,
                                           rows=True)
        newer = len(items) > PAGE
        items = items[-PAGE:]
        more = bool(items) and bool(billing.list_for_customer(
            g.merchant, g.customer, before_id=items[-1].id, outstanding_only=outstanding,
            limit=1))
    else:
        items = billing.list_for_customer(g.merchant, g.customer, before_id=before,
                                          outstanding_only=outstanding, limit=PAGE + 1,
                                          rows=True)
        more = len(items) > PAGE
        newer = before is not None and bool(items) and bool(billing.newer_for_customer(
            g.merchant, g.customer, after_id=items[0].id, outstanding_only=outstanding,
            limit=1))
    # One url_for for every row: ".../invoices/0" less its last digit, then each row's id.
    row_url = widget_url_for(".invoice_detail", invoice_id=0)[:-1]
    return render_widget("widget/invoices.html", invoices=items[:PAGE], more=more, newer=newer,
                         row_url=row_url,
                         outstanding=outstanding, today=merchant_today(),
                         pdf_only=g.profile.invoice.enable_pdf_mode_only)


@bp.get("/invoices/<id:invoice_id>")
def invoice_detail(invoice_id: int):
    invoice = _own_invoice(invoice_id)
    # no dead end (#20): a payable invoice offers Pay where the profile takes payments and no
    # payment for it is in flight
    payable = (invoice.status == "issued" and invoice.balance_minor > 0
               and invoice.payment_claim_id is None and g.profile.payment.allow_payments)
    return render_widget("widget/invoice.html", invoice=invoice, payable=payable,
                         tax=tax.summary(invoice.lines))


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
    # every invoice's lines in one statement, not one per invoice (#26): the same invoices,
    # already in the session, get their lines from the eager load
    db.session.scalars(select(Invoice).where(Invoice.id.in_([i.id for i in items]))
                       .options(selectinload(Invoice.lines))).all()
    return _pdf(items, "invoices.pdf")
