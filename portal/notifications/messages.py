"""Notification texts, rendered when read so each member sees their own language."""
from flask_babel import lazy_gettext as _l

MESSAGES = {
    "reply": _l("%(actor)s replied to “%(title)s”"),
    "mention": _l("%(actor)s mentioned you in “%(title)s”"),
    "quote": _l("%(actor)s quoted you in “%(title)s”"),
    "accepted": _l("%(actor)s accepted your answer to “%(title)s”"),
    "new_topic": _l("%(actor)s started “%(title)s” in %(category)s"),
    "followed_reply": _l("%(actor)s posted in “%(title)s”, which you follow"),
    "idea_status": _l("The idea “%(title)s” is now: %(status)s"),
}


def describe(notification):
    from ..community.models import IdeaStatus

    template = MESSAGES.get(notification.kind)
    if template is None:
        return notification.kind
    values = {"actor": notification.actor.name if notification.actor else "", "title": "", "category": "",
              **notification.data}
    if "status" in notification.data:
        values["status"] = IdeaStatus(notification.data["status"]).label
    return str(template % values)
