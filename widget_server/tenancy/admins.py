"""Admin user services: authentication, session loading, user management."""
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..core.domain import DomainError
from ..core.extensions import db
from ..core.passwords import hash_password, verify
from ..core.validation import require_single_line
from .models import AdminUser


def find_by_email(email: str) -> AdminUser | None:
    return db.session.scalar(select(AdminUser).where(func.lower(AdminUser.email) == email.lower()))


def authenticate(email: str, password: str) -> AdminUser | None:
    """The active admin with these credentials, rehashing the password when parameters changed."""
    admin = find_by_email(email.strip())
    ok, new_hash = verify(admin.password_hash if admin else None, password)
    if not ok or admin is None or not admin.active:
        return None
    if new_hash:
        admin.password_hash = new_hash
        db.session.flush()
    return admin


def load_session_user(session_id: str) -> AdminUser | None:
    """Resolve Flask-Login's `id:token`; a rotated token means the session was revoked."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    admin = db.session.get(AdminUser, int(user_id))
    if admin is None or not admin.active or admin.session_token != token:
        return None
    return admin


def create_admin(merchant, email: str, password: str, role: str, name: str = "") -> AdminUser:
    require_single_line(email=email, name=name)  # both reach email headers (issue #19-11)
    admin = AdminUser(merchant=merchant, email=email.strip().lower(), name=name, role=role,
                      password_hash=hash_password(password))
    db.session.add(admin)
    return admin


def end_sessions(admin: AdminUser) -> None:
    """Revoke every session of this admin (logout, password change, deactivation)."""
    admin.end_all_sessions()
    db.session.flush()


def list_admins(merchant) -> list[AdminUser]:
    return list(db.session.scalars(select(AdminUser).where(AdminUser.merchant_id == merchant.id)
                                   .order_by(AdminUser.email)))


def get_admin(merchant, admin_id: int) -> AdminUser | None:
    return db.session.scalar(select(AdminUser).where(AdminUser.merchant_id == merchant.id,
                                                     AdminUser.id == admin_id))


def add_admin(merchant, *, email: str, name: str, role: str, password: str) -> AdminUser:
    taken = DomainError("This email cannot be used for a new admin account; use another "
                           "address.", "email")
    if find_by_email(email) is not None:
        raise taken  # admin emails are global sign-in names; the owner is never named
    admin = create_admin(merchant, email, password, role, name.strip())
    try:
        db.session.flush()
    except IntegrityError as exc:  # two owners adding the same address at once
        db.session.rollback()
        raise taken from exc
    return admin


def change_admin(acting: AdminUser, admin: AdminUser, *, role: str | None = None,
                 active: bool | None = None) -> None:
    """Change another admin's role or access; nobody can demote or lock out themselves, so a
    merchant always keeps the owner who made the change."""
    if admin.id == acting.id:
        raise DomainError("You cannot change your own role or access.")
    if role is not None:
        admin.role = role
    if active is not None:
        admin.active = active
        if not active:
            admin.end_all_sessions()
    db.session.flush()
