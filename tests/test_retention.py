"""The retention queue: which customers get a case, who owns it, what the queue shows, and closing a case."""
import threading
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.audit import AuditEntry
from portal.crm import retention
from portal.crm.models import ChurnRisk, LifecycleStage, RetentionCase, RetentionOutcome, RetentionStatus, ValueTier
from portal.errors import Conflict, Invalid, NotFound
from portal.events import Activity, Verb, record_activity
from portal.extensions import db
from portal.payloads import CustomerStageChanged
from portal.permissions import Role
from portal.sqltypes import utcnow
from tests.crm_factories import make_customer
from tests.helpers import count_queries

REASONS = [{"code": "complaints", "count": 2, "words": ["投诉", "refund"]},
           {"code": "unanswered", "count": 1, "topic_ids": [7]}]
CLOSE = {"channel": "call", "summary": "Called Li Wei: the export bug is fixed, they stay.", "outcome": "retained",
         "note": "Renewal signed next week."}


def at_risk(name="Xingchen Retail", *, tier=ValueTier.KEY, risk=ChurnRisk.HIGH, owner=None, reasons=REASONS,
            **fields):
    return make_customer(name, value_tier=tier, churn_risk=risk, churn_reasons=reasons,
                         relationship_owner_id=owner.id if owner else None, lifecycle_stage=LifecycleStage.CUSTOMER,
                         **fields)


def open_cases(now=None):
    opened = retention.open_retention_cases(now=now)
    db.session.commit()
    return opened


def case_of(customer, status=RetentionStatus.OPEN):
    return db.session.scalar(sa.select(RetentionCase).where(RetentionCase.customer_id == customer.id,
                                                            RetentionCase.status == status))


