"""Merchant configuration (SPEC T-3), declared once with the same machinery as profile tabs.

Stored in `Merchant.config` as `{section: {key: value}}`; read through `merchant_settings()`.
"""
import re

from ..core.colors import contrast_check
from ..core.i18n import LANGUAGES
from ..core.tokens import COMMON, check_template
from ..notifications.types import N_, SWITCHABLE
from ..settings import Boolean, Color, Group, Integer, MultiChoice, OriginList, Setting, Text, Url


def _token_errors(values: dict, keys: tuple[str, ...]) -> dict[str, str]:
    """Merchant texts may hold `{{ token }}`s of the documented list and nothing else (I-4)."""
    errors = {}
    for key in keys:
        try:
            check_template(values.get(key) or "", COMMON)
        except ValueError as exc:
            errors[key] = str(exc)
    return errors

PORTAL = Group("portal", "Customer portal", (
    Setting("enable_customer_portal", Boolean(), True, "Enable Customer Portal",
            "Master switch. Off: every portal page says the portal is unavailable and "
            "invitations cannot be sent."),
    Setting("allow_guest_invoice_payment", Boolean(), False, "Allow guest invoice payment",
            "Lets anyone with an invoice's “Pay invoice” link pay it without signing in. "
            "Requiring login is recommended: signed-in customers see all their invoices, keep "
            "payment methods on file and receive receipts at verified addresses."),
    Setting("skip_login_screen", Boolean(), False, "Skip the login screen",
            "With guest payment allowed, “Pay invoice” links go straight to the payment page."),
    Setting("languages", MultiChoice(LANGUAGES), [], "Customer languages",
            "The languages the portal and its emails may speak: each customer gets the one "
            "their browser prefers among these. Your locale's language is always included and "
            "is used when the browser wants none of them."),
), checks=(lambda v: {"skip_login_screen": "Skipping the login screen needs “Allow guest "
                                           "invoice payment” switched on."}
           if v["skip_login_screen"] and not v["allow_guest_invoice_payment"] else {},))

# Emails take the default profile's logo and primary colour (its Global tab, where the portal's
# look is set); these only override them for emails (issue #20 item 9).
BRANDING = Group("branding", "Email branding", (
    Setting("logo_url", Url(), "", "Email logo URL",
            "Leave empty: emails show the logo uploaded on the default profile's Global tab. "
            "An https image here replaces it in emails only."),
    Setting("brand_color", Color(), "#0b5cad", "Email brand colour",
            "Left at #0b5cad: emails use the default profile's primary colour. Any other colour "
            "replaces it in emails only; needs 4.5:1 contrast against the email background."),
    Setting("background_color", Color(), "#ffffff", "Email background colour", ""),
), description="Your logo and colours are set once, on the default profile's Global tab, and "
                "emails use them. Set these only to give emails a different look.",
   checks=(contrast_check("brand_color", "background_color", "The brand colour"),))

# The shipped defaults are marked for translation (B-5): an invitation sent with them unchanged is
# written in each customer's language (`notifications.templates.render`).
INVITATIONS = Group("invitations", "Invitations", (
    Setting("invitation_subject", Text(max_length=200, required=True),
            N_("Your {{ merchant_name }} customer portal"), "Default invitation subject",
            "Tokens: {{ contact_name }}, {{ merchant_name }}, {{ portal_link }}."),
    Setting("invitation_body", Text(max_length=10000, multiline=True, required=True),
            N_("Hello {{ contact_name }},\n\nYou can now see your invoices and pay online in "
               "our customer portal:\n{{ portal_link }}\n\nKind regards,\n"
               "{{ merchant_name }}"),
            "Default invitation body", "Tokens as for the subject. Basic HTML (bold, links, "
                                       "lists) is kept; anything else is removed."),
), checks=(lambda values: _token_errors(values, ("invitation_subject", "invitation_body")),))

# One switch per switchable email type, generated from the types' declaration (N-2): the stored
# keys are the types' keys.
NOTIFICATIONS = Group("notifications", "Email notifications", tuple(
    Setting(t.key, Boolean(), t.switch.default, t.label, t.switch.help) for t in SWITCHABLE),
    description="Switch each email type on or off. A switched-off email is not sent.")

