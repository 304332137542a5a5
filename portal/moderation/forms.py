from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from .links import REASON_MAX
from .notes import NOTE_MAX

_required = DataRequired(message=_l("This field is required."))


class LinkAccountsForm(FlaskForm):
    first = StringField(_l("First account"), validators=[_required, Length(max=254)],
                        description=_l("Email or @username"))
    second = StringField(_l("Second account"), validators=[_required, Length(max=254)],
                         description=_l("Email or @username"))
    reason = StringField(_l("Why (staff only)"), validators=[Length(max=REASON_MAX)])


class LinkActionForm(FlaskForm):
    """The CSRF token of a link's buttons."""


class MemberNoteForm(FlaskForm):
    """A staff note on a member; the service checks the body (required, NOTE_MAX characters)."""
    body = TextAreaField(_l("New note"), description=_l("Only moderators and admins see notes, never the member."),
                         render_kw={"maxlength": NOTE_MAX, "rows": 3})


class DecisionForm(FlaskForm):
    """One click on a queue item: the decision is the button pressed; the note is optional."""
    note = StringField(_l("Note (optional, staff only)"), validators=[Length(max=500)])


class AcknowledgeForm(FlaskForm):
    """The CSRF token of a warning's "I understand" button."""


class SanctionForm(FlaskForm):
    """Warn, silence or suspend a member (the button pressed says which); the service checks every field."""
    reason = TextAreaField(_l("Reason (the member sees it)"), render_kw={"maxlength": 1000, "rows": 2})
    until = StringField(_l("Until (for a silence; a suspension without it is for good)"),
                        render_kw={"type": "datetime-local"})