def count(model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def activities(verb, customer=None):
    query = sa.select(Activity).where(Activity.verb == str(verb))
    if customer is not None:
        query = query.where(Activity.customer_id == customer.id)
    return db.session.scalars(query.order_by(Activity.id)).all()


# -- opening ------------------------------------------------------------------------------------------------

def test_only_key_and_valued_customers_at_medium_or_high_risk_get_a_case(app):
    """Who lands in the queue, and who doesn't?"""
    key_high = at_risk("Key high")
    valued_medium = at_risk("Valued medium", tier=ValueTier.VALUED, risk=ChurnRisk.MEDIUM)
    standard_high = at_risk("Standard high", tier=ValueTier.STANDARD)
    key_low = at_risk("Key low", risk=ChurnRisk.LOW)
    key_none = at_risk("Key without risk", risk=ChurnRisk.NONE, reasons=[])

    assert open_cases() == 2
    assert case_of(key_high) and case_of(valued_medium)
    assert not any(case_of(c) for c in (standard_high, key_low, key_none))


def test_a_case_is_the_relationship_owners_due_in_the_rule_days_with_the_reasons_copied(app, moderator):
    """Is the case owned by the relationship owner, due in retention_due_days, and does it say why?"""
    owned, nobodys = at_risk("Owned", owner=moderator), at_risk("Nobody's")
    now = utcnow()
    open_cases(now)

    case = case_of(owned)
    assert case.owner_id == moderator.id and case_of(nobodys).owner_id is None
    assert case.due_on == now.date() + timedelta(days=7)
    assert case.reasons == REASONS and case.status == RetentionStatus.OPEN
    [opened] = activities(Verb.RETENTION_CASE_OPENED, owned)
    assert opened.object_type == "retention_case" and opened.object_id == case.id
    assert opened.data.staff_id == moderator.id and opened.data.reasons == ["complaints", "unanswered"]


def test_the_opened_case_shows_on_the_customers_360_timeline(app, moderator):
    customer = at_risk(owner=moderator)
    open_cases()
    page = app.test_client(user=moderator).get(f"/staff/customers/{customer.id}").get_data(as_text=True)
    assert f"At churn risk: put in the retention queue for <strong>{moderator.name}</strong>" in page


def test_running_again_opens_no_second_case_and_takes_up_changed_reasons(app):
    """Does a second run leave the open case alone, except for its reasons, and never close it?"""
    customer = at_risk()
    assert open_cases() == 1
    assert open_cases() == 0
    assert count(RetentionCase) == 1 and len(activities(Verb.RETENTION_CASE_OPENED)) == 1

    customer.churn_reasons = [{"code": "activity_falling", "recent": 2, "baseline": 30}]
    db.session.commit()
    open_cases()
    assert case_of(customer).reasons == [{"code": "activity_falling", "recent": 2, "baseline": 30}]

    customer.churn_risk, customer.churn_reasons = ChurnRisk.NONE, []
    db.session.commit()
    open_cases()
    case = case_of(customer)
    assert case.status == RetentionStatus.OPEN and case.reasons[0]["code"] == "activity_falling"


def test_a_customer_still_at_risk_after_a_case_closed_gets_a_new_one(app, moderator):
    customer = at_risk(owner=moderator)
    open_cases()
    retention.close_case(moderator, case_of(customer).id, channel="call", summary="Talked", outcome="at_risk")
    assert open_cases() == 1
    assert count(RetentionCase, RetentionCase.customer_id == customer.id) == 2


# -- the queue ----------------------------------------------------------------------------------------------

def _case(customer, *, owner=None, due_in=7, opened_days_ago=0, now=None):
    now = now or utcnow()
    case = RetentionCase(customer_id=customer.id, owner_id=owner.id if owner else None, reasons=REASONS,
                         opened_at=now - timedelta(days=opened_days_ago), due_on=now.date() + timedelta(days=due_in))
    db.session.add(case)
    db.session.commit()
    return case


def _closed(customer, outcome, *, closed_at, by):
    case = RetentionCase(customer_id=customer.id, reasons=REASONS, opened_at=closed_at - timedelta(days=3),
                         due_on=closed_at.date(), status=RetentionStatus.DONE, outcome=outcome, closed_at=closed_at,
                         closed_by_id=by.id, outcome_note=f"Note on {customer.name}")
    db.session.add(case)
    db.session.commit()
    return case


def _stage_changed(customer, from_stage, to_stage, when):
    record_activity(Verb.CUSTOMER_STAGE_CHANGED, obj=customer, customer_id=customer.id, occurred_at=when,
                    payload=CustomerStageChanged(from_stage=from_stage, to_stage=to_stage, cause="staff"))
    db.session.commit()


def test_the_queue_lists_open_cases_soonest_due_first_and_marks_the_overdue(app, moderator, make_user):
    other = make_user(Role.MODERATOR, name="Zhao Min")
    _case(at_risk("Later Ltd"), owner=moderator, due_in=5)
    _case(at_risk("Overdue Oy"), owner=other, due_in=-2, opened_days_ago=9)
    _case(at_risk("Today GmbH", tier=ValueTier.VALUED, risk=ChurnRisk.MEDIUM), due_in=0, opened_days_ago=7)
    _closed(at_risk("Closed Co"), RetentionOutcome.RETAINED, closed_at=utcnow(), by=moderator)

    page = app.test_client(user=moderator).get("/staff/retention/").get_data(as_text=True)
    queue = page.split("Recently closed")[0]
    assert queue.index("Overdue Oy") < queue.index("Today GmbH") < queue.index("Later Ltd")
    assert "Closed Co" not in queue and "Note on Closed Co" in page
    assert queue.count(">Overdue</span>") == 1 and "Due today" in queue and "open 9 days" in queue
    assert "Unassigned" in queue and other.name in queue
    assert "2 posts with complaint words (投诉, refund)." in queue and "1 question left unanswered." in queue
    assert _kpi(page, "Open cases") == 3 and _kpi(page, "Overdue") == 1


def _kpi(page, label):
    after = page.split(f"<dt>{label}</dt><dd>")[1]
    return int(after.split("</dd>")[0])


def test_the_queue_filters_mine_unassigned_and_by_owner(app, moderator, make_user):
    other = make_user(Role.MODERATOR, name="Zhao Min")
    _case(at_risk("Mine Ltd"), owner=moderator)
    _case(at_risk("Theirs Ltd"), owner=other)
    _case(at_risk("Nobodys Ltd"))
    client = app.test_client(user=moderator)

    def listed(query):
        body = client.get(f"/staff/retention/{query}").get_data(as_text=True).split("Recently closed")[0]
        return {name for name in ("Mine Ltd", "Theirs Ltd", "Nobodys Ltd") if name in body}

    assert listed("") == {"Mine Ltd", "Theirs Ltd", "Nobodys Ltd"}
    assert listed("?who=mine") == {"Mine Ltd"}
    assert listed("?who=unassigned") == {"Nobodys Ltd"}
    assert listed(f"?owner={other.id}") == {"Theirs Ltd"}
    assert listed("?who=nonsense") == {"Mine Ltd", "Theirs Ltd", "Nobodys Ltd"}
    page = client.get("/staff/retention/").get_data(as_text=True)
    assert "Everyone (3)" in page and "Mine (1)" in page and "Unassigned (1)" in page


def test_win_backs_and_outcomes_are_counted_this_year_and_ever(app, moderator):
    """Win-backs: customers whose stage moved away from churned customer; outcomes: cases closed this year."""
    now = utcnow()
    this_year, last_year = now - timedelta(minutes=5), datetime(now.year - 1, 6, 1, tzinfo=now.tzinfo)
    twice, once, long_ago, new = (at_risk(name) for name in ("Twice", "Once", "Long ago", "New"))
    _stage_changed(twice, "churned_customer", "customer", this_year)
    _stage_changed(twice, "customer", "churned_customer", this_year)
    _stage_changed(twice, "churned_customer", "repeat_customer", this_year)
    _stage_changed(once, "churned_customer", "customer", this_year)
    _stage_changed(long_ago, "churned_customer", "customer", last_year)
    _stage_changed(new, "prospect", "customer", this_year)
    for outcome, when in ((RetentionOutcome.RETAINED, this_year), (RetentionOutcome.RETAINED, this_year),
                          (RetentionOutcome.WON_BACK, this_year), (RetentionOutcome.LOST, this_year),
                          (RetentionOutcome.LOST, last_year)):
        _closed(at_risk(f"Closed {outcome} {when.year}"), outcome, closed_at=when, by=moderator)

    results = retention.results(now=now)
    assert (results.won_back_this_year, results.won_back_ever) == (2, 3)
    assert results.outcomes_this_year == {RetentionOutcome.RETAINED: 2, RetentionOutcome.WON_BACK: 1,
                                          RetentionOutcome.AT_RISK: 0, RetentionOutcome.LOST: 1}
    page = app.test_client(user=moderator).get("/staff/retention/").get_data(as_text=True)
    assert _kpi(page, "Won back this year") == 2 and _kpi(page, "Won back, all time") == 3


def test_the_queue_and_a_case_page_load_in_a_fixed_number_of_queries(app, moderator, make_user):
    client = app.test_client(user=moderator)

    def queries(url):
        client.get(url)
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    first = _case(at_risk("First", owner=moderator))
    _closed(at_risk("Closed first"), RetentionOutcome.LOST, closed_at=utcnow(), by=moderator)
    few, one_case = queries("/staff/retention/"), queries(f"/staff/retention/{first.id}")
    for n in range(8):
        owner = moderator if n % 2 else make_user(Role.ADMIN)
        _case(at_risk(f"Customer {n}", owner=owner), due_in=n - 3)
        _closed(at_risk(f"Closed {n}"), RetentionOutcome.RETAINED, closed_at=utcnow(), by=owner)
    assert queries("/staff/retention/") == few
    assert queries(f"/staff/retention/{first.id}") == one_case
    assert few <= 12


# -- closing ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("outcome", list(RetentionOutcome))
def test_closing_a_case_records_the_touchpoint_the_outcome_and_the_audit_entry(app, moderator, outcome):
    """What does closing write, with each outcome?"""
    customer = at_risk(owner=moderator)
    open_cases()
    case = case_of(customer)
    follow_up = (utcnow().date() + timedelta(days=14)).isoformat()
    client = app.test_client(user=moderator)

    response = client.post(f"/staff/retention/{case.id}", data={**CLOSE, "outcome": outcome.value,
                                                                "follow_up_on": follow_up})
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/retention/")

    case = db.session.get(RetentionCase, case.id)
    [touchpoint] = activities(Verb.TOUCHPOINT_RECORDED, customer)
    assert case.status == RetentionStatus.DONE and case.outcome == outcome
    assert case.closed_by_id == moderator.id and case.closed_at is not None
    assert case.outcome_note == CLOSE["note"] and case.action_activity_id == touchpoint.id
    assert touchpoint.channel == "call" and touchpoint.data.summary == CLOSE["summary"]
    assert touchpoint.data.staff_id == moderator.id and touchpoint.data.follow_up_on.isoformat() == follow_up
    [closed] = activities(Verb.RETENTION_CASE_CLOSED, customer)
    assert closed.data.case_id == case.id and closed.data.outcome == outcome.value
    [entry] = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "retention.closed")).all()
    assert entry.actor_id == moderator.id and entry.target_id == case.id and entry.label == "Retention case closed"

    timeline = client.get(f"/staff/customers/{customer.id}").get_data(as_text=True)
    closed_line = f"Retention case closed by <strong>{moderator.name}</strong>"
    assert closed_line in timeline and timeline.index(closed_line) < timeline.index(CLOSE["summary"])  # newest first
    case_page = client.get(f"/staff/retention/{case.id}").get_data(as_text=True)
    assert "How it ended" in case_page and str(outcome.label) in case_page and "Record what was done" not in case_page


