"""What each widget page needs, declared once (P-8): sign-in, and the profile settings that must
allow it. One table drives the route check (every request, before the view), the navigation
(a link is shown only where its page would answer) and the test that walks the URL map, so a
page cannot be added without saying what it needs, nor reached with its switch off.

A requirement is a profile setting as `tab.key` (must be on), `!tab.key` (must be off) or
`tab.key!=value`. Merchant-level switches (guest payment) are a `when` predicate.
"""
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import abort, g, redirect, request, url_for
from markupsafe import Markup

from ..billing import methods
from ..core.i18n import current_language
from ..core.i18n import lazy_gettext as _l
from ..profiles.tabs import TABS
from ..tenancy.configuration import PORTAL, merchant_settings
from . import bp


@dataclass(frozen=True)
class Requirement:
    tab: str
    key: str
    wanted: object = True  # the value that allows; with `negate`, the value that refuses
    negate: bool = False

    @classmethod
    def parse(cls, text: str) -> "Requirement":
        if "!=" in text:
            path, value = text.split("!=", 1)
            tab, key = path.split(".")
            return cls(tab, key, value, negate=True)
        if text.startswith("!"):
            tab, key = text[1:].split(".")
            return cls(tab, key, False)
        tab, key = text.split(".")
        return cls(tab, key, True)

    def met(self, profile) -> bool:
        value = getattr(getattr(profile, "global_" if self.tab == "global" else self.tab),
                        self.key)
        if self.negate:
            return value != self.wanted
        return bool(value) == self.wanted

    def refusing_value(self):
        """A stored value under which the requirement is not met (for the test)."""
        return self.wanted if self.negate else not self.wanted


@dataclass(frozen=True)
class Capability:
    signed_in: bool = True
    needs: tuple[Requirement, ...] = ()
    post_needs: tuple[Requirement, ...] = ()  # changing something needs more than seeing it
    when: Callable[[], bool] | None = None

    def allows(self, profile, method: str = "GET", *, settings_only: bool = False) -> bool:
        """Whether the profile's settings (and, unless `settings_only`, the `when` predicate
        about this merchant and customer) let the page answer."""
        required = self.needs + (self.post_needs if method == "POST" else ())
        if not all(r.met(profile) for r in required):
            return False
        return settings_only or self.when is None or self.when()


def page(*needs: str, signed_in: bool = True, post: tuple[str, ...] = (),
         when: Callable[[], bool] | None = None) -> Capability:
    return Capability(signed_in, tuple(map(Requirement.parse, needs)),
                      tuple(map(Requirement.parse, post)), when)


def has_on_file() -> bool:
    return bool(g.customer.autopay or methods.on_file(g.merchant, g.customer))


def guest_payment_on() -> bool:
    return bool(merchant_settings(g.merchant, PORTAL).allow_guest_invoice_payment)


PUBLIC = page(signed_in=False)
GUEST_CHECKOUT = ("cart.enable_shopping_cart", "cart.enable_guest_checkout",
                  "payment.allow_payments")

