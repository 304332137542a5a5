"""The review queue: its sources (flags, hides, holds), what moderators see and hear, and the two decisions."""
import html
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext, ngettext

from portal.audit import AuditEntry
from portal.community import flags, posts
from portal.community.follows import follow
from portal.community.models import Flag, Post, Topic
from portal.errors import Conflict
from portal.events import Activity, Verb
from portal.extensions import db
from portal.moderation import decisions, digest, queue
from portal.moderation.models import ReviewItem, ReviewStatus
from portal.moderation.notes import add_member_note
from portal.moderation.rules import moderation_rules, update_moderation_rules
from portal.notifications.models import Notification
from portal.permissions import Role
from portal.rewards.models import PointsEntry
from portal.sqltypes import utcnow
from tests.community_factories import answer, ask, established, make_category, trusted
from tests.crm_factories import make_customer
from tests.helpers import count_queries
from tests.test_races import at_once, token


@pytest.fixture
def category(app):
    return make_category("Questions")


@pytest.fixture
def flaggers(make_user):
    return [trusted(make_user) for _ in range(3)]


def items():
    return db.session.scalars(sa.select(ReviewItem).order_by(ReviewItem.id)).all()


def open_item_of(post):
    return db.session.scalar(sa.select(ReviewItem).where(ReviewItem.post_id == post.id,
                                                         ReviewItem.status == ReviewStatus.OPEN))


def watch(admin, words="", hold_first_posts=False, first_posts_to_hold=1):
    update_moderation_rules(admin, {"watched_words": words, "hold_first_posts": hold_first_posts,
                                    "first_posts_to_hold": first_posts_to_hold})


def first_post(topic):
    return db.session.scalar(sa.select(Post).where(Post.topic_id == topic.id, Post.number == 1))


def earned(user, rule):
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(PointsEntry.delta), 0))
                             .where(PointsEntry.user_id == user.id, PointsEntry.rule == rule))


# -- sources ----------------------------------------------------------------------------------------

def test_a_flag_puts_the_post_in_the_queue_once_and_the_hiding_flag_adds_its_reason(app, make_user, category,
                                                                                   flaggers):
    """However many flags a post gets, and when the last one hides it, the queue has one item for it."""
    app.config["FLAGS_TO_HIDE"] = 3
    topic = ask(established(make_user), category)
    post = first_post(topic)
    for flagger in flaggers[:2]:
        flags.flag_post(flagger, post.id, "spam")
    assert [(i.post_id, i.reasons) for i in items()] == [(post.id, ["flagged"])]
    flags.flag_post(flaggers[2], post.id, "other", "Selling watches")
    assert db.session.get(Post, post.id).hidden_at is not None
    [item] = items()
    assert item.reasons == ["flagged", "hidden_by_flags"] and item.status == ReviewStatus.OPEN


def test_a_new_accounts_first_post_is_held_only_when_an_admin_turns_it_on(make_user, admin, category):
    newcomer = make_user(Role.MEMBER)
    ask(newcomer, category, title="Hello from a new customer")
    assert items() == []
    watch(admin, hold_first_posts=True, first_posts_to_hold=1)
    other = make_user(Role.MEMBER)
    topic = ask(other, category, title="My first question here")
    assert topic.held_at is not None and first_post(topic).held_at is not None
    [item] = items()
    assert item.post_id == first_post(topic).id and item.reasons == ["held_new_account"]
    second = answer(other, topic, "And a follow-up on my own question")  # the second post: published
    assert second.held_at is None and len(items()) == 1
    ask(established(make_user), category, title="An old hand's question")  # not a new account
    assert len(items()) == 1


def test_a_new_accounts_post_with_links_is_held_and_an_old_hands_is_not(make_user, category):
    topic = ask(established(make_user), category)
    newcomer = make_user(Role.MEMBER)
    held = answer(newcomer, topic, "Cheap licences at https://deals.example/now")
    assert held.held_at is not None
    assert [i.reasons for i in items()] == [["held_links"]]
    trusted_reply = answer(trusted(make_user), topic, "The docs: https://docs.example/export")
    assert trusted_reply.held_at is None and len(items()) == 1


