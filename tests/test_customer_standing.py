"""Where customers stand, through the pages: the matrix and pyramid on the staff home, the 360's dimensions,
and the admin's customer rules."""
from decimal import Decimal

import pytest

from portal.crm.models import ChurnRisk, EngagementLevel, LifecycleStage, ValueTier
from portal.crm.rules import crm_rules
from portal.permissions import Role
from tests.crm_factories import make_customer
from tests.helpers import count_queries

Stage, Tier = LifecycleStage, ValueTier


def some_customers(owner=None):
    rows = [(Tier.KEY, Stage.CUSTOMER, 800), (Tier.KEY, Stage.REPEAT_CUSTOMER, 700), (Tier.VALUED, Stage.CUSTOMER, 90),
            (Tier.STANDARD, Stage.PROSPECT, 0), (Tier.STANDARD, Stage.PROSPECT, 0)]
    return [make_customer(f"C{i}", value_tier=tier, lifecycle_stage=stage, revenue=Decimal(revenue),
                          owner_rep_id=owner.id if owner else None) for i, (tier, stage, revenue) in enumerate(rows)]


def test_the_staff_home_shows_tier_by_stage_with_links_to_the_lists(app, moderator):
    some_customers()
    client = app.test_client(user=moderator)
    client.get("/staff/")  # the first request also loads what later ones find cached
    with count_queries() as statements:
        page = client.get("/staff/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'href="/staff/customers/?value_tier=key&amp;lifecycle_stage=customer"' in html
    assert 'href="/staff/customers/?value_tier=standard&amp;lifecycle_stage=prospect"' in html
    assert "Value pyramid" in html and "1,500 · 94%" in html  # the key tier's revenue and share
    # The matrix and the pyramid come from one grouped query, however many customers there are.
    grouped = [s for s in statements if "GROUP BY customers.value_tier" in s]
    assert len(grouped) == 1
    more = len(statements)
    some_customers()
    with count_queries() as statements:
        client.get("/staff/")
    assert len(statements) == more


def test_a_sales_rep_sees_the_matrix_of_their_own_customers_only(app, make_user):
    rep = make_user(Role.SALES)
    some_customers(owner=rep)
    some_customers()
    html = app.test_client(user=rep).get("/staff/").get_data(as_text=True)
    assert '<a href="/staff/customers/">5</a>' in html
    from portal.crm.overview import customer_overview

    assert customer_overview(rep).count == 5
    assert customer_overview(None).count == 10


def test_the_360_says_engagement_future_value_and_churn_risk_with_reasons(app, moderator):
    customer = make_customer(
        "Xingchen", lifecycle_stage=Stage.CUSTOMER, engagement_level=EngagementLevel.LURKER, engagement_score=22,
        future_value=60, future_value_parts=[{"part": "renewal", "points": 30, "detail": {"date": "2027-01-05"}},
                                             {"part": "replacement", "points": 30, "detail": {
                                                 "product": "Lumina Server", "age_years": 7.0, "cycle_years": 8}}],
        churn_risk=ChurnRisk.HIGH, churn_reasons=[
            {"code": "complaints", "count": 2, "words": ["投诉", "太慢"]},
            {"code": "renewal_low_engagement", "renewal_date": "2027-01-05", "level": "lurker"}])
    html = app.test_client(user=moderator).get(f"/staff/customers/{customer.id}").get_data(as_text=True)
    assert "Lurker" in html and "22 of 100" in html
    assert "Lumina Server bought 7.0 years ago, replaced every 8 years" in html
    assert "2 posts with complaint words (投诉, 太慢)." in html
    assert "Renewal due Jan 5, 2027 while engagement is Lurker." in html


def test_an_admin_changes_the_customer_rules_on_their_page(app, admin):
    client = app.test_client(user=admin)
    page = client.get("/admin/settings/customers")
    assert page.status_code == 200 and 'name="key_share" value="80"' in page.get_data(as_text=True)
    values = {name: str(getattr(crm_rules(), name)) for name in ("key_share", "valued_share",
              "dormant_after_days", "lost_after_days", "renewal_grace_days", "renewal_window_days", "cycle_share_due",
              "unanswered_days", "complaint_window_days", "retention_due_days", "announcement_cap",
              "announcement_cap_days")}
    saved = client.post("/admin/settings/customers", data={**values, "key_share": "70",
                                                           "product_cycles": "Lumina Server: 8\n交换机：5"})
    assert saved.status_code == 302
    rules = crm_rules()
    assert rules.key_share == 70 and rules.product_cycles == {"Lumina Server": 8, "交换机": 5}


def test_bad_customer_rules_are_shown_back_and_nothing_is_saved(app, admin):
    page = app.test_client(user=admin).post("/admin/settings/customers", data={
        "key_share": "95", "valued_share": "90", "announcement_cap": "0", "product_cycles": "ERP"})
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert "The valued share must be above the key share." in html and "Enter a whole number from 1 to 100." in html
    assert "Write one product per line" in html
    assert crm_rules().key_share == 80


@pytest.mark.parametrize("role,allowed", [(Role.MEMBER, False), (Role.SALES, False), (Role.SALES_MANAGER, False),
                                          (Role.MODERATOR, False), (Role.ADMIN, True)])
def test_only_admins_open_the_customer_rules(app, make_user, role, allowed):
    client = app.test_client(user=make_user(role))
    assert client.get("/admin/settings/customers").status_code == (200 if allowed else 403)
    assert client.post("/admin/settings/customers", data={"key_share": "50"}).status_code in (
        (422, 302) if allowed else (403,))


def test_visitors_are_sent_to_sign_in_from_the_customer_rules(app, client):
    response = client.get("/admin/settings/customers")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
