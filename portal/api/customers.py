"""Customer records over the API (staff): the company's CRM pushes records and touchpoints, pulls the 360.

Every write runs through the same services as the staff pages
(`crm.records.save_customer`, `crm.touchpoints`), so it is checked, audited,
recorded on the spine and, for a stage move, goes through the lifecycle door
(a first purchase converts a referred friend's referral in the same
transaction). Sales reps see only the customers in their scope; anyone else
gets 404, as if the record did not exist.
"""
from datetime import date, datetime
from decimal import Decimal

from flask import jsonify, request
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field

from ..auth.models import User
from ..crm import records, timeline, touchpoints
from ..crm.lifecycle import CAUSE_MAX
from ..extensions import db
from ..pagination import CountedPage
from ..permissions import Permission, require
from . import bp
from .community import PAGE_QUERY, PageArgs, PageOut
from .spec import documented, dump, parse


class ProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product: str = Field(max_length=120)
    purchased_on: date
    quantity: int = Field(default=1, ge=1, le=999999)


class CustomerIn(BaseModel):
    """Fields of a customer record; on PATCH only those given change. Owners by email or user id."""
    model_config = ConfigDict(extra="forbid")
    external_id: str | None = Field(default=None, description="The id in the company's CRM: POST upserts by it.")
    name: str | None = None
    company: str | None = None
    email: str | None = None
    domains: list[str] | None = None
    phone: str | None = None
    region: str | None = None
    industry: str | None = None
    size: str | None = Field(default=None, description="1, 2-10, 11-50, 51-200, 201-1000 or 1000+.")
    source: str | None = None
    sales_owner: str | int | None = None
    relationship_owner: str | int | None = None
    value_tier: str | None = None
    lifecycle_stage: str | None = Field(default=None, description="Moves through the lifecycle door with `cause`.")
    lost_to: str | None = Field(default=None, max_length=120,
                                description="The competitor a churned customer left for; empty clears it.")
    revenue: Decimal | None = None
    first_purchase_at: date | None = None
    last_purchase_at: date | None = None
    renewal_date: date | None = None
    contact_channels: list[str] | None = None
    opt_outs: list[str] | None = None
    preferred_language: str | None = None
    tags: list[str] | None = None
    products: list[ProductIn] | None = None
    email_bounced: bool | None = Field(default=None, description="Mail to `email` bounced (true) or reaches them.")
    cause: str | None = Field(default=None, max_length=CAUSE_MAX,
                              description="Why, as the timeline and audit log will show it, "
                                          "e.g. 'First purchase (order 4711)'.")

    def raw(self):
        return self.model_dump(exclude_unset=True, exclude={"cause"})


class PersonOut(BaseModel):
    id: int
    name: str
    email: str | None = None


class ProductOut(BaseModel):
    product: str
    purchased_on: date
    quantity: int


class CustomerOut(BaseModel):
    id: int
    external_id: str | None
    name: str
    company: str | None
    email: str | None
    domains: list[str]
    phone: str | None
    region: str | None
    industry: str | None
    size: str | None
    source: str
    sales_owner: PersonOut | None
    relationship_owner: PersonOut | None
    value_tier: str
    lifecycle_stage: str
    lost_to: str | None = Field(description="The competitor a churned customer left for, if known.")
    revenue: str
    first_purchase_at: date | None
    last_purchase_at: date | None
    renewal_date: date | None
    contact_channels: list[str]
    opt_outs: list[str]
    preferred_language: str | None
    tags: list[str]
    products: list[ProductOut]
    email_bounced: bool
    last_touch_at: datetime | None
    last_verified_at: datetime | None
    created_at: datetime
    updated_at: datetime


class CustomerDetailOut(CustomerOut):
    members: list[PersonOut]


class CustomerPageOut(PageOut):
    items: list[CustomerOut]


class TimelineItemOut(BaseModel):
    id: int
    kind: str
    verb: str
    occurred_at: datetime
    channel: str
    actor: PersonOut | None
    member: PersonOut | None = Field(description="The customer's member this happened to, when someone else acted.")
    topic: dict | None = Field(description="{id, title} of the topic it concerns.")
    note: str | None = Field(default=None, description="A staff note's text.")
    visitors: list[PersonOut] = Field(default_factory=list, description="Members who visited that day.")
    payload: dict = Field(description="The activity's payload, as portal/payloads.py declares it.")


class TimelineOut(BaseModel):
    items: list[TimelineItemOut]
    next_cursor: str | None = Field(description="Pass as `before` for the next (older) page; null at the end.")


class TouchpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: str = Field(description="call, email, meeting, ticket, event or visit.")
    summary: str
    occurred_at: datetime | None = Field(default=None, description="When; now if left out. Never in the future.")
    contact: str = ""
    staff_id: int | None = Field(default=None, description="Which staff member had it (default: the caller).")
    follow_up_on: date | None = None
    external_ref: str | None = Field(default=None, description="Your system's id: sending it twice records once.")


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str


class NoteOut(BaseModel):
    id: int
    body: str
    author: PersonOut
    created_at: datetime


def _person(user):
    return {"id": user.id, "name": user.name, "email": user.email} if user is not None else None


def customer_out(customer):
    values = records.snapshot(customer)
    values.update(
        id=customer.id, sales_owner=_person(customer.owner_rep),
        relationship_owner=_person(customer.relationship_owner),
        products=[{"product": p.product, "purchased_on": p.purchased_on, "quantity": p.quantity}
                  for p in customer.products],
        last_touch_at=customer.last_touch_at, last_verified_at=customer.last_verified_at,
        created_at=customer.created_at, updated_at=customer.updated_at)
    return values


