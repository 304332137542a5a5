"""Levels derived from lifetime points (thresholds become settings later)."""
from dataclasses import dataclass

from flask_babel import lazy_pgettext


@dataclass(frozen=True)
class Level:
    number: int
    key: str
    label: str
    threshold: int


DEFAULT_LEVELS = (
    Level(1, "newcomer", lazy_pgettext("level", "Newcomer"), 0),
    Level(2, "member", lazy_pgettext("level", "Member"), 50),
    Level(3, "regular", lazy_pgettext("level", "Regular"), 200),
    Level(4, "expert", lazy_pgettext("level", "Expert"), 1000),
    Level(5, "ambassador", lazy_pgettext("level", "Ambassador"), 5000),
)


def level_for(points, levels=DEFAULT_LEVELS):
    current = levels[0]
    for level in levels:
        if points >= level.threshold:
            current = level
    return current
