"""Payment history and the methods kept on file (W-4): Show Payments governs the history;
saved methods can always be seen and removed by their owner and autopay turned off, even with
payments switched off; made default or used for autopay only while the profile takes payments
and its Credit Card/ACH Mode keeps methods on file."""
from flask import Response, abort, flash, g, redirect, request, url_for

from ..billing import credit_notes, methods, pdf, reasons, schedules
from ..billing import payment_history as billing_history
from ..billing.gateways import GatewayUnavailable
from ..billing.payment_history import history
from ..core.domain import DomainError
from ..core.i18n import gettext as _
from ..web.form_fields import show_errors
from ..web.request_guards import optional_id
from . import bp
from .forms import ActionForm
from .rendering import render_widget

PAGE = 20
bp.add_app_template_global(billing_history.method_words, "payment_method_words")
bp.add_app_template_global(billing_history.label_words, "method_label_words")
bp.add_app_template_global(reasons.shown, "stored_message")  # a stored reason, translated


@bp.get("/payments")
def payment_history():
    """Payments, newest first (keyset pages); on the first page, the refunds and credit notes
    too (#24), two more queries whatever their number."""
    before = optional_id(request.args.get("before"))
    items = history(g.merchant, g.customer, before=before, limit=PAGE + 1)
    refunds, notes = (billing_history.refunds_and_credit_notes(g.merchant, g.customer)
                      if before is None else ([], []))
    return render_widget("widget/payments.html", payments=items[:PAGE], more=len(items) > PAGE,
                         form=ActionForm(), refunds=refunds, credit_notes=notes)


@bp.get("/credit-notes/<id:note_id>.pdf")
def credit_note_pdf(note_id: int):
    """A credit note of this customer as PDF (#24); another's is not found."""
    note = credit_notes.get(g.merchant, note_id, customer_id=g.customer.id) or abort(404)
    return Response(pdf.render_credit_note(g.merchant, g.customer, note),
                    mimetype="application/pdf", headers={
                        "Content-Disposition": f'attachment; filename="{note.number}.pdf"'})


def _receipt(payment_id: int):
    payment = billing_history.receipt(g.merchant, g.customer, payment_id)
    if payment is None:
        abort(404)
    return payment


@bp.get("/payments/<id:payment_id>")
def payment_receipt(payment_id: int):
    """A payment's receipt (W-12): its number, and the invoices it paid."""
    payment = _receipt(payment_id)
    return render_widget("widget/receipt.html", payment=payment,
                         paid=billing_history.paid_invoices(payment))


@bp.get("/payments/<id:payment_id>.pdf")
def payment_receipt_pdf(payment_id: int):
    payment = _receipt(payment_id)
    body = pdf.render_receipt(g.merchant, g.customer, payment,
                              billing_history.paid_invoices(payment))
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{payment.receipt_number}.pdf"'})


@bp.post("/payments/<id:payment_id>/cancel")
def cancel_payment(payment_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    done = schedules.cancel(g.merchant, g.customer, payment_id)
    if done:
        flash(done, "success")
    else:
        flash(_("That payment can no longer be cancelled."), "warning")
    return redirect(url_for(".payment_history"))


@bp.get("/methods")
def payment_methods():
    rules = g.profile.payment
    return render_widget("widget/methods.html", form=ActionForm(),
                         methods=methods.on_file(g.merchant, g.customer),
                         keeps_methods=rules.allow_payments and rules.card_ach_mode != "no_save",
                         forced=rules.allow_payments and rules.card_ach_mode == "force_autopay")


def _method_action(action, done: str | None = None):
    """Run a method action for its POST; the flash is the action's own message if it returns
    one (what changed with it), else `done`."""
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        found = action()
    except GatewayUnavailable as exc:  # the provider could not forget it: nothing changed
        flash(str(exc), "warning")
        return redirect(url_for(".payment_methods"))
    if not found:
        abort(404)  # not this customer's method: the same answer as no method at all
    flash(found if isinstance(found, str) else done, "success")  # what changed with it
    return redirect(url_for(".payment_methods"))


@bp.post("/methods/<id:method_id>/remove")
def remove_method(method_id: int):
    return _method_action(lambda: methods.remove(g.merchant, g.customer, method_id))


@bp.post("/methods/<id:method_id>/default")
def default_method(method_id: int):
    return _method_action(lambda: methods.make_default(g.merchant, g.customer, method_id),
                          _("That method is now your default."))


@bp.post("/methods/autopay")
def autopay():
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        flash(methods.set_autopay(g.merchant, g.customer, request.form.get("autopay") == "on",
                                  g.profile.payment), "success")
    except DomainError as exc:
        if exc.status == 403:
            abort(403)  # P-8: a crafted request for what the page does not offer
        for message in show_errors(None, exc):
            flash(message, "warning")
    return redirect(url_for(".payment_methods"))
