"""Languages (issue #20 item 5, spec B-5): the widget and its emails speak the customer's
language, chosen among the merchant's enabled languages.

The choice: the browser's `Accept-Language`, best match within the merchant's enabled languages;
none of them wanted, the language of the merchant's locale. Dates and amounts are then formatted
in that language with the merchant's territory (de + DE → de_DE, fr + DE → fr_DE), the
merchant's currency unchanged. Outside the widget (the admin, the demo) it is English.
"""
from collections.abc import Callable
from contextvars import ContextVar
from decimal import Decimal
from functools import lru_cache
from typing import Any
from weakref import WeakKeyDictionary

import flask_babel
from babel import Locale, UnknownLocaleError
from babel.support import NullTranslations
from flask import current_app, g, has_app_context, has_request_context, request
from flask_babel import Babel, get_locale
from flask_babel.speaklater import LazyString
from jinja2 import Environment, pass_eval_context
from jinja2.ext import Extension
from jinja2.lexer import TOKEN_LPAREN, TOKEN_NAME, TOKEN_PIPE, TOKEN_RPAREN, TOKEN_STRING, Token
from markupsafe import Markup
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from .escaping import escaped_text

# The languages with a shipped catalogue (English is the source language).
LANGUAGES: tuple[tuple[str, str], ...] = (("en", "English"), ("de", "Deutsch"),
                                          ("fr", "Français"))
LANGUAGE_CODES = tuple(code for code, _ in LANGUAGES)
DEFAULT_LANGUAGE = "en"
WIDGET_BLUEPRINTS = {"widget", "portal"}

babel = Babel()


def language_of(locale: str | None) -> str:
    """The shipped language of a locale name ('de_DE' → 'de'); English when not shipped."""
    language = (locale or "").replace("-", "_").split("_")[0].lower()
    return language if language in LANGUAGE_CODES else DEFAULT_LANGUAGE


def _none_picked(merchant) -> list[str]:
    return []


# The languages a merchant picked, as tenancy's configuration declares them: registered by the
# app factory (`create_app`), so this core module imports no domain package.
picked_languages: Callable[[Any], list[str]] = _none_picked


def enabled_languages(merchant) -> list[str]:
    """The merchant's enabled languages, the merchant locale's language always among them
    (the default when nothing is picked)."""
    picked = list(picked_languages(merchant) or [])
    own = language_of(merchant.locale)
    return picked if own in picked else [own, *picked]


def choose_language(merchant, accept_languages=None) -> str:
    """The customer's language: the browser's best match within the merchant's enabled
    languages, else the merchant's own."""
    enabled = enabled_languages(merchant)
    if accept_languages is not None:
        # Werkzeug falls back to the primary tag: 'de-DE' matches 'de'.
        match = accept_languages.best_match(enabled)
        if match:
            return match
    return language_of(merchant.locale)


def customer_language(merchant, customer) -> str:
    """The language of a customer's emails (B-5): the one their last widget request was in
    (`Customer.language`, recorded by `customers.languages.remember_language` on sign-in and
    whenever the widget's chosen language differs from it), as long as the merchant still
    enables it; else (never signed in, or the language since switched off) the language of the
    merchant's locale."""
    language = getattr(customer, "language", None) if customer is not None else None
    if language and language in enabled_languages(merchant):
        return language
    return language_of(merchant.locale)


@lru_cache(maxsize=64)
def _locale(code: str) -> Locale:
    """Parsed once: Flask-Babel parses the selector's answer on every request, unless it is
    already a Locale."""
    return Locale.parse(code)


def select_locale() -> Locale:
    """Flask-Babel's locale selector: the widget's (and its error pages') customer language."""
    return _locale(_selected_language())


def _selected_language() -> str:
    if not has_request_context():
        return DEFAULT_LANGUAGE
    merchant = g.get("merchant")
    if merchant is None:
        # a widget address naming no merchant (a mistyped link): the browser's language among
        # the shipped ones, so a German visitor is told in German; elsewhere (the admin) English
        if request.blueprint in WIDGET_BLUEPRINTS or request.path.startswith(("/w/", "/p/")):
            return request.accept_languages.best_match(LANGUAGE_CODES) or DEFAULT_LANGUAGE
        return DEFAULT_LANGUAGE
    return _chosen(request.headers.get("Accept-Language", ""), tuple(enabled_languages(merchant)),
                   merchant.locale)


@lru_cache(maxsize=1024)
def _chosen(accept_language: str, enabled: tuple[str, ...], merchant_locale: str | None) -> str:
    """`choose_language` for a browser's Accept-Language header as sent, remembered: a
    customer's browser sends the same header on every page, and parsing it was a fiftieth of
    a page (#26)."""
    match = parse_accept_header(accept_language, LanguageAccept).best_match(enabled)
    return match or language_of(merchant_locale)


