"""The activity spine: one row and one signal per action, subscribers in the same transaction, typed payloads."""
import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from portal import outbox
from portal.auth import services
from portal.auth.sessions import record_login
from portal.events import Activity, Verb, activity_recorded, record_activity, subscribers_of
from portal.extensions import db
from portal.outbox import OutboxMessage, enqueue
from portal.payloads import PAYLOADS, ProfileUpdated, payload_schemas

calls = []


def _record(message):
    calls.append(message.payload)


@pytest.fixture(autouse=True)
def _reset_calls():
    outbox.register_handler("test.record", _record, lane=outbox.Lane.MAIL)
    calls.clear()


def test_subscribers_write_in_the_same_transaction(member):
    """A subscriber's rows commit with the action, or vanish with it."""
    def subscriber(verb, activity, **extra):
        enqueue("test.record", {"activity": activity.id})

    activity_recorded.connect(subscriber, sender=Verb.PROFILE_UPDATED)
    try:
        services.update_profile(member, bio="Hello")
    finally:
        activity_recorded.disconnect(subscriber, sender=Verb.PROFILE_UPDATED)
    activity = db.session.scalar(sa.select(Activity).where(Activity.verb == Verb.PROFILE_UPDATED))
    assert calls == [{"activity": activity.id}]
    assert activity.customer_id == member.customer_id and activity.object_type == "user"


def test_a_rollback_leaves_neither_activity_nor_side_effect(member):
    record_activity(Verb.PROFILE_UPDATED, actor=member, obj=member, payload=ProfileUpdated(fields=["bio"]))
    enqueue("test.record", {"n": 1})
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Activity)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    assert calls == []


def test_verb_subscribers_only_hear_their_verb(member):
    heard = []

    def subscriber(verb, activity, **extra):
        heard.append(verb)

    activity_recorded.connect(subscriber, sender=Verb.LOGGED_IN)
    try:
        services.update_profile(member, bio="Hi")
        record_login(member)
    finally:
        activity_recorded.disconnect(subscriber, sender=Verb.LOGGED_IN)
    assert heard == [Verb.LOGGED_IN]


# -- wiring and payloads --------------------------------------------------------------------------

