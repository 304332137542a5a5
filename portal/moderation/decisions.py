"""A moderator's decisions on the review queue: approve or hide, each one click, each one transaction.

Of two moderators deciding the same item at once exactly one wins: the
decision is a single conditional UPDATE (status 'open' → decided), and the
other hears who handled it. The decision's effects (flags resolved, the post
shown, hidden or published), its activity and its audit entry commit with it.
"""
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..audit import audit
from ..community.content import Body
from ..community.models import Flag
from ..community.posts import count_reply
from ..errors import Conflict, Invalid
from ..events import Activity, Verb, record_activity
from ..extensions import db
from ..payloads import PostCreated, PostHidden, ReviewDecided, TopicCreated
from ..permissions import Permission, ensure
from ..sqltypes import utcnow
from .models import ReviewItem, ReviewReason, ReviewStatus
from .queue import get_item

NOTE_MAX = 500
DECISIONS = {"approve": ReviewStatus.APPROVED, "hide": ReviewStatus.HIDDEN}
# Decisions on the post's author (portal/moderation/sanctions.py): the post is hidden as well.
ON_AUTHOR = ("warn", "silence", "suspend")


def decide(moderator, item_id, decision, note="", *, reason=None, until=None, now=None):
    """approve() or hide() by name, or warn/silence/suspend the post's author (with `reason`, and `until`
    for a silence or a timed suspension) and hide the post; Invalid for any other decision."""
    if decision in ON_AUTHOR:
        from . import sanctions

        author_id = get_item(moderator, item_id).post.author_id
        if decision == "warn":
            sanctions.warn(moderator, author_id, reason, item_id=item_id, now=now)
        elif decision == "silence":
            sanctions.silence(moderator, author_id, reason, until, item_id=item_id, now=now)
        else:
            sanctions.suspend(moderator, author_id, reason, until, item_id=item_id, now=now)
        return get_item(moderator, item_id)
    if decision not in DECISIONS:
        raise Invalid("bad_decision", fields={"decision": _l("Choose approve, hide, warn, silence or suspend.")})
    return (approve if decision == "approve" else hide)(moderator, item_id, note, now=now)


def approve(moderator, item_id, note="", *, now=None):
    """Approve a queue item: its post's open flags are resolved, a post hidden by flags is shown again, a held
    post is published (with the activity publishing records, so points, notifications and followers follow).
    Committed; Conflict if someone already decided it or the post is gone."""
    now = now or utcnow()
    item, post = _claim(moderator, item_id, ReviewStatus.APPROVED, "approve", note, now)
    before = _state(post)
    _resolve_flags(post, now)
    post.hidden_at = None
    if post.held_at is not None:
        _publish(post, item, now)
    _record(moderator, item, post, "approve", now)
    audit(moderator, "review.approved", post, now=now, **_audited(item, post, before))
    db.session.commit()
    return item


def hide(moderator, item_id, note="", *, now=None):
    """Hide a queue item's post (the same hiding as members' flags: only moderators see it), resolving its
    flags; a held post stays unpublished. Committed; Conflict if someone already decided it or the post is gone."""
    now = now or utcnow()
    item = _hide(moderator, item_id, note, "hide", now)
    db.session.commit()
    return item


def hide_for_sanction(moderator, item_id, author_id, decision, now):
    """Decide an item by a sanction on its post's author (`decision` warn, silence or suspend): its post is
    hidden as hide() would. Not committed: the sanction commits with it. Conflict as hide()'s."""
    item = get_item(moderator, item_id)
    if item.post.author_id != author_id:
        raise Invalid("not_the_author", fields={"decision": _l("That post is by someone else.")})
    return _hide(moderator, item_id, "", decision, now)


def _hide(moderator, item_id, note, decision, now):
    item, post = _claim(moderator, item_id, ReviewStatus.HIDDEN, decision, note, now)
    before = _state(post)
    _resolve_flags(post, now)
    if post.hidden_at is None:
        post.hidden_at = now
        if post.held_at is None:  # a published post leaving the community: what follows a hide follows
            record_activity(Verb.POST_HIDDEN, actor=moderator, obj=post, occurred_at=now,
                            payload=PostHidden(topic_id=post.topic_id, author_id=post.author_id, by_moderator=True))
    _record(moderator, item, post, decision, now)
    audit(moderator, "review.hidden", post, now=now, **_audited(item, post, before))
    return item


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


def _already_decided(item):
    if item.status == ReviewStatus.POST_DELETED:
        return Conflict("post_deleted", _l("This post was deleted, so there is nothing left to decide."))
    who = item.decided_by.name if item.decided_by else "?"
    if item.status == ReviewStatus.APPROVED:
        return Conflict("already_decided", _l("Already handled: %(name)s approved this post.", name=who))
    return Conflict("already_decided", _l("Already handled: %(name)s hid this post.", name=who))


def _clean_note(note):
    note = " ".join(str(note or "").split())
    if len(note) > NOTE_MAX:
        raise Invalid("invalid_note", fields={"note": _l("Keep the note to %(n)d characters.", n=NOTE_MAX)})
    return note


def _resolve_flags(post, now):
    db.session.execute(sa.update(Flag).where(Flag.post_id == post.id, Flag.resolved_at.is_(None))
                       .values(resolved_at=now).execution_options(synchronize_session=False))


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
    return {"hidden": post.hidden_at is not None, "held": post.held_at is not None}


def _record(moderator, item, post, decision, now):
    record_activity(Verb.REVIEW_DECIDED, actor=moderator, obj=item, occurred_at=now, payload=ReviewDecided(
        topic_id=post.topic_id, author_id=post.author_id, post_id=post.id, item_id=item.id, decision=decision,
        reasons=list(item.reasons)))


def _audited(item, post, before):
    """The audit entry's details: the item, why it was queued, the note, and the post before and after."""
    return {"item_id": item.id, "reasons": list(item.reasons), "note": item.note, "topic_id": post.topic_id,
            "author_id": post.author_id, "before": before, "after": _state(post)}