def current_language() -> str:
    locale = _locale_now()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def _locale_now():
    """Flask-Babel's `get_locale()`: the locale it chose for this request, read where it keeps
    it once chosen (its context on `g`), else chosen by it. A page asks five to ten times, and
    each of its lookups went through `g`'s proxy three times (#26)."""
    if has_app_context():
        kept = getattr(g._get_current_object().__dict__.get("_flask_babel"), "babel_locale", None)
        if kept is not None:
            return kept
    return get_locale()


@lru_cache(maxsize=256)
def formatting_locale(language: str, merchant_locale: str) -> str:
    """The language with the merchant's territory when Babel knows the pair (fr + DE → fr_DE),
    else the language alone; the merchant's locale itself when its language is the one."""
    if language_of(merchant_locale) == language and merchant_locale:
        return merchant_locale
    try:
        territory = Locale.parse(merchant_locale).territory
    except (UnknownLocaleError, ValueError, TypeError):
        territory = None
    if territory:
        try:
            Locale.parse(f"{language}_{territory}")
            return f"{language}_{territory}"
        except (UnknownLocaleError, ValueError):
            pass
    return language


def widget_formatting_locale(merchant) -> str:
    """The locale dates and amounts are written in on this request."""
    return formatting_locale(current_language(), merchant.locale or "en_US")


_CATALOGUE = "_widget_catalogue"


def catalogue():
    """The translations of this request's language, found once per language and request.

    Flask-Babel looks them up anew on every string (its context, the locale, the locale's name,
    its cache): a widget page translates 50 to 150 strings, and that lookup cost more than a
    page's SQL (issue #26). Keyed by the locale object, so `refresh()` and `force_locale()`,
    which replace it, are followed."""
    if not has_app_context():
        return _NO_TRANSLATIONS
    locale = _locale_now()
    cached = g.get(_CATALOGUE)
    if cached is not None and cached[0] is locale:
        return cached[1]
    # Flask-Babel's own, found once per app and locale: its lookup (the domain, the locale's
    # name, its cache) was a hundredth of a page (#26); it loads them once per app anyway
    found = _TRANSLATIONS.setdefault(current_app._get_current_object(), {})
    translations = found.get(locale)
    if translations is None:
        if len(found) >= 64:  # (force_locale parses a new Locale each time)
            found.clear()
        translations = found[locale] = flask_babel.get_translations()
    setattr(g, _CATALOGUE, (locale, translations))
    return translations


_TRANSLATIONS: "WeakKeyDictionary[object, dict]" = WeakKeyDictionary()


_NO_TRANSLATIONS = NullTranslations()


# Flask-Babel's functions with the same results, through `catalogue()`: the ones the code
# imports (`from ..core.i18n import gettext as _`).

def N_(text: str) -> str:
    """Marks a string for the catalogues (`make translations`); translated where it is used."""
    return text


def gettext(string: str, **variables) -> str:
    text = current_catalogue().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return current_catalogue().ungettext(singular, plural, num) % variables


def pgettext(context: str, string: str, **variables) -> str:
    text = current_catalogue().upgettext(context, string)
    return text % variables if variables else text


def lazy_gettext(string: str, **variables) -> LazyString:
    return LazyString(gettext, string, **variables)


def lazy_pgettext(context: str, string: str, **variables) -> LazyString:
    return LazyString(pgettext, context, string, **variables)


# While a widget page renders its language cannot change: its translations are pinned here, so
# each of the page's strings is one ContextVar read and a dictionary lookup.
_PINNED: ContextVar = ContextVar("pinned_catalogue", default=None)


def pin_catalogue() -> object:
    """Pins the request's translations until `unpin_catalogue(token)` (in a `finally`)."""
    return _PINNED.set(catalogue())


def unpin_catalogue(token) -> None:
    _PINNED.reset(token)


def current_catalogue():
    """The translations strings are looked up in now: the pinned ones while a widget page
    renders, else the request's."""
    return _PINNED.get() or catalogue()


# The templates' gettext functions: Jinja's "newstyle" ones (the result Markup when autoescaping,
# always %-formatted with the keyword variables, `num` and `context` supplied), without Jinja's
# context-passing wrapper, which copies the template context for every call inside a loop.

def _formatted(eval_ctx, text: str, variables: dict) -> str:
    """As Jinja's newstyle gettext: the translation is the project's own catalogue, trusted
    markup; the variables are escaped into it when the template autoescapes. (A text without
    "%" and no variables is itself: most of a page's strings skip the formatting.) Each
    variable is escaped once, as `Markup.__mod__` escapes it, but without its wrapper per
    value (a third of the cost of a page's translated sentences, #26); numbers stay numbers,
    for `%(num)d`."""
    if not eval_ctx.autoescape:
        return text % variables if variables or "%" in text else text
    if not (variables or "%" in text):
        return Markup(text)  # noqa: S704
    return Markup(text % {  # noqa: S704  (the catalogue's text; each value escaped)
        name: value if isinstance(value, _NUMBERS) else escaped_text(value)
        for name, value in variables.items()})


