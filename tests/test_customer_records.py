"""Customer records: creating and editing them through one checked door, audited, in the viewer's scope."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.audit import AuditEntry
from portal.crm import records
from portal.crm.models import Customer, LifecycleStage, ValueTier
from portal.errors import Conflict, Forbidden, Invalid, NotFound
from portal.events import Activity, Verb
from portal.extensions import db
from portal.permissions import Role
from portal.sqltypes import utcnow
from tests.crm_factories import make_customer

FULL = {
    "name": "Xingchen Retail", "company": "杭州星辰零售集团有限公司", "external_id": "LC-1001",
    "email": "IT@Hangzhou-Retail.example.cn", "domains": "hangzhou-retail.example.cn, xingchen.example",
    "phone": "+86 571 8801 2345", "region": "East China", "industry": "Retail", "size": "1000+",
    "source": "import", "value_tier": "key", "lifecycle_stage": "customer", "revenue": "1,280,000.50",
    "first_purchase_at": "2022-03-01", "last_purchase_at": "2025-10-01", "renewal_date": "2027-01-31",
    "contact_channels": "email, wechat", "opt_outs": "sms", "preferred_language": "zh",
    "tags": "retail, 华东", "products": "Lumina Analytics Pro (2022-03-01) x40; Lumina Embed (2024-06-15)",
}


def test_a_full_record_is_created_with_every_field_checked_and_audited(app, moderator, make_user):
    """Does a record created with every field store them as typed, with an audit entry and an activity?"""
    rep, keeper = make_user(Role.SALES), make_user(Role.MODERATOR)
    customer = records.create_customer(moderator, {**FULL, "sales_owner": rep.email,
                                                   "relationship_owner": str(keeper.id)})
    assert customer.email == "it@hangzhou-retail.example.cn"
    assert customer.domain_names == ["hangzhou-retail.example.cn", "xingchen.example"]
    assert (customer.value_tier, customer.lifecycle_stage) == (ValueTier.KEY, LifecycleStage.CUSTOMER)
    assert str(customer.revenue) == "1280000.50" and customer.renewal_date == date(2027, 1, 31)
    assert (customer.owner_rep_id, customer.relationship_owner_id) == (rep.id, keeper.id)
    assert [(p.product, p.quantity) for p in customer.products] == [("Lumina Analytics Pro", 40), ("Lumina Embed", 1)]
    assert customer.contact_channels == ["email", "wechat"] and customer.tags == ["retail", "华东"]
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "customer.created"))
    assert entry.actor_id == moderator.id and entry.details["after"]["external_id"] == "LC-1001"
    assert db.session.scalar(sa.select(Activity.verb).where(Activity.customer_id == customer.id)) == \
        Verb.CUSTOMER_CREATED


def test_every_bad_field_is_named_at_once_and_nothing_is_written(app, moderator, member):
    """Are a bad email, unknown tier and stage, a future purchase, non-number revenue and a member
    as owner all reported together, with no record written?"""
    with pytest.raises(Invalid) as refused:
        records.create_customer(moderator, {
            "name": "", "email": "not-an-address", "value_tier": "gold", "lifecycle_stage": "vip",
            "revenue": "lots", "last_purchase_at": (date.today() + timedelta(days=3)).isoformat(),
            "first_purchase_at": "31/12/2024", "sales_owner": member.email, "domains": "acme",
            "phone": "call me", "opt_outs": "email", "contact_channels": "email, pigeon", "colour": "blue"})
    assert set(refused.value.fields) == {"name", "email", "value_tier", "lifecycle_stage", "revenue",
                                         "last_purchase_at", "first_purchase_at", "sales_owner", "domains",
                                         "phone", "contact_channels", "colour"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


def test_an_external_id_belongs_to_one_record(app, moderator):
    make_customer("First", external_id="CRM-1")
    other = make_customer("Second")
    with pytest.raises(Conflict) as taken:
        records.update_customer(moderator, other.id, {"external_id": "CRM-1"})
    assert taken.value.code == "external_id_taken" and "external_id" in taken.value.fields


def test_an_edit_is_audited_with_before_and_after_and_a_stage_move_takes_the_one_door(app, moderator, make_user):
    """Does an edit record what changed (before/after), and a stage change its own activity with the cause?"""
    customer = records.create_customer(moderator, {"name": "Nordwind", "revenue": "100"})
    rep = make_user(Role.SALES)
    records.update_customer(moderator, customer.id, {"revenue": "2500", "sales_owner": rep.email,
                                                     "lifecycle_stage": "customer"}, cause="Signed order 4711")
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "customer.updated"))
    assert entry.details["before"] == {"revenue": "100.00", "sales_owner": None}
    assert entry.details["after"] == {"revenue": "2500.00", "sales_owner": rep.email}
    stage = db.session.scalar(sa.select(Activity).where(Activity.verb == str(Verb.CUSTOMER_STAGE_CHANGED)))
    assert stage.data.cause == "Signed order 4711" and stage.data.to_stage == "customer"
    audited = db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert audited == ["customer.created", "customer.updated", "customer.stage_changed"]
    records.update_customer(moderator, customer.id, {"revenue": "2500.00"})  # no change, no entry
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 3


def test_sales_see_their_own_customers_a_manager_the_teams_and_members_nothing(app, make_user):
    from portal.auth.models import Team

    team, other_team = Team(name="China Sales"), Team(name="International")
    db.session.add_all([team, other_team])
    db.session.commit()
    rep = make_user(Role.SALES, team_id=team.id)
    colleague = make_user(Role.SALES, team_id=team.id)
    stranger = make_user(Role.SALES, team_id=other_team.id)
    manager = make_user(Role.SALES_MANAGER, team_id=team.id)
    mine = make_customer("Mine", owner_rep_id=rep.id)
    colleagues = make_customer("Colleague's", owner_rep_id=colleague.id)
    make_customer("Elsewhere", owner_rep_id=stranger.id)

    def names(user):
        return sorted(c.name for c in db.session.scalars(records.customer_query(user, records.CustomerFilters())))

    assert names(rep) == ["Mine"]
    assert names(manager) == ["Colleague's", "Mine"]
    assert len(names(make_user(Role.MODERATOR))) == 3
    with pytest.raises(NotFound):
        records.get_customer(rep, colleagues.id)
    assert records.get_customer(rep, mine.id) == mine
    with pytest.raises(Forbidden):
        records.get_customer(make_user(Role.MEMBER), mine.id)
    with pytest.raises(Forbidden):
        records.update_customer(rep, mine.id, {"name": "Renamed"})


@pytest.mark.parametrize("query, expected", [
    ("星辰", ["Xingchen Retail"]), ("報價", ["Baojia Trading"]), ("hangzhou", ["Xingchen Retail"]),
    ("LC-1002", ["Nordwind"]), ("5550 1820", ["Nordwind"]), ("55501820", ["Nordwind"]),
    ("MÜLLER", ["Müller Maschinenbau"]), ("muller", ["Müller Maschinenbau"]), ("retail.example", ["Xingchen Retail"]),
])
def test_search_finds_records_by_name_company_email_domain_id_and_phone(admin, query, expected):
    """Chinese in either script, accents either way, a phone with or without spaces: does search find it?"""
    make_customer("Xingchen Retail", company="杭州星辰零售集团有限公司", domain="hangzhou-retail.example")
    make_customer("Nordwind", external_id="LC-1002", phone="+49 40 5550 1820", email="p@nordwind.example")
    make_customer("Baojia Trading", company="报价贸易有限公司")
    make_customer("Müller Maschinenbau")
    found = db.session.scalars(records.customer_query(admin, records.CustomerFilters(q=query)))
    assert [c.name for c in found] == expected


def test_filters_narrow_the_list(app, moderator, make_user):
    rep = make_user(Role.SALES)
    now = utcnow()
    make_customer("Quiet key", value_tier=ValueTier.KEY, last_touch_at=now - timedelta(days=40), owner_rep_id=rep.id,
                  region="East China", last_verified_at=now - timedelta(days=400))
    make_customer("Busy key", value_tier=ValueTier.KEY, last_touch_at=now - timedelta(days=2), region="Europe",
                  last_verified_at=now - timedelta(days=10))
    make_customer("Standard", last_touch_at=None)

    def names(**filters):
        query = records.customer_query(moderator, records.CustomerFilters(**filters))
        return sorted(c.name for c in db.session.scalars(query))

    assert names(value_tier="key") == ["Busy key", "Quiet key"]
    assert names(value_tier="key", untouched_days=30) == ["Quiet key"]
    assert names(unverified_days=365) == ["Quiet key", "Standard"]
    assert names(region="east china") == ["Quiet key"]
    assert names(sales_owner=rep.id) == ["Quiet key"]
    assert names(has_members="yes") == []
    with pytest.raises(Invalid) as refused:
        records.CustomerFilters.from_args({"value_tier": "gold", "untouched_days": "-3", "sort": "random"})
    assert set(refused.value.fields) == {"value_tier", "untouched_days", "sort"}
