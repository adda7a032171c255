"""Rendering a widget page in the profile's theme, and the headers every widget page sends."""
import secrets
from contextvars import ContextVar
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from babel.dates import format_date
from flask import current_app, g, has_request_context, render_template, request, session, url_for

from ..billing import account
from ..core.i18n import (
    current_catalogue,
    current_language,
    environment_in,
    format_list,
    lazy_pgettext,
    pin_catalogue,
    template_in,
    unpin_catalogue,
    widget_formatting_locale,
)
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.money import format_money
from ..profiles.tabs import GLOBAL
from ..tenancy.configuration import EMBEDDING, merchant_settings
from ..tenancy.merchants import find_by_slug
from ..web.themes import DEFAULT_THEME, css_variables, template_name
from . import EMBEDDED, STANDALONE, bp
from .forms import csrf_token

EVENT_KEY = "widget_event"


def widget_event(type_: str, **detail) -> dict:
    """An event for the host page (issue #20-6): its type and what it is about, sent by
    widget.js to the loader with postMessage, only to the merchant's exact allowed origins."""
    return {"type": type_, "detail": detail}


def _as_event(value) -> dict | None:
    """An event as stored: a dict from widget_event(), or a bare type (sessions written before
    events carried content)."""
    if isinstance(value, str) and value:
        return widget_event(value)
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        return {"type": value["type"], "detail": dict(value.get("detail") or {})}
    return None


def _look():
    return g.profile.global_ if g.get("profile") is not None else GLOBAL.view(None)


def allowed_origins() -> list[str]:
    if g.get("merchant") is None:
        return []
    return merchant_settings(g.merchant, EMBEDDING).allowed_origins


def render_widget(path: str, status: int = 200, *, navigate: str | None = None, look=None,
                  origins: list[str] | None = None, **context):
    """Render a page of the widget in the profile's theme.

    `navigate` asks the loader to send the top window to a URL (E-6); the one-shot event left in
    the session by the previous request (logged-in, logged-out…) is handed to the page's script.
    `origins`: where the page's script may post its messages, when not the merchant's allowed
    origins (the admin's preview posts its height to the admin page, this very origin).
    """
    here = g._get_current_object()  # (one lookup through `g`'s proxy, not a dozen: #26)
    merchant, profile = here.get("merchant"), here.get("profile")
    look = look or _look()
    theme = look.theme if profile is not None else DEFAULT_THEME
    here.csp_nonce = secrets.token_urlsafe(16)
    event = session.pop(EVENT_KEY, None) if merchant is not None else None
    event = _as_event(here.get("widget_event")) or _as_event(event)
    page = (_Page(merchant, widget_formatting_locale(merchant), _request_where(here))
            if merchant is not None else None)
    pinned = _PAGE.set(page)
    try:
        catalogue = pin_catalogue()
        try:
            environment = environment_in(current_app.jinja_env, current_language())
            html = render_template(
                template_in(environment, template_name(theme, path)), look=look, theme=theme,
                embed_origins=allowed_origins() if origins is None else origins,
                widget_event=event, navigate=navigate,
                theme_base=template_name(theme, "widget/base.html"),
                theme_prefix=template_name(theme, ""), css_variables=css_variables(look),
                csp_nonce=here.csp_nonce, merchant=merchant, profile=profile,
                customer=here.get("customer"), url_for=widget_url_for if page else url_for,
                csrf_token=csrf_token, **context)
        finally:
            unpin_catalogue(catalogue)
    finally:
        _PAGE.reset(pinned)
    return html, status


class _Page(NamedTuple):
    """What the filters of a page being rendered need, looked up once for the page rather than
    for each amount and date (a list has 40 of them)."""
    merchant: object
    locale: str
    where: tuple  # what a relative url_for depends on: blueprint, slugs, script root


_URLS: dict[tuple, str] = {}
_URLS_KEPT = 4096


