"""What the CRM hears on the spine: each touchpoint moves the customer's last touch forward."""
import sqlalchemy as sa

from ..events import Activity, Verb, listens_to
from ..extensions import db
from .models import Customer

# What counts as the customer being in touch: their people taking part in the community, and
# contacts outside it. Reading (visits, follows) and staff's own records (notes, edits) don't.
TOUCH_VERBS = (
    Verb.REGISTERED, Verb.TOPIC_CREATED, Verb.POST_CREATED, Verb.VOTED, Verb.ANSWER_ACCEPTED,
    Verb.POST_FLAGGED, Verb.REFERRAL_INVITED, Verb.TOUCHPOINT_RECORDED,
)


@listens_to(*TOUCH_VERBS)
def customer_touched(verb, activity, **extra):
    if activity.customer_id is None:
        return
    at = activity.occurred_at
    db.session.execute(sa.update(Customer).where(
        Customer.id == activity.customer_id,
        sa.or_(Customer.last_touch_at.is_(None), Customer.last_touch_at < at)).values(last_touch_at=at))


def refresh_last_touch(customer_id):
    """Work the last touch out again from the spine (after a member's history moved in or out).

    Runs inside the caller's transaction.
    """
    latest = sa.select(sa.func.max(Activity.occurred_at)).where(
        Activity.customer_id == customer_id, Activity.verb.in_([str(v) for v in TOUCH_VERBS])).scalar_subquery()
    db.session.execute(sa.update(Customer).where(Customer.id == customer_id).values(last_touch_at=latest))
