"""Customer records: linking members to accounts, lifecycle stages, value tiers."""
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..audit import audit
from ..auth.models import User
from ..errors import Invalid, NotFound
from ..events import Activity, Verb, record_activity
from ..extensions import db
from ..payloads import CustomerStageChanged
from ..permissions import Permission, Role, ensure
from ..sqltypes import utcnow
from .models import Customer, LifecycleStage, ValueTier

CAUSE_MAX = 200

# Addresses at these domains say nothing about the employer.
FREEMAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com",
    "icloud.com", "me.com", "proton.me", "protonmail.com", "aol.com", "gmx.com", "mail.com",
    "qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "yeah.net", "aliyun.com",
})


def link_member(actor, user_id, customer_id):
    """Make a member one of a customer account's people; their whole history moves with them. Committed.

    An activity takes its customer from the actor when it is written, so a
    member linked later would keep an unattributed past: every activity the
    member did is re-attributed here, and the 360 timeline shows it all.
    `customer_id` None unlinks (their activity then belongs to no customer).
    Audited with before and after.
    """
    ensure(actor, Permission.EDIT_CUSTOMERS)
    user = db.session.get(User, user_id)
    if user is None or user.role != Role.MEMBER:
        raise NotFound("member_not_found", _l("That member does not exist."))
    customer = _customer(customer_id) if customer_id is not None else None
    before = user.customer_id
    if before == customer_id:
        return user
    user.customer_id = customer_id
    db.session.execute(sa.update(Activity).where(Activity.actor_id == user.id).values(customer_id=customer_id))
    audit(actor, "customer.member_linked" if customer else "customer.member_unlinked", user,
          before=before, after=customer_id)
    db.session.commit()
    return user


def _customer(customer_id):
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("customer_not_found", _l("That customer does not exist."))
    return customer


def customer_for_email(email):
    """The customer account an address belongs to: by exact email, else by company domain."""
    email = email.lower()
    found = db.session.scalar(sa.select(Customer).where(sa.func.lower(Customer.email) == email).limit(1))
    if found:
        return found
    domain = email.rpartition("@")[2]
    if domain in FREEMAIL_DOMAINS:
        return None
    return db.session.scalar(
        sa.select(Customer).where(sa.func.lower(Customer.domain) == domain).order_by(Customer.id).limit(1)
    )


def change_lifecycle_stage(actor, customer_id, stage, *, cause, now=None):
    """Move a customer to another lifecycle stage, keeping why; committed.

    The one way every stage change goes (staff UI, CSV import, API, rules), so
    each leaves one CUSTOMER_STAGE_CHANGED activity (payload
    CustomerStageChanged) and an audit entry, and whatever listens (referral conversion
    among them) runs in the same transaction. `actor` None is the CLI or an
    import; a user needs EDIT_CUSTOMERS. Moving to the stage it already has
    records nothing. Returns the customer.
    """
    if actor is not None:
        ensure(actor, Permission.EDIT_CUSTOMERS)
    try:
        stage = LifecycleStage(stage)
    except ValueError:
        raise Invalid("invalid_stage", fields={"stage": _l("Choose one of the lifecycle stages.")}) from None
    cause = (cause or "").strip()
    if not cause or len(cause) > CAUSE_MAX:
        raise Invalid("invalid_cause", fields={"cause": _l("Say why the stage changes, in at most %(n)d characters.",
                                                           n=CAUSE_MAX)})
    customer = db.session.get(Customer, customer_id) if isinstance(customer_id, int) else None
    if customer is None:
        raise NotFound()
    old = customer.lifecycle_stage
    if old == stage:
        return customer
    customer.lifecycle_stage, now = stage, now or utcnow()
    audit(actor, "customer.stage_changed", customer, now=now, old=old.value, new=stage.value, cause=cause)
    record_activity(Verb.CUSTOMER_STAGE_CHANGED, actor=actor, obj=customer, customer_id=customer.id, occurred_at=now,
                    payload=CustomerStageChanged(from_stage=old.value, to_stage=stage.value, cause=cause))
    db.session.commit()
    return customer


def assign_value_tiers(key_share=Decimal("0.80"), valued_share=Decimal("0.95")):
    """ABC analysis: customers bringing the first 80% of revenue are key, the next 15% valued.

    A customer is placed by the revenue share *before* it, so the one that
    crosses the 80% line is still key. Does not commit.
    """
    customers = db.session.scalars(sa.select(Customer).order_by(Customer.revenue.desc(), Customer.id)).all()
    total = sum((c.revenue for c in customers), Decimal("0"))
    running = Decimal("0")
    for customer in customers:
        share_before = running / total if total else Decimal("1")
        if customer.revenue > 0 and share_before < key_share:
            customer.value_tier = ValueTier.KEY
        elif customer.revenue > 0 and share_before < valued_share:
            customer.value_tier = ValueTier.VALUED
        else:
            customer.value_tier = ValueTier.STANDARD
        running += customer.revenue
