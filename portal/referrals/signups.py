"""A referred friend registers: who gets the credit, and whether it counts."""
import sqlalchemy as sa

from ..auth.models import User, UserStatus
from ..errors import NotFound
from ..events import Verb, record_activity
from ..extensions import db
from ..payloads import ReferralRejected, ReferralSignedUp
from ..sqltypes import utcnow
from . import fraud
from .codes import referrer_for_code
from .models import Referral, ReferralSource, ReferralStatus


def record_signup(invitee, *, code=None, source=None, ip=None, device_id=None, now=None):
    """Credit a new member to whoever brought them, inside the registration's transaction (no commit).

    The referrer is the owner of `code` (typed, or the link's cookie), else the
    first member who invited this address by email and may still refer. Their
    pending invite, if any, becomes the referral; otherwise a new one is made
    with `source`. The first fraud rule that matches rejects it
    (REFERRAL_REJECTED, nothing earned); else it is signed_up
    (REFERRAL_SIGNED_UP, which the rewards subscribers pay for). Someone
    referred once is never referred again (a re-registration after deleting
    an account included). Returns the referral, or None.
    """
    owner = _owner(code)
    referral = _open_invite(invitee.email, owner)
    referrer = referral.referrer if referral is not None else owner
    if referrer is None:
        return None
    _serialise_signups_of(referrer)
    now = now or utcnow()
    if referral is None:
        if _already_referred(referrer, invitee.email):
            return None
        referral = Referral(referrer=referrer, code=referrer.referral_code, source=source or ReferralSource.CODE,
                            invitee_email=invitee.email, fraud_detail="", created_at=now)
        db.session.add(referral)
    referral.invitee_id, referral.ip_address, referral.device_id = invitee.id, ip, device_id
    violation = fraud.first_violation(fraud.SignupFacts(referrer, invitee, referral.code, ip, device_id, now))
    referral.signed_up_at = now
    people = {"referrer_id": referrer.id, "invitee_id": invitee.id}
    if violation is None:
        referral.status = ReferralStatus.SIGNED_UP
        db.session.flush()
        record_activity(Verb.REFERRAL_SIGNED_UP, actor=invitee, obj=referral, occurred_at=now,
                        payload=ReferralSignedUp(**people, source=str(referral.source)))
    else:
        referral.status = ReferralStatus.REJECTED
        referral.fraud_reason, referral.fraud_detail = str(violation[0]), violation[1]
        referral.rejected_at = referral.signed_up_at
        db.session.flush()
        record_activity(Verb.REFERRAL_REJECTED, actor=invitee, obj=referral, occurred_at=now,
                        payload=ReferralRejected(**people, reason=str(violation[0])))
    return referral


def _serialise_signups_of(referrer):
    """Lock the referrer's row until commit, so parallel sign-ups on one code are judged one at a time.

    Without it, fifteen sign-ups at once each count the same earlier ones and
    all pass the per-day limit. Each waits here, then counts what the ones
    before it committed. Taken before this sign-up writes anything that
    references the referrer: the foreign key's share lock would deadlock two
    sign-ups waiting for each other.
    """
    db.session.execute(sa.select(User.id).where(User.id == referrer.id).with_for_update())


def _owner(code):
    if not code:
        return None
    try:
        return referrer_for_code(code)
    except NotFound:
        return None  # the owner left between the check and now: the sign-up itself still stands


def _open_invite(email, referrer):
    """The invite to `email` still waiting: `referrer`'s if given, else the earliest from an active member."""
    query = (sa.select(Referral).join(User, User.id == Referral.referrer_id)
             .where(Referral.invitee_email == email, Referral.status == ReferralStatus.INVITED,
                    User.status == UserStatus.ACTIVE)
             .order_by(Referral.invited_at, Referral.id).limit(1))
    if referrer is not None:
        query = query.where(Referral.referrer_id == referrer.id)
    return db.session.scalar(query)


def _already_referred(referrer, email):
    return db.session.scalar(sa.select(sa.exists().where(Referral.referrer_id == referrer.id,
                                                          Referral.invitee_email == email)))
