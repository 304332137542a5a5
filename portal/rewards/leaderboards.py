"""Leaderboards: who earned the most points this week, this month, ever, and per category.

A board ranks active members (staff are not ranked) by the points they earned
in a window: the sum of their ledger entries since Monday 00:00 UTC (week) or
the 1st of the month (month). All time without a category reads the cached
balance, which always equals the ledger sum. A category board counts only the
entries about content in that category (a topic, or a post in one of its
topics); entries not about content (daily visits, referrals, opening
balances) count only on the overall boards. A reversal counts where the
entry it undoes counted, so taking points back never moves them elsewhere.

Members appear once they have points in the window; ties are broken by who
joined first, so a page never reshuffles between two loads.
"""
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased

from ..auth.models import User, UserStatus
from ..community.access import readable_categories
from ..community.models import Category, Post, Topic
from ..errors import Invalid, NotFound
from ..events import Activity
from ..extensions import db
from ..inputs import parse_id
from ..pagination import PageNavigation
from ..permissions import Role
from ..sqltypes import utcnow
from .models import PointsEntry

PERIODS = ("week", "month", "all")
DEFAULT_PERIOD = "week"
PER_PAGE = 50
MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000


@dataclass
class Standing:
    """A member's place on a board: their rank and the points they earned in its window."""
    rank: int
    user: User
    points: int


@dataclass
class Board(PageNavigation):
    """One page of a leaderboard, shaped like a Flask-SQLAlchemy page for the pager."""
    period: str
    category: Category | None
    items: list[Standing]
    page: int
    per_page: int
    total: int
    # The viewer's own standing, on this page or not; None when they are not ranked.
    mine: Standing | None = None
    # Whether the viewer is someone a board ranks (an active member), ranked now or not.
    viewer_ranked: bool = False
    since: datetime | None = None
    categories: list[Category] = field(default_factory=list)


def parse_period(period):
    """`period` if it names a board (None means the default); Invalid otherwise."""
    if period in (None, ""):
        return DEFAULT_PERIOD
    if period not in PERIODS:
        raise Invalid("invalid_period", _l("There is no such leaderboard. Choose this week, this month or all time."),
                      fields={"period": _l("Choose week, month or all.")})
    return period


def period_start(period, now=None):
    """When a period's window opens (UTC): Monday 00:00 of this ISO week, the 1st of the month, or None."""
    now = (now or utcnow()).astimezone(UTC)
    if period == "week":
        return datetime.combine(now.date() - timedelta(days=now.weekday()), time(), tzinfo=UTC)
    if period == "month":
        return datetime(now.year, now.month, 1, tzinfo=UTC)
    return None


def readable_category(viewer, key):
    """The category a slug (or an id in digits) names, if `viewer` may read it; NotFound otherwise.

    A category the viewer may not read answers exactly like one that does not exist.
    """
    category_id = parse_id(key)
    category = db.session.scalar(readable_categories(viewer).where(
        Category.id == category_id if category_id else Category.slug == key))
    if category is None:
        raise NotFound("category_not_found", _l("That category does not exist."))
    return category


def _about_category(category_id):
    """Clause on `Activity`: the activity is about a topic in the category, or a post in one of its topics."""
    topics = sa.select(Topic.id).where(Topic.category_id == category_id)
    posts = sa.select(Post.id).join(Topic, Topic.id == Post.topic_id).where(Topic.category_id == category_id)
    return sa.or_(sa.and_(Activity.object_type == "topic", Activity.object_id.in_(topics)),
                  sa.and_(Activity.object_type == "post", Activity.object_id.in_(posts)))


def _earned(since, category_id):
    """select() of (user_id, points) summed from the ledger in the window and category."""
    query = sa.select(PointsEntry.user_id.label("user_id"), sa.func.sum(PointsEntry.delta).label("points"))
    if since is not None:
        query = query.where(PointsEntry.created_at >= since)
    if category_id is not None:
        # A reversal belongs where the entry it undoes belongs: its own cause (an account
        # deletion, a moderator's action) may be about something else.
        original = aliased(PointsEntry)
        query = (query.outerjoin(original, original.id == PointsEntry.reverses_id)
                 .join(Activity, Activity.id == sa.func.coalesce(original.activity_id, PointsEntry.activity_id))
                 .where(_about_category(category_id)))
    return query.group_by(PointsEntry.user_id)


def _ranked(since, category_id):
    """Subquery of ranked members: user_id, points, rank (1-based, stable) and total (members ranked)."""
    if since is None and category_id is None:
        source = sa.select(User.id.label("user_id"), User.points.label("points")).subquery()
    else:
        source = _earned(since, category_id).subquery()
    return (
        sa.select(source.c.user_id, source.c.points,
                  sa.func.row_number().over(order_by=(source.c.points.desc(), source.c.user_id)).label("rank"),
                  sa.func.count().over().label("total"))
        .join(User, User.id == source.c.user_id)
        .where(User.role == Role.MEMBER, User.status == UserStatus.ACTIVE, source.c.points > 0)
        .subquery()
    )


def leaderboard(period=DEFAULT_PERIOD, category=None, *, page=1, per_page=PER_PAGE, viewer=None, now=None):
    """One page of the board for `period` ("week", "month", "all") and an optional category slug.

    Guarantees: the category is one `viewer` may read (NotFound otherwise);
    ranks are 1-based, unique and stable; `mine` is the viewer's own standing
    wherever it falls. Reads the page, the total and the viewer's row in one
    query (plus one to find the category, and a count when the page is past the end).
    """
    period = parse_period(period)
    page, per_page = min(max(int(page), 1), MAX_PAGE), min(max(int(per_page), 1), MAX_PER_PAGE)
    category = readable_category(viewer, category) if category else None
    since = period_start(period, now)
    ranked = _ranked(since, category.id if category else None)
    offset = (page - 1) * per_page
    on_page = sa.and_(ranked.c.rank > offset, ranked.c.rank <= offset + per_page)
    viewer_id = viewer.id if getattr(viewer, "is_authenticated", False) else None
    rows = db.session.execute(
        sa.select(User, ranked.c.points, ranked.c.rank, ranked.c.total)
        .join(ranked, ranked.c.user_id == User.id)
        .where(sa.or_(on_page, User.id == viewer_id) if viewer_id else on_page)
        .order_by(ranked.c.rank)
    ).all()
    items, mine, total = [], None, None
    for user, points, rank, count in rows:
        standing = Standing(rank=rank, user=user, points=points)
        total = count
        if offset < rank <= offset + per_page:
            items.append(standing)
        if user.id == viewer_id:
            mine = standing
    if total is None:
        total = 0 if page == 1 else db.session.scalar(sa.select(sa.func.count()).select_from(ranked))
    return Board(period=period, category=category, items=items, page=page, per_page=per_page, total=total,
                 mine=mine, viewer_ranked=_ranked_member(viewer), since=since)


def _ranked_member(user):
    return (getattr(user, "is_authenticated", False) and user.role == Role.MEMBER
            and user.status == UserStatus.ACTIVE)


def leaderboard_page(viewer, *, period=None, category=None, page=1):
    """What /leaderboard shows: the board, and the categories `viewer` may pick from."""
    board = leaderboard(period, category, page=page, viewer=viewer)
    board.categories = db.session.scalars(readable_categories(viewer)).all()
    return board
