"""Unread tracking: how far each member has read each topic.

Reading a page writes nothing: the page reports what the reader has seen
through a small POST from its script (`record_reading`, as Discourse's
timings do), so a page view is reads only.
"""
import sqlalchemy as sa

from ..extensions import db
from ..idempotency import insert_unless_exists
from ..sqltypes import utcnow
from .models import TopicRead

# Built once: every list and topic page a member opens runs it.
_READ_MARKS = (sa.select(TopicRead.topic_id, TopicRead.last_read_number)
               .where(TopicRead.user_id == sa.bindparam("user_id"),
                      TopicRead.topic_id.in_(sa.bindparam("topic_ids", expanding=True))))


def read_marks(user, topic_ids):
    """{topic id: last post number read} for `user`, in one query."""
    if not getattr(user, "is_authenticated", False) or not topic_ids:
        return {}
    return dict(db.session.execute(_READ_MARKS, {"user_id": user.id, "topic_ids": list(topic_ids)}).all())


def record_reading(user, topic_id, up_to_number):
    """What the topic page's script reports: `user` has seen `topic_id`'s posts up to `up_to_number` (capped
    at the topic's last number). Committed; NotFound for a topic they may not read."""
    from .topics import get_topic  # topics lists unread counts from this module

    topic = get_topic(user, topic_id)
    mark_read(user, topic, min(up_to_number, topic.post_count))
    return topic


def mark_read(user, topic, up_to_number):
    """Remember that `user` has seen posts up to `up_to_number`; never moves backwards."""
    if not getattr(user, "is_authenticated", False):
        return
    now = utcnow()
    inserted = insert_unless_exists(TopicRead, {"user_id": user.id, "topic_id": topic.id,
                                                "last_read_number": up_to_number, "read_at": now},
                                    key=("user_id", "topic_id"))
    if not inserted:
        db.session.execute(sa.update(TopicRead).where(
            TopicRead.user_id == user.id, TopicRead.topic_id == topic.id,
            TopicRead.last_read_number < up_to_number).values(last_read_number=up_to_number, read_at=now))
    db.session.commit()


def unread_count(topic, marks):
    """New posts in `topic` since the member's last visit (0 for never-visited topics)."""
    last = marks.get(topic.id)
    return 0 if last is None else max(topic.post_count - last, 0)
