"""The computed dimensions: value tiers, lifecycle rules, engagement, future value, churn risk, and when they run."""
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.community import posts
from portal.crm import dimensions, lifecycle_rules, records
from portal.crm.models import ChurnRisk, Customer, CustomerComplaint, CustomerProduct, EngagementLevel, LifecycleStage
from portal.crm.models import ValueTier as Tier
from portal.crm.rules import check_rules, crm_rules, update_crm_rules
from portal.errors import Invalid
from portal.events import Activity, Verb
from portal.extensions import db
from portal.outbox import Lane, OutboxMessage, drain, next_daily_run
from portal.permissions import Role
from tests.community_factories import answer, ask, make_category
from tests.crm_factories import make_customer

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
Stage = LifecycleStage


def customers_with_revenue(*revenues):
    made = [make_customer(f"Customer {i}", revenue=Decimal(r), commit=False) for i, r in enumerate(revenues)]
    db.session.commit()
    return made


def tiers_of(customers):
    db.session.expire_all()
    return [c.value_tier for c in customers]


def stage_moves(customer):
    return [(a.payload["from_stage"], a.payload["to_stage"], a.payload["cause"]) for a in db.session.scalars(
        sa.select(Activity).where(Activity.verb == str(Verb.CUSTOMER_STAGE_CHANGED),
                                  Activity.customer_id == customer.id).order_by(Activity.id))]


# -- value tiers ---------------------------------------------------------------------------------------

def test_the_abc_split_puts_the_exact_80_percent_line_in_valued_and_zero_revenue_in_standard(app):
    """Is the customer that starts exactly at 80% valued, and does no revenue stay standard?"""
    customers = customers_with_revenue(50, 30, 10, 6, 4, 0)
    assert dimensions.assign_value_tiers(cause="tiers.recompute") == 4
    db.session.commit()
    # before each: 0%, 50%, 80% (the line: not key), 90%, 96% (past 95%), and nothing.
    assert tiers_of(customers) == [Tier.KEY, Tier.KEY, Tier.VALUED, Tier.VALUED, Tier.STANDARD, Tier.STANDARD]


def test_customers_with_equal_revenue_share_one_tier(app):
    """Do ties across the key line all stay key, rather than the order of ids deciding?"""
    customers = customers_with_revenue(70, 10, 10, 10)
    dimensions.assign_value_tiers(cause="tiers.recompute")
    db.session.commit()
    assert tiers_of(customers) == [Tier.KEY, Tier.KEY, Tier.KEY, Tier.KEY]


def test_no_revenue_anywhere_leaves_everyone_standard(app):
    customers = customers_with_revenue(0, 0)
    assert dimensions.assign_value_tiers(cause="tiers.recompute") == 0
    assert tiers_of(customers) == [Tier.STANDARD, Tier.STANDARD]


def test_each_tier_change_is_on_the_timeline_with_its_cause(app):
    big, small = customers_with_revenue(90, 10)
    dimensions.assign_value_tiers(cause="tiers.nightly", now=NOW)
    db.session.commit()
    changes = db.session.scalars(sa.select(Activity).where(Activity.verb == str(Verb.CUSTOMER_TIER_CHANGED))).all()
    assert [(a.customer_id, a.payload["from_tier"], a.payload["to_tier"], a.payload["cause"]) for a in changes] == [
        (big.id, "standard", "key", "tiers.nightly"), (small.id, "standard", "valued", "tiers.nightly")]
    assert changes[0].occurred_at == NOW
    dimensions.assign_value_tiers(cause="tiers.nightly")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Activity)
                             .where(Activity.verb == str(Verb.CUSTOMER_TIER_CHANGED))) == 2


def test_an_admin_moves_the_thresholds_and_the_tiers_follow(app, admin):
    customers = customers_with_revenue(50, 30, 20)
    dimensions.assign_value_tiers(cause="tiers.recompute")
    db.session.commit()
    assert tiers_of(customers) == [Tier.KEY, Tier.KEY, Tier.VALUED]
    update_crm_rules(admin, {"key_share": "40", "valued_share": "60"})
    assert tiers_of(customers) == [Tier.KEY, Tier.VALUED, Tier.STANDARD]
    cause = db.session.scalars(sa.select(Activity.payload).where(
        Activity.verb == str(Verb.CUSTOMER_TIER_CHANGED)).order_by(Activity.id.desc())).first()["cause"]
    assert cause == "tiers.thresholds"


