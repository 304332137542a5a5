"""The community's browser forms. The services validate the content; these check its shape."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from .flags import TEXT_MAX as FLAG_TEXT_MAX
from .ideas import REPLY_MAX as IDEA_REPLY_MAX
from .models import FlagReason, FollowTarget, IdeaStatus, TopicKind

_required = DataRequired(message=_l("This field is required."))
MARKDOWN_HINT = _l("Markdown works: **bold**, _italic_, `code`, > quote, - list, [link](https://…).")


class TopicForm(FlaskForm):
    # Not checked against the choices: the service says why a category is refused.
    category_id = SelectField(_l("Category"), coerce=int, validate_choice=False,
                              validators=[InputRequired(_l("Choose a category."))])
    kind = RadioField(_l("What is it?"), choices=[SelectChoice(kind.value, kind.label) for kind in TopicKind],
                      default=TopicKind.DISCUSSION.value)
    title = StringField(_l("Title"), validators=[_required])
    body = TextAreaField(_l("Your post"), validators=[_required], description=MARKDOWN_HINT)
    tags = StringField(_l("Tags (optional)"), description=_l("Up to 5, separated by commas, e.g. export, pdf."))

    def tag_names(self):
        return split_tags(self.tags.data)


def split_tags(text):
    return [name.strip() for name in (text or "").split(",") if name.strip()]


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your reply"), validators=[_required], description=MARKDOWN_HINT)
    reply_to_id = IntegerField(widget=HiddenInput(), validators=[Optional()])


class EditPostForm(FlaskForm):
    title = StringField(_l("Title"), validators=[_required])
    body = TextAreaField(_l("Post"), validators=[_required], description=MARKDOWN_HINT)


class ActionForm(FlaskForm):
    """A button that changes something; `next` is where to go back to."""
    next = HiddenField()


class VoteForm(ActionForm):
    value = IntegerField(validators=[InputRequired(), AnyOf([1, -1])])


class AcceptForm(ActionForm):
    post_id = IntegerField(validators=[InputRequired()])


class IdeaStatusForm(ActionForm):
    status = SelectField(_l("Status"), choices=[SelectChoice(status.value, status.label) for status in IdeaStatus])
    reply = TextAreaField(_l("Public reply (optional)"), validators=[Length(max=IDEA_REPLY_MAX)],
                          description=MARKDOWN_HINT)


class MoveForm(ActionForm):
    category_id = IntegerField(_l("Move to"), validators=[InputRequired(_l("Choose a category."))])


class TopicDetailsForm(ActionForm):
    title = StringField(_l("Title"), validators=[_required])
    tags = StringField(_l("Tags"), description=_l("Up to 5, separated by commas, e.g. export, pdf."))


class DuplicateForm(ActionForm):
    original_id = IntegerField(_l("Duplicate of topic #"),
                               validators=[InputRequired(_l("Enter the number of the original topic."))])


class FlagForm(ActionForm):
    reason = SelectField(_l("Reason"), choices=[SelectChoice(reason.value, reason.label) for reason in FlagReason])
    text = TextAreaField(_l("Anything the moderators should know?"), validators=[Length(max=FLAG_TEXT_MAX)])


class FollowForm(ActionForm):
    target_type = SelectField(choices=[SelectChoice(target.value) for target in FollowTarget])
    target_id = IntegerField(validators=[InputRequired()])
