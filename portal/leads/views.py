"""The sales pages: the lead pool, a rep's own leads, a manager's team board, one lead and the forms that work
it, the CSV of a list, and staff flagging a post as a lead.

Every rule is in leads.pipeline, leads.listing and leads.flagging; these views parse the form, call one of them
and show the answer: a refused change re-shows the lead page with the form's error and changes nothing.
"""
import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import format_datetime, format_timedelta
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ..crm.models import LifecycleStage, ValueTier
from ..errors import Conflict, DomainError, Forbidden, Invalid
from ..extensions import db
from ..forms import error_text, show_errors
from ..inputs import page_number
from ..pagination import CountedPage
from ..permissions import Permission, can, require
from ..sqltypes import utcnow
from ..urls import is_local_path
from . import detail, flagging, listing, pipeline
from .forms import (
    AssignForm,
    ButtonForm,
    FlagLeadForm,
    HandBackForm,
    LostForm,
    NoteForm,
    StageForm,
    WonForm,
)
from .models import CLOSED_STATUSES, HELD_STATUSES, Lead, LeadKind, LeadStatus, SignalKind

bp = Blueprint("leads", __name__)
PER_PAGE = 25
TEAM_POOL_ROWS = 10
CLOSED_ROWS = 10


# -- what every page and a few other features' pages need --------------------------------------------------

@bp.app_template_filter("lead_status")
def lead_status(value):
    return LeadStatus(value)


@bp.app_template_filter("lead_kind_label")
def lead_kind_label(value):
    return LeadKind(value).label


@bp.app_template_filter("signal_label")
def signal_label(value):
    return SignalKind(value).label


@bp.app_template_filter("lead_age")
def lead_age(moment):
    """How long ago, without "ago": 3 days, 5 hours."""
    return format_timedelta(utcnow() - moment, granularity="minute")


def pool_count():
    """How many leads wait in the pool: one count over the status index, once per request."""
    if "lead_pool_count" not in g:
        g.lead_pool_count = db.session.scalar(
            sa.select(sa.func.count()).select_from(Lead).where(Lead.status == LeadStatus.POOL))
    return g.lead_pool_count


@bp.app_context_processor
def lead_layout():
    """The top bar's link to the pool (for whoever works leads) and whether posts get a 'flag as lead' form."""
    if not has_request_context() or not current_user.is_authenticated:
        return {}
    facts = {"may_flag_leads": can(current_user, Permission.FLAG_LEADS)}
    if can(current_user, Permission.WORK_LEADS):
        facts["lead_pool_count"] = pool_count
    return facts


@bp.app_context_processor
def customer_leads():
    """On the customer 360 only: the customer's leads, for staff who may see leads (members never reach it)."""
    if not has_request_context() or request.endpoint != "crm.customer" or not can(current_user,
                                                                                   Permission.WORK_LEADS):
        return {}
    customer_id = (request.view_args or {}).get("customer_id")
    leads = db.session.scalars(pipeline.visible_leads(current_user).where(Lead.customer_id == customer_id)
                               .options(selectinload(Lead.owner))
                               .order_by(Lead.created_at.desc(), Lead.id.desc())).all()
    return {"customer_leads": leads}


def _filters(**fixed):
    """LeadFilters from the query string (fixed fields win), and the errors of the arguments that made no sense."""
    try:
        filters, errors = listing.LeadFilters.from_args(request.args), {}
    except Invalid as error:
        filters, errors = listing.LeadFilters(), error.fields
    for name, value in fixed.items():
        setattr(filters, name, value)
    return filters, errors


def _list_facts(**facts):
    return {"now": utcnow(), "is_overdue": listing.is_overdue, "top_reasons": listing.top_reasons,
            "kinds": list(LeadKind), "may_assign": can(current_user, Permission.ASSIGN_LEADS), **facts}


# -- the lists ------------------------------------------------------------------------------------------------

@bp.get("/leads")
@require(Permission.WORK_LEADS)
def pool():
    filters, errors = _filters(status=[LeadStatus.POOL], owner="")
    page = CountedPage(listing.lead_query(current_user, filters), page=page_number(), per_page=PER_PAGE)
    return render_template("leads/pool.html", **_list_facts(
        page=page, filters=filters, filter_errors=errors, args=_without(filters.as_args(), "status"),
        tiers=list(ValueTier), stages=list(LifecycleStage), claim_form=ButtonForm()))


def _without(args, *names):
    return {key: value for key, value in args.items() if key not in names}


