"""Topic versions: every action on a topic or its posts makes cached renderings stale.

One subscriber on the activity spine, so no service has to remember to bump it.
"""
import sqlalchemy as sa

from ..events import Verb, activity_recorded
from ..extensions import db
from .models import Topic

TOPIC_VERBS = (
    Verb.TOPIC_CREATED, Verb.TOPIC_EDITED, Verb.TOPIC_MOVED, Verb.TOPIC_PINNED, Verb.TOPIC_LOCKED,
    Verb.TOPIC_CLOSED_AS_DUPLICATE, Verb.POST_CREATED, Verb.POST_EDITED, Verb.POST_DELETED, Verb.POST_HIDDEN,
    Verb.VOTED, Verb.VOTE_RETRACTED, Verb.VOTE_REVERSED,
    Verb.ANSWER_ACCEPTED, Verb.ANSWER_UNACCEPTED, Verb.IDEA_STATUS_CHANGED,
)


def _topic_id(activity):
    if activity.object_type == "topic":
        return activity.object_id
    return activity.payload.get("topic_id")


def bump_topic_version(verb, activity, **extra):
    topic_id = _topic_id(activity)
    if topic_id is not None:
        db.session.execute(sa.update(Topic).where(Topic.id == topic_id).values(version=Topic.version + 1))


for _verb in TOPIC_VERBS:
    activity_recorded.connect(bump_topic_version, sender=_verb)
