"""The admin face: merchants' settings UI under /admin. Calls domain services, never other faces."""
from flask import Blueprint

bp = Blueprint("admin", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static")

from . import (  # noqa: E402,F401  (routes register on import)
    api_keys,
    audit_log,
    auth,
    catalogue,
    configuration,
    custom_fields,
    customer_merge,
    customers,
    dashboard,
    emails,
    finding,
    invitations,
    invoices,
    issues,
    menu,
    money,
    orders,
    profiles,
    proposals,
    users,
    webhooks,
    words,
)
