from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..sqltypes import LabelledEnum, UTCDateTime, str_enum, utcnow


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


class ReviewReason(LabelledEnum):
    """Why a post is in the review queue; one item can carry several."""
    FLAGGED = "flagged", _l("Flagged by members")
    HIDDEN_BY_FLAGS = "hidden_by_flags", _l("Hidden by flags")
    HELD_NEW_ACCOUNT = "held_new_account", _l("A new account's first post")
    HELD_LINKS = "held_links", _l("Links from a new account")
    HELD_WATCHED_WORDS = "held_watched_words", _l("Uses watched words")
    # The author edited a post that was hidden or held: it waits for another look (portal/moderation/resubmit.py).
    RESUBMITTED = "resubmitted", _l("Edited by the author for another look")
    # A published post edited to use a watched word: it stays visible until a moderator decides.
    EDITED_WATCHED_WORDS = "edited_watched_words", _l("Edited to use watched words")


HELD_REASONS = (ReviewReason.HELD_NEW_ACCOUNT, ReviewReason.HELD_LINKS, ReviewReason.HELD_WATCHED_WORDS)


class ReviewStatus(LabelledEnum):
    OPEN = "open", _l("Waiting for a decision")
    APPROVED = "approved", _l("Approved")
    HIDDEN = "hidden", _l("Hidden")
    DELETED = "deleted", _l("Deleted")
    # Kept, after the moderator changed something: edited, locked, moved, merged or split.
    CHANGED = "changed", _l("Changed and kept")
    # The author (or a moderator elsewhere) deleted the post before anyone decided.
    POST_DELETED = "post_deleted", _l("Post deleted")


OPEN_REVIEW_WHERE = "status = 'open'"


class ReviewItem(db.Model):
    """One post waiting for a moderator's decision, and the decision once made.

    Written only by the spine's subscribers (flags, hides, holds): at most one
    open item per post, by a partial unique index, so a post flagged ten times
    is still one line in the queue.
    """

    __tablename__ = "review_items"
    __table_args__ = (
        sa.Index("uq_review_items_open_post", "post_id", unique=True,
                 postgresql_where=sa.text(OPEN_REVIEW_WHERE), sqlite_where=sa.text(OPEN_REVIEW_WHERE)),
        # The queue, oldest first, and the navigation's count.
        sa.Index("ix_review_items_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("posts.id"))
    # ReviewReason values, in the order they arrived.
    reasons: Mapped[list] = mapped_column(sa.JSON, default=list)
    # The watched words a held post used, for the moderator and the author.
    terms: Mapped[list] = mapped_column(sa.JSON, default=list)
    status: Mapped[ReviewStatus] = mapped_column(str_enum(ReviewStatus), default=ReviewStatus.OPEN,
                                                 server_default=ReviewStatus.OPEN.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    # The moderator's exact decision (portal/moderation/decisions.py DECISIONS), finer than the status.
    decision: Mapped[str | None] = mapped_column(sa.String(24))

    post = relationship("Post")
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    @property
    def reason_kinds(self):
        return [ReviewReason(reason) for reason in self.reasons]

    @property
    def is_held(self):
        return any(reason in HELD_REASONS for reason in self.reason_kinds)


class SanctionKind(LabelledEnum):
    """What moderators decided about a member (not a post)."""
    WARNING = "warning", _l("Warning")
    SILENCE = "silence", _l("Silence")
    SUSPENSION = "suspension", _l("Suspension")


class MemberSanction(db.Model):
    """A warning, silence or suspension of a member, kept for good as their record (lifting only stamps it).

    The user row carries what is in force (`silenced_until`, `status` with
    `suspended_until`) so every permission check stays free of queries; this
    row holds the reason shown to the member, who decided, and its history.
    """

    __tablename__ = "member_sanctions"
    __table_args__ = (
        sa.Index("ix_member_sanctions_member_kind", "member_id", "kind", "acknowledged_at"),
        sa.CheckConstraint("kind != 'silence' OR ends_at IS NOT NULL", name="silence_has_an_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SanctionKind] = mapped_column(str_enum(SanctionKind))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(sa.String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None: for good (never for a silence).
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    review_item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("review_items.id"))

    member = relationship("User", foreign_keys=[member_id])
    by = relationship("User", foreign_keys=[by_id])
    lifted_by = relationship("User", foreign_keys=[lifted_by_id])

    def in_force(self, now):
        """Whether it still binds at `now`: not lifted, not over (a warning binds until acknowledged)."""
        if self.lifted_at is not None:
            return False
        if self.kind == SanctionKind.WARNING:
            return self.acknowledged_at is None
        return self.ends_at is None or self.ends_at > now
