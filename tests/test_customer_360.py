"""The customer 360: touchpoints from outside, notes, and one timeline merged from both sides, paged by cursor."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.community import answers, votes
from portal.crm import cadence, linking, timeline, touchpoints
from portal.crm.models import Customer, ValueTier
from portal.errors import Invalid, NotFound
from portal.extensions import db
from portal.permissions import Role
from portal.sqltypes import utcnow
from tests.community_factories import answer, ask, established, make_category
from tests.crm_factories import make_customer
from tests.helpers import count_queries

NOW = utcnow()


@pytest.fixture
def acme(app):
    return make_customer("Acme", value_tier=ValueTier.KEY)


def verbs(page):
    return [entry.activity.verb for entry in page.entries]


def test_touchpoints_are_recorded_checked_and_idempotent_by_external_ref(app, moderator, acme):
    activity, created = touchpoints.record_touchpoint(
        moderator, acme.id, channel="ticket", summary="Export fails on Mondays", contact="Wang Fang",
        occurred_at=NOW - timedelta(hours=3), follow_up_on="2026-12-10", external_ref="ZD-4711")
    assert created and activity.channel == "ticket" and activity.customer_id == acme.id
    again, created = touchpoints.record_touchpoint(moderator, acme.id, channel="ticket", summary="dup",
                                                   external_ref="ZD-4711")
    assert not created and again.id == activity.id
    assert db.session.get(Customer, acme.id).last_touch_at == NOW - timedelta(hours=3)
    with pytest.raises(Invalid) as refused:
        touchpoints.record_touchpoint(moderator, acme.id, channel="fax", summary="",
                                      occurred_at=NOW + timedelta(days=1), follow_up_on="soon")
    assert set(refused.value.fields) == {"channel", "summary", "occurred_at", "follow_up_on"}


def test_two_staff_notes_are_both_on_the_timeline(app, moderator, make_user, acme):
    rep = make_user(Role.SALES)
    acme.owner_rep_id = rep.id
    db.session.commit()
    touchpoints.add_note(moderator, acme.id, "Promised a training day in March.")
    touchpoints.add_note(rep, acme.id, "Quoted 20 more seats at 15% off.")
    _customer, page = timeline.customer_timeline(rep, acme.id, kinds=["notes"])
    assert [(e.actor.id, e.note.body) for e in page.entries] == [
        (rep.id, "Quoted 20 more seats at 15% off."), (moderator.id, "Promised a training day in March.")]
    with pytest.raises(NotFound):
        touchpoints.add_note(make_user(Role.SALES), acme.id, "Not my customer")


def test_the_timeline_merges_what_members_did_received_and_what_staff_recorded(app, moderator, make_user, acme):
    helper, asker, voter = (established(make_user) for _ in range(3))
    linking.link_member(moderator, helper.id, acme.id)
    topic = ask(asker, make_category(), now=NOW - timedelta(days=5))
    reply = answer(helper, topic, now=NOW - timedelta(days=4))
    votes.cast(voter, reply.id, 1, now=NOW - timedelta(days=3))
    answers.accept(asker, topic.id, reply.id, now=NOW - timedelta(days=2))
    touchpoints.record_touchpoint(moderator, acme.id, channel="call", summary="Renewal talk",
                                  occurred_at=NOW - timedelta(days=1))
    _customer, page = timeline.customer_timeline(moderator, acme.id,
                                                 kinds=["posts", "votes", "accepted", "touchpoints"])
    assert verbs(page) == ["customer.touchpoint_recorded", "answer.accepted", "post.voted", "post.created"]
    assert [e.received for e in page.entries] == [False, True, True, False]
    assert page.entries[2].subject.id == helper.id and page.entries[3].topic.id == topic.id
    _customer, theirs = timeline.customer_timeline(moderator, acme.id, member_id=helper.id, kinds=["posts", "votes"])
    assert verbs(theirs) == ["post.voted", "post.created"]


def test_paging_backwards_with_a_cursor_sees_every_entry_once(app, moderator, acme):
    for n in range(25):
        touchpoints.record_touchpoint(moderator, acme.id, channel="email", summary=f"Mail {n}",
                                      occurred_at=NOW - timedelta(hours=n // 2))  # pairs share a time
    seen, cursor = [], None
    while True:
        _customer, page = timeline.customer_timeline(moderator, acme.id, kinds=["touchpoints"], before=cursor,
                                                     limit=7)
        seen += [entry.data.summary for entry in page.entries]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == 25 and len(set(seen)) == 25
    with pytest.raises(Invalid):
        timeline.customer_timeline(moderator, acme.id, before="not-a-cursor")
    with pytest.raises(Invalid):
        timeline.customer_timeline(moderator, acme.id, kinds=["gossip"])


def test_a_timeline_page_takes_the_same_number_of_queries_however_full(app, moderator, make_user, acme):
    members = [established(make_user) for _ in range(3)]
    for member in members:
        linking.link_member(moderator, member.id, acme.id)
    category = make_category()

    def queries():
        with count_queries() as statements:
            timeline.customer_timeline(moderator, acme.id)
        return len(statements)

    answer(established(make_user), ask(members[0], category))
    touchpoints.add_note(moderator, acme.id, "The first note")
    few = queries()
    for n, member in enumerate(members * 6):
        topic = ask(member, category, title=f"Question number {n} about exports")
        answer(established(make_user), topic)
        touchpoints.add_note(moderator, acme.id, f"Note {n}")
    assert queries() == few


def test_visits_of_one_day_collapse_into_one_entry(app, moderator, make_user, acme):
    from portal.rewards.visits import record_daily_visit

    people = [established(make_user) for _ in range(3)]
    for person in people:
        linking.link_member(moderator, person.id, acme.id)
        record_daily_visit(person)
    _customer, page = timeline.customer_timeline(moderator, acme.id, kinds=["visits"])
    assert len(page.entries) == 1 and sorted(u.id for u in page.entries[0].visitors) == sorted(p.id for p in people)


def test_the_chart_counts_twelve_months_of_community_and_outside_touchpoints(app, moderator, make_user, acme):
    member = established(make_user)
    linking.link_member(moderator, member.id, acme.id)
    ask(member, make_category(), now=NOW - timedelta(days=40))
    touchpoints.record_touchpoint(moderator, acme.id, channel="meeting", summary="QBR")
    months = timeline.monthly_activity(acme, now=NOW)
    assert len(months) == 12 and months[-1].outside == 1 and sum(m.community for m in months) == 1


def test_a_key_customer_untouched_for_30_days_is_on_the_owners_list(app, moderator, make_user):
    keeper = make_user(Role.MODERATOR)
    quiet = make_customer("Quiet key", value_tier=ValueTier.KEY, relationship_owner_id=keeper.id,
                          last_touch_at=NOW - timedelta(days=31))
    make_customer("Busy key", value_tier=ValueTier.KEY, relationship_owner_id=keeper.id,
                  last_touch_at=NOW - timedelta(days=3))
    make_customer("Quiet standard", relationship_owner_id=keeper.id, last_touch_at=NOW - timedelta(days=300))
    due = cadence.to_contact(keeper, now=NOW)
    assert [(d.customer.id, d.days, d.cadence) for d in due] == [(quiet.id, 31, 30)]
    assert cadence.to_contact(moderator, now=NOW) == []
    touchpoints.record_touchpoint(keeper, quiet.id, channel="call", summary="Checked in", follow_up_on="2020-01-01")
    assert cadence.to_contact(keeper) == []
    assert [c.id for _a, c in cadence.follow_ups_due(keeper)] == [quiet.id]


def test_an_empty_or_overlong_note_is_refused_and_nothing_is_written(app, moderator, acme):
    from portal.crm.models import CustomerNote

    for body in ("", "   ", "x" * 5001):
        with pytest.raises(Invalid) as refused:
            touchpoints.add_note(moderator, acme.id, body)
        assert "body" in refused.value.fields
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CustomerNote)) == 0
