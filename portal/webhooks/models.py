"""A webhook (where to send which events, under which secret) and the log of what was sent to it."""
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..sqltypes import LabelledEnum, UTCDateTime, str_enum, utcnow

URL_MAX = 2000
DESCRIPTION_MAX = 200
# What is kept of a receiver's answer: enough to read an error, never a whole page.
RESPONSE_EXCERPT = 2000


class DeliveryStatus(LabelledEnum):
    PENDING = "pending", _l("Pending")
    DELIVERED = "delivered", _l("Delivered")
    FAILED = "failed", _l("Failed")


class Webhook(db.Model):
    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(URL_MAX))
    description: Mapped[str] = mapped_column(sa.String(DESCRIPTION_MAX), default="")
    # Event names from catalog.EVENTS.
    events: Mapped[list] = mapped_column(sa.JSON, default=list)
    # "whsec_" + base64 of the key; receivers need it to check signatures, so it is kept as it is.
    secret: Mapped[str] = mapped_column(sa.String(100))
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    created_by = relationship("User")

    def subscribes_to(self, event):
        return event in (self.events or [])

    def __repr__(self):
        return f"<Webhook {self.id} {self.url}>"


class WebhookDelivery(db.Model):
    """One event for one webhook: its body, and how sending it went (every retry updates this row).

    `message_id` is the Standard Webhooks `webhook-id` header: the same on
    every retry and every redelivery, so the receiver can drop duplicates.
    """
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The delivery log, newest first, and each webhook's last delivery.
        sa.Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(sa.ForeignKey("webhooks.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(sa.String(48))
    message_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The JSON body as sent: {"type", "timestamp", "data"}.
    payload: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus, length=12),
                                                   default=DeliveryStatus.PENDING)
    response_code: Mapped[int | None]
    response_body: Mapped[str] = mapped_column(sa.Text, default="")
    # Why there was no answer at all (refused connection, timeout, a private address).
    error: Mapped[str] = mapped_column(sa.Text, default="")
    duration_ms: Mapped[int | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    webhook = relationship(Webhook)

    def __repr__(self):
        return f"<WebhookDelivery {self.id} {self.event} {self.status}>"
