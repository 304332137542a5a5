"""The value pyramid and the tier-by-stage matrix: where the viewer's customers stand, in one grouped query."""
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from ..extensions import db
from .models import Customer, LifecycleStage, ValueTier
from .records import visible_customers


@dataclass
class TierTotals:
    tier: ValueTier
    count: int = 0
    revenue: Decimal = Decimal(0)
    share: float = 0.0          # of all revenue, 0-1
    by_stage: dict = field(default_factory=dict)


@dataclass
class Overview:
    tiers: list                 # TierTotals, key first
    stages: list                # LifecycleStage, in lifecycle order
    count: int = 0
    revenue: Decimal = Decimal(0)

    def stage_total(self, stage):
        return sum(tier.by_stage.get(stage, 0) for tier in self.tiers)


def customer_overview(viewer):
    """Counts and revenue per value tier, and counts per tier and lifecycle stage, of the customers
    `viewer` may see."""
    rows = db.session.execute(
        visible_customers(viewer)
        .with_only_columns(Customer.value_tier, Customer.lifecycle_stage, sa.func.count(),
                           sa.func.coalesce(sa.func.sum(Customer.revenue), 0))
        .group_by(Customer.value_tier, Customer.lifecycle_stage)).all()
    tiers = {tier: TierTotals(tier) for tier in ValueTier}
    for tier, stage, count, revenue in rows:
        totals = tiers[ValueTier(tier)]
        totals.count += count
        totals.revenue += Decimal(revenue or 0)
        totals.by_stage[LifecycleStage(stage)] = count
    overview = Overview(tiers=list(tiers.values()), stages=list(LifecycleStage),
                        count=sum(t.count for t in tiers.values()),
                        revenue=sum((t.revenue for t in tiers.values()), Decimal(0)))
    for totals in overview.tiers:
        totals.share = float(totals.revenue / overview.revenue) if overview.revenue else 0.0
    return overview
