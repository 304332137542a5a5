"""Topics: starting them, finding them, and the moderator's hand on them."""
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from ..audit import audit
from ..errors import Forbidden, Invalid, NotFound
from ..events import Verb, record_activity
from ..extensions import db
from ..moderation.holds import hold_for
from ..payloads import PostHeld, TopicClosedAsDuplicate, TopicCreated, TopicEdited, TopicLocked, TopicMoved, TopicPinned
from ..permissions import Permission, can, ensure
from ..sqltypes import utcnow
from .access import can_read, can_write, is_moderator, may_see_held, readable_levels, visible_topics
from .content import Body, clean_title, normalise_tag, resolve_tags
from .limits import check_posting_limit
from .models import Category, Follow, FollowTarget, IdeaStatus, Post, PostRevision, Tag, Topic, TopicKind, topic_tags

SORTS = ("latest", "top", "unanswered", "solved", "unsolved", "votes")
PERIODS = {"day": 1, "week": 7, "month": 30, "year": 365, "all": None}


def get_category(user, category_id=None, *, slug=None):
    """A category `user` may read, by id or slug; NotFound otherwise."""
    where = Category.slug == slug if slug is not None else Category.id == category_id
    category = db.session.scalar(sa.select(Category).where(where))
    if category is None or not can_read(user, category):
        raise _no_such_category()
    return category


def _no_such_category():
    return NotFound("category_not_found", _l("That category does not exist."),
                    fields={"category_id": _l("Choose an existing category.")})


# Built once: every category page a member opens reads it.
_CATEGORY_HEAD = (sa.select(Category, Follow.by_reader(FollowTarget.CATEGORY, Category.id))
                  .where(Category.slug == sa.bindparam("slug")))


def category_and_follow(user, slug):
    """(the category `user` may read by `slug`, whether they follow it), in one statement; NotFound as
    get_category()."""
    row = db.session.execute(_CATEGORY_HEAD, {"slug": slug, "reader_id": _reader_id(user)}).first()
    if row is None or not can_read(user, row.Category):
        raise _no_such_category()
    return row.Category, bool(row.followed)


def get_topic(user, topic_id):
    """A topic `user` may read (moderators also see deleted ones); NotFound otherwise."""
    topic = db.session.get(Topic, topic_id, options=[joinedload(Topic.category)])
    if topic is None or not _may_read(user, topic.category.read_access, topic.deleted_at, topic.held_at,
                                      topic.author_id):
        raise NotFound("topic_not_found", _l("That topic does not exist."))
    return topic


@dataclass(frozen=True)
class TopicHead:
    """What a cached topic page needs of its topic: the version to look for, who started it, and whether the
    reader follows it (their follow button)."""
    id: int
    version: int
    author_id: int
    followed: bool


# Built once: every topic page served from the cache reads it instead of the whole topic (and the follow).
_HEAD = (sa.select(Topic.id, Topic.version, Topic.author_id, Topic.deleted_at, Topic.held_at, Category.read_access,
                   Follow.by_reader(FollowTarget.TOPIC, Topic.id))
         .join(Category, Category.id == Topic.category_id).where(Topic.id == sa.bindparam("topic_id")))


def topic_head(user, topic_id):
    """get_topic() in brief, for a topic that is not deleted: its TopicHead, or None (not there, not readable by
    `user`, or deleted, which moderators see through get_topic()). One statement."""
    row = db.session.execute(_HEAD, {"topic_id": topic_id, "reader_id": _reader_id(user)}).first()
    if row is None or row.deleted_at or not _may_read(user, row.read_access, None, row.held_at, row.author_id):
        return None
    return TopicHead(row.id, row.version, row.author_id, bool(row.followed))


def _reader_id(user):
    return user.id if getattr(user, "is_authenticated", False) else None  # (a visitor follows nothing)


def _may_read(user, read_access, deleted_at, held_at, author_id):
    return (read_access in readable_levels(user) and (not deleted_at or is_moderator(user))
            and (not held_at or may_see_held(user, author_id)))


def _parse_kind(kind):
    try:
        return TopicKind(kind)
    except ValueError:
        raise Invalid(fields={"kind": _l("Choose discussion, question or idea.")}) from None


