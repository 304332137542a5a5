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
    # The topic it is about: shown only while the reader may still read it, with its current title.
    topic_id: Mapped[int | None] = mapped_column(sa.ForeignKey("topics.id"), index=True)
    # What else the message needs (post number, idea status), rendered in the reader's language.
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    actor = relationship("User", foreign_keys=[actor_id])
    topic = relationship("Topic")

    @property
    def target(self):
        """(endpoint, values) of where it leads: the post it is about, a member, a badge, an announcement."""
        if "sanction_id" in self.data:
            return "standing.index", {"_anchor": f"sanction-{self.data['sanction_id']}"}
        if self.kind == "review_needed":
            return "moderation.queue", {"_anchor": f"item-{self.data['item_id']}"}
        if self.topic_id is not None:
            anchor = f"post-{self.data['number']}" if "number" in self.data else None
            return "community.topic", {"topic_id": self.topic_id, "_anchor": anchor}
        if "announcement_id" in self.data:
            return "member_announcements.read", {"announcement_id": self.data["announcement_id"]}
        if "member_id" in self.data:
            return "auth.member", {"user_id": self.data["member_id"]}
        if "badge" in self.data:
            return "rewards.badge", {"key": self.data["badge"]}
        return "notifications.index", {}

    @property
    def link(self):
        from flask import url_for

        endpoint, values = self.target
        return url_for(endpoint, **values)

    @property
    def text(self):
        from .messages import describe

        return describe(self)
