"""Customer records: linking members to accounts, value tiers."""
from decimal import Decimal

import sqlalchemy as sa

from ..extensions import db
from .models import Customer, ValueTier

# Addresses at these domains say nothing about the employer.
FREEMAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com",
    "icloud.com", "me.com", "proton.me", "protonmail.com", "aol.com", "gmx.com", "mail.com",
    "qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "yeah.net", "aliyun.com",
})


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
