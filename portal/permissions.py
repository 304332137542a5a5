"""Who may do what, and whose records they may see: one mechanism for all.

A role grants feature permissions (`Permission`) and a data scope per kind of
record (`Scope`: own, team, all). Some permissions are also earned by level,
as Discourse's trust levels are (`EARNED_BY_LEVEL`: links, flags, new tags,
retitling, closing duplicates): a role that holds one has it only from the
level an admin set for it, except roles that moderate, which hold them all.
A sales rep is staff but never moderates, so they earn these like members.
`can()` and `ensure()` answer role, level and all together; views and API
endpoints declare what they need with `@require(...)`; queries over scoped
records go through `scoped(...)`.
"""
import enum
from functools import wraps

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .errors import Forbidden, Unauthorized
from .levels import SETTING_KEY, level_named
from .settings import stored_setting
from .sqltypes import LabelledEnum, utcnow


class Role(LabelledEnum):
    MEMBER = "member", _l("Member")
    MODERATOR = "moderator", _l("Moderator")
    SALES = "sales", _l("Sales rep")
    SALES_MANAGER = "sales_manager", _l("Sales manager")
    ADMIN = "admin", _l("Admin")


class Permission(enum.StrEnum):
    # members
    POST = "post"
    VOTE = "vote"
    FLAG = "flag"
    MESSAGE = "message"
    REFER = "refer"
    # earned by level (see EARNED_BY_LEVEL)
    POST_LINKS = "post_links"
    CREATE_TAGS = "create_tags"
    EDIT_OTHERS_TOPICS = "edit_others_topics"
    CLOSE_DUPLICATES = "close_duplicates"
    # community staff
    MODERATE = "moderate"
    VIEW_CUSTOMERS = "view_customers"
    EDIT_CUSTOMERS = "edit_customers"
    MANAGE_SEGMENTS = "manage_segments"
    VIEW_ANALYTICS = "view_analytics"
    # staff who read the community for sales: moderators and sales alike
    FLAG_LEADS = "flag_leads"
    # sales
    WORK_LEADS = "work_leads"
    ASSIGN_LEADS = "assign_leads"
    VIEW_SALES_REPORTS = "view_sales_reports"
    # operators
    MANAGE_USERS = "manage_users"
    MANAGE_SETTINGS = "manage_settings"
    MANAGE_TOKENS = "manage_tokens"
    MANAGE_WEBHOOKS = "manage_webhooks"
    VIEW_AUDIT_LOG = "view_audit_log"

    @property
    def label(self):
        return EARNED_BY_LEVEL[self].label if self in EARNED_BY_LEVEL else self.value


class _Earned:
    def __init__(self, default_level, label):
        self.default_level, self.label = default_level, label


# The permissions members earn by level, with the level each needs until an admin changes it
# (the rewards settings page). Creating tags defaults to the deployment's TAG_CREATE_MIN_LEVEL.
EARNED_BY_LEVEL = {
    Permission.POST_LINKS: _Earned(2, _l("Post links and images")),
    Permission.FLAG: _Earned(2, _l("Flag posts")),
    Permission.CREATE_TAGS: _Earned(3, _l("Create new tags")),
    Permission.EDIT_OTHERS_TOPICS: _Earned(4, _l("Edit others' titles and tags")),
    Permission.CLOSE_DUPLICATES: _Earned(4, _l("Close topics as duplicates")),
}


class Scope(enum.IntEnum):
    NONE = 0
    OWN = 1
    TEAM = 2
    ALL = 3


class Record(enum.StrEnum):
    """Kinds of staff records whose visibility depends on the viewer."""
    CUSTOMER = "customer"
    LEAD = "lead"


_MEMBER = {Permission.POST, Permission.VOTE, Permission.FLAG, Permission.MESSAGE, Permission.REFER,
           Permission.POST_LINKS, Permission.CREATE_TAGS, Permission.EDIT_OTHERS_TOPICS, Permission.CLOSE_DUPLICATES}
_SALES = _MEMBER | {Permission.WORK_LEADS, Permission.VIEW_CUSTOMERS, Permission.FLAG_LEADS}

ROLE_PERMISSIONS = {
    Role.MEMBER: frozenset(_MEMBER),
    Role.MODERATOR: frozenset(_MEMBER | {
        Permission.MODERATE, Permission.VIEW_CUSTOMERS, Permission.EDIT_CUSTOMERS,
        Permission.MANAGE_SEGMENTS, Permission.VIEW_ANALYTICS, Permission.FLAG_LEADS,
    }),
    Role.SALES: frozenset(_SALES),
    Role.SALES_MANAGER: frozenset(_SALES | {Permission.ASSIGN_LEADS, Permission.VIEW_SALES_REPORTS}),
    Role.ADMIN: frozenset(Permission),
}

