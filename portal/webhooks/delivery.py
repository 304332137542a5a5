"""From an activity to a signed POST: the deliveries an action makes, and the outbox handler that sends them.

The subscriber notes each published activity; just before the action's
transaction commits, one query finds the active webhooks and each
subscribed one gets a WebhookDelivery row and an outbox message, in that
same transaction (a rolled-back action sends nothing). Waiting for the
commit also keeps the order of events as they happened, whatever order the
spine's subscribers ran in (a won lead's status change comes before the
customer stage it causes).
"""
import json
import logging
import time
import uuid

import flask
import httpx
import sqlalchemy as sa
from sqlalchemy import event

from .. import outbox
from ..errors import DomainError
from ..events import listens_to
from ..extensions import db
from ..sqltypes import utcnow
from . import signing, targets
from .catalog import EVENT_OF_VERB, PING
from .models import RESPONSE_EXCERPT, DeliveryStatus, Webhook, WebhookDelivery

log = logging.getLogger(__name__)

TOPIC = "webhooks.deliver"
TIMEOUT_SECONDS = 10.0
USER_AGENT = "Teahouse-Webhooks/1"
_WAITING = "webhooks_waiting"
# (flask.current_app, not an imported proxy: connect_subscribers() looks at every name in this module.)


class DeliveryFailed(Exception):
    """The receiver did not take the delivery; the outbox tries again later."""


@listens_to(*EVENT_OF_VERB)
def activity_published(verb, activity, **extra):
    db.session.info.setdefault(_WAITING, []).append((EVENT_OF_VERB[verb], activity))


def _create_deliveries_before_commit(session):
    waiting = session.info.pop(_WAITING, None)
    if not waiting:
        return
    # An activity whose savepoint was rolled back is no longer persistent: it did not happen.
    waiting = sorted(((name, activity) for name, activity in waiting if sa.inspect(activity).persistent),
                     key=lambda pair: pair[1].id)
    webhooks = session.scalars(sa.select(Webhook).where(Webhook.active.is_(True)).order_by(Webhook.id)).all()
    for name, activity in waiting:
        body = envelope(name, event_data(activity), activity.occurred_at)
        for webhook in webhooks:
            if webhook.subscribes_to(name):
                queue_delivery(webhook, name, body)


def _forget_after_rollback(session):
    session.info.pop(_WAITING, None)


def listen_for_commits():
    for name, listener in (("before_commit", _create_deliveries_before_commit),
                           ("after_rollback", _forget_after_rollback)):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)


def event_data(activity):
    """The published payload of the activity's verb, and where it happened."""
    return {**activity.payload, "activity_id": activity.id, "occurred_at": _iso(activity.occurred_at),
            "actor_id": activity.actor_id, "customer_id": activity.customer_id,
            "object_type": activity.object_type, "object_id": activity.object_id}


def envelope(name, data, at):
    """The body every delivery sends: Standard Webhooks' {type, timestamp, data}."""
    return {"type": name, "timestamp": _iso(at), "data": data}


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def new_message_id():
    return f"msg_{uuid.uuid4().hex}"


def queue_delivery(webhook, name, body):
    """Add a delivery of `body` to `webhook` and its outbox message to the current transaction."""
    delivery = WebhookDelivery(webhook_id=webhook.id, event=name, message_id=new_message_id(), payload=body,
                               status=DeliveryStatus.PENDING)
    db.session.add(delivery)
    db.session.flush()
    send_again(delivery)
    return delivery


def send_again(delivery):
    """Queue one more send of a delivery in the caller's transaction; a send still waiting for its retry is
    brought forward instead."""
    outbox.enqueue(TOPIC, {"delivery_id": delivery.id}, dedup_key=f"delivery:{delivery.id}")


def ping_body(webhook):
    return envelope(PING, {"webhook_id": webhook.id}, utcnow())


# -- sending (the outbox's webhook lane) --------------------------------------------------------------

def deliver(message):
    """Send one delivery, record how it went, and raise unless the receiver answered 2xx.

    The outbox retries a raise with its backoff; on the last attempt
    (OUTBOX_MAX_ATTEMPTS) the delivery is marked failed instead of pending.
    """
    delivery = db.session.get(WebhookDelivery, message.payload["delivery_id"])
    if delivery is None:
        return  # the webhook was deleted, its log with it
    webhook = db.session.get(Webhook, delivery.webhook_id)
    outcome = _post(webhook, delivery)
    delivery.attempts += 1
    delivery.last_attempt_at = utcnow()
    delivery.response_code, delivery.response_body = outcome.code, outcome.body
    delivery.duration_ms, delivery.error = outcome.duration_ms, outcome.error
    if outcome.ok:
        delivery.status = DeliveryStatus.DELIVERED
    elif message.attempt >= flask.current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        delivery.status = DeliveryStatus.FAILED
    else:
        delivery.status = DeliveryStatus.PENDING
    db.session.commit()
    if not outcome.ok:
        raise DeliveryFailed(f"webhook {webhook.id} delivery {delivery.id}: "
                             f"{outcome.code if outcome.code is not None else outcome.error}")


class _Outcome:
    def __init__(self, *, code=None, body="", error="", duration_ms=None):
        self.code, self.body, self.error, self.duration_ms = code, body, error, duration_ms

    @property
    def ok(self):
        return self.code is not None and 200 <= self.code < 300


def _post(webhook, delivery):
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    try:
        target = targets.pinned_target(webhook.url)
    except DomainError as error:
        return _Outcome(error=" ".join(str(m) for m in error.fields.values()) or str(error.message))
    headers = {**target.headers, "Content-Type": "application/json", "User-Agent": USER_AGENT,
               **signing.signed_headers(webhook.secret, delivery.message_id, int(time.time()), body)}
    started = time.monotonic()
    try:
        with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False, trust_env=False) as client:
            request = client.build_request("POST", target.url, content=body, headers=headers,
                                           extensions=target.extensions)
            response = client.send(request, stream=True)
            try:
                excerpt = _excerpt(response)
            finally:
                response.close()
    except httpx.HTTPError as exc:
        return _Outcome(error=f"{type(exc).__name__}: {exc}"[:500], duration_ms=_since(started))
    return _Outcome(code=response.status_code, body=excerpt, duration_ms=_since(started))


def _excerpt(response):
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= RESPONSE_EXCERPT:
            break
    return b"".join(chunks)[:RESPONSE_EXCERPT].decode("utf-8", errors="replace")


def _since(started):
    return round((time.monotonic() - started) * 1000)