@pytest.mark.parametrize("text, held", [
    ("Anyone selling a replica of the dashboard?", True),
    ("REPLICA available", True),
    ("The data is replicated nightly", False),  # English words match whole
    ("可以帮我代购吗？", True),  # Simplified
    ("有人代購嗎", True),  # Traditional folds to Simplified
    ("How do I export a PDF?", False),
])
def test_watched_words_hold_a_post_in_english_and_chinese(make_user, admin, category, text, held):
    watch(admin, "replica\n代购")
    topic = ask(established(make_user), category)
    reply = answer(established(make_user), topic, text)
    assert (reply.held_at is not None) is held
    assert [i.reasons for i in items()] == ([["held_watched_words"]] if held else [])
    if held:
        assert items()[0].terms in (["replica"], ["代购"])


def test_a_watched_word_in_a_title_holds_the_whole_topic(make_user, admin, category):
    watch(admin, "代购")
    topic = ask(established(make_user), category, title="代購 服务", body="Please contact me for details.")
    assert topic.held_at is not None and [i.reasons for i in items()] == [["held_watched_words"]]


def test_staff_are_never_held(make_user, admin, category):
    watch(admin, "replica", hold_first_posts=True)
    topic = ask(make_user(Role.MODERATOR), category, body="Beware of replica sellers: https://x.example")
    assert topic.held_at is None and items() == []


# -- held posts are invisible ------------------------------------------------------------------------

@pytest.fixture
def held_reply(make_user, admin, category):
    watch(admin, "replica")
    asker = established(make_user)
    topic = ask(asker, category, title="Exporting dashboards")
    author = established(make_user)
    reply = answer(author, topic, "I sell a replica licence, DM me")
    return topic, reply, author, asker


def test_a_held_reply_is_hidden_from_others_and_shown_to_its_author_with_the_reason(app, held_reply, make_user,
                                                                                   bearer):
    topic, reply, author, asker = held_reply
    assert db.session.get(Topic, topic.id).reply_count == 0
    for viewer in (None, asker):
        page = (app.test_client(user=viewer) if viewer else app.test_client()).get(f"/t/{topic.id}")
        assert page.status_code == 200 and "replica licence" not in page.text
    own = app.test_client(user=author).get(f"/t/{topic.id}")
    assert "replica licence" in own.text and "Waiting for a moderator" in own.text and "Uses watched words" in own.text
    api = app.test_client().get(f"/api/v1/topics/{topic.id}", headers=bearer(asker)).get_json()
    assert reply.id not in [p["id"] for p in api["posts"]["items"]]
    mine = app.test_client().get(f"/api/v1/topics/{topic.id}", headers=bearer(author)).get_json()
    assert [p["held_at"] is not None for p in mine["posts"]["items"] if p["id"] == reply.id] == [True]
    assert earned(author, "reply_created") == 0
    assert not db.session.scalar(sa.select(Notification).where(Notification.user_id == asker.id,
                                                               Notification.kind == "reply"))


def test_a_held_post_takes_no_votes_even_from_the_moderators_who_can_see_it(client, held_reply, make_user, bearer):
    topic, reply, author, asker = held_reply
    moderator, points_before = make_user(Role.MODERATOR), author.points
    response = client.post(f"/api/v1/posts/{reply.id}/vote", json={"value": 1}, headers=bearer(moderator))
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "post_held"
    db.session.expire_all()
    assert db.session.get(Post, reply.id).score == 0 and db.session.get(type(author), author.id).points == points_before


