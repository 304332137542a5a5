"""The customer reports, one page each with CSV export."""
from flask import Blueprint, render_template

from ..permissions import Permission, require

bp = Blueprint("reports", __name__)


@bp.get("/")
@require(Permission.MANAGE_SEGMENTS)
def index():
    return render_template("crm/placeholder.html", title="Reports")
