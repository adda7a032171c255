"""The shopping cart widget (issue #22 slice a, SPEC W-8, P-6): `data-widget="cart"` frames
/w/<merchant>/<profile>/cart. It lists the products the merchant offers in the cart, keeps a
server-side cart keyed to the widget session (`commerce.carts`: it survives reloads, prices come
from the catalogue), and tells the host page `cart-updated` after each change. Its pages wear the
profile's theme without the account's navigation, and the profile's Shopping Cart Stylesheet URL
after the theme's CSS, that origin and only it added to their `style-src`.

With Enable Shopping Cart in iFrame off, every cart route answers 403 (capabilities.ROUTES), and
the page says "The shopping cart is not offered here" inside the iframe (`refused_page`).
"""
import secrets
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for

from ..billing import checkout as billing_checkout
from ..billing import methods, payment_history, reasons
from ..commerce import cart_checkout as checkout_service
from ..commerce import carts
from ..core.domain import DomainError
from ..core.extensions import db
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.money import from_minor
from ..core.validation import LOOPBACK_HOSTS
from ..tenancy.configuration import EMBEDDING, merchant_settings, prices_include_tax
from ..web.form_fields import select_choices, show_errors
from ..web.request_guards import optional_id
from . import bp
from .forms import ActionForm, TokenOnly
from .rendering import EVENT_KEY, merchant_today, render_widget, widget_event

CART_KEY = "cart_key"
ENDPOINTS = frozenset({"cart", "cart_add", "cart_update", "cart_remove", "cart_checkout",
                       "cart_guest", "cart_guest_code", "cart_guest_checkout"})

# The service's messages, in the customer's language (extracted for the catalogues here).
MESSAGES = {
    carts.NOT_OFFERED: _l("This product is not offered in the cart."),
    carts.BAD_QUANTITY: _l("Quantities are whole numbers from 1 to 10,000."),
    carts.MIXED_PERIODS: _l("Products billed at different periods are ordered separately."),
    "This product is not in your cart.": _l("This product is not in your cart."),
    checkout_service.EMPTY: _l("Your cart is empty."),
}


def _say(exc: DomainError) -> str:
    db.session.rollback()  # a refusal never commits half a change
    message = MESSAGES.get(exc.message)
    return str(message) if message is not None else exc.message


