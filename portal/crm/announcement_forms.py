"""Forms of announcements: the staff's draft and the member's choice of channels. crm.announcements judges them."""
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField

from ..extensions import db
from .announcements import BODY_MAX, CHANNELS, TITLE_MAX
from .forms import MultiCheckboxField
from .models import Segment


class AnnouncementForm(FlaskForm):
    title = StringField(_l("Title"), render_kw={"maxlength": TITLE_MAX})
    body = TextAreaField(_l("Message"), render_kw={"maxlength": BODY_MAX, "rows": 10},
                         description=_l("Markdown, as in posts: **bold**, lists, links."))
    segments = MultiCheckboxField(_l("Send to the members of"), validate_choice=False,
                                  description=_l("A member in two of them gets it once."))
    channels = MultiCheckboxField(_l("Channels"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.segments.choices = [(str(segment_id), name) for segment_id, name in db.session.execute(
            sa.select(Segment.id, Segment.name).order_by(Segment.name))]
        self.channels.choices = [(key, str(label)) for key, label in CHANNELS.items()]

    @classmethod
    def for_draft(cls, announcement):
        form = cls(data={"title": announcement.title, "body": announcement.body,
                         "segments": [str(i) for i in announcement.segment_ids], "channels": announcement.channels})
        return form

    def values(self):
        return {"title": self.title.data, "body": self.body.data, "segment_ids": self.segments.data,
                "channels": self.channels.data}


class AnnouncementChoicesForm(FlaskForm):
    """A member's announcement channels, ticked for yes; stored as the channels left unticked."""
    notification = BooleanField(CHANNELS["notification"])
    email = BooleanField(CHANNELS["email"])

    @classmethod
    def for_user(cls, user):
        opted_out = set(user.announcement_opt_outs or ())
        return cls(formdata=None, data={channel: channel not in opted_out for channel in CHANNELS})

    def opt_outs(self):
        return [channel for channel in CHANNELS if not getattr(self, channel).data]
