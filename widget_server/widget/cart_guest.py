"""Checking out the cart as a guest (issue #22 slice c, setting Enable Guest Checkout Without
Registration): a visitor gives a name and an email address, types back the six-digit code sent
there (`customers.email_proof`), and checks out on the same page as a signed-in customer.

Only the proof's id is kept in the widget session once the code is right; the customer the
address gives (`customer_for_proven_email`: the merchant's customer with that Primary Email, or a
new one) is used for this checkout only: the guest is never signed in, sees no saved methods
and keeps nothing on file. With the setting off, the cart asks the visitor to sign in and these
routes answer 403 (capabilities.ROUTES).
"""
from flask import g, make_response, redirect, request, session, url_for
from flask_wtf import FlaskForm
from wtforms.validators import InputRequired, Length

from ..core import validation
from ..core.domain import DomainError
from ..core.extensions import db, limiter
from ..core.i18n import lazy_gettext as _l
from ..customers import email_proof
from ..web.form_fields import TrimmedField, show_errors
from . import bp
from .cart import _origin, checkout_page, stylesheet_url
from .rendering import render_widget

PENDING_KEY = "guest_checkout_pending"  # {proof, first_name, last_name} until the code is right
PROOF_KEY = "guest_checkout_proof"  # the proven proof's id, nothing else
GUEST_LIMIT = "20 per minute;60 per hour"


class GuestDetailsForm(FlaskForm):
    first_name = TrimmedField(_l("First name"), validators=[InputRequired(), Length(max=100)],
                              render_kw={"autocomplete": "given-name"})
    last_name = TrimmedField(_l("Last name"), validators=[InputRequired(), Length(max=100)],
                             render_kw={"autocomplete": "family-name"})
    email = TrimmedField(_l("Email address"), validators=[InputRequired(), Length(max=254)],
                         render_kw={"autocomplete": "email", "type": "email"})


class GuestCodeForm(FlaskForm):
    code = TrimmedField(_l("Code from the email"), validators=[InputRequired(), Length(max=20)],
                        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


def _signed_in():
    return redirect(url_for(".cart_checkout")) if g.get("customer") is not None else None


def _page(template: str, form, status: int = 200, **context):
    stylesheet = stylesheet_url(g.profile)  # the cart's own stylesheet, as on its other pages
    if stylesheet:
        g.csp_extra = {"style-src": _origin(stylesheet)}
    return render_widget(template, form=form, cart_stylesheet=stylesheet,
                         status=status if not form.errors else max(status, 400), **context)


@bp.route("/cart/guest", methods=["GET", "POST"])
@limiter.limit(GUEST_LIMIT, methods=["POST"])
def cart_guest():
    """Step 1: the guest's name and email address; a code is emailed there."""
    signed_in = _signed_in()
    if signed_in is not None:
        return signed_in
    form = GuestDetailsForm()
    status = 200
    if form.validate_on_submit():
        errors = {}
        names = {}
        for name, minimum in (("first_name", 2), ("last_name", 1)):
            field = form[name]
            try:
                names[name] = validation.person_name(field.data, minimum, str(field.label.text))
            except ValueError as exc:
                errors[name] = str(exc)
        try:
            if errors:
                raise DomainError.of(errors)
            proof = email_proof.send_code(g.merchant, form.email.data,
                                          request.remote_addr or session.get("cart_key") or "")
        except email_proof.TooManyCodes as exc:
            show_errors(form, exc, default="email")
            answer = make_response(_page("widget/cart_guest.html", form, status=429))
            answer.headers["Retry-After"] = str(exc.retry_after_minutes * 60)
            return answer
        except DomainError as exc:
            show_errors(form, exc, default="email")
            status = exc.status
        else:
            session.pop(PROOF_KEY, None)
            session[PENDING_KEY] = {"proof": proof.id, "email": form.email.data.strip()[:254],
                                    **names}
            return redirect(url_for(".cart_guest_code"))
    return _page("widget/cart_guest.html", form, status=status)


@bp.route("/cart/guest/code", methods=["GET", "POST"])
@limiter.limit(GUEST_LIMIT, methods=["POST"])
def cart_guest_code():
    """Step 2: the six-digit code typed back; once right, only the proof's id is kept."""
    signed_in = _signed_in()
    if signed_in is not None:
        return signed_in
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or not isinstance(pending.get("proof"), int):
        return redirect(url_for(".cart_guest"))
    form = GuestCodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            # first: a wrong try must count whatever else this request does
            proven = email_proof.verify(g.merchant, pending["proof"], form.code.data)
            email_proof.customer_for_proven_email(
                g.merchant, proven, pending.get("first_name", ""), pending.get("last_name", ""))
        except DomainError as exc:
            show_errors(form, exc, default="code")
            status = exc.status
        else:
            session.pop(PENDING_KEY, None)
            session[PROOF_KEY] = proven.proof_id
            return redirect(url_for(".cart_guest_checkout"))
    return _page("widget/cart_guest_code.html", form, status=status,
                 code_minutes=email_proof.CODE_MINUTES, email=pending.get("email") or "")


@bp.route("/cart/guest/checkout", methods=["GET", "POST"])
def cart_guest_checkout():
    """Step 3: the checkout page of signed-in customers, for the proven address's customer;
    the guest stays signed out."""
    signed_in = _signed_in()
    if signed_in is not None:
        return signed_in
    proof_id = session.get(PROOF_KEY)
    proven = (email_proof.proven(g.merchant, proof_id)
              if isinstance(proof_id, int) and not isinstance(proof_id, bool) else None)
    if proven is None:
        session.pop(PROOF_KEY, None)
        return redirect(url_for(".cart_guest"))
    try:
        customer, _created = email_proof.customer_for_proven_email(g.merchant, proven, "", "")
    except DomainError:
        db.session.rollback()
        session.pop(PROOF_KEY, None)
        return redirect(url_for(".cart_guest"))
    answer = checkout_page(customer, guest=True)
    event = g.get("widget_event") or {}
    if event.get("type") == "checkout-succeeded":
        session.pop(PROOF_KEY, None)  # a next order proves the address again
    return answer
