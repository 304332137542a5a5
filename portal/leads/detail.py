"""The lead page's read model: the lead with why it is one (each signal, its points now and then, the post or
activity behind it), whom it is about, the customer at a glance, the referral chain, the customer's earlier
leads and how they ended, every rep's notes, and what this viewer may do with it.

Built in a fixed number of statements, however many signals, notes, members or earlier leads there are.
"""
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..auth.models import User
from ..crm.models import Customer
from ..crm.records import visible_customers
from ..events import Activity
from ..extensions import db
from ..permissions import Permission, can
from ..referrals.models import Referral, ReferralStatus
from ..sqltypes import utcnow
from .listing import is_overdue
from .models import HELD_STATUSES, Lead, LeadNote, LeadSignal, LeadStatus
from .pipeline import NEXT, assignable_reps, get_lead, may_work

# How far up a referral chain the page follows (who invited the member, who invited them…).
CHAIN_DEPTH = 4
EXCERPT_CHARS = 240


@dataclass
class Reason:
    """One signal as the page shows it."""
    signal: LeadSignal
    points_now: float
    activity: Activity | None = None
    post_excerpt: str | None = None

    @property
    def post_gone(self):
        """The signal came from a post that was deleted since."""
        post = self.signal.post
        return self.signal.post_id is None and self.signal.topic_id is not None or (
            post is not None and post.deleted_at is not None)


@dataclass
class Member:
    user: User
    signalled: bool
    # [referrer, their referrer, …], nearest first.
    invited_by: list = field(default_factory=list)


@dataclass
class Actions:
    """What the viewer may do with the lead right now; the page shows only these forms."""
    claim: bool = False
    work: bool = False
    next_steps: tuple = ()
    close: bool = False
    assign: bool = False
    reps: list = field(default_factory=list)


@dataclass
class LeadDetail:
    lead: Lead
    now: datetime
    reasons: list
    members: list
    earlier: list
    visible_earlier: set
    notes: list
    may_read_360: bool
    actions: Actions

    @property
    def overdue(self):
        return is_overdue(self.lead, self.now)

    @property
    def customer(self):
        return self.lead.customer

    @property
    def title(self):
        """Whose lead it is: the customer's name, else the member's."""
        if self.lead.customer is not None:
            return self.lead.customer.name
        return self.lead.member.name if self.lead.member is not None else None


def lead_detail(viewer, lead_id, *, now=None):
    """The lead page of `lead_id` as `viewer` sees it; NotFound for a lead out of their scope."""
    now = now or utcnow()
    lead = get_lead(viewer, lead_id, options=(
        selectinload(Lead.customer).selectinload(Customer.users),
        selectinload(Lead.customer).selectinload(Customer.products),
        selectinload(Lead.member), selectinload(Lead.owner),
        selectinload(Lead.signals).selectinload(LeadSignal.post),
        selectinload(Lead.signals).selectinload(LeadSignal.topic),
        selectinload(Lead.signals).selectinload(LeadSignal.flagged_by),
        selectinload(Lead.notes).selectinload(LeadNote.author)))
    reasons = _reasons(lead, now)
    members = _members(lead)
    earlier = db.session.scalars(sa.select(Lead).where(Lead.subject == lead.subject, Lead.id != lead.id)
                                 .options(selectinload(Lead.owner))
                                 .order_by(Lead.created_at.desc(), Lead.id.desc())).all()
    visible = set(db.session.scalars(visible_ids(viewer, [e.id for e in earlier]))) if earlier else set()
    return LeadDetail(lead=lead, now=now, reasons=reasons, members=members, earlier=earlier,
                      visible_earlier=visible, notes=list(lead.notes),
                      may_read_360=_may_read_360(viewer, lead), actions=_actions(viewer, lead))


def visible_ids(viewer, ids):
    """select(Lead.id) of those of `ids` the viewer may open."""
    from .pipeline import visible_leads

    return visible_leads(viewer).with_only_columns(Lead.id).where(Lead.id.in_(ids))


def _reasons(lead, now):
    signals = sorted(lead.signals, key=lambda s: (s.points_at(now), s.occurred_at), reverse=True)
    activity_ids = {s.activity_id for s in signals if s.activity_id and s.post_id is None}
    activities = {a.id: a for a in db.session.scalars(sa.select(Activity).where(Activity.id.in_(activity_ids)))} \
        if activity_ids else {}
    reasons = []
    for signal in signals:
        post = signal.post
        text = _excerpt(post.source) if post is not None and post.deleted_at is None else None
        reasons.append(Reason(signal, signal.points_at(now), activities.get(signal.activity_id), text))
    return reasons


def _excerpt(source):
    """The start of a post's markdown as one line of plain words."""
    text = " ".join(source.replace("#", " ").replace("*", " ").replace("`", " ").split())
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS].rstrip() + "…"


def _members(lead):
    """The people the lead is about (the customer's, or the one member), each with who brought them in."""
    people = list(lead.customer.users) if lead.customer is not None else [lead.member] if lead.member else []
    signalled = {s.member_id for s in lead.signals if s.member_id}
    chains = referral_chains([user.id for user in people])
    ordered = sorted(people, key=lambda user: (user.id not in signalled, user.name))
    return [Member(user, user.id in signalled, chains.get(user.id, [])) for user in ordered]


def referral_chains(member_ids, *, depth=CHAIN_DEPTH):
    """{member id: [who invited them, who invited that one, …]} in two statements (a recursive query)."""
    if not member_ids:
        return {}
    step = (sa.select(Referral.invitee_id.label("start"), Referral.referrer_id.label("referrer"),
                      sa.literal(1).label("depth"))
            .where(Referral.invitee_id.in_(member_ids), Referral.status != ReferralStatus.REJECTED)
            .cte("chain", recursive=True))
    up = sa.orm.aliased(Referral)
    step = step.union_all(sa.select(step.c.start, up.referrer_id, step.c.depth + 1)
                          .join(up, up.invitee_id == step.c.referrer)
                          .where(step.c.depth < depth, up.status != ReferralStatus.REJECTED))
    rows = db.session.execute(sa.select(step.c.start, step.c.referrer, step.c.depth)
                              .order_by(step.c.start, step.c.depth)).all()
    people = {user.id: user for user in db.session.scalars(
        sa.select(User).where(User.id.in_({row.referrer for row in rows})))} if rows else {}
    chains = {}
    for start, referrer, _depth in rows:
        if referrer in people and people[referrer] not in chains.get(start, []):
            chains.setdefault(start, []).append(people[referrer])
    return chains


def _may_read_360(viewer, lead):
    if lead.customer_id is None or not can(viewer, Permission.VIEW_CUSTOMERS):
        return False
    query = visible_customers(viewer).with_only_columns(Customer.id).where(Customer.id == lead.customer_id)
    return db.session.scalar(query) is not None


def _actions(viewer, lead):
    actions = Actions()
    if lead.status == LeadStatus.POOL:
        actions.claim = can(viewer, Permission.WORK_LEADS)
    if lead.status in HELD_STATUSES and may_work(viewer, lead):
        actions.work, actions.close = True, True
        actions.next_steps = tuple(s for s in NEXT[lead.status] if s in (LeadStatus.CONTACTED, LeadStatus.QUALIFIED))
    if lead.is_open and can(viewer, Permission.ASSIGN_LEADS):
        actions.assign = True
        actions.reps = [rep for rep in assignable_reps(viewer) if rep.id != lead.owner_id]
    return actions
