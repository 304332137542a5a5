"""An author's edit of a hidden or held post sends it back to the moderators; edits are checked for watched words."""
import html

import pytest
import sqlalchemy as sa

from portal.community import flags, posts
from portal.community.models import Post
from portal.extensions import cache, db
from portal.moderation import decisions
from portal.moderation.models import ReviewItem, ReviewStatus
from portal.moderation.rules import update_moderation_rules
from portal.notifications.models import Notification
from portal.permissions import Role
from tests.community_factories import answer, ask, established, make_category, trusted
from tests.helpers import count_queries


@pytest.fixture
def category(app):
    return make_category("Questions")


@pytest.fixture
def moderator(make_user):
    return make_user(Role.MODERATOR)


def watch(admin, words):
    update_moderation_rules(admin, {"watched_words": words, "hold_first_posts": False, "first_posts_to_hold": 1})


def items_of(post):
    return db.session.scalars(sa.select(ReviewItem).where(ReviewItem.post_id == post.id)
                              .order_by(ReviewItem.id)).all()


def open_item_of(post):
    return db.session.scalar(sa.select(ReviewItem).where(ReviewItem.post_id == post.id,
                                                         ReviewItem.status == ReviewStatus.OPEN))


def review_notices(user):
    return db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id,
                                                            Notification.kind == "review_needed")
                              .order_by(Notification.id)).all()


def reloaded(post):
    db.session.expire_all()
    return db.session.get(Post, post.id)


@pytest.fixture
def flag_hidden(app, make_user, category, moderator):
    """A reply hidden by members' flags: (topic, reply, its author, a reader)."""
    app.config["FLAGS_TO_HIDE"] = 2
    reader = established(make_user)
    topic = ask(reader, category, title="Exporting dashboards")
    author = established(make_user)
    reply = answer(author, topic, "Rude words about the asker")
    for flagger in (trusted(make_user), trusted(make_user)):
        flags.flag_post(flagger, reply.id, "abusive")
    assert reloaded(reply).hidden_at is not None
    return topic, reply, author, reader


@pytest.fixture
def held(make_user, admin, category, moderator):
    """A reply held for a watched word: (topic, reply, its author, a reader)."""
    watch(admin, "replica\n代购")
    reader = established(make_user)
    topic = ask(reader, category, title="Exporting dashboards")
    author = established(make_user)
    reply = answer(author, topic, "I sell a replica licence, DM me")
    assert reply.held_at is not None
    return topic, reply, author, reader


# -- the subscriber -----------------------------------------------------------------------------------

def test_editing_a_post_hidden_by_flags_sends_it_back_and_keeps_it_hidden(app, flag_hidden, moderator):
    """Does an author's edit of a flag-hidden post put it back before the moderators, still hidden to others?"""
    topic, reply, author, reader = flag_hidden
    assert len(review_notices(moderator)) == 1  # told when the flags came in
    posts.edit_post(author, reply.id, "Sorry, I rewrote this kindly")
    item = open_item_of(reply)
    assert item.reasons == ["flagged", "hidden_by_flags", "resubmitted"] and len(items_of(reply)) == 1
    assert reloaded(reply).hidden_at is not None
    page = app.test_client(user=reader).get(f"/t/{topic.id}")
    assert page.status_code == 200 and "rewrote this kindly" not in page.text
    [notice] = review_notices(moderator)  # the item they already know of: told once, not twice
    assert notice.data["item_id"] == item.id
    assert not review_notices(author)


def test_editing_a_held_post_keeps_it_held_and_records_the_new_watched_words(held, moderator):
    topic, reply, author, reader = held
    assert len(review_notices(moderator)) == 1  # told of the hold
    posts.edit_post(author, reply.id, "Fine, no replica: but I can 代购 for you")
    assert reloaded(reply).held_at is not None
    [item] = items_of(reply)
    assert item.status == ReviewStatus.OPEN
    assert "resubmitted" in item.reasons and "held_watched_words" in item.reasons
    assert item.terms == ["replica", "代购"]
    posts.edit_post(author, reply.id, "Only 代购 now")
    assert open_item_of(reply).terms == ["代购"]  # the words the text uses now
    assert len(review_notices(moderator)) == 1  # the same open item: not told twice


