"""The retention queue: key and valued customers at churn risk, each with an owner who must act by a date.

`open_retention_cases()` puts every such customer in the queue (one open case
per customer, by a partial unique index); the owner, or anyone who manages
segments, closes a case with what was done (a touchpoint on the 360) and the
outcome. "Still at risk" closes the case too: the next opening run opens a
new one if the risk remains. Win-backs are counted from the spine: a
customer whose lifecycle stage moved away from churned customer.
"""
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from ..audit import audit
from ..auth.models import User, UserStatus
from ..errors import Conflict, Invalid, NotFound
from ..events import Activity, Verb, record_activity
from ..extensions import db
from ..idempotency import insert_unless_exists
from ..payloads import RetentionCaseClosed, RetentionCaseOpened
from ..permissions import Permission, ensure
from ..sqltypes import utcnow
from . import touchpoints
from .fields import COMMUNITY_STAFF_ROLES
from .models import ChurnRisk, Customer, LifecycleStage, RetentionCase, RetentionOutcome, RetentionStatus, ValueTier
from .rules import crm_rules

QUEUED_TIERS = (ValueTier.KEY, ValueTier.VALUED)
QUEUED_RISKS = (ChurnRisk.MEDIUM, ChurnRisk.HIGH)
# The predicate of uq_retention_cases_open (crm.models): ON CONFLICT must name it to use that index.
OPEN_CASE = sa.text("status = 'open'")
NOTE_MAX = 2000
RECENTLY_CLOSED = 10
PER_PAGE = 50


# -- opening ----------------------------------------------------------------------------------------------

def open_retention_cases(now=None):
    """Open a case for every key or valued customer at medium or high churn risk who has none open.

    Each case is owned by the customer's relationship owner (None: unassigned),
    due in `retention_due_days`, carries a copy of the customer's churn reasons
    and is announced on the 360 by one RETENTION_CASE_OPENED activity. Open
    cases take up their customer's reasons when these changed (a customer no
    longer at risk keeps the reasons the case was opened for; nothing is
    closed here). Runs inside the caller's transaction; parallel runs open one
    case per customer. Returns how many cases it opened.
    """
    now = now or utcnow()
    _refresh_reasons()
    due_on = now.date() + timedelta(days=crm_rules().retention_due_days)
    has_open_case = sa.exists().where(RetentionCase.customer_id == Customer.id,
                                      RetentionCase.status == RetentionStatus.OPEN)
    at_risk = db.session.execute(
        sa.select(Customer.id, Customer.relationship_owner_id, Customer.churn_reasons)
        .where(Customer.value_tier.in_(QUEUED_TIERS), Customer.churn_risk.in_(QUEUED_RISKS), ~has_open_case)
        .order_by(Customer.id)).all()
    opened = 0
    for customer_id, owner_id, reasons in at_risk:
        reasons = [dict(reason) for reason in reasons or []]
        values = dict(customer_id=customer_id, owner_id=owner_id, status=RetentionStatus.OPEN, reasons=reasons,
                      opened_at=now, due_on=due_on, outcome_note="")
        if not insert_unless_exists(RetentionCase, values, key=["customer_id"], where=OPEN_CASE):
            continue  # a parallel run opened it first
        case = db.session.scalar(sa.select(RetentionCase).where(RetentionCase.customer_id == customer_id,
                                                                RetentionCase.status == RetentionStatus.OPEN))
        record_activity(Verb.RETENTION_CASE_OPENED, obj=case, customer_id=customer_id, occurred_at=now,
                        payload=RetentionCaseOpened(case_id=case.id, staff_id=owner_id,
                                                    reasons=[str(reason.get("code")) for reason in reasons]))
        opened += 1
    return opened


def _refresh_reasons():
    rows = db.session.execute(
        sa.select(RetentionCase, Customer.churn_reasons).join(Customer, Customer.id == RetentionCase.customer_id)
        .where(RetentionCase.status == RetentionStatus.OPEN)).all()
    for case, reasons in rows:
        if reasons and reasons != case.reasons:
            case.reasons = [dict(reason) for reason in reasons]


# -- acting on a case ---------------------------------------------------------------------------------------

