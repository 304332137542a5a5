"""Rules that pay or limit hold under parallel requests (PostgreSQL, where requests really overlap).

Each test fires real requests at once from threads, each with its own
connection, released together by a barrier, and then checks exact counts and
balances. The suite's teardown also checks every balance against the ledger.
"""
import threading
from collections import Counter

import pytest
import sqlalchemy as sa

from portal.auth.models import User
from portal.community.models import Topic
from portal.extensions import db
from portal.permissions import Role
from portal.referrals.models import Referral, ReferralStatus
from portal.rewards.models import PointsEntry
from tests.community_factories import answer, ask, established, make_category
from tests.conftest import PASSWORD

STRONG = "violet kettle mountain 42"


@pytest.fixture
def postgres(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("parallel requests only really overlap on PostgreSQL (TEST_DATABASE_URL)")
    yield app
    # After the storm, the operator's own check agrees: every balance equals its ledger.
    db.session.expire_all()
    result = app.test_cli_runner().invoke(args=["points", "verify"])
    assert result.exit_code == 0 and "Every balance equals its ledger." in result.output, result.output


def at_once(app, requests):
    """Run each `request(client)` in its own thread, all released together; their responses."""
    start, responses = threading.Barrier(len(requests)), [None] * len(requests)

    def run(i, request):
        client = app.test_client()
        start.wait()
        responses[i] = request(client)

    threads = [threading.Thread(target=run, args=(i, request)) for i, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.expire_all()  # the requests ran in other sessions
    return responses


def token(app, user):
    response = app.test_client().post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD})
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def earned(user, rule):
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(PointsEntry.delta), 0))
                             .where(PointsEntry.user_id == user.id, PointsEntry.rule == rule))


def test_five_parallel_accepts_of_one_answer_pay_once(postgres, make_user):
    asker, helper = established(make_user), established(make_user)
    question = ask(asker, make_category("Questions"))
    reply = answer(helper, question)
    headers, url, body = token(postgres, asker), f"/api/v1/topics/{question.id}/accept", {"post_id": reply.id}

    def accept(client):
        return client.post(url, json=body, headers=headers)

    responses = at_once(postgres, [accept] * 5)
    assert [r.status_code for r in responses] == [200] * 5
    assert earned(helper, "answer_accepted") == 15
    assert db.session.get(Topic, question.id).solved_post_id == reply.id


def test_accepting_two_answers_at_once_pays_only_the_one_that_stays(postgres, make_user):
    asker, first, second = established(make_user), established(make_user), established(make_user)
    question = ask(asker, make_category("Questions"))
    replies = [answer(first, question), answer(second, question, "Try the schedule menu")]
    headers, url, reply_ids = token(postgres, asker), f"/api/v1/topics/{question.id}/accept", [r.id for r in replies]

    def accept(post_id):
        return lambda client: client.post(url, json={"post_id": post_id}, headers=headers)

    responses = at_once(postgres, [accept(post_id) for post_id in reply_ids for _ in range(3)])
    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {200, 409} and statuses[200] >= 1
    for conflict in (r for r in responses if r.status_code == 409):
        assert conflict.get_json()["error"]["code"] == "answer_changed"
    solved = db.session.get(Topic, question.id).solved_post_id
    winner, loser = (first, second) if solved == reply_ids[0] else (second, first)
    assert earned(winner, "answer_accepted") == 15
    assert earned(loser, "answer_accepted") == 0  # paid and reversed, or never paid


def test_fifteen_parallel_signups_on_one_code_count_only_the_days_limit(postgres, make_user):
    referrer = established(make_user)
    limit, code = postgres.config["REFERRAL_SIGNUPS_PER_CODE_PER_DAY"], referrer.referral_code

    def sign_up(n):
        return lambda client: client.post("/api/v1/register", json={
            "email": f"friend{n}@partner{n}.example.org", "password": STRONG, "name": f"Friend {n}",
            "referral_code": code})

    responses = at_once(postgres, [sign_up(n) for n in range(15)])
    assert [r.status_code for r in responses] == [201] * 15  # every account is made ...
    statuses = Counter(db.session.scalars(sa.select(Referral.status).where(Referral.referrer_id == referrer.id)))
    assert statuses == {ReferralStatus.SIGNED_UP: limit, ReferralStatus.REJECTED: 15 - limit}  # ... few count
    assert earned(referrer, "referral_signed_up") == 20 * limit


