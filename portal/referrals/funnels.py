"""How referrals are doing: a member's own funnel, and the staff's by referrer and by period.

Every function here reads in a fixed number of queries (aggregates, one
joined load per list), however many referrals there are. Nothing here writes.

The funnel counts the stage each referral reached: `invited` is every
friend a member brought (an email invite, or a sign-up through their link or
code), `signed_up` those who joined, `converted` those whose account became a
customer. Rejected referrals count in none of them, only in `rejected`.
"""
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..auth.models import User
from ..extensions import db
from ..pagination import PageNavigation
from ..sqltypes import utcnow
from .models import Referral, ReferralStatus

PERIODS = ("week", "month")
PERIODS_SHOWN = 12
TOP_REFERRERS = 5
TOP_REFERRERS_DAYS = 30
RECENT_REJECTED = 20
JOINED = (ReferralStatus.SIGNED_UP, ReferralStatus.CONVERTED)


@dataclass(frozen=True)
class Funnel:
    invited: int = 0
    signed_up: int = 0
    converted: int = 0
    rejected: int = 0

    @property
    def signup_rate(self):
        """Percent of the invited who joined, or None before anyone was invited."""
        return round(100 * self.signed_up / self.invited) if self.invited else None

    @property
    def conversion_rate(self):
        """Percent of those who joined who became customers, or None before anyone joined."""
        return round(100 * self.converted / self.signed_up) if self.signed_up else None

    def as_dict(self):
        return {"invited": self.invited, "signed_up": self.signed_up, "converted": self.converted,
                "rejected": self.rejected}


def _count_where(condition):
    return sa.func.count(sa.case((condition, 1)))


def _funnel_columns():
    status = Referral.status
    return (_count_where(status != ReferralStatus.REJECTED).label("invited"),
            _count_where(status.in_(JOINED)).label("signed_up"),
            _count_where(status == ReferralStatus.CONVERTED).label("converted"),
            _count_where(status == ReferralStatus.REJECTED).label("rejected"))


def _funnel(row):
    return Funnel(row.invited, row.signed_up, row.converted, row.rejected)


# -- a member's own ---------------------------------------------------------------------------

def member_funnel(user):
    """The member's funnel: one query."""
    return _funnel(db.session.execute(sa.select(*_funnel_columns()).where(Referral.referrer_id == user.id)).one())


def member_referrals(user):
    """select() of the member's referrals, newest first, with the friend who joined (one joined load)."""
    return (sa.select(Referral).where(Referral.referrer_id == user.id)
            .options(joinedload(Referral.invitee))
            .order_by(Referral.created_at.desc(), Referral.id.desc()))


# -- staff ------------------------------------------------------------------------------------

@dataclass
class RowsPage(PageNavigation):
    """One page of aggregate rows, shaped like a Flask-SQLAlchemy page for the pager macro."""
    items: list
    page: int
    per_page: int
    total: int


@dataclass(frozen=True)
class ReferrerRow:
    referrer: User
    funnel: Funnel


@dataclass(frozen=True)
class PeriodRow:
    start: date
    funnel: Funnel


@dataclass
class StaffFunnel:
    period: str
    totals: Funnel
    by_period: list[PeriodRow]
    by_referrer: RowsPage
    top_referrers: list[ReferrerRow]
    rejected: list[Referral] = field(default_factory=list)
    top_days: int = TOP_REFERRERS_DAYS


def parse_period(period):
    """`week` or `month`; anything else falls back to week."""
    return period if period in PERIODS else "week"


def staff_funnel(period="week", page=1, per_page=20):
    """Everything the staff's referral page shows, in six queries whatever the data."""
    period = parse_period(period)
    totals = _funnel(db.session.execute(sa.select(*_funnel_columns())).one())
    return StaffFunnel(period=period, totals=totals, by_period=funnel_by_period(period),
                       by_referrer=funnel_by_referrer(page, per_page), top_referrers=top_referrers(),
                       rejected=recent_rejected())


def _ranking():
    columns = _funnel_columns()
    return columns, (columns[2].desc(), columns[1].desc(), columns[0].desc())


def funnel_by_referrer(page=1, per_page=20):
    """Each referrer's funnel, best first (converted, then joined, then invited): two queries."""
    total = db.session.scalar(sa.select(sa.func.count(sa.distinct(Referral.referrer_id))))
    columns, order = _ranking()
    rows = db.session.execute(
        sa.select(User, *columns).join(Referral, Referral.referrer_id == User.id)
        .group_by(User.id).order_by(*order, User.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return RowsPage([ReferrerRow(row[0], _funnel(row)) for row in rows], page, per_page, total)


def top_referrers(days=TOP_REFERRERS_DAYS, limit=TOP_REFERRERS):
    """The referrers whose friends joined or converted most in the last `days` days: one query."""
    since = utcnow() - timedelta(days=days)
    recent = sa.or_(Referral.created_at >= since, Referral.signed_up_at >= since, Referral.converted_at >= since)
    columns, order = _ranking()
    rows = db.session.execute(
        sa.select(User, *columns).join(Referral, Referral.referrer_id == User.id).where(recent)
        .group_by(User.id).having(columns[1] > 0).order_by(*order, User.id).limit(limit)
    ).all()
    return [ReferrerRow(row[0], _funnel(row)) for row in rows]


def period_starts(period, count=PERIODS_SHOWN, today=None):
    """The first days of the last `count` weeks (Mondays) or months, oldest first, this one included."""
    today = today or utcnow().date()
    if period == "week":
        monday = today - timedelta(days=today.weekday())
        return [monday - timedelta(weeks=n) for n in reversed(range(count))]
    starts, first = [], today.replace(day=1)
    for _ in range(count):
        starts.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    return list(reversed(starts))


def _period_start(column, period):
    """SQL for the first day of the week (Monday) or month a UTC timestamp falls in."""
    if db.session.get_bind().dialect.name == "postgresql":
        # Literals, not bound parameters: GROUP BY must repeat the selected expression exactly.
        unit = sa.literal_column("'week'" if period == "week" else "'month'")
        return sa.cast(sa.func.date_trunc(unit, sa.func.timezone(sa.literal_column("'UTC'"), column)), sa.Date)
    modifiers = ("weekday 0", "-6 days") if period == "week" else ("start of month",)
    return sa.func.date(column, *modifiers)


def funnel_by_period(period="week", count=PERIODS_SHOWN):
    """The funnel of the referrals that began in each of the last `count` weeks or months: one query.

    Grouped by when the referral began (the invite, or the sign-up through a
    link or code), so each row follows one cohort of friends down the funnel.
    """
    starts = period_starts(period, count)
    since = datetime.combine(starts[0], time(), tzinfo=UTC)
    start = _period_start(Referral.created_at, period).label("start")
    rows = db.session.execute(
        sa.select(start, *_funnel_columns()).where(Referral.created_at >= since).group_by(start)
    ).all()
    found = {_as_date(row.start): _funnel(row) for row in rows}
    return [PeriodRow(day, found.get(day, Funnel())) for day in starts]


def _as_date(value):
    return value if isinstance(value, date) else date.fromisoformat(value)


def recent_rejected(limit=RECENT_REJECTED):
    """The latest rejected referrals with both people: one query."""
    return db.session.scalars(
        sa.select(Referral).where(Referral.status == ReferralStatus.REJECTED)
        .options(joinedload(Referral.referrer), joinedload(Referral.invitee))
        .order_by(Referral.rejected_at.desc(), Referral.id.desc()).limit(limit)
    ).all()
