"""Moderators' pages: linked accounts (sockpuppets) and reversing their votes for each other."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..community.votes import reverse_votes_between
from ..errors import DomainError
from ..extensions import db
from ..forms import show_errors
from ..permissions import Permission, require
from . import links
from .forms import LinkAccountsForm, LinkActionForm

bp = Blueprint("moderation", __name__)


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
