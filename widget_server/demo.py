"""The demo merchant for `make run` and manual testing; idempotent (a second run changes nothing).

These credentials are for local use only.
"""
from flask import current_app
from sqlalchemy import select

from .customers import fields as custom_fields
from .extensions import db
from .profiles import services as profiles
from .tenancy import admins
from .tenancy.models import AdminUser, Merchant

DEMO_SLUG = "demo"
OWNER_EMAIL = "admin@demo.test"
OWNER_PASSWORD = "demo-admin-pass"  # noqa: S105  (documented local-only demo credential)
STAFF_EMAIL = "staff@demo.test"
STAFF_PASSWORD = "demo-staff-pass"  # noqa: S105


def seed_demo() -> list[str]:
    merchant = db.session.scalar(select(Merchant).where(Merchant.slug == DEMO_SLUG))
    if merchant is None:
        merchant = Merchant(slug=DEMO_SLUG, name="Demo Outfitters", currency="EUR",
                            locale="de_DE", timezone="Europe/Berlin", config={})
        db.session.add(merchant)
        db.session.flush()
    _ensure_admin(merchant, OWNER_EMAIL, OWNER_PASSWORD, "owner", "Demo Owner")
    _ensure_admin(merchant, STAFF_EMAIL, STAFF_PASSWORD, "staff", "Demo Staff")
    db.session.commit()
    if profiles.find_by_slug(merchant, "default") is None:
        profiles.create_profile(merchant, "Standard portal", "default")
    _ensure_custom_fields(merchant)
    base = current_app.config["PUBLIC_URL"]
    return [
        f"Admin:        {base}/admin/",
        f"  owner       {OWNER_EMAIL} / {OWNER_PASSWORD}",
        f"  staff       {STAFF_EMAIL} / {STAFF_PASSWORD}",
        "(demo credentials: for local use only)",
    ]


def _ensure_admin(merchant, email, password, role, name) -> AdminUser:
    admin = admins.find_by_email(email)
    if admin is None:
        admin = admins.create_admin(merchant, email, password, role, name)
    return admin


def _ensure_custom_fields(merchant) -> None:
    existing = {d.name for d in custom_fields.list_definitions(merchant)}
    if "Account manager" not in existing:
        custom_fields.create_definition(merchant, name="Account manager", field_type="text",
                                        required=False, choices=[])
    if "Preferred contact" not in existing:
        custom_fields.create_definition(merchant, name="Preferred contact", field_type="choice",
                                        required=False, choices=["Email", "Phone", "Post"])