# endpoint (without the blueprint's name) -> what it needs
ROUTES: dict[str, Capability] = {
    "index": PUBLIC,
    "not_found": PUBLIC,  # any other address: the widget's own 404 page (issue #20-8)
    "login": PUBLIC,
    "cookie_check": PUBLIC,
    "create_credentials": PUBLIC,
    "reset": PUBLIC,
    "enrol": PUBLIC,
    "forgot": PUBLIC,
    "preview_page": PUBLIC,  # the admin's signed preview token is checked by the view
    "pay": PUBLIC,  # a Pay invoice link: sign-in or guest payment, as allowed
    "guest_pay": page("payment.allow_payments", signed_in=False, when=guest_payment_on),
    "logout": page("customer.allow_logout", signed_in=False),
    "change_password": page(),
    "overview": page(),
    "invoices": page("invoice.show_invoices"),
    "invoice_detail": page("invoice.show_invoices", "!invoice.enable_pdf_mode_only"),
    "invoice_pdf": page("invoice.show_invoices"),
    "invoices_pdf": page("invoice.show_invoices"),
    "new_invoice": page("invoice.show_invoices", "invoice.allow_new_invoice"),
    "pay_invoices": page("payment.allow_payments"),
    "payment_history": page("payment.show_payments"),
    "cancel_payment": page("payment.show_payments"),
    "payment_receipt": page("payment.show_payments"),  # W-12, #20
    "payment_receipt_pdf": page("payment.show_payments"),
    "credit_note_pdf": page("payment.show_payments"),  # listed in the history (#24)
    # what a customer keeps on file stays theirs to see and remove, and autopay theirs to
    # turn off, with payments switched off; the page is closed only to those with nothing
    "payment_methods": page(when=lambda: g.profile.payment.allow_payments or has_on_file()),
    "remove_method": page(),
    "default_method": page("payment.allow_payments", "payment.card_ach_mode!=no_save"),
    "autopay": page(),  # turning it on is the service's rule (allowed payments, kept methods)
    "profile": page(post=("customer.allow_profile_edit",)),
    # Orders (W-7, P-4, #21): the section where new orders are allowed or the customer has some;
    # an order of one's own is always theirs to see
    "orders": page(when=lambda: _orders_section()),
    "order_detail": page(),
    "new_order": page("order.allow_new_order"),
    "cancel_order": page("order.allow_cancel_order"),
    "bill_order": page("customer.enable_customer_billing_run"),
    "sales_agent": page("order.allow_add_sales_agent"),
    "order_change": page("order.allow_plan_change"),  # #21 item 6
    # Proposals (W-9, #23): the Global tab's Show Proposals section (P-7)
    "proposals": page("global.show_proposals"),
    "proposal_detail": page("global.show_proposals"),
    "proposal_pdf": page("global.show_proposals"),
    "accept_proposal": page("global.show_proposals"),
    "decline_proposal": page("global.show_proposals"),
    # the shopping cart widget (#22): open to visitors, only where the profile offers it
    "cart": page("cart.enable_shopping_cart", signed_in=False),
    "cart_add": page("cart.enable_shopping_cart", signed_in=False),
    "cart_update": page("cart.enable_shopping_cart", signed_in=False),
    "cart_remove": page("cart.enable_shopping_cart", signed_in=False),
    # checking the cart out (#22 slice b): signed in (a visitor signs in and comes back here),
    # and paying allowed
    "cart_checkout": page("cart.enable_shopping_cart", "payment.allow_payments"),
    # as a guest (#22 slice c): a proven email address, never signed in
    "cart_guest": page(*GUEST_CHECKOUT, signed_in=False),
    "cart_guest_code": page(*GUEST_CHECKOUT, signed_in=False),
    "cart_guest_checkout": page(*GUEST_CHECKOUT, signed_in=False),
    # service issues (#23 item 2, P-7): the Global tab's Show Issues
    "issues_list": page("global.show_issues"),
    "new_issue": page("global.show_issues"),
    "issue_detail": page("global.show_issues"),
    "issue_attachment": page("global.show_issues"),
}

# pages a visitor comes back to after signing in (same iframe, same session)
# Pages a sign-in comes back to (an email's link into the portal, the cart's checkout): the
# sign-in page is told where in its own address (`?next=`), never in the shared session.
COME_BACK = frozenset({"cart_checkout", "invoices", "invoice_detail", "orders", "order_detail",
                       "proposals", "proposal_detail", "issues_list", "issue_detail"})


def _orders_section() -> bool:
    from .orders import orders_section

    return orders_section()


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy string: read in the customer's language
    also_current: tuple[str, ...] = ()
    extra: tuple[Requirement, ...] = field(default=())  # shown only where these hold too
    # shown only where this holds too, asked with a signed-in customer (the route's `when`)
    shown: Callable[[], bool] | None = None


