"""Decisions on a member: warn, silence (read only for a while), suspend (for a while or for good), lift.

Each is one transaction: the `MemberSanction` row (the reason the member is
shown, kept as their record), what it puts in force on the user row
(`silenced_until`; `status` with `suspended_until`, the one suspension there
is, also used by the admin pages), its activity, its audit entry and the
member's notification. Given a review queue item, the item is decided in the
same transaction by the same conditional UPDATE as approve/hide, so two
moderators can't both decide it.

Who may act on whom: moderators on members only; admins on anyone but
themselves; nobody on themselves. Silences and timed suspensions end by the
clock: `can()` reads `silenced_until`, sign-in and `User.is_active` read
`suspended_until`; nothing needs a job to lift them.
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..audit import audit
from ..auth.models import User, UserStatus
from ..auth.sessions import end_sessions
from ..auth.tokens import revoke_tokens_of
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..events import Verb, record_activity
from ..extensions import db
from ..payloads import MemberSilenced, MemberWarned, SanctionLifted, UserSuspended, WarningAcknowledged
from ..permissions import Permission, Role, ensure
from ..sqltypes import utcnow
from .models import MemberSanction, SanctionKind

REASON_MAX = 1000


class Suspended(Forbidden):
    """A suspended account trying to sign in: 403 `suspended`, with the reason and the end (None: for good)."""

    def __init__(self, reason, ends_at):
        if not reason:
            message = _("This account is suspended. Contact the community team.")
        elif ends_at is None:
            message = _("This account is suspended. It does not reopen by itself. Reason: %(reason)s",
                        reason=reason)
        else:
            message = _("This account is suspended until %(until)s. Reason: %(reason)s",
                        until=format_datetime(ends_at, "medium"), reason=reason)
        super().__init__("suspended", message)
        self.reason, self.ends_at = reason, ends_at

    def to_dict(self):
        body = super().to_dict()
        body["error"].update(reason=self.reason, ends_at=self.ends_at.isoformat() if self.ends_at else None)
        return body


# -- acting ------------------------------------------------------------------------------------------------

def warn(moderator, member_id, reason, *, item_id=None, now=None):
    """A private warning the member must acknowledge; shown on every page until they do. Committed."""
    now = now or utcnow()
    member, reason, _until = _checked(moderator, member_id, reason, None, now, needs_end=False)
    item = _decide_item(moderator, item_id, member, "warn", reason, now)
    sanction = _add(SanctionKind.WARNING, moderator, member, reason, None, item, now)
    record_activity(Verb.MEMBER_WARNED, actor=moderator, obj=member, customer_id=member.customer_id,
                    occurred_at=now, payload=MemberWarned(member_id=member.id, sanction_id=sanction.id,
                                                          reason=reason, item_id=sanction.review_item_id))
    audit(moderator, "member.warned", member, now=now, **_details(sanction))
    db.session.commit()
    return sanction


def silence(moderator, member_id, reason, until, *, item_id=None, now=None):
    """Make the member read only until `until` (in the future): no posting, replying, voting, flagging or
    messaging, through can(); it ends by itself. Committed."""
    now = now or utcnow()
    member, reason, until = _checked(moderator, member_id, reason, until, now, needs_end=True)
    if member.silenced_at(now):
        raise Conflict("already_silenced", _l("This member is already silenced. Lift that silence first."))
    item = _decide_item(moderator, item_id, member, "silence", reason, now)
    sanction = _add(SanctionKind.SILENCE, moderator, member, reason, until, item, now)
    member.silenced_until = until
    record_activity(Verb.MEMBER_SILENCED, actor=moderator, obj=member, customer_id=member.customer_id,
                    occurred_at=now, payload=MemberSilenced(member_id=member.id, sanction_id=sanction.id,
                                                            reason=reason, until=until,
                                                            item_id=sanction.review_item_id))
    audit(moderator, "member.silenced", member, now=now, **_details(sanction))
    db.session.commit()
    return sanction


def suspend(moderator, member_id, reason, until=None, *, item_id=None, now=None):
    """Suspend the account until `until` (in the future), or for good without it: its sessions and tokens
    stop at once, sign-in is refused with the reason and the end, and USER_SUSPENDED is recorded (a rep's
    leads go back to the pool). The one suspension: the admin pages use it too. Committed."""
    now = now or utcnow()
    member, reason, until = _checked(moderator, member_id, reason, until, now, needs_end=False)
    if member.status == UserStatus.SUSPENDED and not member.suspension_over(now):
        raise Conflict("already_suspended", _l("This account is already suspended. Lift that suspension first."))
    _guard_last_admin(member)
    item = _decide_item(moderator, item_id, member, "suspend", reason, now)
    end_lapsed_suspension(member, now)
    sanction = _add(SanctionKind.SUSPENSION, moderator, member, reason, until, item, now)
    member.status, member.suspended_until = UserStatus.SUSPENDED, until
    end_sessions(member)
    revoke_tokens_of(member)  # for good: the end of the suspension does not bring them back
    record_activity(Verb.USER_SUSPENDED, actor=moderator, obj=member, customer_id=member.customer_id,
                    occurred_at=now, payload=UserSuspended(reason=reason, member_id=member.id,
                                                           sanction_id=sanction.id, until=until))
    audit(moderator, "user.suspended", member, now=now, **_details(sanction))
    db.session.commit()
    return sanction


def lift(moderator, sanction_id, *, now=None):
    """End a warning, silence or suspension early (the record stays, stamped lifted). Committed;
    Conflict when it no longer binds."""
    now = now or utcnow()
    ensure(moderator, Permission.MODERATE)
    sanction = db.session.get(MemberSanction, sanction_id)
    if sanction is None:
        raise NotFound("sanction_not_found", _l("That warning, silence or suspension does not exist."))
    member = sanction.member
    _check_target(moderator, member)
    if not sanction.in_force(now):
        raise Conflict("not_in_force", _l("This has already ended."))
    sanction.lifted_at, sanction.lifted_by_id = now, moderator.id
    if sanction.kind == SanctionKind.SILENCE:
        member.silenced_until = None
    elif sanction.kind == SanctionKind.SUSPENSION:
        member.status, member.suspended_until = UserStatus.ACTIVE, None
    record_activity(Verb.SANCTION_LIFTED, actor=moderator, obj=member, customer_id=member.customer_id,
                    occurred_at=now, payload=SanctionLifted(member_id=member.id, sanction_id=sanction.id,
                                                            kind=sanction.kind.value))
    audit(moderator, "sanction.lifted", member, now=now, sanction_id=sanction.id, kind=sanction.kind.value)
    db.session.commit()
    return sanction


def reactivate_account(actor, member, now):
    """The admin page's "reactivate": the account is active again and its suspensions are lifted. Not
    committed; False when it was not suspended."""
    if member.status != UserStatus.SUSPENDED:
        return False
    db.session.execute(sa.update(MemberSanction).where(
        MemberSanction.member_id == member.id, MemberSanction.kind == SanctionKind.SUSPENSION,
        MemberSanction.lifted_at.is_(None)).values(lifted_at=now, lifted_by_id=actor.id)
        .execution_options(synchronize_session=False))
    member.status, member.suspended_until = UserStatus.ACTIVE, None
    return True


def acknowledge(member, warning_id, *, now=None):
    """The member says they read a warning: it stops showing on every page. Committed; NotFound for
    anyone else's warning."""
    now = now or utcnow()
    warning = db.session.get(MemberSanction, warning_id)
    if warning is None or warning.member_id != member.id or warning.kind != SanctionKind.WARNING:
        raise NotFound()
    if warning.acknowledged_at is None:
        warning.acknowledged_at = now
        record_activity(Verb.WARNING_ACKNOWLEDGED, actor=member, obj=member, occurred_at=now,
                        payload=WarningAcknowledged(sanction_id=warning.id))
        db.session.commit()
    return warning