def stylesheet_url(profile) -> str | None:
    """The profile's cart stylesheet, when it may load: https, or plain http from a loopback
    host while this server itself runs on plain http (development)."""
    url = (profile.cart.cart_stylesheet_url or "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme == "https":
        return url
    public = current_app.config.get("PUBLIC_URL", "")
    if parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS \
            and public.startswith("http://"):
        return url
    return None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _key(create: bool = False) -> str | None:
    key = session.get(CART_KEY)
    if not isinstance(key, str) or not key or len(key) > 64:
        key = None
    if key is None and create:
        key = session[CART_KEY] = carts.new_key()
    return key


def _current_cart(create: bool = False):
    key = _key(create)
    if key is None:
        return None
    if create:
        return carts.get_or_create(g.merchant, key, g.get("customer"))
    return carts.find(g.merchant, key)


def cart_event(summary) -> dict:
    """cart-updated for the host page: how many items, the total (with tax) and its currency."""
    return widget_event("cart-updated", items=summary.items,
                        total=str(from_minor(summary.total_minor, summary.currency)),
                        total_minor=summary.total_minor, currency=summary.currency)


def _render(*, errors: dict | None = None, values: dict | None = None, status: int = 200):
    cart = _current_cart()
    summary = carts.summary(g.merchant, cart)
    # the lines shown (those still offered); a refusal about anything else goes on top
    in_cart = {line.product_id: line.quantity for line in summary.lines}
    products = carts.offered_products(g.merchant)
    shown = {p.id for p in products}
    errors = {(k if k in shown else 0): v for k, v in (errors or {}).items()}
    stylesheet = stylesheet_url(g.profile)
    if stylesheet:
        g.csp_extra = {"style-src": _origin(stylesheet)}
    return render_widget("widget/cart.html", products=products,
                         summary=summary, in_cart=in_cart, errors=errors,
                         values=values or {}, cart_stylesheet=stylesheet, form=TokenOnly(),
                         merchant_prices_include_tax=prices_include_tax(g.merchant),
                         checkout_offered=g.profile.payment.allow_payments,
                         guest_checkout=g.profile.cart.enable_guest_checkout, status=status)


@bp.get("/cart")
def cart():
    return _render()


def _quantity(raw: str | None) -> int | None:
    """The typed quantity (1 when left out of an "Add"); None for anything but digits, which
    the service then refuses as 0 with its message. An emptied quantity field on "Update" is
    refused too, not read as 1 (nothing changed and nothing said, #22 browser pass)."""
    if raw is None or (not raw.strip() and request.endpoint.endswith("cart_add")):
        raw = "1"
    raw = raw.strip()
    if not (raw.isascii() and raw.isdecimal()) or len(raw) > 6:
        return None
    return int(raw)


def _change(action):
    """Run one change of the cart from a posted form (product, quantity): the cart page again
    with the event, or the page with the refusal next to the product."""
    product_id = optional_id(request.form.get("product"))
    form = ActionForm()
    if not form.validate_on_submit():
        return _render(errors={0: _("The form has expired. Please try again.")}, status=400)
    quantity = _quantity(request.form.get("quantity"))
    try:
        cart = _current_cart(create=True)
        action(cart, product_id, quantity)
    except DomainError as exc:
        return _render(errors={product_id or 0: _say(exc)}, values={product_id: request.form.get(
            "quantity", "")}, status=400)
    session[EVENT_KEY] = cart_event(carts.summary(g.merchant, cart))
    return redirect(url_for(".cart"))


@bp.post("/cart/add")
def cart_add():
    return _change(lambda cart, product_id, quantity: carts.add(
        g.merchant, cart, product_id, quantity or 0))


@bp.post("/cart/update")
def cart_update():
    return _change(lambda cart, product_id, quantity: carts.set_quantity(
        g.merchant, cart, product_id, quantity or 0))


@bp.post("/cart/remove")
def cart_remove():
    return _change(lambda cart, product_id, quantity: carts.remove(g.merchant, cart, product_id))


def checkout_event(type_: str, order, amount_minor: int, currency: str, **more) -> dict:
    """checkout-succeeded / checkout-failed for the host page: the order, the amount and its
    currency (and, on a decline, why)."""
    return widget_event(type_, order=order.number if order is not None else None,
                        amount=str(from_minor(amount_minor, currency)),
                        amount_minor=amount_minor, currency=currency, **more)


@bp.route("/cart/checkout", methods=["GET", "POST"])
def cart_checkout():
    """Check out the cart (signed in, #22 slice b)."""
    return checkout_page(g.customer)


def checkout_page(customer, *, guest: bool = False):
    """The checkout page for `customer`: the cart's lines and total, and the payment choice
    exactly as on the Pay page; the order and its payment are the service's
    (`commerce.cart_checkout`). A guest (#22 slice c: a proven address, not signed in) sees no
    saved methods and keeps nothing on file."""
    from . import payments as pay_page

    rules = g.profile.payment
    saved = (methods.on_file(g.merchant, customer, rules.payment_methods)
             if rules.card_ach_mode != "no_save" and not guest else [])
    stripe = pay_page.stripe_fields(rules)
    stylesheet = stylesheet_url(g.profile)
    if stylesheet:
        g.csp_extra = {**(g.get("csp_extra") or {}), "style-src": _origin(stylesheet)}
    form = pay_page.PayForm()
    form.method.choices = select_choices(
        pay_page.saved_choices(saved) + pay_page.method_choices(rules, stripe))
    if request.method == "GET":
        form.method.data = form.method.choices[0].value
    cart = _current_cart()
    summary = carts.summary(g.merchant, cart)
    error, closed, status, changed = None, pay_page.unavailable(), 200, False
    if closed is None and form.validate_on_submit():
        shown = (form.total_shown.data or "").strip()
        try:
            earlier = payment_history.find_attempt(g.merchant, customer, form.attempt_key())
            if earlier is None and shown and shown != str(summary.total_minor):
                changed = True  # the cart changed since the page was shown: never charged
            else:
                outcome = checkout_service.checkout(
                    g.merchant, customer, cart, rules,
                    _payment_request(form, rules, saved, pay_page, customer, guest),
                    merchant_today())
        except DomainError as exc:
            db.session.rollback()  # nothing of a refused checkout is kept
            error = " ".join(show_errors(form, exc, hidden=_not_shown(rules, guest))) or None
            error = str(MESSAGES.get(error, error)) if error else None
            status = exc.status
        else:
            if not changed:
                shown_again = _checkout_result(outcome)
                if not isinstance(shown_again, str):
                    return shown_again
                error, status = shown_again, 402  # declined: why, the cart kept
                summary = carts.summary(g.merchant, cart)
    form.prepare(rules)
    if status == 402:  # a new attempt after a decline: a new idempotency key
        form.idempotency_key.data = secrets.token_urlsafe(24)
    form.total_shown.data = str(summary.total_minor)
    return render_widget("widget/cart_checkout.html", form=form, rules=rules, summary=summary,
                         error=error, closed=closed, stripe=stripe, changed=changed,
                         due_minor=summary.total_minor, cart_stylesheet=stylesheet,
                         guest=guest,
                         status=503 if closed else 409 if changed else
                         max(status, 400) if (form.errors or error) else 200)


def _not_shown(rules, guest: bool = False) -> frozenset:
    """The Pay form's fields this page leaves out: a refusal about one goes on top."""
    return frozenset(["amount", "payment_date", "total_shown"]
                     + (["save_method", "autopay"]
                        if guest or rules.card_ach_mode != "optional_save" else []))


def _payment_request(form, rules, saved, pay_page, customer,
                     guest: bool = False) -> billing_checkout.PaymentRequest:
    """The checkout form as a typed request: the method chosen, saving as allowed; which
    invoice and how much are the service's (the order's first invoice, in full)."""
    using = next((m.id for m in saved if f"{pay_page.SAVED}{m.id}" == form.method.data), None)
    return billing_checkout.PaymentRequest(
        idempotency_key=form.attempt_key(), saved_method_id=using,
        method=None if using is not None else pay_page.new_method(
            form, form.method.data, rules, customer),
        save=bool(form.save_method.data) and not guest,
        autopay=bool(form.autopay.data) and not guest,
        source="guest" if guest else "browser",  # a guest keeps nothing on file
        client=pay_page.browser(), rules_seen=form.rules_version.data or "")


def _checkout_result(outcome):
    """After the checkout: the thank-you state with checkout-succeeded; on a decline, why (for
    the checkout page again, the cart kept), with checkout-failed."""
    order, payment = outcome.order, outcome.payment
    amount = payment.amount_minor if payment is not None else order.total_minor
    if outcome.paid:
        g.widget_event = checkout_event("checkout-succeeded", order, amount, order.currency)
        return _thanks(order, amount, payment)
    if payment.status == "failed":
        reason = reasons.shown(payment.failure_message) or _("The payment was declined.")
        g.widget_event = checkout_event("checkout-failed", order, amount, order.currency,
                                        reason=reason)
        return reason
    # pending (a bank debit, or the provider not yet answered): the order stands, the cart too
    return _thanks(order, amount, payment)


def _thanks(order, amount_minor: int, payment):
    """The thank-you page. Its "View the order" leaves the cart's frame: the merchant's
    account page with the order open in the account widget (the whole window), else the
    standalone portal in a new tab; inside the cart's small frame the account has no place."""
    from ..customers.enrolment import entry_link

    embedded_page = bool(merchant_settings(g.merchant, EMBEDDING).portal_page_url)
    return render_widget("widget/cart_thanks.html", order=order, amount_minor=amount_minor,
                         payment=payment, cart_stylesheet=stylesheet_url(g.profile),
                         order_link=entry_link(g.merchant, f"/orders/{order.id}"),
                         order_link_target="_top" if embedded_page else "_blank")


def refused_page(code: int):
    """The cart's own answer when the profile does not offer it: a page in the merchant's
    theme inside the iframe, not the account's generic refusal."""
    if code != 403 or request.endpoint is None \
            or request.endpoint.rpartition(".")[2] not in ENDPOINTS \
            or g.get("profile") is None or g.profile.cart.enable_shopping_cart:
        return None
    return render_widget("widget/cart_off.html", status=403)
