"""Customer records: finding them (in the viewer's scope), creating, editing, upserting and verifying them.

Every write goes through `save_customer`, whatever the door (staff form,
API, CSV import): the fields are checked by crm.fields, the change is
audited with before and after, recorded as one activity, and a stage move
takes the lifecycle door.
"""
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import defer, selectinload

from ..audit import audit
from ..auth.models import User
from ..errors import Conflict, Invalid, NotFound
from ..events import Verb, record_activities, record_activity
from ..extensions import cache, db
from ..idempotency import one_at_a_time
from ..payloads import CustomerCreated, CustomerUpdated, CustomerVerified
from ..permissions import Permission, Record, Scope, can, ensure, scope, scoped
from ..sqltypes import UTCDateTime, utcnow
from ..text import folded
from .fields import clean_fields
from .lifecycle import move_stage
from .lifecycle_rules import PURCHASE_FIELDS, apply_purchase_rules
from .linking import link_members_of
from .models import Customer, CustomerDomain, CustomerProduct, CustomerSource, LifecycleStage, ValueTier

SORTS = {
    "name": (Customer.name, Customer.id),
    "-revenue": (Customer.revenue.desc(), Customer.id),
    "-last_touch": (Customer.last_touch_at.desc().nulls_last(), Customer.id),
    "last_touch": (Customer.last_touch_at.asc().nulls_first(), Customer.id),
    "renewal": (Customer.renewal_date.asc().nulls_last(), Customer.id),
    "-updated": (Customer.updated_at.desc(), Customer.id.desc()),
    "-created": (Customer.created_at.desc(), Customer.id.desc()),
}
SEARCH_MAX = 100
NEVER = sa.literal(datetime(1970, 1, 1, tzinfo=UTC), UTCDateTime())
STALE_AFTER_DAYS = 365
DAYS_MAX = 3650

# The plain columns save_customer copies from checked fields (the rest need more than a copy).
PLAIN_FIELDS = ("name", "company", "email", "phone", "region", "industry", "size", "source", "external_id",
                "value_tier", "revenue", "first_purchase_at", "last_purchase_at", "renewal_date",
                "contact_channels", "opt_outs", "preferred_language", "tags", "lost_to")


# -- reading ----------------------------------------------------------------------------------------

def visible_customers(user):
    """select(Customer) narrowed to the records `user` may see: all, their team's owners', or their own (and, for
    sales, those they hold an open lead for).

    `user` None is the CLI, which sees every record.
    """
    if user is None:
        return sa.select(Customer)
    reach = scope(user, Record.CUSTOMER)
    if reach is Scope.ALL:
        return sa.select(Customer)
    owners_team = sa.select(User.team_id).where(User.id == Customer.owner_rep_id).scalar_subquery()
    owned = scoped(sa.select(Customer.id), user, Record.CUSTOMER, owner_column=Customer.owner_rep_id,
                   team_column=owners_team)
    if reach is Scope.NONE:
        return sa.select(Customer).where(Customer.id.in_(owned))
    # Sales also read the customers they hold an open lead for (the lead page links to the 360).
    return sa.select(Customer).where(sa.or_(Customer.id.in_(owned), Customer.id.in_(_held_by(user))))


def _held_by(user):
    from ..leads.models import HELD_STATUSES, Lead

    return sa.select(Lead.customer_id).where(Lead.owner_id == user.id, Lead.status.in_(HELD_STATUSES),
                                             Lead.customer_id.is_not(None))


def get_customer(user, customer_id):
    """A customer `user` may see (`user` None: the CLI sees all); NotFound otherwise, records out of scope too."""
    if user is not None:
        ensure(user, Permission.VIEW_CUSTOMERS)
    query = sa.select(Customer) if user is None else visible_customers(user)
    customer = db.session.scalar(query.where(Customer.id == customer_id)) if isinstance(customer_id, int) else None
    if customer is None:
        raise NotFound("customer_not_found", _l("That customer does not exist."))
    return customer


