"""The points ledger: awarding, reversing and checking, inside the caller's transaction."""
import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..auth.models import User
from ..events import Activity, Verb, record_activity
from ..extensions import db
from ..idempotency import insert_unless_exists
from ..levels import level_for, level_number_for
from ..payloads import LevelReached
from ..sqltypes import start_of_utc_day, utcnow
from .models import PointsEntry
from .rules import VOTE_RULES, daily_vote_cap, points_for


def _credit(user_id, delta):
    """Add `delta` to a member's cached points and level; returns (new balance, highest level announced)."""
    return db.session.execute(
        sa.update(User).where(User.id == user_id)
        .values(points=User.points + delta, level_number=level_number_for(User.points + delta))
        .returning(User.points, User.level_reached)).one()


def award(user_id, rule, activity, *, delta=None):
    """Add `rule`'s points for `activity` to a member, once, in the current transaction; capped for vote rules.

    Returns the delta.
    """
    delta = points_for(rule) if delta is None else delta
    if rule in VOTE_RULES and delta > 0:
        delta = min(delta, max(daily_vote_cap() - _vote_points_on_day_of(user_id, _time_of(activity)), 0))
    if delta == 0:
        return 0
    if insert_unless_exists(PointsEntry, {"user_id": user_id, "delta": delta, "rule": rule,
                                          "activity_id": activity.id if activity else None,
                                          "created_at": _time_of(activity)}, key=("user_id", "rule", "activity_id"),
                            where=PointsEntry.reverses_id.is_(None)):
        points, level_reached = _credit(user_id, delta)
        if delta > 0:
            _announce_level_up(user_id, points, level_reached, activity)
        return delta
    return 0


def _time_of(activity):
    """Ledger rows are dated by their cause, so history made with `now=` (the demo, tests) stays true."""
    return activity.occurred_at if activity is not None else utcnow()


def _announce_level_up(user_id, points, level_reached, cause):
    """Record LEVEL_REACHED the first time a member's points pass a level's threshold.

    Most awards reach no new level and cost no query. `level_reached` only
    rises, by a conditional UPDATE, so a member who drops below a threshold
    and climbs back is not told twice, and two simultaneous awards announce
    the level once.
    """
    level = level_for(points)
    if level.number <= level_reached:
        return
    raised = db.session.execute(sa.update(User).where(User.id == user_id, User.level_reached < level.number)
                                .values(level_reached=level.number))
    if raised.rowcount == 1:
        member = db.session.get(User, user_id)
        record_activity(Verb.LEVEL_REACHED, actor=member, obj=member, occurred_at=_time_of(cause),
                        payload=LevelReached(level=level.number, points=points))


def _vote_points_on_day_of(user_id, moment):
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(PointsEntry.delta), 0))
        .where(PointsEntry.user_id == user_id, PointsEntry.rule.in_(VOTE_RULES), PointsEntry.delta > 0,
               PointsEntry.created_at >= start_of_utc_day(moment)))


def in_force(*, object_type, object_id, verbs=None, actor_id=None):
    """select() of entries caused by activities on an object (an id, or a select() of ids)
    that no later entry has reversed."""
    reversal = aliased(PointsEntry)
    on_object = (Activity.object_id.in_(object_id) if isinstance(object_id, sa.Select)
                 else Activity.object_id == object_id)
    query = (sa.select(PointsEntry).join(Activity, Activity.id == PointsEntry.activity_id)
             .where(Activity.object_type == object_type, on_object,
                    PointsEntry.reverses_id.is_(None),
                    ~sa.exists().where(reversal.reverses_id == PointsEntry.id)))
    if verbs is not None:
        query = query.where(Activity.verb.in_([str(v) for v in verbs]))
    if actor_id is not None:
        query = query.where(Activity.actor_id == actor_id)
    return query


def reverse(entries, cause):
    """Undo each entry with a compensating one caused by `cause`, in the current transaction; each once."""
    for entry in db.session.scalars(entries).all():
        inserted = insert_unless_exists(PointsEntry, {
            "user_id": entry.user_id, "delta": -entry.delta, "rule": entry.rule, "activity_id": cause.id,
            "reverses_id": entry.id, "created_at": _time_of(cause)}, key=("reverses_id",))
        if inserted:
            _credit(entry.user_id, -entry.delta)


def balance_mismatches():
    """[(user id, cached points, ledger sum)] for every member whose balance differs from the ledger."""
    ledger = (sa.select(PointsEntry.user_id, sa.func.sum(PointsEntry.delta).label("total"))
              .group_by(PointsEntry.user_id).subquery())
    total = sa.func.coalesce(ledger.c.total, 0)
    return db.session.execute(
        sa.select(User.id, User.points, total).outerjoin(ledger, ledger.c.user_id == User.id)
        .where(User.points != total).order_by(User.id)
    ).all()