def test_any_community_staff_member_may_close_a_case_they_dont_own(app, moderator, admin):
    customer = at_risk(owner=moderator)
    open_cases()
    retention.close_case(admin, case_of(customer).id, channel="visit", summary="Visited", outcome="won_back")
    assert case_of(customer, RetentionStatus.DONE).closed_by_id == admin.id


def _nothing_written(customer):
    assert case_of(customer) is not None
    assert activities(Verb.TOUCHPOINT_RECORDED) == [] and activities(Verb.RETENTION_CASE_CLOSED) == []
    assert count(AuditEntry, AuditEntry.action.like("retention.%")) == 0


@pytest.mark.parametrize("change, field, message", [
    ({"summary": "  "}, "summary", "Say what was discussed"),
    ({"outcome": "delighted"}, "outcome", "Choose retained, won back, still at risk or lost."),
    ({"outcome": ""}, "outcome", "Choose retained, won back, still at risk or lost."),
    ({"channel": "pigeon"}, "channel", "Choose call, email, meeting, ticket, event or visit."),
    ({"follow_up_on": "2001-01-01"}, "follow_up_on", "A follow-up can&#39;t be in the past."),
    ({"follow_up_on": "next week"}, "follow_up_on", "Give the date as YYYY-MM-DD."),
])
def test_bad_input_gets_a_form_error_and_writes_nothing(app, moderator, change, field, message):
    customer = at_risk(owner=moderator)
    open_cases()
    response = app.test_client(user=moderator).post(f"/staff/retention/{case_of(customer).id}",
                                                    data={**CLOSE, **change})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-err"' in page and message in page
    _nothing_written(customer)


