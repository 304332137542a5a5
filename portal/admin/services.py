"""Operator actions on accounts: create, roles, teams, suspension. All audited."""
import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.security import generate_password_hash

from ..audit import AuditEntry, audit
from ..auth.models import Team, User, UserStatus
from ..auth.services import check_new_account
from ..errors import Conflict, Invalid, NotFound
from ..events import Verb, record_activity
from ..extensions import db
from ..moderation import sanctions
from ..payloads import UserRoleChanged
from ..permissions import Permission, Role, ensure
from ..sqltypes import utcnow


def get_manageable_user(user_id):
    """An account an admin may manage: any but deleted ones, else NotFound."""
    return _user(user_id)


def audit_entries_for(user, limit=20):
    return db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.target_type == "user", AuditEntry.target_id == user.id)
        .options(sa.orm.selectinload(AuditEntry.actor))
        .order_by(AuditEntry.occurred_at.desc()).limit(limit)
    ).all()


def _user(user_id):
    user = db.session.get(User, user_id)
    if user is None or user.status == UserStatus.DELETED:
        raise NotFound()
    return user


def _parse_role(role):
    try:
        return Role(role)
    except ValueError:
        raise Invalid(fields={"role": _l("Choose one of the roles.")}) from None


def create_user(actor, *, email, password, name, role=Role.MEMBER):
    """Create an account with any role. `actor` None is the operator at the CLI."""
    if actor is not None:
        ensure(actor, Permission.MANAGE_USERS)
    email, name = check_new_account(email=email, password=password, name=name)
    role = _parse_role(role)
    user = User(email=email, name=name, role=role, password_hash=generate_password_hash(password))
    db.session.add(user)
    db.session.flush()
    audit(actor, "user.created", user, role=role.value)
    db.session.commit()
    return user


def _other_active_admins(user):
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(User)
        .where(User.role == Role.ADMIN, User.status == UserStatus.ACTIVE, User.id != user.id)
    )


def _guard_last_admin(user):
    if user.role == Role.ADMIN and _other_active_admins(user) == 0:
        raise Conflict("last_admin", _("The community needs at least one active admin."))


def change_role(actor, user_id, role):
    ensure(actor, Permission.MANAGE_USERS)
    user = _user(user_id)
    role = _parse_role(role)
    if role == user.role:
        return user
    _guard_last_admin(user)
    audit(actor, "user.role_changed", user, old=user.role.value, new=role.value)
    record_activity(Verb.USER_ROLE_CHANGED, actor=actor, obj=user, customer_id=user.customer_id,
                    payload=UserRoleChanged(from_role=user.role.value, to_role=role.value))
    user.role = role
    if role not in (Role.SALES, Role.SALES_MANAGER):
        user.team_id = None
    db.session.commit()
    return user


def set_team(actor, user_id, team_id):
    ensure(actor, Permission.MANAGE_USERS)
    user = _user(user_id)
    team = None
    if team_id:
        team = db.session.get(Team, team_id)
        if team is None:
            raise Invalid(fields={"team": _l("Choose an existing team.")})
        if user.role not in (Role.SALES, Role.SALES_MANAGER):
            raise Invalid("not_sales", fields={"team": _l("Only sales reps and managers belong to a sales team.")})
    if user.team_id != (team.id if team else None):
        audit(actor, "user.team_changed", user, old=user.team_id, new=team.id if team else None)
        user.team_id = team.id if team else None
        db.session.commit()
    return user


def suspend(actor, user_id, reason="", until=None):
    """Suspend an account (for good without `until`) through moderation's one suspension
    (portal/moderation/sanctions.py): sessions and tokens stop at once, the member is told why. The user."""
    ensure(actor, Permission.MANAGE_USERS)
    sanctions.suspend(actor, _user(user_id).id, reason, until)
    return _user(user_id)


def reactivate(actor, user_id):
    """Make a suspended account active again, lifting its suspension; audited. Committed."""
    ensure(actor, Permission.MANAGE_USERS)
    user = _user(user_id)
    if sanctions.reactivate_account(actor, user, utcnow()):
        audit(actor, "user.reactivated", user)
        db.session.commit()
    return user


def create_team(actor, name):
    ensure(actor, Permission.MANAGE_USERS)
    name = (name or "").strip()
    if not 2 <= len(name) <= 80:
        raise Invalid(fields={"name": _l("Enter a team name of 2 to 80 characters.")})
    if db.session.scalar(sa.select(Team).where(Team.name == name)):
        raise Invalid("team_taken", fields={"name": _l("A team with this name exists.")})
    team = Team(name=name)
    db.session.add(team)
    db.session.flush()
    audit(actor, "team.created", team)
    db.session.commit()
    return team


def search_users(query_text="", role=None, status=None):
    """A select() of accounts for the admin list, filtered; deleted accounts left out."""
    query = sa.select(User).where(User.status != UserStatus.DELETED).order_by(User.created_at.desc(), User.id.desc())
    if query_text:
        like = f"%{query_text.strip().lower()}%"
        query = query.where(sa.or_(sa.func.lower(User.email).like(like), sa.func.lower(User.name).like(like)))
    if role:
        query = query.where(User.role == _parse_role(role))
    if status in (UserStatus.ACTIVE, UserStatus.SUSPENDED):
        query = query.where(User.status == status)
    return query
