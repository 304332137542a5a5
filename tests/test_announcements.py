"""Announcements to segments: consent per channel, the frequency cap, no duplicates, the preview that
matches the send, the log and the 360 timeline, retries, the member's choice and who may see what."""
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal import outbox as outbox_module
from portal.audit import AuditEntry
from portal.auth.models import UserStatus
from portal.crm import announcements
from portal.crm.models import Announcement, AnnouncementDelivery, Segment, ValueTier
from portal.crm.rules import update_crm_rules
from portal.errors import Conflict, Invalid
from portal.events import Activity, Verb
from portal.extensions import db
from portal.notifications.models import Notification
from portal.outbox import OutboxMessage
from portal.permissions import Role
from portal.sqltypes import utcnow
from tests.conftest import csrf_token_from
from tests.crm_factories import make_customer
from tests.helpers import count_queries

BOTH = ["notification", "email"]


def make_segment(name, *tiers):
    segment = Segment(name=name, match="all", rules=[{"field": "value_tier", "op": "in", "value": list(tiers)}])
    db.session.add(segment)
    db.session.commit()
    return segment


def customer_with_members(make_user, name, tier="key", members=1, **fields):
    customer = make_customer(name, value_tier=ValueTier(tier), **fields)
    people = [make_user(Role.MEMBER, customer_id=customer.id, name=f"{name} person {n}") for n in range(members)]
    return customer, people


def draft(actor, segments, channels=BOTH, title="Release 4.3 is out"):
    return announcements.create_draft(actor, title=title, body="**New**: SSO for everyone.\n\n- faster sync",
                                      segment_ids=[s.id for s in segments], channels=list(channels))


def send(actor, announcement):
    """Send and let the outbox run it (inline, as in tests); the announcement as it is now."""
    announcements.send(actor, announcement.id)
    db.session.expire_all()
    return db.session.get(Announcement, announcement.id)


def delivered(announcement):
    return sorted(db.session.execute(
        sa.select(AnnouncementDelivery.user_id, AnnouncementDelivery.channel)
        .where(AnnouncementDelivery.announcement_id == announcement.id)).all())


