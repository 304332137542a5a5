"""Announcements to segments: writing, previewing who gets them, sending, and the log."""
from flask import Blueprint, render_template

from ..permissions import Permission, require

bp = Blueprint("announcements", __name__)


@bp.get("/")
@require(Permission.MANAGE_SEGMENTS)
def index():
    return render_template("crm/placeholder.html", title="Announcements")
