"""Email types, their tokens and default texts, and safe rendering (N-2, N-3, I-4).

Merchants' subjects and bodies are never templates: `{{ token }}` names from the type's list are
substituted with escaped values, and anything else between `{{ }}`, or any `{% %}` / `{# #}`, is
refused when the text is saved (Jinja's sandbox bounds neither loops nor output, and renders
`{{ config }}` as an empty string instead of refusing it). Only the project's own layout is Jinja.
"""
import re
from dataclasses import dataclass

from flask import render_template

from ..domain import DomainError
from ..extensions import db
from ..sanitize import clean_html, to_text
from ..tenancy.configuration import BRANDING, INVITATIONS, merchant_settings
from ..tokens import COMMON, check_template, substitute
from .outbox import Rendered

# The language of the default texts below (a merchant's own texts are taken to be in it too).
# The HTML part declares it (`lang`), not the merchant's locale: a screen reader would read
# English text with German rules. Translated texts (B-5) will choose it per customer.
TEXT_LANGUAGE = "en"

TOKEN_LABELS = {
    "contact_name": "Contact Name", "merchant_name": "Merchant Name",
    "portal_link": "Customer Portal Link", "create_link": "Create Credentials Link",
    "reset_link": "Reset Password Link", "temporary_password": "Temporary Password",
    "amount": "Amount", "payment_date": "Payment Date", "reference": "Reference",
    "invoice_number": "Invoice Number", "due_date": "Due Date", "pay_link": "Pay Invoice Link",
    "reason": "Reason",
}


@dataclass(frozen=True)
class EmailType:
    key: str
    label: str
    tokens: tuple[str, ...]
    subject: str
    body: str


EMAIL_TYPES = {t.key: t for t in (
    EmailType("credential_create", "Credential Create", (*COMMON, "create_link"),
              "Set up your {{ merchant_name }} account",
              "Hello {{ contact_name }},\n\nChoose a username and password for your "
              "{{ merchant_name }} customer portal:\n{{ create_link }}\n\nThe link works once "
              "and expires."),
    EmailType("password_reset", "Password Reset", (*COMMON, "reset_link"),
              "Reset your {{ merchant_name }} password",
              "Hello {{ contact_name }},\n\nSomeone asked to reset the password of your "
              "{{ merchant_name }} portal account. Choose a new one here:\n{{ reset_link }}\n\n"
              "If it was not you, ignore this email: your password stays as it is."),
    EmailType("temporary_password", "Temporary Password", (*COMMON, "temporary_password"),
              "Your temporary {{ merchant_name }} password",
              "Hello {{ contact_name }},\n\nYour temporary password is {{ temporary_password }}"
              "\nIt works for one sign-in at {{ portal_link }}, after which you choose your own."),
    EmailType("invitation", "Invitation", COMMON, "", ""),  # defaults: merchant configuration
    EmailType("payment_receipt", "Payment Receipt",
              (*COMMON, "amount", "payment_date", "reference"),
              "Receipt for your payment to {{ merchant_name }}",
              "Hello {{ contact_name }},\n\nThank you: we received {{ amount }} on "
              "{{ payment_date }} (reference {{ reference }}).\n\nYour account: "
              "{{ portal_link }}"),
    EmailType("payment_failed", "Payment Failed",
              (*COMMON, "amount", "payment_date", "reason"),
              "Your scheduled payment to {{ merchant_name }} did not go through",
              "Hello {{ contact_name }},\n\nThe payment of {{ amount }} scheduled for "
              "{{ payment_date }} did not go through: {{ reason }}\n\nNothing was charged. You "
              "can pay or choose another payment method here: {{ portal_link }}"),
    EmailType("invoice_issued", "Invoice Issued",
              (*COMMON, "invoice_number", "amount", "due_date", "pay_link"),
              "Invoice {{ invoice_number }} from {{ merchant_name }}",
              "Hello {{ contact_name }},\n\nInvoice {{ invoice_number }} for {{ amount }} is due "
              "on {{ due_date }}.\n\nPay invoice: {{ pay_link }}"),
    EmailType("test", "Test email", COMMON, "Test email from {{ merchant_name }}",
              "Hello {{ contact_name }},\n\nThis is a test of your customer portal's email "
              "delivery.\n\nPortal: {{ portal_link }}"),
)}
EDITABLE = [t for t in EMAIL_TYPES.values() if t.key not in ("test", "invitation")]

def save_override(merchant, type_key: str, subject: str, body: str) -> None:
    """Store a merchant's subject and body for one type (empty: back to the default), after
    checking both allow only the type's tokens. Raises ValueError naming the field."""
    email_type = EMAIL_TYPES[type_key]
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