def widget_url_for(endpoint: str, **values) -> str:
    """`url_for` for a page's template, remembered: the same addresses (the navigation, the
    stylesheet, a link on each row) were built anew on every page, a tenth of its time. Kept
    per blueprint, slugs and script root, with word values as they are; one id value (a row's
    link) is a placeholder in the remembered address, its digits put in on each call."""
    where = _where()
    if None in values.values():  # (url_for leaves a None value out of the address)
        values = {name: value for name, value in values.items() if value is not None}
    ids = [name for name, value in values.items() if type(value) is int]
    if where is None or len(ids) > 1 or not all(
            type(v) is str for name, v in values.items() if name not in ids):
        return url_for(endpoint, **values)
    key = (where, endpoint, *((name, PLACEHOLDER if name in ids else value)
                              for name, value in values.items()))
    found = _URLS.get(key)
    if found is None:
        if len(_URLS) >= _URLS_KEPT:
            _URLS.clear()
        found = url_for(endpoint, **{**values, **dict.fromkeys(ids, PLACEHOLDER)})
        if ids and found.count(str(PLACEHOLDER)) != 1:
            return url_for(endpoint, **values)  # (not remembered: the placeholder is ambiguous)
        _URLS[key] = found
    return found.replace(str(PLACEHOLDER), str(values[ids[0]])) if ids else found


PLACEHOLDER = 2_147_483_646  # an id no row has in practice, and digits no slug spells


def _where() -> tuple | None:
    """What a relative address depends on: the page's, or in a view the request's."""
    page = _PAGE.get()
    if page is not None:
        return page.where
    if not has_request_context() or request.blueprint not in (EMBEDDED, STANDALONE):
        return None
    return _request_where(g._get_current_object())


def _request_where(here) -> tuple:
    """The request's blueprint, slugs (`here`: the request's `g`) and script root."""
    return (request.blueprint, here.get("merchant_slug"), here.get("profile_slug"),
            request.script_root)


_PAGE: ContextVar[_Page | None] = ContextVar("widget_page", default=None)


def _formatting() -> tuple[object, str]:
    page = _PAGE.get()
    if page is not None:
        return page.merchant, page.locale
    merchant = g.get("merchant")
    return merchant, widget_formatting_locale(merchant)


def frame_ancestors(origins: list[str] | None = None) -> str:
    """'self' plus the merchant's allowed origins: nothing wider (E-3)."""
    return " ".join(["'self'", *(allowed_origins() if origins is None else origins)])


SELF, NONE = "'self'", "'none'"


def apply_widget_headers(response, origins: list[str] | None = None):
    here = g._get_current_object()
    nonce = here.get("csp_nonce")
    # a page's own third party (Stripe.js on pay pages, the cart's stylesheet)
    extra = here.get("csp_extra") or {}
    key = (bool(nonce), tuple(extra.items()), frame_ancestors(origins),
           bool(here.get("csp_sandbox")))
    policy = _POLICIES.get(key)
    if policy is None:
        if len(_POLICIES) >= 1024:
            _POLICIES.clear()
        policy = _POLICIES[key] = _policy(*key)
    response.headers["Content-Security-Policy"] = (policy.replace(_NONCE, nonce) if nonce
                                                   else policy)
    response.headers["Cache-Control"] = "no-store"
    vary = response.headers.get("Vary")
    if not vary:
        response.headers["Vary"] = "Cookie"
    elif "cookie" not in {value.strip().lower() for value in vary.split(",")}:
        response.vary.add("Cookie")
    return response


# A page's policy differs from the last one's by its nonce only: made once per the rest of what
# it depends on, the nonce put in on each response (#26).
_POLICIES: dict[tuple, str] = {}
_NONCE = "\x00nonce\x00"  # no source, origin or nonce holds a NUL


def _policy(has_nonce: bool, extra: tuple, ancestors: str, sandbox: bool) -> str:
    style = f"'self' 'nonce-{_NONCE}'" if has_nonce else "'self'"
    extra = dict(extra)

    def sources(directive: str, base: str) -> str:
        if directive not in extra:
            return base
        return extra[directive] if base == NONE else f"{base} {extra[directive]}"

    return (f"default-src 'self'; script-src {sources('script-src', SELF)}; "
            f"style-src {sources('style-src', style)}; img-src 'self' data:; "
            f"frame-src {sources('frame-src', NONE)}; connect-src {sources('connect-src', SELF)}; "
            f"frame-ancestors {ancestors}; form-action 'self'; base-uri 'none'; "
            "object-src 'none'" + ("; sandbox" if sandbox else ""))  # a download


WIDGET_PREFIXES = ("/w", "/p")