def test_an_unknown_case_is_not_found(app, moderator):
    client = app.test_client(user=moderator)
    assert client.get("/staff/retention/999").status_code == 404
    assert client.post("/staff/retention/999", data=CLOSE).status_code == 404
    assert client.post("/staff/retention/999/owner", data={"owner": str(moderator.id)}).status_code == 404
    with pytest.raises(NotFound):
        retention.close_case(moderator, 999, channel="call", summary="x", outcome="lost")


def test_closing_a_closed_case_says_someone_already_closed_it_and_writes_nothing_more(app, moderator, admin):
    customer = at_risk(owner=moderator)
    open_cases()
    case_id = case_of(customer).id
    retention.close_case(admin, case_id, channel="call", summary="First", outcome="retained")
    with pytest.raises(Conflict, match="retention_case_closed"):
        retention.close_case(moderator, case_id, channel="email", summary="Second", outcome="lost")

    response = app.test_client(user=moderator).post(f"/staff/retention/{case_id}", data=CLOSE, follow_redirects=True)
    assert "Someone already closed this case." in response.get_data(as_text=True)
    assert len(activities(Verb.TOUCHPOINT_RECORDED)) == 1 and len(activities(Verb.RETENTION_CASE_CLOSED)) == 1
    assert count(AuditEntry, AuditEntry.action == "retention.closed") == 1
    assert db.session.get(RetentionCase, case_id).closed_by_id == admin.id


