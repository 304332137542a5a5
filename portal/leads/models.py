"""Leads: the buying signals community activity reveals, the lead they add up to, and the notes of the reps
who work it."""
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..sqltypes import LabelledEnum, UTCDateTime, str_enum, utcnow


class LeadStatus(LabelledEnum):
    POOL = "pool", _l("In the pool")
    CLAIMED = "claimed", _l("Claimed")
    CONTACTED = "contacted", _l("Contacted")
    QUALIFIED = "qualified", _l("Qualified")
    WON = "won", _l("Won")
    # Not the customer-churn "Lost": a lead that did not close.
    LOST = "lost", lazy_pgettext("lead", "Lost")


OPEN_STATUSES = (LeadStatus.POOL, LeadStatus.CLAIMED, LeadStatus.CONTACTED, LeadStatus.QUALIFIED)
HELD_STATUSES = (LeadStatus.CLAIMED, LeadStatus.CONTACTED, LeadStatus.QUALIFIED)
CLOSED_STATUSES = (LeadStatus.WON, LeadStatus.LOST)


class LeadKind(LabelledEnum):
    UPSELL = "upsell", _l("Upsell")
    UPGRADE = "upgrade", _l("Upgrade")
    REPURCHASE = "repurchase", _l("Repurchase")
    REFERRAL = "referral", _l("Referral")
    WIN_BACK = "win_back", _l("Win-back")
    NEW_BUSINESS = "new_business", _l("New business")


class SignalKind(LabelledEnum):
    """What in the community suggested a sale (each with a weight and half-life in leads.rules)."""
    INTENT_WORDS = "intent_words", _l("Buying words in a post")
    HIGHER_PLAN = "higher_plan", _l("Question about a higher plan")
    REFERRAL_SIGNUP = "referral_signup", _l("Joined through a referral")
    CAME_BACK = "came_back", _l("Came back after going quiet")
    PROSPECT_ENGAGED = "prospect_engaged", _l("Prospect taking part strongly")
    REPLACEMENT_DUE = "replacement_due", _l("Product past its replacement cycle")
    STAFF_FLAG = "staff_flag", _l("Flagged as a lead by staff")


# "customer:<id>" or "member:<id>": whose lead it is. One open lead per subject, by a partial unique index.
OPEN_WHERE = "status IN ('pool', 'claimed', 'contacted', 'qualified')"


class Lead(db.Model):
    """A customer (or a member with no customer record) that community activity shows ready to buy.

    `subject` says whose it is: the customer when there is one, else the
    member. `source` is the kind of its strongest signal, kept after the lead
    closes for the effectiveness figures. The score is the decayed sum of its
    signals, as of `scored_at`.
    """

    __tablename__ = "leads"
    __table_args__ = (
        sa.Index("uq_leads_open_subject", "subject", unique=True,
                 postgresql_where=sa.text(OPEN_WHERE), sqlite_where=sa.text(OPEN_WHERE)),
        # The pool, best first.
        sa.Index("ix_leads_status_score", "status", "score"),
        sa.Index("ix_leads_owner_status", "owner_id", "status"),
        sa.Index("ix_leads_updated", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(sa.String(32))
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    kind: Mapped[LeadKind] = mapped_column(str_enum(LeadKind))
    source: Mapped[SignalKind] = mapped_column(str_enum(SignalKind))
    status: Mapped[LeadStatus] = mapped_column(str_enum(LeadStatus, length=12), default=LeadStatus.POOL)
    score: Mapped[int] = mapped_column(default=0)
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last follow-up by the owner (a note or a stage change): a lead left too long goes back to the pool.
    last_touch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    value: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    products: Mapped[list] = mapped_column(sa.JSON, default=list)
    lost_reason: Mapped[str] = mapped_column(sa.Text, default="")
    times_returned: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer = relationship("Customer")
    member = relationship("User", foreign_keys=[member_id])
    owner = relationship("User", foreign_keys=[owner_id])
    signals = relationship("LeadSignal", back_populates="lead", order_by="LeadSignal.points.desc()")
    notes = relationship("LeadNote", back_populates="lead", order_by="LeadNote.created_at")

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    def __repr__(self):
        return f"<Lead {self.id} {self.subject} {self.status} {self.score}>"


class LeadSignal(db.Model):
    """One thing that suggested a sale, with the points it was worth and how fast they fade.

    A signal waits without a lead until its subject's signals pass the
    threshold; then it belongs to the lead it helped make or raise.
    """

    __tablename__ = "lead_signals"
    __table_args__ = (
        sa.Index("ix_lead_signals_subject_time", "subject", "occurred_at"),
        # One signal of a kind per post (an edit doesn't count a post's words twice).
        sa.Index("uq_lead_signals_kind_post", "kind", "post_id", unique=True,
                 postgresql_where=sa.text("post_id IS NOT NULL"), sqlite_where=sa.text("post_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(sa.String(32))
    lead_id: Mapped[int | None] = mapped_column(sa.ForeignKey("leads.id", ondelete="SET NULL"), index=True)
    kind: Mapped[SignalKind] = mapped_column(str_enum(SignalKind))
    points: Mapped[int]
    half_life_days: Mapped[int]
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    activity_id: Mapped[int | None] = mapped_column(sa.ForeignKey("activity.id"))
    topic_id: Mapped[int | None] = mapped_column(sa.ForeignKey("topics.id", ondelete="SET NULL"))
    post_id: Mapped[int | None] = mapped_column(sa.ForeignKey("posts.id", ondelete="SET NULL"))
    # What it found: {"terms": [...]} for words, {"note": ...} for a staff flag, {"product": ...} for a cycle.
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    flagged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lead = relationship("Lead", back_populates="signals")
    member = relationship("User", foreign_keys=[member_id])
    flagged_by = relationship("User", foreign_keys=[flagged_by_id])
    topic = relationship("Topic")
    post = relationship("Post")

    def points_at(self, now):
        """The points left after decay: halved every `half_life_days`."""
        age_days = max(0.0, (now - self.occurred_at).total_seconds() / 86400)
        return self.points * 0.5 ** (age_days / self.half_life_days)


class LeadNote(db.Model):
    """A rep's note on a lead; kept when the lead changes hands or goes back to the pool."""

    __tablename__ = "lead_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(sa.ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    # The stage change it came with, if any ("contacted"...), so the lead page reads as a history.
    status: Mapped[str | None] = mapped_column(sa.String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lead = relationship("Lead", back_populates="notes")
    author = relationship("User")
