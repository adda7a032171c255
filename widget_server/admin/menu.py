"""The admin menu: one table, filtered by the signed-in admin's permissions (T-2)."""
from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_login import current_user

from ..tenancy.permissions import Permission
from . import bp


@dataclass(frozen=True)
class MenuItem:
    endpoint: str
    label: str
    help: str
    permission: Permission | None = None


MENU = (
    MenuItem("admin.index", "Overview", "Start page."),
    MenuItem("admin.profiles", "Profiles", "Self-service profiles and their six tabs of settings.",
             Permission.MANAGE_PROFILES),
    MenuItem("admin.customers", "Customers", "Customers, their emails and custom field values.",
             Permission.MANAGE_CUSTOMERS),
    MenuItem("admin.invoices", "Invoices", "Find, issue and void invoices; export them as CSV.",
             Permission.MANAGE_BILLING),
    MenuItem("admin.payments", "Payments", "Every payment: find it by number, reference or "
             "customer; export as CSV.", Permission.MANAGE_BILLING),
    MenuItem("admin.products", "Products", "Your catalogue: prices, tax rates, one-time or "
             "recurring billing.", Permission.MANAGE_BILLING),
    MenuItem("admin.orders", "Orders", "Subscriptions: place, cancel, run billing now.",
             Permission.MANAGE_BILLING),
    MenuItem("admin.proposals", "Proposals", "Quotes for a customer: write, send, see the "
             "outcome.", Permission.MANAGE_BILLING),
    MenuItem("admin.agents", "Sales agents", "The agents an order or a customer can name.",
             Permission.MANAGE_BILLING),
    MenuItem("admin.issues_inbox", "Issues", "Customers' service issues: answer, assign, "
             "close.", Permission.MANAGE_CUSTOMERS),
    MenuItem("admin.custom_fields", "Custom fields", "Fields you define for every customer.",
             Permission.MANAGE_CUSTOMERS),
    MenuItem("admin.configuration", "Configuration",
             "Portal switch, branding, invitations, notifications, embedding, security.",
             Permission.MANAGE_SETTINGS),
    MenuItem("admin.emails", "Emails", "Delivery log, email templates and a test email.",
             Permission.MANAGE_SETTINGS),
    MenuItem("admin.api_keys_page", "API keys", "Secret keys for the REST API, and its "
             "reference.", Permission.MANAGE_API_KEYS),
    MenuItem("admin.webhooks", "Webhooks", "Signed event notifications to your servers, "
             "and their delivery log.", Permission.MANAGE_API_KEYS),
    MenuItem("admin.users", "Users & roles", "Who can sign in to this admin, and what they may do.",
             Permission.MANAGE_USERS),
    MenuItem("admin.audit_log", "Audit log", "Who changed what in this admin, from where and "
             "when.", Permission.MANAGE_SETTINGS),
)


@dataclass(frozen=True)
class MenuEntry:
    endpoint: str
    label: str
    help: str
    url: str
    active: bool


def visible_menu() -> list[MenuEntry]:
    """The items this admin may use; items whose pages do not exist yet are left out."""
    if not current_user.is_authenticated:
        return []
    entries = []
    for item in MENU:
        if item.endpoint not in current_app.view_functions:
            continue
        if item.permission and not current_user.can(item.permission):
            continue
        url = url_for(item.endpoint)
        active = request.endpoint == item.endpoint or (
            item.endpoint != "admin.index" and request.path.startswith(url))
        entries.append(MenuEntry(item.endpoint, item.label, item.help, url, active))
    return entries


@bp.context_processor
def inject_menu():
    return {"admin_menu": visible_menu, "current_user": current_user}
