"""Points, levels, badges and leaderboards over the API."""
from datetime import datetime

from flask import jsonify
from flask_login import current_user
from pydantic import BaseModel, Field, field_validator

from ..levels import progress
from ..permissions import require_login
from ..rewards import badges, history, leaderboards
from . import bp
from .community import AuthorOut, PageArgs, PageOut
from .spec import documented, dump, parse_query

# -- points and leaderboards ---------------------------------------------------------------


class PointsLevelOut(BaseModel):
    number: int
    key: str
    label: str = Field(description="The level's name in the caller's language.")
    threshold: int = Field(description="Points from which a member is at this level.")

    @field_validator("label", mode="before")
    @classmethod
    def _text(cls, label):
        return str(label)


class CauseOut(BaseModel):
    type: str = Field(description="topic, post or referral.")
    id: int | None
    url: str = Field(description="Where the cause is shown on the site.")


class LedgerEntryOut(BaseModel):
    id: int
    delta: int
    rule: str
    reason: str = Field(description="Why the points changed, in the caller's language; reversals say so.")
    created_at: datetime
    reverses_id: int | None = Field(description="The entry this one undoes, for reversals.")
    cause: CauseOut | None = Field(description="What earned the points, when it is content you can read or a "
                                               "referral; null for daily visits and the like.")


class LedgerPage(PageOut):
    items: list[LedgerEntryOut]


class PointsOut(BaseModel):
    points: int
    level: PointsLevelOut
    next_level: PointsLevelOut | None = Field(description="Null at the highest level.")
    ledger: LedgerPage = Field(description="Your ledger entries, newest first.")


class StandingOut(BaseModel):
    rank: int
    user: AuthorOut
    points: int = Field(description="Points earned in the board's period (and category).")


class BoardCategoryOut(BaseModel):
    id: int
    slug: str
    name: str


class LeaderboardOut(PageOut):
    items: list[StandingOut]
    period: str = Field(description="week (since Monday 00:00 UTC), month (since the 1st, UTC) or all.")
    category: BoardCategoryOut | None
    since: datetime | None = Field(description="When the period began; null for all time.")
    mine: StandingOut | None = Field(description="Your own standing, wherever it falls; null when you are "
                                                 "not ranked (visitors, staff, no points in the period).")


class LeaderboardArgs(PageArgs):
    period: str | None = Field(default=None, max_length=20)
    category: str | None = Field(default=None, max_length=80, description="A category slug or id.")


@bp.get("/me/points")
@require_login
@documented("Your points, level, next level and ledger (paged, newest first)", response=PointsOut,
            tag="rewards", query={"page": "integer", "per_page": "integer"}, errors=(401, 422))
def my_points():
    args = parse_query(PageArgs)
    level, following, _percent = progress(current_user.points)
    ledger = history.points_history(current_user, args.page, args.per_page or history.PER_PAGE)
    return jsonify(dump(PointsOut, {"points": current_user.points, "level": level, "next_level": following,
                                    "ledger": ledger}))


@bp.get("/leaderboards")
@documented("A leaderboard: members ranked by points this week, this month or all time, optionally in one "
            "category", response=LeaderboardOut, auth=False, tag="rewards",
            query={"period": "string", "category": "string", "page": "integer", "per_page": "integer"},
            errors=(404, 422))
def leaderboard():
    args = parse_query(LeaderboardArgs)
    board = leaderboards.leaderboard(args.period, args.category or None, page=args.page,
                                     per_page=args.per_page or leaderboards.PER_PAGE, viewer=current_user)
    return jsonify(dump(LeaderboardOut, board))


# -- badges --------------------------------------------------------------------------------

class BadgeOut(BaseModel):
    key: str
    name: str = Field(description="The badge's name in the caller's language.")
    description: str = Field(description="What earns it, in the caller's language.")
    tier: str = Field(description="gold, silver or bronze.")
    holders: int = Field(description="How many members hold it.")
    held: bool = Field(description="Whether you hold it (false for visitors).")


class BadgePage(PageOut):
    items: list[BadgeOut]


def _badge_out(summary):
    badge = summary.badge
    return {"key": badge.key, "name": str(badge.name), "description": str(badge.description),
            "tier": badge.tier.value, "holders": summary.holders, "held": summary.held}


@bp.get("/badges")
@documented("Every badge, gold first, with how many members hold it", response=BadgePage, auth=False,
            tag="rewards", errors=())
def badge_list():
    summaries = [summary for _tier, group in badges.badges_by_tier(current_user) for summary in group]
    return jsonify(dump(BadgePage, {"items": [_badge_out(s) for s in summaries], "page": 1,
                                    "per_page": len(summaries), "total": len(summaries)}))