def count(model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def mails_to(outbox, user):
    return [mail for mail in outbox if user.email in mail.to]


def test_a_member_opted_out_of_one_channel_still_gets_the_other(app, moderator, make_user, outbox):
    """Does an opt-out of notifications leave email on, and an opt-out of email leave notifications on?"""
    _, (no_bell, no_mail, both) = customer_with_members(make_user, "Xingchen", members=3)
    no_bell.announcement_opt_outs, no_mail.announcement_opt_outs = ["notification"], ["email"]
    db.session.commit()
    sent = send(moderator, draft(moderator, [make_segment("Key", "key")]))
    assert delivered(sent) == sorted([(no_bell.id, "email"), (no_mail.id, "notification"),
                                      (both.id, "notification"), (both.id, "email")])
    assert mails_to(outbox, no_bell) and mails_to(outbox, both) and not mails_to(outbox, no_mail)
    bells = set(db.session.scalars(sa.select(Notification.user_id).where(Notification.kind == "announcement")))
    assert bells == {no_mail.id, both.id}
    assert sent.summary["excluded"] == {"opted_out_notification": 1, "opted_out_email": 1}
    assert sent.summary["members_reached"] == 3 and sent.summary["left_out"] == 0


def test_a_customer_opted_out_of_email_or_bounced_gets_no_email(app, moderator, make_user, outbox):
    """Do the customer record's email opt-out and a bounced address stop the email but not the notification?"""
    _, [quiet] = customer_with_members(make_user, "Quiet Co", opt_outs=["email"])
    _, [bounced] = customer_with_members(make_user, "Bounce Co", email_bounced_at=utcnow())
    _, [fine] = customer_with_members(make_user, "Fine Co")
    sent = send(moderator, draft(moderator, [make_segment("Key", "key")]))
    assert {user for user, channel in delivered(sent) if channel == "email"} == {fine.id}
    assert {user for user, channel in delivered(sent) if channel == "notification"} == {quiet.id, bounced.id, fine.id}
    assert len(outbox) == 1 and outbox[0].to == [fine.email] and outbox[0].subject == "Release 4.3 is out"
    assert sent.summary["excluded"] == {"customer_opted_out_email": 1, "email_bounced": 1}


def test_suspended_and_deleted_members_get_nothing(app, moderator, make_user, outbox):
    _, (active, suspended, deleted) = customer_with_members(make_user, "Xingchen", members=3)
    suspended.status, deleted.status = UserStatus.SUSPENDED, UserStatus.DELETED
    db.session.commit()
    sent = send(moderator, draft(moderator, [make_segment("Key", "key")]))
    assert {user for user, _channel in delivered(sent)} == {active.id}
    assert sent.summary["excluded"] == {"inactive": 2} and sent.summary["left_out"] == 2


def test_the_frequency_cap_holds_back_a_second_announcement_until_the_window_passes(app, moderator, make_user):
    """Within the window a second announcement reaches nobody the first reached; after it, it does."""
    _, [reached_before] = customer_with_members(make_user, "Xingchen")
    key = make_segment("Key", "key")
    first = send(moderator, draft(moderator, [key], title="First news"))
    _, [newcomer] = customer_with_members(make_user, "Newcomer")
    second = send(moderator, draft(moderator, [key], title="Second news"))
    assert {user for user, _ in delivered(first)} == {reached_before.id}
    assert {user for user, _ in delivered(second)} == {newcomer.id}
    assert second.summary["excluded"] == {"capped": 1}
    db.session.execute(sa.update(AnnouncementDelivery).values(created_at=utcnow() - timedelta(days=8)))
    db.session.commit()
    third = send(moderator, draft(moderator, [key], title="Third news"))
    assert {user for user, _ in delivered(third)} == {reached_before.id, newcomer.id}


def test_an_announcement_counts_once_against_the_cap_whatever_its_channels(app, moderator, admin, make_user):
    update_crm_rules(admin, {"announcement_cap": 2, "announcement_cap_days": 7})
    _, [person] = customer_with_members(make_user, "Xingchen")
    key = make_segment("Key", "key")
    sends = [send(moderator, draft(moderator, [key], title=f"News number {n}")) for n in range(3)]
    assert [len(delivered(a)) for a in sends] == [2, 2, 0]
    assert sends[2].summary["excluded"] == {"capped": 1}


def test_a_member_in_two_targeted_segments_gets_it_once(app, moderator, make_user, outbox):
    _, [person] = customer_with_members(make_user, "Xingchen", tier="key")
    _, [other] = customer_with_members(make_user, "Valued Co", tier="valued")
    segments = [make_segment("Key", "key"), make_segment("Key or valued", "key", "valued")]
    sent = send(moderator, draft(moderator, segments))
    assert delivered(sent) == sorted([(person.id, "notification"), (person.id, "email"),
                                      (other.id, "notification"), (other.id, "email")])
    assert len(mails_to(outbox, person)) == 1 and sent.summary["folded"] == 1


def test_the_preview_shows_exactly_what_sending_does(app, moderator, make_user):
    """Do the preview's numbers, reasons and all, equal what the send delivered and kept?"""
    _, (opted, capped, fine) = customer_with_members(make_user, "Xingchen", members=3)
    _, [bouncing] = customer_with_members(make_user, "Bounce Co", tier="valued", email_bounced_at=utcnow())
    _, [gone] = customer_with_members(make_user, "Gone Co")
    opted.announcement_opt_outs, gone.status = ["email"], UserStatus.SUSPENDED
    db.session.commit()
    key, both_tiers = make_segment("Key", "key"), make_segment("Key or valued", "key", "valued")
    send(moderator, draft(moderator, [make_segment("Just one", "key")], channels=["email"], title="Earlier news"))
    db.session.execute(sa.delete(AnnouncementDelivery).where(AnnouncementDelivery.user_id != capped.id))
    db.session.commit()
    announcement = draft(moderator, [key, both_tiers])
    preview = announcements.recipients(announcement).summary()
    page = app.test_client(user=moderator).get(f"/staff/announcements/{announcement.id}/preview")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Who will receive it if you send it now" in html and "Send now" in html
    sent = send(moderator, announcement)
    kept = {name: value for name, value in sent.summary.items() if name not in ("queued_at", "queued_by")}
    assert kept == preview
    assert preview == {"reached": {"notification": 3, "email": 1}, "members_reached": 3, "left_out": 2,
                       "excluded": {"inactive": 1, "opted_out_email": 1, "email_bounced": 1, "capped": 1},
                       "folded": 3}
    assert delivered(sent) == sorted([(opted.id, "notification"), (fine.id, "notification"), (fine.id, "email"),
                                      (bouncing.id, "notification")])


def test_the_log_and_each_customers_timeline_show_who_received_it(app, moderator, make_user):
    customer, (first, second) = customer_with_members(make_user, "Xingchen", members=2)
    client = app.test_client(user=moderator)
    created = client.post("/staff/announcements/new", data={
        "title": "Tea tasting in Hangzhou", "body": "Join us on **Friday**. <script>alert(1)</script>",
        "segments": [str(make_segment("Key", "key").id)], "channels": BOTH})
    assert created.status_code == 302
    announcement = db.session.scalar(sa.select(Announcement))
    assert "<strong>Friday</strong>" in announcement.html and "<script>" not in announcement.html
    assert client.post(f"/staff/announcements/{announcement.id}/send").status_code == 302
    page = client.get(f"/staff/announcements/{announcement.id}").get_data(as_text=True)
    assert first.name in page and second.name in page and "Xingchen" in page and "4 deliveries" in page
    csv = client.get(f"/staff/announcements/{announcement.id}/log.csv")
    text = csv.get_data(as_text=True)
    assert csv.mimetype == "text/csv" and text.startswith("\ufeffmember_id,member,email,customer_id")
    assert text.count(first.email) == 2 and "Xingchen" in text
    [activity] = db.session.scalars(sa.select(Activity).where(Activity.verb == str(Verb.ANNOUNCEMENT_SENT))).all()
    assert activity.customer_id == customer.id and activity.payload["member_ids"] == sorted([first.id, second.id])
    assert activity.payload["channels"] == BOTH and activity.actor_id == moderator.id
    timeline = client.get(f"/staff/customers/{customer.id}?kind=announcements").get_data(as_text=True)
    assert "Announcement “Tea tasting in Hangzhou” sent to 2 members" in timeline
    listing = client.get("/staff/announcements/").get_data(as_text=True)
    assert "Tea tasting in Hangzhou" in listing and "Key" in listing
    actions = set(db.session.scalars(sa.select(AuditEntry.action)))
    assert {"announcement.created", "announcement.sent"} <= actions


def test_the_mail_is_in_the_members_language_and_links_to_the_announcement(app, moderator, make_user, outbox):
    _, [person] = customer_with_members(make_user, "Xingchen")
    person.locale = "zh"
    db.session.commit()
    sent = send(moderator, draft(moderator, [make_segment("Secret segment name", "key")], channels=["email"]))
    [mail] = outbox
    assert "您好" in mail.body and "SSO for everyone" in mail.body
    assert f"https://community.teahouse.test/announcements/{sent.id}" in mail.body
    assert "Secret segment name" not in mail.body  # members never learn which segment chose them


def test_a_retried_outbox_message_sends_nothing_twice(app, moderator, make_user, outbox):
    _, (first, second) = customer_with_members(make_user, "Xingchen", members=2)
    sent = send(moderator, draft(moderator, [make_segment("Key", "key")]))
    sent_verb = Activity.verb == str(Verb.ANNOUNCEMENT_SENT)
    before = (delivered(sent), count(Notification), len(outbox), count(Activity, sent_verb))
    [message] = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.topic == announcements.TOPIC)).all()
    message.processed_at = None
    db.session.commit()
    assert outbox_module.run_messages([message.id]) == 1
    # Even were it marked unsent (a crash between delivering and marking), each delivery stays one.
    db.session.execute(sa.update(Announcement).values(sent_at=None))
    db.session.commit()
    announcements.deliver(sent.id)
    db.session.expire_all()
    after = (delivered(sent), count(Notification), len(outbox), count(Activity, sent_verb))
    assert after == before and len(before[0]) == 4


