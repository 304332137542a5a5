"""The bell's count and the warning banner are cached per member (portal/notices.py) and never stale.

Each test looks at a page once, so the notices are cached, changes
something through a service or a request, and looks again.
"""
import re

import sqlalchemy as sa

from portal.community import posts, topics
from portal.extensions import db
from portal.moderation import sanctions
from portal.notices import NoticeVersion
from portal.notifications.models import Notification
from tests.community_factories import answer, ask, established, make_category, staff_only_category
from tests.helpers import count_queries

BELL = re.compile(r'<span class="bell__count">(\d+)</span>')


def bell(client):
    """The count on the bell of a page, 0 when none shows."""
    page = client.get("/latest").get_data(as_text=True)
    found = BELL.search(page)
    return int(found.group(1)) if found else 0


def test_a_second_page_reads_the_notices_in_one_small_statement(app, make_user):
    member = established(make_user)
    client = app.test_client(user=member)
    bell(client)
    with count_queries() as statements:
        bell(client)
    assert not [s for s in statements if "notifications" in s or "member_sanctions" in s], statements
    assert len([s for s in statements if "notice_versions" in s]) == 1


def test_the_bell_follows_new_notifications_and_reading_them(app, make_user):
    asker, helper = established(make_user), established(make_user)
    question = ask(asker, make_category("Questions"))
    client = app.test_client(user=asker)
    before = bell(client)  # (a new member has been told about their level and badges already)
    answer(helper, question)
    assert bell(client) == before + 1
    answer(helper, question, "A second answer with more detail.")
    assert bell(client) == before + 2
    first = db.session.scalar(sa.select(Notification.id).where(Notification.user_id == asker.id)
                              .order_by(Notification.id))
    client.get(f"/notifications/{first}")
    assert bell(client) == before + 1
    client.post("/notifications/read")
    assert bell(client) == 0


def test_a_notification_about_a_topic_moved_out_of_reach_stops_counting(app, make_user, moderator):
    asker, helper = established(make_user), established(make_user)
    question = ask(helper, make_category("Questions"))
    posts.reply(asker, question.id, "An answer that @" + helper.username + " gets told about.")
    client = app.test_client(user=helper)
    before = bell(client)
    assert before >= 1
    topics.change_topic(moderator, question.id, category_id=staff_only_category().id)
    assert bell(client) == before - 1


def test_the_warning_banner_follows_warnings_and_acknowledgements(app, make_user, moderator):
    member = established(make_user)
    client = app.test_client(user=member)
    assert "You have a warning from the moderators." not in client.get("/latest").get_data(as_text=True)
    warning = sanctions.warn(moderator, member.id, "Please keep it civil.")
    assert "You have a warning from the moderators." in client.get("/latest").get_data(as_text=True)
    sanctions.acknowledge(member, warning.id)
    assert "You have a warning from the moderators." not in client.get("/latest").get_data(as_text=True)


def test_the_version_moves_at_a_commit_and_never_at_a_rollback(app, make_user):
    member = established(make_user)

    def version():
        return db.session.scalar(sa.select(NoticeVersion.version).where(NoticeVersion.user_id == member.id)) or 0

    before = version()
    db.session.add(Notification(user_id=member.id, kind="mention"))
    db.session.flush()
    db.session.rollback()
    assert version() == before
    db.session.add_all([Notification(user_id=member.id, kind="mention"), Notification(user_id=member.id,
                                                                                      kind="mention")])
    db.session.commit()
    assert version() == before + 1  # once per transaction, however many notifications it adds
