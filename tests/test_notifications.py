"""The notifications page: newest first, read and unread, each opened once."""
import sqlalchemy as sa

from portal.community import posts, topics
from portal.extensions import cache, db
from portal.notifications.models import Notification
from portal.notifications.services import mark_all_read
from tests.community_factories import answer, ask, established, make_category, staff_only_category


def test_reply_notification_opens_the_post_and_becomes_read(app, make_user):
    asker, helper = established(make_user), established(make_user, name="Emma Schneider")
    topic = ask(asker, make_category("Questions"))
    mark_all_read(asker)  # the badges a first topic earns
    answer(helper, topic)
    client = app.test_client(user=asker)
    page = client.get("/notifications").get_data(as_text=True)
    assert f"Emma Schneider replied to “{topic.title}”" in page
    assert 'class="bell__count">1<' in client.get("/").get_data(as_text=True)
    notification = db.session.scalar(sa.select(Notification).where(Notification.kind == "reply"))
    response = client.get(f"/notifications/{notification.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/t/{topic.id}#post-2")
    assert db.session.get(Notification, notification.id).read_at is not None
    assert "Emma Schneider replied" not in client.get("/notifications?filter=unread").get_data(as_text=True)


def test_nobody_opens_someone_elses_notification(app, make_user):
    asker, helper = established(make_user), established(make_user)
    answer(helper, ask(asker, make_category("Questions")))
    notification = db.session.scalar(sa.select(Notification).where(Notification.user_id == asker.id))
    assert app.test_client(user=helper).get(f"/notifications/{notification.id}").status_code == 404
    assert db.session.get(Notification, notification.id).read_at is None


def test_mark_all_read_and_api_listing(app, client, make_user, bearer):
    asker, helper = established(make_user), established(make_user)
    topic = ask(asker, make_category("Questions"))
    mark_all_read(asker)  # the badges a first topic earns
    answer(helper, topic)
    answer(helper, topic, "One more thing")
    headers = bearer(asker)
    listing = client.get("/api/v1/notifications?unread=1", headers=headers).get_json()
    assert listing["total"] == 2 and listing["items"][0]["link"].endswith("#post-3")
    assert listing["items"][0]["text"].endswith(f"replied to “{topic.title}”")
    app.test_client(user=asker).post("/notifications/read")
    assert client.get("/api/v1/notifications?unread=1", headers=headers).get_json()["total"] == 0


def test_notifications_speak_the_readers_language(app, make_user):
    asker = established(make_user, locale="zh")
    helper = established(make_user, name="Emma Schneider")
    topic = ask(asker, make_category("Questions"))
    answer(helper, topic)
    page = app.test_client(user=asker).get("/notifications").get_data(as_text=True)
    assert "Emma Schneider" in page and "replied to" not in page


# -- nothing about a topic the reader can't open -------------------------------------------------

def _notified(user):
    return db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id)).all()


def test_followers_of_a_moderator_hear_nothing_of_a_staff_room_topic(app, make_user, moderator):
    from portal.community import follows

    fan = established(make_user)
    follows.follow(fan, "user", moderator.id)
    staff_room = staff_only_category()
    topics.create_topic(moderator, category_id=staff_room.id, kind="discussion", title="Plan the Q3 price rise",
                        body="Confidential.")
    assert _notified(fan) == []
    page = app.test_client(user=fan).get("/notifications").get_data(as_text=True)
    assert "Q3 price rise" not in page


def test_a_mention_in_the_staff_room_notifies_no_member(app, make_user, moderator):
    member = established(make_user)
    staff_room = staff_only_category()
    topic = topics.create_topic(moderator, category_id=staff_room.id, kind="discussion",
                                title="About a difficult customer", body=f"Watch @{member.username} closely")
    posts.reply(moderator, topic.id, f"Agreed about @{member.username}")
    assert _notified(member) == []


def test_a_topic_moved_into_the_staff_room_stops_showing_its_title(app, client, make_user, moderator, bearer):
    """The author was told of replies; once the topic is out of reach those notifications disappear."""
    author, helper = established(make_user), established(make_user, name="Emma Schneider")
    topic = ask(author, make_category("Questions"), title="Refund for order 1234?")
    mark_all_read(author)
    answer(helper, topic)
    reader = app.test_client(user=author)
    assert "Refund for order 1234?" in reader.get("/notifications").get_data(as_text=True)
    [reply] = [n for n in _notified(author) if n.kind == "reply"]

    topics.move_topic(moderator, topic.id, staff_only_category().id)
    posts.reply(moderator, topic.id, "Handled by the team")  # no new notification to the author
    assert [n.kind for n in _notified(author)].count("reply") == 1
    for view in (reader.get("/notifications"), reader.get("/")):
        assert "Refund for order 1234?" not in view.get_data(as_text=True)
    assert 'class="bell__count"' not in reader.get("/").get_data(as_text=True)
    assert reader.get(f"/notifications/{reply.id}").status_code == 404
    listing = client.get("/api/v1/notifications", headers=bearer(author)).get_json()
    assert listing["total"] == len(listing["items"]) and "Refund" not in str(listing)
    assert not [item for item in listing["items"] if f"/t/{topic.id}" in item["link"]]


def test_a_notification_shows_the_topics_current_title(app, make_user, moderator):
    author, helper = established(make_user), established(make_user, name="Emma Schneider")
    topic = ask(author, make_category("Questions"), title="exprot pdf??")
    answer(helper, topic)
    topics.edit_title_and_tags(moderator, topic.id, title="How do I export a PDF?")
    page = app.test_client(user=author).get("/notifications").get_data(as_text=True)
    assert "Emma Schneider replied to “How do I export a PDF?”" in page and "exprot" not in page


def test_api_notification_links_come_from_the_public_address(client, make_user, bearer):
    from tests.conftest import PUBLIC_URL

    author, helper = established(make_user), established(make_user)
    topic = ask(author, make_category("Questions"))
    mark_all_read(author)
    answer(helper, topic)
    [item] = client.get("/api/v1/notifications?unread=1", headers=bearer(author)).get_json()["items"]
    assert item["link"] == f"{PUBLIC_URL}/t/{topic.id}#post-2"


def test_the_notifications_page_and_api_run_a_fixed_number_of_queries(app, client, make_user, bearer):
    """Titles and categories come from the topics now: still no query per notification."""
    from tests.helpers import count_queries

    asker = established(make_user)
    qa = make_category("Questions")
    helpers = [established(make_user) for _ in range(6)]
    first = ask(asker, qa, title="The first question here")
    answer(helpers[0], first)
    page, headers = app.test_client(user=asker), bearer(asker)
    page.get("/")  # the day's first page counts the visit: measure the pages after it
    client.get("/api/v1/me", headers=headers)  # and a token's first use notes when it was used
    cache.clear()  # the layout's counts are cached (portal/notices.py): compare cold with cold
    with count_queries() as few_page:
        page.get("/notifications")
    with count_queries() as few_api:
        client.get("/api/v1/notifications", headers=headers)
    for n, helper in enumerate(helpers):
        topic = ask(asker, make_category(f"Category {n}"), title=f"Another question number {n}")
        answer(helper, topic)
    cache.clear()
    with count_queries() as many_page:
        page.get("/notifications")
    with count_queries() as many_api:
        client.get("/api/v1/notifications", headers=headers)
    assert len(many_page) == len(few_page)
    assert len(many_api) == len(few_api)
