"""The SelfServiceProfile table; settings live in one JSON column keyed by tab."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from ..core.database import JSONType, UTCDateTime, utcnow
from ..core.extensions import db
from ..settings import Group, SettingsView
from .tabs import TABS


class TabAccessor:
    """Descriptor: `profile.payment` is the Payment tab's typed, read-only view (the Global tab
    is `profile.global_`)."""

    def __init__(self, group: Group):
        self.group = group

    def __get__(self, profile, owner=None):
        if profile is None:
            return self
        return self.group.view_kept_on(profile, (profile.settings or {}).get(self.group.key))


class SelfServiceProfile(db.Model):
    """A profile decides what the customers who reach the portal through it may see and do (P-1)."""

    __tablename__ = "profile"
    __table_args__ = (
        UniqueConstraint("merchant_id", "slug"),
        # At most one default per merchant, enforced by the database.
        Index("uq_profile_one_default", "merchant_id", unique=True,
              sqlite_where=text("is_default"), postgresql_where=text("is_default")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"),
                                             index=True)
    slug: Mapped[str] = mapped_column(String(63))  # the Profile ID of the spec, URL-safe
    name: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(default=True)
    is_default: Mapped[bool] = mapped_column(default=False)
    settings: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<Profile {self.slug}>"


for _tab in TABS:
    setattr(SelfServiceProfile, _tab.accessor, TabAccessor(_tab))


def tab_view(profile: SelfServiceProfile, group: Group, ctx=None) -> SettingsView:
    return group.view((profile.settings or {}).get(group.key), ctx)
