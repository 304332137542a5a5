"""Following topics, categories and members; the home feed they make."""
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..auth.models import User, UserStatus
from ..errors import Invalid, NotFound
from ..events import Verb, record_activity
from ..extensions import db
from ..idempotency import insert_unless_exists
from ..payloads import Followed
from ..sqltypes import utcnow
from .models import Follow, FollowTarget, Topic
from .topics import get_category, get_topic


def _target(user, target_type, target_id):
    try:
        target_type = FollowTarget(target_type)
    except ValueError:
        raise Invalid(fields={"target_type": _l("Follow a topic, a category or a member.")}) from None
    if target_type == FollowTarget.TOPIC:
        get_topic(user, target_id)
    elif target_type == FollowTarget.CATEGORY:
        get_category(user, target_id)
    else:
        member = db.session.get(User, target_id)
        if member is None or member.status != UserStatus.ACTIVE:
            raise NotFound()
        if member.id == user.id:
            raise Invalid("self_follow", fields={"target_id": _l("You can't follow yourself.")})
    return target_type


def _existing(user, target_type, target_id):
    return db.session.scalar(sa.select(Follow).where(Follow.user_id == user.id, Follow.target_type == target_type,
                                                     Follow.target_id == target_id))


def follow(user, target_type, target_id, *, now=None):
    """Follow something `user` can see (from `now`); following twice changes nothing."""
    target_type, now = _target(user, target_type, target_id), now or utcnow()
    if insert_unless_exists(Follow, {"user_id": user.id, "target_type": target_type, "target_id": target_id,
                                     "created_at": now}, key=("user_id", "target_type", "target_id")):
        record_activity(Verb.FOLLOWED, actor=user, occurred_at=now,
                        payload=Followed(target_type=target_type.value, target_id=target_id))
    db.session.commit()


def unfollow(user, target_type, target_id):
    target_type = _target(user, target_type, target_id)
    existing = _existing(user, target_type, target_id)
    if existing is not None:
        db.session.delete(existing)
        db.session.commit()


# Built once: every signed-in topic and category page asks it.
_FOLLOWING = sa.select(Follow.id).where(Follow.user_id == sa.bindparam("user_id"),
                                        Follow.target_type == sa.bindparam("target_type"),
                                        Follow.target_id == sa.bindparam("target_id"))


def is_following(user, target_type, target_id):
    if not getattr(user, "is_authenticated", False):
        return False
    found = db.session.scalar(_FOLLOWING, {"user_id": user.id, "target_type": FollowTarget(target_type),
                                           "target_id": target_id})
    return found is not None


def followers(target_type, target_id):
    """Ids of the active members following a target."""
    return db.session.scalars(
        sa.select(Follow.user_id).join(User, User.id == Follow.user_id)
        .where(Follow.target_type == target_type, Follow.target_id == target_id, User.status == UserStatus.ACTIVE)
    ).all()


def feed_topic_ids(user):
    """A subquery of topic ids in what `user` follows: topics, categories, and members' topics."""
    followed = sa.select(Follow.target_type, Follow.target_id).where(Follow.user_id == user.id).subquery()
    by_topic = sa.select(followed.c.target_id).where(followed.c.target_type == FollowTarget.TOPIC)
    by_category = sa.select(Topic.id).where(Topic.category_id.in_(
        sa.select(followed.c.target_id).where(followed.c.target_type == FollowTarget.CATEGORY)))
    by_author = sa.select(Topic.id).where(Topic.author_id.in_(
        sa.select(followed.c.target_id).where(followed.c.target_type == FollowTarget.USER)))
    return sa.union(by_topic, by_category, by_author)
