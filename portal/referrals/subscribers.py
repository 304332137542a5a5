"""What referrals hear on the activity spine, written in the same transaction as the action."""
import sqlalchemy as sa

from ..crm.models import LifecycleStage
from ..events import Verb, activity_recorded
from ..extensions import db
from .conversion import convert_referrals, is_first_purchase
from .models import Referral, Sighting
from .sightings import note_sighting


@activity_recorded.connect_via(Verb.REGISTERED)
@activity_recorded.connect_via(Verb.LOGGED_IN)
@activity_recorded.connect_via(Verb.VISITED)
def account_seen(verb, activity, **extra):
    note_sighting(activity.actor_id)


@activity_recorded.connect_via(Verb.CUSTOMER_STAGE_CHANGED)
def customer_stage_changed(verb, activity, actor=None, **extra):
    """A first purchase (a non-customer stage becoming customer or repeat customer) converts referrals."""
    try:
        old, new = LifecycleStage(activity.payload["from"]), LifecycleStage(activity.payload["to"])
    except (KeyError, ValueError):
        return
    if is_first_purchase(old, new):
        convert_referrals(activity.customer_id, actor=actor)


@activity_recorded.connect_via(Verb.ACCOUNT_DELETED)
def account_deleted(verb, activity, **extra):
    """A deleted account leaves no address behind: not in the referral that brought it, nor where it was seen."""
    user_id = activity.actor_id
    db.session.execute(sa.update(Referral).where(Referral.invitee_id == user_id)
                       .values(invitee_email=f"deleted-{user_id}@deleted.invalid", ip_address=None, device_id=None))
    db.session.execute(sa.delete(Sighting).where(Sighting.user_id == user_id))
