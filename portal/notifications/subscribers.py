"""Who hears about what: notification rows written inside the action's transaction."""
import sqlalchemy as sa

from ..auth.models import User, UserStatus
from ..community.access import readers_among
from ..community.follows import followers
from ..community.models import FollowTarget, Post, Topic, Vote
from ..events import Verb, listens_to
from ..extensions import db
from ..permissions import Permission, roles_with
from .models import Notification


def _ordered(*groups):
    """Merge (kind, user ids) groups into {user id: kind}; the first group naming a user wins."""
    result = {}
    for kind, ids in groups:
        for user_id in ids:
            result.setdefault(user_id, kind)
    return result


def _write(by_user, activity, topic, data):
    """One notification per active recipient who may read `topic`, never to the person who acted.

    A member never hears of a topic they can't open (a staff-room topic, say):
    its title would leak through the notification. The title itself is not
    stored; it is read from the topic when the notification is shown.
    """
    by_user.pop(activity.actor_id, None)
    if not by_user:
        return
    readers = set(db.session.scalars(readers_among(list(by_user), topic.category)))
    db.session.add_all(Notification(user_id=user_id, kind=kind, actor_id=activity.actor_id, topic_id=topic.id,
                                    data=data, created_at=activity.occurred_at)
                       for user_id, kind in by_user.items() if user_id in readers)


def notify_moderators(kind, activity, topic, data, *, leave_out=()):
    """One notification to every active moderator (staff with the MODERATE permission), never to whoever
    acted or to `leave_out` (the author of what is reviewed): for the review queue. In the caller's transaction."""
    left_out = {activity.actor_id, *leave_out}
    moderator_ids = db.session.scalars(sa.select(User.id).where(
        User.role.in_(roles_with(Permission.MODERATE)), User.status == UserStatus.ACTIVE)).all()
    db.session.add_all(Notification(user_id=user_id, kind=kind, actor_id=activity.actor_id, topic_id=topic.id,
                                    data=data, created_at=activity.occurred_at)
                       for user_id in moderator_ids if user_id not in left_out)


def _post_data(post):
    return {"number": post.number}


@listens_to(Verb.POST_CREATED)
def on_reply(verb, activity, payload, obj, **extra):
    post = obj
    _write(_ordered(
        ("mention", payload.mentions),
        ("quote", [payload.reply_to_author_id] if payload.reply_to_author_id else []),
        ("reply", [post.topic.author_id]),
        ("followed_reply", followers(FollowTarget.TOPIC, post.topic_id)),
    ), activity, post.topic, _post_data(post))


@listens_to(Verb.TOPIC_CREATED)
def on_new_topic(verb, activity, payload, obj, **extra):
    topic = obj
    _write(_ordered(
        ("mention", payload.mentions),
        ("new_topic", followers(FollowTarget.CATEGORY, topic.category_id)),
        ("new_topic", followers(FollowTarget.USER, topic.author_id)),
    ), activity, topic, {"number": 1})


@listens_to(Verb.ANSWER_ACCEPTED)
def on_accepted(verb, activity, obj, **extra):
    post = obj
    _write({post.author_id: "accepted"}, activity, post.topic, _post_data(post))


@listens_to(Verb.IDEA_STATUS_CHANGED)
def on_idea_status(verb, activity, payload, obj, **extra):
    topic = obj
    voters = db.session.scalars(
        sa.select(Vote.voter_id).join(Post, Post.id == Vote.post_id)
        .where(Post.topic_id == topic.id, Post.number == 1, Vote.value == 1)
    ).all()
    _write(_ordered(("idea_status", [topic.author_id, *voters])), activity, topic,
           {"status": payload.status})


def _write_to_actor(activity, kind, data):
    """A notification about what the member themself earned: _write() never tells whoever acted."""
    holder = db.session.get(User, activity.actor_id)
    if holder is not None and holder.status == UserStatus.ACTIVE:
        db.session.add(Notification(user_id=holder.id, kind=kind, data=data, created_at=activity.occurred_at))


@listens_to(Verb.LEVEL_REACHED)
def on_level_reached(verb, activity, payload, **extra):
    _write_to_actor(activity, "level_up", {"level": payload.level, "member_id": activity.actor_id})


@listens_to(Verb.BADGE_AWARDED)
def on_badge_awarded(verb, activity, payload, **extra):
    _write_to_actor(activity, "badge", {"badge": payload.badge})


@listens_to(Verb.REVIEW_DECIDED)
def on_flags_agreed(verb, activity, payload, **extra):
    """Thank the members whose flags a moderator agreed with. The moderator is not named, and the post is
    not linked (it may be hidden or gone): the topic is, while they may read it."""
    if not payload.agreed_flagger_ids:
        return
    topic = db.session.get(Topic, payload.topic_id)
    flagger_ids = [user_id for user_id in payload.agreed_flagger_ids if user_id != activity.actor_id]
    readers = set() if topic.deleted_at or not flagger_ids else set(
        db.session.scalars(readers_among(flagger_ids, topic.category)))
    db.session.add_all(Notification(
        user_id=user_id, kind="flag_helped" if user_id in readers else "flag_helped_unseen",
        topic_id=topic.id if user_id in readers else None, data={"decision": payload.decision},
        created_at=activity.occurred_at) for user_id in flagger_ids)


@listens_to(Verb.MEMBER_WARNED, Verb.MEMBER_SILENCED, Verb.USER_SUSPENDED)
def on_sanctioned(verb, activity, payload, **extra):
    """Tell the member what moderators decided about them; it links to their standing page. The moderator
    is not named: it comes from the moderators. (An older suspension without a record tells nobody.)"""
    if payload.member_id is None or payload.sanction_id is None:
        return
    kind = {Verb.MEMBER_WARNED: "warned", Verb.MEMBER_SILENCED: "silenced"}.get(verb, "suspended")
    until = getattr(payload, "until", None)
    db.session.add(Notification(user_id=payload.member_id, kind=kind, created_at=activity.occurred_at,
                                data={"sanction_id": payload.sanction_id,
                                      "until": until.isoformat() if until else None}))