@dataclass
class CustomerFilters:
    """What the customer list is narrowed and ordered by; every field optional."""
    q: str = ""
    value_tier: str = ""
    lifecycle_stage: str = ""
    region: str = ""
    industry: str = ""
    size: str = ""
    sales_owner: int | None = None
    relationship_owner: int | None = None
    has_members: str = ""            # "yes", "no" or ""
    untouched_days: int | None = None
    unverified_days: int | None = None
    sort: str = "name"

    @classmethod
    def from_args(cls, args):
        """From query-string arguments; Invalid naming the argument that makes no sense."""
        errors = {}

        def number(name, upper):
            value = (args.get(name) or "").strip()
            if not value:
                return None
            if not value.isdigit() or not 0 <= int(value) <= upper:
                errors[name] = _l("Give a whole number from 0 to %(n)d.", n=upper)
                return None
            return int(value)

        filters = cls(
            q=(args.get("q") or "").strip()[:SEARCH_MAX],
            value_tier=args.get("value_tier") or "", lifecycle_stage=args.get("lifecycle_stage") or "",
            region=(args.get("region") or "").strip(), industry=(args.get("industry") or "").strip(),
            size=args.get("size") or "",
            sales_owner=number("sales_owner", 2**31 - 1), relationship_owner=number("relationship_owner", 2**31 - 1),
            has_members=args.get("has_members") or "",
            untouched_days=number("untouched_days", DAYS_MAX), unverified_days=number("unverified_days", DAYS_MAX),
            sort=args.get("sort") or "name",
        )
        _check_choice(errors, "value_tier", filters.value_tier, ValueTier)
        _check_choice(errors, "lifecycle_stage", filters.lifecycle_stage, LifecycleStage)
        if filters.has_members not in ("", "yes", "no"):
            errors["has_members"] = _l("Choose yes or no.")
        if filters.sort not in SORTS:
            errors["sort"] = _l("Choose a sort: %(sorts)s.", sorts=", ".join(SORTS))
        if errors:
            raise Invalid(fields=errors)
        return filters

    def as_args(self):
        """The filters as query-string arguments (for paging links and the CSV export)."""
        return {key: value for key, value in vars(self).items() if value not in ("", None) and
                not (key == "sort" and value == "name")}


def _check_choice(errors, name, value, enum_class):
    if value and value not in {member.value for member in enum_class}:
        errors[name] = _l("Choose one of: %(choices)s.", choices=", ".join(member.value for member in enum_class))


def customer_query(user, filters, *, now=None):
    """select(Customer) for the list: in `user`'s scope, filtered and sorted; owners and domains load with it."""
    now = now or utcnow()
    query = visible_customers(user).options(selectinload(Customer.owner_rep), selectinload(Customer.relationship_owner),
                                            selectinload(Customer.domains), defer(Customer.search_text))
    if filters.q:
        for word in folded(filters.q).split():
            query = query.where(Customer.search_text.contains(word, autoescape=True))
    exact = ((Customer.value_tier, filters.value_tier), (Customer.lifecycle_stage, filters.lifecycle_stage),
             (Customer.size, filters.size))
    for column, value in exact:
        if value:
            query = query.where(column == value)
    for column, value in ((Customer.region, filters.region), (Customer.industry, filters.industry)):
        if value:
            query = query.where(sa.func.lower(column) == value.lower())
    if filters.sales_owner is not None:
        query = query.where(Customer.owner_rep_id == filters.sales_owner)
    if filters.relationship_owner is not None:
        query = query.where(Customer.relationship_owner_id == filters.relationship_owner)
    if filters.has_members:
        has = sa.exists().where(User.customer_id == Customer.id)
        query = query.where(has if filters.has_members == "yes" else ~has)
    # "Older than N days, or never" as one comparison: an OR over the date's index is a plan SQLite picks
    # even when nearly every row matches, instead of the far narrower tier or stage index.
    if filters.untouched_days is not None:
        cutoff = now - timedelta(days=filters.untouched_days)
        query = query.where(sa.func.coalesce(Customer.last_touch_at, NEVER) < cutoff)
    if filters.unverified_days is not None:
        cutoff = now - timedelta(days=filters.unverified_days)
        query = query.where(sa.func.coalesce(Customer.last_verified_at, NEVER) < cutoff)
    return query.order_by(*SORTS[filters.sort])


