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


class ValueTier(LabelledEnum):
    KEY = "key", _l("Key")
    VALUED = "valued", _l("Valued")
    STANDARD = "standard", _l("Standard")


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
