"""Post cards come from a cache shared by readers alike, and never show one reader another's page."""
import re
from datetime import timedelta

import pytest

from portal.auth.models import User
from portal.community import cards, posts, views, votes
from portal.extensions import db
from portal.permissions import Role
from portal.sqltypes import utcnow
from tests.community_factories import answer, ask, established, make_category, trusted


@pytest.fixture
def rendered(monkeypatch):
    """How many cards were rendered (not taken from the cache) since the fixture started."""
    count = {"cards": 0}
    original = cards.get_template_attribute

    def counting(template, name):
        macro = original(template, name)

        def render(*args, **kwargs):
            count["cards"] += 1
            return macro(*args, **kwargs)
        return render

    monkeypatch.setattr(cards, "get_template_attribute", counting)
    return count


@pytest.fixture
def thread(make_user):
    asker, helper = established(make_user, name="Asker"), established(make_user, name="Emma Schneider")
    topic = ask(asker, make_category("Questions"), title="Exporting dashboards")
    replies = [answer(helper, topic, f"Answer number {n}") for n in range(3)]
    return topic, replies, asker, helper


def page_of(app, user, topic, **headers):
    return app.test_client(user=user).get(f"/t/{topic.id}", headers=headers).get_data(as_text=True)


def test_members_alike_share_cards_and_each_change_renders_them_again(app, make_user, thread, rendered):
    topic, replies, asker, helper = thread
    first, second = established(make_user, name="Reader One"), established(make_user, name="Reader Two")
    page_of(app, first, topic)
    assert rendered["cards"] == 4
    page_of(app, second, topic)
    assert rendered["cards"] == 4  # the same rights and language: every card from the cache
    posts.edit_post(helper, replies[0].id, "Answer number 0, now with a screenshot")
    assert "now with a screenshot" in page_of(app, second, topic)
    assert rendered["cards"] == 8  # the topic's version moved: every card again


def test_a_readers_vote_and_rights_are_theirs_alone(app, make_user, thread):
    topic, replies, asker, helper = thread
    voter, other = trusted(make_user, name="Voter"), trusted(make_user, name="Other")
    page_of(app, other, topic)  # fills the cache for readers like `other`
    votes.cast(voter, replies[1].id, 1)
    mine = page_of(app, voter, topic)
    theirs = page_of(app, other, topic)
    assert mine.count('aria-pressed="true"') == 1 and theirs.count('aria-pressed="true"') == 0
    own = page_of(app, helper, topic)  # the author: edit and delete on their own answers only
    assert own.count(">Edit<") == 3 and theirs.count(">Edit<") == 0


def test_each_reader_gets_their_own_csrf_token_and_no_placeholder_is_left(make_app, make_user, thread):
    app = make_app(WTF_CSRF_ENABLED=True)
    topic, replies, asker, helper = thread
    tokens = []
    for name in ("First Reader", "Second Reader"):
        reader = trusted(make_user, name=name)
        client = app.test_client(user=reader)
        page = client.get(f"/t/{topic.id}").get_data(as_text=True)
        assert "\x00" not in page
        page_tokens = set(re.findall(r'name="csrf_token" value="([^"]+)"', page))
        assert len(page_tokens) == 1
        token = page_tokens.pop()
        tokens.append(token)
        voted = client.post(f"/p/{replies[0].id}/vote", data={"csrf_token": token, "value": "1"})
        assert voted.status_code == 302, name  # the token on the page is this reader's
    assert tokens[0] != tokens[1]


def test_staff_cards_never_reach_members(app, make_user, thread):
    topic, replies, asker, helper = thread
    moderator = make_user(Role.MODERATOR, name="Mo Moderator")
    sales = make_user(Role.SALES, name="Rep")
    member = trusted(make_user, name="Member")
    assert "Mark as official answer" not in page_of(app, moderator, topic)  # a member's answer, not staff's
    staff_page = page_of(app, sales, topic)
    assert "Flag as lead" in staff_page
    member_page = page_of(app, member, topic)
    assert "Flag as lead" not in member_page and "leads" not in member_page


def test_cards_follow_the_readers_language_and_time_zone(app, make_user, thread):
    topic, replies, asker, helper = thread
    english = established(make_user, name="English Reader")
    chinese = established(make_user, name="Chinese Reader")
    db.session.get(User, chinese.id).locale = "zh"
    db.session.get(User, chinese.id).timezone = "Asia/Shanghai"
    db.session.commit()
    page_of(app, english, topic)
    zh = page_of(app, chinese, topic)
    assert "引用" in zh and ">Quote<" not in zh


def test_how_long_ago_is_said_at_each_request(app, make_user, thread, monkeypatch):
    topic, replies, asker, helper = thread
    reader = established(make_user)
    assert "just now" in page_of(app, reader, topic)
    later = utcnow() + timedelta(hours=3)
    monkeypatch.setattr(views, "utcnow", lambda: later)
    page = page_of(app, reader, topic)  # the cached page, the time filled in now
    assert "3 hours ago" in page and "just now" not in page


def test_a_post_older_than_a_week_says_its_date_and_keeps_saying_it(app, make_user, thread, monkeypatch):
    topic, replies, asker, helper = thread
    old = replies[0]
    db.session.get(type(old), old.id).created_at = utcnow() - timedelta(days=30)
    db.session.commit()
    posts.edit_post(helper, old.id, "Still the scheduled export, a month on")  # a new version: cards rendered again
    reader = established(make_user)
    date = (utcnow() - timedelta(days=30)).strftime("%b %-d, %Y")
    assert f">{date}</time>" in page_of(app, reader, topic)
    later = utcnow() + timedelta(days=3)
    monkeypatch.setattr(views, "utcnow", lambda: later)
    assert f">{date}</time>" in page_of(app, reader, topic)


def test_the_topic_page_runs_the_same_statements_for_3_or_30_posts_cached_or_not(app, make_user):
    from tests.helpers import count_queries

    category = make_category("Questions")
    reader = established(make_user)
    small = ask(established(make_user), category, title="Small thread")
    big = ask(established(make_user), category, title="Big thread")
    for n in range(2):
        answer(established(make_user), small, f"Small {n}")
    for n in range(29):
        answer(established(make_user), big, f"Big {n}")
    client = app.test_client(user=reader)
    client.get("/latest")  # the day's first page counts the visit
    counts = []
    for topic in (small, big, small, big):
        with count_queries() as statements:
            assert client.get(f"/t/{topic.id}").status_code == 200
        counts.append(len([s for s in statements if not s.lstrip().upper().startswith("SAVEPOINT")]))
    cold_small, cold_big, warm_small, warm_big = counts
    # Warm, the page's posts and the cards come from the cache: the topic, the reader's votes and follow, the
    # level rules, and the layout's user and notices.
    assert cold_small == cold_big and warm_small == warm_big < cold_big and warm_big <= 7, counts