def test_editing_a_post_a_moderator_hid_reopens_review(app, make_user, category, moderator):
    """A decided item stays decided; the edit opens a new one and the moderators hear of it."""
    topic = ask(established(make_user), category)
    author = established(make_user)
    reply = answer(author, topic, "Buy my course instead")
    flags.flag_post(trusted(make_user), reply.id, "spam")
    decisions.hide(moderator, open_item_of(reply).id, "Advertising")
    assert open_item_of(reply) is None and len(review_notices(moderator)) == 1
    posts.edit_post(author, reply.id, "Here is how to do it with the built-in export")
    decided, reopened = items_of(reply)
    assert decided.status == ReviewStatus.HIDDEN and reopened.status == ReviewStatus.OPEN
    assert reopened.reasons == ["resubmitted"]
    assert reloaded(reply).hidden_at is not None
    notices = review_notices(moderator)
    assert len(notices) == 2 and notices[-1].data["item_id"] == reopened.id
    queue_page = app.test_client(user=moderator).get("/moderation/queue")
    assert "Edited by the author for another look" in queue_page.text and "built-in export" in queue_page.text
    decisions.approve(moderator, reopened.id)
    assert reloaded(reply).hidden_at is None


def test_a_moderator_editing_a_hidden_post_does_not_resubmit_it(flag_hidden, moderator):
    topic, reply, author, reader = flag_hidden
    before = open_item_of(reply).reasons
    posts.edit_post(moderator, reply.id, "[removed by a moderator]")
    assert open_item_of(reply).reasons == before and len(items_of(reply)) == 1
    assert len(review_notices(moderator)) == 1


def test_a_published_post_edited_to_use_a_watched_word_is_queued_and_stays_visible(app, make_user, admin,
                                                                                   category, moderator):
    watch(admin, "replica")
    topic = ask(established(make_user), category)
    author = established(make_user)
    reply = answer(author, topic, "Use Share, then Schedule export.")
    assert items_of(reply) == []
    posts.edit_post(author, reply.id, "Use Share, or buy my replica licence.")
    [item] = items_of(reply)
    assert item.status == ReviewStatus.OPEN and item.reasons == ["edited_watched_words"] and item.terms == ["replica"]
    assert reloaded(reply).hidden_at is None and reloaded(reply).held_at is None
    page = app.test_client(user=established(make_user)).get(f"/t/{topic.id}")
    assert "buy my replica licence" in page.text
    [notice] = review_notices(moderator)
    assert notice.data["item_id"] == item.id


def test_a_watched_word_already_there_or_missing_queues_nothing(make_user, admin, category):
    """An edit without watched words, or keeping one the post already had, is no new item."""
    watch(admin, "replica")
    author = established(make_user)
    topic = ask(author, category, title="Replica dashboards in two regions?", body="How do I keep them in step?")
    first = db.session.scalar(sa.select(Post).where(Post.topic_id == topic.id, Post.number == 1))
    assert topic.held_at is not None  # a title with a watched word is held; approve it first
    decisions.approve(make_user(Role.MODERATOR), open_item_of(first).id)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(ReviewItem))
    posts.edit_post(author, first.id, "How do I keep both in step, nightly?")
    reply = answer(author, topic, "Plain words here.")
    posts.edit_post(author, reply.id, "Plain words here, and some more.")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReviewItem)) == before


def test_a_staff_author_is_never_queued(make_user, admin, category):
    watch(admin, "replica")
    topic = ask(established(make_user), category)
    for role in (Role.MODERATOR, Role.SALES):
        staff = make_user(role)
        reply = answer(staff, topic, "The export lives under Share.")
        posts.edit_post(staff, reply.id, "Beware of replica licence sellers.")
        assert items_of(reply) == []


