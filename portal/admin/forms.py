from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), validators=[DataRequired()])


class TeamForm(FlaskForm):
    team = SelectField(_l("Sales team"), coerce=int)


class SuspendForm(FlaskForm):
    reason = StringField(_l("Reason for suspension (the member sees it)"), validators=[Length(max=1000)])
    until = StringField(_l("Until (empty: for good)"), render_kw={"type": "datetime-local"})


class NewTeamForm(FlaskForm):
    name = StringField(_l("Team name"), validators=[DataRequired(), Length(max=80)])


class NewTokenForm(FlaskForm):
    user_email = StringField(_l("User's email"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=80)])


class RewardSettingsForm(FlaskForm):
    """The CSRF token of the points and levels page; its many number fields are checked by the service."""
