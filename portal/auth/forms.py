import zoneinfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .services import BIO_MAX, NAME_MAX, PASSWORD_MAX

_required = DataRequired(message=_l("This field is required."))


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[_required, Length(max=254)])
    password = PasswordField(_l("Password"), validators=[_required, Length(max=PASSWORD_MAX)])
    remember = BooleanField(_l("Keep me signed in"))


class RegisterForm(FlaskForm):
    name = StringField(_l("Display name"), validators=[_required, Length(max=NAME_MAX)])
    email = EmailField(_l("Email"), validators=[_required, Length(max=254)])
    password = PasswordField(_l("Password"), validators=[_required, Length(max=PASSWORD_MAX)],
                             description=_l("At least 10 characters. A few unrelated words work well."))
    referral_code = StringField(_l("Referral code (optional)"), validators=[Optional(), Length(max=16)])


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[_required, Length(max=254)])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[_required, Length(max=PASSWORD_MAX)])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[_required])
    new_password = PasswordField(_l("New password"), validators=[_required, Length(max=PASSWORD_MAX)])


def timezone_choices():
    return [(tz, tz.replace("_", " ")) for tz in sorted(zoneinfo.available_timezones()) if "/" in tz or tz == "UTC"]


class ProfileForm(FlaskForm):
    name = StringField(_l("Display name"), validators=[_required, Length(max=NAME_MAX)])
    bio = TextAreaField(_l("About you"), validators=[Length(max=BIO_MAX)],
                        description=_l("A sentence or two other members will see on your page."))
    locale = SelectField(_l("Language"))
    timezone = SelectField(_l("Time zone"))


class DeleteAccountForm(FlaskForm):
    password = PasswordField(_l("Your password"), validators=[_required])
    confirm = BooleanField(_l("I understand that this can't be undone."), validators=[_required])


class LocaleForm(FlaskForm):
    locale = SelectField(_l("Language"))
