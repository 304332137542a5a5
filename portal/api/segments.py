"""Saved segments over the API (community staff): list, create, read, change, delete, and a segment's customers.

Rules are checked by the same `crm.segments.check_rules` as the builder
page, so a rule the page refuses is refused here with the same field name
("rules.2.value"), and a segment's customers come in the shape and paging
of GET /customers.
"""
from datetime import datetime
from typing import Any

from flask import jsonify, request
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import selectinload

from ..crm import segments
from ..crm.models import Customer
from ..pagination import CountedPage
from ..permissions import Permission, require
from . import bp
from .community import PAGE_QUERY, PageArgs, PageOut
from .customers import CustomerOut, CustomerPageOut, customer_out
from .spec import documented, dump, parse

RULE_DESCRIPTION = ("One test on a customer field: e.g. {\"field\": \"value_tier\", \"op\": \"in\", "
                    "\"value\": [\"key\", \"valued\"]}. Fields: " + ", ".join(segments.FIELDS) + ".")


class RuleIn(BaseModel):
    # Shape only: which fields, operators and values go together is crm.segments.check_rules' to say.
    model_config = ConfigDict(extra="forbid")
    field: str
    op: str
    value: Any = None


class SegmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=segments.NAME_MAX)
    description: str = Field(default="", max_length=segments.DESCRIPTION_MAX)
    match: str = Field(default="all", description="all: every rule holds; any: at least one does.")
    rules: list[RuleIn] = Field(default_factory=list, description=RULE_DESCRIPTION)


class SegmentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=segments.NAME_MAX)
    description: str | None = Field(default=None, max_length=segments.DESCRIPTION_MAX)
    match: str | None = None
    rules: list[RuleIn] | None = None


class RuleOut(BaseModel):
    field: str
    op: str
    value: Any = None


class SegmentOut(BaseModel):
    id: int
    name: str
    description: str
    match: str
    rules: list[RuleOut]
    rules_in_words: list[str]
    customer_count: int
    member_count: int
    created_at: datetime
    updated_at: datetime


class SegmentPageOut(PageOut):
    items: list[SegmentOut]


def _segment_out(segment, customers, members, people):
    return dump(SegmentOut, {
        "id": segment.id, "name": segment.name, "description": segment.description, "match": str(segment.match),
        "rules": segment.rules or [], "rules_in_words": segments.rules_in_words(segment, people),
        "customer_count": customers, "member_count": members,
        "created_at": segment.created_at, "updated_at": segment.updated_at})


def _one(segment):
    customers = segments.count_of(segments.segment_customers(segment))
    return _segment_out(segment, customers, segments.member_count(segment), segments.people_named([segment.rules]))


def _paging():
    return parse(PageArgs, {key: request.args[key] for key in ("page", "per_page") if key in request.args})


@bp.get("/segments")
@require(Permission.MANAGE_SEGMENTS)
@documented("Saved segments by name, each with its rules and how many customers and members it holds now",
            response=SegmentPageOut, tag="segments", query=PAGE_QUERY, errors=(401, 403, 422))
def list_segments():
    paging = _paging()
    per_page = paging.per_page or 50
    counted = segments.list_segments(current_user)
    shown = counted[(paging.page - 1) * per_page:paging.page * per_page]
    people = segments.people_named([entry.segment.rules for entry in shown])
    return jsonify({"items": [_segment_out(entry.segment, entry.customers, entry.members, people) for entry in shown],
                    "page": paging.page, "per_page": per_page, "total": len(counted)})


@bp.post("/segments")
@require(Permission.MANAGE_SEGMENTS)
@documented("Save a segment: 201; 422 names each bad rule (rules.N.field, rules.N.op, rules.N.value); "
            "409 when the name is taken", body=SegmentIn, response=SegmentOut, status=201, tag="segments",
            errors=(401, 403, 409, 415, 422))
def create_segment():
    data = parse(SegmentIn)
    segment = segments.create_segment(current_user, data.name, data.description, data.match,
                                      [rule.model_dump() for rule in data.rules])
    return jsonify(_one(segment)), 201


@bp.get("/segments/<int:segment_id>")
@require(Permission.MANAGE_SEGMENTS)
@documented("One segment with its rules and counts", response=SegmentOut, tag="segments", errors=(401, 403, 404))
def get_segment(segment_id):
    return jsonify(_one(segments.get_segment(current_user, segment_id)))


@bp.patch("/segments/<int:segment_id>")
@require(Permission.MANAGE_SEGMENTS)
@documented("Change a segment: only the fields given change (rules are replaced as a whole)", body=SegmentPatch,
            response=SegmentOut, tag="segments", errors=(401, 403, 404, 409, 415, 422))
def change_segment(segment_id):
    data = parse(SegmentPatch)
    segment = segments.get_segment(current_user, segment_id)
    rules = [rule.model_dump() for rule in data.rules] if data.rules is not None else segment.rules
    segment = segments.update_segment(
        current_user, segment_id, data.name if data.name is not None else segment.name,
        data.description if data.description is not None else segment.description,
        data.match if data.match is not None else str(segment.match), rules)
    return jsonify(_one(segment))


@bp.delete("/segments/<int:segment_id>")
@require(Permission.MANAGE_SEGMENTS)
@documented("Delete a segment: 204", status=204, tag="segments", errors=(401, 403, 404))
def delete_segment(segment_id):
    segments.delete_segment(current_user, segment_id)
    return "", 204


@bp.get("/segments/<int:segment_id>/customers")
@require(Permission.MANAGE_SEGMENTS)
@documented("The customers in a segment now, by name, in the shape and paging of GET /customers",
            response=CustomerPageOut, tag="segments", query=PAGE_QUERY, errors=(401, 403, 404, 422))
def segment_customers(segment_id):
    segment = segments.get_segment(current_user, segment_id)
    paging = _paging()
    query = (segments.segment_customers(segment)
             .options(selectinload(Customer.owner_rep), selectinload(Customer.relationship_owner),
                      selectinload(Customer.domains), selectinload(Customer.products))
             .order_by(Customer.name, Customer.id))
    page = CountedPage(query, page=paging.page, per_page=paging.per_page or 50)
    return jsonify({"items": [dump(CustomerOut, customer_out(c)) for c in page.items], "page": page.page,
                    "per_page": page.per_page, "total": page.total})
