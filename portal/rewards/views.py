"""Leaderboards and badges in the browser."""
from flask import Blueprint, render_template, request
from flask_login import current_user

from ..inputs import page_number
from . import badges, leaderboards

bp = Blueprint("rewards", __name__)


# -- leaderboards ------------------------------------------------------------------------

@bp.get("/leaderboard")
def leaderboard():
    board = leaderboards.leaderboard_page(current_user, period=request.args.get("period"),
                                          category=request.args.get("category") or None,
                                          page=page_number())
    return render_template("rewards/leaderboard.html", board=board, periods=leaderboards.PERIODS)


# -- badges (the badge catalogue and each badge's holders) --------------------------------

@bp.get("/badges")
def badge_list():
    return render_template("rewards/badges.html", tiers=badges.badges_by_tier(current_user))


@bp.get("/badges/<key>")
def badge(key):
    badge = badges.get_badge(key)
    holders = badges.badge_holders(badge, page=page_number())
    return render_template("rewards/badge.html", badge=badge, holders=holders,
                           held=badge.key in badges.held_keys(current_user))
