"""Inviting a friend by email from the member's referrals page or the API."""
from typing import NamedTuple

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..auth.services import normalise_email, user_by_email
from ..emails import queue_mail
from ..errors import Conflict, Invalid, TooManyRequests
from ..events import Verb, record_activity
from ..extensions import db
from ..idempotency import insert_unless_exists
from ..payloads import ReferralInvited
from ..permissions import Permission, ensure
from ..sqltypes import start_of_utc_day, utcnow
from .codes import share_link
from .fraud import canonical_email, is_disposable
from .models import Referral, ReferralSource, ReferralStatus


class InviteRecipient(NamedTuple):
    """Who an invite mail goes to: not a member yet, so it is written in the referrer's language."""
    email: str
    locale: str | None
    name: str = ""


def invite_friend(referrer, email, *, now=None):
    """Invite `email` to join: one referral (status invited), one REFERRAL_INVITED, one mail; committed.

    Writes nothing and raises for a malformed or disposable address or the
    referrer's own (Invalid), an address that already has an account or that
    this member already invited (Conflict), and beyond REFERRAL_INVITES_PER_DAY
    invites in a UTC day (TooManyRequests). The mail leaves after the commit.
    """
    ensure(referrer, Permission.REFER)
    email = _check_address(referrer, email)
    now = now or utcnow()
    _check_daily_limit(referrer, now)
    inserted = insert_unless_exists(Referral, {
        "referrer_id": referrer.id, "code": referrer.referral_code, "source": ReferralSource.INVITE,
        "invitee_email": email, "status": ReferralStatus.INVITED, "fraud_detail": "", "invited_at": now,
        "created_at": now}, key=("referrer_id", "invitee_email"))
    if not inserted:
        message = _l("You have already invited this address.")
        raise Conflict("already_invited", message, fields={"email": message})
    referral = db.session.scalar(sa.select(Referral).where(Referral.referrer_id == referrer.id,
                                                           Referral.invitee_email == email))
    record_activity(Verb.REFERRAL_INVITED, actor=referrer, obj=referral, occurred_at=now,
                    payload=ReferralInvited(referrer_id=referrer.id, invitee_email=email))
    queue_mail(InviteRecipient(email, referrer.locale),
               _l("%(name)s invited you to %(community)s", name=referrer.name,
                  community=current_app.config["COMMUNITY_NAME"]),
               "referral_invite", referrer=referrer, link=share_link(referrer))
    db.session.commit()
    return referral


def _check_address(referrer, email):
    email = normalise_email(email)
    if canonical_email(email) == canonical_email(referrer.email):
        raise Invalid("own_address", fields={"email": _l("That is your own address. Invite a friend instead.")})
    if is_disposable(email):
        raise Invalid("disposable_email", fields={"email": _l(
            "That address belongs to a disposable-mail service. Invite your friend's real address.")})
    if user_by_email(email) is not None:
        message = _l("Someone with this address is already a member.")
        raise Conflict("already_member", message, fields={"email": message})
    return email


def _check_daily_limit(referrer, now):
    limit = current_app.config["REFERRAL_INVITES_PER_DAY"]
    sent = db.session.scalar(sa.select(sa.func.count()).select_from(Referral).where(
        Referral.referrer_id == referrer.id, Referral.source == ReferralSource.INVITE,
        Referral.invited_at >= start_of_utc_day(now)))
    if sent >= limit:
        raise TooManyRequests("invite_limit", _(
            "You can send %(n)d invitations a day. Please send the rest tomorrow.", n=limit))
