from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..sqltypes import LabelledEnum, UTCDateTime, str_enum, utcnow


class LifecycleStage(LabelledEnum):
    STRANGER = "stranger", _l("Stranger")
    PROSPECT = "prospect", _l("Prospect")
    DORMANT_PROSPECT = "dormant_prospect", _l("Dormant prospect")
    LOST_PROSPECT = "lost_prospect", _l("Lost prospect")
    CUSTOMER = "customer", _l("Customer")
    REPEAT_CUSTOMER = "repeat_customer", _l("Repeat customer")
    CHURNED_CUSTOMER = "churned_customer", _l("Churned customer")


class CustomerSource(LabelledEnum):
    """How the company came to know this customer."""
    COMMUNITY = "community", _l("Community sign-up")
    REFERRAL = "referral", _l("Referral")
    IMPORT = "import", _l("Import from the CRM")
    API = "api", _l("The CRM's API")
    STAFF = "staff", _l("Entered by staff")
    EVENT = "event", _l("Event")
    WEBSITE = "website", _l("Website")
    PARTNER = "partner", _l("Partner")


class CompanySize(LabelledEnum):
    SOLO = "1", _l("1")
    SMALL = "2-10", _l("2–10")
    MEDIUM = "11-50", _l("11–50")
    LARGE = "51-200", _l("51–200")
    XLARGE = "201-1000", _l("201–1,000")
    ENTERPRISE = "1000+", _l("More than 1,000")


class ValueTier(LabelledEnum):
    KEY = "key", _l("Key")
    VALUED = "valued", _l("Valued")
    STANDARD = "standard", _l("Standard")


class EngagementLevel(LabelledEnum):
    """How much the customer's people take part in the community, most first (crm.engagement)."""
    CHAMPION = "champion", _l("Champion")
    ENGAGED = "engaged", _l("Engaged")
    CASUAL = "casual", _l("Casual")
    LURKER = "lurker", _l("Lurker")
    DORMANT = "dormant", _l("Dormant")


class ChurnRisk(LabelledEnum):
    """How likely the customer is to leave, from the reasons found (crm.churn)."""
    NONE = "none", _l("No risk seen")
    LOW = "low", _l("Low")
    MEDIUM = "medium", _l("Medium")
    HIGH = "high", _l("High")


class Customer(db.Model):
    """The CRM account record a community member belongs to.

    `search_text` is what the staff search box matches: name, company, emails,
    domains, external id and phone, folded to one case and script (see
    crm.records.search_text_of), kept by the service that writes the record.
    `last_touch_at` is the latest touchpoint, kept by the crm subscriber.
    """

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    company: Mapped[str | None] = mapped_column(sa.String(120))
    email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    region: Mapped[str | None] = mapped_column(sa.String(80), index=True)
    industry: Mapped[str | None] = mapped_column(sa.String(80), index=True)
    size: Mapped[str | None] = mapped_column(sa.String(24))
    source: Mapped[CustomerSource] = mapped_column(str_enum(CustomerSource), default=CustomerSource.STAFF)
    owner_rep_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    relationship_owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    value_tier: Mapped[ValueTier] = mapped_column(str_enum(ValueTier), default=ValueTier.STANDARD)
    lifecycle_stage: Mapped[LifecycleStage] = mapped_column(
        str_enum(LifecycleStage), default=LifecycleStage.PROSPECT
    )
    revenue: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2), default=Decimal("0"))
    first_purchase_at: Mapped[date | None]
    last_purchase_at: Mapped[date | None]
    renewal_date: Mapped[date | None]
    contact_channels: Mapped[list] = mapped_column(sa.JSON, default=list)
    opt_outs: Mapped[list] = mapped_column(sa.JSON, default=list)
    preferred_language: Mapped[str | None] = mapped_column(sa.String(16))
    tags: Mapped[list] = mapped_column(sa.JSON, default=list)
    last_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_touch_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # When the lifecycle stage last moved: how long a prospect has been silent, whether a churned
    # customer bought again after churning.
    stage_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who they left for, when they left for a competitor.
    lost_to: Mapped[str | None] = mapped_column(sa.String(120))
    # The computed dimensions (crm.dimensions): each kept with its parts or reasons, so a page can
    # say why without working it out again.
    engagement_level: Mapped[EngagementLevel] = mapped_column(
        str_enum(EngagementLevel), default=EngagementLevel.DORMANT, server_default=EngagementLevel.DORMANT.value,
        index=True)
    engagement_score: Mapped[int] = mapped_column(default=0, server_default="0")
    future_value: Mapped[int] = mapped_column(default=0, server_default="0")
    future_value_parts: Mapped[list] = mapped_column(sa.JSON, default=list, server_default="[]")
    churn_risk: Mapped[ChurnRisk] = mapped_column(str_enum(ChurnRisk), default=ChurnRisk.NONE,
                                                  server_default=ChurnRisk.NONE.value, index=True)
    churn_reasons: Mapped[list] = mapped_column(sa.JSON, default=list, server_default="[]")
    search_text: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    users = relationship("User", back_populates="customer", foreign_keys="User.customer_id")
    owner_rep = relationship("User", foreign_keys=[owner_rep_id])
    relationship_owner = relationship("User", foreign_keys=[relationship_owner_id])
    domains = relationship("CustomerDomain", back_populates="customer", cascade="all, delete-orphan",
                           order_by="CustomerDomain.id")
    products = relationship("CustomerProduct", back_populates="customer", cascade="all, delete-orphan",
                            order_by="CustomerProduct.purchased_on")

    @property
    def domain(self):
        """The main domain (the first one given)."""
        return self.domains[0].domain if self.domains else None

    @property
    def domain_names(self):
        return [d.domain for d in self.domains]

    def __repr__(self):
        return f"<Customer {self.id} {self.name}>"