def test_a_held_topic_is_missing_from_lists_and_pages_for_everyone_but_its_author(app, make_user, admin, category):
    watch(admin, "replica")
    author, reader = established(make_user), established(make_user)
    topic = ask(author, category, title="Replica licences for sale")
    assert app.test_client(user=reader).get(f"/t/{topic.id}").status_code == 404
    assert app.test_client().get(f"/t/{topic.id}").status_code == 404
    assert "Replica licences" not in app.test_client(user=reader).get("/latest").text
    assert "Replica licences" in app.test_client(user=author).get("/latest").text
    page = app.test_client(user=author).get(f"/t/{topic.id}")
    assert page.status_code == 200 and "Waiting for a moderator" in page.text
    assert app.test_client(user=make_user(Role.MODERATOR)).get(f"/t/{topic.id}").status_code == 200


# -- moderators hear of it ---------------------------------------------------------------------------

def test_moderators_get_one_notification_per_item_and_members_none(app, make_user, category, flaggers):
    app.config["FLAGS_TO_HIDE"] = 3
    moderator, admin_user, sales = make_user(Role.MODERATOR), make_user(Role.ADMIN), make_user(Role.SALES)
    author = established(make_user)
    post = first_post(ask(author, category))
    for flagger in flaggers:
        flags.flag_post(flagger, post.id, "spam")
    rows = db.session.scalars(sa.select(Notification).where(Notification.kind == "review_needed")).all()
    assert sorted(n.user_id for n in rows) == sorted([moderator.id, admin_user.id])
    assert rows[0].link.endswith(f"/moderation/queue#item-{items()[0].id}")
    assert "waits for review" in rows[0].text and "Flagged by members" in rows[0].text
    assert not db.session.scalar(sa.select(Notification).where(
        Notification.user_id.in_([author.id, sales.id, *[f.id for f in flaggers]]),
        Notification.kind == "review_needed"))
    page = app.test_client(user=moderator).get("/notifications")
    assert "waits for review" in page.text


def test_the_notification_is_in_the_readers_language(app, make_user, category, flaggers):
    moderator = make_user(Role.MODERATOR, locale="zh")
    topic = ask(established(make_user), category, title="如何把仪表板导出为 PDF 文件")
    flags.flag_post(flaggers[0], first_post(topic).id, "spam")
    [row] = db.session.scalars(sa.select(Notification).where(Notification.kind == "review_needed")).all()
    with force_locale("zh"):
        expected = row.text
    page = app.test_client(user=moderator).get("/notifications")
    assert html.escape(expected, quote=False) in page.text


def test_the_daily_digest_lists_items_older_than_a_day_to_moderators_in_their_language(
        app, make_user, category, flaggers, outbox):
    english, chinese = make_user(Role.MODERATOR), make_user(Role.MODERATOR, locale="zh")
    make_user(Role.MEMBER), make_user(Role.SALES)
    now = utcnow()
    assert digest.send_digest(now=now) == 0 and outbox == []  # nothing waits: nothing sent
    old_post = first_post(ask(established(make_user), category, title="An old flagged question"))
    new_post = first_post(ask(established(make_user), category, title="A fresh flagged question"))
    flags.flag_post(flaggers[0], old_post.id, "spam")
    flags.flag_post(flaggers[0], new_post.id, "spam")
    assert digest.send_digest(now=now + timedelta(hours=2)) == 0 and outbox == []  # none older than a day yet
    db.session.execute(sa.update(ReviewItem).where(ReviewItem.post_id == old_post.id)
                       .values(created_at=now - timedelta(days=2)))
    db.session.commit()
    assert digest.send_digest(now=now) == 2
    by_address = {mail.to[0]: mail for mail in outbox}
    assert set(by_address) == {english.email, chinese.email}
    mail = by_address[english.email]
    assert "An old flagged question" in mail.body and "A fresh flagged question" not in mail.body
    assert "waited more than a day" in mail.subject and "/moderation/queue" in mail.body
    with force_locale("zh"):
        greeting = gettext("Hello %(name)s,", name=chinese.name)
        subject = ngettext("%(num)d post has waited more than a day for review",
                           "%(num)d posts have waited more than a day for review", 1)
    assert greeting != f"Hello {chinese.name}," and greeting in by_address[chinese.email].body
    assert by_address[chinese.email].subject == subject


