"""Leads over the API, for sales tools and the company's CRM: the filtered list (and its CSV), one lead with
every reason and note, claiming, and working it (stage, note, value, lost reason, owner).

The same pipeline functions as the sales pages decide everything: a claim
someone else won is 409, a move the pipeline doesn't allow (won → contacted)
is 409, bad values are 422 naming the field, and a lead out of the caller's
scope is 404.
"""
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import Response, jsonify, request, stream_with_context
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field

from ..errors import Invalid
from ..leads import listing, pipeline
from ..leads.models import LeadStatus
from ..pagination import CountedPage
from ..permissions import Permission, require
from ..sqltypes import utcnow
from . import bp
from .community import PAGE_QUERY, PageArgs, PageOut
from .spec import documented, dump, parse

LEAD_QUERY = {**PAGE_QUERY, "status": "string", "kind": "string", "owner": "string", "updated_since": "string",
              "value_tier": "string", "lifecycle_stage": "string", "q": "string", "sort": "string"}


class PersonOut(BaseModel):
    id: int
    name: str


class LeadCustomerOut(BaseModel):
    id: int
    name: str
    company: str | None
    value_tier: str
    lifecycle_stage: str


class ReasonOut(BaseModel):
    id: int
    kind: str = Field(description="The signal: intent_words, higher_plan, referral_signup, came_back, "
                                  "prospect_engaged, replacement_due or staff_flag.")
    points: int = Field(description="What it was worth when it happened.")
    half_life_days: int
    points_now: float = Field(description="What is left of it after decay.")
    occurred_at: datetime
    member_id: int | None
    topic_id: int | None
    post_id: int | None
    activity_id: int | None
    detail: dict = Field(description="What was found: terms, the staff note, the product, the referrer.")


class NoteOut(BaseModel):
    id: int
    author: PersonOut
    body: str
    status: str | None = Field(description="The stage change the note came with, if any.")
    created_at: datetime


class LeadOut(BaseModel):
    id: int
    status: str = Field(description="pool, claimed, contacted, qualified, won or lost.")
    kind: str
    source: str = Field(description="The kind of the strongest signal, kept for the effectiveness figures.")
    score: int
    customer: LeadCustomerOut | None
    member: PersonOut | None = Field(description="The member, for a lead without a customer record.")
    owner: PersonOut | None
    claimed_at: datetime | None
    due_at: datetime | None
    overdue: bool
    last_touch_at: datetime | None
    value: Decimal | None
    products: list[str]
    lost_reason: str
    times_returned: int
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    reasons: list[ReasonOut] = Field(description="In a list: the three strongest; on GET /leads/{id}: all.")


class LeadDetailOut(LeadOut):
    notes: list[NoteOut]


class LeadPageOut(PageOut):
    items: list[LeadOut]


class LeadPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str | None = Field(default=None, description="contacted, qualified, won, lost; pool hands it back.")
    note: str | None = Field(default=None, max_length=pipeline.NOTE_MAX)
    value: Any = Field(default=None, description="What a won lead brought (a number of zero or more).")
    products: list[str] | None = Field(default=None, description="What a won lead bought.")
    lost_reason: str | None = Field(default=None, max_length=pipeline.LOST_REASON_MAX)
    owner_id: int | None = Field(default=None, description="Managers: give the lead to this rep of their team.")


def _person(user):
    return {"id": user.id, "name": user.name} if user is not None else None


def _reason(signal, now):
    return {"id": signal.id, "kind": str(signal.kind), "points": signal.points,
            "half_life_days": signal.half_life_days, "points_now": round(signal.points_at(now), 1),
            "occurred_at": signal.occurred_at, "member_id": signal.member_id, "topic_id": signal.topic_id,
            "post_id": signal.post_id, "activity_id": signal.activity_id, "detail": signal.detail or {}}


def lead_out(lead, now, *, all_reasons=False):
    customer = lead.customer
    signals = sorted(lead.signals, key=lambda s: s.points_at(now), reverse=True)
    return {
        "id": lead.id, "status": str(lead.status), "kind": str(lead.kind), "source": str(lead.source),
        "score": lead.score,
        "customer": {"id": customer.id, "name": customer.name, "company": customer.company,
                     "value_tier": str(customer.value_tier), "lifecycle_stage": str(customer.lifecycle_stage)}
        if customer is not None else None,
        "member": _person(lead.member), "owner": _person(lead.owner), "claimed_at": lead.claimed_at,
        "due_at": lead.due_at, "overdue": listing.is_overdue(lead, now), "last_touch_at": lead.last_touch_at,
        "value": lead.value, "products": lead.products or [], "lost_reason": lead.lost_reason or "",
        "times_returned": lead.times_returned, "created_at": lead.created_at, "updated_at": lead.updated_at,
        "closed_at": lead.closed_at,
        "reasons": [_reason(s, now) for s in (signals if all_reasons else signals[:3])],
    }


