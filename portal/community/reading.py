"""Unread tracking: how far each member has read each topic.

Reading a page writes nothing: the page reports what the reader has seen
through a small POST from its script (`record_reading`, as Discourse's
timings do), so a page view is reads only. Every write to a member's read
marks moves their ReadingVersion, read with their user on each page
(auth.sessions.read_with_user), under which lists cache their unread counts.
"""
import sqlalchemy as sa

from ..auth.models import User
from ..auth.sessions import NOT_READ, read_along, read_with_user
from ..extensions import db
from ..idempotency import bump_counter, insert_unless_exists
from ..sqltypes import utcnow
from .models import ReadingVersion, TopicRead

read_with_user("reading_version", sa.select(ReadingVersion.version).where(ReadingVersion.user_id == User.id)
               .scalar_subquery())

# Built once: every list and topic page a member opens runs it.
_READ_MARKS = (sa.select(TopicRead.topic_id, TopicRead.last_read_number)
               .where(TopicRead.user_id == sa.bindparam("user_id"),
                      TopicRead.topic_id.in_(sa.bindparam("topic_ids", expanding=True))))


def read_marks(user, topic_ids):
    """{topic id: last post number read} for `user`, in one query."""
    if not getattr(user, "is_authenticated", False) or not topic_ids:
        return {}
    return dict(db.session.execute(_READ_MARKS, {"user_id": user.id, "topic_ids": list(topic_ids)}).all())


def reading_version(user):
    """The version of `user`'s read marks when it was read with the session's user, else None (uncached)."""
    version = read_along("reading_version", user)
    return None if version is NOT_READ else version or 0


def read_marks_moved(user_ids):
    """Move the reading version of each of `user_ids` (their read marks were written in this transaction), in
    the order of their ids, so two transactions never wait on each other for them."""
    for user_id in sorted(set(user_ids)):
        bump_counter(db.session, ReadingVersion, {"user_id": user_id})


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
    read_marks_moved([user.id])
    db.session.commit()


def unread_count(topic, marks):
    """New posts in `topic` since the member's last visit (0 for never-visited topics)."""
    last = marks.get(topic.id)
    return 0 if last is None else max(topic.post_count - last, 0)