@cache.memoize(timeout=300)
def filter_choices():
    """The regions and industries in use, for the list's filter menus (a new one shows within 5 minutes)."""
    def distinct(column):
        return db.session.scalars(sa.select(column).where(column.is_not(None)).distinct().order_by(column)).all()
    return {"regions": distinct(Customer.region), "industries": distinct(Customer.industry)}


def search_text_of(customer, domains):
    """What the staff search box matches, folded (see text.folded) so 報價 finds 报价 and MÜLLER finds müller."""
    parts = [customer.name, customer.company, customer.email, customer.external_id, customer.phone, *domains]
    if customer.phone:
        parts.append("".join(ch for ch in customer.phone if ch.isdigit()))
    return folded(" ".join(part for part in parts if part))


# -- writing ----------------------------------------------------------------------------------------

def create_customer(actor, raw, *, source=CustomerSource.STAFF, now=None):
    """A new customer record from typed fields; committed. Invalid or Conflict write nothing."""
    customer = save_customer(actor, None, raw, source=source, now=now)
    db.session.commit()
    return customer


def update_customer(actor, customer_id, raw, *, cause="", now=None):
    """Change the fields present in `raw`; committed. Changing nothing records nothing."""
    customer = get_customer(actor, customer_id)
    save_customer(actor, customer, raw, cause=cause, now=now)
    db.session.commit()
    return customer


def upsert_customer(actor, raw, *, source=CustomerSource.API, cause="", now=None):
    """(customer, created): update the record with this external_id (else this email), or create one; committed.

    Parallel upserts of one record wait for each other, so the CRM sending a
    new record twice at once makes one record (201, then 200).
    """
    one_at_a_time(f"customer-upsert:{upsert_key(raw)}")
    existing = find_existing(raw)
    customer = save_customer(actor, existing, raw, source=source, cause=cause, now=now)
    db.session.commit()
    return customer, existing is None


def upsert_key(raw):
    """What identifies the record `raw` is about: "external_id:…", else "email:…", else ""."""
    external_id = " ".join(str(raw.get("external_id") or "").split())
    if external_id:
        return f"external_id:{external_id}"
    email = str(raw.get("email") or "").strip().lower()
    return f"email:{email}" if email else ""


def find_existing(raw):
    """The record `raw` is about: the one with its external_id, else (without one) the one with its email."""
    external_id = " ".join(str(raw.get("external_id") or "").split())
    if external_id:
        return db.session.scalar(sa.select(Customer).where(Customer.external_id == external_id))
    email = str(raw.get("email") or "").strip().lower()
    if email:
        return db.session.scalar(sa.select(Customer).where(sa.func.lower(Customer.email) == email)
                                 .order_by(Customer.id).limit(1))
    return None


def save_customer(actor, customer, raw, *, source=None, cause="", now=None, editor=None):
    """Create (`customer` None) or change a record inside the caller's transaction; the customer.

    Checks every field first (Invalid lists them all; an external_id held by
    another record is Conflict), then writes (write_customers). `actor` None
    is the CLI or an import; `editor` names a member correcting their own
    company's details (crm.freshness), whose fields the caller has narrowed.
    """
    plan = check_customer(actor, customer, raw, source=source, now=now)
    return write_customers(actor or editor, [plan], cause=cause, now=now)[0].customer


@dataclass
class Plan:
    """A checked change to one record, not yet written: what check_customer() hands write_customers()."""
    customer: Customer | None      # None: a new record
    clean: dict
    source: CustomerSource | None = None


@dataclass
class Saved:
    customer: Customer
    created: bool
    changes: dict                  # {field: [before, after]} as the API shows them


