"""Accepting the answer that solved a question."""
import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..audit import audit
from ..errors import Conflict, Forbidden, Invalid
from ..events import Verb, record_activity
from ..extensions import db
from ..payloads import AnswerAccepted, AnswerUnaccepted
from .access import is_moderator
from .models import Post, Topic, TopicKind
from .posts import get_post
from .topics import get_topic


def _question_for(actor, topic_id):
    topic = get_topic(actor, topic_id)
    if topic.kind != TopicKind.QUESTION:
        raise Invalid("not_a_question", _("Only questions have accepted answers."))
    if topic.author_id != actor.id and not is_moderator(actor):
        raise Forbidden("not_asker", _("Only the person who asked, or a moderator, can accept an answer."))
    return topic


def accept(actor, topic_id, post_id, *, now=None):
    """Mark one reply as the accepted answer, replacing any earlier one; pays once however many clicks.

    The switch is a compare-and-set on the topic (see _switch_answer): of
    parallel accepts only one changes the row and records the activity that
    pays. A loser that wanted the same answer gets the topic as it now is;
    one that wanted another answer gets Conflict (409).
    """
    topic = _question_for(actor, topic_id)
    post = get_post(actor, post_id)
    if post.topic_id != topic.id or post.number == 1:
        raise Invalid(fields={"post_id": _l("Choose a reply in this question.")})
    previous_id = topic.solved_post_id
    if previous_id == post.id:
        return topic
    if not _switch_answer(topic, previous_id, post.id):
        return _after_losing_a_race(actor, topic_id, wanted=post.id)
    if previous_id is not None:
        _record_unaccept(actor, topic, previous_id, now)
    record_activity(Verb.ANSWER_ACCEPTED, actor=actor, obj=post, occurred_at=now,
                    payload=AnswerAccepted(topic_id=topic.id, answerer_id=post.author_id, asker_id=topic.author_id))
    _audit_for_asker(actor, topic, previous_id, post.id, now)
    db.session.commit()
    return topic


def unaccept(actor, topic_id, *, now=None):
    """Take back the accepted answer, if there is one; a parallel change wins with Conflict (409) here."""
    topic = _question_for(actor, topic_id)
    previous_id = topic.solved_post_id
    if previous_id is None:
        return topic
    if not _switch_answer(topic, previous_id, None):
        return _after_losing_a_race(actor, topic_id, wanted=None)
    _record_unaccept(actor, topic, previous_id, now)
    _audit_for_asker(actor, topic, previous_id, None, now)
    db.session.commit()
    return topic


def _audit_for_asker(actor, topic, previous_id, new_id, now):
    """A moderator deciding the answer of someone else's question is a staff action: audited."""
    if actor.id != topic.author_id:
        audit(actor, "topic.answer_changed", topic, now=now, before={"solved_post_id": previous_id},
              after={"solved_post_id": new_id})


def _switch_answer(topic, expected_id, new_id):
    """Set the topic's accepted answer to `new_id` only if it is still `expected_id`; whether it was.

    One conditional UPDATE: on PostgreSQL a parallel transaction waits on the
    row and then finds the condition false, so only one switch ever happens.
    """
    still = Topic.solved_post_id.is_(None) if expected_id is None else Topic.solved_post_id == expected_id
    switched = db.session.execute(sa.update(Topic).where(Topic.id == topic.id, still)
                                  .values(solved_post_id=new_id).returning(Topic.id)).first() is not None
    if switched:
        db.session.expire(topic, ["solved_post_id"])
    return switched


def _after_losing_a_race(actor, topic_id, *, wanted):
    db.session.rollback()
    topic = _question_for(actor, topic_id)
    if topic.solved_post_id != wanted:
        raise Conflict("answer_changed", _("Someone changed the accepted answer just now. Reload to see it."))
    return topic


def _record_unaccept(actor, topic, previous_id, now):
    previous = db.session.get(Post, previous_id)
    record_activity(Verb.ANSWER_UNACCEPTED, actor=actor, obj=previous, occurred_at=now,
                    payload=AnswerUnaccepted(topic_id=topic.id, answerer_id=previous.author_id,
                                             asker_id=topic.author_id))
