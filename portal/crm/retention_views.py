"""The retention queue: key and valued customers at churn risk, and what their owners did."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField

from ..errors import Conflict, DomainError
from ..events import OUTSIDE_CHANNELS
from ..forms import show_errors
from ..inputs import page_number
from ..pagination import CountedPage
from ..permissions import Permission, require
from ..sqltypes import utcnow
from . import retention
from .churn import reason_text
from .fields import COMMUNITY_STAFF_ROLES
from .forms import owner_choices
from .models import RetentionOutcome, RetentionStatus
from .touchpoints import CHANNEL_LABELS

bp = Blueprint("retention", __name__)


class CloseCaseForm(FlaskForm):
    channel = SelectField(_l("How you got in touch"), validate_choice=False)
    summary = TextAreaField(_l("What was done"), description=_l("What you discussed and agreed."))
    follow_up_on = StringField(_l("Follow up on"), render_kw={"type": "date"},
                               description=_l("Optional: the day you promised to get back."))
    outcome = SelectField(_l("Outcome"), validate_choice=False)
    note = TextAreaField(_l("Note on the outcome"), description=_l("Optional: why, or what happens next."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel.choices = [(str(channel), str(CHANNEL_LABELS[channel])) for channel in OUTSIDE_CHANNELS]
        self.outcome.choices = [("", _("Choose…"))] + [(o.value, str(o.label)) for o in RetentionOutcome]


class ReassignForm(FlaskForm):
    owner = SelectField(_l("Give the case to"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner.choices = [("", _("Choose…"))] + owner_choices(COMMUNITY_STAFF_ROLES)


@bp.context_processor
def retention_facts():
    return {"reason_text": reason_text}


@bp.get("/")
@require(Permission.MANAGE_SEGMENTS)
def index():
    now = utcnow()
    filters = retention.QueueFilters.from_args(request.args)
    page = CountedPage(retention.queue_query(current_user, filters), page=page_number(),
                       per_page=retention.PER_PAGE)
    return render_template(
        "crm/retention/index.html", page=page, filters=filters, args=filters.as_args(), today=now.date(),
        counts=retention.queue_counts(current_user, now=now), closed=retention.recently_closed(),
        results=retention.results(now=now), owners=owner_choices(COMMUNITY_STAFF_ROLES),
        days_open=lambda case: retention.days_open(case, now=now))


@bp.route("/<int:case_id>", methods=["GET", "POST"])
@require(Permission.MANAGE_SEGMENTS)
def case(case_id):
    record = retention.get_case(current_user, case_id)
    form = CloseCaseForm()
    if form.validate_on_submit():
        try:
            retention.close_case(current_user, case_id, channel=form.channel.data, summary=form.summary.data,
                                 outcome=form.outcome.data, note=form.note.data,
                                 follow_up_on=form.follow_up_on.data)
        except Conflict as error:
            flash(str(error.message), "error")
            return redirect(url_for("retention.case", case_id=case_id))
        except DomainError as error:
            show_errors(form, error)
            record = retention.get_case(current_user, case_id)
        else:
            flash(_("Case closed: the touchpoint is on the customer's timeline."), "success")
            return redirect(url_for("retention.index"))
    return _case_page(record, form, ReassignForm(data={"owner": str(record.owner_id or "")}))


@bp.post("/<int:case_id>/owner")
@require(Permission.MANAGE_SEGMENTS)
def reassign(case_id):
    record = retention.get_case(current_user, case_id)
    form = ReassignForm()
    if form.validate_on_submit():
        owner_id = int(form.owner.data) if (form.owner.data or "").isdigit() else None
        try:
            retention.reassign_case(current_user, case_id, owner_id)
        except Conflict as error:
            flash(str(error.message), "error")
        except DomainError as error:
            show_errors(form, error)
            return _case_page(retention.get_case(current_user, case_id), CloseCaseForm(formdata=None), form)
        else:
            flash(_("Case reassigned."), "success")
    return redirect(url_for("retention.case", case_id=record.id))


def _case_page(record, close_form, reassign_form):
    status = 422 if close_form.errors or reassign_form.errors else 200
    return render_template("crm/retention/case.html", case=record, form=close_form, reassign_form=reassign_form,
                           is_open=record.status == RetentionStatus.OPEN, today=utcnow().date(),
                           days_open=retention.days_open(record), action=retention.case_action(record),
                           channel_labels=CHANNEL_LABELS), status
