import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..sqltypes import LabelledEnum, UTCDateTime, str_enum, utcnow


class ReferralStatus(LabelledEnum):
    INVITED = "invited", _l("Invited")
    SIGNED_UP = "signed_up", _l("Signed up")
    CONVERTED = "converted", _l("Became a customer")
    REJECTED = "rejected", _l("Rejected")


class ReferralSource(enum.StrEnum):
    LINK = "link"          # landed on /r/<code>, then registered within the cookie's window
    CODE = "code"          # typed the code into the sign-up form or API
    INVITE = "invite"      # invited by email from the referrer's page


class Referral(db.Model):
    """One friend a member brought: invited → signed_up → converted, or rejected with its reason."""

    __tablename__ = "referrals"
    __table_args__ = (
        # A member is someone's referral at most once, whoever else invited them.
        sa.UniqueConstraint("invitee_id", name="uq_referrals_invitee_id"),
        sa.UniqueConstraint("referrer_id", "invitee_email", name="uq_referrals_referrer_email"),
        sa.Index("ix_referrals_referrer_status", "referrer_id", "status"),
        sa.Index("ix_referrals_code_signed_up", "code", "signed_up_at"),
        sa.Index("ix_referrals_invitee_email", "invitee_email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referrer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    code: Mapped[str] = mapped_column(sa.String(16))
    source: Mapped[ReferralSource] = mapped_column(str_enum(ReferralSource, length=12))
    invitee_email: Mapped[str | None] = mapped_column(sa.String(254))
    invitee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    status: Mapped[ReferralStatus] = mapped_column(str_enum(ReferralStatus, length=12),
                                                   default=ReferralStatus.INVITED)
    # Why a referral was rejected (a fraud rule's key) and what the rule saw.
    fraud_reason: Mapped[str | None] = mapped_column(sa.String(40))
    fraud_detail: Mapped[str] = mapped_column(sa.String(300), default="")
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
    device_id: Mapped[str | None] = mapped_column(sa.String(64))
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    converted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    referrer = relationship("User", foreign_keys=[referrer_id])
    invitee = relationship("User", foreign_keys=[invitee_id])


class Sighting(db.Model):
    """An account seen from an address and a device: what the self-referral rule compares."""

    __tablename__ = "sightings"
    __table_args__ = (
        sa.Index("ix_sightings_user_time", "user_id", "seen_at"),
        sa.Index("ix_sightings_ip_time", "ip_address", "seen_at"),
        sa.Index("ix_sightings_device_time", "device_id", "seen_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
    device_id: Mapped[str | None] = mapped_column(sa.String(64))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
