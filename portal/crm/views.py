"""Staff pages of customer records: the list, the 360, editing, notes and touchpoints, import and export,
linking conflicts and the records that need verifying."""
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user

from ..errors import DomainError, Invalid
from ..forms import attempt, show_errors
from ..inputs import accepts_uploads, page_number
from ..pagination import CountedPage
from ..permissions import Permission, require, require_login
from ..rewards.badges import badge_name
from ..urls import is_local_path
from . import (
    announcements,
    cadence,
    churn,
    csvio,
    dimensions,
    imports,
    lifecycle,
    linking,
    records,
    timeline,
    touchpoints,
)
from . import freshness as member_details
from .fields import COMMUNITY_STAFF_ROLES, LANGUAGES, SALES_ROLES, ContactChannel
from .forms import (
    ButtonForm,
    CompanyDetailsForm,
    CustomerForm,
    ImportForm,
    LinkMemberForm,
    NoteForm,
    TouchpointForm,
    owner_choices,
)
from .models import CompanySize, LifecycleStage, RetentionOutcome, ValueTier
from .overview import customer_overview

bp = Blueprint("crm", __name__)
staff_bp = Blueprint("staff", __name__)
account_bp = Blueprint("company", __name__)
PER_PAGE = 25
PREVIEW_ROWS = 500


@bp.app_template_filter("amount")
def amount(value):
    """A sum of money in the reader's number format, without decimals: 1,280,000."""
    return format_decimal(value or 0, format="#,##0")


@bp.app_template_filter("channel_label")
def channel_label(value):
    try:
        return ContactChannel(value).label
    except ValueError:
        return value


@bp.app_template_filter("announcement_channel_label")
def announcement_channel_label(value):
    return announcements.channel_label(value)


@bp.context_processor
def crm_facts():
    return {"may_edit_customers": records.may_edit(current_user), "badge_name": badge_name,
            "stage_label": lambda value: LifecycleStage(value).label,
            "tier_label": lambda value: ValueTier(value).label, "cause_label": lifecycle.cause_label,
            "retention_outcome_label": lambda value: RetentionOutcome(value).label,
            "future_value_part_text": dimensions.future_value_part_text, "churn_reason_text": churn.reason_text,
            "language_label": lambda code: LANGUAGES.get(code, code) if code else None}


@staff_bp.get("/")
@require(Permission.VIEW_CUSTOMERS)
def home():
    """Where staff start their day: where their customers stand, and whom they should get in touch with."""
    return render_template("crm/staff_home.html", due=cadence.to_contact(current_user),
                           follow_ups=cadence.follow_ups_due(current_user), cadence=cadence.cadence_days(),
                           overview=customer_overview(current_user),
                           may_change_rules=current_user.can(Permission.MANAGE_SETTINGS))


def _filters():
    try:
        return records.CustomerFilters.from_args(request.args), {}
    except Invalid as error:
        return records.CustomerFilters(), error.fields


@bp.get("/")
@require(Permission.VIEW_CUSTOMERS)
def customers():
    filters, filter_errors = _filters()
    page = CountedPage(records.customer_query(current_user, filters), page=page_number(), per_page=PER_PAGE)
    return render_template("crm/customers.html", page=page, filters=filters, filter_errors=filter_errors,
                           args=filters.as_args(), tiers=list(ValueTier), stages=list(LifecycleStage),
                           choices=records.filter_choices(), sales_owners=owner_choices(SALES_ROLES),
                           relationship_owners=owner_choices(COMMUNITY_STAFF_ROLES), sizes=list(CompanySize))


