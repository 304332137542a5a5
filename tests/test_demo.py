"""`flask seed-demo`: a living community on the first run, nothing twice.

Seeding takes a while, so the module seeds once, into a database of its own, and every test reads that.
"""
import re
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.auth.models import User
from portal.auth.services import normalise_email
from portal.community.models import (
    Access,
    Category,
    Follow,
    FollowTarget,
    IdeaStatus,
    IdeaStatusChange,
    Post,
    Topic,
    TopicKind,
    Vote,
)
from portal.community.topics import topic_list
from portal.crm.models import Customer, LifecycleStage, ValueTier
from portal.demo import DEMO_PASSWORD, MEMBER_EMAIL, MODERATOR_EMAIL, seed_demo
from portal.events import Activity, Verb
from portal.extensions import db
from portal.notifications.models import Notification
from portal.permissions import Role
from portal.rewards.models import PointsEntry, UserBadge
from portal.sqltypes import utcnow
from tests.busy_day import BusyDay
from tests.conftest import build_app, migrated_database


@dataclass
class Demo:
    app: object
    first_output: str  # what the first `flask seed-demo` printed


@pytest.fixture(scope="module")
def seeded():
    """The demo, seeded once by `flask seed-demo` on a database of its own. Without SERVER_NAME, as under
    `make run`, where no request is around to build mention links from."""
    with migrated_database() as (uri, options):
        app = build_app(uri, options, SERVER_NAME=None)
        first = app.test_cli_runner().invoke(args=["seed-demo"])
        assert first.exit_code == 0, first.output
        yield Demo(app, first.output)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def runner(seeded):
    """The demo's CLI, with its app context open for the test body."""
    with seeded.app.app_context():
        yield seeded.app.test_cli_runner()
        db.session.remove()


@pytest.fixture
def client(seeded, runner):
    return seeded.app.test_client()


