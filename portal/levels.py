"""Levels, derived from a member's points against admin-editable thresholds.

Nothing spends points, so the balance is the member's lifetime points: a
level is lost again only when content that earned the points is removed.
The level is kept on the user (`users.level_number`) by the same UPDATE that
changes the points (`level_number_for`), and recomputed for everyone when
an admin moves a threshold, so permissions read it without any lookup.
"""
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_pgettext

from .settings import stored_setting

SETTING_KEY = "rewards"


@dataclass(frozen=True)
class Level:
    number: int
    key: str
    label: str
    threshold: int


LEVEL_NAMES = (
    ("newcomer", lazy_pgettext("level", "Newcomer")),
    ("member", lazy_pgettext("level", "Member")),
    ("regular", lazy_pgettext("level", "Regular")),
    ("expert", lazy_pgettext("level", "Expert")),
    ("ambassador", lazy_pgettext("level", "Ambassador")),
)
DEFAULT_THRESHOLDS = (0, 50, 200, 1000, 5000)


def _levels(thresholds):
    return tuple(Level(number, key, label, threshold)
                 for number, ((key, label), threshold) in enumerate(zip(LEVEL_NAMES, thresholds, strict=True), 1))


DEFAULT_LEVELS = _levels(DEFAULT_THRESHOLDS)


def current_levels():
    """The levels with the thresholds in force now."""
    thresholds = stored_setting(SETTING_KEY).get("thresholds")
    return _levels(thresholds) if thresholds else DEFAULT_LEVELS


def level_named(number):
    """The level with this number (1 is the first)."""
    levels = current_levels()
    return levels[max(1, min(number, len(levels))) - 1]


def level_for(points, levels=None):
    levels = levels or current_levels()
    current = levels[0]
    for level in levels:
        if points >= level.threshold:
            current = level
    return current


def level_number_for(points):
    """SQL: the level number a points expression reaches under the thresholds in force."""
    levels = current_levels()
    return sa.case(*[(points >= level.threshold, level.number) for level in reversed(levels[1:])], else_=1)


def next_level(level, levels=None):
    """The level after `level`, or None at the top."""
    levels = levels or current_levels()
    return levels[level.number] if level.number < len(levels) else None


def progress(points):
    """(level, next level or None, percent of the way there) for a points balance."""
    levels = current_levels()
    level = level_for(points, levels)
    following = next_level(level, levels)
    if following is None:
        return level, None, 100
    span = following.threshold - level.threshold
    return level, following, max(0, min(100, (points - level.threshold) * 100 // span))
