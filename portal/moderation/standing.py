"""A member's standing: their warnings (to acknowledge), silence or suspension, and history; and the notices
every page shows them while a warning waits or a silence lasts. Never staff notes, never anyone else's."""
from flask import Blueprint, flash, get_template_attribute, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import slots
from ..notices import notices_for
from ..permissions import require_login
from ..sqltypes import utcnow
from . import sanctions
from .forms import AcknowledgeForm

bp = Blueprint("standing", __name__)


@slots.filler("member-alerts")
def standing_notices(arguments):
    """Above a signed-in member's page: the warning they have not acknowledged (cached with the bell's count:
    portal/notices.py) and the silence in force (read from the user row; its reason loaded only while
    silenced)."""
    now, user = utcnow(), current_user._get_current_object()
    warning_id = notices_for(user).unacknowledged_warning_id
    silence = sanctions.current_silence(user, now) if user.silenced_at(now) else None
    alerts = get_template_attribute("_layout.html", "member_alerts")
    return {"": str(alerts(warning_id, silence)) if warning_id or silence else ""}


@bp.get("/account/standing", endpoint="index")
@require_login
def standing():
    now = utcnow()
    history = sanctions.sanctions_of(current_user, current_user.id)
    return render_template("moderation/standing.html", sanctions=history, now=now, acknowledge_form=AcknowledgeForm(),
                           warnings=[s for s in history if s.kind == "warning" and s.in_force(now)],
                           in_force=[s for s in history if s.kind != "warning" and s.in_force(now)])


@bp.post("/account/standing/warnings/<int:warning_id>/acknowledge", endpoint="acknowledge")
@require_login
def acknowledge(warning_id):
    if AcknowledgeForm().validate_on_submit():
        sanctions.acknowledge(current_user, warning_id)
        flash(_("Thank you: the warning is acknowledged."), "success")
    return redirect(url_for("standing.index"))