def get_case(actor, case_id):
    """A retention case with its customer, owner and closer; NotFound for an unknown id."""
    ensure(actor, Permission.MANAGE_SEGMENTS)
    case = db.session.scalar(
        sa.select(RetentionCase).options(joinedload(RetentionCase.customer), joinedload(RetentionCase.owner),
                                         joinedload(RetentionCase.closed_by))
        .where(RetentionCase.id == case_id)) if isinstance(case_id, int) else None
    if case is None:
        raise NotFound("retention_case_not_found", _l("That retention case does not exist."))
    return case


def case_action(case):
    """The touchpoint that closed the case (an Activity), or None while it is open."""
    return db.session.get(Activity, case.action_activity_id) if case.action_activity_id else None


def close_case(actor, case_id, *, channel, summary, outcome, note="", follow_up_on=None, now=None):
    """Close an open case with what was done and how it ended; one transaction, committed. Returns the case.

    Records the touchpoint (crm.touchpoints, on the customer's 360), marks
    the case done with its outcome, closer and the touchpoint's activity,
    records RETENTION_CASE_CLOSED and audits "retention.closed". Of two staff
    closing one case at once exactly one wins: the other gets Conflict and
    nothing it sent is written. Bad input is Invalid, with nothing written.
    """
    ensure(actor, Permission.MANAGE_SEGMENTS)
    now = now or utcnow()
    case = get_case(actor, case_id)
    outcome, note, follow_up_on = _checked_outcome(outcome, note, follow_up_on, now)
    try:
        _claim(actor, case, outcome, note, now)
        touchpoint, _created = touchpoints.add_touchpoint(actor, case.customer_id, channel=channel, summary=summary,
                                                          follow_up_on=follow_up_on, now=now)
        _record_closing(actor, case, touchpoint, outcome, note, now)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    db.session.refresh(case)
    return case


def _checked_outcome(outcome, note, follow_up_on, now):
    errors = {}
    try:
        outcome = RetentionOutcome(str(outcome or "").strip())
    except ValueError:
        errors["outcome"] = _l("Choose retained, won back, still at risk or lost.")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        errors["note"] = _l("Keep the note to %(n)d characters.", n=NOTE_MAX)
    follow_up_on = _follow_up_day(follow_up_on, now, errors)
    if errors:
        raise Invalid(fields=errors)
    return outcome, note, follow_up_on


def _follow_up_day(value, now, errors):
    if value in (None, ""):
        return None
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value).strip())
        except ValueError:
            errors["follow_up_on"] = _l("Give the date as YYYY-MM-DD.")
            return None
    if value < now.date():
        errors["follow_up_on"] = _l("A follow-up can't be in the past.")
    return value


def _claim(actor, case, outcome, note, now):
    """Mark the case done, only if it is still open: the conditional UPDATE only one closer can win."""
    claimed = db.session.execute(
        sa.update(RetentionCase).where(RetentionCase.id == case.id, RetentionCase.status == RetentionStatus.OPEN)
        .values(status=RetentionStatus.DONE, outcome=outcome, outcome_note=note, closed_at=now,
                closed_by_id=actor.id)
        .returning(RetentionCase.id).execution_options(synchronize_session=False)).first()
    if claimed is None:
        raise Conflict("retention_case_closed", _l("Someone already closed this case."))


def _record_closing(actor, case, touchpoint, outcome, note, now):
    db.session.execute(sa.update(RetentionCase).where(RetentionCase.id == case.id)
                       .values(action_activity_id=touchpoint.id).execution_options(synchronize_session=False))
    record_activity(Verb.RETENTION_CASE_CLOSED, actor=actor, obj=case, customer_id=case.customer_id, occurred_at=now,
                    payload=RetentionCaseClosed(case_id=case.id, outcome=outcome, note=note))
    audit(actor, "retention.closed", case, now=now, outcome=str(outcome), customer_id=case.customer_id,
          activity_id=touchpoint.id)


def reassign_case(actor, case_id, owner_id):
    """Give an open case to another member of the community staff (moderator or admin); audited, committed."""
    ensure(actor, Permission.MANAGE_SEGMENTS)
    case = get_case(actor, case_id)
    owner = db.session.get(User, owner_id) if isinstance(owner_id, int) else None
    if owner is None or owner.role not in COMMUNITY_STAFF_ROLES or owner.status != UserStatus.ACTIVE:
        raise Invalid(fields={"owner": _l("Choose a moderator or admin who is active.")})
    if case.status != RetentionStatus.OPEN:
        raise Conflict("retention_case_closed", _l("This case is closed already."))
    if case.owner_id != owner.id:
        audit(actor, "retention.reassigned", case, old_owner_id=case.owner_id, new_owner_id=owner.id,
              customer_id=case.customer_id)
        case.owner_id = owner.id
    db.session.commit()
    return case