ROLE_SCOPES = {
    Role.MEMBER: {},
    Role.MODERATOR: {Record.CUSTOMER: Scope.ALL},
    Role.SALES: {Record.CUSTOMER: Scope.OWN, Record.LEAD: Scope.OWN},
    Role.SALES_MANAGER: {Record.CUSTOMER: Scope.TEAM, Record.LEAD: Scope.TEAM},
    Role.ADMIN: {Record.CUSTOMER: Scope.ALL, Record.LEAD: Scope.ALL},
}

# What a silenced member may not do while the silence lasts (portal/moderation/sanctions.py): they read only.
SILENCED_WITHOUT = frozenset({Permission.POST, Permission.VOTE, Permission.FLAG, Permission.MESSAGE,
                              Permission.POST_LINKS, Permission.CREATE_TAGS, Permission.EDIT_OTHERS_TOPICS,
                              Permission.CLOSE_DUPLICATES})

STAFF_ROLES = frozenset({Role.MODERATOR, Role.SALES, Role.SALES_MANAGER, Role.ADMIN})


def roles_with(permission):
    """The roles granted `permission` outright (not by level), e.g. whom to tell about the review queue."""
    return sorted(role for role, granted in ROLE_PERMISSIONS.items() if permission in granted)


def level_required(permission):
    """The level from which a role that doesn't moderate holds `permission` (one of EARNED_BY_LEVEL)."""
    stored = stored_setting(SETTING_KEY).get("privileges", {})
    if str(permission) in stored:
        return stored[str(permission)]
    if permission == Permission.CREATE_TAGS:
        return current_app.config["TAG_CREATE_MIN_LEVEL"]
    return EARNED_BY_LEVEL[permission].default_level


def level_requirements():
    """{permission: level required} for every permission earned by level."""
    return {permission: level_required(permission) for permission in EARNED_BY_LEVEL}


def _granted_by_role(user, permission):
    return permission in ROLE_PERMISSIONS[Role(user.role)]


def _level_short_of(user, permission):
    """Whether the role grants `permission` but the user's level doesn't reach it yet."""
    if permission not in EARNED_BY_LEVEL or Permission.MODERATE in ROLE_PERMISSIONS[Role(user.role)]:
        return False
    return user.level_number < level_required(permission)


def can(user, permission):
    """Whether `user` (possibly anonymous) holds `permission`: by role, and by level where it is earned."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if permission in SILENCED_WITHOUT and _silenced(user):
        return False
    return _granted_by_role(user, permission) and not _level_short_of(user, permission)


def _silenced(user):
    silenced_at = getattr(user, "silenced_at", None)
    return silenced_at is not None and silenced_at(utcnow())


def scope(user, record):
    """How far `user` sees records of kind `record`: NONE, OWN, TEAM or ALL."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope.NONE
    return ROLE_SCOPES[Role(user.role)].get(record, Scope.NONE)


def ensure(user, permission):
    """Raise Unauthorized or Forbidden unless `user` holds `permission`.

    When only the level is missing, the Forbidden says which level unlocks it
    (code `level_too_low`), so a member knows what to work towards.
    """
    if not getattr(user, "is_authenticated", False):
        raise Unauthorized()
    if can(user, permission):
        return
    if user.is_active and permission in SILENCED_WITHOUT and _silenced(user) and _granted_by_role(user, permission):
        from .moderation.sanctions import silenced_error  # moderation sits above this module

        raise silenced_error(user)
    if user.is_active and _granted_by_role(user, permission):
        needed = level_named(level_required(permission))
        raise Forbidden("level_too_low", _("%(privilege)s unlocks at the %(level)s level (%(points)d points).",
                                           privilege=permission.label, level=needed.label,
                                           points=needed.threshold))
    raise Forbidden()


def scoped(query, user, record, *, owner_column, team_column=None):
    """Narrow a select() over `record` rows to those `user` may see.

    `owner_column` holds the owning user's id; `team_column` the owning
    team's id (needed for TEAM scope).
    """
    reach = scope(user, record)
    if reach is Scope.ALL:
        return query
    if reach is Scope.TEAM and team_column is not None and user.team_id is not None:
        return query.where(team_column == user.team_id)
    if reach in (Scope.OWN, Scope.TEAM):
        return query.where(owner_column == user.id)
    return query.where(False)


def require(*permissions):
    """View decorator: 401 for nobody signed in, 403 without every permission."""
    def decorator(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            for permission in permissions:
                ensure(current_user, permission)
            return view(*args, **kwargs)
        guarded.required_permissions = permissions
        return guarded
    return decorator


def require_login(view):
    """View decorator for pages any signed-in user may open."""
    @wraps(view)
    def guarded(*args, **kwargs):
        if not current_user.is_authenticated:
            raise Unauthorized()
        return view(*args, **kwargs)
    return guarded
