"""Moderators restructuring topics: merging one topic into another, splitting replies off into a new one.

Posts move with their ids, so whatever points at a post by id (votes, flags,
revisions, review items, quotes, /p/<id> links) keeps working. What points at
a (topic, number) pair or at the topic the posts left (notifications and their
anchors, read marks, lead signals, follows, duplicates and earlier merges) is
rewritten here, in the same transaction as the move.
"""
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from ..audit import audit
from ..errors import Conflict, Invalid, NotFound
from ..events import Verb, record_activity
from ..extensions import db
from ..idempotency import insert_unless_exists
from ..payloads import TopicMerged, TopicSplit
from ..permissions import Permission, ensure
from ..sqltypes import utcnow
from . import reading
from .access import can_read
from .content import clean_title
from .models import Follow, FollowTarget, Post, Topic, TopicKind, TopicRead
from .topics import get_category, get_topic

# A merged topic may itself have been merged on since: how many steps its old address follows.
MAX_MERGE_HOPS = 5


# -- merging ---------------------------------------------------------------------------------------

def merge_topics(moderator, from_topic_id, into_topic_id, *, now=None):
    """Move every post of one topic to the end of another, which keeps its own opening post, accepted and
    official answer; the first topic is deleted and its address leads to the second. One activity, one
    audit entry; committed. Returns the topic the posts went to."""
    ensure(moderator, Permission.MODERATE)
    if from_topic_id == into_topic_id:
        raise _merge_into_itself()
    source = get_topic(moderator, from_topic_id)
    try:
        target = get_topic(moderator, into_topic_id)
    except NotFound:
        raise Invalid("merge_target_not_found",
                      fields={"into_topic_id": _l("Choose a topic that exists and that you can read.")}) from None
    apply_merge(moderator, source, target, now or utcnow())
    db.session.commit()
    return target


def apply_merge(moderator, source, target, now):
    """merge_topics() on loaded topics, in the caller's transaction (the review queue's): everything is
    checked before the first write, so a refusal leaves both topics as they were."""
    _check_merge(moderator, source, target)
    _bump_versions(source, target)  # first: it locks both rows, so a reply to either waits for this merge
    moving = db.session.scalars(sa.select(Post).where(Post.topic_id == source.id)
                                .order_by(Post.created_at, Post.id).with_for_update()).all()
    base = _reserve_numbers(target, len(moving))
    renumbered = {}
    for offset, post in enumerate(moving, start=1):
        renumbered[post.number] = base + offset
        post.topic_id, post.number = target.id, base + offset
    published = sum(1 for post in moving if post.deleted_at is None and post.held_at is None)
    target.reply_count = Topic.reply_count + published  # the source's opening post is one of the replies now
    if source.last_posted_at > target.last_posted_at:
        target.last_posted_at, target.last_poster_id = source.last_posted_at, source.last_poster_id
    source.deleted_at, source.merged_into_id = now, target.id
    source.reply_count = source.post_count = source.score = 0
    source.solved_post_id = source.official_post_id = None
    db.session.flush()
    db.session.expire(target, ["post_count"])
    for post in moving:
        db.session.expire(post, ["topic"])
    _move_references(source, target, renumbered, base=base, whole_topic=True)
    post_ids = [post.id for post in moving]
    record_activity(Verb.TOPIC_MERGED, actor=moderator, obj=target, occurred_at=now,
                    payload=TopicMerged(topic_id=target.id, from_topic_id=source.id, post_ids=post_ids))
    audit(moderator, "topic.merged", target, now=now, before={"topic_id": source.id},
          after={"topic_id": target.id, "moved_posts": len(moving)})
    return target


def _merge_into_itself():
    return Invalid("merge_into_itself", fields={"into_topic_id": _l("Choose another topic: a topic can't be "
                                                                    "merged into itself.")})


def _check_merge(moderator, source, target):
    ensure(moderator, Permission.MODERATE)
    if source.id == target.id:
        raise _merge_into_itself()
    _ensure_movable(source)
    if target.deleted_at is not None:
        raise Invalid("merge_target_deleted", fields={"into_topic_id": _l("That topic was deleted: choose "
                                                                          "another.")})
    if target.held_at is not None:
        raise Invalid("merge_target_held", fields={"into_topic_id": _l("That topic waits for a moderator: "
                                                                       "decide it first or choose another.")})
    if not can_read(moderator, target.category):
        raise Invalid("merge_target_not_found",
                      fields={"into_topic_id": _l("Choose a topic that exists and that you can read.")})


def _ensure_movable(topic):
    """A topic whose posts may move: not deleted (or merged away) and not waiting for a moderator."""
    if topic.deleted_at is not None:
        raise Conflict("topic_deleted", _l("This topic was deleted, so its posts can't move."))
    if topic.held_at is not None:
        raise Conflict("topic_held", _l("This topic waits for a moderator: approve it before moving its posts."))


