"""Rendering email types (declared in `types`), merchants' overrides, safe rendering (N-3, I-4).

Merchants' subjects and bodies are never templates: `{{ token }}` names from the type's list are
substituted with escaped values, and anything else between `{{ }}`, or any `{% %}` / `{# #}`, is
refused when the text is saved (Jinja's sandbox bounds neither loops nor output, and renders
`{{ config }}` as an empty string instead of refusing it). Only the project's own layout is Jinja.
"""
import re
from types import SimpleNamespace

from flask import current_app, render_template
from flask_babel import force_locale

from ..core.colors import contrast_ratio
from ..core.domain import DomainError
from ..core.extensions import db
from ..core.i18n import DEFAULT_LANGUAGE
from ..core.i18n import gettext as _
from ..core.sanitize import clean_html, to_text
from ..core.tokens import check_template, substitute
from ..core.validation import require_single_line
from ..settings.kinds import MEDIA_REFERENCE
from ..tenancy.configuration import BRANDING, INVITATIONS, merchant_settings
from .outbox import Rendered
from .types import EMAIL_TYPES, EmailType

# The language an email is rendered in when none is given (the admin's previews and test
# email): the source language of the default texts.
TEXT_LANGUAGE = DEFAULT_LANGUAGE

TOKEN_LABELS = {
    "contact_name": "Contact Name", "merchant_name": "Merchant Name",
    "portal_link": "Customer Portal Link", "create_link": "Create Credentials Link",
    "reset_link": "Reset Password Link", "temporary_password": "Temporary Password",
    "amount": "Amount", "payment_date": "Payment Date", "reference": "Payment Number",
    "invoice_number": "Invoice Number", "due_date": "Due Date", "pay_link": "Pay Invoice Link",
    "reason": "Reason",
    # orders (#21): Order Confirmation, Order Cancelled
    "order_number": "Order Number", "items": "Items Ordered", "billing_period": "Billing Period",
    "start_date": "Start Date", "end_date": "End Date",
    # guest checkout (#22): Guest Checkout Code
    "code": "Checkout Code", "valid_minutes": "Minutes Valid",
    # proposals (#23): Proposal Sent
    "proposal_number": "Proposal Number", "valid_until": "Valid Until",
    "proposal_link": "Proposal Link",
    # service issues (#23): Issue Reply, Issue Message to Admins
    "issue_number": "Issue Number", "issue_subject": "Issue Subject", "message": "Message",
    "issue_link": "Issue Link", "customer_name": "Customer Name",
    "admin_link": "Admin Issue Link",
    # money going back (#24): Credit Note Issued
    "credit_note_number": "Credit Note Number", "credit_note_link": "Credit Note PDF Link",
    # webhooks (#25): Webhook Endpoint Disabled, to the owners
    "endpoint_url": "Webhook Endpoint URL", "failure": "Why It Was Disabled",
    "endpoint_link": "Endpoint Page Link",
}

EDITABLE = [t for t in EMAIL_TYPES.values() if t.key not in ("test", "invitation")]

def save_override(merchant, type_key: str, subject: str, body: str) -> None:
    """Store a merchant's subject and body for one type (empty: back to the default), after
    checking both allow only the type's tokens. Raises ValueError naming the field."""
    email_type = EMAIL_TYPES[type_key]
    require_single_line(subject=subject.strip())  # a mail header (issue #19-11)
    for field, text in (("subject", subject), ("body", body)):
        try:
            check_template(text, email_type.tokens)
        except ValueError as exc:
            raise DomainError(str(exc), field) from exc
    templates = dict((merchant.config or {}).get("email_templates") or {})
    templates[type_key] = {"subject": subject.strip(), "body": body.strip()}
    merchant.config = {**(merchant.config or {}), "email_templates": templates}
    db.session.flush()