@bp.get("/leads/mine")
@require(Permission.WORK_LEADS)
def mine():
    filters, errors = _filters(owner="me", sort="due")
    chosen = [s for s in filters.status if s != LeadStatus.POOL]
    filters.status = chosen or list(HELD_STATUSES)
    if set(filters.status) <= set(CLOSED_STATUSES):
        filters.sort = "-updated"
    page = CountedPage(listing.lead_query(current_user, filters), page=page_number(), per_page=PER_PAGE)
    closed = []
    if not chosen:
        closed = db.session.scalars(listing.lead_query(current_user, listing.LeadFilters(
            status=list(CLOSED_STATUSES), owner="me", sort="-updated")).limit(CLOSED_ROWS)).all()
    return render_template("leads/mine.html", **_list_facts(
        page=page, filters=filters, filter_errors=errors, chosen=chosen, closed=closed,
        counts=listing.stage_counts(current_user, owner_id=current_user.id),
        args={"status": chosen} if chosen else {}))


@bp.get("/leads/team")
@require(Permission.ASSIGN_LEADS)
def team():
    board = listing.team_board(current_user)
    held = CountedPage(listing.lead_query(current_user, listing.LeadFilters(status=list(HELD_STATUSES), sort="due")),
                       page=page_number(), per_page=PER_PAGE)
    top = db.session.scalars(listing.lead_query(current_user, listing.LeadFilters(status=[LeadStatus.POOL]))
                             .limit(TEAM_POOL_ROWS)).all()
    reps = [rep for rep, _counts, _late in board]
    return render_template("leads/team.html", **_list_facts(
        board=board, held=held, top=top, reps=reps, statuses=[s for s in LeadStatus if s != LeadStatus.POOL]))


