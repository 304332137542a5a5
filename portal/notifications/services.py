"""A member's notifications: listing, counting, marking read."""
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..sqltypes import utcnow
from .models import Notification


def notifications_for(user, *, unread_only=False):
    query = (sa.select(Notification).where(Notification.user_id == user.id)
             .options(selectinload(Notification.actor))
             .order_by(Notification.created_at.desc(), Notification.id.desc()))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return query


def unread_count(user):
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def open_notification(user, notification_id):
    """Mark one of `user`'s notifications read and return it; NotFound for anyone else's."""
    from ..errors import NotFound

    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        raise NotFound()
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.commit()
    return notification


def mark_all_read(user):
    """Mark every unread notification of `user` read; committed."""
    db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
