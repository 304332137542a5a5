"""Topic versions: every action on a topic or its posts makes cached renderings stale.

One subscriber on the activity spine, so no service has to remember to bump it.
"""
import sqlalchemy as sa

from ..events import Verb, listens_to
from ..extensions import db
from .models import Topic

TOPIC_VERBS = (
    Verb.TOPIC_CREATED, Verb.TOPIC_EDITED, Verb.TOPIC_MOVED, Verb.TOPIC_PINNED, Verb.TOPIC_LOCKED,
    Verb.TOPIC_CLOSED_AS_DUPLICATE, Verb.POST_CREATED, Verb.POST_EDITED, Verb.POST_DELETED, Verb.POST_HIDDEN,
    Verb.POST_HELD, Verb.REVIEW_DECIDED,
    Verb.VOTED, Verb.VOTE_RETRACTED, Verb.VOTE_REVERSED,
    Verb.ANSWER_ACCEPTED, Verb.ANSWER_UNACCEPTED, Verb.POST_MARKED_OFFICIAL, Verb.IDEA_STATUS_CHANGED,
)


@listens_to(*TOPIC_VERBS)
def bump_topic_version(verb, activity, payload, **extra):
    db.session.execute(sa.update(Topic).where(Topic.id == payload.topic_id).values(version=Topic.version + 1))