EMBEDDING = Group("embedding", "Embedding", (
    Setting("allowed_origins", OriginList(), [], "Allowed embed origins",
            "Sites allowed to frame the portal, one origin (https://shop.example.com) per "
            "line. Any other site is refused."),
    Setting("portal_page_url", Url(), "", "Portal page on your website",
            "The page where your embed snippet is. Links in emails (sign-up, password reset) "
            "then open the portal there; left empty, they open the standalone portal."),
))

SECURITY = Group("security", "Sign-in security", (
    Setting("lockout_threshold", Integer(3, 50), 5, "Failed-login lockout threshold",
            "Consecutive failed sign-ins that lock a customer's account."),
    Setting("lockout_minutes", Integer(0, 1440), 15, "Lockout duration (minutes)",
            "How long a locked account stays locked before the customer may try again. 0 keeps "
            "it locked until an admin unlocks it from the customer's Portal panel: anyone who "
            "knows a login could then lock the customer out with a few wrong passwords."),
    Setting("password_min_length", Integer(8, 128), 10, "Minimum password length", ""),
    Setting("password_require_letter", Boolean(), True, "Password needs a letter", ""),
    Setting("password_require_digit", Boolean(), True, "Password needs a digit", ""),
    Setting("password_require_symbol", Boolean(), False, "Password needs a symbol", ""),
))

# A Stripe connected account id: "acct_" and letters and digits (Stripe's ids are 16 today).
STRIPE_ACCOUNT_RE = re.compile(r"acct_[A-Za-z0-9]{8,60}")


def _stripe_account_errors(values: dict) -> dict[str, str]:
    """Refuse what is not an account id (a secret key pasted by mistake, a typo) on save, so a
    merchant sees the mistake here rather than as failed payments."""
    value = values.get("stripe_account_id") or ""
    if value and not STRIPE_ACCOUNT_RE.fullmatch(value):
        return {"stripe_account_id": "Enter your Stripe account ID as your Stripe dashboard "
                                     "shows it: “acct_” followed by letters and digits, such as "
                                     "acct_1Nv0FGQ9RKHgCVdK. Never paste a secret key here."}
    return {}


PAYMENTS = Group("payments", "Payments", (
    Setting("stripe_account_id", Text(max_length=64), "", "Stripe account ID",
            "Your Stripe account connected to this portal (acct_…). Card and bank payments go "
            "to it; left empty, customers cannot pay online."),
), checks=(_stripe_account_errors,),
    description="Used when this portal takes payments through Stripe.")

# What an invoice must carry for a German (EU) merchant to send it as one, and how its prices
# are read for tax (issue #21 item 2).
BUSINESS = Group("business", "Business and tax", (
    Setting("legal_name", Text(max_length=200), "", "Legal name",
            "As it appears on invoices. Left empty: your portal name."),
    Setting("address", Text(max_length=500, multiline=True), "", "Address",
            "Printed on every invoice, one line per line."),
    Setting("tax_number", Text(max_length=40), "", "Tax number",
            "Your VAT ID or tax number, printed on every invoice."),
    Setting("prices_include_tax", Boolean(), False, "Prices include tax",
            "On: catalogue prices are what the customer pays, tax included (EU consumer prices). "
            "Off: tax is added on top of the prices."),
), description="Printed on invoices and their PDFs; decides how tax is computed on new lines.")

SECTIONS: tuple[Group, ...] = (PORTAL, BRANDING, INVITATIONS, NOTIFICATIONS, EMBEDDING, SECURITY,
                               PAYMENTS, BUSINESS)
SECTIONS_BY_KEY = {s.key: s for s in SECTIONS}


def picked_languages(merchant) -> list[str]:
    """The customer languages the merchant enabled in the portal section (B-5)."""
    return list(merchant_settings(merchant, PORTAL).languages or [])


def prices_include_tax(merchant) -> bool:
    return bool(merchant_settings(merchant, BUSINESS).prices_include_tax)


def merchant_settings(merchant, section: Group):
    """The typed view of one configuration section: `merchant_settings(m, PORTAL).enable_…`.
    Kept on the merchant object while its stored value stays the same: a widget request reads
    the portal and embedding sections several times (#26)."""
    return section.view_kept_on(merchant, (merchant.config or {}).get(section.key))
