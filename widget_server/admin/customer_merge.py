"""Merging duplicate customers in the admin (W-10, issue #23 items 4 and 5).

Offered from a customer's page (pick the other by search, `customer_merge_pick`) and from the
customer list (tick two, `customer_compare`); both lead to the compare page, which shows the
two records side by side, their conflicts, and asks which record survives and whose login it
keeps. The merge itself is `customers.merge.merge`; this page only parses and confirms.
"""
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import InputRequired

from ..core.domain import DomainError
from ..customers import duplicates, merge, services
from ..tenancy.permissions import Permission
from ..web.form_fields import show_errors
from . import bp
from .access import current_merchant, permission_required

MANAGE = Permission.MANAGE_CUSTOMERS


class MergeForm(FlaskForm):
    survivor = RadioField("Which record survives", validators=[InputRequired()], coerce=str)
    login_from = RadioField("Whose login the survivor keeps", validators=[InputRequired()],
                            coerce=str)


def _login_label(customer) -> str:
    if customer.username and customer.password_hash:
        return f"{customer.username} (credentials set)"
    if customer.username:
        return f"{customer.username} (no password yet)"
    return "no login"


def _redirect_if_merged(merchant, *ids):
    """A merged record's old URL: the survivor's page, with a word why."""
    for customer_id in ids:
        if services.get_customer(merchant, customer_id) is None:
            survivor = merge.survivor_of(merchant, customer_id)
            if survivor is None:
                abort(404)
            flash(f"That customer was merged into “{survivor.display_name}”.", "info")
            return redirect(url_for("admin.customer_detail", customer_id=survivor.id))
    return None


@bp.get("/customers/compare")
@permission_required(MANAGE)
def customer_compare():
    """The customer list's "Compare & merge": exactly two ticked customers."""
    merchant = current_merchant()
    ids = list(dict.fromkeys(request.args.getlist("id", type=int)))
    if len(ids) != 2:
        flash("Tick exactly two customers to compare and merge them.", "error")
        return redirect(url_for("admin.customers"))
    if any(services.get_customer(merchant, i) is None for i in ids):
        abort(404)
    return redirect(url_for("admin.customer_merge", customer_id=ids[0], other_id=ids[1]))


@bp.get("/customers/<id:customer_id>/merge")
@permission_required(MANAGE)
def customer_merge_pick(customer_id: int):
    """Pick the record to merge with this one: its likely duplicates, or a search."""
    merchant = current_merchant()
    if moved := _redirect_if_merged(merchant, customer_id):
        return moved
    customer = services.get_customer(merchant, customer_id)
    query = request.args.get("q", "")[:200]
    found = []
    if query.strip():
        page = services.search_customers(merchant, query, 1,
                                         current_app.config["ADMIN_PAGE_SIZE"])
        found = [c for c in page.items if c.id != customer.id]
    hints = duplicates.likely_duplicates(merchant, [customer.id]).get(customer.id, [])
    return render_template("admin/customers/merge_pick.html", customer=customer, query=query,
                           found=found, hints=hints)


@bp.route("/customers/<id:customer_id>/merge/<id:other_id>", methods=["GET", "POST"])
@permission_required(MANAGE)
def customer_merge(customer_id: int, other_id: int):
    """Both records side by side; confirming merges them (CSRF, POST)."""
    merchant = current_merchant()
    if moved := _redirect_if_merged(merchant, customer_id, other_id):
        return moved
    a = services.get_customer(merchant, customer_id)
    b = services.get_customer(merchant, other_id)
    try:
        comparison = merge.compare(merchant, a, b)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("admin.customer_detail", customer_id=a.id))
    keep = comparison.likely_survivor
    other = b if keep is a else a
    form = MergeForm(data={"survivor": str(keep.id), "login_from": str(
        keep.id if keep.username or not other.username else other.id)})
    choices = {str(c.id): c for c in (a, b)}
    form.survivor.choices = [(key, c.display_name) for key, c in choices.items()]
    form.login_from.choices = [(key, _login_label(c)) for key, c in choices.items()]
    if form.validate_on_submit():
        survivor = choices[form.survivor.data]
        merged = b if survivor is a else a
        try:
            merge.merge(merchant, survivor, merged, choices[form.login_from.data],
                        current_user)
        except DomainError as exc:  # e.g. merged meanwhile by another admin: nothing changed
            for message in show_errors(None, exc):
                flash(message, "error")
            return redirect(url_for("admin.customer_detail", customer_id=a.id))
        else:
            flash(f"“{merged.display_name}” (#{merged.id}) is merged into this customer: its "
                  "invoices, payments, orders, proposals, service issues, emails and credit "
                  "are here now.", "success")
            return redirect(url_for("admin.customer_detail", customer_id=survivor.id))
    return render_template("admin/customers/merge.html", form=form, comparison=comparison,
                           a=a, b=b), 400 if form.errors else 200