def test_thresholds_that_make_no_sense_are_refused_with_every_reason(app, admin):
    with pytest.raises(Invalid) as error:
        check_rules({"key_share": "90", "valued_share": "85", "dormant_after_days": "x",
                     "product_cycles": "ERP eight"})
    assert set(error.value.fields) == {"valued_share", "dormant_after_days", "product_cycles"}
    assert crm_rules().key_share == 80


def test_a_revenue_change_reruns_the_abc_analysis_after_commit(app, moderator):
    """Does editing one record's revenue re-tier everyone, through the outbox?"""
    big, small = customers_with_revenue(90, 10)
    dimensions.assign_value_tiers(cause="tiers.recompute")
    db.session.commit()
    records.update_customer(moderator, small.id, {"revenue": "500"})
    assert tiers_of([big, small]) == [Tier.VALUED, Tier.KEY]
    assert db.session.scalar(sa.select(OutboxMessage.processed_at).where(OutboxMessage.topic == "crm.tiers"))


def test_an_import_runs_the_abc_analysis_once_at_its_end(app):
    from portal.crm.csvio import import_customers

    csv = b"name,external_id,revenue\nA,X-1,800\nB,X-2,150\nC,X-3,50\n"
    import_customers(None, csv, dry_run=False)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.topic == "crm.tiers")) == 1
    tiers = dict(db.session.execute(sa.select(Customer.external_id, Customer.value_tier)).all())
    assert tiers == {"X-1": Tier.KEY, "X-2": Tier.VALUED, "X-3": Tier.STANDARD}


