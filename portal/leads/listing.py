"""Lists of leads: the pool, a rep's own, a manager's team, the API's filtered list and its CSV.

One query builder (`lead_query`) serves them all, over the leads the viewer
may see (pipeline.visible_leads); what a page shows of each lead (customer,
member, owner, signals) is loaded with it in a fixed number of statements.
"""
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ..auth.models import User
from ..crm.models import Customer, LifecycleStage, ValueTier
from ..errors import Invalid
from ..extensions import db
from ..sqltypes import utcnow
from ..text import folded
from .models import OPEN_STATUSES, Lead, LeadKind, LeadStatus
from .pipeline import visible_leads

SORTS = {
    "-score": (Lead.score.desc(), Lead.created_at, Lead.id),
    "-created": (Lead.created_at.desc(), Lead.id.desc()),
    "due": (Lead.due_at.asc().nulls_last(), Lead.id),
    "-updated": (Lead.updated_at.desc(), Lead.id.desc()),
    "updated": (Lead.updated_at.asc(), Lead.id.asc()),
}
SEARCH_MAX = 100


@dataclass
class LeadFilters:
    """What a list of leads is narrowed and ordered by; every field optional.

    `owner` is a user id, "me" (the viewer) or "none" (the pool); `value_tier` and
    `lifecycle_stage` are the customer's (a member's lead without a record matches neither).
    """
    status: list = field(default_factory=list)
    kind: list = field(default_factory=list)
    value_tier: list = field(default_factory=list)
    lifecycle_stage: list = field(default_factory=list)
    owner: str = ""
    updated_since: datetime | None = None
    q: str = ""
    sort: str = "-score"

    @classmethod
    def from_args(cls, args):
        """From query-string arguments (a MultiDict or dict); Invalid names every bad one."""
        def values(name):
            raw = args.getlist(name) if hasattr(args, "getlist") else args.get(name) or []
            raw = [raw] if isinstance(raw, str) else raw
            return [part.strip() for value in raw for part in str(value).split(",") if part.strip()]

        errors = {}
        statuses = values("status")
        if "open" in statuses:
            statuses = [s for s in statuses if s != "open"] + [str(s) for s in OPEN_STATUSES]
        if any(s not in set(LeadStatus) for s in statuses):
            errors["status"] = _l("Choose from pool, claimed, contacted, qualified, won, lost or open.")
        kinds = values("kind")
        if any(k not in set(LeadKind) for k in kinds):
            errors["kind"] = _l("Choose from upsell, upgrade, repurchase, referral, win_back or new_business.")
        tiers = values("value_tier")
        if any(t not in set(ValueTier) for t in tiers):
            errors["value_tier"] = _l("Choose from key, valued or standard.")
        stages = values("lifecycle_stage")
        if any(s not in set(LifecycleStage) for s in stages):
            errors["lifecycle_stage"] = _l("Choose a lifecycle stage from the list.")
        owner = str(args.get("owner") or "").strip()
        if owner and owner not in ("me", "none") and not owner.isdigit():
            errors["owner"] = _l("Give a user id, me or none.")
        since = _moment(args.get("updated_since"), errors)
        sort = str(args.get("sort") or "-score")
        if sort not in SORTS:
            errors["sort"] = _l("Sort by one of: %(sorts)s.", sorts=", ".join(SORTS))
        q = " ".join(str(args.get("q") or "").split())
        if len(q) > SEARCH_MAX:
            errors["q"] = _l("Search for at most %(n)d characters.", n=SEARCH_MAX)
        if errors:
            raise Invalid("invalid_filters", fields=errors)
        return cls(status=list(dict.fromkeys(statuses)), kind=list(dict.fromkeys(kinds)),
                   value_tier=list(dict.fromkeys(tiers)), lifecycle_stage=list(dict.fromkeys(stages)), owner=owner,
                   updated_since=since, q=q, sort=sort)

    def as_args(self):
        """The query-string arguments that give these filters back (for pager and export links)."""
        args = {name: getattr(self, name) for name in ("status", "kind", "value_tier", "lifecycle_stage")
                if getattr(self, name)}
        args.update({name: getattr(self, name) for name in ("owner", "q") if getattr(self, name)})
        if self.updated_since is not None:
            args["updated_since"] = self.updated_since.isoformat()
        if self.sort != "-score":
            args["sort"] = self.sort
        return args