def create_topic(author, *, category_id, kind, title, body, tags=(), now=None):
    """Start a topic with its first post; one activity; committed. `now`: when (default the clock)."""
    ensure(author, Permission.POST)
    category = get_category(author, category_id)
    if not can_write(author, category):
        raise Forbidden("category_read_only", _("Only staff can start topics in this category."))
    kind = _parse_kind(kind)
    title = clean_title(title)
    check_posting_limit(author, new_topic=True)
    content = Body(author, body)
    tag_objects = resolve_tags(author, tags)
    hold = hold_for(author, content.source, title=title)
    now = now or utcnow()
    held_at = now if hold else None
    topic = Topic(category_id=category.id, author_id=author.id, kind=kind, title=title, created_at=now,
                  last_posted_at=now, last_poster_id=author.id, post_count=1, tags=tag_objects,
                  idea_status=IdeaStatus.NEW if kind == TopicKind.IDEA else None, held_at=held_at)
    db.session.add(topic)
    db.session.flush()
    post = Post(topic_id=topic.id, number=1, author_id=author.id, source=content.source, html=content.html,
                sanitizer_version=content.version, created_at=now, held_at=held_at)
    db.session.add(post)
    db.session.flush()
    if hold:  # the whole topic waits for a moderator; approving it records the TOPIC_CREATED below
        record_activity(Verb.POST_HELD, actor=author, obj=post, occurred_at=now, payload=PostHeld(
            topic_id=topic.id, author_id=author.id, number=1, reasons=hold.reasons, terms=hold.terms,
            mentions=content.mentioned_ids))
        db.session.commit()
        return topic
    record_activity(Verb.TOPIC_CREATED, actor=author, obj=topic, occurred_at=now,
                    payload=TopicCreated(topic_id=topic.id, post_id=post.id, category_id=category.id,
                                         kind=kind.value, mentions=content.mentioned_ids))
    db.session.commit()
    return topic


def topic_list(user, *, page=1, per_page=None, **filters):
    """One page of topics `user` may see, with what a list shows loaded in a fixed number of queries (the
    API's lists; the pages' come from the cache of lists.py). `filters`: list_query()'s."""
    query = list_query(user, **filters).options(
        joinedload(Topic.category), joinedload(Topic.author), joinedload(Topic.last_poster),
        selectinload(Topic.tags),
    )
    per_page = per_page or current_app.config["TOPICS_PER_PAGE"]
    return db.paginate(query, page=page, per_page=per_page, max_per_page=100, error_out=False)


def list_query(user, *, category=None, sort="latest", period="all", kind=None, tag=None, status=None,
               topic_ids=None):
    """select() of the topics `user` may see in a list, filtered and in the list's order (an index's:
    models.Topic). Invalid for a sort, period, kind or status that does not exist."""
    query = visible_topics(user)
    if category is not None:
        query = query.where(Topic.category_id == category.id)
    if topic_ids is not None:
        query = query.where(Topic.id.in_(topic_ids))
    if kind:
        query = query.where(Topic.kind == _parse_kind(kind))
    if tag:
        query = query.where(Topic.tags.any(Tag.name == normalise_tag(tag)))
    if status:
        try:
            query = query.where(Topic.idea_status == IdeaStatus(status))
        except ValueError:
            raise Invalid(fields={"status": _l("Choose an idea status.")}) from None
    return _sorted(query, sort, period, pinned_first=category is not None)


def _sorted(query, sort, period, *, pinned_first):
    if sort not in SORTS:
        raise Invalid(fields={"sort": _l("Choose a sort: %(sorts)s.", sorts=", ".join(SORTS))})
    if sort == "unanswered":
        query = query.where(Topic.reply_count == 0)
    elif sort == "solved":
        query = query.where(Topic.kind == TopicKind.QUESTION, Topic.solved_post_id.is_not(None))
    elif sort == "unsolved":
        query = query.where(Topic.kind == TopicKind.QUESTION, Topic.solved_post_id.is_(None))
    if sort in ("top", "votes"):
        if period not in PERIODS:
            raise Invalid(fields={"period": _l("Choose day, week, month, year or all.")})
        if PERIODS[period]:
            query = query.where(Topic.created_at >= utcnow() - timedelta(days=PERIODS[period]))
        return query.order_by(Topic.score.desc(), Topic.last_posted_at.desc(), Topic.id.desc())
    order = [Topic.last_posted_at.desc(), Topic.id.desc()]
    if pinned_first:
        order.insert(0, Topic.pinned.desc())
    return query.order_by(*order)