def count(model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_seed_demo_builds_the_community_once(seeded, runner):
    assert "admin@teahouse.example" in seeded.first_output and "already" not in seeded.first_output
    second = runner.invoke(args=["seed-demo"])
    assert "already" in second.output and "admin@teahouse.example" in second.output
    assert count(Category) == 6
    assert count(Customer) == 13  # the twelve accounts and an import that conflicts with one of them
    assert count(User, User.role == Role.MEMBER) == 31  # one of them waits on that conflict
    assert count(User, User.role == Role.MODERATOR) == 2
    assert count(User, User.role == Role.SALES) == 3
    assert count(User, User.role == Role.SALES_MANAGER) == 1
    assert count(User, User.role == Role.ADMIN) == 1
    assert count(User, User.role == Role.MEMBER, User.customer_id.is_not(None)) >= 25
    # Every demo user can reset a password or register again: the app accepts their address.
    for email in db.session.scalars(sa.select(User.email)):
        assert normalise_email(email) == email, email
    # Every stored activity reads back as its verb's payload model (the webhook contract).
    for activity in db.session.scalars(sa.select(Activity)):
        assert activity.data is not None
    # The review queue has one item of each source waiting, and one member a decided history.
    from portal.moderation.models import MemberNote, MemberSanction, ReviewItem, ReviewStatus

    waiting = db.session.scalars(sa.select(ReviewItem).where(ReviewItem.status == ReviewStatus.OPEN)).all()
    assert sorted(tuple(item.reasons) for item in waiting) == [
        ("flagged",), ("flagged", "hidden_by_flags"), ("held_watched_words",)]
    warned = db.session.scalar(sa.select(MemberSanction))
    assert warned.acknowledged_at is not None and count(MemberNote, MemberNote.member_id == warned.member_id) == 1
    moderator = db.session.scalar(sa.select(User).where(User.email == MODERATOR_EMAIL))
    assert count(Notification, Notification.user_id == moderator.id, Notification.kind == "review_needed",
                 Notification.read_at.is_(None)) == 3


def test_demo_customers_cover_every_stage_and_a_pareto_revenue(runner):
    customers = db.session.scalars(sa.select(Customer)).all()
    assert {c.lifecycle_stage for c in customers} == set(LifecycleStage)
    assert {c.value_tier for c in customers} == set(ValueTier)
    key = [c for c in customers if c.value_tier == ValueTier.KEY]
    total = sum((c.revenue for c in customers), Decimal(0))
    assert 2 <= len(key) <= 3
    assert Decimal("0.75") <= sum(c.revenue for c in key) / total <= Decimal("0.85")
    churned = next(c for c in customers if c.lifecycle_stage == LifecycleStage.CHURNED_CUSTOMER)
    assert churned.renewal_date is not None and churned.lost_to
    # The stories the CRM's rules tell: a prospect went quiet, a churned customer was won back, one left.
    causes = Counter(a.payload["cause"] for a in db.session.scalars(
        sa.select(Activity).where(Activity.verb == str(Verb.CUSTOMER_STAGE_CHANGED))))
    assert causes["rule.prospect_silent"] >= 1 and causes["rule.won_back"] == 1 and causes["rule.renewal_lapsed"] >= 2
    # A key customer at churn risk, with complaint posts in Chinese, in the retention queue.
    from portal.crm.models import ChurnRisk, CustomerComplaint, RetentionCase, Segment

    at_risk = [c for c in key if c.churn_risk in (ChurnRisk.MEDIUM, ChurnRisk.HIGH)]
    assert len(at_risk) == 1
    words = {w for ws in db.session.scalars(sa.select(CustomerComplaint.words).where(
        CustomerComplaint.customer_id == at_risk[0].id)) for w in ws}
    assert {"投诉", "不满意"} <= words
    assert count(RetentionCase, RetentionCase.customer_id == at_risk[0].id) == 1
    assert count(Segment) >= 2
    assert any(c.future_value_parts and c.future_value_parts[0]["part"] == "renewal" for c in customers)


def test_demo_customers_have_full_records_touchpoints_notes_and_a_conflict(runner):
    """Products, outside touchpoints of every kind, notes by two staff members, one stale record, one conflict,
    and a key customer whose timeline is rich."""
    from portal.crm import linking, timeline
    from portal.crm.models import CustomerNote

    customers = {c.external_id: c for c in db.session.scalars(sa.select(Customer))}
    key = customers["LC-1001"]
    assert key.products and key.tags and key.relationship_owner and key.owner_rep
    channels = set(db.session.scalars(sa.select(Activity.channel).where(
        Activity.verb == str(Verb.TOUCHPOINT_RECORDED))))
    assert {"call", "meeting", "ticket", "event", "email"} <= channels
    authors = set(db.session.scalars(sa.select(CustomerNote.author_id).where(CustomerNote.customer_id == key.id)))
    assert len(authors) >= 2
    assert any(c.last_verified_at is None or c.last_verified_at < utcnow() - timedelta(days=365)
               for c in customers.values())
    [conflict] = linking.conflicts()
    assert conflict.value == "hangzhou-retail.example.cn" and len(conflict.members) == 1
    admin = db.session.scalar(sa.select(User).where(User.role == Role.ADMIN))
    _customer, page = timeline.customer_timeline(admin, key.id, limit=100)
    assert len({entry.kind for entry in page.entries}) >= 6 and page.next_cursor is not None


def test_printed_demo_logins_work(runner, client):
    output = runner.invoke(args=["seed-demo"]).output
    emails = [line.split()[1] for line in output.splitlines() if "@" in line]
    assert len(emails) == 5
    for email in emails:
        response = client.post("/api/v1/tokens", json={"email": email, "password": DEMO_PASSWORD})
        assert response.status_code == 201, email


# -- the community itself ----------------------------------------------------------------------

def test_demo_community_is_alive(runner):
    """Every check: content, access, notifications, counters, history."""
    check_the_seeded_community()


def check_the_seeded_community():
    db.session.expire_all()
    member = db.session.scalar(sa.select(User).where(User.email == MEMBER_EMAIL))
    moderator = db.session.scalar(sa.select(User).where(User.email == MODERATOR_EMAIL))
    check_every_kind_of_conversation()
    check_posts_quote_mention_and_earn_votes()
    check_announcements_and_staff_room(member, moderator)
    check_member_follows_and_has_notifications(member)
    check_counters_agree_with_the_rows()
    check_history_spreads_over_months_in_order(member)

    topics, posts, votes = count(Topic), count(Post), count(Vote)
    assert seed_demo() == {"created": False}
    assert (count(Topic), count(Post), count(Vote)) == (topics, posts, votes)


def all_topics():
    return db.session.scalars(sa.select(Topic)).all()


def check_every_kind_of_conversation():
    topics = all_topics()
    kinds = Counter(t.kind for t in topics)
    assert len(topics) >= 25 and set(kinds) == set(TopicKind)
    assert kinds[TopicKind.QUESTION] >= 10 and kinds[TopicKind.DISCUSSION] >= 8 and kinds[TopicKind.IDEA] >= 6
    assert count(Post) >= 100
    questions = [t for t in topics if t.kind == TopicKind.QUESTION]
    assert sum(t.is_solved for t in questions) >= 8
    assert sum(t.reply_count == 0 for t in questions) >= 2
    assert any(t.reply_count >= 3 and not t.is_solved for t in questions)
    assert {t.idea_status for t in topics if t.kind == TopicKind.IDEA} == set(IdeaStatus)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IdeaStatusChange)
                             .where(IdeaStatusChange.reply != "")) >= 8
    assert any(t.locked for t in topics)
    assert len({t.category_id for t in topics}) == count(Category)
    assert {tag.name for t in topics for tag in t.tags} >= {"sso", "api", "dingtalk", "wecom"}


