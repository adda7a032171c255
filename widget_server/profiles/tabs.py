"""The six tabs of a self-service profile (SPEC P-2…P-7), declared once.

Each line is a setting: key, kind, default, label (as the spec names it), help. This declaration
alone drives storage, validation, the admin form and the widget's typed accessor
(`profile.payment.allow_payments`). Adding a setting is adding a line here.
"""
from ..core.colors import contrast_check
from ..settings import (
    Boolean,
    Choice,
    Color,
    CustomFieldModes,
    Group,
    Image,
    MultiChoice,
    Setting,
    Url,
)

PAYMENT = Group("payment", "Payment", (
    Setting("allow_payments", Boolean(), True, "Allow Payments",
            "Customers can pay invoices and their balance from the portal."),
    Setting("show_payments", Boolean(), True, "Show Payments",
            "Customers see their payment history."),
    Setting("payment_methods", MultiChoice((("card", "Credit card"), ("ach", "ACH / bank")),
                                           minimum=1),
            ["card", "ach"], "Payment Method", "Which payment methods are offered."),
    Setting("payment_amount", Choice((("balance", "Invoice balance only"),
                                      ("any", "Any amount the customer enters"))),
            "balance", "Payment Options: amount",
            "With any amount, an excess over the selected invoices becomes account credit."),
    Setting("invoice_choice", Choice((("select", "Customer selects invoices"),
                                      ("all", "Customer must pay all outstanding"))),
            "select", "Payment Options: invoice choice", ""),
    Setting("card_ach_mode", Choice((("optional_save", "Customer may save the method on file"),
                                     ("force_autopay", "Autopay is forced"),
                                     ("no_save", "Saving is not offered"))),
            "optional_save", "Credit Card/ACH Mode",
            "Whether a payment method can, must or cannot be kept on file."),
    Setting("success_url", Url(), "", "Success URL",
            "Where the customer's browser goes after a payment succeeds or fails (told which). "
            "Leave empty to stay in the portal."),
    Setting("edit_effective_date", Boolean(), False, "Edit Effective Date",
            "Customers may schedule the payment for a later date."),
))

CUSTOMER = Group("customer", "Customer", (
    Setting("show_navigation_bar", Boolean(), True, "Show Navigation Bar", ""),
    Setting("allow_profile_edit", Boolean(), True, "Allow Profile Edit",
            "Customers can edit their address, email, phone and custom fields."),
    Setting("allow_logout", Boolean(), True, "Allow Logout", ""),
    Setting("enable_customer_billing_run", Boolean(), False, "Enable Customer Billing Run",
            "Customers generate the invoice for an order themselves."),
    Setting("phone_number_required", Boolean(), False, "Phone Number Required", ""),
    Setting("custom_field_parameters", CustomFieldModes(), {}, "Custom Field Parameters",
            "For each of your custom fields: Read Only, Read Write or Hidden in this profile."),
))

ORDER = Group("order", "Order", (
    Setting("allow_new_order", Boolean(), False, "Allow New Order", ""),
    Setting("allow_cancel_order", Boolean(), False, "Allow Cancel Order", ""),
    Setting("cancel_mode", Choice((("period_end", "At the end of the current period"),
                                   ("immediately", "At once"))),
            "period_end", "Cancel Order takes effect",
            "At the end of the current period: the subscription runs until then and is not "
            "billed again. At once: it ends the day it is cancelled; the current period is not "
            "refunded."),
    Setting("allow_add_sales_agent", Boolean(), False, "Allow Add Sales Agent",
            "Customers attach one of your sales agents to their profile."),
    Setting("allow_plan_change", Boolean(), False, "Allow Plan Change",
            "Customers change the quantity or switch to another recurring product; the change "
            "is prorated."),
))

INVOICE = Group("invoice", "Invoice", (
    Setting("show_invoices", Boolean(), True, "Show Invoices",
            "Customers see their outstanding and past invoices."),
    Setting("allow_new_invoice", Boolean(), False, "Allow New Invoice",
            "Customers raise an invoice from the catalogue, e.g. a deposit or one-off charge."),
    Setting("enable_pdf_mode_only", Boolean(), False, "Enable PDF Mode Only",
            "Invoices are offered as PDF downloads (all invoices at once too) instead of pages."),
))

def _developing() -> bool:
    """Whether this server runs on plain http (development): where a loopback http URL may
    stand for a stylesheet being written."""
    from flask import current_app, has_app_context

    return not has_app_context() or current_app.config.get("PUBLIC_URL", "").startswith(
        "http://")


def cart_stylesheet_check(values: dict) -> dict[str, str]:
    """The cart's stylesheet is https; plain http (from localhost only, the URL kind's rule)
    only while this server itself runs on plain http (#22 item 3, P-6)."""
    url = values["cart_stylesheet_url"]
    if url.startswith("http://") and not _developing():
        return {"cart_stylesheet_url": "The stylesheet must be served over https:// (plain "
                                       "http from localhost only while developing)."}
    return {}


CART = Group("cart", "Shopping Cart", (
    Setting("enable_shopping_cart", Boolean(), False, "Enable Shopping Cart in iFrame",
            "A cart widget embeddable on its own, with its own checkout and payment."),
    Setting("enable_guest_checkout", Boolean(), False,
            "Enable Guest Checkout Without Registration", ""),
    Setting("cart_stylesheet_url", Url(), "", "Shopping Cart Stylesheet URL",
            "Your CSS applied to the cart (https)."),
), checks=(cart_stylesheet_check,))

GLOBAL = Group("global", "Global", (
    Setting("theme", Choice((("default", "Modern"), ("classic", "Classic"))),
            "default", "Theme", "Modern: light and airy. Classic: a framed header bar, tabs and "
                                "serif headings."),
    Setting("primary_color", Color(), "#0b5cad", "Primary colour",
            "Buttons and links. Must reach 4.5:1 contrast against the background."),
    Setting("text_color", Color(), "#1b1f24", "Text colour", ""),
    Setting("background_color", Color(), "#ffffff", "Background colour", ""),
    Setting("font", Choice((("system", "System UI"), ("serif", "Serif"),
                            ("rounded", "Rounded sans-serif"), ("mono", "Monospace"))),
            "system", "Font", ""),
    Setting("logo", Image(), "", "Logo",
            "PNG, JPEG or WebP, up to 512 KB, shown at the top of the portal."),
    Setting("forgot_password_url", Url(), "", "Forgot Password URL",
            "When set, “Forgot password?” sends customers here instead of the built-in reset."),
    Setting("show_proposals", Boolean(), False, "Show Proposals section",
            "Customers see proposals (quotes) and accept or decline them."),
    Setting("show_issues", Boolean(), False, "Show Issues section",
            "Customers open service issues and follow replies."),
    Setting("password_sign_in", Boolean(), True, "Password sign-in",
            "Off: customers arrive signed in from your site only (single sign-on, "
            "POST /api/v1/portal_sessions); the sign-in form is replaced by a note."),
), checks=(contrast_check("text_color", "background_color",
                          "The text colour on the background colour"),
           contrast_check("primary_color", "background_color",
                          "The primary colour (links) on the background colour"),
           contrast_check("#ffffff", "primary_color",
                          "White button text on the primary colour")),
   attribute="global_")

TABS: tuple[Group, ...] = (PAYMENT, CUSTOMER, ORDER, INVOICE, CART, GLOBAL)
TABS_BY_KEY = {tab.key: tab for tab in TABS}
