"""Moderators' pages: the review queue, linked accounts (sockpuppets) and reversing their votes for each other."""
import re

from flask import Blueprint, abort, flash, has_request_context, redirect, render_template, request, url_for
from flask_babel import format_timedelta, get_timezone, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..auth.models import User, UserStatus
from ..community.access import readable_categories
from ..community.votes import reverse_votes_between
from ..errors import DomainError, Invalid
from ..extensions import db
from ..forms import show_errors
from ..permissions import Permission, can, require
from ..sqltypes import utcnow
from . import decisions, links, notes, queue, sanctions
from .forms import AcknowledgeForm, DecisionForm, LinkAccountsForm, LinkActionForm, MemberNoteForm, SanctionForm

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
    categories = db.session.scalars(readable_categories(current_user)).all()
    return render_template("moderation/queue.html", page=pagination, entries=entries, form=DecisionForm(),
                           categories=categories,
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
        decisions.decide(current_user, item_id, decision, form.note.data or "", **_details_from_form(decision))
    except DomainError as error:
        _flash_error(error)
    else:
        flash(DECIDED.get(decision, DECIDED["hide"]), "success")
    return redirect(url_for("moderation.queue", page=request.args.get("page", type=int)))


def _details_from_form(decision):
    """What the decision pressed reads from the queue item's form (decisions.takes)."""
    read = {
        "reason": lambda: request.form.get("reason"),
        "until": _until_from_form,
        "body": lambda: request.form.get("body"),
        "title": lambda: request.form.get("split_title" if decision == "split" else "title") or None,
        "category_id": lambda: request.form.get("split_category_id" if decision == "split" else "category_id",
                                                type=int),
        "into_topic_id": lambda: _topic_id_in(request.form.get("into_topic", "")),
        "post_numbers": lambda: decisions.parse_numbers(request.form.get("post_numbers")),
    }
    return {name: read[name]() for name in decisions.takes(decision)}


def _topic_id_in(text):
    """A topic's id from its number or its address as a moderator pastes it (…/t/123/some-title)."""
    match = re.search(r"/t/(\d+)", text) or re.fullmatch(r"\s*#?(\d+)\s*", text)
    if match is None:
        raise Invalid("invalid_topic", fields={"into_topic_id": _l(
            "Give the topic to merge into by its address or number.")})
    return int(match[1])


DECIDED = {
    "approve": _l("Approved: the post is visible to everyone."),
    "hide": _l("Hidden: only moderators see the post now."),
    "delete": _l("Deleted: the post's points are taken back."),
    "edit": _l("Edited and kept."),
    "lock": _l("The topic is locked and the post kept."),
    "move": _l("The topic is moved and the post kept."),
    "merge": _l("The topics are merged and the post kept."),
    "split": _l("The replies are split into a new topic."),
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
    return redirect(url_for("moderation.member", member_id=member_id))


@bp.get("/members/<int:member_id>", endpoint="member")
@require(Permission.MODERATE)
def member_page(member_id, note_form=None, status=200):
    """A member as moderators see them: their record here, warnings and suspensions, staff notes."""
    member = db.session.get(User, member_id)
    if member is None or member.status == UserStatus.DELETED:
        abort(404)
    history = queue.author_histories(current_user, [member])[member.id]
    return render_template("moderation/member.html", member=member, history=history,
                           items=queue.items_of_member(current_user, member.id),
                           sanction_form=SanctionForm(formdata=None), lift_form=AcknowledgeForm(),
                           note_form=note_form or MemberNoteForm(formdata=None), now=utcnow(),
                           show_customers=can(current_user, Permission.VIEW_CUSTOMERS)), status


@bp.post("/members/<int:member_id>/notes")
@require(Permission.MODERATE)
def add_note(member_id):
    form = MemberNoteForm()
    if form.validate_on_submit():
        try:
            notes.add_member_note(current_user, member_id, form.body.data)
        except DomainError as error:
            show_errors(form, error)
            return member_page(member_id, form, error.status)
        flash(_("Note added."), "success")
        return redirect(url_for("moderation.member", member_id=member_id))
    return member_page(member_id, form, 422)


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
