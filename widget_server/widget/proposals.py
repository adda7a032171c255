"""Proposals in the widget (issue #23 items 1 and 3, SPEC W-9, P-7): where the profile's Global
tab shows them, the customer's open and past proposals, each with its lines, totals, validity
and a PDF; Accept (typing their full name) places the order, Decline takes a reason. The rules
are `commerce.proposals`; this page parses and renders."""
from flask import Response, abort, flash, g, redirect, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

from ..billing import tax
from ..commerce import proposal_pdf as document
from ..commerce import proposals as service
from ..commerce.orders import get_order
from ..commerce.proposal_models import ACCEPTED, DECLINED, EXPIRED, SENT
from ..core.domain import DomainError
from ..core.extensions import db
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.money import from_minor
from ..web.form_fields import TrimmedField
from . import bp
from .rendering import EVENT_KEY, merchant_today, render_widget, widget_event

# The service's messages, in the customer's language (extracted for the catalogues here).
MESSAGES = {
    service.EXPIRED_MESSAGE: _l("This proposal has expired: it can no longer be accepted."),
    service.CHANGED: _l("The products or prices of this proposal are no longer offered: ask "
                        "for a new proposal."),
    service.NAME_NEEDED: _l("Type your full name to accept."),
    service.NAME_MISMATCH: _l("Type your full name as it stands on your account."),
    service.REASON_NEEDED: _l("Tell us why you decline."),
    service.REASON_TOO_LONG: _l("Keep the reason under 1,000 characters."),
    service.DECIDED: _l("This proposal is already answered."),
    service.NOT_OPEN: _l("This proposal is not open."),
}

STATES = {SENT: _l("Open"), ACCEPTED: _l("Accepted"), DECLINED: _l("Declined"),
          EXPIRED: _l("Expired")}


@bp.app_template_global("proposal_state")
def proposal_state(proposal) -> str:
    state = proposal.state(merchant_today())
    label = STATES.get(state)
    return str(label) if label is not None else state.capitalize()


class AcceptForm(FlaskForm):
    name = TrimmedField(_l("Your full name"), validators=[Length(max=200)],
                        render_kw={"autocomplete": "name"})


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("Why do you decline?"), validators=[Length(max=1000)],
                           render_kw={"rows": 3, "maxlength": 1000})


def _say(exc: DomainError) -> str:
    message = MESSAGES.get(exc.message)
    return str(message) if message is not None else exc.message


def _own(proposal_id: int):
    proposal = service.visible_to_customer(g.merchant, g.customer, proposal_id)
    if proposal is None:
        abort(404)
    return proposal


def proposal_event(proposal, type_: str, order=None) -> dict:
    """proposal-accepted / proposal-declined for the host page: which proposal, its amount
    (what its first invoice charges), and for an acceptance the order it made."""
    more = {"order": order.number, "order_id": order.id} if order is not None else {}
    return widget_event(type_, proposal=proposal.number, proposal_id=proposal.id,
                        amount=str(from_minor(proposal.total_minor, proposal.currency)),
                        amount_minor=proposal.total_minor, currency=proposal.currency, **more)


@bp.get("/proposals")
def proposals():
    today = merchant_today()
    rows = service.list_for_customer(g.merchant, g.customer)
    row_url = url_for(".proposal_detail", proposal_id=0)[:-1]
    return render_widget("widget/proposals.html", row_url=row_url,
                         open_ones=[p for p in rows if p.is_open(today)],
                         past=[p for p in rows if not p.is_open(today)])


def _detail(proposal, *, accept_form=None, decline_form=None, error=None, status=200):
    order = None
    if proposal.order_id is not None:
        order = get_order(g.merchant, proposal.order_id, customer_id=g.customer.id)
    return render_widget("widget/proposal.html", proposal=proposal, order=order,
                         is_open=proposal.is_open(merchant_today()),
                         state=proposal.state(merchant_today()), tax=tax.summary(proposal.lines),
                         accept_form=accept_form or AcceptForm(formdata=None),
                         decline_form=decline_form or DeclineForm(formdata=None),
                         error=error, status=status)


@bp.get("/proposals/<id:proposal_id>")
def proposal_detail(proposal_id: int):
    return _detail(_own(proposal_id))


@bp.get("/proposals/<id:proposal_id>.pdf")
def proposal_pdf(proposal_id: int):
    proposal = _own(proposal_id)
    body = document.render(g.merchant, g.customer, proposal)
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{proposal.number}.pdf"'})


@bp.post("/proposals/<id:proposal_id>/accept")
def accept_proposal(proposal_id: int):
    """Accept: the order is placed and the customer sees it. Two clicks or two tabs at once
    make one order (the service's claim), and both land on it."""
    proposal = _own(proposal_id)
    form = AcceptForm()
    if not form.validate_on_submit():
        return _detail(proposal, accept_form=form, status=400)
    try:
        order = service.accept(g.merchant, g.customer, proposal, name=form.name.data or "",
                               client_ip=request.remote_addr or "", today=merchant_today())
    except DomainError as exc:
        db.session.rollback()  # a refusal never commits half a change
        db.session.refresh(proposal)
        if exc.field == "name":
            form.name.errors = [_say(exc)]
            return _detail(proposal, accept_form=form, status=400)
        return _detail(proposal, error=_say(exc), status=exc.status)
    session[EVENT_KEY] = proposal_event(proposal, "proposal-accepted", order)
    flash(_("You accepted proposal %(number)s: your order %(order)s is placed.",
            number=proposal.number, order=order.number), "success")
    return redirect(url_for(".order_detail", order_id=order.id), 303)


@bp.post("/proposals/<id:proposal_id>/decline")
def decline_proposal(proposal_id: int):
    proposal = _own(proposal_id)
    form = DeclineForm()
    if not form.validate_on_submit():
        return _detail(proposal, decline_form=form, status=400)
    try:
        service.decline(g.merchant, g.customer, proposal, reason=form.reason.data or "",
                        today=merchant_today())
    except DomainError as exc:
        db.session.rollback()
        db.session.refresh(proposal)
        if exc.field == "reason":
            form.reason.errors = [_say(exc)]
            return _detail(proposal, decline_form=form, status=400)
        return _detail(proposal, error=_say(exc), status=exc.status)
    session[EVENT_KEY] = proposal_event(proposal, "proposal-declined")
    flash(_("You declined proposal %(number)s.", number=proposal.number), "success")
    return redirect(url_for(".proposal_detail", proposal_id=proposal.id), 303)