def test_a_dry_run_import_asks_for_no_tier_run(app):
    from portal.crm.csvio import import_customers

    import_customers(None, b"name,revenue\nA,800\n", dry_run=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


# -- lifecycle rules ------------------------------------------------------------------------------------

def test_a_first_purchase_makes_a_customer_and_a_second_a_repeat_customer(app, moderator):
    customer = records.create_customer(moderator, {"name": "Harbor Freight", "products": "Lumina Pro (2026-03-01)"})
    assert customer.lifecycle_stage == Stage.CUSTOMER
    records.update_customer(moderator, customer.id,
                            {"products": "Lumina Pro (2026-03-01); Lumina Embed (2026-09-01)"})
    assert customer.lifecycle_stage == Stage.REPEAT_CUSTOMER
    assert stage_moves(customer) == [("prospect", "customer", "rule.first_purchase"),
                                     ("customer", "repeat_customer", "rule.second_purchase")]


def test_a_stage_the_writer_gives_wins_over_the_purchase_rules(app, moderator):
    customer = records.create_customer(moderator, {"name": "Given", "lifecycle_stage": "customer",
                                                   "products": "A (2025-01-01); B (2026-01-01)"})
    assert customer.lifecycle_stage == Stage.CUSTOMER and stage_moves(customer) == []


def test_a_silent_prospect_goes_dormant_then_lost(app):
    quiet = make_customer("Quiet", created_at=NOW - timedelta(days=100), lifecycle_stage=Stage.PROSPECT)
    gone = make_customer("Gone", created_at=NOW - timedelta(days=300), lifecycle_stage=Stage.PROSPECT)
    fresh = make_customer("Fresh", created_at=NOW - timedelta(days=300), lifecycle_stage=Stage.PROSPECT,
                          last_touch_at=NOW - timedelta(days=10))
    assert lifecycle_rules.apply_time_rules(now=NOW) == 3
    db.session.commit()
    assert (quiet.lifecycle_stage, gone.lifecycle_stage, fresh.lifecycle_stage) == (
        Stage.DORMANT_PROSPECT, Stage.LOST_PROSPECT, Stage.PROSPECT)
    assert stage_moves(gone) == [("prospect", "dormant_prospect", "rule.prospect_silent"),
                                 ("dormant_prospect", "lost_prospect", "rule.dormant_silent")]
    assert lifecycle_rules.apply_time_rules(now=NOW) == 0


def test_a_dormant_prospect_who_is_heard_from_again_is_a_prospect_again(app):
    back = make_customer("Back", created_at=NOW - timedelta(days=300), lifecycle_stage=Stage.DORMANT_PROSPECT,
                         stage_changed_at=NOW - timedelta(days=50), last_touch_at=NOW - timedelta(days=2))
    lifecycle_rules.apply_time_rules(now=NOW)
    assert back.lifecycle_stage == Stage.PROSPECT
    assert stage_moves(back) == [("dormant_prospect", "prospect", "rule.came_back")]


def test_a_lapsed_renewal_churns_and_buying_again_wins_the_customer_back(app, moderator):
    lapsed = make_customer("Lapsed", lifecycle_stage=Stage.CUSTOMER, renewal_date=TODAY - timedelta(days=40),
                           last_purchase_at=TODAY - timedelta(days=400))
    in_grace = make_customer("In grace", lifecycle_stage=Stage.CUSTOMER, renewal_date=TODAY - timedelta(days=10),
                             last_purchase_at=TODAY - timedelta(days=400))
    renewed = make_customer("Renewed", lifecycle_stage=Stage.REPEAT_CUSTOMER,
                            renewal_date=TODAY - timedelta(days=40), last_purchase_at=TODAY - timedelta(days=39))
    lifecycle_rules.apply_time_rules(now=NOW)
    db.session.commit()
    assert [c.lifecycle_stage for c in (lapsed, in_grace, renewed)] == [
        Stage.CHURNED_CUSTOMER, Stage.CUSTOMER, Stage.REPEAT_CUSTOMER]
    records.update_customer(moderator, lapsed.id, {"last_purchase_at": (TODAY + timedelta(days=1)).isoformat()},
                            now=NOW + timedelta(days=1))
    assert lapsed.lifecycle_stage == Stage.REPEAT_CUSTOMER
    assert stage_moves(lapsed) == [("customer", "churned_customer", "rule.renewal_lapsed"),
                                   ("churned_customer", "repeat_customer", "rule.won_back")]


def test_a_rule_set_to_zero_days_is_off(app, admin):
    update_crm_rules(admin, {"dormant_after_days": "0", "lost_after_days": "0", "renewal_grace_days": "0"})
    quiet = make_customer("Quiet", created_at=NOW - timedelta(days=400), lifecycle_stage=Stage.PROSPECT)
    lapsed = make_customer("Lapsed", lifecycle_stage=Stage.CUSTOMER, renewal_date=TODAY - timedelta(days=90))
    assert lifecycle_rules.apply_time_rules(now=NOW) == 0
    assert (quiet.lifecycle_stage, lapsed.lifecycle_stage) == (Stage.PROSPECT, Stage.CUSTOMER)


# -- engagement ------------------------------------------------------------------------------------------

def add_activity(customer, member, verb, days_ago, times=1):
    for _ in range(times):
        db.session.add(Activity(verb=str(verb), actor_id=member.id, customer_id=customer.id, channel="community",
                                occurred_at=NOW - timedelta(days=days_ago), payload={}))
    db.session.commit()


@pytest.fixture
def linked(make_user):
    """A customer with one linked member, for each name asked."""
    def build(name, **fields):
        customer = make_customer(name, **fields)
        member = make_user(customer_id=customer.id)
        return customer, member
    return build


def test_engagement_levels_follow_recency_frequency_and_contribution(app, linked):
    champion, a = linked("Champion")
    add_activity(champion, a, Verb.POST_CREATED, 1, times=20)
    add_activity(champion, a, Verb.VISITED, 2, times=40)
    engaged, b = linked("Engaged")
    add_activity(engaged, b, Verb.POST_CREATED, 20, times=10)
    add_activity(engaged, b, Verb.VISITED, 20, times=20)
    casual, c = linked("Casual")
    add_activity(casual, c, Verb.TOPIC_CREATED, 60)
    add_activity(casual, c, Verb.VISITED, 61)
    lurker, d = linked("Lurker")
    add_activity(lurker, d, Verb.VISITED, 3, times=12)
    dormant, e = linked("Dormant")
    add_activity(dormant, e, Verb.POST_CREATED, 100, times=30)
    nobody = make_customer("No members")
    dimensions.refresh_dimensions(now=NOW)
    db.session.commit()
    db.session.expire_all()
    assert [(c.engagement_level, c.engagement_score) for c in (champion, engaged, casual, lurker, dormant, nobody)] \
        == [(EngagementLevel.CHAMPION, 100), (EngagementLevel.ENGAGED, 55), (EngagementLevel.CASUAL, 13),
            (EngagementLevel.LURKER, 36), (EngagementLevel.DORMANT, 0), (EngagementLevel.DORMANT, 0)]


def test_a_members_post_moves_their_customers_engagement_at_once(app, linked):
    """Is engagement updated on activity, without waiting for the nightly run?"""
    customer, member = linked("Acme")
    category = make_category()
    assert customer.engagement_level == EngagementLevel.DORMANT
    ask(member, category)
    db.session.expire_all()
    assert customer.engagement_level == EngagementLevel.CASUAL


# -- future value ---------------------------------------------------------------------------------------

def test_future_value_explains_each_part(app, admin, linked, make_user):
    update_crm_rules(admin, {"product_cycles": "Lumina Server: 8\nLumina Cloud: 3"})
    customer, member = linked("Old servers", renewal_date=TODAY + timedelta(days=30),
                              lifecycle_stage=Stage.CUSTOMER)
    db.session.add_all([CustomerProduct(customer_id=customer.id, product="Lumina Server",
                                        purchased_on=TODAY - timedelta(days=round(7 * 365.25))),
                        CustomerProduct(customer_id=customer.id, product="Other", purchased_on=date(2001, 1, 1))])
    add_activity(customer, member, Verb.POST_CREATED, 1, times=20)
    add_activity(customer, member, Verb.VISITED, 1, times=40)
    from portal.referrals.models import Referral, ReferralStatus

    for _ in range(2):
        db.session.add(Referral(referrer_id=member.id, code=member.referral_code, source="link",
                                invitee_id=make_user().id, status=ReferralStatus.SIGNED_UP))
    db.session.commit()
    dimensions.refresh_dimensions(now=NOW)
    db.session.commit()
    assert customer.future_value_parts == [
        {"part": "renewal", "points": 30, "detail": {"date": (TODAY + timedelta(days=30)).isoformat()}},
        {"part": "replacement", "points": 30, "detail": {"product": "Lumina Server", "age_years": 7.0,
                                                         "cycle_years": 8}},
        {"part": "engagement", "points": 25, "detail": {"level": "champion"}},
        {"part": "referrals", "points": 10, "detail": {"count": 2}},
    ]
    assert customer.future_value == 95


def test_a_product_early_in_its_cycle_is_no_repurchase_chance(app, admin):
    update_crm_rules(admin, {"product_cycles": "Lumina Server: 8"})
    customer = make_customer("New servers")
    db.session.add(CustomerProduct(customer_id=customer.id, product="lumina server", purchased_on=date(2024, 1, 1)))
    db.session.commit()
    dimensions.refresh_dimensions(now=NOW)
    assert customer.future_value == 0 and customer.future_value_parts == []


# -- churn risk -----------------------------------------------------------------------------------------

def reason_codes(customer):
    return [reason["code"] for reason in customer.churn_reasons]


def test_complaint_words_in_chinese_and_english_are_churn_reasons(app, linked):
    customer, member = linked("Unhappy", lifecycle_stage=Stage.CUSTOMER)
    category = make_category()
    ask(member, category, title="导出太慢了", body="我们对最近的服务很不滿意，考虑投诉。", now=NOW - timedelta(hours=3))
    topic = ask(member, category, title="Refund please", body="We are frustrated; cancellation next.",
                now=NOW - timedelta(hours=2))
    answer(member, topic, body="Priceless docs, thanks.", now=NOW - timedelta(hours=1))
    complaints = db.session.scalars(sa.select(CustomerComplaint.words).order_by(CustomerComplaint.id)).all()
    assert complaints == [["投诉", "不满意", "太慢"], ["cancel", "refund", "frustrat"]]
    dimensions.refresh_dimensions(now=NOW)
    assert customer.churn_reasons == [{"code": "complaints", "count": 2,
                                       "words": ["投诉", "不满意", "太慢", "cancel", "refund", "frustrat"]}]
    assert customer.churn_risk == ChurnRisk.MEDIUM


def test_a_post_edited_or_deleted_no_longer_counts_as_a_complaint(app, linked):
    customer, member = linked("Calmer", lifecycle_stage=Stage.CUSTOMER)
    topic = ask(member, make_category(), title="Exporting dashboards", body="Too slow, we want a refund.")
    reply = answer(member, topic, body="And still broken.")
    opening = db.session.scalar(sa.select(sa.func.min(CustomerComplaint.post_id)))
    posts.edit_post(member, opening, "All fine now, thanks.")
    posts.delete_post(member, reply.id)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CustomerComplaint)) == 0