def test_the_digest_runs_as_a_daily_outbox_job(app):
    from portal import outbox as outbox_module

    assert outbox_module._daily["moderation.digest"] == app.config["MODERATION_DIGEST_HOUR"]
    assert outbox_module._handlers["moderation.digest"].lane == outbox_module.Lane.MAIL


# -- decisions ---------------------------------------------------------------------------------------

def test_approving_a_hidden_post_resolves_its_flags_and_shows_it(app, make_user, category, flaggers):
    app.config["FLAGS_TO_HIDE"] = 2
    moderator = make_user(Role.MODERATOR)
    post = first_post(ask(established(make_user), category))
    for flagger in flaggers[:2]:
        flags.flag_post(flagger, post.id, "abusive")
    item = decisions.approve(moderator, items()[0].id, "Reads fine to me")
    assert item.status == ReviewStatus.APPROVED and item.decided_by_id == moderator.id and item.decided_at
    assert item.note == "Reads fine to me"
    assert db.session.get(Post, post.id).hidden_at is None
    assert all(f.resolved_at for f in db.session.scalars(sa.select(Flag).where(Flag.post_id == post.id)))
    decided = db.session.scalar(sa.select(Activity).where(Activity.verb == Verb.REVIEW_DECIDED))
    assert decided.actor_id == moderator.id and decided.payload["decision"] == "approve"
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "review.approved"))
    assert entry.actor_id == moderator.id and entry.target_id == post.id and entry.details["note"] == "Reads fine to me"
    assert queue.open_count() == 0


def test_approving_a_held_reply_publishes_it_with_its_points_and_notifications(held_reply, make_user):
    topic, reply, author, asker = held_reply
    follower = established(make_user)
    follow(follower, "topic", topic.id)
    decisions.approve(make_user(Role.MODERATOR), items()[0].id)
    reply = db.session.get(Post, reply.id)
    assert reply.held_at is None and db.session.get(Topic, topic.id).reply_count == 1
    created = db.session.scalar(sa.select(Activity).where(Activity.verb == Verb.POST_CREATED,
                                                          Activity.object_id == reply.id))
    assert created.actor_id == author.id
    assert earned(author, "reply_created") == 1
    kinds = {n.user_id: n.kind for n in db.session.scalars(sa.select(Notification).where(
        Notification.kind.in_(["reply", "followed_reply"])))}
    assert kinds == {asker.id: "reply", follower.id: "followed_reply"}


def test_approving_a_held_topic_publishes_it_and_its_links(app, make_user, category):
    newcomer = make_user(Role.MEMBER)
    topic = ask(newcomer, category, title="Useful guide", body="See https://guide.example/export")
    assert "<a " not in first_post(topic).html
    decisions.approve(make_user(Role.MODERATOR), items()[0].id)
    topic = db.session.get(Topic, topic.id)
    assert topic.held_at is None and first_post(topic).held_at is None
    assert 'href="https://guide.example/export"' in first_post(topic).html
    assert db.session.scalar(sa.select(Activity).where(Activity.verb == Verb.TOPIC_CREATED)).actor_id == newcomer.id
    assert earned(newcomer, "topic_created") == 2
    assert app.test_client(user=established(make_user)).get(f"/t/{topic.id}").status_code == 200