def test_an_announcement_is_sent_once_and_edited_only_as_a_draft(app, moderator, make_user):
    customer_with_members(make_user, "Xingchen")
    announcement = send(moderator, draft(moderator, [make_segment("Key", "key")]))
    with pytest.raises(Conflict):
        announcements.send(moderator, announcement.id)
    with pytest.raises(Conflict):
        announcements.update_draft(moderator, announcement.id, title="Changed title", body="x",
                                   segment_ids=announcement.segment_ids, channels=BOTH)
    client = app.test_client(user=moderator)
    again = client.post(f"/staff/announcements/{announcement.id}/send", follow_redirects=True)
    assert "already being sent or was sent" in again.get_data(as_text=True)
    assert count(OutboxMessage, OutboxMessage.topic == announcements.TOPIC) == 1


def test_a_bad_draft_shows_every_error_and_writes_nothing(app, moderator):
    make_segment("Key", "key")
    page = app.test_client(user=moderator).post("/staff/announcements/new", data={
        "title": "  ", "body": "", "segments": ["999"], "channels": ["fax"]})
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    for message in ("Write a title of at least 3 characters.", "Write what you want to announce.",
                    "A chosen segment no longer exists.", "Choose in the community, by email, or both."):
        assert message in html
    assert count(Announcement) == 0 and count(AuditEntry) == 0
    with pytest.raises(Invalid):
        announcements.create_draft(moderator, title="Fine title", body="Fine", segment_ids=[], channels=BOTH)


