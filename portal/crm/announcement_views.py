"""Announcements to segments: writing, previewing who gets them, sending, and the log (staff);
an announcement a member received (member_bp)."""
from flask import Blueprint, Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from ..errors import DomainError
from ..forms import attempt, show_errors
from ..inputs import page_number
from ..pagination import CountedPage
from ..permissions import Permission, require, require_login
from . import announcements
from .announcement_forms import AnnouncementForm
from .forms import ButtonForm

bp = Blueprint("announcements", __name__)
member_bp = Blueprint("member_announcements", __name__)
PER_PAGE = 25
LOG_PER_PAGE = 50


@bp.app_template_filter("exclusion_label")
def exclusion_label(reason):
    return announcements.exclusion_label(reason)


@bp.get("/")
@require(Permission.MANAGE_SEGMENTS)
def index():
    page = CountedPage(announcements.announcements_query(), page=page_number(), per_page=PER_PAGE)
    return render_template("crm/announcements/index.html", page=page,
                           segment_names=announcements.segment_names(page.items), state_of=announcements.state_of)


@bp.route("/new", methods=["GET", "POST"])
@require(Permission.MANAGE_SEGMENTS)
def new():
    form = AnnouncementForm()
    if form.validate_on_submit():
        try:
            announcement = announcements.create_draft(current_user, **form.values())
        except DomainError as error:
            show_errors(form, error)
        else:
            flash(_("Draft saved. Preview who will receive it, then send it."), "success")
            return redirect(url_for("announcements.show", announcement_id=announcement.id))
    return render_template("crm/announcements/edit.html", form=form, announcement=None), 422 if form.errors else 200


@bp.route("/<int:announcement_id>/edit", methods=["GET", "POST"])
@require(Permission.MANAGE_SEGMENTS)
def edit(announcement_id):
    announcement = announcements.get_announcement(announcement_id)
    if announcements.state_of(announcement) != "draft":
        flash(_("This announcement is already being sent or was sent."), "error")
        return redirect(url_for("announcements.show", announcement_id=announcement_id))
    form = AnnouncementForm() if request.method == "POST" else AnnouncementForm.for_draft(announcement)
    if form.validate_on_submit():
        try:
            announcements.update_draft(current_user, announcement_id, **form.values())
        except DomainError as error:
            show_errors(form, error)
        else:
            flash(_("Draft saved."), "success")
            return redirect(url_for("announcements.show", announcement_id=announcement_id))
    return (render_template("crm/announcements/edit.html", form=form, announcement=announcement),
            422 if form.errors else 200)


@bp.get("/<int:announcement_id>")
@require(Permission.MANAGE_SEGMENTS)
def show(announcement_id):
    return _announcement_page(announcement_id, preview=False)


@bp.get("/<int:announcement_id>/preview")
@require(Permission.MANAGE_SEGMENTS)
def preview(announcement_id):
    """The draft with who would receive it now: worked out only when asked, as sending will."""
    return _announcement_page(announcement_id, preview=True)


def _announcement_page(announcement_id, *, preview):
    announcement = announcements.get_announcement(announcement_id)
    state = announcements.state_of(announcement)
    # The preview and the summary kept at sending have one shape, so the page shows both alike.
    numbers, log = None, None
    if preview and state == "draft":
        numbers = announcements.recipients(announcement).summary()
    elif state == "sent":
        numbers = announcement.summary
        log = CountedPage(announcements.deliveries_query(announcement), page=page_number(), per_page=LOG_PER_PAGE)
    return render_template("crm/announcements/show.html", announcement=announcement, state=state, numbers=numbers,
                           log=log, body=Markup(announcement.html), button=ButtonForm(),
                           segment_names=announcements.segment_names([announcement]),
                           exclusions=announcements.EXCLUSIONS, cap=announcements.crm_rules())


@bp.post("/<int:announcement_id>/send")
@require(Permission.MANAGE_SEGMENTS)
def send(announcement_id):
    attempt(announcements.send, current_user, announcement_id,
            done=_("The announcement is on its way. This page shows who received it once it is sent."))
    return redirect(url_for("announcements.show", announcement_id=announcement_id))


@bp.get("/<int:announcement_id>/log.csv")
@require(Permission.MANAGE_SEGMENTS)
def log_csv(announcement_id):
    announcement = announcements.get_announcement(announcement_id)
    return Response(stream_with_context(announcements.log_rows(announcement)), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="announcement-{announcement.id}.csv"'})


@member_bp.get("/announcements/<int:announcement_id>")
@require_login
def read(announcement_id):
    """An announcement as its recipients read it; anyone it did not reach finds nothing here."""
    announcement = announcements.announcement_for_member(current_user, announcement_id)
    return render_template("crm/announcements/member.html", announcement=announcement,
                           body=Markup(announcement.html))
