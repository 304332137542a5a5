"""Signals add up to a score; a score past the threshold makes a lead, or raises the open one.

Whose lead it is (the subject) is the customer when there is a record, else
the member. Signals wait, unattached, until their subject's decayed total
passes the threshold; then they belong to the lead they made. One open lead
per subject is a partial unique index; `one_at_a_time` on the subject makes
two posts of one customer at once wait for each other instead of failing.
"""
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import load_only

from ..crm.models import Customer, LifecycleStage
from ..events import Verb, record_activity
from ..extensions import db
from ..idempotency import one_at_a_time
from ..payloads import LeadCreated
from ..sqltypes import utcnow
from .models import OPEN_STATUSES, Lead, LeadKind, LeadSignal, LeadStatus, SignalKind
from .rules import lead_rules

# Signals older than this no longer count towards a new lead, whatever their half-life.
SIGNAL_HORIZON = timedelta(days=365)
PAYING = (LifecycleStage.CUSTOMER, LifecycleStage.REPEAT_CUSTOMER)


def subject_of(customer_id, member_id):
    return f"customer:{customer_id}" if customer_id is not None else f"member:{member_id}"


def kind_for(signal_kind, stage):
    """The lead kind a signal calls for, given the customer's lifecycle stage (None: no customer record)."""
    signal_kind = SignalKind(signal_kind)
    if signal_kind == SignalKind.REFERRAL_SIGNUP:
        return LeadKind.REFERRAL
    if signal_kind == SignalKind.REPLACEMENT_DUE:
        return LeadKind.REPURCHASE
    if signal_kind == SignalKind.CAME_BACK or stage == LifecycleStage.CHURNED_CUSTOMER:
        return LeadKind.WIN_BACK
    if stage in PAYING:
        return LeadKind.UPGRADE if signal_kind == SignalKind.HIGHER_PLAN else LeadKind.UPSELL
    return LeadKind.NEW_BUSINESS


def decayed_total(signals, now):
    return sum(signal.points_at(now) for signal in signals)


def strongest(signals, now):
    return max(signals, key=lambda signal: (signal.points_at(now), signal.occurred_at))


def open_lead_of(subject):
    return db.session.scalar(sa.select(Lead).where(Lead.subject == subject, Lead.status.in_(OPEN_STATUSES)))


def add_signal(kind, *, customer_id=None, member_id=None, occurred_at=None, activity_id=None, topic_id=None,
               post_id=None, detail=None, flagged_by_id=None, now=None):
    """Record one signal in the caller's transaction and act on it; the lead it made or raised, or None.

    A kind an admin weighted at 0 records nothing.
    """
    now = now or utcnow()
    weight = lead_rules().weight(kind)
    if weight.points == 0:
        return None
    subject = subject_of(customer_id, member_id)
    one_at_a_time(f"leads.subject:{subject}")
    signal = LeadSignal(subject=subject, kind=SignalKind(kind), points=weight.points,
                        half_life_days=weight.half_life_days, member_id=member_id, activity_id=activity_id,
                        topic_id=topic_id, post_id=post_id, detail=detail or {}, flagged_by_id=flagged_by_id,
                        occurred_at=occurred_at or now)
    db.session.add(signal)
    db.session.flush()
    return _act_on_signals(subject, customer_id=customer_id, member_id=member_id, now=now)


def _act_on_signals(subject, *, customer_id, member_id, now):
    waiting = db.session.scalars(sa.select(LeadSignal).where(
        LeadSignal.subject == subject, LeadSignal.lead_id.is_(None),
        LeadSignal.occurred_at >= now - SIGNAL_HORIZON)).all()
    lead = open_lead_of(subject)
    if lead is not None:
        for signal in waiting:
            signal.lead = lead
        rescore(lead, now=now)
        return lead
    # Whole points, as the score is shown: a signal seconds old is still worth its weight.
    if round(decayed_total(waiting, now)) < lead_rules().threshold:
        return None
    return _create_lead(subject, waiting, customer_id=customer_id, member_id=member_id, now=now)


def _create_lead(subject, signals, *, customer_id, member_id, now):
    stage = None
    if customer_id is not None:
        stage = db.session.scalar(sa.select(Customer.lifecycle_stage).where(Customer.id == customer_id))
    best = strongest(signals, now)
    lead = Lead(subject=subject, customer_id=customer_id, member_id=None if customer_id else member_id,
                kind=kind_for(best.kind, stage), source=best.kind, status=LeadStatus.POOL,
                score=round(decayed_total(signals, now)), scored_at=now, created_at=now, updated_at=now)
    db.session.add(lead)
    for signal in signals:
        signal.lead = lead
    db.session.flush()
    ordered = sorted(signals, key=lambda s: s.points_at(now), reverse=True)
    record_activity(Verb.LEAD_CREATED, obj=lead, customer_id=customer_id, occurred_at=now,
                    payload=LeadCreated(lead_id=lead.id, kind=lead.kind, score=lead.score, member_id=lead.member_id,
                                        source=lead.source, signals=[str(s.kind) for s in ordered]))
    return lead


def rescore(lead, *, now=None):
    """The lead's score again from its signals' decay; an unclaimed lead also takes its strongest signal's kind."""
    now = now or utcnow()
    signals = db.session.scalars(sa.select(LeadSignal).options(load_only(
        LeadSignal.kind, LeadSignal.points, LeadSignal.half_life_days, LeadSignal.occurred_at))
        .where(LeadSignal.lead_id == lead.id)).all()
    if not signals:
        return lead
    score = round(decayed_total(signals, now))
    if score != lead.score:
        lead.score, lead.updated_at = score, now
    lead.scored_at = now
    if lead.status == LeadStatus.POOL:
        best = strongest(signals, now)
        stage = lead.customer.lifecycle_stage if lead.customer_id else None
        lead.source, lead.kind = best.kind, kind_for(best.kind, stage)
    return lead


def rescore_open_leads(*, now=None, batch=500):
    """Let every open lead's score decay to today (the daily run); committed per batch. How many changed."""
    now = now or utcnow()
    changed, last_id = 0, 0
    while True:
        leads = db.session.scalars(sa.select(Lead).where(Lead.status.in_(OPEN_STATUSES), Lead.id > last_id)
                                   .order_by(Lead.id).limit(batch)).all()
        if not leads:
            return changed
        for lead in leads:
            before = lead.score
            rescore(lead, now=now)
            changed += lead.score != before
        last_id = leads[-1].id
        db.session.commit()


def has_recent_signal(subject, kind, *, since):
    """Whether `subject` had a signal of `kind` since `since` (signals that recur, once per period)."""
    return db.session.scalar(sa.select(LeadSignal.id).where(
        LeadSignal.subject == subject, LeadSignal.kind == SignalKind(kind),
        LeadSignal.occurred_at >= since).limit(1)) is not None