def test_a_draft_is_edited_and_its_preview_computed_only_on_demand(app, moderator, make_user):
    customer_with_members(make_user, "Xingchen")
    key, valued = make_segment("Key", "key"), make_segment("Valued", "valued")
    announcement = draft(moderator, [key])
    client = app.test_client(user=moderator)
    form = client.get(f"/staff/announcements/{announcement.id}/edit").get_data(as_text=True)
    assert "Release 4.3 is out" in form and "SSO for everyone" in form
    saved = client.post(f"/staff/announcements/{announcement.id}/edit", data={
        "title": "Release 4.3 is here", "body": "Changed", "segments": [str(key.id), str(valued.id)],
        "channels": ["email"]})
    assert saved.status_code == 302
    changed = db.session.get(Announcement, announcement.id)
    assert (changed.title, changed.segment_ids, changed.channels) == ("Release 4.3 is here", [key.id, valued.id],
                                                                      ["email"])
    page = client.get(f"/staff/announcements/{announcement.id}").get_data(as_text=True)
    assert "Preview recipients" in page and "Who will receive it" not in page


def test_the_member_chooses_their_channels_on_their_settings(make_app, make_user):
    """Is the choice behind CSRF, saved, and shown back ticked as saved?"""
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        person = make_user(Role.MEMBER)
        client = app.test_client(user=person)
        assert client.post("/account/announcements", data={"notification": "y"}).status_code == 400
        page = client.get("/account/profile").get_data(as_text=True)
        assert 'id="announcements"' in page and "In the community" in page and "By email" in page
        saved = client.post("/account/announcements", data={"notification": "y", "csrf_token": csrf_token_from(page)})
        assert saved.status_code == 302 and saved.headers["Location"].endswith("/account/profile#announcements")
        db.session.expire_all()
        assert db.session.get(type(person), person.id).announcement_opt_outs == ["email"]
        shown = client.get("/account/profile").get_data(as_text=True)
        assert '<input checked id="notification" name="notification" type="checkbox" value="y">' in shown
        assert '<input id="email" name="email" type="checkbox" value="y">' in shown


def test_opt_outs_are_checked(app, member):
    with pytest.raises(Invalid):
        announcements.set_opt_outs(member, ["sms"])
    assert announcements.set_opt_outs(member, ["email", "notification"]).announcement_opt_outs == BOTH


