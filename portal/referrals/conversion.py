"""A referred friend's customer account becomes a customer: the referral converts, once."""
import sqlalchemy as sa

from ..auth.models import User
from ..crm.models import LifecycleStage
from ..events import Verb, record_activity
from ..extensions import db
from ..payloads import ReferralConverted
from ..sqltypes import utcnow
from .models import Referral, ReferralStatus

BUYING_STAGES = frozenset({LifecycleStage.CUSTOMER, LifecycleStage.REPEAT_CUSTOMER})
# A churned customer coming back was a customer before any referral: that is no conversion.
NOT_YET_BOUGHT = frozenset({LifecycleStage.STRANGER, LifecycleStage.PROSPECT, LifecycleStage.DORMANT_PROSPECT,
                            LifecycleStage.LOST_PROSPECT})


def is_first_purchase(old_stage, new_stage):
    return old_stage in NOT_YET_BOUGHT and new_stage in BUYING_STAGES


def convert_referrals(customer_id, *, actor=None, now=None):
    """Mark the signed-up referrals of the customer's members converted, each once, inside the caller's
    transaction: one conditional UPDATE per referral decides, then one REFERRAL_CONVERTED
    (actor: who changed the stage). Rejected and already converted referrals are left alone.
    Returns the converted referrals.
    """
    candidates = db.session.scalars(
        sa.select(Referral).join(User, User.id == Referral.invitee_id)
        .where(User.customer_id == customer_id, Referral.status == ReferralStatus.SIGNED_UP)
        .order_by(Referral.id)
    ).all()
    converted = []
    for referral in candidates:
        won = db.session.execute(
            sa.update(Referral)
            .where(Referral.id == referral.id, Referral.status == ReferralStatus.SIGNED_UP)
            .values(status=ReferralStatus.CONVERTED, converted_at=now or utcnow())
            .returning(Referral.id)
        ).first()
        if won is None:
            continue
        record_activity(Verb.REFERRAL_CONVERTED, actor=actor, obj=referral, customer_id=customer_id, occurred_at=now,
                        payload=ReferralConverted(referrer_id=referral.referrer_id, invitee_id=referral.invitee_id))
        converted.append(referral)
    return converted
