"""What a member's page shows of their rewards: level progress, badges and, to the right people, the history."""
from dataclasses import dataclass

from ..levels import Level, progress
from .badges import badges_of
from .history import HistoryPage, may_see_history, points_history


@dataclass
class MemberRewards:
    level: Level
    next_level: Level | None
    percent: int
    # Points still needed for the next level; 0 at the top.
    points_to_next: int
    badges: list
    # Whether the viewer may read the member's points history; `history` is None when not.
    show_history: bool
    history: HistoryPage | None


def member_rewards(viewer, member, *, page=1):
    """Level, progress, badges and (for the member and moderators only) one page of points history.

    A fixed number of queries whatever the member earned: the badges, and
    the history's page (see points_history).
    """
    level, following, percent = progress(member.points)
    show_history = may_see_history(viewer, member)
    return MemberRewards(
        level=level, next_level=following, percent=percent,
        points_to_next=max(following.threshold - member.points, 0) if following else 0,
        badges=badges_of(member.id),
        show_history=show_history,
        history=points_history(member, page, viewer=viewer) if show_history else None,
    )