def test_a_case_is_reassigned_to_community_staff_only(app, moderator, admin, sales):
    customer = at_risk(owner=moderator)
    open_cases()
    case_id = case_of(customer).id
    client = app.test_client(user=admin)

    assert client.post(f"/staff/retention/{case_id}/owner", data={"owner": str(admin.id)}).status_code == 302
    assert db.session.get(RetentionCase, case_id).owner_id == admin.id
    [entry] = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "retention.reassigned")).all()
    assert entry.details["old_owner_id"] == moderator.id and entry.details["new_owner_id"] == admin.id

    refused = client.post(f"/staff/retention/{case_id}/owner", data={"owner": str(sales.id)})
    assert refused.status_code == 422 and "Choose a moderator or admin who is active." in refused.get_data(as_text=True)
    with pytest.raises(Invalid):
        retention.reassign_case(admin, case_id, None)
    assert db.session.get(RetentionCase, case_id).owner_id == admin.id

    retention.close_case(admin, case_id, channel="call", summary="Done", outcome="retained")
    with pytest.raises(Conflict):
        retention.reassign_case(admin, case_id, moderator.id)


# -- permissions --------------------------------------------------------------------------------------------

VISITOR = "visitor"
ALLOWED = {Role.MODERATOR, Role.ADMIN}
ROUTES = [("get", "/staff/retention/", None, 200), ("get", "/staff/retention/{id}", None, 200),
          ("post", "/staff/retention/{id}", CLOSE, 302), ("post", "/staff/retention/{id}/owner", {"owner": ""}, 422)]


@pytest.mark.parametrize("role", [VISITOR, *Role])
@pytest.mark.parametrize("method, path, data, allowed", ROUTES)
def test_only_community_staff_reach_the_retention_queue(app, make_user, role, method, path, data, allowed):
    """Sales reps and members get 403, visitors are sent to sign in; nobody else sees the customer."""
    customer = at_risk("Secret Account Ltd")
    open_cases()
    client = app.test_client() if role == VISITOR else app.test_client(user=make_user(role))
    response = getattr(client, method)(path.format(id=case_of(customer).id), data=data)
    if role == VISITOR:
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    else:
        assert response.status_code == (allowed if role in ALLOWED else 403)
    if role not in ALLOWED:
        assert "Secret Account" not in response.get_data(as_text=True)
        assert case_of(customer) is not None and activities(Verb.TOUCHPOINT_RECORDED) == []


# -- parallel requests (PostgreSQL) -------------------------------------------------------------------------

@pytest.fixture
def postgres(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("parallel requests only really overlap on PostgreSQL (TEST_DATABASE_URL)")
    return app


def _at_once(calls):
    """Run each call in its own thread, all released together; their results."""
    start, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(i, call):
        start.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.expire_all()
    return results


def test_five_staff_closing_one_case_at_once_close_it_once(postgres, make_user):
    customer = at_risk()
    open_cases()
    case_id = case_of(customer).id
    clients = [postgres.test_client(user=make_user(Role.MODERATOR)) for _ in range(5)]

    def close(client):
        return lambda: client.post(f"/staff/retention/{case_id}", data=CLOSE)

    responses = _at_once([close(client) for client in clients])
    winners = [r for r in responses if r.headers["Location"].endswith("/staff/retention/")]
    assert [r.status_code for r in responses] == [302] * 5 and len(winners) == 1
    assert len(activities(Verb.TOUCHPOINT_RECORDED)) == 1 and len(activities(Verb.RETENTION_CASE_CLOSED)) == 1
    assert count(AuditEntry, AuditEntry.action == "retention.closed") == 1
    case = db.session.get(RetentionCase, case_id)
    assert case.status == RetentionStatus.DONE and case.action_activity_id == activities(Verb.TOUCHPOINT_RECORDED)[0].id


def test_two_opening_runs_at_once_open_one_case(postgres):
    customers = [at_risk(f"At risk {n}") for n in range(3)]

    def run():
        with postgres.app_context():
            return open_cases()

    assert sum(_at_once([run, run])) == 3
    assert count(RetentionCase) == 3
    assert len(activities(Verb.RETENTION_CASE_OPENED)) == 3
    assert {case_of(c).customer_id for c in customers} == {c.id for c in customers}


def test_due_date_follows_the_admins_rule(app, admin):
    from portal.crm.rules import update_crm_rules

    update_crm_rules(admin, {"retention_due_days": 3})
    customer = at_risk()
    now = datetime(2026, 3, 10, 9, tzinfo=utcnow().tzinfo)
    open_cases(now)
    assert case_of(customer).due_on == date(2026, 3, 13)
