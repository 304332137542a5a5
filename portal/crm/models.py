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