def check_customer(actor, customer, raw, *, source=None, now=None, taken_external_ids=None):
    """A Plan for creating (`customer` None) or changing a record; Invalid or Conflict, writing nothing.

    `taken_external_ids` ({external_id: customer id}, an import's lookup)
    spares the query that checks an external_id is free.
    """
    if actor is not None:
        ensure(actor, Permission.EDIT_CUSTOMERS)
    now = now or utcnow()
    clean = clean_fields(raw, creating=customer is None, today=now.date())
    _check_external_id_free(clean.get("external_id"), customer, taken_external_ids)
    return Plan(customer, clean, source)


def write_customers(actor, plans, *, cause="", now=None, waiting=None):
    """Write checked plans inside the caller's transaction, in one flush however many; [Saved].

    Each record gets one audit entry with before and after and one
    CUSTOMER_CREATED or CUSTOMER_UPDATED activity (a change that changes
    nothing records nothing); a stage move goes through the lifecycle door,
    and so do the moves new purchases call for (crm.lifecycle_rules) unless
    the writer gave a stage;
    members whose address now belongs to the record alone are linked
    (`waiting`, an import's linking.WaitingMembers, spares a query per record).
    """
    now = now or utcnow()
    written = []
    with db.session.no_autoflush:
        for plan in plans:
            written.append(_written(plan, now))
    db.session.flush()
    saved, entries, moves = [], [], []
    for plan, (customer, before, stage) in zip(plans, written, strict=True):
        creating = plan.customer is None
        after = snapshot(customer)
        changes = {key: [before.get(key), value] for key, value in after.items() if before.get(key) != value}
        if creating:
            audit(actor, "customer.created", customer, now=now, after=after)
            entries.append(dict(verb=Verb.CUSTOMER_CREATED, payload=CustomerCreated(source=str(customer.source)),
                                actor=actor, obj=customer, customer_id=customer.id, occurred_at=now))
        elif changes:
            customer.updated_at = now
            audit(actor, "customer.updated", customer, now=now, before={k: v[0] for k, v in changes.items()},
                  after={k: v[1] for k, v in changes.items()}, cause=cause)
            entries.append(dict(verb=Verb.CUSTOMER_UPDATED, payload=CustomerUpdated(changes=changes, cause=cause),
                                actor=actor, obj=customer, customer_id=customer.id, occurred_at=now))
        if stage is not None and not creating:
            moves.append((customer, stage))
        saved.append(Saved(customer, creating, changes))
    record_activities(entries)
    for customer, stage in moves:
        move_stage(actor, customer, stage, cause=cause or _default_cause(actor), now=now)
    for result, (customer, _before, stage) in zip(saved, written, strict=True):
        # A stage the writer gave wins over what the purchases would say.
        if stage is None and (result.created or PURCHASE_FIELDS & set(result.changes)):
            apply_purchase_rules(customer, now=now)
    for result in saved:
        if result.created or {"email", "domains"} & set(result.changes):
            link_members_of(result.customer, waiting)
    return saved


def _written(plan, now):
    """(customer, its snapshot before, the stage asked for) with the plan's values set, nothing flushed."""
    clean = dict(plan.clean)
    customer = plan.customer
    stage = clean.pop("lifecycle_stage", None)
    if customer is None:
        # Every relationship given, even empty: snapshot() then reads them without a lazy load per record.
        customer = Customer(source=clean.pop("source", None) or plan.source or CustomerSource.STAFF, created_at=now,
                            updated_at=now, lifecycle_stage=stage or LifecycleStage.PROSPECT, domains=[], products=[],
                            owner_rep=None, relationship_owner=None)
        db.session.add(customer)
        before = {}
    else:
        before = snapshot(customer)
    _apply(customer, clean)
    customer.search_text = search_text_of(customer, customer.domain_names)
    return customer, before, stage


def _default_cause(actor):
    return "Edited by staff" if actor is not None else "Import"


def _check_external_id_free(external_id, customer, taken=None):
    if not external_id:
        return
    if taken is not None:
        holder = taken.get(external_id)
    else:
        holder = db.session.scalar(sa.select(Customer.id).where(Customer.external_id == external_id))
    if holder is not None and (customer is None or holder != customer.id):
        message = _l("Another customer already has this external id.")
        raise Conflict("external_id_taken", message, fields={"external_id": message})


