"""A moderator's decisions on the review queue, each one click, each one transaction.

Of two moderators deciding the same item at once exactly one wins: the
decision is a single conditional UPDATE (status 'open' → decided), and the
other hears who handled it. The decision's effects, its activity and its
audit entry commit with it; a decision refused halfway (a bad category, a
topic that can't be merged) rolls the claim back with it.

Approving disagrees with the post's flags (the flaggers' next flags weigh
less); every other decision agrees with them and tells the flaggers their
flag helped. The decisions that change something and keep the post (edit,
lock, move, merge, split) show a hidden post again and publish a held one,
as approving does.
"""
import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..audit import audit
from ..community import restructure
from ..community.content import Body
from ..community.models import Flag, FlagOutcome, Post
from ..community.posts import apply_delete, apply_edit, count_reply
from ..community.topics import apply_topic_change, get_topic
from ..errors import Conflict, DomainError, Invalid
from ..events import Activity, Verb, record_activity
from ..extensions import db
from ..payloads import PostCreated, PostHidden, PostRestored, ReviewDecided, TopicCreated
from ..permissions import Permission, ensure
from ..sqltypes import utcnow
from .models import ReviewItem, ReviewReason, ReviewStatus
from .queue import get_item

NOTE_MAX = 500
# Decisions on the post's author (portal/moderation/sanctions.py): the post is hidden as well.
ON_AUTHOR = ("warn", "silence", "suspend")
NUMBERS_MAX = 200


def decide(moderator, item_id, decision, note="", *, now=None, **details):
    """Decide a queue item by name (DECISIONS below, with the `details` each takes), or warn, silence or
    suspend the post's author (`reason`, and `until` for a silence or a timed suspension) and hide the post.
    Committed, or nothing is: Invalid for an unknown decision or bad details, Conflict if someone already
    decided it or the post is gone."""
    now = now or utcnow()
    _check_details(decision, details)
    if decision in ON_AUTHOR:
        return _sanction_author(moderator, item_id, decision, now=now, **details)
    rule = DECISIONS[decision]
    item, post = _claim(moderator, item_id, rule.status, decision, note, now)
    try:
        before = _state(post)
        rule.apply(moderator, item, post, now, **details)
        agreed = _decide_flags(post, now, FlagOutcome.DISAGREED if decision == "approve" else FlagOutcome.AGREED)
        if rule.keeps:
            _keep(post, item, now)
        _record(moderator, item, post, decision, now, agreed)
        audit(moderator, rule.audited_as, post, now=now, **_audited(item, post, before))
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    return item


def takes(decision):
    """The details `decision` reads (what a form or the API passes on), () for an unknown one."""
    if decision in ON_AUTHOR:
        return ("reason", "until")
    return DECISIONS[decision].takes if decision in DECISIONS else ()


def _check_details(decision, details):
    if decision not in DECISIONS and decision not in ON_AUTHOR:
        raise Invalid("bad_decision", fields={"decision": _l(
            "Choose approve, hide, delete, edit, lock, move, merge, split, warn, silence or suspend.")})
    unknown = sorted(set(details) - set(takes(decision)))
    if unknown:
        raise Invalid("bad_decision", fields={name: _l("Not used by this decision.") for name in unknown})


def approve(moderator, item_id, note="", *, now=None):
    """Approve a queue item: its post's open flags are rejected, a post hidden by flags is shown again, a held
    post is published (with the activity publishing records, so points, notifications and followers follow).
    Committed; Conflict if someone already decided it or the post is gone."""
    return decide(moderator, item_id, "approve", note, now=now)


def hide(moderator, item_id, note="", *, now=None):
    """Hide a queue item's post (the same hiding as members' flags: only moderators see it), agreeing with its
    flags; a held post stays unpublished. Committed; Conflict if someone already decided it or the post is gone."""
    return decide(moderator, item_id, "hide", note, now=now)


def hide_for_sanction(moderator, item_id, author_id, decision, now):
    """Decide an item by a sanction on its post's author (`decision` warn, silence or suspend): its post is
    hidden as hide() would. In the caller's transaction: the sanction commits with it. Conflict as hide()'s."""
    item = get_item(moderator, item_id)
    if item.post.author_id != author_id:
        raise Invalid("not_the_author", fields={"decision": _l("That post is by someone else.")})
    item, post = _claim(moderator, item_id, ReviewStatus.HIDDEN, decision, "", now)
    before = _state(post)
    _hide_post(moderator, item, post, now)
    _record(moderator, item, post, decision, now, _decide_flags(post, now, FlagOutcome.AGREED))
    audit(moderator, "review.hidden", post, now=now, **_audited(item, post, before))
    return item


def _sanction_author(moderator, item_id, decision, *, reason=None, until=None, now):
    from . import sanctions

    author_id = get_item(moderator, item_id).post.author_id
    if decision == "warn":
        sanctions.warn(moderator, author_id, reason, item_id=item_id, now=now)
    elif decision == "silence":
        sanctions.silence(moderator, author_id, reason, until, item_id=item_id, now=now)
    else:
        sanctions.suspend(moderator, author_id, reason, until, item_id=item_id, now=now)
    return get_item(moderator, item_id)


