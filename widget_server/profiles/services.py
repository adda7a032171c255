"""Profile services: every function takes the merchant, so no query can cross tenants."""
from dataclasses import dataclass, field

from sqlalchemy import and_, bindparam, select
from sqlalchemy.exc import IntegrityError

from ..core.domain import DomainError
from ..core.extensions import db
from ..core.validation import require_single_line
from ..core.validation import slug as slug_rule
from ..media import images
from ..settings import Group
from ..settings.kinds import KEEP, UploadedImage
from .models import SelfServiceProfile


@dataclass
class SettingsContext:
    """What a tab needs besides its stored values: the merchant's custom field definitions."""

    custom_fields: list = field(default_factory=list)


def settings_context(merchant) -> SettingsContext:
    from ..customers.fields import list_definitions

    return SettingsContext(custom_fields=list_definitions(merchant))


def _profile_context(profile) -> SettingsContext:
    from ..tenancy.models import Merchant

    return settings_context(db.session.get(Merchant, profile.merchant_id))


def list_profiles(merchant) -> list[SelfServiceProfile]:
    return list(db.session.scalars(
        select(SelfServiceProfile).where(SelfServiceProfile.merchant_id == merchant.id)
        .order_by(SelfServiceProfile.is_default.desc(), SelfServiceProfile.name)))


def get_profile(merchant, profile_id: int) -> SelfServiceProfile | None:
    return db.session.scalar(select(SelfServiceProfile).where(
        SelfServiceProfile.merchant_id == merchant.id, SelfServiceProfile.id == profile_id))


def find_by_slug(merchant, slug: str) -> SelfServiceProfile | None:
    return db.session.scalar(select(SelfServiceProfile).where(
        SelfServiceProfile.merchant_id == merchant.id, SelfServiceProfile.slug == slug))


def default_profile(merchant) -> SelfServiceProfile | None:
    return db.session.scalar(select(SelfServiceProfile).where(
        SelfServiceProfile.merchant_id == merchant.id, SelfServiceProfile.is_default.is_(True)))


def _portal_statement(which):
    from ..tenancy.models import Merchant

    return (select(Merchant, SelfServiceProfile)
            .outerjoin(SelfServiceProfile,
                       and_(SelfServiceProfile.merchant_id == Merchant.id, which))
            .where(Merchant.slug == bindparam("merchant_slug")))


# Built once: every widget request runs one of them, and composing SQL costs more than running it.
PORTAL_BY_PROFILE = _portal_statement(SelfServiceProfile.slug == bindparam("profile_slug"))
PORTAL_BY_DEFAULT = _portal_statement(SelfServiceProfile.is_default.is_(True))


def portal_for(merchant_slug: str, profile_slug: str | None):
    """(merchant, profile) for a widget URL in one query: the named profile, or the default
    one when `profile_slug` is None. (None, None) for an unknown merchant; (merchant, None) for
    an unknown profile. Every widget request starts here."""
    if not merchant_slug or len(merchant_slug) > 63:
        return None, None
    if profile_slug is None:
        row = db.session.execute(PORTAL_BY_DEFAULT, {"merchant_slug": merchant_slug}).first()
    else:
        row = db.session.execute(PORTAL_BY_PROFILE, {"merchant_slug": merchant_slug,
                                                     "profile_slug": profile_slug}).first()
    return (row[0], row[1]) if row is not None else (None, None)


def _check_identity(merchant, name: str, slug: str, exclude_id: int | None = None):
    name = (name or "").strip()
    if not name:
        raise DomainError("Enter a profile name.", "name")
    if len(name) > 100:
        raise DomainError("Use at most 100 characters.", "name")
    require_single_line(name=name)
    try:
        slug = slug_rule(slug)
    except ValueError as exc:
        raise DomainError(str(exc), "slug") from exc
    other = find_by_slug(merchant, slug)
    if other is not None and other.id != exclude_id:
        raise DomainError(f"The Profile ID “{slug}” is already used by another profile.", "slug")
    return name, slug


def create_profile(merchant, name: str, slug: str) -> SelfServiceProfile:
    """A new enabled profile with default settings; a merchant's first profile is its default."""
    name, slug = _check_identity(merchant, name, slug)
    profile = SelfServiceProfile(merchant_id=merchant.id, name=name, slug=slug, enabled=True,
                                 is_default=default_profile(merchant) is None, settings={})
    db.session.add(profile)
    _commit_identity(slug)
    return profile


def update_identity(merchant, profile, name: str, slug: str) -> None:
    profile.name, profile.slug = _check_identity(merchant, name, slug, exclude_id=profile.id)
    _commit_identity(profile.slug)


def _commit_identity(slug: str) -> None:
    try:
        db.session.flush()
    except IntegrityError as exc:  # two admins racing for the same Profile ID
        db.session.rollback()
        raise DomainError(f"The Profile ID “{slug}” is already used by another profile.",
                           "slug") from exc


def set_enabled(profile, enabled: bool) -> None:
    if not enabled and profile.is_default:
        raise DomainError("The default profile cannot be disabled: make another profile the "
                           "default first.")
    profile.enabled = enabled
    db.session.flush()


def make_default(merchant, profile) -> None:
    if not profile.enabled:
        raise DomainError("Enable this profile before making it the default.")
    current = default_profile(merchant)
    if current is not None and current.id != profile.id:
        current.is_default = False
        db.session.flush()  # the one-default index must never see two at once
    profile.is_default = True
    db.session.flush()


def delete_profile(profile) -> None:
    if profile.is_default:
        raise DomainError("The default profile cannot be deleted: make another profile the "
                           "default first.")
    db.session.delete(profile)
    db.session.flush()


def save_tab(profile, group: Group, values: dict, ctx: SettingsContext | None = None) -> None:
    """Store one tab's values, checked by the declaration whoever the caller (the admin form,
    the API, an import): unknown keys and bad values raise DomainError with {key: message} and
    nothing is stored (issue #18). Keys left out keep their current values; the other tabs are
    left as they were. New uploads are stored as media once everything passed; a setting whose
    upload was left empty (KEEP) keeps its value."""
    ctx = ctx if ctx is not None else _profile_context(profile)
    current = group.load((profile.settings or {}).get(group.key), ctx)
    if not isinstance(values, dict):
        group.clean(values, ctx)  # refused there, with its message
    merged = {**current, **{key: current.get(key) if value is KEEP else value
                            for key, value in values.items()}}
    stored = group.clean(merged, ctx)
    for key, value in stored.items():
        if isinstance(value, UploadedImage):
            stored[key] = images.store(profile.merchant_id, value.data)
    profile.settings = {**(profile.settings or {}), group.key: stored}
    db.session.flush()


def embed_snippet(public_url: str, merchant, profile) -> str:
    """The HTML a merchant pastes into their site (E-1): a container and the loader script."""
    from markupsafe import escape

    return (f'<div id="my-account"></div>\n'
            f'<script src="{escape(public_url)}/embed/loader.js" '
            f'data-merchant="{escape(merchant.slug)}" data-profile="{escape(profile.slug)}" '
            f'data-target="#my-account" async></script>')
