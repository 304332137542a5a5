"""Changing the point rules, the daily vote cap, level thresholds and privilege levels (admins)."""
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..audit import audit
from ..auth.models import User
from ..errors import Invalid
from ..extensions import cache, db
from ..levels import LEVEL_NAMES, current_levels, level_number_for
from ..permissions import EARNED_BY_LEVEL, Permission, ensure, level_requirements
from ..settings import store_setting, stored_setting
from .rules import POINTS_LIMIT, SETTING_KEY, Rule, all_rule_points, daily_vote_cap

THRESHOLD_LIMIT = 10_000_000


def reward_settings():
    """What the settings page shows: every rule's points, the cap, thresholds and privilege levels in force."""
    return {
        "rules": {str(rule): points for rule, points in all_rule_points().items()},
        "daily_vote_cap": daily_vote_cap(),
        "thresholds": [level.threshold for level in current_levels()],
        "privileges": {str(permission): level for permission, level in level_requirements().items()},
    }


def update_reward_settings(actor, *, rules, daily_vote_cap, thresholds, privileges):
    """Replace the reward settings for the whole community; audited with before and after; committed.

    Every value is checked first: a non-number, a negative reward, a positive
    penalty, thresholds that don't start at 0 and rise, or a privilege level
    that doesn't exist raises Invalid naming each bad field, and nothing is saved.
    """
    ensure(actor, Permission.MANAGE_SETTINGS)
    errors = {}
    new = {
        "rules": {str(rule): _checked_rule(rule, rules.get(str(rule)), errors) for rule in Rule},
        "daily_vote_cap": _checked_int("daily_vote_cap", daily_vote_cap, 0, POINTS_LIMIT, errors),
        "thresholds": _checked_thresholds(thresholds, errors),
        "privileges": {str(p): _checked_int(f"privilege_{p}", privileges.get(str(p)), 1, len(LEVEL_NAMES), errors)
                       for p in EARNED_BY_LEVEL},
    }
    if errors:
        raise Invalid("invalid_settings", fields=errors)
    before = reward_settings()
    store_setting(actor, SETTING_KEY, {**stored_setting(SETTING_KEY), **new})
    if new["thresholds"] != before["thresholds"]:
        db.session.execute(sa.update(User).values(level_number=level_number_for(User.points)))
    audit(actor, "settings.rewards_changed", None, before=before, after=new)
    db.session.commit()
    # Cached pages are shared by the members of a level (community.access.reader_kind) and show levels'
    # names: what they show under the old rules goes.
    cache.clear()
    return new


def _as_int(value):
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    text = str(value if value is not None else "").strip()
    if not text.lstrip("-").isdigit():
        raise ValueError
    return int(text)


def _checked_int(field, value, low, high, errors):
    try:
        number = _as_int(value)
    except ValueError:
        errors[field] = _l("Enter a whole number.")
        return None
    if not low <= number <= high:
        errors[field] = _l("Enter a number from %(low)d to %(high)d.", low=low, high=high)
        return None
    return number


def _checked_rule(rule, value, errors):
    field = f"rule_{rule}"
    low, high = (-POINTS_LIMIT, 0) if rule.is_penalty else (0, POINTS_LIMIT)
    number = _checked_int(field, value, -POINTS_LIMIT, POINTS_LIMIT, errors)
    if number is not None and not low <= number <= high:
        errors[field] = (_l("A penalty is 0 or less.") if rule.is_penalty
                         else _l("Points for this can't be negative."))
    return number


def _checked_thresholds(thresholds, errors):
    values = [_checked_int(f"threshold_{n}", value, 0, THRESHOLD_LIMIT, errors)
              for n, value in enumerate(thresholds, 1)]
    if len(values) != len(LEVEL_NAMES):
        errors["thresholds"] = _l("Give a threshold for every level.")
        return values
    if values[0] not in (None, 0):
        errors["threshold_1"] = _l("The first level starts at 0 points.")
    for n in range(1, len(values)):
        if values[n] is not None and values[n - 1] is not None and values[n] <= values[n - 1]:
            errors[f"threshold_{n + 1}"] = _l("Each level needs more points than the one before.")
    return values
