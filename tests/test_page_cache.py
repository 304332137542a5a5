"""Pages come from a cache that every action on what they show invalidates: one page for every visitor, one
for the members alike in what they read and may do, with each member's own bits filled in (portal/slots.py)."""
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask, template_rendered

from portal import slots
from portal.community import follows, posts, votes
from portal.community.models import Topic
from portal.extensions import db
from portal.moderation import sanctions
from portal.permissions import Permission, Role
from portal.rewards.rule_settings import reward_settings, update_reward_settings
from portal.sqltypes import utcnow
from tests.community_factories import answer, ask, established, make_category, trusted
from tests.helpers import count_queries


@contextmanager
def templates_rendered(app):
    names = []

    def record(sender, template, context, **extra):
        names.append(template.name)

    with template_rendered.connected_to(record, app):
        yield names


def page(app, user, url):
    return app.test_client(user=user).get(url).get_data(as_text=True)


def test_visitors_get_the_cached_page_until_the_topic_changes(app, make_user):
    asker, helper = established(make_user), established(make_user, name="Emma Schneider")
    topic = ask(asker, make_category("Questions"))
    visitor, url = app.test_client(), f"/t/{topic.id}"
    first = visitor.get(url).get_data(as_text=True)
    with count_queries() as statements:
        again = visitor.get(url).get_data(as_text=True)
    assert again == first
    assert len(statements) == 1  # the topic and its version, nothing more

    reply = answer(helper, topic, "Use Share, then Schedule export")
    assert "Schedule export" in visitor.get(f"/t/{topic.id}").get_data(as_text=True)
    votes.cast(asker, reply.id, 1)
    page = visitor.get(f"/t/{topic.id}").get_data(as_text=True)
    assert db.session.get(Topic, topic.id).version == 3  # created, replied, voted
    posts.edit_post(helper, reply.id, "Use Share, then Schedule export (PDF)")
    assert "(PDF)" in visitor.get(f"/t/{topic.id}").get_data(as_text=True) != page


def test_visitor_pages_carry_no_csrf_token_and_set_no_cookie(app, make_user):
    topic = ask(established(make_user), make_category("Questions"))
    response = app.test_client().get(f"/t/{topic.id}")
    assert "csrf_token" not in response.get_data(as_text=True)
    assert not response.headers.getlist("Set-Cookie")