@bp.get("/export.csv")
@require(Permission.VIEW_CUSTOMERS)
def export():
    filters, filter_errors = _filters()
    if filter_errors:
        abort(422)
    rows = csvio.export_rows(records.customer_query(current_user, filters))
    return Response(stream_with_context(rows), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="customers.csv"'})


@bp.route("/new", methods=["GET", "POST"])
@require(Permission.EDIT_CUSTOMERS)
def new():
    form = CustomerForm()
    if form.validate_on_submit():
        try:
            customer = records.create_customer(current_user, form.raw())
        except DomainError as error:
            show_errors(form, error)
        else:
            flash(_("Customer created."), "success")
            return redirect(url_for("crm.customer", customer_id=customer.id))
    elif request.method == "GET":
        form.source.data, form.value_tier.data, form.lifecycle_stage.data = "staff", "standard", "prospect"
    return render_template("crm/edit.html", form=form, customer=None)


@bp.get("/<int:customer_id>")
@require(Permission.VIEW_CUSTOMERS)
def customer(customer_id):
    kinds = [kind for kind in request.args.getlist("kind") if kind]
    member_id = request.args.get("member", type=int)
    record, page = timeline.customer_timeline(current_user, customer_id, kinds=kinds, member_id=member_id,
                                              before=request.args.get("before"))
    return render_template(
        "crm/customer.html", customer=record, timeline=page, kinds=timeline.KINDS, chosen_kinds=kinds,
        member_id=member_id, months=timeline.monthly_activity(record),
        last_touch_days=timeline.last_touch_days(record), note_form=NoteForm(), touchpoint_form=TouchpointForm(),
        link_form=LinkMemberForm(), button=ButtonForm(), channel_labels=touchpoints.CHANNEL_LABELS)


@bp.route("/<int:customer_id>/edit", methods=["GET", "POST"])
@require(Permission.EDIT_CUSTOMERS)
def edit(customer_id):
    record = records.get_customer(current_user, customer_id)
    if request.method == "GET":
        form = CustomerForm.for_record(records.snapshot(record), (str(record.owner_rep_id or ""),
                                                                 str(record.relationship_owner_id or "")))
    else:
        form = CustomerForm()
        if form.validate_on_submit():
            try:
                records.update_customer(current_user, customer_id, form.raw(), cause=form.cause.data or "")
            except DomainError as error:
                show_errors(form, error)
            else:
                flash(_("Customer saved."), "success")
                return redirect(url_for("crm.customer", customer_id=customer_id))
    return render_template("crm/edit.html", form=form, customer=record)


@bp.post("/<int:customer_id>/notes")
@require(Permission.VIEW_CUSTOMERS)
def add_note(customer_id):
    form = NoteForm()
    if form.validate_on_submit():
        attempt(touchpoints.add_note, current_user, customer_id, form.body.data, done=_("Note added."))
    return redirect(url_for("crm.customer", customer_id=customer_id))


@bp.post("/<int:customer_id>/touchpoints")
@require(Permission.VIEW_CUSTOMERS)
def add_touchpoint(customer_id):
    form = TouchpointForm()
    if form.validate_on_submit():
        when = form.occurred_at.data  # typed in the staff member's own time zone
        if when is not None:
            when = when.replace(tzinfo=ZoneInfo(current_user.timezone or "UTC"))
        attempt(touchpoints.record_touchpoint, current_user, customer_id, channel=form.channel.data,
                summary=form.summary.data, occurred_at=when, contact=form.contact.data,
                follow_up_on=form.follow_up_on.data, done=_("Touchpoint recorded."))
    else:
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
    return redirect(url_for("crm.customer", customer_id=customer_id) + "#touchpoint")


@bp.post("/<int:customer_id>/verify")
@require(Permission.EDIT_CUSTOMERS)
def verify(customer_id):
    if ButtonForm().validate_on_submit():
        attempt(records.verify_customer, current_user, customer_id, done=_("Marked as verified today."))
    back = request.form.get("next", "")
    return redirect(back if is_local_path(back) else url_for("crm.customer", customer_id=customer_id))


@bp.post("/<int:customer_id>/members")
@require(Permission.EDIT_CUSTOMERS)
def link(customer_id):
    form = LinkMemberForm()
    if form.validate_on_submit():
        attempt(linking.link_member_by_email, current_user, form.email.data, customer_id,
                done=_("Member linked; their history now shows on this customer."))
    return redirect(url_for("crm.customer", customer_id=customer_id))


@bp.post("/<int:customer_id>/members/<int:user_id>/unlink")
@require(Permission.EDIT_CUSTOMERS)
def unlink(customer_id, user_id):
    if ButtonForm().validate_on_submit():
        attempt(linking.unlink_member, current_user, user_id, customer_id, done=_("Member unlinked."))
    return redirect(url_for("crm.customer", customer_id=customer_id))


# -- conflicts and freshness ----------------------------------------------------------------------------

@bp.get("/conflicts")
@require(Permission.EDIT_CUSTOMERS)
def conflicts():
    return render_template("crm/conflicts.html", conflicts=linking.conflicts(), button=ButtonForm())


@bp.post("/conflicts/link")
@require(Permission.EDIT_CUSTOMERS)
def resolve_by_linking():
    if ButtonForm().validate_on_submit():
        attempt(linking.link_member, current_user, request.form.get("user_id", type=int),
                request.form.get("customer_id", type=int), done=_("Member linked."))
    return redirect(url_for("crm.conflicts"))


@bp.post("/conflicts/release")
@require(Permission.EDIT_CUSTOMERS)
def resolve_by_releasing():
    if ButtonForm().validate_on_submit():
        attempt(linking.release_domain, current_user, request.form.get("customer_id", type=int),
                request.form.get("domain", ""), done=_("Domain removed from that customer."))
    return redirect(url_for("crm.conflicts"))


@bp.get("/freshness")
@require(Permission.EDIT_CUSTOMERS)
def freshness():
    days = request.args.get("days", type=int) or records.STALE_AFTER_DAYS
    stale = records.stale_customers(current_user, days=max(1, min(days, records.DAYS_MAX)))
    return render_template("crm/freshness.html", customers=stale, days=days, button=ButtonForm())


# -- import ---------------------------------------------------------------------------------------------

@bp.route("/import", methods=["GET", "POST"])
@require(Permission.EDIT_CUSTOMERS)
@accepts_uploads(csvio.MAX_BYTES + 64 * 1024)
def import_page():
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read() if upload else b""
        try:
            report = csvio.import_customers(current_user, data, dry_run=True)
        except DomainError as error:
            show_errors(form, error)
        else:
            token = imports.keep_upload(data)
            shown = sorted(report.rows, key=lambda row: row.action != "error")[:PREVIEW_ROWS]
            return render_template("crm/import_preview.html", report=report, token=token, button=ButtonForm(),
                                   filename=getattr(upload, "filename", ""), shown_rows=shown)
    return render_template("crm/import.html", form=form)


@bp.post("/import/<token>")
@require(Permission.EDIT_CUSTOMERS)
def run_import(token):
    if not ButtonForm().validate_on_submit():
        abort(400)
    data = imports.take_upload(token)
    if data is None:
        flash(_("That upload has expired. Upload the file again."), "error")
        return redirect(url_for("crm.import_page"))
    return Response(stream_with_context(imports.import_with_progress(current_user, data)), mimetype="text/html")


# -- a member's own company details ---------------------------------------------------------------------

SNOOZE_KEY = "company_details_snoozed_until"


@account_bp.app_context_processor
def company_details_prompt():
    """On the member's profile page only: their company's details to confirm, if a year has passed."""
    if not has_request_context() or request.endpoint != "auth.profile":  # mail renders outside requests
        return {}
    customer = member_details.details_due(current_user, snoozed_until=session.get(SNOOZE_KEY))
    if customer is None:
        return {}
    form = CompanyDetailsForm(data={"company": customer.company or customer.name, "phone": customer.phone or "",
                                    "region": customer.region or "", "industry": customer.industry or "",
                                    "size": customer.size or ""})
    return {"company_prompt": form}


@account_bp.post("/")
@require_login
def confirm():
    form = CompanyDetailsForm()
    if form.validate_on_submit():
        corrections = form.raw() if request.form.get("correct") else None
        if attempt(member_details.confirm_company_details, current_user, corrections,
                   done=_("Thank you: your company's details are up to date.")):
            session.pop(SNOOZE_KEY, None)
    return redirect(url_for("auth.profile"))


@account_bp.post("/later")
@require_login
def later():
    if ButtonForm().validate_on_submit():
        session[SNOOZE_KEY] = member_details.snooze_until()
    return redirect(url_for("auth.profile"))
