"""Proposals in the admin (issue #23 item 1, SPEC W-9): the list (filtered by status, expired
included, and customer; keyset pages), a new proposal for a customer from catalogue lines with
its valid-until day and note, sending it, and its outcome: accepted by whom, when and from which
address with a link to the order it made, or declined with the customer's reason."""
from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from ..catalogue import services as catalogue
from ..commerce import orders as order_services
from ..commerce import proposals as service
from ..commerce.proposal_models import STATUSES
from ..core.domain import DomainError
from ..customers import services as customer_services
from ..tenancy.permissions import Permission
from ..web.form_fields import LocalDateField, show_errors
from ..web.request_guards import optional_id
from . import bp
from .access import current_merchant, permission_required
from .orders import ROWS, ActionForm, _lines, admin_date

BILLING = Permission.MANAGE_BILLING
PAGE = 50
VALID_DAYS = 30  # the valid-until day a new proposal's form suggests


@bp.get("/proposals")
@permission_required(BILLING)
def proposals():
    merchant = current_merchant()
    status = request.args.get("status", "")
    status = status if status in STATUSES else ""
    customer_id = optional_id(request.args.get("customer"))
    customer = customer_services.get_customer(merchant, customer_id) if customer_id else None
    if customer_id and customer is None:
        abort(404)
    before = optional_id(request.args.get("before"))
    rows = service.list_proposals(merchant, status=status or None, customer_id=customer_id,
                                  before_id=before, limit=PAGE + 1)
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return render_template("admin/proposals/list.html", rows=rows, status=status,
                           statuses=STATUSES, customer=customer, before=before,
                           today=merchant.today(),
                           next_before=rows[-1][0].id if more else None)


class ProposalForm(FlaskForm):
    """The validity and note; the product lines are read from the form by name (as orders)."""
    valid_until = LocalDateField("Valid until", validators=[Optional()],
                                 locale=lambda: current_merchant().locale,
                                 render_kw={"autocomplete": "off"})
    note = TextAreaField("Note to the customer", validators=[Optional(), Length(max=2000)],
                         render_kw={"rows": 4})


@bp.route("/customers/<id:customer_id>/proposals/new", methods=["GET", "POST"])
@permission_required(BILLING)
def proposal_new(customer_id: int):
    merchant = current_merchant()
    customer = customer_services.get_customer(merchant, customer_id) or abort(404)
    today = merchant.today()
    form = ProposalForm()
    if not form.is_submitted():
        form.valid_until.data = today + timedelta(days=VALID_DAYS)  # shown in its pattern
    error = None
    if form.validate_on_submit():
        items, error = _lines(form)
        if error is None:
            try:
                proposal = service.create(merchant, customer, items,
                                          valid_until=form.valid_until.data,
                                          note=form.note.data or "", today=today)
            except DomainError as exc:
                error = " ".join(show_errors(form, exc, default=None)) or None
            else:
                flash(f"Proposal {proposal.number} saved as a draft: check it, then send it "
                      "to the customer.", "success")
                return redirect(url_for("admin.proposal_detail", proposal_id=proposal.id))
    bad = bool(error or form.errors)
    return render_template("admin/proposals/new.html", form=form, customer=customer,
                           error=error, products=catalogue.active_products(merchant),
                           rows=range(ROWS), values=request.form), 400 if bad else 200


@bp.get("/proposals/<id:proposal_id>")
@permission_required(BILLING)
def proposal_detail(proposal_id: int):
    merchant = current_merchant()
    proposal = service.get_proposal(merchant, proposal_id) or abort(404)
    customer = customer_services.get_customer(merchant, proposal.customer_id)
    order = (order_services.get_order(merchant, proposal.order_id)
             if proposal.order_id else None)
    return render_template("admin/proposals/detail.html", proposal=proposal,
                           customer=customer, order=order,
                           state=proposal.state(merchant.today()), form=ActionForm())


@bp.post("/proposals/<id:proposal_id>/send")
@permission_required(BILLING)
def proposal_send(proposal_id: int):
    merchant = current_merchant()
    proposal = service.get_proposal(merchant, proposal_id) or abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        service.send(merchant, proposal, merchant.today())
    except DomainError as exc:
        for message in show_errors(None, exc):
            flash(message, "error")
    else:
        flash(f"Proposal {proposal.number} sent: the customer is emailed a link to it in the "
              f"portal; it can be accepted until {admin_date(proposal.valid_until)}.",
              "success")
    return redirect(url_for("admin.proposal_detail", proposal_id=proposal.id))
