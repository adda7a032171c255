"""The audit log page (#24 item 6, T-9): who changed what, from where, when, with the values
before and after; filtered by action, admin user, subject and dates; newest first, keyset pages.

Entries are written by `tenancy.audit.changed`, one line in each audited view."""
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import render_template, request, url_for
from werkzeug.routing import BuildError

from ..core import dates
from ..tenancy import admins, audit
from ..tenancy.permissions import Permission
from ..web.request_guards import optional_id
from . import bp
from .access import current_merchant, permission_required

PAGE = 50
SUBJECT_KINDS = {"settings": "Configuration", "profile": "Profile", "customer": "Customer",
                 "email_template": "Email template", "admin_user": "Admin user",
                 "custom_field": "Custom field"}


def subject_url(entry) -> str | None:
    """The page of the entry's subject, where there still is one."""
    kind, _, key = entry.subject.partition(":")
    if entry.action.endswith(".deleted"):
        return None
    try:
        if kind == "settings":
            return url_for("admin.configuration") if key == "general" else url_for(
                "admin.configuration_section", section_key=key)
        if kind == "email_template":
            return url_for("admin.email_template", type_key=key)
        if kind == "admin_user":
            return url_for("admin.users")
        endpoint, arg = {"customer": ("admin.customer_detail", "customer_id"),
                         "profile": ("admin.profile_detail", "profile_id"),
                         "custom_field": ("admin.custom_field_edit", "definition_id")}[kind]
        return url_for(endpoint, **{arg: int(key)})
    except (KeyError, ValueError, BuildError):
        return None


def shown(value) -> str:
    """A before or after value in words: yes/no, lists joined, long texts cut."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(shown(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {shown(v)}" for k, v in value.items())
    text = str(value)
    return text if len(text) <= 300 else text[:300] + "…"


def _day(raw: str | None, errors: dict, name: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = "Enter a date as YYYY-MM-DD."
        return None


@bp.get("/audit-log")
@permission_required(Permission.MANAGE_SETTINGS)
def audit_log():
    merchant = current_merchant()
    zone = ZoneInfo(merchant.timezone)
    args = request.args
    action = args.get("action", "") if args.get("action", "") in audit.ACTIONS else ""
    admin_id = optional_id(args.get("admin"))
    subject = args.get("subject", "").strip()[:80]
    errors: dict[str, str] = {}
    first, last = _day(args.get("from"), errors, "from"), _day(args.get("to"), errors, "to")
    # the merchant's calendar days, as UTC moments: "to" includes its whole day
    since = datetime.combine(first, time(), zone) if first else None
    until = datetime.combine(last + timedelta(days=1), time(), zone) if last else None
    entries = audit.search(merchant, action=action, admin_user_id=admin_id, subject=subject,
                           since=since, until=until, before_id=optional_id(args.get("before")),
                           limit=PAGE)
    filters = {"action": action or None, "admin": admin_id, "subject": subject or None,
               "from": first.isoformat() if first else None,
               "to": last.isoformat() if last else None}

    def when(entry) -> str:
        local = entry.created_at.astimezone(zone)
        return f"{dates.format_input(local.date(), merchant.locale)} {local:%H:%M} " \
               f"{local.tzname()}"

    return render_template("admin/audit_log.html", entries=entries, filters=filters,
                           actions=audit.ACTIONS, people=admins.list_admins(merchant),
                           kinds=SUBJECT_KINDS, errors=errors, when=when, shown=shown,
                           subject_url=subject_url, page_size=PAGE,
                           timezone=merchant.timezone), 400 if errors else 200