def _detail(lead):
    now = utcnow()
    out = lead_out(lead, now, all_reasons=True)
    out["notes"] = [{"id": n.id, "author": _person(n.author), "body": n.body, "status": n.status,
                     "created_at": n.created_at} for n in lead.notes]
    return jsonify(dump(LeadDetailOut, out))


@bp.get("/leads")
@require(Permission.WORK_LEADS)
@documented("Leads the caller may see (the pool and their scope), filtered: status (also `open`), kind, owner "
            "(an id, `me` or `none`), updated_since (ISO 8601), q; sort -score (default), -created, due, -updated "
            "or updated (for syncing with updated_since)", response=LeadPageOut, tag="leads", query=LEAD_QUERY,
            errors=(401, 403, 422))
def list_leads():
    filters = listing.LeadFilters.from_args(request.args)
    paging = parse(PageArgs, {key: request.args[key] for key in ("page", "per_page") if key in request.args})
    page = CountedPage(listing.lead_query(current_user, filters), page=paging.page, per_page=paging.per_page or 50)
    now = utcnow()
    return jsonify({"items": [dump(LeadOut, lead_out(lead, now)) for lead in page.items], "page": page.page,
                    "per_page": page.per_page, "total": page.total})


@bp.get("/leads.csv")
@require(Permission.WORK_LEADS)
@documented("The same filtered list as CSV (UTF-8 with BOM, every matching lead, no paging)", tag="leads",
            query={key: kind for key, kind in LEAD_QUERY.items() if key not in PAGE_QUERY}, errors=(401, 403, 422))
def export_leads():
    filters = listing.LeadFilters.from_args(request.args)
    body = listing.export_csv(listing.lead_query(current_user, filters))
    return Response(stream_with_context(body), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=leads.csv"})


@bp.get("/leads/<int:lead_id>")
@require(Permission.WORK_LEADS)
@documented("One lead with every reason (signal, points, decay, the post or activity behind it) and its notes",
            response=LeadDetailOut, tag="leads", errors=(401, 403, 404))
def get_lead(lead_id):
    return _detail(pipeline.get_lead(current_user, lead_id))


@bp.post("/leads/<int:lead_id>/claim")
@require(Permission.WORK_LEADS)
@documented("Claim a lead from the pool; 409 when someone else got it first or it is closed",
            response=LeadDetailOut, tag="leads", errors=(401, 403, 404, 409))
def claim_lead(lead_id):
    return _detail(pipeline.claim(current_user, lead_id))


@bp.patch("/leads/<int:lead_id>")
@require(Permission.WORK_LEADS)
@documented("Work a lead: move its stage (won with value and products, lost with lost_reason, pool to hand it "
            "back), add a note, or (managers) give it to another rep with owner_id. 409 for a move the pipeline "
            "doesn't allow (won → contacted); 422 names a bad field", body=LeadPatch, response=LeadDetailOut,
            tag="leads", errors=(401, 403, 404, 409, 415, 422))
def change_lead(lead_id):
    data = parse(LeadPatch)
    if data.owner_id is not None and data.status is not None:
        raise Invalid("one_change", message=_("Change the owner or the stage, not both in one request."))
    if data.owner_id is not None:
        pipeline.assign(current_user, lead_id, data.owner_id)
        if data.note:
            pipeline.add_note(current_user, lead_id, data.note)
    elif data.status == LeadStatus.POOL:
        pipeline.hand_back(current_user, lead_id, note=data.note or "")
    elif data.status is not None:
        pipeline.change_status(current_user, lead_id, data.status, note=data.note or "", value=data.value,
                               products=data.products, lost_reason=data.lost_reason or "")
    elif data.note is not None:
        pipeline.add_note(current_user, lead_id, data.note)
    else:
        raise Invalid("nothing_to_change", message=_("Give a status, a note or an owner_id."))
    return _detail(pipeline.get_lead(current_user, lead_id))
