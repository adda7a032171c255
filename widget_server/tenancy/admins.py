"""Admin user services: authentication, session loading, user management."""
from sqlalchemy import func, select

from ..extensions import db
from ..passwords import hash_password, verify
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
        db.session.commit()
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
    admin = AdminUser(merchant=merchant, email=email.strip().lower(), name=name, role=role,
                      password_hash=hash_password(password))
    db.session.add(admin)
    return admin


def end_sessions(admin: AdminUser) -> None:
    """Revoke every session of this admin (logout, password change, deactivation)."""
    admin.end_all_sessions()
    db.session.commit()