# -- the queue ----------------------------------------------------------------------------------------------

WHO = ("everyone", "mine", "unassigned")


@dataclass
class QueueFilters:
    who: str = "everyone"
    owner_id: int | None = None

    @classmethod
    def from_args(cls, args):
        who = args.get("who", "everyone")
        return cls(who=who if who in WHO else "everyone", owner_id=args.get("owner", type=int))

    def as_args(self):
        return {name: value for name, value in (("who", self.who if self.who != "everyone" else None),
                                                ("owner", self.owner_id)) if value is not None}


def queue_query(viewer, filters):
    """select(RetentionCase) of the open cases `filters` pick, soonest due first, customer and owner loaded."""
    query = (sa.select(RetentionCase)
             .options(joinedload(RetentionCase.customer), joinedload(RetentionCase.owner))
             .where(RetentionCase.status == RetentionStatus.OPEN)
             .order_by(RetentionCase.due_on, RetentionCase.opened_at, RetentionCase.id))
    if filters.owner_id is not None:
        query = query.where(RetentionCase.owner_id == filters.owner_id)
    elif filters.who == "mine":
        query = query.where(RetentionCase.owner_id == viewer.id)
    elif filters.who == "unassigned":
        query = query.where(RetentionCase.owner_id.is_(None))
    return query


@dataclass
class QueueCounts:
    open: int
    overdue: int
    mine: int
    unassigned: int


def queue_counts(viewer, *, now=None):
    """How many cases are open, overdue, the viewer's and nobody's: one aggregate statement."""
    today = (now or utcnow()).date()

    def counted(condition):
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    row = db.session.execute(sa.select(
        sa.func.count(), counted(RetentionCase.due_on < today), counted(RetentionCase.owner_id == viewer.id),
        counted(RetentionCase.owner_id.is_(None))).where(RetentionCase.status == RetentionStatus.OPEN)).one()
    return QueueCounts(*(int(n) for n in row))


def recently_closed(*, limit=RECENTLY_CLOSED):
    """The latest closed cases with their customer and closer, newest first."""
    return db.session.scalars(
        sa.select(RetentionCase).options(joinedload(RetentionCase.customer), joinedload(RetentionCase.closed_by))
        .where(RetentionCase.status == RetentionStatus.DONE)
        .order_by(RetentionCase.closed_at.desc(), RetentionCase.id.desc()).limit(limit)).all()


@dataclass
class Results:
    won_back_this_year: int
    won_back_ever: int
    outcomes_this_year: dict  # {RetentionOutcome: count}, every outcome present


def results(*, now=None):
    """Win-backs (customers whose stage moved away from churned customer), this year and ever, and the
    outcomes of the cases closed this year: two statements."""
    year_start = _year_start(now or utcnow())
    won_back = sa.and_(Activity.verb == str(Verb.CUSTOMER_STAGE_CHANGED),
                       Activity.payload["from_stage"].as_string() == LifecycleStage.CHURNED_CUSTOMER.value)
    this_year = sa.case((Activity.occurred_at >= year_start, Activity.customer_id))
    ever, year = db.session.execute(sa.select(
        sa.func.count(sa.distinct(Activity.customer_id)), sa.func.count(sa.distinct(this_year))).where(won_back)).one()
    outcomes = dict.fromkeys(RetentionOutcome, 0)
    for outcome, count in db.session.execute(
            sa.select(RetentionCase.outcome, sa.func.count())
            .where(RetentionCase.status == RetentionStatus.DONE, RetentionCase.closed_at >= year_start)
            .group_by(RetentionCase.outcome)):
        outcomes[RetentionOutcome(outcome)] = count
    return Results(won_back_this_year=year, won_back_ever=ever, outcomes_this_year=outcomes)


def _year_start(now):
    return datetime(now.year, 1, 1, tzinfo=now.tzinfo)


def days_open(case, *, now=None):
    return ((now or utcnow()).date() - case.opened_at.date()).days