def tag_counts(user, limit=30):
    """The most used tags among topics `user` can see, as (name, count)."""
    visible = visible_topics(user).with_only_columns(Topic.id).subquery()
    return db.session.execute(
        sa.select(Tag.name, sa.func.count()).join(topic_tags, topic_tags.c.tag_id == Tag.id)
        .where(topic_tags.c.topic_id.in_(sa.select(visible.c.id)))
        .group_by(Tag.name).order_by(sa.func.count().desc(), Tag.name).limit(limit)
    ).all()


# -- changing a topic ----------------------------------------------------------------

_UNSET = object()


def change_topic(actor, topic_id, *, title=None, tags=None, pinned=None, locked=None, category_id=None,
                 duplicate_of_id=_UNSET, idea_status=None, status_reply="", now=None):
    """Apply changes to a topic in one transaction: all of them or none (at `now`, default the clock).

    Moderators may change anything. The author, and members whose level
    unlocks it, may change the title and tags; members whose level unlocks it
    may close a topic as a duplicate (or reopen it). `duplicate_of_id` None
    reopens. Each change that takes effect records its own activity.
    """
    ensure(actor, Permission.POST)
    topic = get_topic(actor, topic_id)
    apply_topic_change(actor, topic, title=title, tags=tags, pinned=pinned, locked=locked, category_id=category_id,
                       duplicate_of_id=duplicate_of_id, idea_status=idea_status, status_reply=status_reply,
                       now=now or utcnow())
    db.session.commit()
    return topic


def apply_topic_change(actor, topic, *, title=None, tags=None, pinned=None, locked=None, category_id=None,
                       duplicate_of_id=_UNSET, idea_status=None, status_reply="", now):
    """change_topic()'s checks and writes on a topic `actor` may read, in the caller's transaction."""
    from .ideas import apply_idea_status, check_idea_status

    _ensure_may_change(actor, topic, details=title is not None or tags is not None,
                       duplicate=duplicate_of_id is not _UNSET,
                       staff=any(v is not None for v in (pinned, locked, category_id, idea_status)))
    # Every check comes before the first write, so a refused change leaves the topic as it was.
    moving = category_id is not None and category_id != topic.category_id
    category = get_category(actor, category_id) if moving else None
    if duplicate_of_id is not _UNSET and duplicate_of_id != topic.duplicate_of_id:
        _check_duplicate_target(actor, topic, duplicate_of_id)
    if idea_status is not None:
        check_idea_status(topic, idea_status, status_reply)
    # Staff acting on someone else's topic are audited; members using what their level unlocks are not.
    staff_on_others = is_moderator(actor) and actor.id != topic.author_id
    _change_details(actor, topic, title, tags, now, audited=staff_on_others)
    if moving:
        record_activity(Verb.TOPIC_MOVED, actor=actor, obj=topic, occurred_at=now, payload=TopicMoved(
            topic_id=topic.id, from_category_id=topic.category_id, to_category_id=category.id))
        audit(actor, "topic.moved", topic, now=now, before={"category_id": topic.category_id},
              after={"category_id": category.id})
        topic.category_id = category.id
    if duplicate_of_id is not _UNSET and duplicate_of_id != topic.duplicate_of_id:
        if staff_on_others:
            audit(actor, "topic.closed_as_duplicate", topic, now=now, before={"duplicate_of_id": topic.duplicate_of_id},
                  after={"duplicate_of_id": duplicate_of_id})
        topic.duplicate_of_id = duplicate_of_id
        record_activity(Verb.TOPIC_CLOSED_AS_DUPLICATE, actor=actor, obj=topic, occurred_at=now,
                        payload=TopicClosedAsDuplicate(topic_id=topic.id, original_id=duplicate_of_id))
    if idea_status is not None:
        apply_idea_status(actor, topic, idea_status, status_reply, now=now)
    if pinned is not None and pinned != topic.pinned:
        audit(actor, "topic.pinned", topic, now=now, before={"pinned": topic.pinned}, after={"pinned": pinned})
        topic.pinned = pinned
        record_activity(Verb.TOPIC_PINNED, actor=actor, obj=topic, occurred_at=now,
                        payload=TopicPinned(topic_id=topic.id, pinned=pinned))
    if locked is not None and locked != topic.locked:
        audit(actor, "topic.locked", topic, now=now, before={"locked": topic.locked}, after={"locked": locked})
        topic.locked = locked
        record_activity(Verb.TOPIC_LOCKED, actor=actor, obj=topic, occurred_at=now,
                        payload=TopicLocked(topic_id=topic.id, locked=locked))


