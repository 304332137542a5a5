"""Daily visits: a member's first page of each UTC day counts once, and builds a streak."""
from datetime import timedelta

import sqlalchemy as sa
from flask_login import current_user

from ..auth.models import User
from ..events import Verb, record_activity
from ..extensions import db
from ..layout import is_page_request
from ..payloads import Visited
from ..sqltypes import utcnow


def record_daily_visit(user, today=None):
    """Count `user`'s visit for `today` (UTC) once; returns the activity, or None if already counted.

    One conditional UPDATE decides, so two tabs opening at once count one
    visit. The streak grows when yesterday was a visit day and restarts at 1
    otherwise. Committed.
    """
    today = today or utcnow().date()
    counted = db.session.execute(
        sa.update(User)
        .where(User.id == user.id, sa.or_(User.last_visit_on.is_(None), User.last_visit_on < today))
        .values(visit_streak=sa.case((User.last_visit_on == today - timedelta(days=1), User.visit_streak + 1),
                                     else_=1),
                last_visit_on=today)
    )
    if counted.rowcount != 1:
        db.session.rollback()
        return None
    streak = db.session.scalar(sa.select(User.visit_streak).where(User.id == user.id))
    activity = record_activity(Verb.VISITED, actor=user, obj=user,
                               payload=Visited(streak=streak, day=today))
    db.session.commit()
    return activity


def _count_page_visit():
    # Pages only: the API's clients and static files are not visits. The
    # in-memory date spares a query on every request after the first.
    if is_page_request() and current_user.is_authenticated and current_user.last_visit_on != utcnow().date():
        record_daily_visit(current_user)


def init_app(app):
    app.before_request(_count_page_visit)