def test_hiding_hides_the_post_resolves_flags_and_keeps_the_points_rule(make_user, category, flaggers):
    """Hiding works as members' flags do: the post is out of sight; points are not reversed (only deleting does)."""
    moderator, author = make_user(Role.MODERATOR), established(make_user)
    topic = ask(author, category)
    post = first_post(topic)
    points_before = db.session.get(type(author), author.id).points
    flags.flag_post(flaggers[0], post.id, "spam")
    decisions.hide(moderator, items()[0].id, "Spam")
    post = db.session.get(Post, post.id)
    assert post.hidden_at is not None and items()[0].status == ReviewStatus.HIDDEN
    assert db.session.scalar(sa.select(Flag.resolved_at).where(Flag.post_id == post.id)) is not None
    hidden = db.session.scalar(sa.select(Activity).where(Activity.verb == Verb.POST_HIDDEN))
    assert hidden.actor_id == moderator.id and hidden.payload["by_moderator"] is True
    assert queue.open_count() == 0  # the moderator's own hide is no new item
    assert db.session.get(type(author), author.id).points == points_before
    assert db.session.scalar(sa.select(AuditEntry.action).where(AuditEntry.actor_id == moderator.id)) == "review.hidden"


def test_hiding_a_held_post_keeps_it_unpublished(held_reply, make_user):
    topic, reply, author, asker = held_reply
    decisions.hide(make_user(Role.MODERATOR), items()[0].id)
    reply = db.session.get(Post, reply.id)
    assert reply.held_at is not None and reply.hidden_at is not None
    assert db.session.get(Topic, topic.id).reply_count == 0 and earned(author, "reply_created") == 0
    assert not db.session.scalar(sa.select(Activity).where(Activity.verb.in_([Verb.POST_CREATED, Verb.POST_HIDDEN])))


def test_deciding_twice_is_a_conflict_that_names_who_decided_and_changes_nothing(app, make_user, category, flaggers,
                                                                              bearer):
    first, second = make_user(Role.MODERATOR, name="Mei"), make_user(Role.MODERATOR)
    post = first_post(ask(established(make_user), category))
    flags.flag_post(flaggers[0], post.id, "spam")
    item_id = items()[0].id
    decisions.approve(first, item_id)
    headers, client = bearer(second), app.test_client(user=second)

    def decisions_recorded():
        return (db.session.scalar(sa.select(sa.func.count()).select_from(Activity)
                                  .where(Activity.verb == Verb.REVIEW_DECIDED)),
                db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                                  .where(AuditEntry.action.like("review.%"))))

    before = decisions_recorded()
    with pytest.raises(Conflict) as error:
        decisions.hide(second, item_id)
    assert error.value.code == "already_decided" and "Mei" in str(error.value.message)
    response = app.test_client().post(f"/api/v1/moderation/queue/{item_id}/decision", json={"decision": "hide"},
                                      headers=headers)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "already_decided"
    page = client.post(f"/moderation/queue/{item_id}/decision",
                                             data={"decision": "hide"}, follow_redirects=True)
    assert "Already handled: Mei approved this post." in page.text
    assert items()[0].status == ReviewStatus.APPROVED and db.session.get(Post, post.id).hidden_at is None
    assert decisions_recorded() == before == (1, 1)


def test_a_deleted_post_leaves_the_queue_and_deciding_it_says_so(app, held_reply, make_user, bearer):
    topic, reply, author, asker = held_reply
    item_id = items()[0].id
    posts.delete_post(author, reply.id)
    assert items()[0].status == ReviewStatus.POST_DELETED and queue.open_count() == 0
    moderator = make_user(Role.MODERATOR)
    with pytest.raises(Conflict) as error:
        decisions.approve(moderator, item_id)
    assert error.value.code == "post_deleted"
    response = app.test_client().post(f"/api/v1/moderation/queue/{item_id}/decision", json={"decision": "approve"},
                                      headers=bearer(moderator))
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "post_deleted"
    assert db.session.get(Post, reply.id).held_at is not None  # nothing half done
    assert not db.session.scalar(sa.select(Activity).where(Activity.verb == Verb.REVIEW_DECIDED))


def test_a_deleted_topic_takes_its_replies_items_with_it(held_reply, make_user):
    topic, reply, author, asker = held_reply
    posts.delete_post(asker, first_post(topic).id)
    assert items()[0].status == ReviewStatus.POST_DELETED


