"""Fraud rules for referred sign-ups: small named checks, the first that matches rejects.

Each rule takes the facts of one sign-up and returns (reason, detail) or
None. The reason is a stable key (shown to staff by its label); the detail is
what the rule saw, stored as plain facts (addresses, ids, counts) so it reads
the same in any language.
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from disposable_email_domains import blocklist
from flask import current_app
from flask_babel import lazy_gettext as _l

from ..auth.models import User
from ..extensions import db
from ..sqltypes import LabelledEnum, start_of_utc_day, utcnow
from .models import Referral, Sighting

DETAIL_MAX = 300
GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


class FraudReason(LabelledEnum):
    SAME_EMAIL = "same_email", _l("Self-referral: same email address")
    SAME_CUSTOMER = "same_customer", _l("Self-referral: same customer account")
    SAME_DEVICE = "same_device", _l("Self-referral: same device")
    SAME_IP = "same_ip", _l("Self-referral: same IP address")
    DISPOSABLE_EMAIL = "disposable_email", _l("Disposable email address")
    TOO_MANY_SIGNUPS = "too_many_signups", _l("Too many sign-ups with one code in a day")


def reason_label(key):
    """The label of a stored reason key (a key from an older rule shows as itself)."""
    try:
        return FraudReason(key).label
    except ValueError:
        return key


@dataclass(frozen=True)
class SignupFacts:
    referrer: User
    invitee: User
    code: str
    ip: str | None = None
    device_id: str | None = None
    at: datetime = field(default_factory=utcnow)  # when the sign-up happens: the window and the day count from it


def canonical_email(email):
    """One spelling per mailbox: lower case, no +tag, and for Gmail no dots (googlemail is gmail)."""
    local, _at, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def is_disposable(email):
    """Whether the address's domain, or a domain above it, is a known throwaway-mail service."""
    labels = email.rpartition("@")[2].lower().split(".")
    return any(".".join(labels[i:]) in blocklist for i in range(len(labels) - 1))


def _since_window(facts):
    return facts.at - timedelta(days=current_app.config["REFERRAL_FRAUD_WINDOW_DAYS"])


def _referrer_seen_with(facts, column, value):
    """When the referrer was last seen with this address or device within the fraud window, or None."""
    if not value:
        return None
    return db.session.scalar(
        sa.select(sa.func.max(Sighting.seen_at))
        .where(Sighting.user_id == facts.referrer.id, column == value, Sighting.seen_at >= _since_window(facts)))


# -- the rules ----------------------------------------------------------------------------------

def same_email(facts):
    mailbox = canonical_email(facts.referrer.email)
    if mailbox == canonical_email(facts.invitee.email):
        return FraudReason.SAME_EMAIL, f"{facts.referrer.email} / {facts.invitee.email} -> {mailbox}"
    return None


def same_customer(facts):
    customer_id = facts.referrer.customer_id
    if customer_id is not None and customer_id == facts.invitee.customer_id:
        return FraudReason.SAME_CUSTOMER, f"customer #{customer_id}"
    return None


def same_device(facts):
    seen = _referrer_seen_with(facts, Sighting.device_id, facts.device_id)
    if seen is not None:
        return FraudReason.SAME_DEVICE, f"device {facts.device_id[:12]}…, referrer seen {seen:%Y-%m-%d %H:%M} UTC"
    return None


def same_ip(facts):
    seen = _referrer_seen_with(facts, Sighting.ip_address, facts.ip)
    if seen is not None:
        return FraudReason.SAME_IP, f"ip {facts.ip}, referrer seen {seen:%Y-%m-%d %H:%M} UTC"
    return None


def disposable_email(facts):
    if is_disposable(facts.invitee.email):
        return FraudReason.DISPOSABLE_EMAIL, f"domain {facts.invitee.email.rpartition('@')[2]}"
    return None


def too_many_signups(facts):
    """More than REFERRAL_SIGNUPS_PER_CODE_PER_DAY sign-ups (rejected ones too) with one code in a UTC day."""
    limit = current_app.config["REFERRAL_SIGNUPS_PER_CODE_PER_DAY"]
    today = facts.at.date()
    earlier = db.session.scalar(
        sa.select(sa.func.count()).select_from(Referral)
        .where(Referral.code == facts.code,
               Referral.signed_up_at >= start_of_utc_day(facts.at)))
    if earlier >= limit:
        return FraudReason.TOO_MANY_SIGNUPS, f"sign-up {earlier + 1} with code {facts.code} on {today} (limit {limit})"
    return None


RULES = (same_email, same_customer, same_device, same_ip, disposable_email, too_many_signups)


def first_violation(facts):
    """(reason, detail) of the first rule the sign-up breaks, or None when it may count."""
    for rule in RULES:
        found = rule(facts)
        if found is not None:
            reason, detail = found
            return reason, detail[:DETAIL_MAX]
    return None
