"""The lifecycle rules: stage moves that follow from purchases, silence and renewals.

Every move goes through lifecycle.move_stage (the one door), with the rule as
its cause, so it is on the 360 timeline and in the audit log. An admin sets
the numbers (crm.rules): days of silence before a prospect goes dormant and
then lost, and days past a renewal before a customer counts as churned; 0
turns a rule off.
"""
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import load_only

from ..extensions import db
from ..idempotency import one_at_a_time
from ..sqltypes import utcnow
from .lifecycle import move_stage, move_stages
from .models import Customer, LifecycleStage
from .rules import crm_rules

Stage = LifecycleStage
NOT_YET_BOUGHT = (Stage.STRANGER, Stage.PROSPECT, Stage.DORMANT_PROSPECT, Stage.LOST_PROSPECT)
PAYING = (Stage.CUSTOMER, Stage.REPEAT_CUSTOMER)
# The record fields that say what was bought.
PURCHASE_FIELDS = {"products", "first_purchase_at", "last_purchase_at"}
BATCH = 1000  # stage moves written per flush


def purchases_of(customer):
    """How many purchases the record shows: distinct purchase days of its products, or its purchase dates."""
    days = {product.purchased_on for product in customer.products}
    days |= {day for day in (customer.first_purchase_at, customer.last_purchase_at) if day}
    return len(days)


def purchase_move(customer):
    """(stage, cause) the customer's purchases call for, or None."""
    stage, purchases = customer.lifecycle_stage, purchases_of(customer)
    if stage == Stage.CHURNED_CUSTOMER:
        churned_on = (customer.stage_changed_at or customer.created_at).date()
        if customer.last_purchase_at and customer.last_purchase_at > churned_on:
            return Stage.REPEAT_CUSTOMER, "rule.won_back"
        return None
    if purchases >= 2 and stage in (*NOT_YET_BOUGHT, Stage.CUSTOMER):
        return Stage.REPEAT_CUSTOMER, "rule.second_purchase"
    if purchases == 1 and stage in NOT_YET_BOUGHT:
        return Stage.CUSTOMER, "rule.first_purchase"
    return None


def apply_purchase_rules(customer, *, now=None):
    """Move `customer` as their purchases say (first, second, bought again after churning); in the caller's
    transaction. Returns whether it moved."""
    move = purchase_move(customer)
    if move is None:
        return False
    return move_stage(None, customer, move[0], cause=move[1], now=now)


def _narrowed(query, only):
    return (query.where(Customer.id.in_(only)) if only is not None else query).order_by(Customer.id)


def apply_time_rules(*, now=None, only=None):
    """Every move that time makes, for all customers (or the ids in `only`); in the caller's transaction.
    Returns how many moved.

    A prospect silent for dormant_after_days (and not moved to prospect
    since) goes dormant, and once silent for lost_after_days lost; a
    dormant prospect heard from again is a prospect again (a lost one moves
    only by hand); a customer whose renewal is renewal_grace_days overdue
    with no purchase since has churned; a churned customer who bought after
    churning is won back.
    """
    one_at_a_time("crm.time_rules")  # two runs at once would both move (and record) each customer
    now, rules = now or utcnow(), crm_rules()
    last_heard = sa.func.coalesce(Customer.last_touch_at, Customer.created_at)
    staged_at = sa.func.coalesce(Customer.stage_changed_at, Customer.created_at)
    moves = []
    if rules.dormant_after_days:
        cutoff = now - timedelta(days=rules.dormant_after_days)
        moves.append((Customer.lifecycle_stage == Stage.PROSPECT, sa.and_(last_heard < cutoff, staged_at < cutoff),
                      Stage.DORMANT_PROSPECT, "rule.prospect_silent"))
    if rules.lost_after_days:
        moves.append((Customer.lifecycle_stage == Stage.DORMANT_PROSPECT,
                      last_heard < now - timedelta(days=rules.lost_after_days),
                      Stage.LOST_PROSPECT, "rule.dormant_silent"))
    moves.append((Customer.lifecycle_stage == Stage.DORMANT_PROSPECT, Customer.last_touch_at > staged_at,
                  Stage.PROSPECT, "rule.came_back"))
    if rules.renewal_grace_days:
        moves.append((Customer.lifecycle_stage.in_(PAYING),
                      sa.and_(Customer.renewal_date < (now - timedelta(days=rules.renewal_grace_days)).date(),
                              sa.or_(Customer.last_purchase_at.is_(None),
                                     Customer.last_purchase_at < Customer.renewal_date)),
                      Stage.CHURNED_CUSTOMER, "rule.renewal_lapsed"))
    moved = 0
    for in_stage, condition, stage, cause in moves:
        # Only what a move reads: a first run may move tens of thousands of records.
        customers = db.session.scalars(_narrowed(sa.select(Customer).where(in_stage, condition), only).options(
            load_only(Customer.id, Customer.lifecycle_stage, Customer.stage_changed_at))).all()
        for start in range(0, len(customers), BATCH):
            moved += move_stages(None, [(c, stage) for c in customers[start:start + BATCH]], cause=cause, now=now)
    # Churned customers who may have bought since: the purchase rules decide.
    for customer in db.session.scalars(_narrowed(sa.select(Customer).where(
            Customer.lifecycle_stage == Stage.CHURNED_CUSTOMER, Customer.last_purchase_at.is_not(None)), only)):
        moved += apply_purchase_rules(customer, now=now)
    return moved
