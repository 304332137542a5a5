"""Official answers: community staff mark one staff answer to a question as the company's word on it.

The mark lives in one column (`Topic.official_post_id`), so a question has at
most one official answer by construction; marking another moves it. Only
answers written by community staff (moderators, admins) qualify: a sales
rep speaks for sales, not for the community.
"""
import sqlalchemy as sa
from flask_babel import gettext as _

from ..audit import audit
from ..errors import Conflict, Invalid, NotFound
from ..events import Verb, record_activity
from ..extensions import db
from ..payloads import PostMarkedOfficial
from ..permissions import Permission, ensure
from .models import Topic, TopicKind
from .posts import get_post


def may_be_official(post, topic, by_staff=None):
    """Whether `post` can carry the official mark: a visible staff answer in a live question. `by_staff`:
    whether its author is community staff, when the caller knows (else read from the author)."""
    by_staff = post.author.is_community_staff if by_staff is None else by_staff
    return (topic.kind == TopicKind.QUESTION and not topic.deleted_at and post.number != 1
            and post.is_visible and by_staff)


def _staff_answer(actor, post_id):
    post = get_post(actor, post_id)
    topic = post.topic
    if topic.deleted_at:
        raise NotFound("post_not_found", _("That post does not exist."))
    if topic.kind != TopicKind.QUESTION or post.number == 1:
        raise Invalid("not_an_answer", _("Only an answer to a question can be the official answer."))
    if not post.author.is_community_staff:
        raise Invalid("not_a_staff_answer", _("Only an answer written by community staff can be official."))
    if post.hidden_at:
        raise Invalid("post_hidden", _("A hidden answer can't be the official answer."))
    return post, topic


def mark_official(actor, post_id, *, now=None):
    """Make a staff answer its question's official answer, moving the mark from any other. Committed.

    Moderators and admins only (403 for the rest); 404 for a post the actor
    can't see; 422 unless it is a staff answer in a question. Marking the
    official answer again changes nothing. Audited, one activity.
    """
    ensure(actor, Permission.MODERATE)
    post, topic = _staff_answer(actor, post_id)
    previous_id = topic.official_post_id
    if previous_id == post.id:
        return post
    _switch_official(topic, previous_id, post.id)
    audit(actor, "post.marked_official", post, now=now, topic_id=topic.id, previous_post_id=previous_id,
          before={"official": False}, after={"official": True})
    record_activity(Verb.POST_MARKED_OFFICIAL, actor=actor, obj=post, occurred_at=now,
                    payload=PostMarkedOfficial(topic_id=topic.id, author_id=post.author_id, official=True,
                                               previous_post_id=previous_id))
    db.session.commit()
    return post


def unmark_official(actor, post_id, *, now=None):
    """Take the official mark off an answer; nothing happens if it doesn't carry it. Committed.

    Same permissions and errors as mark_official(); audited, one activity.
    """
    ensure(actor, Permission.MODERATE)
    post = get_post(actor, post_id)
    topic = post.topic
    if topic.official_post_id != post.id:
        return post
    _switch_official(topic, post.id, None)
    audit(actor, "post.unmarked_official", post, now=now, topic_id=topic.id,
          before={"official": True}, after={"official": False})
    record_activity(Verb.POST_MARKED_OFFICIAL, actor=actor, obj=post, occurred_at=now,
                    payload=PostMarkedOfficial(topic_id=topic.id, author_id=post.author_id, official=False,
                                               previous_post_id=post.id))
    db.session.commit()
    return post


def _switch_official(topic, expected_id, new_id):
    """Set the official answer to `new_id` only if it is still `expected_id`; Conflict (409) if not.

    One conditional UPDATE, as for accepted answers: of two moderators
    marking at once, one wins and the other is told to reload.
    """
    still = Topic.official_post_id.is_(None) if expected_id is None else Topic.official_post_id == expected_id
    switched = db.session.execute(sa.update(Topic).where(Topic.id == topic.id, still)
                                  .values(official_post_id=new_id).returning(Topic.id)).first() is not None
    if not switched:
        db.session.rollback()
        raise Conflict("official_changed", _("Someone changed the official answer just now. Reload to see it."))
    db.session.expire(topic, ["official_post_id"])