FRESHNESS = "community.freshness.bump_topic_version"
BADGES = "rewards.badges.badges_earned"
TOUCH = "crm.subscribers.customer_touched"
REVIEW = "moderation.subscribers.post_needs_review"
SUBSCRIBERS = {
    Verb.REGISTERED: ["crm.linking.link_new_member", TOUCH, "referrals.subscribers.account_seen"],
    Verb.LOGGED_IN: ["referrals.subscribers.account_seen"],
    Verb.VISITED: ["referrals.subscribers.account_seen", BADGES, "rewards.subscribers.daily_visit"],
    Verb.LEVEL_REACHED: ["notifications.subscribers.on_level_reached"],
    Verb.BADGE_AWARDED: ["notifications.subscribers.on_badge_awarded"],
    Verb.ACCOUNT_DELETED: ["referrals.subscribers.account_deleted"],
    Verb.TOPIC_CREATED: [FRESHNESS, TOUCH, "notifications.subscribers.on_new_topic", BADGES,
                         "rewards.subscribers.topic_created"],
    Verb.TOPIC_EDITED: [FRESHNESS],
    Verb.TOPIC_MOVED: [FRESHNESS],
    Verb.TOPIC_PINNED: [FRESHNESS],
    Verb.TOPIC_LOCKED: [FRESHNESS],
    Verb.TOPIC_CLOSED_AS_DUPLICATE: [FRESHNESS],
    Verb.POST_CREATED: [FRESHNESS, TOUCH, "notifications.subscribers.on_reply", BADGES,
                        "rewards.subscribers.reply_created"],
    Verb.POST_FLAGGED: [TOUCH, REVIEW],
    # An author's edit of a hidden or held post goes back to the review queue; so does a new watched word.
    Verb.POST_EDITED: [FRESHNESS, "moderation.resubmit.post_edited"],
    Verb.POST_DELETED: [FRESHNESS, "moderation.subscribers.post_deleted", "rewards.subscribers.post_deleted"],
    Verb.POST_HIDDEN: [FRESHNESS, REVIEW],
    # Held posts go to the review queue; the decisions only make cached topic pages stale.
    Verb.POST_HELD: [FRESHNESS, REVIEW],
    Verb.REVIEW_DECIDED: [FRESHNESS, "notifications.subscribers.on_flags_agreed"],
    Verb.VOTED: [FRESHNESS, TOUCH, BADGES, "rewards.subscribers.voted"],
    Verb.VOTE_RETRACTED: [FRESHNESS, "rewards.subscribers.vote_retracted"],
    Verb.VOTE_REVERSED: [FRESHNESS, "rewards.subscribers.vote_reversed"],
    Verb.ANSWER_ACCEPTED: [FRESHNESS, TOUCH, "notifications.subscribers.on_accepted", BADGES,
                           "rewards.subscribers.answer_accepted"],
    Verb.ANSWER_UNACCEPTED: [FRESHNESS, "rewards.subscribers.answer_unaccepted"],
    Verb.POST_MARKED_OFFICIAL: [FRESHNESS],
    Verb.IDEA_STATUS_CHANGED: [FRESHNESS, "notifications.subscribers.on_idea_status", BADGES],
    Verb.REFERRAL_SIGNED_UP: [BADGES, "rewards.subscribers.referral_signed_up"],
    Verb.REFERRAL_CONVERTED: [BADGES, "rewards.subscribers.referral_converted"],
    Verb.REFERRAL_INVITED: [TOUCH],
    Verb.CUSTOMER_STAGE_CHANGED: ["referrals.subscribers.customer_stage_changed"],
    Verb.TOUCHPOINT_RECORDED: [TOUCH],
    # Moderators' decisions on a member tell the member (a suspension also returns a rep's leads, below).
    Verb.MEMBER_WARNED: ["notifications.subscribers.on_sanctioned"],
    Verb.MEMBER_SILENCED: ["notifications.subscribers.on_sanctioned"],
    Verb.USER_SUSPENDED: ["notifications.subscribers.on_sanctioned"],
}
# The CRM's dimensions follow members' activity, records' changes and complaint words in posts.
ACTIVE, WRITTEN, GONE = "crm.dimensions.member_active", "crm.complaints.post_written", "crm.complaints.post_gone"
for verbs, name in (((Verb.VISITED, Verb.TOPIC_CREATED, Verb.POST_CREATED, Verb.VOTED, Verb.FOLLOWED,
                      Verb.POST_FLAGGED, Verb.REFERRAL_INVITED, Verb.REGISTERED), ACTIVE),
                    ((Verb.TOPIC_CREATED, Verb.POST_CREATED, Verb.POST_EDITED, Verb.TOPIC_EDITED,
                      Verb.POST_RESTORED), WRITTEN),
                    ((Verb.POST_DELETED, Verb.POST_HIDDEN), GONE),
                    ((Verb.CUSTOMER_CREATED, Verb.CUSTOMER_UPDATED), "crm.dimensions.record_changed"),
                    # Leads hear buying words, friends joining, customers coming back and reps leaving;
                    # the CRM hears a won lead as a sale.
                    ((Verb.TOPIC_CREATED, Verb.POST_CREATED, Verb.POST_EDITED, Verb.TOPIC_EDITED,
                      Verb.POST_RESTORED), "leads.signals.post_written"),
                    ((Verb.POST_DELETED, Verb.POST_HIDDEN), "leads.signals.post_gone"),
                    ((Verb.REFERRAL_SIGNED_UP,), "leads.signals.friend_joined"),
                    ((Verb.VISITED, Verb.LOGGED_IN, Verb.TOPIC_CREATED, Verb.POST_CREATED),
                     "leads.signals.member_present"),
                    ((Verb.USER_SUSPENDED, Verb.USER_ROLE_CHANGED, Verb.ACCOUNT_DELETED), "leads.signals.rep_left"),
                    ((Verb.LEAD_STATUS_CHANGED,), "crm.sales.lead_won"),
                    # Topic lists are cached under one version: whatever a topic's version follows moves it,
                    # and so do merges, splits and restored posts.
                    ((*[verb for verb, names in SUBSCRIBERS.items() if FRESHNESS in names], Verb.TOPIC_MERGED,
                      Verb.TOPIC_SPLIT, Verb.POST_RESTORED), "community.lists.topic_changed"),
                    # Webhooks publish the lead, referral and customer events the company's CRM subscribes to.
                    ((Verb.LEAD_CREATED, Verb.LEAD_CLAIMED, Verb.LEAD_ASSIGNED, Verb.LEAD_STATUS_CHANGED,
                      Verb.LEAD_RETURNED, Verb.REFERRAL_CONVERTED, Verb.CUSTOMER_STAGE_CHANGED),
                     "webhooks.delivery.activity_published")):
    for verb in verbs:
        SUBSCRIBERS[verb] = sorted([*SUBSCRIBERS.get(verb, []), name])


@pytest.mark.parametrize("verb", list(Verb))
def test_each_verb_has_exactly_the_subscribers_we_expect(app, verb):
    """Wired by each feature's init_app, not by importing: a missing or extra subscriber shows here."""
    assert subscribers_of(verb) == SUBSCRIBERS.get(verb, [])


def test_every_verb_declares_its_payload():
    assert set(PAYLOADS) == set(Verb)
    schemas = payload_schemas()
    assert schemas["post.voted"]["required"] == ["topic_id", "author_id", "value", "previous"]


def test_record_activity_refuses_a_payload_of_another_shape(member):
    from portal.payloads import Visited

    with pytest.raises(TypeError):
        record_activity(Verb.VISITED, actor=member, payload=ProfileUpdated(fields=["bio"]))
    with pytest.raises(TypeError):
        record_activity(Verb.VISITED, actor=member, payload={"streak": 1, "day": "2026-12-01"})
    with pytest.raises(ValidationError):
        Visited(streak="many", day="2026-12-01")
    db.session.rollback()


def test_a_stored_payload_reads_back_as_its_model(member):
    from datetime import date

    from portal.payloads import Visited

    activity = record_activity(Verb.VISITED, actor=member, obj=member, payload=Visited(streak=3, day=date(2026, 12, 1)))
    db.session.commit()
    stored = db.session.get(Activity, activity.id)
    assert stored.payload == {"streak": 3, "day": "2026-12-01"}
    assert stored.data == Visited(streak=3, day=date(2026, 12, 1))