def test_the_api_lists_the_queue_and_decides(app, make_user, category, flaggers, bearer):
    moderator = make_user(Role.MODERATOR)
    posts_ = [first_post(ask(established(make_user), category, title=f"Question {n}")) for n in range(3)]
    for post in posts_:
        flags.flag_post(flaggers[0], post.id, "off_topic", "")
    headers = bearer(moderator)
    listed = app.test_client().get("/api/v1/moderation/queue?per_page=2", headers=headers).get_json()
    assert (listed["page"], listed["per_page"], listed["total"]) == (1, 2, 3)
    assert [i["post"]["id"] for i in listed["items"]] == [p.id for p in posts_[:2]]  # oldest first
    assert listed["items"][0]["flags"][0]["reason"] == "off_topic"
    item_id = listed["items"][0]["id"]
    bad = app.test_client().post(f"/api/v1/moderation/queue/{item_id}/decision", json={"decision": "shred"},
                                 headers=headers)
    assert bad.status_code == 422
    done = app.test_client().post(f"/api/v1/moderation/queue/{item_id}/decision",
                                  json={"decision": "hide", "note": "off topic"}, headers=headers)
    assert done.status_code == 200
    assert done.get_json()["status"] == "hidden" and done.get_json()["decided_by"]["id"] == moderator.id
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    assert "/moderation/queue/{item_id}/decision" in spec["paths"]


