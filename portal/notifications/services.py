"""A member's notifications: listing, counting, marking read."""
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..community.access import visible_topics
from ..community.models import Topic
from ..extensions import db
from ..sqltypes import utcnow
from .models import Notification


def _shown_to(user):
    """`user`'s notifications whose topic, if any, they may still read.

    Checked when read, not only when written: a topic moved into the staff
    room or deleted since stops showing its title.
    """
    # Correlated: one primary-key probe per notification of this user, not a scan of every readable topic.
    still_readable = visible_topics(user).with_only_columns(Topic.id).where(Topic.id == Notification.topic_id).exists()
    return sa.and_(Notification.user_id == user.id,
                   sa.or_(Notification.topic_id.is_(None), still_readable))


def notifications_for(user, *, unread_only=False):
    query = (sa.select(Notification).where(_shown_to(user))
             .options(selectinload(Notification.actor),
                      selectinload(Notification.topic).selectinload(Topic.category))
             .order_by(Notification.created_at.desc(), Notification.id.desc()))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return query


def unread_count(user):
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Notification)
        .where(_shown_to(user), Notification.read_at.is_(None))
    )


def open_notification(user, notification_id):
    """Mark one of `user`'s notifications read and return it; NotFound for anyone else's, or one out of reach."""
    from ..errors import NotFound

    notification = db.session.scalar(sa.select(Notification).where(Notification.id == notification_id,
                                                                     _shown_to(user)))
    if notification is None:
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
    from ..notices import member_changed  # (notices reads the counts this module keeps)

    member_changed(user.id)  # a bulk UPDATE: the ORM's events don't see it
    db.session.commit()
