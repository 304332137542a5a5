"""The member page's rewards (level progress, badges, points history) and GET /api/v1/me/points."""
import re

import pytest
import sqlalchemy as sa

from portal.auth import services
from portal.community import posts, topics, votes
from portal.community.models import Post
from portal.extensions import db
from portal.rewards.badges import award_badge
from portal.rewards.history import points_history
from portal.rewards.ledger import award
from tests.community_factories import answer, ask, established, make_category, staff_only_category
from tests.helpers import count_queries


def give(user, points):
    award(user.id, "opening_balance", None, delta=points)
    db.session.commit()


@pytest.fixture
def in_request(app):
    """A request context, so links come out as the site's paths, as on a page."""
    with app.test_request_context():
        yield


@pytest.fixture
def qa(app):
    return make_category("Questions")


@pytest.fixture
def pair(make_user):
    return established(make_user, name="Wang Fang"), established(make_user, name="Emma Schneider")


def history_section(html):
    """The points history table of a member page, or None when it is not shown."""
    match = re.search(r'<table class="table history">.*?</table>', html, re.S)
    return match.group(0) if match else None


# -- level, progress and badges --------------------------------------------------------------

def test_everyone_sees_level_progress_and_badges(client, pair):
    """Does anyone see a member's level, points, progress toward the next level and badges?"""
    wang, _ = pair
    give(wang, 120)
    award_badge(wang.id, "first_post")
    db.session.commit()
    html = client.get(f"/members/{wang.id}").get_data(as_text=True)
    assert "120 points" in html
    assert "Level 2 · Member" in html
    assert "80 points to Regular" in html
    assert 'max="100" value="46"' in html  # (120 - 50) of the 150 between Member and Regular
    assert "First post" in html


def test_the_top_level_says_so(client, pair):
    """Does a member at the highest level see that there is no next level?"""
    wang, _ = pair
    give(wang, 6000)
    html = client.get(f"/members/{wang.id}").get_data(as_text=True)
    assert "Highest level reached" in html and 'max="100" value="100"' in html


# -- who sees the history --------------------------------------------------------------------

def test_the_history_is_shown_to_the_member_and_moderators_only(client, auth, pair, moderator, qa):
    """Do the member and moderators see the points history, and other members and visitors not?"""
    wang, emma = pair
    ask(wang, qa)
    page = f"/members/{wang.id}"
    assert history_section(client.get(page).get_data(as_text=True)) is None
    auth.login(emma.email)
    other = client.get(page).get_data(as_text=True)
    assert history_section(other) is None and "2 points" in other
    auth.logout()
    auth.login(wang.email)
    assert "Started a topic" in history_section(client.get(page).get_data(as_text=True))
    auth.logout()
    auth.login(moderator.email)
    assert "Started a topic" in history_section(client.get(page).get_data(as_text=True))


# -- what the history says -------------------------------------------------------------------

def test_history_rows_give_reason_delta_and_a_link_to_the_cause(in_request, pair, qa):
    """Does each entry carry its reason, its signed delta and a link to the topic or post it is about?"""
    wang, emma = pair
    topic = ask(emma, qa)
    reply = answer(wang, topic)
    votes.cast(emma, reply.id, 1)
    give(wang, 5)
    rows = points_history(wang).items
    assert [(r.reason, r.delta) for r in rows] == [("Points from before the ledger", 5), ("Answer upvoted", 10),
                                                  ("Posted a reply", 1)]
    assert rows[0].cause is None
    assert rows[1].cause.type == "post" and rows[1].cause.id == reply.id
    assert rows[1].cause.url == f"/t/{topic.id}?post=2#post-2"
    assert rows[1].cause.title == topic.title
    started = points_history(emma).items[-1]
    assert (started.reason, started.cause.type, started.cause.url) == ("Started a topic", "topic",
                                                                      f"/t/{topic.id}")


def test_reversals_are_labelled_and_point_at_what_they_undo(in_request, pair, qa):
    """Is an undone entry shown as "Reversed: <reason>" with a negative delta and the original's link?"""
    wang, emma = pair
    topic = ask(emma, qa)
    reply = answer(wang, topic)
    votes.cast(emma, reply.id, 1)
    votes.retract(emma, reply.id)
    newest = points_history(wang).items[0]
    assert (newest.reason, newest.delta, newest.is_reversal) == ("Reversed: Answer upvoted", -10, True)
    assert newest.cause.url == f"/t/{topic.id}?post=2#post-2"


def test_links_to_topics_the_viewer_cannot_read_are_hidden(app, client, auth, pair, qa, moderator):
    """When a member's topic moves to a staff-only category, does their history stop linking to it?"""
    wang, emma = pair
    topic = ask(wang, qa, title="Our renewal discount")
    give(wang, 3)
    topics.change_topic(moderator, topic.id, category_id=staff_only_category().id)
    with app.test_request_context():
        own = points_history(wang).items
        assert [(r.reason, r.cause) for r in own] == [("Points from before the ledger", None),
                                                     ("Started a topic", None)]
        assert points_history(wang, viewer=moderator).items[1].cause.url == f"/t/{topic.id}"
    auth.login(wang.email)
    html = history_section(client.get(f"/members/{wang.id}").get_data(as_text=True))
    assert "Started a topic" in html and "Our renewal discount" not in html and f"/t/{topic.id}" not in html