def test_the_member_reads_it_through_the_notification_and_only_recipients_can(app, moderator, make_user):
    _, [person] = customer_with_members(make_user, "Xingchen")
    outsider = make_user(Role.MEMBER)
    sent = send(moderator, draft(moderator, [make_segment("Secret segment name", "key")]))
    client = app.test_client(user=person)
    listing = client.get("/notifications").get_data(as_text=True)
    assert "Announcement: Release 4.3 is out" in listing
    [notification] = db.session.scalars(sa.select(Notification)).all()
    followed = client.get(f"/notifications/{notification.id}")
    assert followed.headers["Location"].endswith(f"/announcements/{sent.id}")
    page = client.get(f"/announcements/{sent.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<strong>New</strong>" in html and "Secret segment name" not in html
    assert app.test_client(user=outsider).get(f"/announcements/{sent.id}").status_code == 404
    assert app.test_client(user=moderator).get(f"/announcements/{sent.id}").status_code == 404
    assert app.test_client().get(f"/announcements/{sent.id}").status_code == 302
    assert app.test_client(user=person).get("/announcements/99999").status_code == 404


def test_an_email_only_recipient_can_open_the_page_too(app, moderator, make_user):
    _, [person] = customer_with_members(make_user, "Xingchen")
    sent = send(moderator, draft(moderator, [make_segment("Key", "key")], channels=["email"]))
    assert app.test_client(user=person).get(f"/announcements/{sent.id}").status_code == 200


VISITOR = "visitor"
ALLOWED = {Role.MODERATOR, Role.ADMIN}
PAGES = ["/staff/announcements/", "/staff/announcements/new", "/staff/announcements/{draft}",
         "/staff/announcements/{draft}/edit", "/staff/announcements/{draft}/preview",
         "/staff/announcements/{sent}", "/staff/announcements/{sent}/log.csv"]
POSTS = [("/staff/announcements/new", 302), ("/staff/announcements/{draft}/edit", 302),
         ("/staff/announcements/{draft}/send", 302)]


@pytest.fixture
def two_announcements(app, make_user):
    author = make_user(Role.MODERATOR)
    customer_with_members(make_user, "Xingchen Retail")
    segment = make_segment("Key", "key")
    sent = send(author, draft(author, [segment], title="Already sent"))
    return {"draft": draft(author, [segment], title="Still a draft").id, "sent": sent.id, "segment": segment.id}


@pytest.mark.parametrize("role", [VISITOR, *Role])
@pytest.mark.parametrize("path", PAGES)
def test_staff_announcement_pages_by_role(app, make_user, two_announcements, role, path):
    client = app.test_client() if role == VISITOR else app.test_client(user=make_user(role))
    response = client.get(path.format(**two_announcements))
    expected = 302 if role == VISITOR else 200 if role in ALLOWED else 403
    assert response.status_code == expected
    if expected != 200:
        html = response.get_data(as_text=True)
        assert "Xingchen Retail" not in html and "Still a draft" not in html and "Already sent" not in html


@pytest.mark.parametrize("role", [VISITOR, *Role])
@pytest.mark.parametrize("path, allowed", POSTS)
def test_staff_announcement_posts_by_role(app, make_user, two_announcements, role, path, allowed):
    client = app.test_client() if role == VISITOR else app.test_client(user=make_user(role))
    audited = count(AuditEntry)
    response = client.post(path.format(**two_announcements), data={
        "title": "Posted by a role", "body": "Hello", "segments": [str(two_announcements["segment"])],
        "channels": BOTH})
    assert response.status_code == (302 if role == VISITOR else allowed if role in ALLOWED else 403)
    if role not in ALLOWED:
        assert count(AuditEntry) == audited and count(Announcement) == 2
        assert count(OutboxMessage, OutboxMessage.topic == announcements.TOPIC) == 1


def test_the_list_and_the_log_load_in_a_fixed_number_of_queries(app, moderator, make_user):
    client = app.test_client(user=moderator)

    def queries(url):
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    key = make_segment("Key", "key")
    customer_with_members(make_user, "First")
    first = send(moderator, draft(moderator, [key], title="First news"))
    queries("/staff/announcements/")  # the first request of a client also loads what later ones find cached
    few = queries("/staff/announcements/"), queries(f"/staff/announcements/{first.id}")
    for n in range(6):
        customer_with_members(make_user, f"Customer {n}", members=2)
    make_segment("Valued", "valued")
    db.session.execute(sa.update(AnnouncementDelivery).values(created_at=utcnow() - timedelta(days=30)))
    db.session.commit()
    for n in range(4):
        draft(moderator, [key], title=f"Draft number {n}")
    many_sent = send(moderator, draft(moderator, [key], title="Big news"))
    assert len(delivered(many_sent)) == 26
    assert queries("/staff/announcements/") == few[0]
    assert queries(f"/staff/announcements/{many_sent.id}") == few[1]


@pytest.fixture
def postgres(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("parallel sends only really overlap on PostgreSQL (TEST_DATABASE_URL)")
    return app


def test_two_announcements_sent_at_once_pass_one_members_cap_once(postgres, make_user):
    """With a cap of one, two different announcements sent in parallel reach a member exactly once."""
    moderator = make_user(Role.MODERATOR)
    _, [person] = customer_with_members(make_user, "Xingchen")
    key = make_segment("Key", "key")
    ids = [draft(moderator, [key], title=f"Parallel news {n}").id for n in range(2)]
    moderator_id, start, errors = moderator.id, threading.Barrier(2), []

    def send_in_own_context(announcement_id):
        with postgres.app_context():
            try:
                actor = db.session.get(type(moderator), moderator_id)
                start.wait()
                announcements.send(actor, announcement_id)
            except Exception as exc:  # reported below, so a failing thread fails the test
                errors.append(exc)

    threads = [threading.Thread(target=send_in_own_context, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.expire_all()
    assert errors == []
    reached = db.session.scalars(sa.select(AnnouncementDelivery.announcement_id)
                                 .where(AnnouncementDelivery.user_id == person.id)).all()
    assert len(set(reached)) == 1 and len(reached) == 2  # one announcement, on both its channels
    sent = db.session.scalars(sa.select(Announcement).order_by(Announcement.id)).all()
    assert all(a.sent_at is not None for a in sent)
    assert sorted(a.summary["excluded"].get("capped", 0) for a in sent) == [0, 1]