def test_ten_parallel_registrations_of_one_email_make_one_account_and_nine_clean_errors(postgres):
    def register(client):
        return client.post("/api/v1/register", json={"email": "twin@example.org", "password": STRONG,
                                                     "name": "Twin Person"})

    responses = at_once(postgres, [register] * 10)
    assert sorted(r.status_code for r in responses) == [201] + [422] * 9
    assert {r.get_json()["error"]["code"] for r in responses if r.status_code == 422} == {"email_taken"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)
                             .where(User.email == "twin@example.org")) == 1


def test_parallel_registrations_of_alike_names_all_get_accounts(postgres):
    """Eight "Li Wei"s at once: the generated @usernames clash, and each is simply tried again."""
    def register(n):
        return lambda client: client.post("/api/v1/register", json={
            "email": f"li.wei@company{n}.example.org", "password": STRONG, "name": "Li Wei"})

    responses = at_once(postgres, [register(n) for n in range(8)])
    assert [r.status_code for r in responses] == [201] * 8
    usernames = db.session.scalars(sa.select(User.username).where(User.name == "Li Wei")).all()
    assert len(set(usernames)) == 8


def test_eight_parallel_upserts_of_one_external_id_make_one_customer(postgres, make_user):
    """The company's CRM sends the same new record eight times at once: one 201, the rest 200, one record."""
    from portal.crm.models import Customer

    headers = token(postgres, make_user(Role.MODERATOR))
    body = {"external_id": "SF-RACE", "name": "Raced Retail", "region": "East China"}
    responses = at_once(postgres, [lambda c: c.post("/api/v1/customers", json=body, headers=headers)] * 8)
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201], [r.get_json() for r in responses]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 1


def test_six_parallel_posts_of_one_ticket_record_one_touchpoint(postgres, make_user):
    """A ticket system retrying: the same external_ref six times at once is one touchpoint (201 once)."""
    from portal.events import Activity, Verb
    from tests.crm_factories import make_customer

    customer = make_customer("Acme")
    headers = token(postgres, make_user(Role.MODERATOR))
    body = {"channel": "ticket", "summary": "Export fails", "external_ref": "ZD-9"}
    url = f"/api/v1/customers/{customer.id}/touchpoints"
    responses = at_once(postgres, [lambda c: c.post(url, json=body, headers=headers)] * 6)
    assert sorted(r.status_code for r in responses) == [200] * 5 + [201]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Activity).where(
        Activity.verb == str(Verb.TOUCHPOINT_RECORDED))) == 1


def test_two_tier_runs_at_once_record_each_change_once(postgres):
    """A nightly run and a revenue change's run overlapping: every tier change is on the timeline once."""
    from decimal import Decimal

    from portal.crm.dimensions import assign_value_tiers
    from portal.crm.lifecycle_rules import apply_time_rules
    from portal.crm.models import Customer, LifecycleStage
    from portal.events import Activity, Verb
    from portal.sqltypes import utcnow
    from tests.crm_factories import make_customer

    long_ago = utcnow().replace(year=utcnow().year - 2)
    for n, revenue in enumerate((700, 200, 100, 0, 0)):
        make_customer(f"Racer {n}", revenue=Decimal(revenue), lifecycle_stage=LifecycleStage.PROSPECT,
                      created_at=long_ago, commit=False)
    db.session.commit()

    def run(_client):
        with postgres.app_context():
            assign_value_tiers(cause="tiers.nightly")
            apply_time_rules()
            db.session.commit()

    at_once(postgres, [run] * 4)
    tier_changes = Counter(db.session.scalars(sa.select(Activity.customer_id).where(
        Activity.verb == str(Verb.CUSTOMER_TIER_CHANGED))))
    stage_changes = Counter(db.session.scalars(sa.select(Activity.customer_id).where(
        Activity.verb == str(Verb.CUSTOMER_STAGE_CHANGED))))
    assert len(tier_changes) == 3 and set(tier_changes.values()) == {1}  # two key, one valued; the rest stay standard
    assert len(stage_changes) == 5 and set(stage_changes.values()) == {2}  # dormant, then lost: once each
    assert {c.lifecycle_stage for c in db.session.scalars(sa.select(Customer))} == {LifecycleStage.LOST_PROSPECT}