NAVIGATION = (
    NavItem("overview", _l("Overview"), ("preview_page",)),  # the admin's preview shows it
    NavItem("invoices", _l("Invoices"), ("invoice_detail", "new_invoice")),
    NavItem("pay_invoices", _l("Pay")),
    NavItem("payment_history", _l("Payments"), ("payment_receipt",)),
    NavItem("orders", _l("Orders"), ("order_detail", "new_order", "cancel_order", "order_change"),
            shown=lambda: _orders_section()),
    NavItem("proposals", _l("Proposals"), ("proposal_detail",)),
    # removing an old method stays possible under "no save", but it is not a section then
    NavItem("payment_methods", _l("Payment methods"),
            extra=(Requirement.parse("payment.allow_payments"),
                   Requirement.parse("payment.card_ach_mode!=no_save"))),
    NavItem("issues_list", _l("Issues"), ("new_issue", "issue_detail")),
    NavItem("profile", _l("Profile")),
)


def navigation(profile) -> list[NavItem]:
    """The sections this profile offers, in order: exactly the pages that would answer."""
    return [item for item in _offered(profile)  # a section with a `when` says so in its `extra`
            if item.shown is None or (g.get("customer") is not None and item.shown())]


_OFFERED: dict[tuple[int, ...], tuple[tuple, tuple[NavItem, ...]]] = {}
_OFFERED_KEPT = 1024


def _offered(profile) -> tuple[NavItem, ...]:
    """The sections the profile's settings allow, found once per set of its tabs' views: a view
    is made once per stored value and process (`Group.view_of_stored`), so the same views mean
    the same settings, and the same answer (asking each page's requirements again was a
    twentieth of a page, #26). The views are kept beside the answer, so their ids stay theirs."""
    views = tuple(getattr(profile, tab.accessor) for tab in TABS)
    key = tuple(map(id, views))
    kept = _OFFERED.get(key)
    if kept is None:
        if len(_OFFERED) >= _OFFERED_KEPT:
            _OFFERED.clear()
        kept = _OFFERED[key] = (views, tuple(
            item for item in NAVIGATION if ROUTES[item.endpoint].allows(profile, settings_only=True)
            and all(r.met(profile) for r in item.extra)))
    return kept[1]


def enforce():
    """Before every widget view: sign-in, then the page's settings. An endpoint missing from
    the table is refused (404): a page is reachable only once it says what it needs."""
    if request.endpoint is None:
        return None  # no route matched: Flask answers 404
    name = request.endpoint.rpartition(".")[2]
    capability = ROUTES.get(name)
    if capability is None:
        abort(404)
    if capability.signed_in and g.customer is None:
        if name in COME_BACK and request.method == "GET":
            # in the sign-in page's own address, not the session: the account widget beside
            # this one shares the session, and its sign-in must not land on this page (E-7)
            return redirect(url_for(".login", next=request.path))
        return redirect(url_for(".login"))
    if not capability.allows(g.profile, request.method):
        abort(403)
    return None


_NAV: dict[tuple, Markup] = {}
_NAV_KEPT = 4096  # distinct navigations per process; past it, start again


@bp.app_template_global("nav_links")
def nav_links(profile, preview: bool = False) -> Markup:
    """The navigation's links (`<li>` items): the sections this profile offers this customer,
    the current one marked. Made once per set of sections, current page, language and address
    and then reused: the same lines on every page cost a twentieth of its time (#26)."""
    sections = navigation(profile)
    here = request.endpoint.rpartition(".")[2] if request.endpoint else ""
    key = (tuple(item.endpoint for item in sections), here, bool(preview), current_language(),
           request.blueprint, g.get("merchant_slug"), g.get("profile_slug"), request.script_root)
    found = _NAV.get(key)
    if found is None:
        if len(_NAV) >= _NAV_KEPT:
            _NAV.clear()
        found = _NAV[key] = Markup("\n").join(
            Markup('<li><a href="{}"{}>{}</a></li>').format(
                "#" if preview else url_for("." + item.endpoint),
                Markup(' aria-current="page"') if here == item.endpoint
                or here in item.also_current else "", item.label)
            for item in sections)
    return found
