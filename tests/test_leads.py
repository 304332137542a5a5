"""Leads as a service: signals and their words, scores and decay, one open lead per customer, the pipeline,
the sweep, a manager's assignment, reps who leave, and a won lead feeding the customer record."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.admin import services as admin_services
from portal.audit import AuditEntry
from portal.auth.models import Team
from portal.community import posts
from portal.crm.models import Customer, LifecycleStage, ValueTier
from portal.crm.records import get_customer
from portal.errors import Conflict, Forbidden, Invalid, NotFound
from portal.events import Activity, Verb
from portal.extensions import db
from portal.leads import daily, pipeline
from portal.leads.flagging import flag_post_as_lead
from portal.leads.models import Lead, LeadKind, LeadSignal, LeadStatus, SignalKind
from portal.leads.rules import check_rules, lead_rules, update_lead_rules
from portal.leads.scoring import add_signal
from portal.leads.signals import INTENT_WORDS
from portal.permissions import Role
from portal.sqltypes import utcnow
from tests.community_factories import answer, ask, established, make_category
from tests.crm_factories import make_customer


@pytest.fixture
def category(app):
    return make_category("Questions")


@pytest.fixture
def prospect(app):
    return make_customer("Yunfan Logistics", domain="yunfan.example", lifecycle_stage=LifecycleStage.PROSPECT)


@pytest.fixture
def asker(make_user, prospect):
    return established(make_user, email="li.wei@yunfan.example", customer_id=prospect.id)


def opening_post(topic):
    from portal.community.models import Post

    return db.session.scalar(sa.select(Post).where(Post.topic_id == topic.id, Post.number == 1))


def leads_of(customer):
    return db.session.scalars(sa.select(Lead).where(Lead.customer_id == customer.id).order_by(Lead.id)).all()


# -- words -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, found", [
    ("请问企业版的报价是多少", ["报价"]),
    ("請問企業版的報價是多少？", ["报价"]),        # Traditional finds the Simplified term
    ("我们明年想续费，顺便增购几个账号", ["续费", "增购"]),
    ("What is the price for 20 seats?", ["price", "seats"]),
    ("We are upgrading and renewing our licenses", ["upgrad*", "renew*", "license*"]),
    ("Can we trade in the old server?", ["trade in"]),
    ("The dashboard is priceless, thanks!", []),    # a word, not a substring
    ("Pricing", ["pricing"]),
    ("A quotation please", ["quotation"]),
    ("How do I export to PDF?", []),
])
def test_intent_words_are_matched_as_words_in_english_and_chinese(app, text, found):
    assert INTENT_WORDS.found_in(text) == found


# -- signals and scores -------------------------------------------------------------------------------

def test_a_chinese_price_question_from_a_prospect_makes_a_new_business_lead_with_its_reason(category, asker,
                                                                                          prospect):
    topic = ask(asker, category, title="企业版报价", body="请问企业版的报价是多少？我们有 50 个用户。")
    [lead] = leads_of(prospect)
    assert (lead.status, lead.kind, lead.source) == (LeadStatus.POOL, LeadKind.NEW_BUSINESS, SignalKind.INTENT_WORDS)
    assert lead.score == lead_rules().weight(SignalKind.INTENT_WORDS).points
    [signal] = lead.signals
    assert (signal.topic_id, signal.post_id, signal.detail["terms"]) == (topic.id, opening_post(topic).id, ["报价"])
    created = db.session.scalar(sa.select(Activity).where(Activity.verb == str(Verb.LEAD_CREATED)))
    assert created.object_id == lead.id and created.customer_id == prospect.id


def test_a_second_signal_raises_the_open_lead_instead_of_making_another(category, asker, prospect):
    topic = ask(asker, category, title="Price for 50 seats?", body="We'd like a quote.")
    answer(asker, topic, body="Also: is there a trial of the enterprise plan?")
    [lead] = leads_of(prospect)
    assert len(lead.signals) == 2
    assert lead.score == 2 * lead_rules().weight(SignalKind.INTENT_WORDS).points


def test_editing_a_post_counts_its_words_once(category, asker, prospect):
    topic = ask(asker, category, title="What does the enterprise plan cost?", body="What is the price per user?")
    posts.edit_post(asker, opening_post(topic).id, "What is the price per user, and is there a trial?")
    [lead] = leads_of(prospect)
    assert len(lead.signals) == 1


def test_staff_words_are_not_signals(category, make_user, asker, prospect):
    topic = ask(asker, category, title="Export to PDF", body="How do I export?")
    answer(make_user(Role.MODERATOR), topic, body="The price of the PDF add-on is on the pricing page.")
    assert leads_of(prospect) == []


def test_a_weak_signal_waits_below_the_threshold_and_counts_when_the_next_comes(app, asker, prospect):
    update_lead_rules(None, {"threshold": 50})
    assert add_signal(SignalKind.HIGHER_PLAN, customer_id=prospect.id, member_id=asker.id) is None
    lead = add_signal(SignalKind.PROSPECT_ENGAGED, customer_id=prospect.id, member_id=asker.id)
    assert lead is not None and lead.score == 50 and len(lead.signals) == 2


def test_signals_decay_by_their_half_life(app, asker, prospect):
    update_lead_rules(None, {"threshold": 30})
    now = utcnow()
    weight = lead_rules().weight(SignalKind.INTENT_WORDS)
    long_ago = now - timedelta(days=weight.half_life_days * 2)
    # Two half-lives on, 40 points are worth 10: under the threshold alone.
    assert add_signal(SignalKind.INTENT_WORDS, customer_id=prospect.id, member_id=asker.id, occurred_at=long_ago,
                      now=now) is None
    lead = add_signal(SignalKind.INTENT_WORDS, customer_id=prospect.id, member_id=asker.id, now=now)
    assert lead.score == round(weight.points + weight.points / 4)
    pipeline_now = now + timedelta(days=weight.half_life_days)
    daily.rescore_open_leads(now=pipeline_now)
    assert db.session.get(Lead, lead.id).score == round(weight.points / 2 + weight.points / 8)


def test_a_member_without_a_customer_record_gets_their_own_lead(category, make_user):
    loner = established(make_user, email="wang@gmail.example")
    ask(loner, category, title="多少钱？", body="个人版多少钱一年？")
    [lead] = db.session.scalars(sa.select(Lead)).all()
    assert (lead.customer_id, lead.member_id, lead.subject) == (None, loner.id, f"member:{loner.id}")


def test_a_paying_customer_asking_about_a_higher_plan_is_an_upgrade_lead(category, make_user):
    customer = make_customer("Xingchen Retail", lifecycle_stage=LifecycleStage.CUSTOMER)
    buyer = established(make_user, customer_id=customer.id)
    from portal.community.models import Tag

    db.session.add(Tag(name="sso"))
    db.session.commit()
    update_lead_rules(None, {"higher_plan_tags": "enterprise, SSO", "weight.higher_plan.points": 40})
    ask(buyer, category, title="Does SSO work with Azure AD?", body="We want single sign-on for everyone.",
        tags=["sso"])
    [lead] = leads_of(customer)
    assert (lead.kind, lead.source) == (LeadKind.UPGRADE, SignalKind.HIGHER_PLAN)


def test_a_churned_customer_coming_back_is_a_win_back_lead(app, make_user):
    from portal.events import record_activity
    from portal.payloads import Visited

    customer = make_customer("Sunda Foods", lifecycle_stage=LifecycleStage.CHURNED_CUSTOMER)
    returning = established(make_user, customer_id=customer.id)
    record_activity(Verb.VISITED, actor=returning, payload=Visited(streak=1, day=date.today()))
    db.session.commit()
    [lead] = leads_of(customer)
    assert (lead.kind, lead.source) == (LeadKind.WIN_BACK, SignalKind.CAME_BACK)
    record_activity(Verb.VISITED, actor=returning, payload=Visited(streak=2, day=date.today()))
    db.session.commit()
    assert len(leads_of(customer)[0].signals) == 1   # coming back counts once a period


def test_a_product_past_its_replacement_cycle_is_a_repurchase_signal(app):
    from portal.crm.models import CustomerProduct
    from portal.crm.rules import update_crm_rules

    customer = make_customer("Nordwind", lifecycle_stage=LifecycleStage.REPEAT_CUSTOMER)
    db.session.add(CustomerProduct(customer_id=customer.id, product="Lumina Server",
                                   purchased_on=date.today() - timedelta(days=365 * 9)))
    db.session.commit()
    update_crm_rules(None, {"product_cycles": "Lumina Server: 8"})
    assert daily.signal_replacements_due() == 1
    assert daily.signal_replacements_due() == 0      # once per purchase
    [lead] = leads_of(customer)
    assert (lead.kind, lead.signals[0].detail["product"]) == (LeadKind.REPURCHASE, "Lumina Server")


def test_a_staff_flag_on_a_post_makes_a_lead_with_the_note(category, asker, prospect, make_user):
    topic = ask(asker, category, title="Export to PDF", body="How do I export every Monday?")
    moderator = make_user(Role.MODERATOR)
    lead = flag_post_as_lead(moderator, opening_post(topic).id, "They run 40 stores; ask about the retail plan.")
    assert lead.source == SignalKind.STAFF_FLAG
    assert lead.signals[0].detail["note"].startswith("They run 40 stores")
    with pytest.raises(Conflict):
        flag_post_as_lead(moderator, opening_post(topic).id, "again")
    with pytest.raises(Invalid):
        flag_post_as_lead(moderator, opening_post(topic).id, "   ")
    with pytest.raises(Forbidden):
        flag_post_as_lead(asker, opening_post(topic).id, "a member can't")


def test_one_open_lead_per_customer_is_a_constraint(app, prospect):
    db.session.add(Lead(subject=f"customer:{prospect.id}", customer_id=prospect.id, kind=LeadKind.UPSELL,
                        source=SignalKind.INTENT_WORDS))
    db.session.commit()
    db.session.add(Lead(subject=f"customer:{prospect.id}", customer_id=prospect.id, kind=LeadKind.UPSELL,
                        source=SignalKind.INTENT_WORDS))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_after_a_lead_closes_new_signals_make_a_new_one(category, asker, prospect, make_user):
    rep = make_user(Role.SALES)
    ask(asker, category, title="What is the price per user?", body="We have 40 people in the team.")
    [lead] = leads_of(prospect)
    pipeline.claim(rep, lead.id)
    pipeline.change_status(rep, lead.id, "lost", lost_reason="No budget this year")
    ask(asker, category, title="Quote for next year", body="Can we get a quote?")
    first, second = leads_of(prospect)
    assert (first.status, second.status) == (LeadStatus.LOST, LeadStatus.POOL)
    assert [s.id for s in second.signals] != [s.id for s in first.signals]


# -- the pipeline -----------------------------------------------------------------------------------

@pytest.fixture
def lead(category, asker, prospect):
    ask(asker, category, title="企业版报价", body="请问企业版的报价是多少？")
    return leads_of(prospect)[0]


def test_claim_sets_owner_and_due_date_and_a_second_claim_is_a_conflict(lead, make_user):
    first, second = make_user(Role.SALES), make_user(Role.SALES)
    claimed = pipeline.claim(first, lead.id)
    assert (claimed.status, claimed.owner_id) == (LeadStatus.CLAIMED, first.id)
    assert claimed.due_at - claimed.claimed_at == timedelta(days=lead_rules().sla(lead.kind))
    with pytest.raises(Conflict) as taken:
        pipeline.claim(second, lead.id)
    assert taken.value.code == "lead_taken"
    assert db.session.get(Lead, lead.id).owner_id == first.id


def test_the_pipeline_moves_forward_only_and_won_needs_a_value(lead, make_user):
    rep = make_user(Role.SALES)
    pipeline.claim(rep, lead.id)
    pipeline.change_status(rep, lead.id, "contacted", note="Called Li Wei.")
    pipeline.change_status(rep, lead.id, "qualified")
    for bad in ({"value": "-5"}, {"value": "lots"}, {"value": None}, {"value": "100", "products": 7}):
        with pytest.raises(Invalid):
            pipeline.change_status(rep, lead.id, "won", **bad)
    assert db.session.get(Lead, lead.id).status == LeadStatus.QUALIFIED
    pipeline.change_status(rep, lead.id, "won", value="12000", products=["Lumina Analytics Enterprise"])
    with pytest.raises(Conflict):
        pipeline.change_status(rep, lead.id, "contacted")
    with pytest.raises(Conflict):
        pipeline.claim(make_user(Role.SALES), lead.id)
    with pytest.raises(Invalid):
        pipeline.change_status(rep, lead.id, "sideways")


def test_only_the_owner_or_their_manager_works_a_lead(lead, make_user):
    team = Team(name="North")
    db.session.add(team)
    db.session.commit()
    owner = make_user(Role.SALES, team_id=team.id)
    other = make_user(Role.SALES, team_id=team.id)
    manager = make_user(Role.SALES_MANAGER, team_id=team.id)
    pipeline.claim(owner, lead.id)
    with pytest.raises(NotFound):
        pipeline.change_status(other, lead.id, "contacted")
    with pytest.raises(NotFound):
        pipeline.add_note(other, lead.id, "me too")
    pipeline.add_note(manager, lead.id, "Push for a demo this week.")
    pipeline.change_status(manager, lead.id, "contacted")


def test_a_won_lead_adds_revenue_and_products_to_the_customer_through_the_record(lead, make_user, prospect):
    rep = make_user(Role.SALES)
    pipeline.claim(rep, lead.id)
    pipeline.change_status(rep, lead.id, "won", value="12000.50", products=["Lumina Analytics Enterprise"])
    customer = db.session.get(Customer, prospect.id)
    db.session.refresh(customer)
    assert customer.revenue == Decimal("12000.50")
    assert [p.product for p in customer.products] == ["Lumina Analytics Enterprise"]
    assert customer.lifecycle_stage == LifecycleStage.CUSTOMER
    assert customer.value_tier == ValueTier.KEY          # the only customer with revenue brings all of it
    update = db.session.scalar(sa.select(Activity).where(Activity.verb == str(Verb.CUSTOMER_UPDATED),
                                                         Activity.customer_id == customer.id))
    assert update.payload["cause"] == "lead.won" and update.actor_id == rep.id
    assert db.session.get(Lead, lead.id).source == SignalKind.INTENT_WORDS


def test_a_won_lead_of_a_member_without_a_record_makes_their_customer_record(category, make_user):
    loner = established(make_user, email="wang@solo.example")
    ask(loner, category, title="多少钱？", body="个人版多少钱一年？")
    [lead] = db.session.scalars(sa.select(Lead)).all()
    rep = make_user(Role.SALES)
    pipeline.claim(rep, lead.id)
    pipeline.change_status(rep, lead.id, "won", value="990", products=["Lumina Personal"])
    db.session.refresh(loner)
    assert loner.customer is not None and loner.customer.revenue == Decimal("990.00")


def test_the_rep_holding_a_lead_reads_its_customer(lead, make_user, prospect):
    rep = make_user(Role.SALES)
    with pytest.raises(NotFound):
        get_customer(rep, prospect.id)
    pipeline.claim(rep, lead.id)
    assert get_customer(rep, prospect.id).id == prospect.id
    pipeline.hand_back(rep, lead.id, note="Not my region.")
    with pytest.raises(NotFound):
        get_customer(rep, prospect.id)


def test_hand_back_keeps_the_notes_and_the_lead_goes_to_the_pool(lead, make_user):
    rep = make_user(Role.SALES)
    pipeline.claim(rep, lead.id)
    pipeline.add_note(rep, lead.id, "Left a voicemail.")
    pipeline.hand_back(rep, lead.id, note="Not my region.")
    back = db.session.get(Lead, lead.id)
    assert (back.status, back.owner_id, back.times_returned) == (LeadStatus.POOL, None, 1)
    assert [n.body for n in back.notes] == ["Left a voicemail.", "Not my region."]
    returned = db.session.scalar(sa.select(Activity).where(Activity.verb == str(Verb.LEAD_RETURNED)))
    assert returned.payload["reason"] == "handed_back"


def test_the_sweep_returns_leads_with_no_follow_up_and_keeps_fresh_ones(lead, make_user, category, make_user_2=None):
    rep = make_user(Role.SALES)
    now = utcnow()
    pipeline.claim(rep, lead.id, now=now - timedelta(days=8))
    other_customer = make_customer("Jinqiao", lifecycle_stage=LifecycleStage.PROSPECT)
    other_asker = established(make_user, customer_id=other_customer.id)
    ask(other_asker, category, title="Quote please", body="A quote for 10 seats.")
    [fresh] = leads_of(other_customer)
    pipeline.claim(rep, fresh.id, now=now - timedelta(days=8))
    pipeline.add_note(rep, fresh.id, "Demo booked.", now=now - timedelta(days=1))
    assert pipeline.sweep(now=now) == 1
    assert db.session.get(Lead, lead.id).status == LeadStatus.POOL
    assert db.session.get(Lead, fresh.id).status == LeadStatus.CLAIMED


def test_the_sweep_command(runner, lead, make_user):
    rep = make_user(Role.SALES)
    pipeline.claim(rep, lead.id, now=utcnow() - timedelta(days=30))
    result = runner.invoke(args=["leads", "sweep"])
    assert result.exit_code == 0 and "1 leads returned" in result.output


def test_a_manager_assigns_within_their_team_only(lead, make_user):
    north, south = Team(name="North"), Team(name="South")
    db.session.add_all([north, south])
    db.session.commit()
    manager = make_user(Role.SALES_MANAGER, team_id=north.id)
    mine, theirs = make_user(Role.SALES, team_id=north.id), make_user(Role.SALES, team_id=south.id)
    with pytest.raises(Invalid):
        pipeline.assign(manager, lead.id, theirs.id)
    assigned = pipeline.assign(manager, lead.id, mine.id)
    assert (assigned.status, assigned.owner_id) == (LeadStatus.CLAIMED, mine.id)
    other = make_user(Role.SALES, team_id=north.id)
    assert pipeline.assign(manager, lead.id, other.id).owner_id == other.id
    with pytest.raises(Forbidden):
        pipeline.assign(mine, lead.id, mine.id)
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "lead.assigned")).all()
    assert len(entries) == 2


@pytest.mark.parametrize("leaves", ["suspended", "role_changed"])
def test_a_rep_who_leaves_has_their_open_leads_returned_with_notes(lead, make_user, admin, leaves):
    rep = make_user(Role.SALES)
    pipeline.claim(rep, lead.id)
    pipeline.add_note(rep, lead.id, "Quote sent.")
    if leaves == "suspended":
        admin_services.suspend(admin, rep.id, reason="Left the company")
    else:
        admin_services.change_role(admin, rep.id, Role.MEMBER)
    back = db.session.get(Lead, lead.id)
    assert (back.status, back.owner_id) == (LeadStatus.POOL, None)
    assert [n.body for n in back.notes] == ["Quote sent."]


def test_a_rep_promoted_to_manager_keeps_their_leads(lead, make_user, admin):
    rep = make_user(Role.SALES)
    pipeline.claim(rep, lead.id)
    admin_services.change_role(admin, rep.id, Role.SALES_MANAGER)
    assert db.session.get(Lead, lead.id).owner_id == rep.id


# -- rules -----------------------------------------------------------------------------------------

def test_lead_rules_are_checked_and_every_bad_field_named(app):
    with pytest.raises(Invalid) as bad:
        check_rules({"threshold": "0", "weight.intent_words.points": "x", "sla.upsell": "200",
                     "higher_plan_category_ids": [99999]})
    assert set(bad.value.fields) == {"threshold", "weight.intent_words.points", "sla.upsell",
                                     "higher_plan_category_ids"}
    rules = update_lead_rules(None, {"weight.intent_words.points": "55", "sla.referral": "1"})
    assert rules.weight(SignalKind.INTENT_WORDS).points == 55 and rules.sla(LeadKind.REFERRAL) == 1
    assert lead_rules().weight(SignalKind.INTENT_WORDS).points == 55


def test_a_signal_weighted_zero_records_nothing(app, asker, prospect):
    update_lead_rules(None, {"weight.came_back.points": "0"})
    assert add_signal(SignalKind.CAME_BACK, customer_id=prospect.id, member_id=asker.id) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LeadSignal)) == 0


# -- the daily run -----------------------------------------------------------------------------------

def test_the_daily_run_waits_in_the_outbox_and_sweeps_when_it_runs(app, lead, make_user):
    from portal.outbox import Lane, OutboxMessage, drain

    rep = make_user(Role.SALES)
    pipeline.claim(rep, lead.id, now=utcnow() - timedelta(days=30))
    drain(Lane.CRM)
    [waiting] = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.topic == "leads.daily")).all()
    assert waiting.available_at.hour == app.config["LEADS_DAILY_HOUR"]
    waiting.available_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    drain(Lane.CRM)
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).status == LeadStatus.POOL


def test_a_customer_silent_for_months_coming_back_is_a_signal(app, make_user):
    from portal.events import record_activity
    from portal.payloads import Visited

    customer = make_customer("Baiyun Foods", lifecycle_stage=LifecycleStage.CUSTOMER)
    member = established(make_user, customer_id=customer.id)
    long_ago = utcnow() - timedelta(days=200)
    record_activity(Verb.VISITED, actor=member, payload=Visited(streak=1, day=long_ago.date()),
                    occurred_at=long_ago)
    record_activity(Verb.VISITED, actor=member, payload=Visited(streak=1, day=date.today() - timedelta(days=150)),
                    occurred_at=long_ago + timedelta(days=50))
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LeadSignal)) == 0   # 50 days apart: not quiet
    record_activity(Verb.VISITED, actor=member, payload=Visited(streak=1, day=date.today()))
    db.session.commit()
    [signal] = db.session.scalars(sa.select(LeadSignal)).all()
    assert signal.kind == SignalKind.CAME_BACK and signal.lead.kind == LeadKind.WIN_BACK


def test_a_prospect_account_taking_part_strongly_is_a_signal_once_a_month(app):
    engaged = make_customer("Kestrel Robotics", lifecycle_stage=LifecycleStage.PROSPECT, engagement_score=60)
    make_customer("Quiet Ltd", lifecycle_stage=LifecycleStage.PROSPECT, engagement_score=10)
    make_customer("Paying Co", lifecycle_stage=LifecycleStage.CUSTOMER, engagement_score=90)
    assert daily.signal_engaged_prospects() == 1
    assert daily.signal_engaged_prospects() == 0
    [signal] = db.session.scalars(sa.select(LeadSignal)).all()
    assert signal.subject == f"customer:{engaged.id}" and signal.detail["engagement_score"] == 60
    done = daily.run_daily(now=utcnow() + timedelta(days=31))
    assert done.prospects == 1


def test_an_optional_note_that_was_not_sent_is_no_note(lead, make_user):
    rep = make_user(Role.SALES)
    pipeline.claim(rep, lead.id)
    pipeline.change_status(rep, lead.id, "contacted", note=None)
    pipeline.hand_back(rep, lead.id, note=None)
    assert db.session.get(Lead, lead.id).notes == []
    with pytest.raises(Invalid):
        pipeline.add_note(rep, lead.id, None)