# -- what is in force ------------------------------------------------------------------------------------

def end_lapsed_suspension(user, now=None):
    """Make an account whose timed suspension is over active again (sign-in does this, lazily). Not
    committed; whether it changed anything."""
    now = now or utcnow()
    if not user.suspension_over(now):
        return False
    user.status, user.suspended_until = UserStatus.ACTIVE, None
    return True


def current_suspension(user):
    """The suspension in force for `user` (the newest), or None."""
    return db.session.scalar(_in_force(user, SanctionKind.SUSPENSION).limit(1))


def current_silence(user, now=None):
    if not user.silenced_at(now or utcnow()):
        return None
    return db.session.scalar(_in_force(user, SanctionKind.SILENCE).limit(1))


def suspended_error(user):
    """The Suspended error for a suspended account: the reason and end of its suspension."""
    sanction = current_suspension(user)
    return Suspended(sanction.reason if sanction else "", user.suspended_until)


def silenced_error(user):
    """The Forbidden a silenced member hears when they try to write: until when and why."""
    sanction = current_silence(user)
    reason = sanction.reason if sanction else ""
    return Forbidden("silenced", _("You are silenced until %(until)s, so you can read but not post, reply, vote "
                                   "or flag. Reason: %(reason)s",
                                   until=format_datetime(user.silenced_until, "medium"), reason=reason))


