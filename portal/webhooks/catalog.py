"""The events a webhook can subscribe to, what each means, and the activity verbs behind them.

An event's `data` is its verb's payload (portal/payloads.py, the published
contract) plus where it happened: activity_id, occurred_at, actor_id,
customer_id, object_type and object_id.
"""
from flask_babel import lazy_gettext as _l

from ..events import Verb
from ..payloads import PAYLOADS

PING = "webhook.ping"

EVENTS = {
    "lead.created": _l("Community signals made a new lead."),
    "lead.claimed": _l("A sales rep took a lead: claimed from the pool, or assigned by a sales manager."),
    "lead.status_changed": _l("A lead moved on: contacted, qualified, won or lost."),
    "lead.returned": _l("A lead went back to the pool."),
    "referral.converted": _l("A referred friend's company became a customer."),
    "customer.stage_changed": _l("A customer moved to another lifecycle stage."),
    PING: _l("A test an admin sends to check the address and the signature."),
}

# What a webhook can subscribe to; a ping goes only to the webhook it is sent to.
SUBSCRIBABLE = tuple(name for name in EVENTS if name != PING)

# An assignment is published as lead.claimed too: for the CRM, either way a rep now holds the lead
# (the data then also carries previous_owner_id; actor_id says who gave it).
EVENT_OF_VERB = {
    Verb.LEAD_CREATED: "lead.created",
    Verb.LEAD_CLAIMED: "lead.claimed",
    Verb.LEAD_ASSIGNED: "lead.claimed",
    Verb.LEAD_STATUS_CHANGED: "lead.status_changed",
    Verb.LEAD_RETURNED: "lead.returned",
    Verb.REFERRAL_CONVERTED: "referral.converted",
    Verb.CUSTOMER_STAGE_CHANGED: "customer.stage_changed",
}

CONTEXT_FIELDS = {
    "activity_id": {"type": "integer"},
    "occurred_at": {"type": "string", "format": "date-time"},
    "actor_id": {"type": ["integer", "null"], "description": "Who did it; null for a rule or the nightly run."},
    "customer_id": {"type": ["integer", "null"]},
    "object_type": {"type": ["string", "null"], "description": "lead, referral or customer."},
    "object_id": {"type": ["integer", "null"]},
}
PING_SCHEMA = {"type": "object", "properties": {"webhook_id": {"type": "integer"}}, "required": ["webhook_id"]}


def data_schema(event):
    """The JSON Schema of an event's `data` (the first verb's payload for lead.claimed, plus the context)."""
    if event == PING:
        return PING_SCHEMA
    verb = next(verb for verb, name in EVENT_OF_VERB.items() if name == event)
    schema = PAYLOADS[verb].model_json_schema()
    schema["properties"] = {**schema.get("properties", {}), **CONTEXT_FIELDS}
    schema["required"] = [*schema.get("required", []), "activity_id", "occurred_at"]
    return schema


def catalog():
    """[{name, description, data_schema}] for every event, the ping included."""
    return [{"name": name, "description": str(description), "data_schema": data_schema(name)}
            for name, description in EVENTS.items()]
