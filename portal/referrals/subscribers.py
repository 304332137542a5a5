"""What referrals hear on the activity spine, written in the same transaction as the action."""
import sqlalchemy as sa

from ..crm.models import LifecycleStage
from ..events import Verb, listens_to
from ..extensions import db
from .conversion import convert_referrals, is_first_purchase
from .models import Referral, Sighting
from .sightings import note_sighting


@listens_to(Verb.REGISTERED, Verb.LOGGED_IN, Verb.VISITED)
def account_seen(verb, activity, **extra):
    note_sighting(activity.actor_id)


@listens_to(Verb.CUSTOMER_STAGE_CHANGED)
def customer_stage_changed(verb, activity, payload, actor=None, **extra):
    """A first purchase (a non-customer stage becoming customer or repeat customer) converts referrals."""
    if is_first_purchase(LifecycleStage(payload.from_stage), LifecycleStage(payload.to_stage)):
        convert_referrals(activity.customer_id, actor=actor, now=activity.occurred_at)


@listens_to(Verb.ACCOUNT_DELETED)
def account_deleted(verb, activity, **extra):
    """A deleted account leaves no address behind: not in the referral that brought it, nor where it was seen."""
    user_id = activity.actor_id
    db.session.execute(sa.update(Referral).where(Referral.invitee_id == user_id)
                       .values(invitee_email=f"deleted-{user_id}@deleted.invalid", ip_address=None, device_id=None))
    db.session.execute(sa.delete(Sighting).where(Sighting.user_id == user_id))
