"""The retention queue: key and valued customers at churn risk, and what their owners did."""
from flask import Blueprint, render_template

from ..permissions import Permission, require

bp = Blueprint("retention", __name__)


@bp.get("/")
@require(Permission.MANAGE_SEGMENTS)
def index():
    return render_template("crm/placeholder.html", title="Retention")
