"""Keeping records true: members confirm or correct their company's details about once a year.

A gentle prompt on the member's profile page, never a wall: it shows when the
record they belong to hasn't been verified for CUSTOMER_VERIFY_EVERY_DAYS,
and "not now" puts it away for a month. A member sees only their own
company's contact details (name, phone, region, industry, size), never what
staff know about it.
"""
from datetime import timedelta

from flask import current_app

from ..errors import Forbidden
from ..events import Verb, record_activity
from ..extensions import db
from ..payloads import CustomerVerified
from ..sqltypes import utcnow
from .records import save_customer

MEMBER_EDITABLE = ("company", "phone", "region", "industry", "size")
SNOOZE_DAYS = 30


def details_due(member, *, snoozed_until=None, now=None):
    """The customer whose details `member` should confirm now, or None."""
    now = now or utcnow()
    customer = member.customer if getattr(member, "is_authenticated", False) else None
    if customer is None or member.is_staff or (snoozed_until and snoozed_until > now.timestamp()):
        return None
    every = timedelta(days=current_app.config["CUSTOMER_VERIFY_EVERY_DAYS"])
    if customer.last_verified_at is not None and customer.last_verified_at > now - every:
        return None
    return customer


def confirm_company_details(member, corrections=None, *, now=None):
    """The member says their company's details are right, correcting any of MEMBER_EDITABLE; committed.

    Corrections are checked as a staff edit would be (Invalid names the
    fields) and recorded with the member as the one who made them.
    """
    customer = member.customer
    if customer is None or member.is_staff:
        raise Forbidden()
    now = now or utcnow()
    changes = {name: value for name, value in (corrections or {}).items() if name in MEMBER_EDITABLE}
    if changes:
        save_customer(None, customer, changes, cause=f"Corrected by {member.name}", now=now, editor=member)
    customer.last_verified_at = now
    record_activity(Verb.CUSTOMER_VERIFIED, actor=member, obj=customer, customer_id=customer.id, occurred_at=now,
                    payload=CustomerVerified(by_member=True))
    db.session.commit()
    return customer


def snooze_until(now=None):
    """When a "not now" ends, as a timestamp for the session."""
    return ((now or utcnow()) + timedelta(days=SNOOZE_DAYS)).timestamp()
