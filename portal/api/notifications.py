from datetime import datetime

from flask import jsonify, request
from flask_login import current_user
from pydantic import BaseModel

from ..extensions import db
from ..notifications.services import notifications_for
from ..permissions import require_login
from ..urls import public_url
from . import bp
from .spec import documented, page_out


class NotificationOut(BaseModel):
    id: int
    kind: str
    text: str
    link: str
    actor_id: int | None
    created_at: datetime
    read_at: datetime | None


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    page: int
    per_page: int
    total: int


@bp.get("/notifications")
@require_login
@documented("Your notifications, newest first", response=NotificationPage, tag="notifications",
            query={"unread": "boolean", "page": "integer", "per_page": "integer"}, errors=(401,))
def notifications():
    unread_only = request.args.get("unread") in ("1", "true")
    query = notifications_for(current_user, unread_only=unread_only)
    page = db.paginate(query, max_per_page=100)
    listing = page_out(NotificationOut, page)
    for item, notification in zip(listing["items"], page.items, strict=True):
        endpoint, values = notification.target
        item["link"] = public_url(endpoint, **values)  # absolute: API clients have no page to be relative to
    return jsonify(listing)
