"""Working a lead: claiming it from the pool, moving it through the pipeline, notes, handing it back,
a manager's assignment, and the leads that go back to the pool on their own.

pool → claimed → contacted → qualified → won | lost. A claim is one
conditional UPDATE (only a lead still in the pool can be claimed), so of two
reps who claim at once exactly one wins. Every other change locks the lead's
row first and checks its state again, so two changes at once apply one after
the other or not at all. Each is one transaction with its activity (which
webhooks and the CRM hear) and its audit entry.
"""
from datetime import timedelta
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..audit import audit
from ..auth.models import User, UserStatus
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..events import Verb, record_activity
from ..extensions import db
from ..idempotency import one_at_a_time
from ..payloads import LeadAssigned, LeadClaimed, LeadNoteAdded, LeadReturned, LeadStatusChanged
from ..permissions import Permission, Record, Role, Scope, can, ensure, scope
from ..sqltypes import utcnow
from .models import CLOSED_STATUSES, HELD_STATUSES, Lead, LeadNote, LeadStatus
from .rules import lead_rules

NOTE_MAX = 5000
LOST_REASON_MAX = 500
PRODUCT_MAX, PRODUCTS_MAX = 120, 20
VALUE_MAX = Decimal("999999999999.99")
# Where a held lead may go next: forward only, and won or lost from any held stage.
NEXT = {
    LeadStatus.CLAIMED: (LeadStatus.CONTACTED, LeadStatus.QUALIFIED, LeadStatus.WON, LeadStatus.LOST),
    LeadStatus.CONTACTED: (LeadStatus.QUALIFIED, LeadStatus.WON, LeadStatus.LOST),
    LeadStatus.QUALIFIED: (LeadStatus.WON, LeadStatus.LOST),
}
RETURN_REASONS = {
    "handed_back": _l("Handed back by the rep"),
    "no_follow_up": _l("No follow-up in time"),
    "owner_left": _l("The rep left or was suspended"),
}


# -- whose leads a user sees ----------------------------------------------------------------------

def visible_leads(user):
    """select(Lead) narrowed to what `user` may see: the pool, and the leads of their scope.

    A rep sees their own, a manager their team's, an admin every one. `user`
    None is the CLI, which sees all.
    """
    query = sa.select(Lead)
    if user is None:
        return query
    ensure(user, Permission.WORK_LEADS)
    reach = scope(user, Record.LEAD)
    if reach is Scope.ALL:
        return query
    in_pool = Lead.status == LeadStatus.POOL
    if reach is Scope.TEAM and user.team_id is not None:
        team = sa.select(User.id).where(User.team_id == user.team_id)
        return query.where(sa.or_(in_pool, Lead.owner_id == user.id, Lead.owner_id.in_(team)))
    return query.where(sa.or_(in_pool, Lead.owner_id == user.id))


def get_lead(user, lead_id, *, for_update=False, options=()):
    """A lead `user` may see; NotFound otherwise (a lead out of their scope too).

    `options` (loader options) load what a page shows with it.
    """
    query = visible_leads(user).where(Lead.id == lead_id) if isinstance(lead_id, int) else None
    if query is not None and for_update:
        query = query.with_for_update()
    if query is not None and options:
        query = query.options(*options)
    lead = db.session.scalar(query) if query is not None else None
    if lead is None:
        raise NotFound("lead_not_found", _l("That lead does not exist."))
    return lead


def may_work(user, lead):
    """Whether `user` may move, note or hand back `lead`: its owner, or a manager or admin over it."""
    if lead.owner_id == user.id:
        return True
    return can(user, Permission.ASSIGN_LEADS) and lead.owner_id is not None


def _ensure_may_work(user, lead):
    if not may_work(user, lead):
        raise Forbidden("not_your_lead", _l("Only the rep who holds this lead (or their manager) can do that."))


# -- claiming and assigning -----------------------------------------------------------------------

