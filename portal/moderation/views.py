"""Moderators' pages: the review queue, linked accounts (sockpuppets) and reversing their votes for each other."""
from flask import Blueprint, flash, has_request_context, redirect, render_template, request, url_for
from flask_babel import format_timedelta, get_timezone, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..community.votes import reverse_votes_between
from ..errors import DomainError
from ..extensions import db
from ..forms import show_errors
from ..permissions import Permission, can, require
from ..sqltypes import utcnow
from . import decisions, links, queue, sanctions
from .forms import AcknowledgeForm, DecisionForm, LinkAccountsForm, LinkActionForm, SanctionForm

bp = Blueprint("moderation", __name__)


@bp.app_context_processor
def review_layout():
    """The top bar's link to the review queue with its count, for moderators only (one count per request)."""
    if not has_request_context() or not current_user.is_authenticated or not can(current_user, Permission.MODERATE):
        return {}
    return {"review_queue_count": queue.open_count}


@bp.app_template_filter("waited")
def waited(delta):
    """How long something has waited, without "ago": 3 days, 5 hours."""
    return format_timedelta(delta, granularity="minute")


@bp.get("/queue", endpoint="queue")
@require(Permission.MODERATE)
def queue_view():
    page = request.args.get("page", 1, type=int)
    pagination, entries = queue.queue_page(current_user, page=max(page, 1))
    return render_template("moderation/queue.html", page=pagination, entries=entries, form=DecisionForm(),
                           lift_form=AcknowledgeForm(),
                           show_customers=can(current_user, Permission.VIEW_CUSTOMERS), now=utcnow())


@bp.post("/queue/<int:item_id>/decision")
@require(Permission.MODERATE)
def decide(item_id):
    form = DecisionForm()
    if not form.validate_on_submit():
        flash(_("Your form expired. Please reload the page and try again."), "error")
        return redirect(url_for("moderation.queue"))
    decision = request.form.get("decision", "")
    try:
        decisions.decide(current_user, item_id, decision, form.note.data or "", reason=request.form.get("reason"),
                         until=_until_from_form())
    except DomainError as error:
        _flash_error(error)
    else:
        flash(DECIDED.get(decision, DECIDED["hide"]), "success")
    return redirect(url_for("moderation.queue", page=request.args.get("page", type=int)))


DECIDED = {
    "approve": _l("Approved: the post is visible to everyone."),
    "hide": _l("Hidden: only moderators see the post now."),
    "warn": _l("The author is warned and the post hidden."),
    "silence": _l("The author is silenced and the post hidden."),
    "suspend": _l("The author is suspended and the post hidden."),
}
SANCTIONED = {
    "warn": _l("The member is warned: they see the warning until they acknowledge it."),
    "silence": _l("The member is silenced: they can read but not write until the end you set."),
    "suspend": _l("The account is suspended."),
}


def _flash_error(error):
    flash(" ".join(str(message) for message in error.fields.values()) or str(error.message), "error")


def _until_from_form():
    """The form's "until" (a datetime-local input, read in the moderator's time zone)."""
    try:
        return sanctions.parse_until(request.form.get("until") or None, get_timezone())
    except DomainError:
        return request.form.get("until")  # the service answers with the field's message


def _back_to_member(member_id):
    if can(current_user, Permission.MANAGE_USERS):
        return redirect(url_for("admin.user_detail", user_id=member_id))
    return redirect(request.referrer or url_for("moderation.queue"))


@bp.post("/members/<int:member_id>/sanction")
@require(Permission.MODERATE)
def sanction_member(member_id):
    """Warn, silence or suspend a member from their staff page (the button pressed says which)."""
    decision = request.form.get("decision", "")
    if not SanctionForm().validate_on_submit() or decision not in SANCTIONED:
        flash(_("Your form expired. Please reload the page and try again."), "error")
        return _back_to_member(member_id)
    reason, until = request.form.get("reason"), _until_from_form()
    try:
        if decision == "warn":
            sanctions.warn(current_user, member_id, reason)
        elif decision == "silence":
            sanctions.silence(current_user, member_id, reason, until)
        else:
            sanctions.suspend(current_user, member_id, reason, until)
    except DomainError as error:
        _flash_error(error)
    else:
        flash(SANCTIONED[decision], "success")
    return _back_to_member(member_id)


@bp.post("/sanctions/<int:sanction_id>/lift")
@require(Permission.MODERATE)
def lift_sanction(sanction_id):
    member_id = None
    if AcknowledgeForm().validate_on_submit():
        try:
            member_id = sanctions.lift(current_user, sanction_id).member_id
        except DomainError as error:
            _flash_error(error)
        else:
            flash(_("Lifted."), "success")
    return _back_to_member(member_id) if member_id else redirect(request.referrer or url_for("moderation.queue"))


@bp.route("/linked-accounts", methods=["GET", "POST"])
@require(Permission.MODERATE)
def linked_accounts():
    form = LinkAccountsForm()
    if form.validate_on_submit():
        try:
            first, second = links.find_account(form.first.data), links.find_account(form.second.data)
            links.link_accounts(current_user, first.id, second.id, form.reason.data)
        except DomainError as error:
            show_errors(form, error)
        else:
            flash(_("The accounts are linked: their votes for each other earn nothing from now on."), "success")
            return redirect(url_for("moderation.linked_accounts"))
    page = db.paginate(links.linked_accounts(), per_page=30)
    return render_template("moderation/linked_accounts.html", form=form, page=page,
                           votes_between=links.votes_between_pairs(page.items), action_form=LinkActionForm()), \
        422 if form.errors or form.form_errors else 200


@bp.post("/linked-accounts/<int:link_id>/reverse-votes")
@require(Permission.MODERATE)
def reverse_votes(link_id):
    if LinkActionForm().validate_on_submit():
        link = links.get_link(link_id)
        reversed_count = reverse_votes_between(current_user, link.user_a_id, link.user_b_id)
        flash(ngettext("%(num)d vote between them was reversed, with the points it earned.",
                       "%(num)d votes between them were reversed, with the points they earned.", reversed_count),
              "success")
    return redirect(url_for("moderation.linked_accounts"))


@bp.post("/linked-accounts/<int:link_id>/unlink")
@require(Permission.MODERATE)
def unlink(link_id):
    if LinkActionForm().validate_on_submit():
        links.unlink_accounts(current_user, link_id)
        flash(_("The accounts are no longer linked."), "success")
    return redirect(url_for("moderation.linked_accounts"))
