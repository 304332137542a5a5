"""A sale the company made, as the customer record hears of it: a won lead adds its value to the revenue and
its products to the purchase history, through the one door every record change takes (records.write_customers),
so the tier, the lifecycle stage and future value follow.

A lead won for a member with no customer record makes their record, which
their address links them to.
"""
from ..auth.models import User
from ..events import Verb, listens_to
from ..extensions import db
from .models import Customer, CustomerSource
from .records import check_customer, write_customers

CAUSE = "lead.won"


@listens_to(Verb.LEAD_STATUS_CHANGED)
def lead_won(verb, activity, actor=None, **extra):
    payload = activity.payload
    if payload["to_status"] != "won":
        return
    customer = db.session.get(Customer, activity.customer_id) if activity.customer_id else None
    member = db.session.get(User, payload["member_id"]) if payload.get("member_id") else None
    record_sale(actor, customer, member=member, value=payload["value"], products=payload["products"],
                on=activity.occurred_at.date())


def record_sale(actor, customer, *, member=None, value, products, on):
    """Add a sale to `customer` (or make the record of `member`, who has none), in the caller's transaction."""
    from decimal import Decimal

    amount = Decimal(str(value or 0))
    bought = [{"product": name, "purchased_on": on.isoformat(), "quantity": 1} for name in products]
    if customer is None:
        if member is None:
            return None
        raw = {"name": member.name, "email": member.email, "source": CustomerSource.COMMUNITY.value,
               "revenue": str(amount), "first_purchase_at": on.isoformat(), "last_purchase_at": on.isoformat(),
               "products": bought}
    else:
        owned = [{"product": p.product, "purchased_on": p.purchased_on.isoformat(), "quantity": p.quantity}
                 for p in customer.products]
        raw = {"revenue": str((customer.revenue or Decimal("0")) + amount), "last_purchase_at": on.isoformat(),
               "products": owned + bought}
        if customer.first_purchase_at is None:
            raw["first_purchase_at"] = on.isoformat()
    plan = check_customer(None, customer, raw, now=None)
    return write_customers(actor, [plan], cause=CAUSE)[0].customer
