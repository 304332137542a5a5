from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..permissions import require_login
from . import services

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
@require_login
def index():
    unread_only = request.args.get("filter") == "unread"
    page = db.paginate(services.notifications_for(current_user, unread_only=unread_only), per_page=30)
    return render_template("notifications/index.html", page=page, unread_only=unread_only)


@bp.get("/notifications/<int:notification_id>")
@require_login
def open_one(notification_id):
    """Follow a notification: it is read from now on."""
    return redirect(services.open_notification(current_user, notification_id).link)


@bp.post("/notifications/read")
@require_login
def mark_read():
    services.mark_all_read(current_user)
    flash(_("All notifications are marked read."), "success")
    return redirect(url_for("notifications.index"))