def test_cache_respects_language(app, make_user):
    topic = ask(established(make_user), make_category("Questions"))
    visitor = app.test_client()
    english = visitor.get(f"/t/{topic.id}").get_data(as_text=True)
    chinese = visitor.get(f"/t/{topic.id}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'lang="en"' in english and 'lang="zh-Hans"' in chinese


def test_visitors_switch_language_with_a_get(app):
    visitor = app.test_client()
    response = visitor.get("/locale?locale=zh&next=/latest")
    assert response.status_code == 302 and response.headers["Location"] == "/latest"
    assert 'lang="zh-Hans"' in visitor.get("/latest").get_data(as_text=True)
    assert visitor.get("/locale?locale=xx&next=https://evil.example/").headers["Location"] == "/"


def test_deleted_topics_leave_the_cache(app, make_user):
    asker = established(make_user)
    topic = ask(asker, make_category("Questions"))
    visitor = app.test_client()
    assert visitor.get(f"/t/{topic.id}").status_code == 200
    first_post = db.session.scalar(sa.select(posts.Post).where(posts.Post.topic_id == topic.id))
    posts.delete_post(asker, first_post.id)
    assert visitor.get(f"/t/{topic.id}").status_code == 404


# -- members' pages ---------------------------------------------------------------------------

def test_members_alike_share_one_page_each_with_their_own_header(app, make_user):
    topic = ask(established(make_user), make_category("Questions"))
    first, second = established(make_user, name="Reader One"), established(make_user, name="Reader Two")
    with templates_rendered(app) as rendered:
        mine = page(app, first, f"/t/{topic.id}")
    assert "community/topic.html" in rendered
    with templates_rendered(app) as rendered:
        theirs = page(app, second, f"/t/{topic.id}")
    assert "community/topic.html" not in rendered  # the first reader's page, with the second's own bits
    assert "Reader One" in mine and "Reader One" not in theirs and "Reader Two" in theirs
    assert f"/members/{second.id}" in theirs and f"/members/{first.id}" not in theirs
    assert "\x00" not in theirs


@pytest.mark.parametrize("url", ["/", "/latest", "/ideas", "/c/questions"])
def test_members_alike_share_each_list_page(app, make_user, url):
    ask(established(make_user), make_category("Questions"))
    first, second = established(make_user, name="Reader One"), established(make_user, name="Reader Two")
    assert 'usermenu__name">Reader One<' in page(app, first, url)
    with templates_rendered(app) as rendered:
        theirs = page(app, second, url)
    assert rendered == [] and 'usermenu__name">Reader Two<' in theirs and 'usermenu__name">Reader One<' not in theirs
    if url == "/":
        assert "Welcome back, Reader Two" in theirs


def test_a_shared_page_shows_each_member_their_own_follow_and_votes(app, make_user):
    asker = established(make_user)
    topic = ask(asker, make_category("Questions"))
    reply = answer(established(make_user), topic, "Try the scheduled export")
    follower, other = trusted(make_user), trusted(make_user)
    follows.follow(follower, "topic", topic.id)
    votes.cast(follower, reply.id, 1)
    assert ">Follow<" not in (mine := page(app, follower, f"/t/{topic.id}").replace("\n", "").replace("  ", ""))
    theirs = page(app, other, f"/t/{topic.id}")
    assert mine.count('aria-pressed="true"') == 2  # following, and their up-vote
    assert theirs.count('aria-pressed="true"') == 0
    assert f'formaction="/p/{reply.id}/unvote"' in mine and f'formaction="/p/{reply.id}/vote"' in theirs
    assert f'formaction="/p/{reply.id}/unvote"' not in theirs


def test_a_members_votes_on_a_cached_page_follow_each_vote_and_retraction(app, make_user):
    topic = ask(established(make_user), make_category("Questions"))
    reply = answer(established(make_user), topic, "Try the scheduled export")
    voter = trusted(make_user)
    client = app.test_client(user=voter)
    pressed = lambda: client.get(f"/t/{topic.id}").get_data(as_text=True).count('aria-pressed="true"')  # noqa: E731
    assert pressed() == 0 and pressed() == 0  # the second from the cache of their votes at this version
    votes.cast(voter, reply.id, -1)
    assert pressed() == 1
    votes.cast(voter, reply.id, 1)  # reversed
    page_html = client.get(f"/t/{topic.id}").get_data(as_text=True)
    assert f'value="1" formaction="/p/{reply.id}/unvote" aria-pressed="true"' in page_html
    votes.retract(voter, reply.id)
    assert pressed() == 0


def test_unread_counts_kept_for_a_list_follow_each_read_and_each_new_post(app, make_user):
    topic = ask(established(make_user), make_category("Questions"))
    answer(established(make_user), topic, "First answer")
    reader = trusted(make_user)
    client = app.test_client(user=reader)
    unread = lambda: client.get("/latest").get_data(as_text=True).count('class="unread"')  # noqa: E731
    assert unread() == 0  # never opened: nothing counts as new
    assert client.post(f"/t/{topic.id}/read", data={"up_to": 1}).status_code == 204
    assert unread() == 1 and unread() == 1  # one reply they have not seen; the second time from what was kept
    assert client.post(f"/t/{topic.id}/read", data={"up_to": 2}).status_code == 204
    assert unread() == 0
    answer(established(make_user), topic, "Second answer")
    assert unread() == 1  # a new post changes the row, so it is counted again


def test_a_category_page_shows_each_member_their_own_follow(app, make_user):
    category = make_category("Questions")
    follower, other = established(make_user), established(make_user)
    follows.follow(follower, "category", category.id)
    assert 'action="/unfollow"' in page(app, follower, "/c/questions")
    theirs = page(app, other, "/c/questions")
    assert 'action="/follow"' in theirs and 'action="/unfollow"' not in theirs


def test_staffs_pages_are_their_own_and_never_reach_members(app, make_user):
    topic = ask(established(make_user), make_category("Questions"))
    moderator = make_user(Role.MODERATOR, name="Mo Moderator")
    for _ in range(2):
        with templates_rendered(app) as rendered:
            staff_page = page(app, moderator, f"/t/{topic.id}")
        assert "community/topic.html" in rendered  # never from the cache
    assert "Pin to the top of its category" in staff_page
    member_page = page(app, established(make_user), f"/t/{topic.id}")
    assert "Pin to the top" not in member_page and "Mo Moderator" not in member_page
    assert "Review queue" not in page(app, established(make_user), "/latest")


def test_a_silenced_members_page_is_their_own(app, make_user, moderator):
    topic = ask(established(make_user), make_category("Questions"))
    silenced, other = trusted(make_user), trusted(make_user)
    page(app, other, f"/t/{topic.id}")
    sanctions.silence(moderator, silenced.id, "Cool down", utcnow() + timedelta(hours=24))
    theirs = page(app, silenced, f"/t/{topic.id}")
    assert "You are silenced until" in theirs and "Cool down" in theirs and "Post answer" not in theirs
    assert "You are silenced" not in page(app, other, f"/t/{topic.id}")


def test_levels_get_their_own_pages_and_new_level_rules_reach_them_at_once(app, make_user, admin):
    topic = ask(established(make_user), make_category("Questions"))
    newcomer, regular = established(make_user), trusted(make_user, points=1200)
    assert "Close as duplicate" in page(app, regular, f"/t/{topic.id}")
    assert "Close as duplicate" not in page(app, newcomer, f"/t/{topic.id}")
    settings = reward_settings()
    update_reward_settings(admin, rules=settings["rules"], daily_vote_cap=settings["daily_vote_cap"],
                           thresholds=settings["thresholds"],
                           privileges={**settings["privileges"], str(Permission.CLOSE_DUPLICATES): 1})
    assert "Close as duplicate" in page(app, newcomer, f"/t/{topic.id}")


def test_a_members_warning_shows_on_shared_pages(app, make_user, moderator):
    topic = ask(established(make_user), make_category("Questions"))
    warned, other = established(make_user), established(make_user)
    page(app, other, f"/t/{topic.id}")
    sanctions.warn(moderator, warned.id, reason="Please keep it civil")
    assert "You have a warning from the moderators." in page(app, warned, f"/t/{topic.id}")
    assert "You have a warning" not in page(app, other, f"/t/{topic.id}")


def test_a_warm_members_page_runs_a_fixed_handful_of_statements(app, make_user):
    topic = ask(established(make_user), make_category("Questions"))
    for n in range(5):
        answer(established(make_user), topic, f"Answer {n}")
    first, second = trusted(make_user), trusted(make_user)
    counts = {}
    for url in (f"/t/{topic.id}", "/latest", "/", "/c/questions"):
        page(app, first, url)
        client = app.test_client(user=second)
        client.get("/ideas")  # the day's first page counts the visit
        for seen in ("first", "again"):
            with count_queries() as statements:
                assert client.get(url).status_code == 200
            counts[url, seen] = len([s for s in statements if not s.lstrip().upper().startswith("SAVEPOINT")])
    # The session's user with their notice, list and reading versions, then: the topic with whether they follow
    # it, and their votes the first time at this version of the topic; or their read marks the first time they
    # see these rows at this reading version (the home and category pages show the one topic /latest showed),
    # and the category with its follow.
    topic_page = f"/t/{topic.id}"
    assert counts == {(topic_page, "first"): 3, (topic_page, "again"): 2, ("/latest", "first"): 2,
                      ("/latest", "again"): 1, ("/", "first"): 1, ("/", "again"): 1, ("/c/questions", "first"): 2,
                      ("/c/questions", "again"): 2}, counts


# -- slots --------------------------------------------------------------------------------------

def test_only_the_apps_own_slots_are_filled(app):
    with app.test_request_context("/"):
        made_up = b"before\x00member-name:\x00after \x00csrf:\x00"
        assert slots.fill(made_up) == made_up  # no mark, no slot
        assert slots.fill(f"a{slots.slot('nobody-fills-this', '1')}b".encode()) == b"ab"
        token = slots.fill(f"<i>{slots.slot('csrf')}</i>".encode()).decode()
        assert token not in ("<i></i>", f"<i>{slots.slot('csrf')}</i>") and "\x00" not in token
        # A NUL that is no slot (nothing stored holds one, but say): the slots around it are filled all the same.
        assert slots.fill(f"a\x00b{slots.slot('csrf')}c".encode()) == f"a\x00b{token[3:-4]}c".encode()
        # Text around the slots keeps its characters: 报价 and 報價 go through as the bytes they are.
        assert slots.fill(f"报价{slots.slot('nobody-fills-this')}報價".encode()) == "报价報價".encode()
    other = Flask("other")
    other.config["SECRET_KEY"] = "another secret"
    slots.init_app(other)
    assert other.extensions["slots"] != app.extensions["slots"]  # the mark comes from the secret key


def test_an_address_cannot_open_a_slot(app, make_user):
    member = established(make_user)
    client = app.test_client(user=member)
    response = client.get("/search?q=%00csrf:%00")
    assert response.status_code == 400 or "\x00" not in response.get_data(as_text=True)


def test_the_cached_way_to_a_topic_refuses_what_the_reader_may_not_read(app, make_user, moderator, admin):
    from tests.community_factories import staff_only_category
    from tests.test_review_queue import watch

    secret = ask(moderator, staff_only_category(), title="Staff only: the renewal list")
    member, other = established(make_user), established(make_user)
    for reader in (member, None):
        assert app.test_client(user=reader).get(f"/t/{secret.id}").status_code == 404
    watch(admin, "replica")
    held = ask(member, make_category("Questions"), title="A held question", body="Where is the replica?")
    assert db.session.get(Topic, held.id).held_at is not None
    assert "A held question" in page(app, member, f"/t/{held.id}")  # its author sees it, waiting
    assert app.test_client(user=other).get(f"/t/{held.id}").status_code == 404
    assert app.test_client().get(f"/t/{held.id}").status_code == 404
    posts.delete_post(member, db.session.scalar(sa.select(posts.Post.id).where(posts.Post.topic_id == held.id)))
    assert app.test_client(user=member).get(f"/t/{held.id}").status_code == 404
    assert "This topic is deleted" in page(app, moderator, f"/t/{held.id}")


@pytest.mark.parametrize("query, stored", [("", True), ("?page=1", True), ("?utm_source=newsletter", False),
                                           ("?post=abc", False)])
def test_only_addresses_a_topic_knows_are_stored(app, make_user, query, stored):
    """A made-up address is served, but rendered each time: what it carries (the footer's way back, say) never
    reaches another reader's page."""
    topic = ask(established(make_user), make_category("Questions"))
    reader = established(make_user)
    assert app.test_client(user=reader).get(f"/t/{topic.id}{query}").status_code == 200
    with templates_rendered(app) as rendered:
        again = app.test_client(user=established(make_user)).get(f"/t/{topic.id}{query}")
    assert ("community/topic.html" not in rendered) == stored, again.status_code


def test_a_vote_from_the_shared_form_goes_back_to_the_post_on_its_page(app, make_user):
    topic = ask(established(make_user), make_category("Questions"))
    reply = answer(established(make_user), topic, "Try the scheduled export")
    client = app.test_client(user=trusted(make_user))
    for action, data in (("vote", {"value": "1"}), ("unvote", {})):
        response = client.post(f"/p/{reply.id}/{action}", data=data)
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/t/{topic.id}#post-{reply.number}")
    gone = client.post("/p/987654/vote", data={"value": "1"})
    assert gone.status_code == 302 and gone.headers["Location"].endswith("/p/987654")
