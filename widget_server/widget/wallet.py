"""Payment history and the methods kept on file (W-4): Show Payments governs the history;
saved methods can always be removed by their owner, and made default or used for autopay
while the profile's Credit Card/ACH Mode keeps methods on file."""
from flask import abort, flash, g, redirect, request, url_for

from ..billing import methods, schedules
from ..billing.gateways import GatewayUnavailable
from ..billing.payment_history import history
from ..web.request_guards import optional_id
from . import bp
from .forms import ActionForm
from .rendering import render_widget

PAGE = 20


@bp.get("/payments")
def payment_history():
    items = history(g.merchant, g.customer, before=optional_id(request.args.get("before")),
                    limit=PAGE + 1)
    return render_widget("widget/payments.html", payments=items[:PAGE], more=len(items) > PAGE,
                         form=ActionForm())


@bp.post("/payments/<id:payment_id>/cancel")
def cancel_payment(payment_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    done = schedules.cancel(g.merchant, g.customer, payment_id)
    if done:
        flash(done, "success")
    else:
        flash("That payment can no longer be cancelled.", "warning")
    return redirect(url_for(".payment_history"))


@bp.get("/methods")
def payment_methods():
    return render_widget("widget/methods.html", form=ActionForm(),
                         methods=methods.on_file(g.merchant, g.customer),
                         keeps_methods=g.profile.payment.card_ach_mode != "no_save",
                         forced=g.profile.payment.card_ach_mode == "force_autopay")


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
                          "That method is now your default.")


@bp.post("/methods/autopay")
def autopay():
    mode = g.profile.payment.card_ach_mode
    turn_on = request.form.get("autopay") == "on"
    if turn_on and mode == "no_save":
        abort(403)  # P-8: not offered; turning it off is always the customer's right...
    if not turn_on and mode == "force_autopay":
        abort(403)  # ...unless the merchant requires it
    if not ActionForm().validate_on_submit():
        abort(400)
    if methods.set_autopay(g.merchant, g.customer, turn_on):
        flash("Autopay is on." if turn_on else "Autopay is off.", "success")
    else:
        flash("Save a payment method first: autopay charges your default method.", "warning")
    return redirect(url_for(".payment_methods"))
