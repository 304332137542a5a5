"""The audit log over the API, for admins: the filtered list and its CSV, with the same filters as /admin/audit.

Dates (`since`, `until`, both included) are UTC days; bad filters are 422
naming each field.
"""
from datetime import datetime

from flask import Response, jsonify, request, stream_with_context
from pydantic import BaseModel, Field

from ..admin import audit_log
from ..permissions import Permission, require
from . import bp
from .community import PAGE_QUERY, PageOut
from .spec import documented, dump

AUDIT_QUERY = {**PAGE_QUERY, "actor": "string", "action": "string", "target_type": "string", "target_id": "integer",
               "since": "string", "until": "string"}


class ActorOut(BaseModel):
    id: int
    name: str


class AuditEntryOut(BaseModel):
    id: int
    occurred_at: datetime
    actor: ActorOut | None = Field(description="Who did it; null for the command line and the system.")
    action: str = Field(description="The action's code, e.g. lead.assigned.")
    label: str = Field(description="The action in the caller's language (the code when it has no label).")
    target_type: str | None
    target_id: int | None
    details: dict = Field(description="What the service recorded: before/after (or old/new, changes) and more.")
    ip_address: str | None


class AuditPageOut(PageOut):
    items: list[AuditEntryOut]


def entry_out(entry):
    return {"id": entry.id, "occurred_at": entry.occurred_at,
            "actor": {"id": entry.actor.id, "name": entry.actor.name} if entry.actor else None,
            "action": entry.action, "label": str(audit_log.action_label(entry.action)),
            "target_type": entry.target_type, "target_id": entry.target_id, "details": entry.details or {},
            "ip_address": entry.ip_address}


@bp.get("/audit")
@require(Permission.VIEW_AUDIT_LOG)
@documented("Audit log entries, newest first (admins), filtered: actor (a user id or `none`), action (a code or an "
            "area prefix such as `lead.`), target_type and target_id, since and until (UTC dates, YYYY-MM-DD, both "
            "included)", response=AuditPageOut, tag="audit", query=AUDIT_QUERY, errors=(401, 403, 422))
def list_audit_entries():
    page = audit_log.audit_page(audit_log.AuditFilters.from_args(request.args))
    return jsonify({"items": [dump(AuditEntryOut, entry_out(entry)) for entry in page.items], "page": page.page,
                    "per_page": page.per_page, "total": page.total})


@bp.get("/audit.csv")
@require(Permission.VIEW_AUDIT_LOG)
@documented("The same filtered entries as CSV (UTF-8 with BOM, every matching entry, no paging; before, after and "
            "details as JSON)", tag="audit",
            query={key: kind for key, kind in AUDIT_QUERY.items() if key not in PAGE_QUERY}, errors=(401, 403, 422))
def export_audit_entries():
    filters = audit_log.AuditFilters.from_args(request.args)
    body = audit_log.export_csv(audit_log.audit_query(filters))
    return Response(stream_with_context(body), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=audit-log.csv"})