def _moment(raw, errors):
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(str(raw).strip().replace("Z", "+00:00"))
    except ValueError:
        errors["updated_since"] = _l("Give a date and time as ISO 8601, e.g. 2026-12-01T08:00:00Z.")
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def lead_query(user, filters):
    """select(Lead) of the leads `user` may see, narrowed and ordered by `filters`, with what a list shows."""
    query = visible_leads(user).options(
        selectinload(Lead.customer).load_only(Customer.id, Customer.name, Customer.company, Customer.value_tier,
                                              Customer.lifecycle_stage),
        selectinload(Lead.member).load_only(User.id, User.name, User.username),
        selectinload(Lead.owner).load_only(User.id, User.name),
        selectinload(Lead.signals))
    if filters.status:
        query = query.where(Lead.status.in_(filters.status))
    if filters.kind:
        query = query.where(Lead.kind.in_(filters.kind))
    if filters.value_tier or filters.lifecycle_stage:
        customers = sa.select(Customer.id)
        if filters.value_tier:
            customers = customers.where(Customer.value_tier.in_(filters.value_tier))
        if filters.lifecycle_stage:
            customers = customers.where(Customer.lifecycle_stage.in_(filters.lifecycle_stage))
        query = query.where(Lead.customer_id.in_(customers))
    if filters.owner == "me":
        query = query.where(Lead.owner_id == (user.id if user is not None else None))
    elif filters.owner == "none":
        query = query.where(Lead.owner_id.is_(None))
    elif filters.owner:
        query = query.where(Lead.owner_id == int(filters.owner))
    if filters.updated_since is not None:
        query = query.where(Lead.updated_at >= filters.updated_since)
    if filters.q:
        needle = f"%{folded(filters.q)}%"
        names = sa.select(Customer.id).where(Customer.search_text.like(needle))
        members = sa.select(User.id).where(sa.func.lower(User.name).like(needle))
        query = query.where(sa.or_(Lead.customer_id.in_(names), Lead.member_id.in_(members)))
    return query.order_by(*SORTS[filters.sort])


def stage_counts(user, *, owner_id=None):
    """{status: how many} of the open leads `owner_id` holds (every visible held lead when None)."""
    query = visible_leads(user).with_only_columns(Lead.status, sa.func.count()).where(Lead.owner_id.is_not(None))
    if owner_id is not None:
        query = query.where(Lead.owner_id == owner_id)
    counts = dict(db.session.execute(query.group_by(Lead.status)).all())
    return {status: counts.get(status, 0) for status in LeadStatus if status != LeadStatus.POOL}


def team_board(user):
    """[(rep, {status: count}, overdue)] for each rep the viewer manages, in one grouped query."""
    from .pipeline import assignable_reps

    reps = assignable_reps(user)
    now = utcnow()
    overdue = sa.func.sum(sa.case((sa.and_(Lead.status == LeadStatus.CLAIMED, Lead.due_at < now), 1), else_=0))
    rows = db.session.execute(sa.select(Lead.owner_id, Lead.status, sa.func.count(), overdue)
                              .where(Lead.owner_id.in_([rep.id for rep in reps]))
                              .group_by(Lead.owner_id, Lead.status)).all()
    counts, late = {}, {}
    for owner_id, status, count, overdue_count in rows:
        counts.setdefault(owner_id, {})[status] = count
        late[owner_id] = late.get(owner_id, 0) + (overdue_count or 0)
    return [(rep, {s: counts.get(rep.id, {}).get(s, 0) for s in LeadStatus if s != LeadStatus.POOL},
             late.get(rep.id, 0)) for rep in reps]


def is_overdue(lead, now):
    """Claimed and not yet contacted by the kind's due date."""
    return lead.status == LeadStatus.CLAIMED and lead.due_at is not None and lead.due_at < now


def top_reasons(lead, now, limit=3):
    """The lead's strongest signals as of `now`, strongest first."""
    return sorted(lead.signals, key=lambda signal: signal.points_at(now), reverse=True)[:limit]


EXPORT_COLUMNS = ("id", "status", "kind", "source", "score", "customer_id", "customer", "company", "member",
                  "owner", "created_at", "claimed_at", "due_at", "updated_at", "closed_at", "value", "products",
                  "lost_reason", "reasons")


def export_csv(query, *, now=None):
    """CSV text, piece by piece, of the leads `query` selects (the sales pages' and the API's export)."""
    from ..crm.csvio import csv_text

    now = now or utcnow()
    return csv_text(EXPORT_COLUMNS, (_export_row(lead, now) for lead in db.session.scalars(query)))


def _iso(moment):
    return moment.isoformat() if moment else ""


def _export_row(lead, now):
    customer = lead.customer
    reasons = "; ".join(f"{signal.kind} ({round(signal.points_at(now))})" for signal in top_reasons(lead, now))
    return [lead.id, lead.status, lead.kind, lead.source, lead.score, lead.customer_id,
            customer.name if customer else "", (customer.company or "") if customer else "",
            lead.member.name if lead.member else "", lead.owner.name if lead.owner else "", _iso(lead.created_at),
            _iso(lead.claimed_at), _iso(lead.due_at), _iso(lead.updated_at), _iso(lead.closed_at),
            lead.value if lead.value is not None else "", "; ".join(lead.products or []), lead.lost_reason, reasons]