def _reserve_numbers(topic, count):
    """The number after which `count` posts may be placed in `topic`: one UPDATE hands them out, so a reply
    written at the same moment never collides with them."""
    last = db.session.execute(sa.update(Topic).where(Topic.id == topic.id)
                              .values(post_count=Topic.post_count + count).returning(Topic.post_count)).scalar_one()
    return last - count


def _bump_versions(*topics):
    # TOPIC_MERGED and TOPIC_SPLIT name one topic; both topics' cached pages are stale (freshness.py bumps one).
    db.session.execute(sa.update(Topic).where(Topic.id.in_([t.id for t in topics]))
                       .values(version=Topic.version + 1))


# -- splitting -------------------------------------------------------------------------------------

def split_topic(moderator, topic_id, post_ids, *, title, category_id=None, now=None):
    """Move some replies of a topic, in their order, into a new discussion titled `title` in `category_id`
    (default: the same category), where the first of them opens it and its author is the topic's author.
    One activity, one audit entry; committed. Returns the new topic."""
    ensure(moderator, Permission.MODERATE)
    source = get_topic(moderator, topic_id)
    topic = apply_split(moderator, source, post_ids, title=title, category_id=category_id, now=now or utcnow())
    db.session.commit()
    return topic


def apply_split(moderator, source, post_ids, *, title, category_id=None, now):
    """split_topic() on a loaded topic, in the caller's transaction: everything is checked before the first
    write, so a refusal leaves the topic as it was. Nobody earns points: no TOPIC_CREATED is recorded."""
    ensure(moderator, Permission.MODERATE)
    _ensure_movable(source)
    title = clean_title(title)
    category = get_category(moderator, source.category_id if category_id is None else category_id)
    moving = _replies_to_split(source, post_ids)
    first, latest = moving[0], max(moving, key=lambda post: (post.created_at, post.id))
    topic = Topic(category_id=category.id, author_id=first.author_id, kind=TopicKind.DISCUSSION, title=title,
                  created_at=first.created_at, last_posted_at=latest.created_at, last_poster_id=latest.author_id,
                  post_count=len(moving), reply_count=len(moving) - 1, score=first.score)
    db.session.add(topic)
    db.session.flush()
    _bump_versions(source, topic)
    renumbered = {}
    for number, post in enumerate(moving, start=1):
        renumbered[post.number] = number
        post.topic_id, post.number = topic.id, number
    moved_ids = [post.id for post in moving]
    source.reply_count = Topic.reply_count - len(moving)  # every moved post was a published reply
    if source.solved_post_id in moved_ids:
        source.solved_post_id = None
    if source.official_post_id in moved_ids:
        source.official_post_id = None
    db.session.flush()
    for post in moving:
        db.session.expire(post, ["topic"])
    _recount_after_split(source, latest)
    _move_references(source, topic, renumbered, base=0, whole_topic=False)
    record_activity(Verb.TOPIC_SPLIT, actor=moderator, obj=topic, occurred_at=now, payload=TopicSplit(
        topic_id=topic.id, from_topic_id=source.id, post_ids=moved_ids, category_id=category.id))
    audit(moderator, "topic.split", topic, now=now, before={"topic_id": source.id},
          after={"topic_id": topic.id, "post_ids": moved_ids})
    return topic


def _replies_to_split(source, post_ids):
    """The posts to move, in their order in `source`; Invalid unless each is a published reply of it."""
    wanted = list(dict.fromkeys(post_ids or ()))
    if not wanted:
        raise Invalid("no_posts", fields={"post_ids": _l("Choose at least one reply to move.")})
    found = db.session.scalars(sa.select(Post).where(Post.id.in_(wanted)).order_by(Post.number)
                               .with_for_update()).all()
    if len(found) != len(wanted) or any(post.topic_id != source.id for post in found):
        raise Invalid("not_in_topic", fields={"post_ids": _l("Choose replies of this topic.")})
    if any(post.number == 1 for post in found):
        raise Invalid("opening_post", fields={"post_ids": _l("The opening post stays: choose replies only.")})
    if any(post.deleted_at is not None for post in found):
        raise Invalid("post_deleted", fields={"post_ids": _l("Deleted posts can't move.")})
    if any(post.held_at is not None for post in found):
        raise Invalid("post_held", fields={"post_ids": _l("A post waiting for a moderator can't move until it "
                                                         "is decided.")})
    return found


def _recount_after_split(source, latest_moved):
    """The source's highest number (the next reply comes after it) and, if its latest post left, its last
    post: the latest published one that stayed."""
    source.post_count = db.session.scalar(sa.select(sa.func.max(Post.number)).where(Post.topic_id == source.id))
    last = db.session.scalar(sa.select(Post).where(Post.topic_id == source.id, Post.deleted_at.is_(None),
                                                   Post.held_at.is_(None))
                             .order_by(Post.created_at.desc(), Post.id.desc()).limit(1))
    if last is not None and latest_moved.created_at >= last.created_at:
        source.last_posted_at, source.last_poster_id = last.created_at, last.author_id


