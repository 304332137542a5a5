from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms.validators import DataRequired, Length


class InviteForm(FlaskForm):
    email = EmailField(_l("Your friend's email"), validators=[DataRequired(message=_l("This field is required.")),
                                                               Length(max=254)])
