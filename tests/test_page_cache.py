"""Visitors' topic pages come from a cache that every action on the topic invalidates."""
import sqlalchemy as sa

from portal.community import posts, votes
from portal.community.models import Topic
from portal.extensions import db
from tests.community_factories import answer, ask, established, make_category
from tests.helpers import count_queries


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


def test_members_pages_are_never_served_from_the_cache(app, make_user):
    asker, reader = established(make_user), established(make_user, name="Reader Person")
    topic = ask(asker, make_category("Questions"))
    app.test_client().get(f"/t/{topic.id}")  # fills the visitors' cache
    page = app.test_client(user=reader).get(f"/t/{topic.id}").get_data(as_text=True)
    assert "Reader Person" in page and "csrf_token" in page


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
