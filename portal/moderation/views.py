"""Moderators' pages: the review queue, linked accounts (sockpuppets) and reversing their votes for each other."""
from flask import Blueprint, flash, has_request_context, redirect, render_template, request, url_for
from flask_babel import format_timedelta, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from ..community.votes import reverse_votes_between
from ..errors import DomainError
from ..extensions import db
from ..forms import show_errors
from ..permissions import Permission, can, require
from ..sqltypes import utcnow
from . import decisions, links, queue
from .forms import DecisionForm, LinkAccountsForm, LinkActionForm

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
                           show_customers=can(current_user, Permission.VIEW_CUSTOMERS), now=utcnow())


@bp.post("/queue/<int:item_id>/decision")
@require(Permission.MODERATE)
def decide(item_id):
    form = DecisionForm()
    if not form.validate_on_submit():
        flash(_("Your form expired. Please reload the page and try again."), "error")
        return redirect(url_for("moderation.queue"))
    try:
        decisions.decide(current_user, item_id, request.form.get("decision", ""), form.note.data or "")
    except DomainError as error:
        flash(" ".join(str(message) for message in error.fields.values()) or str(error.message), "error")
    else:
        flash(_("Approved: the post is visible to everyone.") if request.form.get("decision") == "approve"
              else _("Hidden: only moderators see the post now."), "success")
    return redirect(url_for("moderation.queue", page=request.args.get("page", type=int)))


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