def test_unanswered_questions_falling_activity_and_a_near_renewal_are_churn_reasons(app, linked):
    customer, member = linked("Drifting", lifecycle_stage=Stage.REPEAT_CUSTOMER,
                              renewal_date=TODAY + timedelta(days=20))
    category = make_category()
    ask(member, category, title="Can anyone help with SSO?", now=NOW - timedelta(days=5))
    ask(member, category, title="A question asked today", now=NOW - timedelta(hours=1))
    add_activity(customer, member, Verb.VISITED, 100, times=40)
    dimensions.refresh_dimensions(now=NOW)
    assert reason_codes(customer) == ["activity_falling", "unanswered", "renewal_low_engagement"]
    falling, unanswered, renewal = customer.churn_reasons
    assert (falling["recent"], falling["baseline"]) == (2, 8)
    assert unanswered["count"] == 1
    assert renewal == {"code": "renewal_low_engagement", "renewal_date": (TODAY + timedelta(days=20)).isoformat(),
                       "level": "casual"}
    assert customer.churn_risk == ChurnRisk.HIGH


def test_prospects_carry_no_churn_risk(app, linked):
    customer, member = linked("Just looking", lifecycle_stage=Stage.PROSPECT)
    ask(member, make_category(), title="Can we get a refund?", body="我们要投诉这个问题。",
        now=NOW - timedelta(hours=1))
    dimensions.refresh_dimensions(now=NOW)
    assert customer.churn_risk == ChurnRisk.NONE and customer.churn_reasons == []