def _apply(customer, clean):
    for name in PLAIN_FIELDS:
        if name in clean:
            value = clean[name]
            if name in ("contact_channels", "opt_outs", "tags"):
                value = value or []
            elif name == "revenue":
                value = value if value is not None else 0
            setattr(customer, name, value)
    if "sales_owner" in clean:
        customer.owner_rep = clean["sales_owner"]
    if "relationship_owner" in clean:
        customer.relationship_owner = clean["relationship_owner"]
    if "domains" in clean:
        _replace_domains(customer, clean["domains"])
    if "email_bounced" in clean:  # the company's mail system reports a bounce; verifying clears it
        bounced = clean["email_bounced"]
        customer.email_bounced_at = (customer.email_bounced_at or utcnow()) if bounced else None
    if "products" in clean:
        customer.products = [CustomerProduct(product=name, purchased_on=on, quantity=quantity)
                             for name, on, quantity in clean["products"]]


def _replace_domains(customer, domains):
    keep = {d.domain: d for d in customer.domains}
    customer.domains = [keep.get(domain) or CustomerDomain(domain=domain) for domain in domains]


def snapshot(customer):
    """The record's fields as the API and the audit log show them (JSON values)."""
    return {
        "name": customer.name, "company": customer.company, "email": customer.email,
        "domains": customer.domain_names, "phone": customer.phone, "region": customer.region,
        "industry": customer.industry, "size": customer.size,
        "source": str(customer.source) if customer.source else None, "external_id": customer.external_id,
        "sales_owner": customer.owner_rep.email if customer.owner_rep else None,
        "relationship_owner": customer.relationship_owner.email if customer.relationship_owner else None,
        "value_tier": str(customer.value_tier) if customer.value_tier else None,
        "lifecycle_stage": str(customer.lifecycle_stage) if customer.lifecycle_stage else None,
        "revenue": f"{customer.revenue or 0:.2f}",
        "first_purchase_at": _iso(customer.first_purchase_at), "last_purchase_at": _iso(customer.last_purchase_at),
        "renewal_date": _iso(customer.renewal_date),
        "contact_channels": list(customer.contact_channels or []), "opt_outs": list(customer.opt_outs or []),
        "preferred_language": customer.preferred_language, "tags": list(customer.tags or []),
        "products": [f"{p.product} ({p.purchased_on.isoformat()})" + (f" x{p.quantity}" if p.quantity != 1 else "")
                     for p in customer.products],
        "email_bounced": customer.email_bounced_at is not None,
        "lost_to": customer.lost_to,
    }


def _iso(day):
    return day.isoformat() if day else None


def verify_customer(actor, customer_id, *, now=None):
    """Staff confirm the record is still true: stamps last verified at; committed."""
    ensure(actor, Permission.EDIT_CUSTOMERS)
    customer = get_customer(actor, customer_id)
    now = now or utcnow()
    customer.last_verified_at = now
    customer.email_bounced_at = None
    audit(actor, "customer.verified", customer, now=now)
    record_activity(Verb.CUSTOMER_VERIFIED, actor=actor, obj=customer, customer_id=customer.id, occurred_at=now,
                    payload=CustomerVerified(by_member=False))
    db.session.commit()
    return customer


def stale_customers(user, *, days, now=None, limit=200):
    """Records in `user`'s scope not verified for `days` days, or whose email bounced: the oldest first."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    query = visible_customers(user).where(sa.or_(Customer.last_verified_at.is_(None),
                                                 Customer.last_verified_at < cutoff,
                                                 Customer.email_bounced_at.is_not(None)))
    return db.session.scalars(query.options(selectinload(Customer.relationship_owner))
                              .order_by(Customer.email_bounced_at.desc().nulls_last(),
                                        Customer.last_verified_at.asc().nulls_first(), Customer.id)
                              .limit(limit)).all()


def may_edit(user):
    return can(user, Permission.EDIT_CUSTOMERS)