class CustomerDomain(db.Model):
    """A company mail domain of a customer: members who sign up with it join the account.

    Not unique: two records claiming one domain is a conflict staff decide
    (crm.linking.conflicts), not an error an import can hit halfway.
    """

    __tablename__ = "customer_domains"
    __table_args__ = (sa.UniqueConstraint("customer_id", "domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(sa.String(120), index=True)

    customer = relationship("Customer", back_populates="domains")


class CustomerProduct(db.Model):
    """A product the customer owns, with when they bought it."""

    __tablename__ = "customer_products"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    product: Mapped[str] = mapped_column(sa.String(120))
    purchased_on: Mapped[date]
    quantity: Mapped[int] = mapped_column(default=1)

    customer = relationship("Customer", back_populates="products")


class CustomerNote(db.Model):
    """A staff member's note on a customer; every staff member who sees the customer sees it."""

    __tablename__ = "customer_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author = relationship("User")


class CustomerComplaint(db.Model):
    """A post by one of the customer's people that uses complaint words (found by crm.subscribers).

    One row per post, kept in step when the post is edited or deleted; churn
    risk and the complaints report count these instead of reading every post.
    """

    __tablename__ = "customer_complaints"
    __table_args__ = (sa.Index("ix_customer_complaints_customer_time", "customer_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("posts.id", ondelete="CASCADE"), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    words: Mapped[list] = mapped_column(sa.JSON, default=list)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer = relationship("Customer")
    post = relationship("Post")


class SegmentMatch(LabelledEnum):
    ALL = "all", _l("All of the rules")
    ANY = "any", _l("Any of the rules")


class Segment(db.Model):
    """A saved rule over customer fields and dimensions (crm.segments): who is in it is worked out when asked."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    match: Mapped[SegmentMatch] = mapped_column(str_enum(SegmentMatch, length=8), default=SegmentMatch.ALL)
    # [{"field": "value_tier", "op": "in", "value": ["key"]}, ...]; checked by crm.segments.
    rules: Mapped[list] = mapped_column(sa.JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    created_by = relationship("User")


class RetentionStatus(LabelledEnum):
    OPEN = "open", _l("Open")
    DONE = "done", _l("Done")


class RetentionOutcome(LabelledEnum):
    RETAINED = "retained", _l("Retained")
    WON_BACK = "won_back", _l("Won back")
    AT_RISK = "at_risk", _l("Still at risk")
    LOST = "lost", _l("Lost")


class RetentionCase(db.Model):
    """A key or valued customer at churn risk that someone must act on (crm.retention).

    At most one open case per customer, by a partial unique index.
    """

    __tablename__ = "retention_cases"
    __table_args__ = (
        sa.Index("uq_retention_cases_open", "customer_id", unique=True,
                 postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'")),
        sa.Index("ix_retention_cases_status_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    status: Mapped[RetentionStatus] = mapped_column(str_enum(RetentionStatus, length=8),
                                                    default=RetentionStatus.OPEN)
    reasons: Mapped[list] = mapped_column(sa.JSON, default=list)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_on: Mapped[date]
    action_activity_id: Mapped[int | None] = mapped_column(sa.ForeignKey("activity.id"))
    outcome: Mapped[RetentionOutcome | None] = mapped_column(str_enum(RetentionOutcome))
    outcome_note: Mapped[str] = mapped_column(sa.Text, default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    customer = relationship("Customer")
    owner = relationship("User", foreign_keys=[owner_id])
    closed_by = relationship("User", foreign_keys=[closed_by_id])


class Announcement(db.Model):
    """A message to the members of one or more segments, in the community and/or by email (crm.announcements)."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    html: Mapped[str] = mapped_column(sa.Text, default="")
    segment_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    channels: Mapped[list] = mapped_column(sa.JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How many were reached and how many left out, by reason, when it was sent.
    summary: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    created_by = relationship("User")


class AnnouncementDelivery(db.Model):
    """One member reached by one announcement on one channel: the log, the dedupe and the frequency cap."""

    __tablename__ = "announcement_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("announcement_id", "user_id", "channel"),
        sa.Index("ix_announcement_deliveries_user_time", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(sa.ForeignKey("announcements.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    announcement = relationship("Announcement")
    user = relationship("User")