def claim(actor, lead_id, *, now=None):
    """Take a lead from the pool; committed. Conflict when someone else got there first or it is closed."""
    now = now or utcnow()
    ensure(actor, Permission.WORK_LEADS)
    # Any lead by id, not only the visible ones: a rep who saw it in the pool a moment ago hears who took it.
    lead = db.session.get(Lead, lead_id) if isinstance(lead_id, int) else None
    if lead is None:
        raise NotFound("lead_not_found", _l("That lead does not exist."))
    due = now + timedelta(days=lead_rules().sla(lead.kind))
    claimed = db.session.execute(
        sa.update(Lead).where(Lead.id == lead.id, Lead.status == LeadStatus.POOL)
        .values(status=LeadStatus.CLAIMED, owner_id=actor.id, claimed_at=now, due_at=due, last_touch_at=now,
                updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        db.session.rollback()
        raise _not_claimable(db.session.get(Lead, lead.id), actor)
    db.session.refresh(lead)
    record_activity(Verb.LEAD_CLAIMED, actor=actor, obj=lead, customer_id=lead.customer_id, occurred_at=now,
                    payload=LeadClaimed(lead_id=lead.id, kind=lead.kind, score=lead.score, member_id=lead.member_id,
                                        owner_id=actor.id, due_at=due))
    audit(actor, "lead.claimed", lead, now=now)
    db.session.commit()
    return lead


def _not_claimable(lead, actor):
    if lead.status in CLOSED_STATUSES:
        return Conflict("lead_closed", _l("This lead is already closed."))
    if lead.owner_id == actor.id:
        return Conflict("lead_already_yours", _l("You already hold this lead."))
    return Conflict("lead_taken", _l("%(name)s claimed this lead first.", name=lead.owner.name if lead.owner else "?"))


def assign(actor, lead_id, owner_id, *, now=None):
    """A manager gives an open lead (from the pool or another rep) to a rep of their team; committed."""
    now = now or utcnow()
    ensure(actor, Permission.ASSIGN_LEADS)
    lead = get_lead(actor, lead_id, for_update=True)
    if not lead.is_open:
        raise Conflict("lead_closed", _l("This lead is already closed."))
    rep = _assignable_rep(actor, owner_id)
    if lead.owner_id == rep.id:
        return lead
    previous = lead.owner_id
    due = now + timedelta(days=lead_rules().sla(lead.kind))
    if lead.status == LeadStatus.POOL:
        lead.status = LeadStatus.CLAIMED
    lead.owner_id, lead.claimed_at, lead.due_at, lead.last_touch_at, lead.updated_at = rep.id, now, due, now, now
    record_activity(Verb.LEAD_ASSIGNED, actor=actor, obj=lead, customer_id=lead.customer_id, occurred_at=now,
                    payload=LeadAssigned(lead_id=lead.id, kind=lead.kind, score=lead.score, member_id=lead.member_id,
                                         owner_id=rep.id, previous_owner_id=previous, due_at=due))
    audit(actor, "lead.assigned", lead, now=now, before={"owner_id": previous}, after={"owner_id": rep.id})
    db.session.commit()
    return lead


def assignable_reps(actor):
    """The reps `actor` may give leads to: their team (and themselves), or every rep for an admin."""
    query = (sa.select(User).where(User.status == UserStatus.ACTIVE, User.role.in_([Role.SALES, Role.SALES_MANAGER]))
             .order_by(User.name, User.id))
    if scope(actor, Record.LEAD) is not Scope.ALL:
        query = query.where(sa.or_(User.id == actor.id, sa.and_(User.team_id.is_not(None),
                                                                User.team_id == actor.team_id)))
    return db.session.scalars(query).all()


def _assignable_rep(actor, owner_id):
    rep = next((user for user in assignable_reps(actor) if user.id == owner_id), None)
    if rep is None:
        raise Invalid("invalid_owner", fields={"owner_id": _l("Choose a rep of your team.")})
    return rep


# -- moving through the pipeline ------------------------------------------------------------------

def change_status(actor, lead_id, status, *, note="", value=None, products=None, lost_reason="", now=None):
    """Move a held lead on (contacted, qualified, won with value and products, lost with a reason); committed.

    Only forward moves (NEXT); Invalid or Conflict changes nothing.
    """
    now = now or utcnow()
    status = _checked_status(status)
    lead = get_lead(actor, lead_id, for_update=True)
    if lead.status == LeadStatus.POOL:
        raise Conflict("lead_not_claimed", _l("Claim this lead before working it."))
    _ensure_may_work(actor, lead)
    if status not in NEXT.get(lead.status, ()):
        raise Conflict("bad_transition", _l("A lead that is %(now)s can't be marked %(next)s.",
                                            now=lead.status.label, next=status.label))
    errors = {}
    clean = {"note": _checked_note(note, errors, required=False)}
    if status == LeadStatus.WON:
        clean["value"] = _checked_value(value, errors)
        clean["products"] = _checked_products(products, errors)
    if status == LeadStatus.LOST:
        clean["lost_reason"] = " ".join(str(lost_reason or "").split())[:LOST_REASON_MAX]
        if not clean["lost_reason"]:
            errors["lost_reason"] = _l("Say why the lead was lost.")
    if errors:
        raise Invalid("invalid_lead_change", fields=errors)
    before = lead.status
    lead.status, lead.updated_at, lead.last_touch_at = status, now, now
    if status in CLOSED_STATUSES:
        lead.closed_at, lead.due_at = now, None
    if status == LeadStatus.WON:
        lead.value, lead.products = clean["value"], clean["products"]
    if status == LeadStatus.LOST:
        lead.lost_reason = clean["lost_reason"]
    if clean["note"]:
        db.session.add(LeadNote(lead=lead, author_id=actor.id, body=clean["note"], status=str(status), created_at=now))
    record_activity(Verb.LEAD_STATUS_CHANGED, actor=actor, obj=lead, customer_id=lead.customer_id, occurred_at=now,
                    payload=LeadStatusChanged(lead_id=lead.id, kind=lead.kind, score=lead.score,
                                              member_id=lead.member_id, from_status=before, to_status=status,
                                              value=lead.value if status == LeadStatus.WON else None,
                                              products=lead.products if status == LeadStatus.WON else [],
                                              lost_reason=lead.lost_reason, source=lead.source))
    audit(actor, "lead.status_changed", lead, now=now, before={"status": str(before)}, after={"status": str(status)})
    db.session.commit()
    return lead


def _checked_status(status):
    try:
        return LeadStatus(status)
    except ValueError:
        raise Invalid("invalid_status", fields={"status": _l("Choose contacted, qualified, won or lost.")}) from None


def _checked_note(note, errors, *, required):
    # None is a field that wasn't sent: no note, which only a required note refuses.
    note = "" if note is None else note.strip() if isinstance(note, str) else None
    if note is None or (required and not note):
        errors["note"] = _l("Write a note.")
        return ""
    if len(note) > NOTE_MAX:
        errors["note"] = _l("Keep the note under %(n)d characters.", n=NOTE_MAX)
    return note


def _checked_value(value, errors):
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
        errors["value"] = _l("Give the value the sale brought.")
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or amount > VALUE_MAX:
        errors["value"] = _l("Give the value as a number of zero or more.")
        return None
    return amount.quantize(Decimal("0.01"))


def _checked_products(products, errors):
    if products is None or products == "":
        return []
    if isinstance(products, str):
        products = products.replace("；", ";").replace("\n", ";").split(";")
    if not isinstance(products, list) or not all(isinstance(p, str) for p in products):
        errors["products"] = _l("Give the products as a list of names.")
        return []
    clean = [" ".join(p.split()) for p in products if p.strip()]
    if len(clean) > PRODUCTS_MAX or any(len(p) > PRODUCT_MAX for p in clean):
        errors["products"] = _l("Give at most %(n)d products of up to 120 characters each.", n=PRODUCTS_MAX)
        return []
    return clean


def add_note(actor, lead_id, body, *, now=None):
    """A note on a lead by the rep working it (or their manager); committed. The owner's note is a follow-up."""
    now = now or utcnow()
    errors = {}
    body = _checked_note(body, errors, required=True)
    if errors:
        raise Invalid("invalid_note", fields=errors)
    lead = get_lead(actor, lead_id, for_update=True)
    _ensure_may_work(actor, lead)
    note = LeadNote(lead=lead, author_id=actor.id, body=body, created_at=now)
    db.session.add(note)
    lead.updated_at = now
    if lead.owner_id == actor.id and lead.is_open:
        lead.last_touch_at = now
    db.session.flush()
    record_activity(Verb.LEAD_NOTE_ADDED, actor=actor, obj=lead, customer_id=lead.customer_id, occurred_at=now,
                    payload=LeadNoteAdded(lead_id=lead.id, kind=lead.kind, score=lead.score, member_id=lead.member_id,
                                          note_id=note.id))
    audit(actor, "lead.note_added", lead, now=now, note_id=note.id)
    db.session.commit()
    return note


# -- back to the pool -----------------------------------------------------------------------------

def hand_back(actor, lead_id, *, note="", now=None):
    """The rep gives the lead back to the pool (their notes stay with it); committed."""
    now = now or utcnow()
    errors = {}
    note = _checked_note(note, errors, required=False)
    if errors:
        raise Invalid("invalid_note", fields=errors)
    lead = get_lead(actor, lead_id, for_update=True)
    if lead.status not in HELD_STATUSES:
        raise Conflict("lead_not_held", _l("Only a lead someone holds can go back to the pool."))
    _ensure_may_work(actor, lead)
    if note:
        db.session.add(LeadNote(lead=lead, author_id=actor.id, body=note, status=str(LeadStatus.POOL), created_at=now))
    _return_to_pool(lead, "handed_back", actor=actor, now=now)
    db.session.commit()
    return lead


def _return_to_pool(lead, reason, *, actor=None, now):
    previous = lead.owner_id
    lead.status, lead.owner_id = LeadStatus.POOL, None
    lead.claimed_at = lead.due_at = lead.last_touch_at = None
    lead.times_returned += 1
    lead.updated_at = now
    record_activity(Verb.LEAD_RETURNED, actor=actor, obj=lead, customer_id=lead.customer_id, occurred_at=now,
                    payload=LeadReturned(lead_id=lead.id, kind=lead.kind, score=lead.score, member_id=lead.member_id,
                                         previous_owner_id=previous, reason=reason))
    audit(actor, "lead.returned", lead, now=now, before={"owner_id": previous}, after={"owner_id": None},
          reason=reason)


def return_leads_of(user_id, *, reason, now=None):
    """Every open lead `user_id` holds goes back to the pool with its notes; in the caller's transaction."""
    now = now or utcnow()
    leads = db.session.scalars(sa.select(Lead).where(Lead.owner_id == user_id, Lead.status.in_(HELD_STATUSES))
                               .with_for_update()).all()
    for lead in leads:
        _return_to_pool(lead, reason, now=now)
    return len(leads)


def sweep(*, now=None):
    """Return every held lead with no follow-up for the admin's number of days to the pool; committed.

    Returns how many went back. Runs by `flask leads sweep` and daily in
    the running app; two sweeps at once wait for each other.
    """
    now = now or utcnow()
    one_at_a_time("leads.sweep")
    cutoff = now - timedelta(days=lead_rules().follow_up_days)
    neglected = db.session.scalars(sa.select(Lead).where(
        Lead.status.in_(HELD_STATUSES), Lead.last_touch_at < cutoff).order_by(Lead.id).with_for_update()).all()
    for lead in neglected:
        _return_to_pool(lead, "no_follow_up", now=now)
    db.session.commit()
    return len(neglected)
