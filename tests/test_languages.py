"""Languages (issue #20 item 5, spec B-5): every marked string translated in the shipped
catalogues; the widget in the customer's language among the merchant's enabled ones."""
import ast
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.browser import BROWSER_TIMEOUT_MS
from widget_server.billing.models import Invoice
from widget_server.core.extensions import db
from widget_server.core.i18n import choose_language, formatting_locale
from widget_server.tenancy.models import Merchant

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "widget_server" / "translations"
SHIPPED = ("de", "fr")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
            "lazy_ngettext": (1, 2),
            "N_": None,  # the email types' defaults (notifications.types imports no Flask)
            "pgettext": ((1, "c"), 2), "npgettext": ((1, "c"), 2, 3),
            "lazy_pgettext": ((1, "c"), 2)}


def _marked_in_context() -> set[tuple[str, str | None]]:
    """Every string marked in the code and templates, as `make translations` extracts them,
    with its context (pgettext: French "Payée" for an invoice, "Payé" for a payment)."""
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        found.add((message if isinstance(message, str) else message[0], context))
    return found


def _marked() -> set[str]:
    return {msgid for msgid, _context in _marked_in_context()}


def _catalogue(language: str):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=language)


def test_the_extraction_finds_the_widgets_strings():
    marked = _marked()
    assert {"Overdue", "Paid", "Sign out", "Skip to content"} <= marked


@pytest.mark.parametrize("language", SHIPPED)
def test_every_marked_string_is_translated(language):
    catalogue = _catalogue(language)
    problems = []
    for msgid, context in sorted(_marked_in_context(), key=lambda m: (m[0], m[1] or "")):
        message = catalogue.get(msgid, context=context)
        if message is None:
            problems.append(f"missing: {msgid!r}")
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(s and s.strip() for s in strings):
            problems.append(f"untranslated: {msgid!r}")
        if message.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
    assert not problems, (f"{language}: run `make translations` and translate:\n"
                          + "\n".join(problems))


@pytest.mark.parametrize("language", SHIPPED)
def test_the_compiled_catalogue_matches_its_source(language):
    """The .mo is committed (a fresh clone works without compiling): it must say what the .po
    says."""
    source = _catalogue(language)
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo", "rb") as f:
        compiled = read_mo(f)
    def table(catalogue, fuzzy_too=False):
        return {_key(m.id): _key(m.string) for m in catalogue
                if m.id and (fuzzy_too or not m.fuzzy)}

    want, have = table(source), table(compiled, fuzzy_too=True)
    assert have == want, "run `make translations` (pybabel compile) and commit the .mo"


def _key(value):
    return tuple(value) if isinstance(value, list | tuple) else value


class _Accept:
    def __init__(self, value):
        from werkzeug.datastructures import LanguageAccept
        from werkzeug.http import parse_accept_header

        self.accept = parse_accept_header(value, LanguageAccept)

    def best_match(self, *args):
        return self.accept.best_match(*args)


def _merchant(locale, languages=None):
    config = {"portal": {"languages": languages}} if languages is not None else {}
    return Merchant(slug="x", name="X", currency="EUR", locale=locale, timezone="UTC",
                    config=config)


@pytest.mark.parametrize("locale, languages, accept, expected", [
    ("de_DE", None, "en-US,en;q=0.9", "de"),     # nothing enabled but the merchant's own
    ("de_DE", ["en"], "en-US,en;q=0.9", "en"),
    ("de_DE", ["fr"], "fr-CA", "fr"),             # the primary tag matches
    ("en_US", ["de"], "de-DE", "de"),
    ("en_US", ["de"], "fr-FR,fr", "en"),          # not enabled: the merchant's language
    ("fr_FR", ["de", "en"], "it,de;q=0.5", "de"),
    ("en_US", None, None, "en"),
    ("it_IT", None, "it", "en"),                  # no Italian catalogue: English
])
def test_the_language_choice(ctx, locale, languages, accept, expected):
    accept = _Accept(accept).accept if accept is not None else None
    assert choose_language(_merchant(locale, languages), accept) == expected