def unacknowledged_warning_id(user):
    """The oldest warning `user` has not acknowledged, or None: one indexed query, for every page."""
    return db.session.scalar(
        sa.select(MemberSanction.id).where(MemberSanction.member_id == user.id,
                                           MemberSanction.kind == SanctionKind.WARNING,
                                           MemberSanction.acknowledged_at.is_(None),
                                           MemberSanction.lifted_at.is_(None))
        .order_by(MemberSanction.id).limit(1))


def sanctions_of(viewer, member_id):
    """Every sanction of a member, newest first: for the member themself or community staff; NotFound else."""
    if viewer.id != member_id:
        ensure(viewer, Permission.MODERATE)
    return db.session.scalars(
        sa.select(MemberSanction).where(MemberSanction.member_id == member_id)
        .options(sa.orm.joinedload(MemberSanction.by))
        .order_by(MemberSanction.created_at.desc(), MemberSanction.id.desc())).all()


def sanctions_of_members(viewer, member_ids):
    """{member id: their sanctions, newest first} for community staff (the review queue): one query."""
    ensure(viewer, Permission.MODERATE)
    found = {}
    if not member_ids:
        return found
    for sanction in db.session.scalars(
            sa.select(MemberSanction).where(MemberSanction.member_id.in_(list(member_ids)))
            .order_by(MemberSanction.created_at.desc(), MemberSanction.id.desc())):
        found.setdefault(sanction.member_id, []).append(sanction)
    return found


def parse_until(value, tz=UTC):
    """A form's or the API's end time as an aware datetime (a naive one is read in `tz`); None for empty."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise Invalid("invalid_until", fields={"until": _l("Give the end as a date and time.")}) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


# -- the rules ---------------------------------------------------------------------------------------------

def _checked(moderator, member_id, reason, until, now, *, needs_end):
    """(member, reason, until) once every rule holds; nothing is written before."""
    ensure(moderator, Permission.MODERATE)
    member = db.session.get(User, member_id)
    if member is None or member.status == UserStatus.DELETED:
        raise NotFound("member_not_found", _l("That member does not exist."))
    _check_target(moderator, member)
    errors = {}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = _l("Give a reason: the member will see it.")
    elif len(reason) > REASON_MAX:
        errors["reason"] = _l("Keep the reason to %(n)d characters.", n=REASON_MAX)
    try:
        until = parse_until(until)
    except Invalid as error:
        errors.update(error.fields)
        until = None
    if "until" not in errors:
        if until is None and needs_end:
            errors["until"] = _l("Give the end of the silence.")
        elif until is not None and until <= now:
            errors["until"] = _l("The end must be in the future.")
    if errors:
        raise Invalid("invalid_sanction", fields=errors)
    return member, reason, until


def _check_target(moderator, member):
    if member.id == moderator.id:
        raise Conflict("self_sanction", _l("You can't warn, silence or suspend your own account."))
    if moderator.role == Role.ADMIN:
        return
    if member.role == Role.ADMIN:
        raise Forbidden("target_is_admin", _l("Only an admin can warn, silence or suspend an admin."))
    if member.role != Role.MEMBER:
        raise Forbidden("target_is_staff", _l("Moderators act on members only; ask an admin about staff accounts."))


def _guard_last_admin(member):
    if member.role != Role.ADMIN:
        return
    others = db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
        User.role == Role.ADMIN, User.status == UserStatus.ACTIVE, User.id != member.id))
    if others == 0:
        raise Conflict("last_admin", _l("The community needs at least one active admin."))


def _decide_item(moderator, item_id, member, decision, reason, now):
    """Decide the queue item the sanction comes from (its post hidden), in this transaction; None without one."""
    if item_id is None:
        return None
    from .decisions import hide_for_sanction  # decisions calls back into this module

    return hide_for_sanction(moderator, item_id, member.id, decision, now)


def _add(kind, moderator, member, reason, until, item, now):
    sanction = MemberSanction(kind=kind, member_id=member.id, by_id=moderator.id, reason=reason, created_at=now,
                              ends_at=until, review_item_id=item.id if item is not None else None)
    db.session.add(sanction)
    db.session.flush()
    return sanction


def _details(sanction):
    """The audit entry's details: the reason, and the end and queue item when there are."""
    details = {"reason": sanction.reason}
    if sanction.ends_at is not None:
        details["ends_at"] = sanction.ends_at.isoformat()
    if sanction.review_item_id is not None:
        details["item_id"] = sanction.review_item_id
    return details


def _in_force(user, kind):
    return (sa.select(MemberSanction).where(MemberSanction.member_id == user.id, MemberSanction.kind == kind,
                                            MemberSanction.lifted_at.is_(None))
            .order_by(MemberSanction.created_at.desc(), MemberSanction.id.desc()))