def test_links_to_deleted_topics_are_shown_to_moderators_only(in_request, pair, qa, moderator):
    """Does a deleted topic stay linked for moderators and unlinked for the member?"""
    wang, emma = pair
    topic = ask(wang, qa)
    first = db.session.scalar(sa.select(Post).where(Post.topic_id == topic.id, Post.number == 1))
    posts.delete_post(moderator, first.id)
    rows = points_history(wang).items
    assert [(r.reason, r.delta, r.cause) for r in rows] == [("Reversed: Started a topic", -2, None),
                                                           ("Started a topic", 2, None)]
    assert points_history(wang, viewer=moderator).items[0].cause.url == f"/t/{topic.id}"


def test_referral_points_link_to_the_members_own_referrals_page(in_request, pair, moderator):
    """Does a referral's entry link to the member's referrals page, for the member only?"""
    wang, _ = pair
    services.register(email="friend@example.com", password="quiet maple harbour lantern 42", name="A Friend",
                      referral_code=wang.referral_code, ip="203.0.113.9", device_id="friend-device")
    mine = points_history(wang).items[0]
    assert (mine.reason, mine.delta) == ("A friend you invited joined", 20)
    assert (mine.cause.type, mine.cause.url) == ("referral", "/referrals")
    assert points_history(wang, viewer=moderator).items[0].cause is None


def test_the_history_is_paged_newest_first(client, auth, pair):
    """Does the history page through entries newest first?"""
    wang, _ = pair
    for n in range(1, 26):
        give(wang, n)
    first, second = points_history(wang, 1, 20), points_history(wang, 2, 20)
    assert [r.delta for r in first.items] == list(range(25, 5, -1))
    assert [r.delta for r in second.items] == [5, 4, 3, 2, 1]
    assert (first.total, first.pages, second.has_next) == (25, 2, False)
    auth.login(wang.email)
    html = client.get(f"/members/{wang.id}?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in html  # 26 entries with today's visit


def _member_with_history(make_user, qa, size):
    member = established(make_user, name=f"Member of {size}")
    others = [established(make_user, name=f"Voter {size}-{n}") for n in range(3)]
    for n in range(size):
        topic = ask(member, qa, title=f"Question number {n} from {size}")
        reply = answer(member, topic, f"Answer {n}")
        votes.cast(others[n % 3], reply.id, 1)
        votes.retract(others[n % 3], reply.id)
        give(member, 1)
    award_badge(member.id, "first_post")
    db.session.commit()
    return member


@pytest.mark.parametrize("viewer_kind", ["self", "moderator", "visitor"])
def test_the_member_page_reads_a_fixed_number_of_queries(client, auth, make_user, qa, moderator, viewer_kind):
    """Does a member page with a full page of history run the same queries as one with a few entries?"""
    def count(member):
        viewer = {"self": member, "moderator": moderator, "visitor": None}[viewer_kind]
        if viewer is not None:
            auth.login(viewer.email)
            client.get("/")  # the day's first page counts the visit
        with count_queries() as statements:
            assert client.get(f"/members/{member.id}").status_code == 200
        if viewer is not None:
            auth.logout()
        return len(statements)

    few = _member_with_history(make_user, qa, 1)
    many = _member_with_history(make_user, qa, 12)
    assert count(few) == count(many)


# -- GET /api/v1/me/points -------------------------------------------------------------------

def test_my_points_over_the_api(client, pair, qa, bearer):
    """Does /api/v1/me/points answer balance, level, next level and a page of the ledger with causes?"""
    wang, emma = pair
    topic = ask(emma, qa)
    reply = answer(wang, topic)
    votes.cast(emma, reply.id, 1)
    give(wang, 60)
    body = client.get("/api/v1/me/points?per_page=2", headers=bearer(wang)).get_json()
    assert body["points"] == 71
    assert body["level"] == {"number": 2, "key": "member", "label": "Member", "threshold": 50}
    assert body["next_level"] == {"number": 3, "key": "regular", "label": "Regular", "threshold": 200}
    ledger = body["ledger"]
    assert (ledger["page"], ledger["per_page"], ledger["total"]) == (1, 2, 3)
    opening, upvoted = ledger["items"]
    assert opening["rule"] == "opening_balance" and opening["delta"] == 60 and opening["cause"] is None
    assert upvoted["reason"] == "Answer upvoted" and upvoted["reverses_id"] is None
    assert upvoted["cause"] == {"type": "post", "id": reply.id, "url": f"/t/{topic.id}?post=2#post-2"}
    assert set(upvoted) == {"id", "delta", "rule", "reason", "created_at", "reverses_id", "cause"}
    last = client.get("/api/v1/me/points?per_page=2&page=2", headers=bearer(wang)).get_json()["ledger"]
    assert [(i["rule"], i["delta"]) for i in last["items"]] == [("reply_created", 1)]


def test_my_points_needs_a_token_and_valid_paging(client, pair, bearer):
    """Is /api/v1/me/points 401 without a token and 422 for a bad page size?"""
    wang, _ = pair
    assert client.get("/api/v1/me/points").status_code == 401
    bad = client.get("/api/v1/me/points?per_page=0", headers=bearer(wang))
    assert bad.status_code == 422 and "per_page" in bad.get_json()["error"]["fields"]
    top = client.get("/api/v1/me/points", headers=bearer(wang)).get_json()
    assert top["next_level"]["key"] == "member" and top["ledger"]["items"] == []