def test_two_moderators_deciding_at_once_one_wins(app, make_user, category, flaggers):
    """On PostgreSQL, with real parallel requests: exactly one decision, the others told it was handled."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("parallel requests only really overlap on PostgreSQL (TEST_DATABASE_URL)")
    postgres = app
    moderators = [make_user(Role.MODERATOR) for _ in range(4)]
    post = first_post(ask(established(make_user), category))
    flags.flag_post(flaggers[0], post.id, "spam")
    item_id = items()[0].id
    headers = [token(postgres, m) for m in moderators]

    def decide(n):
        return lambda client: client.post(f"/api/v1/moderation/queue/{item_id}/decision",
                                          json={"decision": "approve" if n % 2 else "hide"}, headers=headers[n])

    responses = at_once(postgres, [decide(n) for n in range(4)])
    assert Counter(r.status_code for r in responses) == {200: 1, 409: 3}
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Activity)
                             .where(Activity.verb == Verb.REVIEW_DECIDED)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action.like("review.%"))) == 1


# -- the pages ---------------------------------------------------------------------------------------

def test_the_queue_page_shows_the_post_in_context_the_author_and_the_flaggers(app, make_user, category, flaggers):
    moderator = make_user(Role.MODERATOR)
    customer = make_customer(name="Acme Tea Ltd")
    author = established(make_user, name="Wang Lei", customer_id=customer.id)
    asker = established(make_user, name="Asker Person")
    topic = ask(asker, category, title="Exporting dashboards to PDF")
    reply = answer(author, topic, "Buy my course instead", reply_to_id=first_post(topic).id)
    flags.flag_post(flaggers[0], reply.id, "other", "Advertising a paid course")
    add_member_note(moderator, author.id, "Warned once about ads")
    page = app.test_client(user=moderator).get("/moderation/queue")
    assert page.status_code == 200
    for text in ("Exporting dashboards to PDF", "Buy my course instead", "I need a PDF every Monday.", "Wang Lei",
                 "Acme Tea Ltd", f"/staff/customers/{customer.id}", "Advertising a paid course", flaggers[0].name,
                 "Warned once about ads", "Flagged by members", "Approve", "Hide"):
        assert text in page.text, text
    assert 'class="mainnav__count" aria-hidden="true">1<' in page.text


def test_the_queue_page_approves_with_one_click(app, make_user, held_reply):
    topic, reply, author, asker = held_reply
    moderator = make_user(Role.MODERATOR)
    page = app.test_client(user=moderator).post(f"/moderation/queue/{items()[0].id}/decision",
                                                data={"decision": "approve", "note": "ok"}, follow_redirects=True)
    assert "Approved: the post is visible to everyone." in page.text
    assert db.session.get(Post, reply.id).held_at is None and items()[0].note == "ok"


def test_the_queue_page_reads_in_the_same_number_of_queries_for_two_items_or_eight(app, make_user, category,
                                                                                  flaggers):
    moderator = make_user(Role.MODERATOR)
    client = app.test_client(user=moderator)

    def add_items(n):
        for _ in range(n):
            author = established(make_user)
            add_member_note(moderator, author.id, "A note")
            topic = ask(author, category)
            reply = answer(author, topic, "Reply text")
            for flagger in flaggers[:2]:
                flags.flag_post(flagger, reply.id, "spam")

    def queries():
        client.get("/moderation/queue")  # warm: the first request loads what every request caches
        with count_queries() as statements:
            assert client.get("/moderation/queue").status_code == 200
        return len(statements)

    add_items(2)
    few = queries()
    add_items(6)
    assert queries() == few


@pytest.mark.parametrize("role, status", [(None, 302), (Role.MEMBER, 403), (Role.MODERATOR, 200), (Role.SALES, 403),
                                          (Role.SALES_MANAGER, 403), (Role.ADMIN, 200)])
def test_who_may_open_the_queue_and_decide(app, make_user, category, flaggers, role, status):
    post = first_post(ask(established(make_user), category))
    flags.flag_post(flaggers[0], post.id, "spam")
    item_id = items()[0].id
    user = make_user(role) if role else None
    client = app.test_client(user=user)
    assert client.get("/moderation/queue").status_code == status
    decided = client.post(f"/moderation/queue/{item_id}/decision", data={"decision": "hide"})
    assert decided.status_code == (302 if status == 200 else status)
    assert (items()[0].status == ReviewStatus.HIDDEN) is (status == 200)
    headers = {"Authorization": token(app, user)["Authorization"]} if user else {}
    api_status = 401 if user is None else (200 if status == 200 else 403)
    assert app.test_client().get("/api/v1/moderation/queue", headers=headers).status_code == api_status
    again = app.test_client().post(f"/api/v1/moderation/queue/{item_id}/decision", json={"decision": "approve"},
                                   headers=headers)
    assert again.status_code == (409 if status == 200 else api_status)
    nav = client.get("/latest").text
    assert ('href="/moderation/queue"' in nav) is (status == 200)


@pytest.mark.parametrize("role, status", [(None, 302), (Role.MEMBER, 403), (Role.MODERATOR, 403), (Role.SALES, 403),
                                          (Role.SALES_MANAGER, 403), (Role.ADMIN, 200)])
def test_who_may_change_the_moderation_rules(app, make_user, role, status):
    client = app.test_client(user=make_user(role) if role else None)
    assert client.get("/admin/settings/moderation").status_code == status
    saved = client.post("/admin/settings/moderation", data={"watched_words": "replica\n代购",
                                                            "hold_first_posts": "1", "first_posts_to_hold": "2"})
    assert saved.status_code == (302 if status == 200 else status)
    assert moderation_rules().watched_words == (("replica", "代购") if status == 200 else ())


def test_the_moderation_rules_are_checked_and_audited(app, admin):
    client = app.test_client(user=admin)
    bad = client.post("/admin/settings/moderation", data={"watched_words": "x" * 51, "first_posts_to_hold": "0"})
    assert bad.status_code == 422 and moderation_rules().watched_words == ()
    client.post("/admin/settings/moderation", data={"watched_words": "replica\n\n replica \n代购",
                                                    "hold_first_posts": "1", "first_posts_to_hold": "3"})
    rules = moderation_rules()
    assert (rules.hold_first_posts, rules.first_posts_to_hold, rules.watched_words) == (True, 3, ("replica", "代购"))
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "settings.moderation_rules_changed"))
    assert entry.actor_id == admin.id and entry.details["new"]["watched_words"] == ["replica", "代购"]
    page = client.get("/admin/settings/moderation")
    assert "代购" in page.text and "checked" in page.text
