from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..sqltypes import UTCDateTime, utcnow


class AccountLink(db.Model):
    """Two accounts staff believe one person runs (sockpuppets): their votes for each other earn nothing."""

    __tablename__ = "account_links"
    __table_args__ = (
        # One row per pair, stored with the smaller id first.
        sa.UniqueConstraint("user_a_id", "user_b_id", name="uq_account_links_pair"),
        sa.CheckConstraint("user_a_id < user_b_id", name="ordered_pair"),
        sa.Index("ix_account_links_user_b", "user_b_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_a_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    user_b_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user_a = relationship("User", foreign_keys=[user_a_id])
    user_b = relationship("User", foreign_keys=[user_b_id])
    created_by = relationship("User", foreign_keys=[created_by_id])


class MemberNote(db.Model):
    """What community staff note about a member, for each other; members never see these."""

    __tablename__ = "member_notes"
    __table_args__ = (sa.Index("ix_member_notes_member_time", "member_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member = relationship("User", foreign_keys=[member_id])
    author = relationship("User", foreign_keys=[author_id])