_NUMBERS = (int, float, Decimal)


@pass_eval_context
def _template_gettext(eval_ctx, string: str, **variables):
    text = current_catalogue().ugettext(string)
    return _formatted(eval_ctx, text, variables)


@pass_eval_context
def _template_ngettext(eval_ctx, singular: str, plural: str, num: int, **variables):
    variables.setdefault("num", num)
    text = current_catalogue().ungettext(singular, plural, num)
    return _formatted(eval_ctx, text, variables)


@pass_eval_context
def _template_pgettext(eval_ctx, context: str, string: str, **variables):
    variables.setdefault("context", context)
    text = current_catalogue().upgettext(context, string)
    return _formatted(eval_ctx, text, variables)


@pass_eval_context
def _template_npgettext(eval_ctx, context: str, singular: str, plural: str, num: int,
                        **variables):
    variables.setdefault("context", context)
    variables.setdefault("num", num)
    text = current_catalogue().unpgettext(context, singular, plural, num)
    return _formatted(eval_ctx, text, variables)


def init_app(app) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=select_locale)
    # in place of Flask-Babel's (installed by init_app), `_` included: same results, cheaper
    app.jinja_env.globals.update(gettext=_template_gettext, _=_template_gettext,
                                 ngettext=_template_ngettext, pgettext=_template_pgettext,
                                 npgettext=_template_npgettext)
    app.jinja_env.globals["current_language"] = current_language


def format_list(items: list[str]) -> str:
    """"a, b and c" as the current language writes a list ("a, b und c", "a, b et c")."""
    from babel.lists import format_list as babel_format_list

    items = [str(item) for item in items]
    if not items:
        return ""
    return babel_format_list(items, locale=current_language())


# --- a page's fixed strings translated once, when its template is compiled -------------------
# `{{ _('Invoices') }}` looks its translation up on every render: a template call, the
# catalogue, a Markup (a page has 20 to 40 of them, #26). A widget page is rendered by an
# environment of its language (`environment_in`), whose templates are compiled with each call of
# `_` on one literal and nothing else replaced by that literal's translation, marked safe as
# `_` marks it: the same text, found once per template and language. Calls with variables, the
# other gettext functions and `{% trans %}` blocks are left to run as before.

class _FoldedTranslations(Extension):
    def filter_stream(self, stream):
        tokens = list(stream)
        language = getattr(self.environment, "folded_language", None)
        if language is None or current_language() != language or not calls_only(tokens):
            return tokens  # (compiled outside a request of its language, or `_` is a variable)
        translations = catalogue()
        folded, index = [], 0
        while index < len(tokens):
            token = tokens[index]
            if (token.test("name:_") and not (index and tokens[index - 1].test("dot"))
                    and [t.type for t in tokens[index + 1:index + 4]]
                    == [TOKEN_LPAREN, TOKEN_STRING, TOKEN_RPAREN]):
                text = translations.ugettext(tokens[index + 2].value)
                folded += (Token(token.lineno, TOKEN_LPAREN, "("),
                           Token(token.lineno, TOKEN_STRING, text % {} if "%" in text else text),
                           Token(token.lineno, TOKEN_PIPE, "|"),
                           Token(token.lineno, TOKEN_NAME, "safe"),
                           Token(token.lineno, TOKEN_RPAREN, ")"))
                index += 4
                continue
            folded.append(token)  # anything else, `_('…', name=…)` included: as written
            index += 1
        return folded


def calls_only(tokens) -> bool:
    """Whether every `_` of a template's tokens is a call of `_`: a template that also names a
    variable `_` (`{% set _ = … %}`) is compiled as written, its `_` being its own there."""
    return all(tokens[index + 1].test("lparen") if index + 1 < len(tokens) else False
               for index, token in enumerate(tokens) if token.test("name:_"))


def environment_in(environment: Environment, language: str) -> Environment:
    """`environment` (the app's), as an overlay whose templates have the fixed strings of
    `language` compiled in: same loader, globals and filters, a template cache of its own.
    The overlays are kept on the app's environment (an overlay refers to it anyway)."""
    overlays = environment.__dict__.get("_language_overlays")
    if overlays is None:
        overlays = environment._language_overlays = {}
    found = overlays.get(language)
    if found is None:
        found = environment.overlay(extensions=[_FoldedTranslations])
        found.folded_language = language
        found._language_overlays = None  # (an overlay copies its environment's attributes)
        found._templates_by_name = {}  # (its own, not a copy of the app environment's)
        overlays[language] = found
    return found


def template_in(environment: Environment, name: str):
    """`environment.get_template(name)`, kept by name while templates are not reloaded: Jinja's
    own cache makes a weak reference to its loader to look each one up (#26)."""
    if environment.auto_reload:
        return environment.get_template(name)
    kept = environment.__dict__.get("_templates_by_name")
    if kept is None:
        return environment.get_template(name)
    template = kept.get(name)
    if template is None:
        template = kept[name] = environment.get_template(name)
    return template
