"""The community in the browser: journeys through HTTP with the test client.

The rules themselves are tested on the services (test_community_rules.py);
these tests ask whether the pages show them and the buttons reach them.
"""
import re

import pytest
import sqlalchemy as sa

from portal.community import answers, posts, reading, topics, votes
from portal.community.models import Access, Flag, Follow, Post, PostRevision, Tag, Topic
from portal.extensions import cache, db
from portal.permissions import Role
from tests import community_factories as factories
from tests.community_factories import make_category, with_points
from tests.helpers import count_queries

# -- factories ---------------------------------------------------------------------------

def start(author, category, title, body="What is the best way to do this?", kind="question", **kw):
    return topics.create_topic(author, category_id=category.id, kind=kind, title=title, body=body, **kw)


def first_post(topic):
    return db.session.scalar(sa.select(Post).where(Post.topic_id == topic.id, Post.number == 1))


def count(model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def text(response):
    return response.get_data(as_text=True)


def listed(response):
    """The topic list of a page, without the rest of it (the home page also names each category's latest topic)."""
    page = text(response)
    start_at = page.index('<ol class="topic-list">')
    return page[start_at:page.index("</ol>", start_at)]


def post_html(page, number):
    """The markup of one post card on a topic page."""
    start_at = page.rindex('<li class="post', 0, page.index(f'id="post-{number}"'))
    following = page.find('<li class="post', start_at + 1)
    return page[start_at:following if following != -1 else len(page)]


@pytest.fixture
def qa(app):
    return make_category("Questions", "questions")


@pytest.fixture
def established(make_user):
    """Factory: a member past the first-day limits of new accounts."""
    return lambda role=Role.MEMBER, **fields: factories.established(make_user, role, **fields)


@pytest.fixture
def asker(established):
    return established(name="Wang Fang")


@pytest.fixture
def helper(established):
    return established(name="Emma Schneider")


# -- asking, answering, accepting ----------------------------------------------------------------

def test_question_is_answered_voted_and_accepted(app, qa, asker, helper, established):
    """Can a member ask, others answer and vote, and the asker accept, with the accepted answer read first?"""
    response = app.test_client(user=asker).post("/new", data={
        "category_id": qa.id, "kind": "question", "title": "How do I export a dashboard?",
        "body": "I need a PDF every Monday.", "tags": ""})
    topic = db.session.scalar(sa.select(Topic))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/t/{topic.id}")

    assert app.test_client(user=helper).post(f"/t/{topic.id}/reply",
                                             data={"body": "Use Share, then Schedule export."}).status_code == 302
    other = established(name="Li Wei")
    app.test_client(user=other).post(f"/t/{topic.id}/reply", data={"body": "Try the public API instead."})
    share, api = db.session.scalars(sa.select(Post).where(Post.number > 1).order_by(Post.number)).all()
    for voter in (asker, established()):
        response = app.test_client(user=voter).post(f"/p/{api.id}/vote",
                                                    data={"value": "1", "next": f"/t/{topic.id}#post-3"})
        assert response.status_code == 302 and response.headers["Location"].endswith(f"/t/{topic.id}#post-3")
    assert db.session.get(Post, api.id).score == 2

    page = text(app.test_client().get(f"/t/{topic.id}"))
    assert page.index("I need a PDF") < page.index("Try the public API") < page.index("Use Share")  # by votes

    helper_page = text(app.test_client(user=helper).get(f"/t/{topic.id}"))
    assert "Accept this answer" not in helper_page  # only the asker (or a moderator) accepts
    asker_page = text(app.test_client(user=asker).get(f"/t/{topic.id}"))
    assert 'aria-pressed="true"' in post_html(asker_page, 3)  # the asker's own vote shows pressed
    assert "Accept this answer" in post_html(asker_page, 2)

    response = app.test_client(user=asker).post(f"/t/{topic.id}/accept", data={"post_id": share.id})
    assert response.status_code == 302
    page = text(app.test_client().get(f"/t/{topic.id}"))
    assert "Solved" in page and "Accepted answer" in post_html(page, 2)
    assert page.index("I need a PDF") < page.index("Use Share") < page.index("Try the public API")
    assert "How do I export a dashboard?" in text(app.test_client().get("/latest?sort=solved"))

    app.test_client(user=asker).post(f"/t/{topic.id}/unaccept")
    assert db.session.get(Topic, topic.id).solved_post_id is None


def test_quote_reply_prefills_the_box_and_links_the_quoted_post(app, qa, asker, helper):
    """Does the Quote button put the post, as a Markdown quote, in the reply box, and is the reply linked to it?"""
    topic = start(asker, qa, "Scheduled export arrives blank", body="The map charts are empty.\nBar charts are fine.")
    first = first_post(topic)
    client = app.test_client(user=helper)
    page = text(client.get(f"/t/{topic.id}?quote={first.id}"))
    assert "&gt; The map charts are empty.\n&gt; Bar charts are fine.\n" in page
    assert f'name="reply_to_id" type="hidden" value="{first.id}"' in page

    response = client.post(f"/t/{topic.id}/reply", data={"body": "> The map charts are empty.\n\nSame here.",
                                                         "reply_to_id": first.id})
    assert response.status_code == 302 and response.headers["Location"].endswith("#post-2")
    reply = db.session.scalar(sa.select(Post).where(Post.number == 2))
    assert reply.reply_to_id == first.id
    assert "in reply to Wang Fang" in post_html(text(client.get(f"/t/{topic.id}")), 2)


def test_a_quote_of_another_topic_is_not_prefilled(app, qa, asker, helper):
    topic = start(asker, qa, "First topic about exports")
    elsewhere = start(asker, qa, "Second topic about imports", body="Somewhere else entirely.")
    page = text(app.test_client(user=helper).get(f"/t/{topic.id}?quote={first_post(elsewhere).id}"))
    assert "&gt; Somewhere else entirely." not in page


# -- editing and deleting ----------------------------------------------------------------------------

def test_edit_keeps_the_earlier_version_on_the_revisions_page(app, qa, asker):
    """After an edit, does the post say so and does its history show the earlier text, escaped?"""
    topic = start(asker, qa, "Export to PDF loses charts", body="First draft with <b>markup</b>.")
    post = first_post(topic)
    client = app.test_client(user=asker)
    form = text(client.get(f"/p/{post.id}/edit"))
    assert "First draft with &lt;b&gt;markup&lt;/b&gt;." in form and 'name="title"' in form

    response = client.post(f"/p/{post.id}/edit", data={"title": "Export to PDF loses map charts",
                                                       "body": "Second draft, clearer."})
    assert response.status_code == 302
    page = text(client.get(f"/t/{topic.id}"))
    assert "Second draft, clearer." in page and "Export to PDF loses map charts" in page
    assert f'href="/p/{post.id}/revisions"' in page

    history = text(client.get(f"/p/{post.id}/revisions"))
    assert "First draft with &lt;b&gt;markup&lt;/b&gt;." in history and "<pre" in history
    assert "Export to PDF loses charts" in history  # the title before the edit
    assert "<b>markup</b>" not in history


def test_edit_form_errors_come_back_with_the_text(app, qa, asker, helper):
    topic = start(asker, qa, "A question about alerts")
    reply = posts.reply(helper, topic.id, "An answer about alerts.")
    response = app.test_client(user=helper).post(f"/p/{reply.id}/edit", data={"body": "x"})
    assert response.status_code == 422
    assert "Write at least 2 characters." in text(response)
    assert 'name="title"' not in text(response)  # only first posts carry the title


def test_members_cannot_edit_or_delete_others_posts(app, qa, asker, helper):
    """Can a member edit or delete someone else's post? (No: 403, and nothing changes.)"""
    topic = start(asker, qa, "Whose post is this anyway?", body="The original words.")
    post = first_post(topic)
    client = app.test_client(user=helper)
    assert client.get(f"/p/{post.id}/edit").status_code == 403
    hijack = {"title": "Hijacked title here", "body": "New words."}
    assert client.post(f"/p/{post.id}/edit", data=hijack).status_code == 403
    assert client.post(f"/p/{post.id}/delete").status_code == 403
    post = db.session.get(Post, post.id)
    assert post.source == "The original words." and post.deleted_at is None
    assert count(PostRevision) == 0
    page = text(client.get(f"/t/{topic.id}"))
    assert f"/p/{post.id}/edit" not in page and f"/p/{post.id}/delete" not in page


def test_authors_delete_their_reply_and_their_topic(app, qa, asker, helper):
    topic = start(asker, qa, "A topic that will go away")
    reply = posts.reply(helper, topic.id, "A reply that will go away.")
    response = app.test_client(user=helper).post(f"/p/{reply.id}/delete", data={"next": f"/t/{topic.id}"})
    assert response.status_code == 302
    assert "A reply that will go away." not in text(app.test_client().get(f"/t/{topic.id}"))

    response = app.test_client(user=asker).post(f"/p/{first_post(topic).id}/delete")
    assert response.status_code == 302 and response.headers["Location"].endswith("/c/questions")
    assert app.test_client(user=helper).get(f"/t/{topic.id}").status_code == 404


# -- closed topics and categories ---------------------------------------------------------------------

def test_reply_in_a_locked_topic_is_refused_and_nothing_is_written(app, qa, asker, helper, moderator):
    topic = start(asker, qa, "Lock me after this question")
    assert app.test_client(user=moderator).post(f"/t/{topic.id}/lock").status_code == 302
    assert db.session.get(Topic, topic.id).locked

    client = app.test_client(user=helper)
    page = text(client.get(f"/t/{topic.id}"))
    assert "This topic is locked" in page and f'action="/t/{topic.id}/reply"' not in page
    response = client.post(f"/t/{topic.id}/reply", data={"body": "Sneaking a reply in."})
    assert response.status_code == 409
    assert "This topic is closed to new posts." in text(response)
    assert count(Post) == 1

    # Moderators still may, and see that they are replying to a closed topic.
    assert "as a moderator you can still reply" in text(app.test_client(user=moderator).get(f"/t/{topic.id}"))


def test_members_cannot_post_in_a_read_only_category(app, asker, moderator):
    """In a category only staff write in, do members see a notice instead of the reply box, and are refused?"""
    news = make_category("Announcements", "announcements", write_access=Access.STAFF)
    topic = start(moderator, news, "Release 4.2 is out today", kind="discussion")
    client = app.test_client(user=asker)
    page = text(client.get(f"/t/{topic.id}"))
    assert "Only staff can post in this category." in page and f'action="/t/{topic.id}/reply"' not in page

    assert client.post(f"/t/{topic.id}/reply", data={"body": "Great news!"}).status_code == 403
    new_topic_form = text(client.get("/new"))
    assert "Announcements" not in new_topic_form
    response = client.post("/new", data={"category_id": news.id, "kind": "discussion",
                                         "title": "Members posting news", "body": "Should not work."})
    assert response.status_code == 403 and "Only staff can start topics in this category." in text(response)
    assert count(Post) == 1 and count(Topic) == 1

    staff = app.test_client(user=moderator)
    assert staff.post(f"/t/{topic.id}/reply", data={"body": "Notes below."}).status_code == 302


def test_staff_only_category_is_hidden_from_members(app, qa, asker, moderator):
    """Is a staff-only category a 404 for members and absent from every list they see?"""
    staff = make_category("Staff room", "staff-room", read_access=Access.STAFF, write_access=Access.STAFF)
    secret = start(moderator, staff, "Weekly triage of open threads", kind="discussion")
    start(asker, qa, "A public question for everyone")
    client = app.test_client(user=asker)
    assert client.get("/c/staff-room").status_code == 404
    assert client.get(f"/t/{secret.id}").status_code == 404
    assert client.get(f"/t/{secret.id}?unread=1").status_code == 404
    for url in ("/", "/latest", "/latest?sort=top", "/new"):
        page = text(client.get(url))
        assert "Staff room" not in page and "Weekly triage" not in page, url
    assert "A public question for everyone" in text(client.get("/latest"))
    assert "Weekly triage" not in text(app.test_client().get("/latest"))  # nor for visitors

    staff_client = app.test_client(user=moderator)
    assert "Weekly triage of open threads" in text(staff_client.get("/c/staff-room"))
    assert "Staff room" in text(staff_client.get("/"))


def test_visitors_read_but_are_asked_to_sign_in_to_reply(app, qa, asker):
    topic = start(asker, qa, "Visitors can read this one")
    client = app.test_client()
    page = text(client.get(f"/t/{topic.id}"))
    assert "Sign in or join the community to reply." in page and f'action="/t/{topic.id}/reply"' not in page
    assert f'/p/{first_post(topic).id}/vote' not in page
    for url, data in ((f"/t/{topic.id}/reply", {"body": "Hi"}), (f"/p/{first_post(topic).id}/vote", {"value": 1})):
        response = client.post(url, data=data)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/new").status_code == 302
    assert count(Post) == 1


# -- ideas ------------------------------------------------------------------------------------------

def test_idea_votes_and_status_changes_are_visible(app, asker, helper, moderator):
    """Can members vote for an idea, and does the staff's status with its reply show on the idea and the list?"""
    ideas_category = make_category("Ideas", "ideas")
    idea = start(asker, ideas_category, "Dark mode for wall dashboards", body="Our TV screens glare.", kind="idea")
    first = first_post(idea)
    client = app.test_client(user=helper)
    assert client.post(f"/p/{first.id}/vote", data={"value": "1"}).status_code == 302
    page = text(client.get(f"/t/{idea.id}"))
    card = post_html(page, 1)
    assert 'aria-pressed="true"' in card and f'formaction="/p/{first.id}/unvote"' in card
    assert "<strong>1</strong> vote" in card

    response = client.post(f"/p/{first.id}/vote", data={"value": "-1"}, follow_redirects=True)
    assert "Ideas take votes for, not against." in text(response)
    assert db.session.get(Post, first.id).score == 1

    assert client.post(f"/t/{idea.id}/idea-status", data={"status": "planned"}).status_code == 403
    staff = app.test_client(user=moderator)
    response = staff.post(f"/t/{idea.id}/idea-status", data={"status": "planned", "reply": "Coming in **May**."})
    assert response.status_code == 302
    page = text(app.test_client().get(f"/t/{idea.id}"))
    assert 'class="status status--planned"' in page and "<strong>May</strong>" in page
    assert "by Moderator" in page
    assert "Dark mode for wall dashboards" in text(app.test_client().get("/ideas?status=planned"))
    assert "Dark mode for wall dashboards" not in text(app.test_client().get("/ideas?status=done"))

    assert client.post(f"/p/{first.id}/unvote").status_code == 302
    assert db.session.get(Post, first.id).score == 0


def test_ideas_list_sorts_by_votes(app, asker, helper, established):
    ideas_category = make_category("Ideas", "ideas")
    quiet = start(asker, ideas_category, "Quiet idea with no votes", kind="idea")
    popular = start(asker, ideas_category, "Popular idea with votes", kind="idea")
    for voter in (helper, established()):
        votes.cast(voter, first_post(popular).id, 1)
    page = text(app.test_client().get("/ideas"))
    assert page.index("Popular idea with votes") < page.index("Quiet idea with no votes")
    page = text(app.test_client().get("/ideas?sort=latest"))
    assert quiet.id < popular.id and page.index("Popular idea") < page.index("Quiet idea")


# -- lists --------------------------------------------------------------------------------------------

def test_list_sorts_return_the_right_topics(app, qa, asker, helper, established):
    """Do the Unanswered, Solved, Unsolved and Top tabs show the topics they promise?"""
    start(asker, qa, "Alpha question nobody answered")
    answered = start(asker, qa, "Bravo question with an answer")
    posts.reply(helper, answered.id, "An answer, not accepted.")
    solved = start(asker, qa, "Charlie question that got solved")
    answers.accept(asker, solved.id, posts.reply(helper, solved.id, "The accepted answer.").id)
    popular = start(asker, qa, "Delta discussion everyone liked", kind="discussion")
    posts.reply(helper, popular.id, "Agreed.")
    for voter in (helper, established()):
        votes.cast(voter, first_post(popular).id, 1)
    client = app.test_client()

    def titles(url):
        page = text(client.get(url))
        return [name for name in ("Alpha", "Bravo", "Charlie", "Delta") if f"{name} " in page]

    assert titles("/latest?sort=unanswered") == ["Alpha"]
    assert titles("/latest?sort=solved") == ["Charlie"]
    assert titles("/latest?sort=unsolved") == ["Alpha", "Bravo"]
    assert titles("/latest?kind=discussion") == ["Delta"]
    top = text(client.get("/latest?sort=top&period=week"))
    assert top.index("Delta discussion") < min(top.index(t) for t in ("Alpha question", "Bravo question"))
    assert client.get("/latest?sort=sideways").status_code == 422


def test_category_lists_pinned_topics_first_and_has_a_follow_button(app, qa, asker, moderator):
    older = start(asker, qa, "Older topic to be pinned")
    start(asker, qa, "Newer topic stays below")
    assert app.test_client(user=moderator).post(f"/t/{older.id}/pin").status_code == 302
    page = text(app.test_client(user=asker).get("/c/questions"))
    assert page.index("Older topic to be pinned") < page.index("Newer topic stays below")
    assert 'name="target_type" value="category"' in page and 'aria-pressed="false"' in page
    assert "Pinned" in page


def test_tag_page_lists_its_topics(app, qa, asker, moderator):
    db.session.add(Tag(name="export"))
    db.session.commit()
    start(asker, qa, "Tagged with export please", tags=["export"])
    start(asker, qa, "Not tagged at all here")
    page = text(app.test_client().get("/tags/export"))
    assert "Tagged with export please" in page and "Not tagged at all here" not in page
    assert 'href="/tags/export"' in text(app.test_client().get("/"))  # popular tags on the home page


def test_home_shows_categories_with_counts_and_latest_topic(app, qa, asker):
    start(asker, qa, "The most recent question here")
    page = text(app.test_client().get("/"))
    assert 'href="/c/questions"' in page and "1 topic" in page
    assert "The most recent question here" in page


def test_following_a_category_fills_the_feed(app, qa, asker, helper):
    """Does following a category put its topics in the member's Following tab, and unfollowing take them out?"""
    start(asker, qa, "A topic in a followed category")
    client = app.test_client(user=helper)
    assert "A topic in a followed category" not in listed(client.get("/feed"))
    response = client.post("/follow", data={"target_type": "category", "target_id": qa.id, "next": "/c/questions"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/c/questions")
    assert count(Follow) == 1
    assert "A topic in a followed category" in listed(client.get("/feed"))
    assert 'aria-pressed="true"' in text(client.get("/c/questions"))
    client.post("/unfollow", data={"target_type": "category", "target_id": qa.id})
    assert "A topic in a followed category" not in listed(client.get("/feed"))
    assert app.test_client().get("/feed").status_code == 302  # visitors sign in first


@pytest.mark.parametrize("next_url", ["//evil.example/", "/\t/evil.example", "/\\evil.example", "https://evil.example/"])
def test_buttons_only_go_back_to_pages_of_this_site(app, qa, helper, next_url):
    response = app.test_client(user=helper).post("/follow", data={"target_type": "category", "target_id": qa.id,
                                                                  "next": next_url})
    assert response.status_code == 302 and response.headers["Location"] == "/feed"


def test_following_a_topic_from_its_page(app, qa, asker, helper):
    topic = start(asker, qa, "Follow me from my own page")
    client = app.test_client(user=helper)
    client.post("/follow", data={"target_type": "topic", "target_id": topic.id, "next": f"/t/{topic.id}"})
    page = text(client.get(f"/t/{topic.id}"))
    assert 'action="/unfollow"' in page and "Following" in page


# -- unread ----------------------------------------------------------------------------------------------

def read_page(client, path):
    """Open a topic page and report what it offers as read, as the page's script does once it was seen."""
    page = text(client.get(path))
    url, up_to = re.search(r'data-read-url="([^"]+)" data-read-up-to="(\d+)"', page).groups()
    assert client.post(url, data={"up_to": up_to}).status_code == 204
    return page


def test_unread_badge_and_jump_to_first_unread(app, qa, asker, helper, established):
    """After new replies, does the list show how many are new and link to the first one, on the right page?"""
    app.config["POSTS_PER_PAGE"] = 2
    reader = established(name="Reader")
    topic = start(asker, qa, "Read me, then come back")
    posts.reply(helper, topic.id, "Second post, read already.")
    client = app.test_client(user=reader)
    client.get(f"/t/{topic.id}")
    assert reading.read_marks(reader, [topic.id]) == {}  # a page view writes nothing
    read_page(client, f"/t/{topic.id}")
    assert reading.read_marks(reader, [topic.id]) == {topic.id: 2}
    posts.reply(helper, topic.id, "Third post, new.")
    posts.reply(helper, topic.id, "Fourth post, new.")

    page = text(client.get("/latest"))
    assert "2 new" in page and f'href="/t/{topic.id}?unread=1"' in page
    assert "2 new" not in text(app.test_client().get("/latest"))  # visitors have no read marks
    response = client.get(f"/t/{topic.id}?unread=1")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/t/{topic.id}?page=2#post-3")

    read_page(client, f"/t/{topic.id}?page=2")
    assert "new</a>" not in text(client.get("/latest"))
    response = client.get(f"/t/{topic.id}?unread=1")  # all read: the last post
    assert response.headers["Location"].endswith(f"/t/{topic.id}?page=2#post-4")
    response = client.get(f"/p/{first_post(topic).id}")
    assert response.headers["Location"].endswith(f"/t/{topic.id}#post-1")


# -- flags and moderation -----------------------------------------------------------------------------

def test_members_flag_posts_once(app, qa, asker, helper):
    topic = start(asker, qa, "A post someone will flag")
    post = first_post(topic)
    client = app.test_client(user=with_points(helper, 60))
    assert f'action="/p/{post.id}/flag"' in text(client.get(f"/t/{topic.id}"))
    response = client.post(f"/p/{post.id}/flag", data={"reason": "spam", "text": "", "next": f"/t/{topic.id}"},
                           follow_redirects=True)
    assert "A moderator will take a look." in text(response)
    assert count(Flag, Flag.post_id == post.id) == 1
    response = client.post(f"/p/{post.id}/flag", data={"reason": "spam"}, follow_redirects=True)
    assert "You have already flagged this post." in text(response)
    response = client.post(f"/p/{post.id}/flag", data={"reason": "nonsense"}, follow_redirects=True)
    assert "Not a valid choice" in text(response)
    assert count(Flag) == 1


def test_moderators_move_and_close_topics_as_duplicates(app, qa, asker, helper, moderator):
    elsewhere = make_category("Integrations", "integrations")
    original = start(asker, qa, "The original question here")
    copy = start(helper, qa, "The same question again")
    assert "Moderation" not in text(app.test_client(user=asker).get(f"/t/{copy.id}"))
    staff = app.test_client(user=moderator)
    assert "Moderation" in text(staff.get(f"/t/{copy.id}"))

    assert staff.post(f"/t/{copy.id}/move", data={"category_id": elsewhere.id}).status_code == 302
    assert db.session.get(Topic, copy.id).category_id == elsewhere.id
    response = staff.post(f"/t/{copy.id}/close-duplicate", data={"original_id": copy.id}, follow_redirects=True)
    assert 'class="alert alert--error"' in text(response)  # a topic can't duplicate itself
    assert db.session.get(Topic, copy.id).duplicate_of_id is None
    staff.post(f"/t/{copy.id}/close-duplicate", data={"original_id": original.id})

    page = text(app.test_client(user=asker).get(f"/t/{copy.id}"))
    assert "closed as a duplicate" in page and f'href="/t/{original.id}"' in page
    assert app.test_client(user=asker).post(f"/t/{copy.id}/reply", data={"body": "Me too"}).status_code == 409
    assert app.test_client(user=asker).post(f"/t/{copy.id}/lock").status_code == 403


# -- new topics and new accounts ------------------------------------------------------------------------------

def test_new_topic_form_shows_the_services_errors(app, qa, asker):
    client = app.test_client(user=asker)
    form = text(client.get(f"/new?category={qa.id}&kind=idea"))
    assert f'<option selected value="{qa.id}">' in form
    assert re.search(r'<input checked [^>]*value="idea"', form)
    response = client.post("/new", data={"category_id": qa.id, "kind": "question", "title": "Help",
                                         "body": "Please help me."})
    assert response.status_code == 422
    page = text(response)
    assert "Write a title of at least 8 characters." in page and "Please help me." in page
    response = client.post("/new", data={"category_id": qa.id, "kind": "question", "title": "", "body": ""})
    assert response.status_code == 422 and "This field is required." in text(response)
    assert count(Topic) == 0


def test_new_accounts_hit_their_first_day_limits_with_a_429(app, qa, asker, member):
    """Does a brand-new account see the limit message on the form, with status 429, and is nothing written?"""
    client = app.test_client(user=member)
    for n in range(3):
        response = client.post("/new", data={"category_id": qa.id, "kind": "discussion",
                                             "title": f"New member topic number {n}", "body": "Hello all."})
        assert response.status_code == 302
    response = client.post("/new", data={"category_id": qa.id, "kind": "discussion",
                                         "title": "One topic too many today", "body": "Hello again."})
    assert response.status_code == 429
    assert "New members can start 3 topics on their first day." in text(response)
    assert count(Topic) == 3

    topic = start(asker, qa, "Replies from a new member")
    for n in range(10):
        assert client.post(f"/t/{topic.id}/reply", data={"body": f"Reply {n}"}).status_code == 302
    response = client.post(f"/t/{topic.id}/reply", data={"body": "Reply eleven"})
    assert response.status_code == 429
    page = text(response)
    assert "New members can post 10 replies on their first day." in page and "Reply eleven" in page
    assert count(Post, Post.topic_id == topic.id) == 11


# -- a fixed number of queries ----------------------------------------------------------------------------------

def _topic_with(author, category, *, replies, tags, voters, quoter):
    topic = start(author, category, f"Topic with {replies} replies and {len(tags)} tags", tags=tags)
    first = first_post(topic)
    for n in range(replies):
        posts.reply(quoter if n % 2 else author, topic.id, f"Reply number {n}",
                    reply_to_id=first.id if n == 0 else None)
    page_posts = db.session.scalars(sa.select(Post).where(Post.topic_id == topic.id)).all()
    for voter in voters:
        for post in page_posts:
            if post.author_id != voter.id:
                votes.cast(voter, post.id, 1)
    return topic


def test_topic_page_queries_stay_constant(app, qa, moderator, established):
    """Does the topic page cost the same queries for 3 posts or 30, 1 tag or 5, 1 voter or 10?"""
    app.config["POSTS_PER_PAGE"] = 50  # both topics on one (last) page, so both get read marks
    tags = [Tag(name=f"tag{n}") for n in range(5)]
    db.session.add_all(tags)
    db.session.commit()
    author, quoter, reader = established(), established(), established()
    voters = [established() for _ in range(10)]
    small = _topic_with(moderator, qa, replies=2, tags=["tag0"], voters=voters[:1], quoter=quoter)
    large = _topic_with(moderator, qa, replies=29, tags=[t.name for t in tags], voters=voters, quoter=author)
    for viewer in (reader, voters[0], moderator, None):
        client = app.test_client(user=viewer) if viewer else app.test_client()
        counts = []
        for url in (f"/t/{small.id}", f"/t/{large.id}"):
            client.get(url)  # the first visit inserts the read mark; later ones update it
            with count_queries() as statements:
                response = client.get(url)
            assert response.status_code == 200
            counts.append(len(statements))
        assert counts[0] == counts[1], (viewer, counts)
    large_page = text(app.test_client(user=voters[0]).get(f"/t/{large.id}"))
    assert large_page.count('<li class="post') == 30  # the page really shows many posts


LIST_TABLES = re.compile(r"\b(topics|topic_tags|topic_reads|cache_versions)\b")
LAYOUT_TABLES = re.compile(r"\b(notifications|notice_versions)\b")  # the bell's, on every page


def test_topic_list_queries_stay_constant(app, qa, moderator, established):
    """Does a topic list cost the same queries for 2 topics with 1 tag or 12 with 5 tags by many authors, from
    a cold cache and a warm one, with at most 6 statements once warm?"""
    db.session.add_all(Tag(name=f"tag{n}") for n in range(5))
    db.session.commit()
    reader = established(Role.SALES)
    start(moderator, qa, "Few topics, one tag", tags=["tag0"])
    start(established(), qa, "Few topics, second one", tags=["tag0"])
    urls = {"few": "/latest", "few-cat": "/c/questions", "few-home": "/"}
    client = app.test_client(user=reader)
    client.get("/latest")  # the day's first page records a visit

    def measured():
        counts = {}
        for label, url in urls.items():
            cache.clear()
            with count_queries() as cold:
                client.get(url)
            with count_queries() as warm:
                page = text(client.get(url))
            counts[label] = (len(cold), len(warm))
            # The list's own statements (beside the layout's and the category's): the page of ids with its
            # total, the rows and their tags, the version, held topics and the reader's read marks. (The home
            # page adds its side panels.)
            own = [s for s in cold if LIST_TABLES.search(s) and not LAYOUT_TABLES.search(s)]
            assert label == "few-home" or len(own) <= 6, own
        return counts, page

    few, _ = measured()
    for n in range(10):
        topic = start(established(), qa, f"Many topics, number {n}", tags=[f"tag{i}" for i in range(5)])
        posts.reply(established(), topic.id, "A reply by yet another member.")
        reading.mark_read(reader, topic, 1)
    many, home = measured()
    assert many == few
    assert many["few"][1] <= 5, many  # warm: the user, the notices, the version, the read marks
    assert "1 new" in home


def test_every_community_button_needs_the_csrf_token(make_app, qa, asker, helper):
    """Does any community POST accept a forged request? (The shared CSRF test can't fill in topic and post ids.)"""
    topic = start(asker, qa, "A topic to forge requests at")
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client(user=helper)
    rules = [rule for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith("community.") and "POST" in rule.methods]
    assert len(rules) >= 15
    for rule in rules:
        path = re.sub(r"<any\(([^,)]+)[^>]*>", r"\1", rule.rule)
        path = re.sub(r"<int:\w+>", str(topic.id), path)
        response = client.post(path, data={"body": "Forged", "value": 1, "post_id": 1, "target_type": "topic",
                                           "target_id": topic.id})
        assert response.status_code == 400 and "Your form expired" in text(response), path
    assert count(Post) == 1 and count(Follow) == 0


def test_a_signed_in_page_view_writes_nothing(app, qa, asker, helper, established):
    """Reading is reported by the page's script (POST /t/<id>/read); the pages themselves only read."""
    topic = start(asker, qa, "Nothing written while reading")
    posts.reply(helper, topic.id, "A reply to read.")
    reader = established(name="Reader")
    client = app.test_client(user=reader)
    client.get("/latest")  # the day's first page counts the visit: a write, once a day
    for path in (f"/t/{topic.id}", "/latest", f"/c/{qa.slug}", "/"):
        with count_queries() as statements:
            assert client.get(path).status_code == 200
        writes = [s for s in statements if s.lstrip().split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
        assert writes == [], (path, writes)


def test_reporting_what_was_read_caps_never_goes_back_and_checks_the_reader(app, qa, asker, helper, established,
                                                                          moderator):
    topic = start(asker, qa, "Report me")
    posts.reply(helper, topic.id, "Second.")
    reader = established(name="Reader")
    client = app.test_client(user=reader)
    assert client.post(f"/t/{topic.id}/read", data={"up_to": "99"}).status_code == 204
    assert reading.read_marks(reader, [topic.id]) == {topic.id: 2}  # capped at the last post
    assert client.post(f"/t/{topic.id}/read", data={"up_to": "1"}).status_code == 204
    assert reading.read_marks(reader, [topic.id]) == {topic.id: 2}  # going back never un-reads
    for bad in ("", "0", "two", "-3", "1e3"):
        response = client.post(f"/t/{topic.id}/read", data={"up_to": bad}, headers={"Accept": "application/json"})
        assert response.status_code == 422, bad
        assert "up_to" in response.get_json()["error"]["fields"]
    assert client.post("/t/999999/read", data={"up_to": "1"}).status_code == 404
    staff_room = make_category("Staff room", "staff-room", read_access=Access.STAFF, write_access=Access.STAFF)
    secret = start(moderator, staff_room, "Staff only", kind="discussion")
    assert client.post(f"/t/{secret.id}/read", data={"up_to": "1"}).status_code == 404
    assert app.test_client().post(f"/t/{topic.id}/read", data={"up_to": "1"}).status_code in (302, 401)
    assert reading.read_marks(reader, [secret.id]) == {}
