"""Levels derived from lifetime points (thresholds become settings later)."""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Level:
    number: int
    key: str
    label: str
    threshold: int


DEFAULT_LEVELS = (
    Level(1, "newcomer", _l("Newcomer"), 0),
    Level(2, "member", _l("Member"), 50),
    Level(3, "regular", _l("Regular"), 200),
    Level(4, "expert", _l("Expert"), 1000),
    Level(5, "ambassador", _l("Ambassador"), 5000),
)


def level_for(points, levels=DEFAULT_LEVELS):
    current = levels[0]
    for level in levels:
        if points >= level.threshold:
            current = level
    return current