def check_posts_quote_mention_and_earn_votes():
    posts = db.session.scalars(sa.select(Post)).all()
    quotes = [p for p in posts if p.reply_to_id is not None]
    assert len(quotes) >= 5 and all(p.source.startswith(">") for p in quotes)
    assert all(db.session.get(Post, p.reply_to_id).topic_id == p.topic_id for p in quotes)
    mentions = [tag for p in posts for tag in re.findall(r'<a [^>]*class="mention"[^>]*>', p.html)]
    assert len(mentions) >= 8 and all('href="/' in tag for tag in mentions)  # links to profiles on this site
    assert sum("<pre>" in p.html for p in posts) >= 5
    assert any(p.edited_at is not None and p.revision_count == 1 for p in posts)
    scores = sorted((p.score for p in posts), reverse=True)
    assert scores[0] >= 15 and scores[len(scores) // 2] <= 3  # a few popular posts, a long tail
    assert count(Vote, Vote.value == -1) >= 1
    assert db.session.scalar(sa.select(sa.func.count(sa.distinct(Vote.voter_id)))) >= 25


def check_announcements_and_staff_room(member, moderator):
    categories = {c.slug: c for c in db.session.scalars(sa.select(Category))}
    assert categories["announcements"].write_access == Access.STAFF
    staff_room = categories["staff-room"]
    assert (staff_room.read_access, staff_room.write_access) == (Access.STAFF, Access.STAFF)
    announcements = [t for t in all_topics() if t.category_id == categories["announcements"].id]
    assert len(announcements) == 2 and all(t.author.is_staff for t in announcements)
    assert [t.pinned for t in announcements].count(True) == 1

    seen_by_member = topic_list(member, per_page=100).items
    seen_by_moderator = topic_list(moderator, per_page=100).items
    assert len(seen_by_moderator) == count(Topic)
    assert any(t.category_id == staff_room.id for t in seen_by_moderator)
    assert not any(t.category_id == staff_room.id for t in seen_by_member)
    assert len(seen_by_member) == count(Topic) - count(Topic, Topic.category_id == staff_room.id)


def check_member_follows_and_has_notifications(member):
    follows = db.session.scalars(sa.select(Follow).where(Follow.user_id == member.id)).all()
    questions = db.session.scalar(sa.select(Category).where(Category.slug == "questions"))
    assert (FollowTarget.CATEGORY, questions.id) in {(f.target_type, f.target_id) for f in follows}
    assert sum(f.target_type == FollowTarget.TOPIC for f in follows) >= 2
    notifications = db.session.scalars(sa.select(Notification).where(Notification.user_id == member.id)).all()
    kinds = Counter(n.kind for n in notifications)
    assert {"new_topic", "followed_reply", "mention", "idea_status"} <= set(kinds)
    unread = [n for n in notifications if n.read_at is None]
    assert 1 <= len(unread) < len(notifications)
    assert all(n.created_at > utcnow() - timedelta(days=15) for n in unread)


def check_counters_agree_with_the_rows():
    """What `points verify`-style checks rely on: cached counters equal what they count."""
    post_counts = dict(db.session.execute(sa.select(Post.topic_id, sa.func.count()).group_by(Post.topic_id)).all())
    vote_sums = dict(db.session.execute(sa.select(Vote.post_id, sa.func.sum(Vote.value)).group_by(Vote.post_id)).all())
    first_scores = dict(db.session.execute(sa.select(Post.topic_id, Post.score).where(Post.number == 1)).all())
    # A reply held for a moderator (the demo's advertising one) is not counted until it is published.
    replies = dict(db.session.execute(sa.select(Post.topic_id, sa.func.count()).where(
        Post.number > 1, Post.held_at.is_(None), Post.deleted_at.is_(None)).group_by(Post.topic_id)).all())
    for topic in all_topics():
        assert topic.post_count == post_counts[topic.id], topic.title
        assert topic.reply_count == replies.get(topic.id, 0), topic.title
        assert topic.score == first_scores[topic.id], topic.title
        if topic.solved_post_id:
            assert db.session.get(Post, topic.solved_post_id).topic_id == topic.id
    for post in db.session.scalars(sa.select(Post)):
        assert post.score == vote_sums.get(post.id, 0), post.id
    ideas_first_posts = sa.select(Post.id).join(Topic, Topic.id == Post.topic_id).where(
        Topic.kind == TopicKind.IDEA, Post.number == 1)
    assert count(Vote, Vote.post_id.in_(ideas_first_posts), Vote.value == -1) == 0
    assert count(Vote, Vote.voter_id == Post.author_id, Vote.post_id == Post.id) == 0


def check_history_spreads_over_months_in_order(member):
    now = utcnow()
    topics = all_topics()
    assert min(t.created_at for t in topics) < now - timedelta(days=100)
    assert all(now - timedelta(days=121) < t.created_at < now for t in topics)
    joined = dict(db.session.execute(sa.select(User.id, User.created_at)).all())
    for topic in topics:
        posts = db.session.scalars(sa.select(Post).where(Post.topic_id == topic.id).order_by(Post.number)).all()
        times = [p.created_at for p in posts]
        assert times[0] == topic.created_at and times == sorted(times) and len(set(times)) == len(times)
        published = [p for p in posts if p.held_at is None]  # a held reply is no one's last post yet
        assert topic.last_posted_at == published[-1].created_at and topic.last_poster_id == published[-1].author_id
        assert all(joined[p.author_id] < p.created_at < now for p in posts)
    recent = count(Post, Post.created_at > now - timedelta(hours=24))
    assert 3 <= recent <= 15
    latest = topic_list(member, per_page=5).items
    assert latest[0].last_posted_at > now - timedelta(hours=24)
    votes = db.session.scalars(sa.select(Vote)).all()
    posted = dict(db.session.execute(sa.select(Post.id, Post.created_at)).all())
    assert all(posted[v.post_id] < v.created_at < now for v in votes)
    activity_times = db.session.scalars(sa.select(Activity.occurred_at)).all()
    assert min(activity_times) < now - timedelta(days=100) and max(activity_times) < now
    assert all(c.created_at < now for c in db.session.scalars(sa.select(IdeaStatusChange)))
    check_what_subscribers_wrote_is_dated_by_its_cause(now)


def check_what_subscribers_wrote_is_dated_by_its_cause(now):
    """Points, badges and notifications carry the moment of the action that caused them."""
    for stamp, cause in ((PointsEntry.created_at, PointsEntry.activity_id),
                         (UserBadge.awarded_at, UserBadge.activity_id)):
        rows = db.session.execute(sa.select(stamp, Activity.occurred_at).join(Activity, Activity.id == cause)).all()
        assert rows and all(written == happened for written, happened in rows), stamp
    notified = db.session.scalars(sa.select(Notification.created_at)).all()
    assert min(notified) < now - timedelta(days=90) and max(notified) < now


def test_demo_points_match_the_ledger(runner):
    result = runner.invoke(args=["points", "verify"])
    assert result.exit_code == 0, result.output



def test_demo_sales_work_leads_in_every_stage_and_the_crm_heard_each_step(runner):
    from portal.leads.models import Lead, LeadKind, LeadSignal, LeadStatus
    from portal.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery

    leads = db.session.scalars(sa.select(Lead)).all()
    assert {lead.status for lead in leads} == set(LeadStatus)
    assert {LeadKind.REFERRAL, LeadKind.WIN_BACK, LeadKind.NEW_BUSINESS} <= {lead.kind for lead in leads}
    words = db.session.scalars(sa.select(LeadSignal).where(LeadSignal.kind == "intent_words")).all()
    assert any("报价" in signal.detail["terms"] and signal.lead_id for signal in words)  # a 报价 question made one
    won = next(lead for lead in leads if lead.status == LeadStatus.WON)
    assert won.value and won.customer.revenue >= won.value                   # the won value is on the customer
    assert any(lead.times_returned and lead.status == LeadStatus.POOL for lead in leads)  # the sweep returned one

    [webhook] = db.session.scalars(sa.select(Webhook)).all()
    assert webhook.active is False                                           # paused: its receiver left with the seed
    deliveries = db.session.scalars(sa.select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)).all()
    assert {d.event for d in deliveries} >= {"lead.created", "lead.claimed", "lead.status_changed", "lead.returned",
                                             "customer.stage_changed", "referral.converted"}
    assert {(d.status, d.response_code, d.attempts) for d in deliveries} == {(DeliveryStatus.DELIVERED, 200, 1)}


# Last: it changes the demo the tests above read.
def test_points_verify_finds_no_difference_after_a_busy_day(runner):
    """After the demo and a day of 400 random actions, does `flask points verify` find every balance right?"""
    entries_before = db.session.scalar(sa.select(sa.func.count()).select_from(PointsEntry))
    done = BusyDay().run()
    assert {"ask", "reply", "upvote", "downvote", "retract", "accept", "delete", "visit"} <= set(done)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PointsEntry)) > entries_before + 200
    reversals = db.session.scalar(sa.select(sa.func.count()).select_from(PointsEntry)
                                  .where(PointsEntry.reverses_id.is_not(None)))
    assert reversals > 10
    result = runner.invoke(args=["points", "verify"])
    assert result.exit_code == 0 and "Every balance equals its ledger." in result.output