def _detail(customer):
    return dump(CustomerDetailOut, {**customer_out(customer),
                                    "members": [_person(user) for user in customer.users]})


CUSTOMER_QUERY = {**PAGE_QUERY, "q": "string", "value_tier": "string", "lifecycle_stage": "string",
                  "region": "string", "industry": "string", "size": "string", "sales_owner": "integer",
                  "relationship_owner": "integer", "has_members": "string", "untouched_days": "integer",
                  "unverified_days": "integer", "sort": "string"}


@bp.get("/customers")
@require(Permission.VIEW_CUSTOMERS)
@documented("Customers in the caller's scope, filtered and sorted like the staff list", response=CustomerPageOut,
            tag="customers", query=CUSTOMER_QUERY, errors=(401, 403, 422))
def list_customers():
    filters = records.CustomerFilters.from_args(request.args)
    paging = parse(PageArgs, {key: request.args[key] for key in ("page", "per_page") if key in request.args})
    page = CountedPage(records.customer_query(current_user, filters), page=paging.page,
                       per_page=paging.per_page or 50)
    return jsonify({"items": [dump(CustomerOut, customer_out(c)) for c in page.items], "page": page.page,
                    "per_page": page.per_page, "total": page.total})


@bp.get("/customers/<int:customer_id>")
@require(Permission.VIEW_CUSTOMERS)
@documented("One customer record with its members", response=CustomerDetailOut, tag="customers",
            errors=(401, 403, 404))
def get_customer(customer_id):
    return jsonify(_detail(records.get_customer(current_user, customer_id)))


@bp.post("/customers")
@require(Permission.EDIT_CUSTOMERS)
@documented("Create a customer, or update the one with this external_id (else email): 201 created, 200 updated",
            body=CustomerIn, response=CustomerDetailOut, status=201, tag="customers",
            errors=(401, 403, 409, 415, 422))
def upsert_customer():
    data = parse(CustomerIn)
    customer, created = records.upsert_customer(current_user, data.raw(), cause=data.cause or "")
    return jsonify(_detail(customer)), 201 if created else 200


@bp.patch("/customers/<int:customer_id>")
@require(Permission.EDIT_CUSTOMERS)
@documented("Change a customer's fields (a lifecycle_stage with its cause; a first purchase converts referrals)",
            body=CustomerIn, response=CustomerDetailOut, tag="customers", errors=(401, 403, 404, 409, 415, 422))
def change_customer(customer_id):
    data = parse(CustomerIn)
    customer = records.update_customer(current_user, customer_id, data.raw(), cause=data.cause or "")
    return jsonify(_detail(customer))


@bp.get("/customers/<int:customer_id>/timeline")
@require(Permission.VIEW_CUSTOMERS)
@documented("The customer's 360 timeline, newest first; page older with `before` = the previous next_cursor",
            response=TimelineOut, tag="customers", errors=(401, 403, 404, 422),
            query={"kind": "string", "member": "integer", "before": "string", "limit": "integer"})
def customer_timeline(customer_id):
    _customer, page = timeline.customer_timeline(
        current_user, customer_id, kinds=request.args.getlist("kind"), member_id=request.args.get("member", type=int),
        before=request.args.get("before"), limit=request.args.get("limit", type=int) or 50)
    return jsonify({"items": [timeline_item_out(entry) for entry in page.entries], "next_cursor": page.next_cursor})


def timeline_item_out(entry):
    activity = entry.activity
    return dump(TimelineItemOut, {
        "id": activity.id, "kind": entry.kind, "verb": activity.verb, "occurred_at": activity.occurred_at,
        "channel": activity.channel, "actor": _person(entry.actor), "member": _person(entry.subject or entry.member),
        "topic": {"id": entry.topic.id, "title": entry.topic.title} if entry.topic else None,
        "note": entry.note.body if entry.note else None, "visitors": [_person(user) for user in entry.visitors],
        "payload": activity.payload or {}})


@bp.post("/customers/<int:customer_id>/touchpoints")
@require(Permission.VIEW_CUSTOMERS)
@documented("Record a call, email, meeting, ticket, event or visit: 201, or 200 for an external_ref already sent",
            body=TouchpointIn, response=TimelineItemOut, status=201, tag="customers",
            errors=(401, 403, 404, 415, 422))
def add_touchpoint(customer_id):
    data = parse(TouchpointIn)
    activity, created = touchpoints.record_touchpoint(current_user, customer_id, **data.model_dump())
    entry = timeline.Entry(activity=activity, kind="touchpoints", received=False, actor=activity_actor(activity))
    return jsonify(timeline_item_out(entry)), 201 if created else 200


def activity_actor(activity):
    return db.session.get(User, activity.actor_id) if activity.actor_id else None


@bp.post("/customers/<int:customer_id>/notes")
@require(Permission.VIEW_CUSTOMERS)
@documented("Add a staff note to a customer", body=NoteIn, response=NoteOut, status=201, tag="customers",
            errors=(401, 403, 404, 415, 422))
def add_note(customer_id):
    note = touchpoints.add_note(current_user, customer_id, parse(NoteIn).body)
    return jsonify(dump(NoteOut, {"id": note.id, "body": note.body, "author": _person(note.author),
                                  "created_at": note.created_at})), 201
