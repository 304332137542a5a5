from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.validators import Length

from .catalog import EVENTS, SUBSCRIBABLE
from .models import DESCRIPTION_MAX, URL_MAX


class EventChecks(SelectMultipleField):
    """The event checkboxes (the template draws them from WebhookForm.event_choices()); which names are
    known is the service's to say, in the page's language."""

    def pre_validate(self, form):
        pass


class WebhookForm(FlaskForm):
    """The new and edit forms; services.create_webhook / update_webhook check every value."""
    url = StringField(_l("Payload URL"), validators=[Length(max=URL_MAX)],
                      description=_l("Where Teahouse sends each event as a signed POST, e.g. "
                                     "https://crm.example.com/hooks/teahouse."))
    description = StringField(_l("Description"), validators=[Length(max=DESCRIPTION_MAX)],
                              description=_l("Optional: what receives these events."))
    events = EventChecks(_l("Events"))
    active = BooleanField(_l("Active: send events to this address"), default=True)

    def event_choices(self):
        """(name, description, checked) for each event's checkbox."""
        chosen = set(self.events.data or [])
        return [(name, EVENTS[name], name in chosen) for name in SUBSCRIBABLE]


class NewWebhookForm(WebhookForm):
    secret = StringField(_l("Secret"), validators=[Length(max=100)],
                         description=_l("Leave empty and Teahouse generates one (recommended). Your own must look "
                                        "like whsec_ followed by base64."))


class ActionForm(FlaskForm):
    """The CSRF token of a button (ping, redeliver, rotate, delete)."""
