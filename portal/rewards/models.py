from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..sqltypes import UTCDateTime, utcnow


class PointsEntry(db.Model):
    """One change of a member's points: append-only, with the activity that caused it.

    A reversal is another entry with the opposite delta that points at the
    entry it undoes; an entry is undone at most once.
    """

    __tablename__ = "points_ledger"
    __table_args__ = (
        # Idempotency by constraint: an activity earns each member at most one entry per rule.
        # Reversals are left out: one cause (a deleted post) may undo several entries of one rule.
        sa.Index("uq_points_ledger_award", "user_id", "rule", "activity_id", unique=True,
                 sqlite_where=sa.text("reverses_id IS NULL"), postgresql_where=sa.text("reverses_id IS NULL")),
        sa.Index("ix_points_ledger_user_time", "user_id", "created_at"),
        # The week and month leaderboards read the ledger by time.
        sa.Index("ix_points_ledger_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    delta: Mapped[int]
    rule: Mapped[str] = mapped_column(sa.String(40))
    activity_id: Mapped[int | None] = mapped_column(sa.ForeignKey("activity.id"), index=True)
    reverses_id: Mapped[int | None] = mapped_column(sa.ForeignKey("points_ledger.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    activity = relationship("Activity")


class UserBadge(db.Model):
    """A badge a member holds: awarded once, by the subscriber that saw it earned."""

    __tablename__ = "user_badges"
    __table_args__ = (
        # Idempotency by constraint: each badge at most once per member.
        sa.UniqueConstraint("user_id", "badge", name="uq_user_badges_holder"),
        sa.Index("ix_user_badges_badge_time", "badge", "awarded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    badge: Mapped[str] = mapped_column(sa.String(40))
    activity_id: Mapped[int | None] = mapped_column(sa.ForeignKey("activity.id"))
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User")