# -- what the author and the others see --------------------------------------------------------------

def test_the_author_sees_why_and_the_edit_link_and_another_member_sees_nothing(app, flag_hidden):
    topic, reply, author, reader = flag_hidden
    own = app.test_client(user=author).get(f"/t/{topic.id}")
    assert own.status_code == 200 and "Rude words about the asker" in own.text
    for text in ("Hidden after flags from members", "Flagged by members, Hidden by flags",
                 "If you edit it, it goes back to the moderators for another look.", f'href="/p/{reply.id}/edit"'):
        assert text in own.text, text
    other = app.test_client(user=reader).get(f"/t/{topic.id}")
    assert "Rude words about the asker" not in other.text and f"/p/{reply.id}/edit" not in other.text
    assert app.test_client(user=reader).get(f"/p/{reply.id}/edit").status_code == 404
    assert app.test_client().get(f"/t/{topic.id}").text.count("Rude words") == 0
    assert app.test_client(user=reader).get(f"/p/{reply.id}/revisions").status_code == 404


def test_the_author_edits_their_hidden_post_through_the_form_and_is_told_it_waits(app, flag_hidden):
    topic, reply, author, reader = flag_hidden
    client = app.test_client(user=author)
    form = client.get(f"/p/{reply.id}/edit")
    assert form.status_code == 200 and "Rude words about the asker" in form.text
    saved = client.post(f"/p/{reply.id}/edit", data={"body": "A kinder answer, rewritten"})
    assert saved.status_code == 302
    assert client.get(saved.headers["Location"]).status_code == 302  # to the post on its page
    page = client.get(f"/t/{topic.id}")
    assert "You edited this post; it waits for a moderator's second look." in html.unescape(page.text)
    assert "A kinder answer, rewritten" in page.text
    assert "resubmitted" in open_item_of(reply).reasons
    assert "A kinder answer" not in app.test_client(user=reader).get(f"/t/{topic.id}").text


def test_a_post_a_moderator_hid_says_so_without_the_moderators_note(app, make_user, category, moderator):
    topic = ask(established(make_user), category)
    author = established(make_user)
    reply = answer(author, topic, "Buy my course instead")
    flags.flag_post(trusted(make_user), reply.id, "spam")
    decisions.hide(moderator, open_item_of(reply).id, "Third strike for course ads")
    page = app.test_client(user=author).get(f"/t/{topic.id}")
    assert "Hidden by a moderator." in page.text and "Third strike" not in page.text
    assert "Flagged by members" not in page.text
    assert f'href="/p/{reply.id}/edit"' in page.text
    mod_page = app.test_client(user=moderator).get(f"/t/{topic.id}")
    assert "Hidden after flags from members; only moderators see it." in mod_page.text


def test_the_author_of_a_held_post_sees_the_watched_words(app, held):
    topic, reply, author, reader = held
    page = app.test_client(user=author).get(f"/t/{topic.id}")
    assert "Waiting for a moderator" in page.text and "Uses watched words" in page.text
    assert "Watched words it uses: replica" in page.text and f'href="/p/{reply.id}/edit"' in page.text
    assert "replica licence" not in app.test_client(user=reader).get(f"/t/{topic.id}").text


def test_the_topic_page_reads_the_items_in_one_query_however_many_posts_are_withheld(app, make_user, admin,
                                                                                      category):
    watch(admin, "replica")
    topic = ask(established(make_user), category)
    author = established(make_user)
    client = app.test_client(user=author)

    def queries():  # from a cold cache: the author of withheld posts never reads the shared one
        client.get(f"/t/{topic.id}")
        cache.clear()
        with count_queries() as statements:
            assert client.get(f"/t/{topic.id}").status_code == 200
        return len(statements)

    answer(author, topic, "Plain words.")
    plain = queries()
    answer(author, topic, "A replica, once")
    one = queries()
    for n in range(4):
        answer(author, topic, f"A replica, again {n}")
    assert queries() == one == plain + 1