def _ensure_may_change(actor, topic, *, details, duplicate, staff):
    """Raise Forbidden (naming the level that unlocks it) for a change `actor` may not make."""
    if staff:
        ensure(actor, Permission.MODERATE)
    if details and not may_edit_details(actor, topic):
        ensure(actor, Permission.EDIT_OTHERS_TOPICS)
    if duplicate:
        ensure(actor, Permission.CLOSE_DUPLICATES)


def may_edit_details(user, topic):
    """Whether `user` may change this topic's title and tags: its author, a moderator, or by level."""
    own = can(user, Permission.POST) and user.id == topic.author_id
    return own or can(user, Permission.EDIT_OTHERS_TOPICS)


def may_close_duplicates(user):
    """Whether `user` may close topics as duplicates (and reopen them): a moderator, or by level."""
    return can(user, Permission.CLOSE_DUPLICATES)


def _change_details(actor, topic, title, tags, now, *, audited=False):
    """A new title (kept in the first post's history) and tag set; one TOPIC_EDITED activity if either changed
    (and, `audited`, one audit entry with the old and new values).

    Both are checked before either is written.
    """
    changed, before, after = [], {}, {}
    title = clean_title(title) if title is not None else None
    new_tags = resolve_tags(actor, tags) if tags is not None else None
    if title is not None and title != topic.title:
        first = db.session.scalar(sa.select(Post).where(Post.topic_id == topic.id, Post.number == 1))
        first.revision_count += 1
        db.session.add(PostRevision(post_id=first.id, number=first.revision_count, editor_id=actor.id,
                                    source=first.source, title=topic.title, created_at=now))
        before["title"], after["title"] = topic.title, title
        topic.title = title
        changed.append("title")
    if new_tags is not None and [t.name for t in new_tags] != [t.name for t in topic.tags]:
        before["tags"], after["tags"] = [t.name for t in topic.tags], [t.name for t in new_tags]
        topic.tags = new_tags
        changed.append("tags")
    if changed:
        record_activity(Verb.TOPIC_EDITED, actor=actor, obj=topic, occurred_at=now,
                        payload=TopicEdited(topic_id=topic.id, fields=changed))
        if audited:
            audit(actor, "topic.edited", topic, now=now, before=before, after=after)


def _check_duplicate_target(actor, topic, original_id):
    if original_id is None:
        return
    original = get_topic(actor, original_id)
    if original.id == topic.id or original.duplicate_of_id == topic.id:
        raise Invalid(fields={"duplicate_of_id": _l("Choose another topic: this one can't be the original.")})


def set_pinned(actor, topic_id, pinned, *, now=None):
    return change_topic(actor, topic_id, pinned=pinned, now=now)


def set_locked(actor, topic_id, locked, *, now=None):
    return change_topic(actor, topic_id, locked=locked, now=now)


def move_topic(actor, topic_id, category_id):
    return change_topic(actor, topic_id, category_id=category_id)


def close_as_duplicate(actor, topic_id, original_id):
    """Close a topic as a duplicate of another (None reopens it)."""
    return change_topic(actor, topic_id, duplicate_of_id=original_id)


def edit_title_and_tags(actor, topic_id, *, title=None, tags=None):
    return change_topic(actor, topic_id, title=title, tags=tags)
