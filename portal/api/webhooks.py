"""Webhooks over the API, for admins: the webhooks themselves, the event catalog, each delivery log,
redelivery and a test ping.

The secret is answered only when it is made (create, and rotating it);
bad input is 422 naming the field (a URL that isn't http(s) or points at a
private address among them) and changes nothing.
"""
from datetime import datetime
from typing import Any

from flask import jsonify
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field

from ..extensions import db
from ..permissions import Permission, require
from ..webhooks import catalog, services
from . import bp
from .community import PAGE_QUERY, PageArgs, PageOut
from .spec import documented, dump, page_out, parse, parse_query


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Any = Field(description="Where each event is POSTed: http(s), a public host "
                                 "(unless WEBHOOKS_ALLOW_PRIVATE_TARGETS).")
    events: Any = Field(description="Event names from GET /webhooks/events.")
    description: Any = Field(default="", description="What receives the events.")
    active: Any = Field(default=True, description="Whether events are sent.")
    secret: Any = Field(default=None, description="whsec_ + base64 of 24–64 bytes; left out, one is generated.")


class WebhookPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Any = None
    events: Any = None
    description: Any = None
    active: Any = None


class PersonOut(BaseModel):
    id: int
    name: str


class LastDeliveryOut(BaseModel):
    id: int
    event: str
    status: str
    response_code: int | None
    created_at: datetime


class WebhookOut(BaseModel):
    id: int
    url: str
    description: str
    events: list[str]
    active: bool
    created_by: PersonOut | None
    created_at: datetime
    updated_at: datetime
    last_delivery: LastDeliveryOut | None = None


class WebhookWithSecretOut(WebhookOut):
    secret: str = Field(description="The signing secret: answered only here, keep it.")


class WebhookPageOut(PageOut):
    items: list[WebhookOut]


class EventOut(BaseModel):
    name: str
    description: str
    data_schema: dict = Field(description="JSON Schema of the event's `data`.")


class EventListOut(BaseModel):
    items: list[EventOut]


class DeliveryOut(BaseModel):
    id: int
    webhook_id: int
    event: str
    message_id: str = Field(description="The webhook-id header: the same on every retry and redelivery.")
    status: str = Field(description="pending (being tried), delivered or failed (every attempt failed).")
    response_code: int | None
    response_body: str = Field(description="The start of the receiver's answer.")
    error: str = Field(description="Why there was no answer, if there was none.")
    duration_ms: int | None
    attempts: int
    last_attempt_at: datetime | None
    created_at: datetime
    payload: dict = Field(description="The body sent: {type, timestamp, data}.")


class DeliveryPageOut(PageOut):
    items: list[DeliveryOut]


def webhook_out(webhook, last=None, *, with_secret=False):
    out = {"id": webhook.id, "url": webhook.url, "description": webhook.description, "events": webhook.events,
           "active": webhook.active, "created_at": webhook.created_at, "updated_at": webhook.updated_at,
           "created_by": {"id": webhook.created_by.id, "name": webhook.created_by.name}
           if webhook.created_by is not None else None,
           "last_delivery": last}
    if with_secret:
        return dump(WebhookWithSecretOut, {**out, "secret": webhook.secret})
    return dump(WebhookOut, out)


@bp.get("/webhooks")
@require(Permission.MANAGE_WEBHOOKS)
@documented("Every webhook, with its last delivery (admins)", response=WebhookPageOut, tag="webhooks",
            query=PAGE_QUERY, errors=(401, 403, 422))
def list_webhooks():
    args = parse_query(PageArgs)
    rows = services.webhooks_with_last_delivery(current_user)
    per_page = args.per_page or 50
    shown = rows[(args.page - 1) * per_page:args.page * per_page]
    return jsonify({"items": [webhook_out(webhook, last) for webhook, last in shown], "page": args.page,
                    "per_page": per_page, "total": len(rows)})


