"""`flask seed-demo`: a living community on the first run, nothing twice."""
from decimal import Decimal

import sqlalchemy as sa

from portal.auth.models import User
from portal.community.models import Category
from portal.crm.models import Customer, LifecycleStage, ValueTier
from portal.demo import DEMO_PASSWORD
from portal.extensions import db
from portal.permissions import Role


def count(model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_seed_demo_builds_the_community_once(runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "admin@teahouse.local" in first.output
    second = runner.invoke(args=["seed-demo"])
    assert "already" in second.output and "admin@teahouse.local" in second.output
    assert count(Category) == 5
    assert count(Customer) == 12
    assert count(User, User.role == Role.MEMBER) == 30
    assert count(User, User.role == Role.MODERATOR) == 2
    assert count(User, User.role == Role.SALES) == 3
    assert count(User, User.role == Role.SALES_MANAGER) == 1
    assert count(User, User.role == Role.ADMIN) == 1
    assert count(User, User.role == Role.MEMBER, User.customer_id.is_not(None)) >= 25


def test_demo_customers_cover_every_stage_and_a_pareto_revenue(runner):
    runner.invoke(args=["seed-demo"])
    customers = db.session.scalars(sa.select(Customer)).all()
    assert {c.lifecycle_stage for c in customers} == set(LifecycleStage)
    assert {c.value_tier for c in customers} == set(ValueTier)
    key = [c for c in customers if c.value_tier == ValueTier.KEY]
    total = sum((c.revenue for c in customers), Decimal(0))
    assert 2 <= len(key) <= 3
    assert Decimal("0.75") <= sum(c.revenue for c in key) / total <= Decimal("0.85")
    churned = next(c for c in customers if c.lifecycle_stage == LifecycleStage.CHURNED_CUSTOMER)
    assert churned.renewal_date is not None


def test_printed_demo_logins_work(runner, client):
    output = runner.invoke(args=["seed-demo"]).output
    emails = [line.split()[1] for line in output.splitlines() if "@" in line]
    assert len(emails) == 5
    for email in emails:
        response = client.post("/api/v1/tokens", json={"email": email, "password": DEMO_PASSWORD})
        assert response.status_code == 201, email
