"""Webhooks as admins manage them: each change one transaction with its audit entry.

Every function checks MANAGE_WEBHOOKS itself (admins only), so the pages,
the API and any script get the same answer; bad input is Invalid with a
message per field (url, events, description, active, secret) and changes
nothing.
"""
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ..audit import audit
from ..errors import Invalid, NotFound
from ..extensions import db
from ..permissions import Permission, ensure
from . import delivery, signing, targets
from .catalog import PING, SUBSCRIBABLE
from .models import DESCRIPTION_MAX, DeliveryStatus, Webhook, WebhookDelivery

FIELDS = ("url", "events", "description", "active")


def webhooks_with_last_delivery(actor):
    """[(webhook, its newest delivery or None)], oldest webhook first, in two statements."""
    ensure(actor, Permission.MANAGE_WEBHOOKS)
    webhooks = db.session.scalars(sa.select(Webhook).order_by(Webhook.id)).all()
    newest = (sa.select(sa.func.max(WebhookDelivery.id)).group_by(WebhookDelivery.webhook_id)
              .where(WebhookDelivery.webhook_id.in_([w.id for w in webhooks])).scalar_subquery())
    last = {d.webhook_id: d for d in db.session.scalars(sa.select(WebhookDelivery)
                                                         .where(WebhookDelivery.id.in_(newest)))} if webhooks else {}
    return [(webhook, last.get(webhook.id)) for webhook in webhooks]


def get_webhook(actor, webhook_id):
    ensure(actor, Permission.MANAGE_WEBHOOKS)
    webhook = db.session.get(Webhook, webhook_id)
    if webhook is None:
        raise NotFound("webhook_not_found", _l("That webhook was not found."))
    return webhook


def deliveries_query(webhook):
    """The webhook's delivery log, newest first (a select() to page)."""
    return (sa.select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
            .order_by(WebhookDelivery.id.desc()))


def get_delivery(actor, webhook_id, delivery_id):
    webhook = get_webhook(actor, webhook_id)
    found = db.session.scalar(sa.select(WebhookDelivery).where(WebhookDelivery.id == delivery_id,
                                                               WebhookDelivery.webhook_id == webhook.id)
                              .options(selectinload(WebhookDelivery.webhook)))
    if found is None:
        raise NotFound("delivery_not_found", _l("That delivery was not found."))
    return found


def create_webhook(actor, *, url, events, description="", active=True, secret=None):
    """A new webhook, committed; a secret is generated unless a valid one is given. Returns the webhook,
    whose `secret` the caller shows this once."""
    ensure(actor, Permission.MANAGE_WEBHOOKS)
    values = _checked(url=url, events=events, description=description, active=active)
    secret = signing.new_secret() if secret in (None, "") else signing.checked_secret(secret)
    webhook = Webhook(**values, secret=secret, created_by_id=actor.id)
    db.session.add(webhook)
    db.session.flush()
    audit(actor, "webhook.created", webhook, url=webhook.url, events=webhook.events, active=webhook.active)
    db.session.commit()
    return webhook


def update_webhook(actor, webhook_id, **changes):
    """Change any of url, events, description, active; committed. Returns the webhook."""
    webhook = get_webhook(actor, webhook_id)
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise Invalid(fields={name: _l("This can't be changed.") for name in sorted(unknown)})
    values = _checked(**changes)
    before = {name: getattr(webhook, name) for name in values}
    for name, value in values.items():
        setattr(webhook, name, value)
    changed = {name: [before[name], value] for name, value in values.items() if before[name] != value}
    if changed:
        audit(actor, "webhook.updated", webhook, changes=changed)
    db.session.commit()
    return webhook


def delete_webhook(actor, webhook_id):
    """Delete a webhook and its delivery log; committed. Nothing more is sent to it."""
    webhook = get_webhook(actor, webhook_id)
    audit(actor, "webhook.deleted", webhook, url=webhook.url, events=webhook.events)
    db.session.execute(sa.delete(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id))
    db.session.delete(webhook)
    db.session.commit()


def rotate_secret(actor, webhook_id):
    """Give the webhook a new secret, at once; committed. Returns the webhook (show the secret this once)."""
    webhook = get_webhook(actor, webhook_id)
    webhook.secret = signing.new_secret()
    audit(actor, "webhook.secret_rotated", webhook)
    db.session.commit()
    return webhook


def redeliver(actor, webhook_id, delivery_id):
    """Send a delivery again now: the same body and webhook-id, signed anew; committed. Returns it."""
    found = get_delivery(actor, webhook_id, delivery_id)
    found.status = DeliveryStatus.PENDING
    delivery.send_again(found)
    audit(actor, "webhook.redelivered", found.webhook, delivery_id=found.id, message_id=found.message_id)
    db.session.commit()
    return found


def send_ping(actor, webhook_id):
    """Queue a webhook.ping to the webhook (active or not); committed. Returns the delivery."""
    webhook = get_webhook(actor, webhook_id)
    ping = delivery.queue_delivery(webhook, PING, delivery.ping_body(webhook))
    audit(actor, "webhook.pinged", webhook, delivery_id=ping.id)
    db.session.commit()
    return ping


def _checked(**values):
    """The given fields, checked and normalized; Invalid naming every bad one."""
    checks = {"url": targets.checked_url, "events": checked_events, "description": _checked_description,
              "active": _checked_active}
    checked, errors = {}, {}
    for name, value in values.items():
        try:
            checked[name] = checks[name](value)
        except Invalid as error:
            errors.update(error.fields)
            code = error.code
    if errors:
        raise Invalid(code if len(errors) == 1 else "invalid", fields=errors)
    return checked


def checked_events(events):
    """A list of known event names, without repeats, in the catalog's order."""
    if not isinstance(events, list | tuple) or not all(isinstance(name, str) for name in events):
        raise Invalid(fields={"events": _l("Give a list of event names.")})
    unknown = sorted(set(events) - set(SUBSCRIBABLE))
    if unknown:
        raise Invalid("unknown_events", fields={"events": _l("Unknown events: %(names)s. Choose from %(known)s.",
                                                             names=", ".join(unknown),
                                                             known=", ".join(SUBSCRIBABLE))})
    if not events:
        raise Invalid(fields={"events": _l("Choose at least one event.")})
    return [name for name in SUBSCRIBABLE if name in events]


def _checked_description(description):
    if description is None:
        return ""
    if not isinstance(description, str):
        raise Invalid(fields={"description": _l("Give the description as text.")})
    description = description.strip()
    if len(description) > DESCRIPTION_MAX:
        raise Invalid(fields={"description": _l("Keep the description to %(n)d characters.", n=DESCRIPTION_MAX)})
    return description


def _checked_active(active):
    if not isinstance(active, bool):
        raise Invalid(fields={"active": _l("Say true or false.")})
    return active
