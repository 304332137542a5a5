"""Contacts outside the community (calls, emails, meetings, tickets, events, visits) and staff notes.

Each is an activity on the customer, so the 360 timeline reads them from
the same table as everything the customer's people did in the community.
Anyone who may see the customer may record them: sales reps call their
accounts, community staff meet theirs.
"""
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..audit import audit
from ..auth.models import User
from ..errors import Invalid
from ..events import OUTSIDE_CHANNELS, Activity, Channel, Verb, record_activity
from ..extensions import db
from ..idempotency import one_at_a_time
from ..payloads import CustomerNoteAdded, TouchpointRecorded
from ..permissions import Permission, ensure
from ..sqltypes import utcnow
from .models import CustomerNote
from .records import get_customer

CHANNEL_LABELS = {
    Channel.CALL: _l("Call"), Channel.EMAIL: _l("Email"), Channel.MEETING: _l("Meeting"),
    Channel.TICKET: _l("Support ticket"), Channel.EVENT: _l("Event"), Channel.VISIT: _l("Visit"),
    Channel.COMMUNITY: _l("Community"), Channel.API: _l("API"), Channel.IMPORT: _l("Import"),
}
SUMMARY_MAX, CONTACT_MAX, EXTERNAL_REF_MAX, NOTE_MAX = 2000, 120, 64, 5000
CLOCK_SKEW = timedelta(minutes=5)
OLDEST = timedelta(days=3650)


def record_touchpoint(actor, customer_id, *, channel, summary, occurred_at=None, contact="", staff_id=None,
                      follow_up_on=None, external_ref=None, now=None):
    """Record a contact with a customer outside the community; committed. Returns (activity, created).

    `occurred_at` defaults to now and can't be in the future; `staff_id` (who
    had the contact) defaults to the actor. With an `external_ref` the call is
    idempotent: the company's system may send the same ticket twice and gets
    the first one back (created False).
    """
    activity, created = add_touchpoint(actor, customer_id, channel=channel, summary=summary, occurred_at=occurred_at,
                                       contact=contact, staff_id=staff_id, follow_up_on=follow_up_on,
                                       external_ref=external_ref, now=now)
    db.session.commit()
    return activity, created


def add_touchpoint(actor, customer_id, *, channel, summary, occurred_at=None, contact="", staff_id=None,
                   follow_up_on=None, external_ref=None, now=None):
    """record_touchpoint() inside the caller's transaction (a retention case closes with one)."""
    ensure(actor, Permission.VIEW_CUSTOMERS)
    customer = get_customer(actor, customer_id)
    now = now or utcnow()
    facts = _checked_touchpoint(channel, summary, occurred_at, contact, follow_up_on, external_ref, now)
    if facts["external_ref"]:
        one_at_a_time(f"touchpoint:{customer.id}:{facts['external_ref']}")  # a retry sent at once waits here
        existing = _touchpoint_with_ref(customer.id, facts["external_ref"])
        if existing is not None:
            return existing, False
    staff = _staff_member(staff_id) if staff_id is not None else actor
    activity = record_activity(
        Verb.TOUCHPOINT_RECORDED, actor=actor, obj=customer, customer_id=customer.id, channel=facts["channel"],
        occurred_at=facts["occurred_at"],
        payload=TouchpointRecorded(summary=facts["summary"], contact=facts["contact"],
                                   staff_id=staff.id if staff is not None else None,
                                   follow_up_on=facts["follow_up_on"], external_ref=facts["external_ref"]))
    audit(actor, "customer.touchpoint_recorded", customer, now=now, channel=str(facts["channel"]),
          activity_id=activity.id)
    return activity, True


def _checked_touchpoint(channel, summary, occurred_at, contact, follow_up_on, external_ref, now):
    errors, facts = {}, {}
    try:
        facts["channel"] = Channel(str(channel or "").strip().lower())
        if facts["channel"] not in OUTSIDE_CHANNELS:
            raise ValueError
    except ValueError:
        errors["channel"] = _l("Choose call, email, meeting, ticket, event or visit.")
    facts["summary"] = (summary or "").strip()
    if not facts["summary"] or len(facts["summary"]) > SUMMARY_MAX:
        errors["summary"] = _l("Say what was discussed, in at most %(n)d characters.", n=SUMMARY_MAX)
    facts["contact"] = " ".join((contact or "").split())
    if len(facts["contact"]) > CONTACT_MAX:
        errors["contact"] = _l("Keep it to %(n)d characters.", n=CONTACT_MAX)
    facts["occurred_at"] = _moment(occurred_at, now, errors)
    facts["follow_up_on"] = _day(follow_up_on, errors)
    facts["external_ref"] = (str(external_ref).strip() or None) if external_ref is not None else None
    if facts["external_ref"] and len(facts["external_ref"]) > EXTERNAL_REF_MAX:
        errors["external_ref"] = _l("Keep it to %(n)d characters.", n=EXTERNAL_REF_MAX)
    if errors:
        raise Invalid(fields=errors)
    return facts


def _moment(value, now, errors):
    if value in (None, ""):
        return now
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            errors["occurred_at"] = _l("Give the time as YYYY-MM-DDTHH:MM.")
            return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=now.tzinfo)
    if value > now + CLOCK_SKEW:
        errors["occurred_at"] = _l("A touchpoint can't be in the future.")
    elif value < now - OLDEST:
        errors["occurred_at"] = _l("That is more than ten years ago.")
    return value


def _day(value, errors):
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors["follow_up_on"] = _l("Give the date as YYYY-MM-DD.")
        return None


def _staff_member(user_id):
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.is_staff:
        raise Invalid(fields={"staff_id": _l("Choose a member of staff.")})
    return user


def _touchpoint_with_ref(customer_id, external_ref):
    return db.session.scalar(sa.select(Activity).where(
        Activity.customer_id == customer_id, Activity.verb == str(Verb.TOUCHPOINT_RECORDED),
        Activity.payload["external_ref"].as_string() == external_ref).limit(1))


def add_note(actor, customer_id, body, *, now=None):
    """A staff note on a customer, seen by every staff member who sees the customer; committed."""
    ensure(actor, Permission.VIEW_CUSTOMERS)
    customer = get_customer(actor, customer_id)
    body = (body or "").strip()
    if not body or len(body) > NOTE_MAX:
        raise Invalid(fields={"body": _l("Write the note, in at most %(n)d characters.", n=NOTE_MAX)})
    now = now or utcnow()
    note = CustomerNote(customer_id=customer.id, author_id=actor.id, body=body, created_at=now)
    db.session.add(note)
    db.session.flush()
    record_activity(Verb.CUSTOMER_NOTE_ADDED, actor=actor, obj=customer, customer_id=customer.id, occurred_at=now,
                    payload=CustomerNoteAdded(note_id=note.id))
    audit(actor, "customer.note_added", customer, now=now, note_id=note.id)
    db.session.commit()
    return note
