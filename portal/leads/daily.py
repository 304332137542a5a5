"""The leads' daily run: neglected leads back to the pool, signals that come from the records rather than
from an action (a product past its replacement cycle, a prospect account taking part strongly), and every
open lead's score decayed to today."""
import logging
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from ..crm.models import Customer, CustomerProduct, LifecycleStage
from ..crm.rules import crm_rules
from ..extensions import db
from ..sqltypes import utcnow
from .models import LeadSignal, SignalKind
from .pipeline import sweep
from .rules import lead_rules
from .scoring import add_signal, has_recent_signal, rescore_open_leads, subject_of

log = logging.getLogger(__name__)
PROSPECTS = (LifecycleStage.STRANGER, LifecycleStage.PROSPECT)
BATCH = 200


@dataclass(frozen=True)
class DailyRun:
    returned: int
    replacements: int
    prospects: int
    rescored: int


def run_daily(*, now=None):
    """Everything the leads do once a day; each step committed on its own. What each did."""
    now = now or utcnow()
    returned = sweep(now=now)
    replacements = signal_replacements_due(now=now)
    prospects = signal_engaged_prospects(now=now)
    rescored = rescore_open_leads(now=now)
    done = DailyRun(returned, replacements, prospects, rescored)
    log.info("leads daily run: %s", done)
    return done


def run_daily_message(message):
    run_daily()


def signal_replacements_due(*, now=None):
    """A signal for each product a customer has had longer than its replacement cycle (once per purchase)."""
    now = now or utcnow()
    cycles = {name.casefold(): years for name, years in crm_rules().product_cycles.items()}
    if not cycles:
        return 0
    earlier = db.session.scalars(sa.select(LeadSignal).where(LeadSignal.kind == SignalKind.REPLACEMENT_DUE))
    seen = {(signal.subject, signal.detail.get("product"), signal.detail.get("purchased_on")) for signal in earlier}
    added = 0
    rows = db.session.execute(sa.select(CustomerProduct.customer_id, CustomerProduct.product,
                                        CustomerProduct.purchased_on)).all()
    for customer_id, product, purchased_on in rows:
        years = cycles.get(product.casefold())
        if not years or (now.date() - purchased_on).days < years * 365.25:
            continue
        key = (subject_of(customer_id, None), product, purchased_on.isoformat())
        if key in seen:
            continue
        seen.add(key)
        add_signal(SignalKind.REPLACEMENT_DUE, customer_id=customer_id, now=now,
                   detail={"product": product, "purchased_on": purchased_on.isoformat(), "cycle_years": years})
        added += 1
        if added % BATCH == 0:
            db.session.commit()
    db.session.commit()
    return added


def signal_engaged_prospects(*, now=None):
    """A signal for each prospect account whose engagement reached the admin's score (once a month at most)."""
    now = now or utcnow()
    rules = lead_rules()
    since = now - timedelta(days=30)
    ids = db.session.scalars(sa.select(Customer.id).where(
        Customer.lifecycle_stage.in_(PROSPECTS), Customer.engagement_score >= rules.prospect_engaged_score)).all()
    added = 0
    for customer_id in ids:
        if has_recent_signal(subject_of(customer_id, None), SignalKind.PROSPECT_ENGAGED, since=since):
            continue
        score = db.session.scalar(sa.select(Customer.engagement_score).where(Customer.id == customer_id))
        add_signal(SignalKind.PROSPECT_ENGAGED, customer_id=customer_id, now=now, detail={"engagement_score": score})
        added += 1
        if added % BATCH == 0:
            db.session.commit()
    db.session.commit()
    return added
