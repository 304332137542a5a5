from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..sqltypes import UTCDateTime, utcnow


class Notification(db.Model):
    """One thing a member should know about; written by the activity subscribers."""

    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(sa.String(32))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # What the message needs (titles, names), rendered in the reader's language.
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    url: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    actor = relationship("User", foreign_keys=[actor_id])

    @property
    def link(self):
        """Where the notification leads: the post it is about, else its stored url."""
        from flask import url_for

        if "topic_id" in self.data:
            anchor = f"post-{self.data['number']}" if "number" in self.data else None
            return url_for("community.topic", topic_id=self.data["topic_id"], _anchor=anchor)
        if "member_id" in self.data:
            return url_for("auth.member", user_id=self.data["member_id"])
        if "badge" in self.data:
            return url_for("rewards.badge", key=self.data["badge"])
        return self.url or url_for("notifications.index")

    @property
    def text(self):
        from .messages import describe

        return describe(self)
