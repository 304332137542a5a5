"""Announcements to the members of segments, with consent, a frequency cap and no duplicates."""
from flask_babel import lazy_gettext as _l

# The channels an announcement goes out on; a member may opt out of each (User.announcement_opt_outs).
CHANNELS = {"notification": _l("In the community"), "email": _l("By email")}


def channel_label(channel):
    return CHANNELS.get(channel, channel)


def init_app(app):
    """Register the outbox handlers announcements are sent through."""
