"""Who may do what, and whose records they may see: one mechanism for all.

A role grants feature permissions (`Permission`) and a data scope per kind of
record (`Scope`: own, team, all). Views and API endpoints declare what they
need with `@require(...)`; services and the CLI call `ensure(user, ...)`;
queries over scoped records go through `scoped(...)`.
"""
import enum
from functools import wraps

from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .errors import Forbidden, Unauthorized


class Role(enum.StrEnum):
    MEMBER = "member"
    MODERATOR = "moderator"
    SALES = "sales"
    SALES_MANAGER = "sales_manager"
    ADMIN = "admin"

    @property
    def label(self):
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.MEMBER: _l("Member"),
    Role.MODERATOR: _l("Moderator"),
    Role.SALES: _l("Sales rep"),
    Role.SALES_MANAGER: _l("Sales manager"),
    Role.ADMIN: _l("Admin"),
}


class Permission(enum.StrEnum):
    # members
    POST = "post"
    VOTE = "vote"
    FLAG = "flag"
    MESSAGE = "message"
    REFER = "refer"
    # community staff
    MODERATE = "moderate"
    VIEW_CUSTOMERS = "view_customers"
    EDIT_CUSTOMERS = "edit_customers"
    MANAGE_SEGMENTS = "manage_segments"
    VIEW_ANALYTICS = "view_analytics"
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


class Scope(enum.IntEnum):
    NONE = 0
    OWN = 1
    TEAM = 2
    ALL = 3


class Record(enum.StrEnum):
    """Kinds of staff records whose visibility depends on the viewer."""
    CUSTOMER = "customer"
    LEAD = "lead"


_MEMBER = {Permission.POST, Permission.VOTE, Permission.FLAG, Permission.MESSAGE, Permission.REFER}
_SALES = _MEMBER | {Permission.WORK_LEADS, Permission.VIEW_CUSTOMERS}

ROLE_PERMISSIONS = {
    Role.MEMBER: frozenset(_MEMBER),
    Role.MODERATOR: frozenset(_MEMBER | {
        Permission.MODERATE, Permission.VIEW_CUSTOMERS, Permission.EDIT_CUSTOMERS,
        Permission.MANAGE_SEGMENTS, Permission.VIEW_ANALYTICS,
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

STAFF_ROLES = frozenset({Role.MODERATOR, Role.SALES, Role.SALES_MANAGER, Role.ADMIN})


def can(user, permission):
    """Whether `user` (possibly anonymous) holds `permission`."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return permission in ROLE_PERMISSIONS[Role(user.role)]


def scope(user, record):
    """How far `user` sees records of kind `record`: NONE, OWN, TEAM or ALL."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope.NONE
    return ROLE_SCOPES[Role(user.role)].get(record, Scope.NONE)


def ensure(user, permission):
    """Raise Unauthorized or Forbidden unless `user` holds `permission`."""
    if not getattr(user, "is_authenticated", False):
        raise Unauthorized()
    if not can(user, permission):
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
