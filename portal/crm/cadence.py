"""Who to get in touch with: customers past their tier's contact cadence, and follow-ups that are due.

A rule per value tier (CONTACT_CADENCE_DAYS: "a key customer untouched for
30 days") puts a customer on the list of the staff who own it, the
relationship owner and the sales owner, with the days since the last touch.
"""
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from ..events import Activity, Verb
from ..extensions import db
from ..sqltypes import utcnow
from .models import Customer, ValueTier


@dataclass
class Due:
    customer: Customer
    days: int | None   # since the last touch; None when never touched
    cadence: int


def cadence_days():
    """{ValueTier: days}, only the tiers that have a cadence."""
    return {ValueTier(tier): days for tier, days in current_app.config["CONTACT_CADENCE_DAYS"].items() if days}


def to_contact(user, *, now=None, limit=50):
    """[Due] for the customers `user` owns that are past their tier's cadence, longest untouched first."""
    now = now or utcnow()
    rules = cadence_days()
    if not rules:
        return []
    overdue = sa.or_(*[sa.and_(Customer.value_tier == tier, sa.or_(
        Customer.last_touch_at.is_(None), Customer.last_touch_at < now - timedelta(days=days)))
        for tier, days in rules.items()])
    customers = db.session.scalars(
        sa.select(Customer).where(sa.or_(Customer.relationship_owner_id == user.id, Customer.owner_rep_id == user.id),
                                  overdue)
        .order_by(Customer.last_touch_at.asc().nulls_first(), Customer.id).limit(limit)).all()
    return [Due(customer, (now - customer.last_touch_at) // timedelta(days=1) if customer.last_touch_at else None,
                rules[customer.value_tier]) for customer in customers]


def follow_ups_due(user, *, now=None, limit=50):
    """[(touchpoint activity, customer)] whose follow-up date has come, with no touchpoint since: oldest first."""
    today = (now or utcnow()).date().isoformat()
    later = aliased(Activity)
    follow_up = Activity.payload["follow_up_on"].as_string()
    rows = db.session.execute(
        sa.select(Activity, Customer).join(Customer, Customer.id == Activity.customer_id)
        .where(Activity.verb == str(Verb.TOUCHPOINT_RECORDED), follow_up.is_not(None), follow_up <= today,
               Activity.payload["staff_id"].as_integer() == user.id,
               ~sa.exists().where(later.customer_id == Activity.customer_id,
                                  later.verb == str(Verb.TOUCHPOINT_RECORDED),
                                  later.occurred_at > Activity.occurred_at))
        .order_by(follow_up, Activity.id).limit(limit)).all()
    return [(activity, customer) for activity, customer in rows]