# -- running it all ----------------------------------------------------------------------------------------

def test_crm_recompute_works_everything_out_and_says_what_changed(app, runner, linked):
    big, member = linked("Big", revenue=Decimal(900), lifecycle_stage=Stage.CUSTOMER)
    make_customer("Small", revenue=Decimal(100))
    add_activity(big, member, Verb.VISITED, 1, times=3)
    result = runner.invoke(args=["crm", "recompute"])
    assert result.exit_code == 0, result.output
    assert "2 tier changes" in result.output and "customers with new engagement" in result.output
    db.session.expire_all()
    assert (big.value_tier, big.engagement_level) == (Tier.KEY, EngagementLevel.LURKER)


def test_the_nightly_run_waits_in_the_outbox_and_books_the_next_night(app, linked):
    """Does a drainer keep one nightly run waiting, and does running it book the next?"""
    big, _member = linked("Big", revenue=Decimal(900))
    drain(Lane.CRM)
    waiting = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.topic == "crm.nightly")).all()
    assert len(waiting) == 1 and waiting[0].available_at.hour == app.config["CRM_NIGHTLY_HOUR"]
    drain(Lane.CRM)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.topic == "crm.nightly")) == 1
    waiting[0].available_at = NOW - timedelta(minutes=1)
    db.session.commit()
    assert drain(Lane.CRM) == 1
    db.session.expire_all()
    assert big.value_tier == Tier.KEY
    messages = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.topic == "crm.nightly")
                                  .order_by(OutboxMessage.id)).all()
    assert [m.processed_at is not None for m in messages] == [True, False]


def test_the_next_nightly_run_is_the_coming_hour_of_the_day():
    assert next_daily_run(3, datetime(2026, 12, 1, 2, 59, tzinfo=UTC)) == datetime(2026, 12, 1, 3, tzinfo=UTC)
    assert next_daily_run(3, datetime(2026, 12, 1, 3, 0, tzinfo=UTC)) == datetime(2026, 12, 2, 3, tzinfo=UTC)


def test_members_and_sales_reps_see_no_dimensions_of_customers_not_theirs(app, client, make_user, bearer):
    customer = make_customer("Secret", revenue=Decimal(900), churn_risk=ChurnRisk.HIGH,
                             churn_reasons=[{"code": "unanswered", "count": 1, "topic_ids": [1]}])
    for role in (Role.MEMBER, Role.SALES):
        token = bearer(make_user(role))
        response = client.get(f"/api/v1/customers/{customer.id}", headers=token)
        assert response.status_code in (403, 404)
