"""The sales pages' forms. They carry CSRF and the typed text with a first check a person can fix on the spot;
leads.pipeline judges every value again and has the last word."""
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from .flagging import NOTE_MAX as FLAG_NOTE_MAX
from .models import LeadStatus
from .pipeline import LOST_REASON_MAX, NOTE_MAX, VALUE_MAX


class ButtonForm(FlaskForm):
    """A button that changes something: only its CSRF token (claim)."""


def non_negative_amount(form, field):
    """A sum of money of zero or more, as a person types it: 12000, 12,000 or 12000.50."""
    raw = (field.data or "").strip().replace(",", "").replace("，", "")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or amount > VALUE_MAX:
        raise ValidationError(_l("Give the value as a number of zero or more."))


class StageForm(FlaskForm):
    """Move a held lead on to contacted or qualified."""
    status = SelectField(_l("Next stage"), validate_choice=False)
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE_MAX)],
                         description=_l("Optional: what happened. Every rep who works the lead later reads it."))

    def set_choices(self, statuses):
        self.status.choices = [(str(status), str(status.label)) for status in statuses]
        return self


class WonForm(FlaskForm):
    value = StringField(_l("Value of the sale"),
                        validators=[DataRequired(_l("Give the value the sale brought.")), non_negative_amount],
                        description=_l("What the sale brought, e.g. 12000."))
    products = TextAreaField(_l("Products sold"), validators=[Optional()],
                             description=_l("One per line. They are added to the customer's products."))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE_MAX)])


class LostForm(FlaskForm):
    lost_reason = StringField(_l("Why it was lost"),
                              validators=[DataRequired(_l("Say why the lead was lost.")),
                                          Length(max=LOST_REASON_MAX)],
                              description=_l("E.g. no budget this year, chose a competitor."))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE_MAX)])


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Note"), validators=[DataRequired(_l("Write a note.")), Length(max=NOTE_MAX)],
                         description=_l("Kept with the lead when it changes hands or goes back to the pool."))


class HandBackForm(FlaskForm):
    note = TextAreaField(_l("Why you hand it back"), validators=[Optional(), Length(max=NOTE_MAX)],
                         description=_l("Optional: the next rep reads it."))


class AssignForm(FlaskForm):
    owner_id = SelectField(_l("Give the lead to"), coerce=int, validate_choice=False,
                           validators=[DataRequired(_l("Choose a rep of your team."))])

    def set_choices(self, reps):
        self.owner_id.choices = [(0, str(_l("Choose a rep…")))] + [(rep.id, rep.name) for rep in reps]
        return self


class FlagLeadForm(FlaskForm):
    """A staff member's 'this post is a lead', with why."""
    note = TextAreaField(_l("Why is this a lead?"),
                         validators=[DataRequired(_l("Say in up to %(n)d characters why this is a lead.",
                                                     n=FLAG_NOTE_MAX)),
                                     Length(max=FLAG_NOTE_MAX, message=_l(
                                         "Say in up to %(n)d characters why this is a lead.", n=FLAG_NOTE_MAX))])


class LeadSettingsForm(FlaskForm):
    """The lead rules page: only CSRF; leads.rules.check_rules judges the values."""


# The stages a rep moves a lead to with StageForm; won and lost have their own forms.
STEP_STATUSES = (LeadStatus.CONTACTED, LeadStatus.QUALIFIED)
