"""Saved segments: the rule builder, its live count, the lists and their CSV."""
from flask import Blueprint, render_template

from ..permissions import Permission, require

bp = Blueprint("segments", __name__)


@bp.get("/")
@require(Permission.MANAGE_SEGMENTS)
def index():
    return render_template("crm/placeholder.html", title="Segments")