def texts_for(merchant, email_type: EmailType) -> tuple[str, str]:
    """(subject, body) in force: the merchant's override as written, else the default
    translated into the current language (`render` forces the customer's)."""
    if email_type.key == "invitation":
        invitations = merchant_settings(merchant, INVITATIONS)
        return invitations.invitation_subject, invitations.invitation_body
    override = ((merchant.config or {}).get("email_templates") or {}).get(email_type.key) or {}
    return (override.get("subject") or _translated(email_type.subject),
            override.get("body") or _translated(email_type.body))


def _translated(text: str) -> str:
    return _(text) if text else text  # gettext("") would answer the catalogue's header


def email_branding(merchant) -> SimpleNamespace:
    """The logo and colours of the emails (issue #20 item 9): branding is set in one place, the
    default profile's Global tab (its uploaded logo, its primary colour), as the portal shows
    it. Configuration → Branding only overrides: its logo URL when one is given, its brand
    colour when changed from the default. The profile's colour is taken only where it keeps
    4.5:1 against the email's background (the profile checks it against its own background)."""
    from ..profiles.services import default_profile

    branding = merchant_settings(merchant, BRANDING)
    logo_url, color = branding.logo_url, branding.brand_color
    profile = default_profile(merchant)
    if profile is not None:
        look = profile.global_
        if not logo_url and MEDIA_REFERENCE.fullmatch(look.logo or ""):
            logo_url = f"{current_app.config['PUBLIC_URL']}/media/{look.logo}"  # absolute
        default_color = BRANDING.setting("brand_color").default
        if (color.lower() == default_color.lower() and look.primary_color
                and contrast_ratio(look.primary_color, branding.background_color) >= 4.5):
            color = look.primary_color
    return SimpleNamespace(logo_url=logo_url, brand_color=color,
                           background_color=branding.background_color)


def render(merchant, type_key: str, values: dict[str, str], *, subject: str | None = None,
           body: str | None = None, language: str | None = None) -> Rendered:
    """The subject, text part and branded, sanitised HTML part of one email, in `language`
    (B-5: the customer's, `core.i18n.customer_language`; English, the default texts' own, when
    not given: the admin's previews and test email). The default texts are translated into it
    and the HTML part declares it (`lang`); a merchant's own texts (an override, an
    invitation's other than the shipped default) are used as written. The values come
    formatted by the caller, in the same language (`core.i18n.formatting_locale`)."""
    language = language or TEXT_LANGUAGE
    with force_locale(language):
        return _render(merchant, type_key, values, subject, body, language)


def _shipped(text: str | None, setting: str) -> str | None:
    """An invitation's text as given, translated when it is the shipped default unchanged (the
    admin's form sends it with the browser's line ends)."""
    default = INVITATIONS.setting(setting).default
    if text is not None and text.replace("\r\n", "\n").strip() == default.strip():
        return _translated(default)
    return text


def _render(merchant, type_key, values, subject, body, language) -> Rendered:
    email_type = EMAIL_TYPES[type_key]
    if type_key == "invitation":
        subject = _shipped(subject, "invitation_subject")
        body = _shipped(body, "invitation_body")
    default_subject, default_body = texts_for(merchant, email_type)
    values = {"merchant_name": merchant.name, **values}
    subject_text = substitute(subject or default_subject, values, escape=False)
    subject_text = " ".join(subject_text.split())[:300]  # no header injection by new lines
    body = body or default_body
    body_html = substitute(body, values, escape=True)
    if not re.search(r"<(p|ul|ol|h2|h3|blockquote)\b", body_html):
        body_html = "".join(f"<p>{para.replace(chr(10), '<br>')}</p>"
                            for para in body_html.split("\n\n") if para.strip())
    body_html = clean_html(body_html)
    branding = email_branding(merchant)
    layout = render_template("email/layout.html", body=body_html, subject=subject_text,
                             merchant=merchant, branding=branding, lang=language)
    return Rendered(subject_text, to_text(body_html), layout)