# -- what each decision does ------------------------------------------------------------------------------

def _approve(moderator, item, post, now):
    pass  # keeping the post is all there is to it


def _hide_post(moderator, item, post, now):
    if post.hidden_at is None:
        post.hidden_at = now
        if post.held_at is None:  # a published post leaving the community: what follows a hide follows
            record_activity(Verb.POST_HIDDEN, actor=moderator, obj=post, occurred_at=now,
                            payload=PostHidden(topic_id=post.topic_id, author_id=post.author_id, by_moderator=True))


def _delete(moderator, item, post, now):
    apply_delete(moderator, post, now=now)


def _edit(moderator, item, post, now, *, body=None, title=None):
    if not (body or "").strip():
        raise Invalid("invalid_body", fields={"body": _l("Write the post's new text.")})
    if not apply_edit(moderator, post, body, title=title, now=now):
        raise Invalid("unchanged", fields={"body": _l("The text is unchanged: approve the post as it is instead.")})


def _lock(moderator, item, post, now):
    if post.topic.locked:
        raise Invalid("already_locked", fields={"decision": _l("The topic is already locked.")})
    apply_topic_change(moderator, post.topic, locked=True, now=now)


def _move(moderator, item, post, now, *, category_id=None):
    if category_id is None:
        raise Invalid("invalid_category", fields={"category_id": _l("Choose the category to move the topic to.")})
    if category_id == post.topic.category_id:
        raise Invalid("invalid_category", fields={"category_id": _l("The topic is already in that category.")})
    apply_topic_change(moderator, post.topic, category_id=category_id, now=now)


def _merge(moderator, item, post, now, *, into_topic_id=None):
    if into_topic_id is None:
        raise Invalid("invalid_topic", fields={"into_topic_id": _l("Give the topic to merge this one into.")})
    restructure.apply_merge(moderator, post.topic, get_topic(moderator, into_topic_id), now)


def _split(moderator, item, post, now, *, title=None, category_id=None, post_numbers=None):
    if post.number == 1:
        raise Invalid("split_opening_post", fields={"post_numbers": _l(
            "An opening post can't be split off: merge or move the topic instead.")})
    numbers = sorted({post.number, *(post_numbers or ())})
    ids = dict(db.session.execute(sa.select(Post.number, Post.id).where(
        Post.topic_id == post.topic_id, Post.number.in_(numbers))).all())
    missing = [number for number in numbers if number not in ids]
    if missing:
        raise Invalid("invalid_posts", fields={"post_numbers": _l(
            "This topic has no post #%(numbers)s.", numbers=", #".join(map(str, missing)))})
    restructure.apply_split(moderator, post.topic, [ids[number] for number in numbers], title=title,
                            category_id=category_id, now=now)


@dataclass(frozen=True)
class Decision:
    apply: object
    status: ReviewStatus
    audited_as: str
    keeps: bool = True  # the post stays: shown again if hidden, published if held
    takes: tuple = ()   # the details it reads


DECISIONS = {
    "approve": Decision(_approve, ReviewStatus.APPROVED, "review.approved"),
    "hide": Decision(_hide_post, ReviewStatus.HIDDEN, "review.hidden", keeps=False),
    "delete": Decision(_delete, ReviewStatus.DELETED, "review.deleted", keeps=False),
    "edit": Decision(_edit, ReviewStatus.CHANGED, "review.edited", takes=("body", "title")),
    "lock": Decision(_lock, ReviewStatus.CHANGED, "review.locked"),
    "move": Decision(_move, ReviewStatus.CHANGED, "review.moved", takes=("category_id",)),
    "merge": Decision(_merge, ReviewStatus.CHANGED, "review.merged", takes=("into_topic_id",)),
    "split": Decision(_split, ReviewStatus.CHANGED, "review.split", takes=("title", "category_id", "post_numbers")),
}


def parse_numbers(text):
    """Post numbers from what a moderator types: "5, 7-9" → [5, 7, 8, 9]; Invalid for anything else."""
    numbers = set()
    for part in filter(None, re.split(r"[\s,，、]+", str(text or ""))):
        match = re.fullmatch(r"#?(\d{1,6})(?:[-–~](\d{1,6}))?", part)
        if match is None:
            raise Invalid("invalid_posts", fields={"post_numbers": _l(
                "Give post numbers like 5, 7-9.")})
        first, last = int(match[1]), int(match[2] or match[1])
        if last < first or len(numbers) + last - first >= NUMBERS_MAX:
            raise Invalid("invalid_posts", fields={"post_numbers": _l(
                "Give post numbers like 5, 7-9 (at most %(n)d posts).", n=NUMBERS_MAX)})
        numbers.update(range(first, last + 1))
    return sorted(numbers)


# -- the decision's bookkeeping ---------------------------------------------------------------------------

