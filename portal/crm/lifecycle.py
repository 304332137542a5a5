"""Where a customer stands: lifecycle stages (one door for every move) and value tiers."""

from flask_babel import lazy_gettext as _l

from ..audit import audit
from ..errors import Invalid
from ..events import Verb, record_activities
from ..extensions import db
from ..payloads import CustomerStageChanged
from ..permissions import Permission, ensure
from ..sqltypes import utcnow
from .models import LifecycleStage

CAUSE_MAX = 200

# What the rules write as the cause of a move they make; staff, imports and the API write their own words.
RULE_CAUSES = {
    "rule.first_purchase": _l("first purchase"),
    "rule.second_purchase": _l("second purchase"),
    "rule.prospect_silent": _l("prospect silent too long"),
    "rule.dormant_silent": _l("dormant prospect silent too long"),
    "rule.came_back": _l("heard from again"),
    "rule.renewal_lapsed": _l("renewal lapsed"),
    "rule.won_back": _l("won back: bought again after churning"),
    "tiers.import": _l("ABC analysis after an import"),
    "tiers.revenue": _l("ABC analysis after a revenue change"),
    "tiers.nightly": _l("nightly ABC analysis"),
    "tiers.thresholds": _l("ABC analysis with new thresholds"),
    "tiers.recompute": _l("ABC analysis (crm recompute)"),
}


def cause_label(cause):
    """A cause as staff read it: the rule's words in their language, or what a person wrote."""
    return RULE_CAUSES.get(cause, cause)


def change_lifecycle_stage(actor, customer_id, stage, *, cause, now=None):
    """Move a customer to another lifecycle stage, keeping why; committed.

    The one way every stage change goes (staff UI, CSV import, API, rules), so
    each leaves one CUSTOMER_STAGE_CHANGED activity (payload
    CustomerStageChanged) and an audit entry, and whatever listens (referral conversion
    among them) runs in the same transaction. `actor` None is the CLI or an
    import; a user needs EDIT_CUSTOMERS. Moving to the stage it already has
    records nothing. Returns the customer.
    """
    from .records import get_customer

    if actor is not None:
        ensure(actor, Permission.EDIT_CUSTOMERS)
    customer = get_customer(actor, customer_id)
    move_stage(actor, customer, stage, cause=cause, now=now)
    db.session.commit()
    return customer


def move_stage(actor, customer, stage, *, cause, now=None):
    """change_lifecycle_stage() inside the caller's transaction (record edits and imports use it)."""
    return move_stages(actor, [(customer, stage)], cause=cause, now=now) == 1


def move_stages(actor, moves, *, cause, now=None):
    """move_stage() for many (customer, stage) pairs at once, with one flush (the rules' nightly run).

    Returns how many moved; a pair whose customer has the stage already records nothing.
    """
    stages = [(customer, _checked_stage(stage)) for customer, stage in moves]
    cause, now = _checked_cause(cause), now or utcnow()
    entries = []
    for customer, stage in stages:
        old = customer.lifecycle_stage
        if old == stage:
            continue
        customer.lifecycle_stage, customer.stage_changed_at = stage, now
        audit(actor, "customer.stage_changed", customer, now=now, old=old.value, new=stage.value, cause=cause)
        entries.append(dict(verb=Verb.CUSTOMER_STAGE_CHANGED, actor=actor, obj=customer, customer_id=customer.id,
                            occurred_at=now, payload=CustomerStageChanged(from_stage=old.value, to_stage=stage.value,
                                                                          cause=cause)))
    record_activities(entries)
    return len(entries)


def _checked_stage(stage):
    try:
        return LifecycleStage(stage)
    except ValueError:
        raise Invalid("invalid_stage", fields={"stage": _l("Choose one of the lifecycle stages.")}) from None


def _checked_cause(cause):
    cause = (cause or "").strip()
    if not cause or len(cause) > CAUSE_MAX:
        raise Invalid("invalid_cause", fields={"cause": _l("Say why the stage changes, in at most %(n)d characters.",
                                                           n=CAUSE_MAX)})
    return cause
