"""The notifications page: newest first, read and unread, each opened once."""
import sqlalchemy as sa

from portal.extensions import db
from portal.notifications.models import Notification
from portal.notifications.services import mark_all_read
from tests.community_factories import answer, ask, established, make_category


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
