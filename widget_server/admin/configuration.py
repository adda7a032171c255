"""Merchant configuration in the admin (T-1, T-3): general details and the declared sections."""
import zoneinfo
from datetime import date
from functools import cache

from babel import Locale, localedata
from babel.numbers import get_currency_name, get_territory_currencies, list_currencies
from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import InputRequired, Length

from ..core.domain import DomainError
from ..tenancy import audit, services
from ..tenancy.configuration import SECTIONS, SECTIONS_BY_KEY
from ..tenancy.permissions import Permission
from ..web.form_fields import TrimmedField, select_choices, show_errors
from . import bp
from .access import current_merchant, permission_required
from .settings_pages import edit_group

MANAGE = Permission.MANAGE_SETTINGS


# ISO 4217 codes for funds, metals and testing, never a merchant's selling currency.
NOT_MONEY = {"XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA",
             "XXX"}


def _currency_choices():
    """Currencies some territory uses today (not the Austrian schilling or the peseta)."""
    return sorted((code, f"{code} · {get_currency_name(code, locale='en')}")
                  for code in _current_currencies() if code not in NOT_MONEY)


@cache
def _current_currencies() -> frozenset[str]:
    today = date.today()
    return frozenset(code for territory in Locale("en").territories
                     for code in get_territory_currencies(territory, today)
                     if len(code) == 3) & set(list_currencies())


def _locale_choices():
    names = []
    for code in localedata.locale_identifiers():
        if "_" in code and code.count("_") == 1:
            names.append((code, Locale.parse(code).get_display_name("en") or code))
    return sorted(names, key=lambda pair: pair[1])


_TIMEZONES = sorted(zoneinfo.available_timezones())


class GeneralForm(FlaskForm):
    name = TrimmedField("Merchant name", validators=[InputRequired(), Length(max=200)])
    currency = SelectField("Currency", validators=[InputRequired()],
                           description="Invoices and payments are in this currency.")
    locale = SelectField("Locale", validators=[InputRequired()],
                         description="How money and dates are written in the portal.")
    timezone = SelectField("Time zone", validators=[InputRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency.choices = select_choices(_currency_choices())
        self.locale.choices = select_choices(_locale_choices())
        self.timezone.choices = select_choices((tz, tz) for tz in _TIMEZONES)


def _general(merchant) -> dict:
    return {"name": merchant.name, "currency": merchant.currency, "locale": merchant.locale,
            "timezone": merchant.timezone}


@bp.route("/configuration", methods=["GET", "POST"])
@permission_required(MANAGE)
def configuration():
    merchant = current_merchant()
    form = GeneralForm(obj=merchant)
    if form.validate_on_submit():
        before = _general(merchant)
        try:
            services.update_general(merchant, name=form.name.data, currency=form.currency.data,
                                    locale=form.locale.data, timezone=form.timezone.data)
        except DomainError as exc:
            for message in show_errors(form, exc):
                flash(message, "error")
        else:
            audit.changed(current_user, "settings.changed", audit.subject_of("settings",
                                                                              "general"),
                          before, _general(merchant), label="General")
            flash("General settings saved.", "success")
            return redirect(url_for("admin.configuration"))
    return render_template("admin/configuration/general.html", form=form, sections=SECTIONS,
                           group=None, merchant=merchant), 400 if form.errors else 200


@bp.route("/configuration/<section_key>", methods=["GET", "POST"])
@permission_required(MANAGE)
def configuration_section(section_key: str):
    from flask import abort

    merchant = current_merchant()
    section = SECTIONS_BY_KEY.get(section_key) or abort(404)
    return edit_group(
        section, stored=lambda: (merchant.config or {}).get(section.key), ctx=None,
        save=lambda values: services.save_section(merchant, section, values),
        audit_as=("settings.changed", audit.subject_of("settings", section.key), section.title),
        template="admin/configuration/section.html",
        redirect_to=url_for("admin.configuration_section", section_key=section.key),
        sections=SECTIONS)
