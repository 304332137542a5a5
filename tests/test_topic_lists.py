"""Topic lists come from a cache that the activity spine invalidates (portal/community/lists.py).

Every test reads a list once, so it is cached, then changes something
through a service and reads again: the list must show the change at once,
with no timeout involved.
"""
import re

import pytest
import sqlalchemy as sa
from flask import template_rendered

from portal.community import answers, categories, lists, posts, topics, votes
from portal.community.models import Access, CacheVersion, Topic
from portal.extensions import cache, db
from portal.moderation import decisions
from tests.community_factories import answer, ask, established, make_category, staff_only_category
from tests.helpers import count_queries
from tests.test_races import at_once, token
from tests.test_review_queue import first_post, open_item_of, watch

ROW = re.compile(r'<p class="topic-row__title">.*?<a href="/t/(\d+)">', re.S)


def shown(client, url="/latest"):
    """The topic ids a list page shows, in order."""
    response = client.get(url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    start = page.index('<ol class="topic-list">')
    return [int(i) for i in ROW.findall(page[start:page.index("</ol>", start)])]


def version():
    return db.session.scalar(sa.select(CacheVersion.version).where(CacheVersion.name == lists.VERSION)) or 0


@pytest.fixture
def qa(app):
    return make_category("Questions", "questions")


@pytest.fixture
def reader(make_user):
    return established(make_user)


@pytest.fixture
def author(make_user):
    return established(make_user)


def test_a_second_look_at_a_list_reads_no_topics(app, qa, author, reader):
    """The page of ids and the rows are cached: the second view runs no query on topics at all."""
    for n in range(3):
        ask(author, qa, f"Question number {n}")
    client = app.test_client(user=reader)
    first = shown(client)
    with count_queries() as statements:
        assert shown(client) == first
    assert not [s for s in statements if "FROM topics" in s and "notifications" not in s], statements
    # Layout (user, warnings, notifications), the list version and the reader's read marks.
    assert len(statements) <= 6, statements


@pytest.mark.parametrize("change", [
    "new topic", "reply", "title", "delete", "move out of reach", "category closed to members", "vote on top",
])
def test_every_change_reaches_a_cached_list_at_once(app, qa, author, reader, moderator, change):
    older = ask(author, qa, "The older question")
    newer = ask(author, qa, "The newer question")
    client = app.test_client(user=reader)
    url = "/latest?sort=top" if change == "vote on top" else "/latest"
    before = shown(client, url)
    assert set(before) == {older.id, newer.id}
    if change == "new topic":
        third = ask(author, qa, "A third question arrives")
        assert shown(client, url) == [third.id, newer.id, older.id]
    elif change == "reply":
        posts.reply(reader, older.id, "An answer that brings the older question back up.")
        assert shown(client, url) == [older.id, newer.id]
    elif change == "title":
        topics.change_topic(author, older.id, title="A clearer title for the older question")
        assert "A clearer title for the older question" in client.get(url).get_data(as_text=True)
    elif change == "delete":
        posts.delete_post(author, first_post(newer).id)
        assert shown(client, url) == [older.id]
    elif change == "move out of reach":
        topics.change_topic(moderator, newer.id, category_id=staff_only_category().id)
        assert shown(client, url) == [older.id]
    elif change == "category closed to members":
        categories.update_category(moderator, qa.id, read_access=Access.STAFF.value)
        assert client.get("/c/questions").status_code == 404
        assert shown(client, url) == []
    elif change == "vote on top":
        votes.cast(reader, first_post(older).id, 1)
        assert shown(client, url) == [older.id, newer.id]


def test_a_category_rename_shows_in_every_list(app, qa, author, reader, moderator):
    ask(author, qa, "A question in a category about to be renamed")
    client = app.test_client(user=reader)
    assert "Questions" in client.get("/latest").get_data(as_text=True)
    categories.update_category(moderator, qa.id, name="Questions and answers")
    assert "Questions and answers" in client.get("/latest").get_data(as_text=True)
    assert "Questions and answers" in client.get("/").get_data(as_text=True)


def test_an_accepted_answer_marks_the_row_solved(app, qa, author, reader):
    question = ask(author, qa, "A question about to be solved")
    reply = answer(reader, question)
    client = app.test_client(user=reader)
    assert 'class="solved"' not in client.get("/latest").get_data(as_text=True)
    answers.accept(author, question.id, reply.id)
    assert 'class="solved"' in client.get("/latest").get_data(as_text=True)


def test_a_held_topic_shows_to_its_author_and_moderators_only(app, qa, make_user, admin, moderator, reader):
    """The shared cache never hands one reader's own held topic to another, in either order."""
    watch(admin, "replica")
    writer = established(make_user)
    public = ask(writer, qa, "A question everyone sees")
    held = ask(writer, qa, "Where do I buy a replica licence?")
    assert db.session.get(Topic, held.id).held_at is not None
    assert shown(app.test_client(user=writer)) == [held.id, public.id]
    assert shown(app.test_client(user=reader)) == [public.id]
    assert shown(app.test_client()) == [public.id]
    assert shown(app.test_client(user=moderator)) == [held.id, public.id]
    assert shown(app.test_client(user=writer)) == [held.id, public.id]
    decisions.approve(moderator, open_item_of(first_post(held)).id)
    assert shown(app.test_client(user=reader)) == [held.id, public.id]


def test_one_cached_row_tells_each_reader_their_own_unread_count(app, qa, author, make_user):
    topic = ask(author, qa, "A question two members read")
    for n in range(3):
        answer(established(make_user), topic, f"Answer number {n} to the question.")
    keen, casual = established(make_user), established(make_user)
    keen_client, casual_client = app.test_client(user=keen), app.test_client(user=casual)
    keen_client.post(f"/t/{topic.id}/read", data={"up_to": 4})
    casual_client.post(f"/t/{topic.id}/read", data={"up_to": 2})
    assert "2 new" in casual_client.get("/latest").get_data(as_text=True)
    keen_page = keen_client.get("/latest").get_data(as_text=True)
    assert "topic-row--unread" not in keen_page and " new<" not in keen_page
    assert "2 new" in casual_client.get("/latest").get_data(as_text=True)


def test_the_version_moves_once_per_committed_transaction_and_never_on_a_rollback(app, qa, author, reader):
    start = version()
    topic = ask(author, qa, "A question that moves the version")
    assert version() == start + 1
    lists.mark_changed()
    db.session.rollback()
    assert version() == start + 1
    posts.reply(reader, topic.id, "A reply that moves it once more, with its points and notifications.")
    assert version() == start + 2


def test_a_bad_sort_is_refused_before_any_cache(app, reader):
    response = app.test_client(user=reader).get("/latest?sort=sideways")
    assert response.status_code == 422


def test_a_list_page_past_the_end_is_empty_not_an_error(app, qa, author, reader):
    ask(author, qa, "The only question")
    assert shown(app.test_client(user=reader), "/latest?page=5") == []


def test_lists_stay_right_under_parallel_replies_and_votes(app, qa, make_user):
    """Parallel writers all move the counter as their last write: none deadlocks, none is lost."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("parallel requests only really overlap on PostgreSQL (TEST_DATABASE_URL)")
    questions = [ask(established(make_user), qa, f"Parallel question {n}") for n in range(4)]
    writers = [established(make_user) for _ in range(8)]
    headers = [token(app, writer) for writer in writers]
    cache.clear()
    start = version()

    def reply(n):
        return lambda client: client.post(f"/api/v1/topics/{questions[n % 4].id}/posts",
                                          json={"body": f"Parallel answer {n} with enough words."}, headers=headers[n])

    first_posts = [first_post(q).id for q in questions]  # read here: the threads have no session of ours

    def vote(n):
        return lambda client: client.post(f"/api/v1/posts/{first_posts[n % 4]}/vote", json={"value": 1},
                                          headers=headers[n])

    responses = at_once(app, [reply(n) for n in range(4)] + [vote(n) for n in range(4, 8)])
    assert [r.status_code for r in responses] == [201] * 4 + [200] * 4, [r.get_json() for r in responses]
    assert version() == start + 8
    listed = shown(app.test_client(user=writers[0]))
    expected = db.session.scalars(sa.select(Topic.id).order_by(Topic.last_posted_at.desc(), Topic.id.desc())).all()
    assert listed == expected


@pytest.mark.parametrize("url", ["/latest", "/", "/c/questions", "/ideas", "/latest?sort=top&period=week"])
def test_a_visitors_cached_list_page_follows_the_spine_too(app, qa, author, url):
    """Visitors' list pages are cached whole (as their topic pages are), under the list version."""
    visitor = app.test_client()
    assert "The new idea everyone sees" not in visitor.get(url).get_data(as_text=True)
    with count_queries() as statements:
        assert visitor.get(url).status_code == 200
    assert len(statements) == 1, statements  # the list version
    topic = topics.create_topic(author, category_id=qa.id, kind="idea", title="The new idea everyone sees",
                                body="Let us export dashboards as PDF.")
    assert topic.id in shown(visitor, url)


@pytest.mark.parametrize("url, stored", [("/latest?sort=latest", True), ("/latest?utm_source=newsletter", False),
                                         ("/latest?period=someday", False), ("/latest?page=99999", False)])
def test_only_addresses_a_list_knows_are_stored(app, qa, author, url, stored):
    """Made-up addresses are served, but rendered each time, so they can't fill the cache."""
    ask(author, qa, "A question for any address")
    visitor, rendered = app.test_client(), []

    def record(sender, template, context, **extra):
        rendered.append(template.name)

    assert visitor.get(url).status_code == 200
    with template_rendered.connected_to(record, app):
        assert visitor.get(url).status_code == 200
    assert ("community/list.html" not in rendered) == stored


@pytest.mark.parametrize("filters", [{}, {"sort": "top"}, {"category": True}, {"kind": "idea", "sort": "votes"}])
def test_each_list_order_is_read_off_an_index(app, qa, reader, filters):
    """No list sorts its topics to find a page: SQLite's plan reads them in index order (PostgreSQL's planner
    picks by table statistics, so only SQLite's plan is fixed enough to assert)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    if filters.get("category"):
        filters = {"category": qa}
    query = topics.list_query(reader, **filters).with_only_columns(Topic.id).limit(30)
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    plan = " ".join(row[-1] for row in db.session.execute(sa.text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert "USING INDEX ix_topics_" in plan and "TEMP B-TREE" not in plan, plan