def test_the_formatting_locale_keeps_the_merchants_territory():
    assert formatting_locale("de", "de_DE") == "de_DE"
    assert formatting_locale("en", "de_DE") == "en_DE"
    assert formatting_locale("fr", "de_CH") == "fr_CH"
    # CLDR has no fr_DE (nor de_US): the language alone, the merchant's currency unchanged
    assert formatting_locale("fr", "de_DE") == "fr"
    assert formatting_locale("de", "en_US") == "de"
    assert formatting_locale("de", "de_CH") == "de_CH"
    assert formatting_locale("en", "fr_FR") == "en_FR"


def _set(app, p, *, locale=None, currency=None, languages=None, overdue=False):
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        if locale:
            merchant.locale = locale
        if currency:
            merchant.currency = currency
        if languages is not None:
            merchant.config = {**(merchant.config or {}), "portal": {"languages": languages}}
        if overdue:
            invoice = db.session.get(Invoice, p.invoice_ids[0])
            invoice.due_date = date.today() - timedelta(days=10)
        db.session.commit()


def test_a_german_browser_gets_german_where_the_merchant_enabled_it(app, billed):
    _set(app, billed, languages=["de"], overdue=True)
    html = billed.client.get(f"{billed.base}/account", headers={"Accept-Language": "de-DE,de;q=0.9"}
                             ).get_data(as_text=True)
    assert '<html lang="de">' in html
    assert ">Übersicht<" in html and ">Rechnungen<" in html and ">Abmelden<" in html
    assert "Überfällig" in html and "Fällig" in html
    assert "Zum Inhalt springen" in html
    assert "50,00" in html  # the amount follows the language too


def test_a_language_the_merchant_did_not_enable_falls_back_to_the_merchants(app, billed):
    _set(app, billed, languages=[], overdue=True)
    html = billed.client.get(f"{billed.base}/account", headers={"Accept-Language": "de-DE,de;q=0.9"}
                             ).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert ">Overview<" in html and "Overdue" in html and "Übersicht" not in html
    assert "$50.00" in html


def test_a_german_merchant_speaks_german_by_default(app, billed):
    _set(app, billed, locale="de_DE", currency="USD")
    html = billed.client.get(f"{billed.base}/invoices", headers={"Accept-Language": "fr"}
                             ).get_data(as_text=True)
    assert '<html lang="de">' in html and "Fällig" in html
    assert "50,00\xa0$" in html


def test_french_with_a_german_merchants_territory(app, billed):
    _set(app, billed, locale="de_DE", languages=["de", "fr"], overdue=True)
    html = billed.client.get(f"{billed.base}/account", headers={"Accept-Language": "fr-FR"}
                             ).get_data(as_text=True)
    assert '<html lang="fr">' in html and "En retard" in html and ">Aperçu<" in html


@pytest.mark.browser
def test_a_german_chromium_signs_in_and_reads_german_dates_and_amounts(app, live_server,
                                                                        chromium, billed,
                                                                        monkeypatch):
    """Playwright's locale="de-DE" sends Accept-Language: de-DE, as a German browser does."""
    from babel.dates import format_date

    from widget_server.core.extensions import limiter

    # an earlier test of the run may leave the shared limiter on with its counters
    monkeypatch.setattr(limiter, "enabled", False)
    _set(app, billed, currency="EUR", languages=["de", "fr"], overdue=True)
    context = chromium.new_context(locale="de-DE")
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(f"{live_server}{billed.standalone}/login")
        page.locator("input[name=login]").fill(billed.username)
        page.locator("input[name=password]").fill(billed.password)
        page.locator("form[data-needs-storage] button[type=submit]").click()
        try:
            page.wait_for_url("**/account")
        except Exception:
            raise AssertionError(page.locator("main").inner_text()) from None
        assert page.locator("h1").first.text_content() == "Hallo Jane", page.content()
        assert page.locator("html").get_attribute("lang") == "de"
        balance = page.get_by_test_id("balance").text_content()
        assert balance == "150,00\xa0€"
        body = page.locator("main").inner_text()
        assert "Überfällig" in body and "Kontostatus" in body
        assert format_date(date.today(), format="medium", locale="de") in body
        assert page.get_by_role("link", name="Rechnungen").is_visible()
    finally:
        context.close()


