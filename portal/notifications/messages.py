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
    "level_up": _l("You reached the %(level)s level. New privileges are open to you."),
    "badge": _l("You earned the badge “%(badge)s”"),
    "announcement": _l("Announcement: %(title)s"),
    "review_needed": _l("A post in “%(title)s” waits for review: %(reasons)s"),
    "flag_helped": _l("Thank you: your flag helped. The moderators acted on the post you flagged in “%(title)s”."),
    "flag_helped_unseen": _l("Thank you: your flag helped. The moderators acted on the post you flagged."),
    "warned": _l("You have a warning from the moderators"),
    "silenced": _l("The moderators silenced you until %(until)s: you can read but not write"),
    "suspended": _l("The moderators suspended your account"),
}


def describe(notification):
    from ..community.models import IdeaStatus
    from ..levels import level_named
    from ..rewards.badges import badge_name

    template = MESSAGES.get(notification.kind)
    if template is None:
        return notification.kind
    values = {"actor": notification.actor.name if notification.actor else "", "title": "", "category": "",
              **notification.data}
    if notification.topic is not None:
        values.update(title=notification.topic.title, category=notification.topic.category.name)
    if "status" in notification.data:
        values["status"] = IdeaStatus(notification.data["status"]).label
    if notification.kind == "level_up":
        values["level"] = level_named(notification.data["level"]).label
    if notification.kind == "review_needed":
        from ..moderation.models import ReviewReason

        values["reasons"] = ", ".join(str(ReviewReason(reason).label) for reason in notification.data["reasons"])
    if notification.kind == "silenced":
        from datetime import datetime

        from flask_babel import format_datetime

        values["until"] = format_datetime(datetime.fromisoformat(notification.data["until"]), "medium")
    if notification.kind == "badge":
        values["badge"] = badge_name(notification.data["badge"])
    return str(template % values)
