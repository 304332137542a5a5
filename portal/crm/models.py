import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..sqltypes import UTCDateTime, str_enum, utcnow


class LifecycleStage(enum.StrEnum):
    STRANGER = "stranger"
    PROSPECT = "prospect"
    DORMANT_PROSPECT = "dormant_prospect"
    LOST_PROSPECT = "lost_prospect"
    CUSTOMER = "customer"
    REPEAT_CUSTOMER = "repeat_customer"
    CHURNED_CUSTOMER = "churned_customer"

    @property
    def label(self):
        return STAGE_LABELS[self]


STAGE_LABELS = {
    LifecycleStage.STRANGER: _l("Stranger"),
    LifecycleStage.PROSPECT: _l("Prospect"),
    LifecycleStage.DORMANT_PROSPECT: _l("Dormant prospect"),
    LifecycleStage.LOST_PROSPECT: _l("Lost prospect"),
    LifecycleStage.CUSTOMER: _l("Customer"),
    LifecycleStage.REPEAT_CUSTOMER: _l("Repeat customer"),
    LifecycleStage.CHURNED_CUSTOMER: _l("Churned customer"),
}


class ValueTier(enum.StrEnum):
    KEY = "key"
    VALUED = "valued"
    STANDARD = "standard"

    @property
    def label(self):
        return TIER_LABELS[self]


TIER_LABELS = {
    ValueTier.KEY: _l("Key"),
    ValueTier.VALUED: _l("Valued"),
    ValueTier.STANDARD: _l("Standard"),
}


class Customer(db.Model):
    """The CRM account record a community member belongs to."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    company: Mapped[str | None] = mapped_column(sa.String(120))
    email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    domain: Mapped[str | None] = mapped_column(sa.String(120), index=True)
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    region: Mapped[str | None] = mapped_column(sa.String(80))
    industry: Mapped[str | None] = mapped_column(sa.String(80))
    size: Mapped[str | None] = mapped_column(sa.String(24))
    owner_rep_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    relationship_owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
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
    last_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    users = relationship("User", back_populates="customer", foreign_keys="User.customer_id")
    owner_rep = relationship("User", foreign_keys=[owner_rep_id])
    relationship_owner = relationship("User", foreign_keys=[relationship_owner_id])

    def __repr__(self):
        return f"<Customer {self.id} {self.name}>"