def test_sign_in_and_error_pages_in_german(app, portal, client):
    p = portal()
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        merchant.locale = "de_DE"
        db.session.commit()
    login = client.get(f"{p.base}/login").get_data(as_text=True)
    assert '<html lang="de">' in login
    assert "Benutzername oder E-Mail" in login and ">Anmelden<" in login
    assert "Passwort vergessen?" in login
    missing = client.get(f"{p.base}/no-such-page")
    assert missing.status_code == 404
    text = missing.get_data(as_text=True)
    assert "Seite nicht gefunden" in text and "Zurück zur Anmeldung" in text



def test_french_statuses_agree_with_what_they_describe(app):
    """An invoice (la facture) is "Payée", a payment (le paiement) "Payé"."""
    from flask_babel import force_locale

    from widget_server.widget.rendering import status_label

    with app.test_request_context(), force_locale("fr"):
        assert (status_label("paid"), status_label("succeeded")) == ("Payée", "Payé")
        assert status_label("cancelled") == "Annulé"


# Where the billing code stores a reason (the argument's position in a call, or a keyword).
REASON_SINKS = {"ChargeResult": 2, "RefundResult": 2, "_give_up": 2, "GatewayUnavailable": 0}


def _bare_texts(expr):
    """English literals in an expression that stores a reason, outside `N_(...)`: each branch of
    an `or` or a conditional counts; another call (a translation, a lookup) is not a literal."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str) and expr.value.strip():
        yield expr.value
    elif isinstance(expr, ast.Subscript):  # `(… or "text")[:300]`, not a table's key
        yield from _bare_texts(expr.value)
    elif isinstance(expr, ast.IfExp):  # what it gives, not what it tests
        yield from _bare_texts(expr.body)
        yield from _bare_texts(expr.orelse)
    elif not isinstance(expr, (ast.Call, ast.Compare)):  # an `or`: every part
        for child in ast.iter_child_nodes(expr):
            yield from _bare_texts(child)


def test_every_stored_payment_reason_is_marked_so_it_is_shown_translated(app):
    """Reasons are stored in English and translated where a customer reads them (pages, the
    Payment Failed email): each text the billing code stores goes through `reasons.N_`, and
    each has its German and French words."""
    from flask_babel import force_locale

    from widget_server.billing import gateways, reasons, stripe_gateway

    bare = []
    for path in sorted((ROOT / "widget_server" / "billing").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            stored = []
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name in REASON_SINKS and len(node.args) > REASON_SINKS[name]:
                    stored.append(node.args[REASON_SINKS[name]])
                stored += [k.value for k in node.keywords if k.arg == "failure_message"]
            elif isinstance(node, ast.Dict):
                stored += [v for k, v in zip(node.keys, node.values, strict=True)
                           if isinstance(k, ast.Constant) and k.value == "failure_message"]
            elif isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Attribute) and t.attr == "failure_message"
                    for t in node.targets):
                stored.append(node.value)
            bare += [f"{path.name}:{node.lineno}: {text}" for value in stored
                     for text in _bare_texts(value)]
    assert bare == []
    assert {*gateways.MESSAGES.values(), *stripe_gateway.DECLINES.values()} <= reasons.STORED
    with app.test_request_context():
        for language in SHIPPED:
            with force_locale(language):
                untranslated = {text for text in reasons.STORED if reasons.shown(text) == text}
            assert untranslated == set(), language


def test_a_widget_address_naming_no_merchant_answers_in_the_browsers_language(client):
    page = client.get("/w/no-such-shop/default/", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert page.status_code == 404
    text = page.get_data(as_text=True)
    assert 'lang="de"' in text and "Kundenportal" in text
    assert "nicht verfügbar" in text or "nicht erreichbar" in text


def test_date_hints_are_written_with_the_readers_letters():
    from widget_server.core.dates import format_hint

    assert format_hint("de_DE") == "TT.MM.JJJJ"
    assert format_hint("de_DE", "en") == "DD.MM.YYYY"  # an English customer of a German shop
    assert format_hint("fr_FR") == "JJ/MM/AAAA"
    assert format_hint("en_US") == "MM/DD/YYYY"


def test_a_list_of_rules_reads_as_the_language_writes_lists(app):
    from flask_babel import force_locale

    from widget_server.core.i18n import format_list

    with app.test_request_context():
        with force_locale("de"):
            assert format_list(["a", "b", "c"]) == "a, b und c"
        with force_locale("fr"):
            assert format_list(["a", "b"]) == "a et b"
        assert format_list(["a", "b", "c"]) == "a, b, and c"


@pytest.mark.parametrize("accept", ["de-DE", "fr-FR", "en-US"])
def test_strings_compiled_into_a_pages_template_read_as_those_looked_up(app, billed, monkeypatch,
                                                                       accept):
    """A widget page's fixed strings are translated when its template is compiled, per
    language (#26): every page reads exactly as with each string looked up on each render."""
    from widget_server.widget import rendering

    _set(app, billed, languages=["de", "fr"], overdue=True)
    pages = ["account", "invoices", f"invoices/{billed.invoice_ids[0]}", "pay", "payments",
             "methods", "profile", "orders", "orders/new", "cart", "issues", "proposals",
             "change-password"]
    billed.client.get(f"{billed.base}/account")  # the sign-in's one-shot event, shown once

    def read_all():
        found = {}
        for page in pages:
            html = billed.client.get(f"{billed.base}/{page}", headers={"Accept-Language": accept}
                                     ).get_data(as_text=True)
            # (less what differs on every render: the style's nonce, tokens and one-time keys)
            found[page] = re.sub(r'nonce(="|-)[\w-]+|value="[\w.-]{20,}"', "", html)
        return found

    compiled_in = read_all()
    monkeypatch.setattr(rendering, "environment_in", lambda environment, language: environment)
    looked_up = read_all()
    for page in pages:
        assert compiled_in[page] == looked_up[page], page
    language = accept[:2]
    assert f'<html lang="{language}">' in compiled_in["account"]
    if language == "de":
        assert ">Übersicht<" in compiled_in["account"] and ">Abmelden<" in compiled_in["account"]


def test_a_template_naming_a_variable_underscore_is_compiled_as_written(app):
    """Only a template whose every `_` is a call has its fixed strings compiled in: one that
    names a variable `_` (`{% set _ = … %}`, as the field macro does) keeps its own `_`."""
    from widget_server.core.i18n import calls_only

    def tokens(source):
        return list(app.jinja_env.lexer.tokenize(source))

    assert calls_only(tokens("{{ _('Invoices') }} {{ _('Due %(day)s', day=1) }}"))
    assert not calls_only(tokens("{% set _ = ids.append(1) %}{{ _('Invoices') }}"))
    assert not calls_only(tokens("{% for _ in range(2) %}{% endfor %}"))


def test_the_same_amounts_read_in_each_readers_language_page_after_page(app, billed):
    """Amounts are remembered once written (#26): by language too, so an English page after a
    German one, and the German one after that, each write them their own way."""
    _set(app, billed, languages=["de"])
    pages = [billed.client.get(f"{billed.base}/invoices", headers={"Accept-Language": accept})
             .get_data(as_text=True) for accept in ("en", "de", "en", "de")]
    for html in pages[0::2]:
        assert "$50.00" in html and "$100.00" in html and "50,00" not in html
    for html in pages[1::2]:
        assert "50,00\xa0$" in html and "100,00\xa0$" in html and "$50.00" not in html
