"""The staff forms of customer records. They carry CSRF and the typed text; crm.fields judges the values."""
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateTimeLocalField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..auth.models import User, UserStatus
from ..events import OUTSIDE_CHANNELS
from ..extensions import db
from .fields import COMMUNITY_STAFF_ROLES, LANGUAGES, SALES_ROLES, ContactChannel
from .models import CompanySize, CustomerSource, LifecycleStage, ValueTier
from .touchpoints import CHANNEL_LABELS


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _enum_choices(enum_class, blank=None):
    choices = [(member.value, str(member.label)) for member in enum_class]
    return [("", blank)] + choices if blank is not None else choices


def owner_choices(roles):
    users = db.session.scalars(sa.select(User).where(User.role.in_(roles), User.status == UserStatus.ACTIVE)
                               .order_by(User.name)).all()
    return [(str(user.id), user.name) for user in users]


class CustomerForm(FlaskForm):
    name = StringField(_l("Name"), description=_l("How staff call this customer, e.g. Xingchen Retail."))
    company = StringField(_l("Company"), description=_l("The legal name, e.g. 杭州星辰零售集团有限公司."))
    external_id = StringField(_l("External id"), description=_l("The customer's id in the company's CRM."))
    email = StringField(_l("Email"))
    domains = StringField(_l("Company domains"), description=_l(
        "Separated by commas. Members who sign up at these domains join this customer."))
    phone = StringField(_l("Phone"))
    region = StringField(_l("Region"))
    industry = StringField(_l("Industry"))
    size = SelectField(_l("Company size"), validate_choice=False)
    source = SelectField(_l("Source"), validate_choice=False)
    sales_owner = SelectField(_l("Sales owner"), validate_choice=False)
    relationship_owner = SelectField(_l("Relationship owner"), validate_choice=False, description=_l(
        "The one person on the community staff who answers for this customer."))
    value_tier = SelectField(_l("Value tier"), validate_choice=False)
    lifecycle_stage = SelectField(_l("Lifecycle stage"), validate_choice=False)
    lost_to = StringField(_l("Lost to"), description=_l("The competitor a churned customer left for, if known."))
    revenue = StringField(_l("Revenue"))
    first_purchase_at = StringField(_l("First purchase"), description=_l("YYYY-MM-DD"))
    last_purchase_at = StringField(_l("Last purchase"), description=_l("YYYY-MM-DD"))
    renewal_date = StringField(_l("Renewal date"), description=_l("YYYY-MM-DD"))
    contact_channels = MultiCheckboxField(_l("Preferred channels"), validate_choice=False)
    opt_outs = MultiCheckboxField(_l("Opted out of"), validate_choice=False)
    preferred_language = SelectField(_l("Preferred language"), validate_choice=False)
    tags = StringField(_l("Tags"), description=_l("Separated by commas."))
    products = TextAreaField(_l("Products owned"),
                             description=_l("One per line: name (YYYY-MM-DD), and x2 for two of them."))
    cause = StringField(_l("Why (shown on the timeline when the stage changes)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.size.choices = _enum_choices(CompanySize, _l("Unknown"))
        self.source.choices = _enum_choices(CustomerSource)
        self.value_tier.choices = _enum_choices(ValueTier)
        self.lifecycle_stage.choices = _enum_choices(LifecycleStage)
        self.sales_owner.choices = [("", _l("Nobody yet"))] + owner_choices(SALES_ROLES)
        self.relationship_owner.choices = [("", _l("Nobody yet"))] + owner_choices(COMMUNITY_STAFF_ROLES)
        self.contact_channels.choices = self.opt_outs.choices = _enum_choices(ContactChannel)
        self.preferred_language.choices = [("", _l("No preference"))] + [(k, str(v)) for k, v in LANGUAGES.items()]

    @classmethod
    def for_record(cls, snapshot, owners):
        """The form filled with a record's values (crm.records.snapshot) to edit it."""
        values = dict(snapshot)
        values["domains"] = ", ".join(snapshot["domains"])
        values["tags"] = ", ".join(snapshot["tags"])
        values["products"] = "\n".join(snapshot["products"])
        values["sales_owner"], values["relationship_owner"] = owners
        values = {key: ("" if value is None else value) for key, value in values.items()}
        return cls(data=values)

    def raw(self):
        """The typed values, as crm.fields.clean_fields takes them."""
        raw = {name: getattr(self, name).data for name in (
            "name", "company", "external_id", "email", "domains", "phone", "region", "industry", "size", "source",
            "sales_owner", "relationship_owner", "value_tier", "lifecycle_stage", "lost_to", "revenue",
            "first_purchase_at", "last_purchase_at", "renewal_date", "contact_channels", "opt_outs",
            "preferred_language", "tags")}
        raw["products"] = ";".join(line for line in (self.products.data or "").splitlines() if line.strip())
        return raw


class CompanyDetailsForm(FlaskForm):
    """What a member may confirm or correct about their own company (crm.freshness.MEMBER_EDITABLE)."""
    company = StringField(_l("Company"))
    phone = StringField(_l("Phone"))
    region = StringField(_l("Region"))
    industry = StringField(_l("Industry"))
    size = SelectField(_l("Company size"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.size.choices = _enum_choices(CompanySize, _l("Unknown"))

    def raw(self):
        return {name: getattr(self, name).data or "" for name in ("company", "phone", "region", "industry", "size")}


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Note"), description=_l("Every staff member who sees this customer sees the note."))


class TouchpointForm(FlaskForm):
    channel = SelectField(_l("Channel"), validate_choice=False)
    occurred_at = DateTimeLocalField(_l("When"), format="%Y-%m-%dT%H:%M", validators=[Optional()],
                                     description=_l("Leave empty for now."))
    contact = StringField(_l("With whom"))
    summary = TextAreaField(_l("Summary"))
    follow_up_on = StringField(_l("Follow up on"), description=_l("YYYY-MM-DD, if you promised to get back."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel.choices = [(str(channel), str(CHANNEL_LABELS[channel])) for channel in OUTSIDE_CHANNELS]


class LinkMemberForm(FlaskForm):
    email = StringField(_l("Member's email"))


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"), description=_l("UTF-8 (with or without BOM) or GB18030 from Excel; "
                                                    "comma or semicolon separated; a header row."))


class ButtonForm(FlaskForm):
    """A button that only needs its CSRF token."""