@bp.get("/leads/export.csv")
@require(Permission.WORK_LEADS)
def export():
    filters, errors = _filters()
    if errors:
        abort(422)
    body = listing.export_csv(listing.lead_query(current_user, filters))
    return Response(stream_with_context(body), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="leads.csv"'})


# -- one lead -------------------------------------------------------------------------------------------------

FORMS = {"stage": StageForm, "won": WonForm, "lost": LostForm, "note": NoteForm, "hand_back": HandBackForm,
         "assign": AssignForm}


def _lead_page(lead_id, status=200, **bound):
    """The lead page; `bound` holds the one submitted form (with its errors), the others start empty."""
    view = detail.lead_detail(current_user, lead_id)
    forms = {name: bound.get(name) or form_class(formdata=None) for name, form_class in FORMS.items()}
    forms["stage"].set_choices(view.actions.next_steps)
    forms["assign"].set_choices(view.actions.reps)
    shown = {"stage": bool(view.actions.next_steps), "won": view.actions.close, "lost": view.actions.close,
             "note": view.actions.work, "hand_back": view.actions.work, "assign": view.actions.assign}
    problems = []
    for name, form in bound.items():
        problems += form.form_errors
        if not shown[name]:  # a form the page no longer offers: its field errors go on top too
            problems += [str(e) for field in form for e in (field.errors if isinstance(field.errors, list) else [])]
    return render_template("leads/lead.html", view=view, forms=forms, claim_form=ButtonForm(formdata=None),
                           problems=problems, open_form=next(iter(bound), None),
                           is_overdue=listing.is_overdue), status


@bp.get("/leads/<int:lead_id>")
@require(Permission.WORK_LEADS)
def lead(lead_id):
    return _lead_page(lead_id)


def _act(lead_id, name, form, change, done):
    """Run `change` for a submitted form: back to the lead with `done`, or the page again with the refusal."""
    if not form.validate_on_submit():
        return _lead_page(lead_id, 422, **{name: form})
    try:
        change()
    except (Invalid, Conflict, Forbidden) as error:
        show_errors(form, error)
        return _lead_page(lead_id, error.status, **{name: form})
    flash(done() if callable(done) else done, "success")
    return redirect(url_for("leads.lead", lead_id=lead_id), 303)


@bp.post("/leads/<int:lead_id>/claim")
@require(Permission.WORK_LEADS)
def claim(lead_id):
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        claimed = pipeline.claim(current_user, lead_id)
    except Conflict as error:
        db.session.rollback()
        flash(error_text(error), "error")
        # The rep who came second goes back to the pool (the lead is no longer theirs to open).
        if error.code == "lead_already_yours":
            return redirect(url_for("leads.lead", lead_id=lead_id), 303)
        return redirect(url_for("leads.pool"), 303)
    flash(_("The lead is yours. Get in touch by %(due)s.", due=format_datetime(claimed.due_at, "medium")),
          "success")
    return redirect(url_for("leads.lead", lead_id=lead_id), 303)


@bp.post("/leads/<int:lead_id>/stage")
@require(Permission.WORK_LEADS)
def move(lead_id):
    form = StageForm()
    return _act(lead_id, "stage", form,
                lambda: pipeline.change_status(current_user, lead_id, form.status.data, note=form.note.data or ""),
                lambda: _("The lead is now %(status)s.", status=LeadStatus(form.status.data).label))


@bp.post("/leads/<int:lead_id>/won")
@require(Permission.WORK_LEADS)
def won(lead_id):
    form = WonForm()
    return _act(lead_id, "won", form,
                lambda: pipeline.change_status(current_user, lead_id, LeadStatus.WON, value=form.value.data,
                                               products=form.products.data or "", note=form.note.data or ""),
                lambda: _("The lead is now %(status)s.", status=LeadStatus.WON.label))


@bp.post("/leads/<int:lead_id>/lost")
@require(Permission.WORK_LEADS)
def lost(lead_id):
    form = LostForm()
    return _act(lead_id, "lost", form,
                lambda: pipeline.change_status(current_user, lead_id, LeadStatus.LOST,
                                               lost_reason=form.lost_reason.data, note=form.note.data or ""),
                lambda: _("The lead is now %(status)s.", status=LeadStatus.LOST.label))


@bp.post("/leads/<int:lead_id>/notes")
@require(Permission.WORK_LEADS)
def add_note(lead_id):
    form = NoteForm()
    return _act(lead_id, "note", form, lambda: pipeline.add_note(current_user, lead_id, form.body.data),
                _("Note added."))


@bp.post("/leads/<int:lead_id>/hand-back")
@require(Permission.WORK_LEADS)
def hand_back(lead_id):
    form = HandBackForm()
    if not form.validate_on_submit():
        return _lead_page(lead_id, 422, hand_back=form)
    try:
        pipeline.hand_back(current_user, lead_id, note=form.note.data or "")
    except (Invalid, Conflict, Forbidden) as error:
        show_errors(form, error)
        return _lead_page(lead_id, error.status, hand_back=form)
    flash(_("The lead is back in the pool; your notes stay with it."), "success")
    # A rep no longer sees a lead they handed back unless it is in the pool, where it now is.
    return redirect(url_for("leads.lead", lead_id=lead_id), 303)


@bp.post("/leads/<int:lead_id>/assign")
@require(Permission.ASSIGN_LEADS)
def assign(lead_id):
    form = AssignForm()
    back = request.form.get("next", "")
    form.owner_id.choices = None  # validate_choice is off; the pipeline checks the rep is in the team
    if not form.validate_on_submit():
        if is_local_path(back):
            flash(_("Choose a rep of your team."), "error")
            return redirect(back, 303)
        return _lead_page(lead_id, 422, assign=form)
    try:
        lead = pipeline.assign(current_user, lead_id, form.owner_id.data)
    except (Invalid, Conflict) as error:
        if is_local_path(back):
            db.session.rollback()
            flash(error_text(error), "error")
            return redirect(back, 303)
        show_errors(form, error)
        return _lead_page(lead_id, error.status, assign=form)
    flash(_("%(name)s now holds the lead.", name=lead.owner.name), "success")
    return redirect(back if is_local_path(back) else url_for("leads.lead", lead_id=lead_id), 303)


# -- flagging a post --------------------------------------------------------------------------------------------

@bp.post("/posts/<int:post_id>/flag-lead")
@require(Permission.FLAG_LEADS)
def flag_lead(post_id):
    form = FlagLeadForm()
    back = request.form.get("next", "")
    back = back if is_local_path(back) else url_for("community.home")
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
        return redirect(back, 303)
    try:
        lead = flagging.flag_post_as_lead(current_user, post_id, form.note.data)
    except DomainError as error:
        if error.status in (401, 403, 404):
            raise
        db.session.rollback()
        flash(error_text(error), "error")
        return redirect(back, 303)
    if lead is None:
        flash(_("Signal recorded. With the member's other signals it is still under the threshold for a lead."),
              "success")
    elif lead.owner is not None:
        flash(_("Flagged: it adds to the lead %(name)s is working (score %(score)d).", name=lead.owner.name,
                score=lead.score), "success")
    else:
        flash(_("Flagged as a lead: sales see it in the lead pool (score %(score)d).", score=lead.score), "success")
    return redirect(back, 303)
