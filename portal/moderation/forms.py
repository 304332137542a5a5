from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from .links import REASON_MAX

_required = DataRequired(message=_l("This field is required."))


class LinkAccountsForm(FlaskForm):
    first = StringField(_l("First account"), validators=[_required, Length(max=254)],
                        description=_l("Email or @username"))
    second = StringField(_l("Second account"), validators=[_required, Length(max=254)],
                         description=_l("Email or @username"))
    reason = StringField(_l("Why (staff only)"), validators=[Length(max=REASON_MAX)])


class LinkActionForm(FlaskForm):
    """The CSRF token of a link's buttons."""