# -- what points at the moved posts ----------------------------------------------------------------

def _move_references(source, destination, renumbered, *, base, whole_topic):
    """Point what referred to the moved posts by (topic, number), or to the whole source, at `destination`.

    `renumbered` maps each moved post's old number to its new one; posts
    numbered up to `base` were in `destination` already.
    """
    _move_notifications(source, destination, renumbered, whole_topic=whole_topic)
    _move_read_marks(source, destination, renumbered, base=base)
    _move_lead_signals(source, destination, renumbered, whole_topic=whole_topic)
    if whole_topic:
        _move_follows(source, destination)
        # Topics closed as duplicates of the source, or merged into it before, continue in the destination;
        # the destination itself, if it was closed as the source's duplicate, is that discussion now.
        db.session.execute(sa.update(Topic).where(Topic.duplicate_of_id == source.id).values(
            duplicate_of_id=sa.case((Topic.id == destination.id, None), else_=destination.id)))
        db.session.execute(sa.update(Topic).where(Topic.merged_into_id == source.id)
                           .values(merged_into_id=destination.id))


def _move_notifications(source, destination, renumbered, *, whole_topic):
    from ..notifications.models import Notification  # notifications sit above the community

    for notification in db.session.scalars(sa.select(Notification).where(Notification.topic_id == source.id)):
        number = notification.data.get("number")
        if number in renumbered:
            notification.topic_id = destination.id
            notification.data = {**notification.data, "number": renumbered[number]}  # a new dict: JSON is compared
        elif whole_topic:
            notification.topic_id = destination.id


def _move_read_marks(source, destination, renumbered, *, base):
    """Carry each reader's place in the source over: in the destination a member has read the moved posts
    up to the first one they had not seen, and only if they had read all of the destination before them."""
    marks = db.session.execute(sa.select(TopicRead.user_id, TopicRead.last_read_number, TopicRead.read_at)
                               .where(TopicRead.topic_id == source.id)).all()
    if not marks:
        return
    order = sorted(renumbered, key=renumbered.get)  # old numbers, in the destination's order
    existing = dict(db.session.execute(sa.select(TopicRead.user_id, TopicRead.last_read_number)
                                       .where(TopicRead.topic_id == destination.id,
                                              TopicRead.user_id.in_([m.user_id for m in marks]))).all())
    for user_id, last_read, read_at in marks:
        seen = next((i for i, old in enumerate(order) if old > last_read), len(order))
        if user_id not in existing:
            # A merge's destination has posts they never saw: all of it is new to them. A split's new topic
            # has none of its own: they have read what they saw of it in the source.
            if base or seen:
                insert_unless_exists(TopicRead, {"user_id": user_id, "topic_id": destination.id,
                                                 "last_read_number": 0 if base else seen, "read_at": read_at},
                                     key=("user_id", "topic_id"))
        elif existing[user_id] >= base and seen:
            db.session.execute(sa.update(TopicRead).where(
                TopicRead.user_id == user_id, TopicRead.topic_id == destination.id,
                TopicRead.last_read_number < base + seen).values(last_read_number=base + seen))
    reading.read_marks_moved(user_id for user_id, _last_read, _read_at in marks)


def _move_lead_signals(source, destination, renumbered, *, whole_topic):
    from ..leads.models import LeadSignal  # leads sit above the community

    where = LeadSignal.topic_id == source.id
    if not whole_topic:
        moved = sa.select(Post.id).where(Post.topic_id == destination.id, Post.number.in_(list(renumbered.values())))
        where = sa.and_(where, LeadSignal.post_id.in_(moved))
    db.session.execute(sa.update(LeadSignal).where(where).values(topic_id=destination.id)
                       .execution_options(synchronize_session=False))


def _move_follows(source, destination):
    """Who followed the source follows the destination (once)."""
    for user_id, created_at in db.session.execute(sa.select(Follow.user_id, Follow.created_at).where(
            Follow.target_type == FollowTarget.TOPIC, Follow.target_id == source.id)).all():
        insert_unless_exists(Follow, {"user_id": user_id, "target_type": FollowTarget.TOPIC,
                                      "target_id": destination.id, "created_at": created_at},
                             key=("user_id", "target_type", "target_id"))


# -- where a merged topic's address leads ----------------------------------------------------------

def merged_destination(user, topic_id):
    """The id of the topic a merged-away topic's posts went to (following later merges), if `user` may
    read it; None for any other topic."""
    topic = db.session.get(Topic, topic_id, options=[joinedload(Topic.category)])
    if topic is None or not can_read(user, topic.category):  # nor does it say that a staff-room topic existed
        return None
    for _hop in range(MAX_MERGE_HOPS):
        if topic is None or topic.deleted_at is None or topic.merged_into_id is None:
            break
        topic = db.session.get(Topic, topic.merged_into_id)
        if topic is not None and topic.deleted_at is None:
            try:
                return get_topic(user, topic.id).id
            except NotFound:
                return None
    return None
