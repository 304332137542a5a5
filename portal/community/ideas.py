"""The company's answer to its customers' ideas: a public status with a reply."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..audit import audit
from ..errors import Invalid
from ..events import Verb, record_activity
from ..extensions import db
from ..payloads import IdeaStatusChanged
from ..permissions import Permission, ensure
from ..sqltypes import utcnow
from . import markdown
from .models import IdeaStatus, IdeaStatusChange, TopicKind
from .topics import get_topic

REPLY_MAX = 5000


def set_idea_status(actor, topic_id, status, reply="", *, now=None):
    """Staff set an idea's status with an optional public reply; author and voters hear of it."""
    ensure(actor, Permission.MODERATE)
    change = apply_idea_status(actor, get_topic(actor, topic_id), status, reply, now=now)
    db.session.commit()
    return change


def check_idea_status(topic, status, reply=""):
    """(status, reply) as they will be stored, or Invalid. Writes nothing."""
    if topic.kind != TopicKind.IDEA:
        raise Invalid("not_an_idea", _("Only ideas have a status."),
                      fields={"idea_status": _l("Only ideas have a status.")})
    try:
        status = IdeaStatus(status)
    except ValueError:
        raise Invalid(fields={"status": _l("Choose one of the idea statuses.")}) from None
    reply = (reply or "").strip()
    if len(reply) > REPLY_MAX:
        raise Invalid(fields={"reply": _l("Keep the reply to %(n)d characters.", n=REPLY_MAX)})
    return status, reply


def apply_idea_status(actor, topic, status, reply="", *, now=None):
    """The status change itself, inside the caller's transaction (not committed)."""
    status, reply = check_idea_status(topic, status, reply)
    previous, now = topic.idea_status, now or utcnow()
    change = IdeaStatusChange(topic_id=topic.id, status=status, reply=reply, created_at=now,
                              reply_html=markdown.render(reply).html if reply else "", actor_id=actor.id)
    db.session.add(change)
    topic.idea_status = status
    db.session.flush()
    audit(actor, "topic.idea_status_changed", topic, now=now,
          before={"idea_status": previous.value if previous else None}, after={"idea_status": status.value},
          reply=reply[:500])
    record_activity(Verb.IDEA_STATUS_CHANGED, actor=actor, obj=topic, occurred_at=now,
                    payload=IdeaStatusChanged(topic_id=topic.id, status=status.value,
                                              previous=previous.value if previous else None, change_id=change.id))
    return change