def apply_unrouted_widget_headers(response):
    """The face's headers on the answers no widget route gave: the router's own 404 and 405
    under /w/ and /p/ (no route matched, so the blueprint's after_request never ran), which
    any site could frame before (issue #19-10). The merchant named by the path frames them
    like its pages; an unknown one, only this site."""
    if request.blueprint is not None:  # a route matched: its face set its own headers
        return response
    parts = request.path.split("/")
    if "/" + parts[1] not in WIDGET_PREFIXES:
        return response
    merchant = find_by_slug(parts[2]) if len(parts) > 2 else None
    origins = merchant_settings(merchant, EMBEDDING).allowed_origins if merchant else []
    return apply_widget_headers(response, origins)


@bp.app_template_filter("money")
def money_filter(minor: int, currency: str | None = None) -> str:
    """An amount in the page's language: remembered by amount, currency and locale, as a list
    writes forty of them and the same few again on every page (#26)."""
    merchant, locale = _formatting()
    key = (minor, currency or merchant.currency, locale)
    found = _AMOUNTS.get(key)
    if found is None:
        if len(_AMOUNTS) >= _AMOUNTS_KEPT:
            _AMOUNTS.clear()
        found = _AMOUNTS[key] = format_money(*key)
    return found


_AMOUNTS: dict[tuple, str] = {}
_AMOUNTS_KEPT = 8192


@bp.app_template_filter("rate_percent")
def rate_percent_filter(rate_bp: int) -> str:
    """A tax rate in basis points as a percentage in the customer's language: "19 %", "5,5 %"."""
    from ..billing.tax import format_rate_in

    return str(_("%(rate)s %%", rate=format_rate_in(rate_bp, _formatting()[1])))


@bp.app_template_filter("local_date")
def local_date_filter(value) -> str:
    """A date, or a stored moment as the merchant's calendar day, in the customer's language
    with the merchant's territory."""
    if value is None:
        return ""
    merchant, locale = _formatting()
    if isinstance(value, datetime):
        value = merchant.local_date(value)
    return _medium_date(value, locale)


@lru_cache(maxsize=4096)
def _medium_date(day, locale: str) -> str:
    """Babel takes about 40 us a date; a list repeats the same few due dates."""
    return format_date(day, format="medium", locale=locale)


def merchant_today():
    """Today in the merchant's time zone: "overdue" follows the merchant's calendar."""
    return g.merchant.today()


bp.add_app_template_global(format_list, "format_list")  # "a, b und c" in the language


@bp.app_template_global("invoice_state")
def invoice_state(invoice) -> str:
    """The invoice's status as the overview says it (an unpaid invoice past due is overdue)."""
    return account.invoice_status(invoice, merchant_today())


def wants_embedded() -> bool:
    return request.blueprint == "widget"


# Statuses as the customer reads them, in their language (B-5): invoices and payments.
STATUS_LABELS = {
    "overdue": _l("Overdue"),
    "due": _l("Due"),
    "issued": _l("Due"),
    "partly paid": _l("Partly paid"),
    "paid": _l("Paid"),
    "void": _l("Void"),
    "draft": _l("Draft"),
    # a payment's statuses: French agrees them with "le paiement" (an invoice is "la facture")
    "succeeded": lazy_pgettext("payment", "Paid"),
    "failed": lazy_pgettext("payment", "Failed"),
    "pending": lazy_pgettext("payment", "Pending"),
    "scheduled": lazy_pgettext("payment", "Scheduled"),
    "cancelled": lazy_pgettext("payment", "Cancelled"),
    "refunded": lazy_pgettext("payment", "Refunded"),
}


_STATUS_WORDS: dict[tuple[object, str], str] = {}  # (catalogue, status) -> its words


@bp.app_template_global("status_label")
def status_label(status: str) -> str:
    """A status in the customer's words, translated once per status and catalogue: a list
    names one per row (#26). Also a filter (`status|status_label`), which a row calls without
    Jinja's call machinery."""
    label = STATUS_LABELS.get(status)
    if label is None:
        return (status or "").capitalize()
    key = (current_catalogue(), status)
    found = _STATUS_WORDS.get(key)
    if found is None:
        if len(_STATUS_WORDS) >= 1024:
            _STATUS_WORDS.clear()
        found = _STATUS_WORDS[key] = str(label)
    return found


bp.add_app_template_filter(status_label, "status_label")