def _claim(moderator, item_id, status, decision, note, now):
    """Take the decision on an open item: the one conditional UPDATE that only one moderator can win."""
    ensure(moderator, Permission.MODERATE)
    note = _clean_note(note)
    item = get_item(moderator, item_id)
    post = item.post
    if item.status == ReviewStatus.OPEN and (post.deleted_at is not None or post.topic.deleted_at is not None):
        raise Conflict("post_deleted", _l("This post was deleted, so there is nothing left to decide."))
    won = db.session.execute(
        sa.update(ReviewItem).where(ReviewItem.id == item.id, ReviewItem.status == ReviewStatus.OPEN)
        .values(status=status, decision=decision, decided_by_id=moderator.id, decided_at=now, note=note)
        .execution_options(synchronize_session=False)).rowcount
    if won != 1:
        db.session.rollback()
        raise _already_decided(get_item(moderator, item_id))
    db.session.refresh(item)
    db.session.refresh(post)
    return item, post


ALREADY = {
    ReviewStatus.APPROVED: _l("Already handled: %(name)s approved this post."),
    ReviewStatus.HIDDEN: _l("Already handled: %(name)s hid this post."),
    ReviewStatus.DELETED: _l("Already handled: %(name)s deleted this post."),
    ReviewStatus.CHANGED: _l("Already handled: %(name)s changed this post or its topic."),
}


def _already_decided(item):
    if item.status == ReviewStatus.POST_DELETED:
        return Conflict("post_deleted", _l("This post was deleted, so there is nothing left to decide."))
    who = item.decided_by.name if item.decided_by else "?"
    return Conflict("already_decided", ALREADY[item.status] % {"name": who})


def _clean_note(note):
    note = " ".join(str(note or "").split())
    if len(note) > NOTE_MAX:
        raise Invalid("invalid_note", fields={"note": _l("Keep the note to %(n)d characters.", n=NOTE_MAX)})
    return note


def _decide_flags(post, now, outcome):
    """Resolve the post's open flags with the moderator's `outcome`; the flaggers' ids when agreed with."""
    flagger_ids = db.session.scalars(sa.update(Flag).where(Flag.post_id == post.id, Flag.resolved_at.is_(None))
                                     .values(resolved_at=now, outcome=outcome).returning(Flag.flagger_id)
                                     .execution_options(synchronize_session=False)).all()
    return sorted(flagger_ids) if outcome == FlagOutcome.AGREED else []


def _keep(post, item, now):
    """The post stays in the community: shown again if hidden, published if held."""
    if post.deleted_at is not None:
        return
    if post.hidden_at is not None:
        post.hidden_at = None
        if post.held_at is None:
            record_activity(Verb.POST_RESTORED, actor=None, obj=post, occurred_at=now,
                            payload=PostRestored(topic_id=post.topic_id, author_id=post.author_id))
    if post.held_at is not None:
        _publish(post, item, now)


def _publish(post, item, now):
    """Publish a held post now, recording what reply() or create_topic() would have: TOPIC_CREATED for an
    opening post (the whole topic appears), POST_CREATED for a reply."""
    held = db.session.scalar(sa.select(Activity).where(
        Activity.verb == Verb.POST_HELD, Activity.object_type == "post", Activity.object_id == post.id)
        .order_by(Activity.id.desc()).limit(1))
    details = held.data if held is not None else None
    mentions = list(details.mentions) if details else []
    if ReviewReason.HELD_LINKS in item.reason_kinds:  # a moderator vouched for the links: they work now
        content = Body(post.author, post.source, allow_links=True)
        post.html, post.sanitizer_version = content.html, content.version
    post.held_at = None
    topic = post.topic
    if post.number == 1:
        topic.held_at = None
        topic.last_posted_at = now
        record_activity(Verb.TOPIC_CREATED, actor=post.author, obj=topic, occurred_at=now, payload=TopicCreated(
            topic_id=topic.id, post_id=post.id, category_id=topic.category_id, kind=topic.kind.value,
            mentions=mentions))
    else:
        count_reply(topic, post, now)
        record_activity(Verb.POST_CREATED, actor=post.author, obj=post, occurred_at=now, payload=PostCreated(
            topic_id=topic.id, number=post.number, mentions=mentions,
            reply_to_author_id=details.reply_to_author_id if details else None))


def _state(post):
    return {"hidden": post.hidden_at is not None, "held": post.held_at is not None,
            "deleted": post.deleted_at is not None, "topic_id": post.topic_id, "number": post.number}


def _record(moderator, item, post, decision, now, agreed_flagger_ids):
    record_activity(Verb.REVIEW_DECIDED, actor=moderator, obj=item, occurred_at=now, payload=ReviewDecided(
        topic_id=post.topic_id, author_id=post.author_id, post_id=post.id, item_id=item.id, decision=decision,
        reasons=list(item.reasons), agreed_flagger_ids=agreed_flagger_ids))


def _audited(item, post, before):
    """The audit entry's details: the item, why it was queued, the note, and the post before and after."""
    return {"item_id": item.id, "reasons": list(item.reasons), "note": item.note, "topic_id": post.topic_id,
            "author_id": post.author_id, "before": before, "after": _state(post)}
