"""Privileges a member earns by level, as Discourse's trust levels do; moderators and admins hold them all.

Only a role that moderates holds them by role: a sales rep is staff but
never moderates, so they earn these as any member does.
"""
from flask_babel import gettext as _

from ..errors import Forbidden
from ..permissions import Permission, can
from .levels import level_named
from .rules import Privilege, level_for_privilege


def has_privilege(user, privilege):
    """Whether `user` may use `privilege` now: moderators always, everyone else from the privilege's level on."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return can(user, Permission.MODERATE) or user.level.number >= level_for_privilege(privilege)


def unlocking_level(privilege):
    """The Level from which members hold `privilege`."""
    return level_named(level_for_privilege(privilege))


def ensure_privilege(user, privilege):
    """Raise Forbidden, naming the level that unlocks it, unless `user` holds `privilege`."""
    if has_privilege(user, privilege):
        return
    needed = unlocking_level(privilege)
    raise Forbidden("level_too_low", _("%(privilege)s unlocks at the %(level)s level (%(points)d points).",
                                       privilege=Privilege(privilege).label, level=needed.label,
                                       points=needed.threshold))
