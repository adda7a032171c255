"""Rendering email types (declared in `types`), merchants' overrides, safe rendering (N-3, I-4).

Merchants' subjects and bodies are never templates: `{{ token }}` names from the type's list are
substituted with escaped values, and anything else between `{{ }}`, or any `{% %}` / `{# #}`, is
refused when the text is saved (Jinja's sandbox bounds neither loops nor output, and renders
`{{ config }}` as an empty string instead of refusing it). Only the project's own layout is Jinja.
"""
import re

from flask import render_template

from ..core.domain import DomainError
from ..core.extensions import db
from ..core.sanitize import clean_html, to_text
from ..core.tokens import check_template, substitute
from ..core.validation import require_single_line
from ..tenancy.configuration import BRANDING, INVITATIONS, merchant_settings
from .outbox import Rendered
from .types import EMAIL_TYPES, EmailType

# The language of the default texts below (a merchant's own texts are taken to be in it too).
# The HTML part declares it (`lang`), not the merchant's locale: a screen reader would read
# English text with German rules. Translated texts (B-5) will choose it per customer.
TEXT_LANGUAGE = "en"

TOKEN_LABELS = {
    "contact_name": "Contact Name", "merchant_name": "Merchant Name",
    "portal_link": "Customer Portal Link", "create_link": "Create Credentials Link",
    "reset_link": "Reset Password Link", "temporary_password": "Temporary Password",
    "amount": "Amount", "payment_date": "Payment Date", "reference": "Payment Number",
    "invoice_number": "Invoice Number", "due_date": "Due Date", "pay_link": "Pay Invoice Link",
    "reason": "Reason",
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
    """(subject, body) in force: the merchant's override, else the default."""
    if email_type.key == "invitation":
        invitations = merchant_settings(merchant, INVITATIONS)
        return invitations.invitation_subject, invitations.invitation_body
    override = ((merchant.config or {}).get("email_templates") or {}).get(email_type.key) or {}
    return override.get("subject") or email_type.subject, override.get("body") or email_type.body


def render(merchant, type_key: str, values: dict[str, str], *, subject: str | None = None,
           body: str | None = None) -> Rendered:
    """The subject, text part and branded, sanitised HTML part of one email."""
    email_type = EMAIL_TYPES[type_key]
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
    branding = merchant_settings(merchant, BRANDING)
    layout = render_template("email/layout.html", body=body_html, subject=subject_text,
                             merchant=merchant, branding=branding, lang=TEXT_LANGUAGE)
    return Rendered(subject_text, to_text(body_html), layout)