@bp.post("/webhooks")
@require(Permission.MANAGE_WEBHOOKS)
@documented("Add a webhook; answers it with its secret, the only time the secret is shown", body=WebhookIn,
            response=WebhookWithSecretOut, status=201, tag="webhooks", errors=(400, 401, 403, 415, 422))
def create_webhook():
    data = parse(WebhookIn)
    webhook = services.create_webhook(current_user, **data.model_dump())
    return jsonify(webhook_out(webhook, with_secret=True)), 201


@bp.get("/webhooks/events")
@require(Permission.MANAGE_WEBHOOKS)
@documented("The events a webhook can subscribe to (and webhook.ping), each with the schema of its data",
            response=EventListOut, tag="webhooks", errors=(401, 403))
def webhook_events():
    return jsonify({"items": catalog.catalog()})


@bp.get("/webhooks/<int:webhook_id>")
@require(Permission.MANAGE_WEBHOOKS)
@documented("One webhook", response=WebhookOut, tag="webhooks", errors=(401, 403, 404))
def get_webhook(webhook_id):
    return jsonify(webhook_out(services.get_webhook(current_user, webhook_id)))


@bp.patch("/webhooks/<int:webhook_id>")
@require(Permission.MANAGE_WEBHOOKS)
@documented("Change a webhook's url, events, description or active", body=WebhookPatch, response=WebhookOut,
            tag="webhooks", errors=(400, 401, 403, 404, 415, 422))
def change_webhook(webhook_id):
    changes = parse(WebhookPatch).model_dump(exclude_unset=True)
    return jsonify(webhook_out(services.update_webhook(current_user, webhook_id, **changes)))


@bp.delete("/webhooks/<int:webhook_id>")
@require(Permission.MANAGE_WEBHOOKS)
@documented("Delete a webhook and its delivery log; answers 204", status=204, tag="webhooks",
            errors=(401, 403, 404))
def delete_webhook(webhook_id):
    services.delete_webhook(current_user, webhook_id)
    return "", 204


@bp.post("/webhooks/<int:webhook_id>/secret")
@require(Permission.MANAGE_WEBHOOKS)
@documented("Replace the webhook's secret with a new one, at once; answers the webhook with it",
            response=WebhookWithSecretOut, tag="webhooks", errors=(401, 403, 404))
def rotate_webhook_secret(webhook_id):
    return jsonify(webhook_out(services.rotate_secret(current_user, webhook_id), with_secret=True))


@bp.get("/webhooks/<int:webhook_id>/deliveries")
@require(Permission.MANAGE_WEBHOOKS)
@documented("The webhook's delivery log, newest first: status, response, duration, attempts, body",
            response=DeliveryPageOut, tag="webhooks", query=PAGE_QUERY, errors=(401, 403, 404, 422))
def webhook_deliveries(webhook_id):
    args = parse_query(PageArgs)
    webhook = services.get_webhook(current_user, webhook_id)
    page = db.paginate(services.deliveries_query(webhook), page=args.page, per_page=args.per_page or 50,
                       max_per_page=100, error_out=False)
    return jsonify(page_out(DeliveryOut, page))


@bp.post("/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/redeliver")
@require(Permission.MANAGE_WEBHOOKS)
@documented("Send a delivery again now, with the same body and webhook-id; answers it (202)",
            response=DeliveryOut, status=202, tag="webhooks", errors=(401, 403, 404))
def redeliver(webhook_id, delivery_id):
    delivery = services.redeliver(current_user, webhook_id, delivery_id)
    return jsonify(dump(DeliveryOut, delivery)), 202


@bp.post("/webhooks/<int:webhook_id>/ping")
@require(Permission.MANAGE_WEBHOOKS)
@documented("Send a webhook.ping to the webhook; answers the delivery (202)", response=DeliveryOut,
            status=202, tag="webhooks", errors=(401, 403, 404))
def ping_webhook(webhook_id):
    delivery = services.send_ping(current_user, webhook_id)
    return jsonify(dump(DeliveryOut, delivery)), 202
