"""Accepting the answer that solved a question."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..errors import Forbidden, Invalid
from ..events import Verb, record_activity
from ..extensions import db
from .access import is_moderator
from .models import TopicKind
from .posts import get_post
from .topics import get_topic


def _question_for(actor, topic_id):
    topic = get_topic(actor, topic_id)
    if topic.kind != TopicKind.QUESTION:
        raise Invalid("not_a_question", _("Only questions have accepted answers."))
    if topic.author_id != actor.id and not is_moderator(actor):
        raise Forbidden("not_asker", _("Only the person who asked, or a moderator, can accept an answer."))
    return topic


def accept(actor, topic_id, post_id):
    """Mark one reply as the accepted answer, replacing any earlier one."""
    topic = _question_for(actor, topic_id)
    post = get_post(actor, post_id)
    if post.topic_id != topic.id or post.number == 1:
        raise Invalid(fields={"post_id": _l("Choose a reply in this question.")})
    if topic.solved_post_id == post.id:
        return topic
    if topic.solved_post_id is not None:
        _record_unaccept(actor, topic)
    topic.solved_post_id = post.id
    record_activity(Verb.ANSWER_ACCEPTED, actor=actor, obj=post,
                    payload={"topic_id": topic.id, "answerer_id": post.author_id, "asker_id": topic.author_id})
    db.session.commit()
    return topic


def unaccept(actor, topic_id):
    """Take back the accepted answer, if there is one."""
    topic = _question_for(actor, topic_id)
    if topic.solved_post_id is not None:
        _record_unaccept(actor, topic)
        topic.solved_post_id = None
        db.session.commit()
    return topic


def _record_unaccept(actor, topic):
    from .models import Post

    previous = db.session.get(Post, topic.solved_post_id)
    record_activity(Verb.ANSWER_UNACCEPTED, actor=actor, obj=previous,
                    payload={"topic_id": topic.id, "answerer_id": previous.author_id, "asker_id": topic.author_id})
