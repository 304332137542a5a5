"""The review queue's decisions beyond approve and hide: delete, edit, lock, move, merge, split; what each does to
the post, its topic, points and flaggers; flags that weigh their flagger's record; nothing half done."""
import pytest
import sqlalchemy as sa

from portal.audit import AuditEntry
from portal.auth.models import User
from portal.community import flags
from portal.community.flags import MIN_FLAG_WEIGHT, flag_weight
from portal.community.models import Flag, FlagOutcome, Post, Topic
from portal.crm.models import CustomerComplaint
from portal.errors import Conflict, Invalid
from portal.events import Activity, Verb
from portal.extensions import db
from portal.moderation import decisions
from portal.moderation.models import ReviewItem, ReviewStatus
from portal.notifications.models import Notification
from portal.permissions import Role
from tests.community_factories import answer, ask, established, make_category, staff_only_category, trusted
from tests.crm_factories import make_customer
from tests.test_review_queue import earned, first_post, open_item_of, watch


@pytest.fixture
def category(app):
    return make_category("Questions")


@pytest.fixture
def flaggers(make_user):
    return [trusted(make_user) for _ in range(3)]


@pytest.fixture
def flagged_reply(make_user, category, flaggers):
    """A reply two members flagged (not yet hidden: three flags hide), in a topic with two replies."""
    topic = ask(established(make_user, name="Asker"), category, title="Exporting dashboards")
    author = established(make_user, name="Replier")
    answer(author, topic, "Use Share → Schedule export.")
    reply = answer(author, topic, "Buy my course for the real answer!")
    for flagger in flaggers[:2]:
        flags.flag_post(flagger, reply.id, "spam")
    return topic, reply, author


def flag_rows(post):
    return db.session.scalars(sa.select(Flag).where(Flag.post_id == post.id).order_by(Flag.id)).all()


def notified(user, kind):
    return db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id,
                                                            Notification.kind == kind)).all()


def audited(action):
    return db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)).all()


# -- flag outcomes and weight ---------------------------------------------------------------------------------

def test_approving_rejects_the_flags_and_lowers_the_weight_of_those_flaggers_next_flags(app, flagged_reply, flaggers,
                                                                                     moderator, make_user, category):
    topic, reply, author = flagged_reply
    decisions.approve(moderator, open_item_of(reply).id, "Fine, if pushy")
    assert {flag.outcome for flag in flag_rows(reply)} == {FlagOutcome.DISAGREED}
    assert not notified(flaggers[0], "flag_helped")
    # One rejected flag: the next counts half, so three such members no longer hide a post on their own.
    assert flag_weight(flaggers[0]) == 0.5 and flag_weight(flaggers[2]) == 1.0
    app.config["FLAGS_TO_HIDE"] = 2
    other = answer(established(make_user), topic, "Another reply")
    flags.flag_post(flaggers[0], other.id, "spam")
    flags.flag_post(flaggers[1], other.id, "spam")
    assert [flag.weight for flag in flag_rows(other)] == [0.5, 0.5]
    assert db.session.get(Post, other.id).hidden_at is None
    flags.flag_post(flaggers[2], other.id, "spam")  # a clean record counts in full: 0.5 + 0.5 + 1 ≥ 2
    assert db.session.get(Post, other.id).hidden_at is not None


def test_the_weight_has_a_floor_and_agreed_flags_earn_it_back(app, make_user, category, moderator):
    flagger = trusted(make_user)
    topic = ask(established(make_user), category)
    for n in range(6):
        post = answer(established(make_user), topic, f"Reply {n}")
        flags.flag_post(flagger, post.id, "spam")
        decisions.approve(moderator, open_item_of(post).id)
    assert flag_weight(flagger) == MIN_FLAG_WEIGHT  # 1/7 would be lower
    for n in range(6):
        post = answer(established(make_user), topic, f"Spam {n}")
        flags.flag_post(flagger, post.id, "spam")
        decisions.hide(moderator, open_item_of(post).id)
    assert flag_weight(flagger) == pytest.approx(7 / 13)


def test_agreeing_tells_each_flagger_their_flag_helped_without_naming_the_moderator(app, flagged_reply, flaggers,
                                                                                 moderator):
    topic, reply, author = flagged_reply
    decisions.hide(moderator, open_item_of(reply).id, "Advertising")
    assert {flag.outcome for flag in flag_rows(reply)} == {FlagOutcome.AGREED}
    [thanks] = notified(flaggers[0], "flag_helped")
    assert thanks.actor_id is None and thanks.topic_id == topic.id
    assert "Exporting dashboards" in thanks.text and moderator.name not in thanks.text
    assert len(notified(flaggers[1], "flag_helped")) == 1 and not notified(flaggers[2], "flag_helped")
    assert not notified(author, "flag_helped")
    page = app.test_client(user=flaggers[0]).get("/notifications")
    assert "your flag helped" in page.text


def test_a_flagger_who_cannot_read_the_topic_any_more_is_thanked_without_its_title(app, flagged_reply, flaggers,
                                                                                moderator):
    topic, reply, author = flagged_reply
    staff_room = staff_only_category()
    decisions.decide(moderator, open_item_of(reply).id, "move", category_id=staff_room.id)
    [thanks] = notified(flaggers[0], "flag_helped_unseen")
    assert thanks.topic_id is None and "Exporting dashboards" not in thanks.text


# -- delete ---------------------------------------------------------------------------------------------------

def test_deleting_from_the_queue_deletes_the_post_and_takes_back_its_points(app, flagged_reply, moderator):
    topic, reply, author = flagged_reply
    assert earned(author, "reply_created") == 2
    item = decisions.decide(moderator, open_item_of(reply).id, "delete", "Spam")
    post = db.session.get(Post, reply.id)
    assert post.deleted_at is not None and item.status == ReviewStatus.DELETED and item.decision == "delete"
    assert earned(author, "reply_created") == 1
    assert db.session.get(Topic, topic.id).reply_count == 1
    assert [entry.details["after"]["deleted"] for entry in audited("review.deleted")] == [True]
    assert len(audited("post.deleted")) == 1
    with pytest.raises(Conflict) as error:
        decisions.hide(moderator, item.id)
    assert "deleted this post" in str(error.value.message)


def test_deleting_a_held_reply_leaves_the_reply_count_alone(app, make_user, admin, moderator, category):
    watch(admin, "replica")
    topic = ask(established(make_user), category)
    held = answer(established(make_user), topic, "A replica licence, cheap")
    decisions.decide(moderator, open_item_of(held).id, "delete")
    assert db.session.get(Topic, topic.id).reply_count == 0


# -- edit -----------------------------------------------------------------------------------------------------

def test_editing_from_the_queue_keeps_the_post_with_the_new_text_and_agrees_with_the_flags(app, flagged_reply,
                                                                                         moderator, flaggers):
    app.config["FLAGS_TO_HIDE"] = 3
    topic, reply, author = flagged_reply
    flags.flag_post(flaggers[2], reply.id, "spam")  # the third flag hides it
    assert db.session.get(Post, reply.id).hidden_at is not None
    item = decisions.decide(moderator, open_item_of(reply).id, "edit", body="Use Share → Schedule export (edited).")
    post = db.session.get(Post, reply.id)
    assert post.hidden_at is None and "edited" in post.html and post.revision_count == 1
    assert item.status == ReviewStatus.CHANGED and item.decision == "edit"
    assert {flag.outcome for flag in flag_rows(reply)} == {FlagOutcome.AGREED}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Activity).where(
        Activity.verb == Verb.POST_RESTORED, Activity.object_id == reply.id)) == 1
    assert len(audited("review.edited")) == 1 and len(audited("post.edited")) == 1
    assert "(edited)" in app.test_client().get(f"/t/{topic.id}").text


def test_an_edit_that_changes_nothing_or_is_empty_is_refused_and_the_item_stays_open(app, flagged_reply, moderator):
    topic, reply, author = flagged_reply
    item_id = open_item_of(reply).id
    for body in ("", "   ", reply.source):
        with pytest.raises(Invalid):
            decisions.decide(moderator, item_id, "edit", body=body)
        assert db.session.get(ReviewItem, item_id).status == ReviewStatus.OPEN
    assert not audited("review.edited") and all(flag.resolved_at is None for flag in flag_rows(reply))


def test_editing_a_held_post_publishes_the_edited_version(app, make_user, admin, moderator, category):
    watch(admin, "replica")
    topic = ask(established(make_user), category)
    author = established(make_user)
    held = answer(author, topic, "A replica licence, cheap")
    decisions.decide(moderator, open_item_of(held).id, "edit", body="A licence, at the list price.")
    post = db.session.get(Post, held.id)
    assert post.held_at is None and "list price" in post.html
    assert db.session.get(Topic, topic.id).reply_count == 1 and earned(author, "reply_created") == 1


# -- lock and move --------------------------------------------------------------------------------------------

def test_locking_from_the_queue_locks_the_topic_and_keeps_the_post(app, flagged_reply, moderator):
    topic, reply, author = flagged_reply
    item = decisions.decide(moderator, open_item_of(reply).id, "lock", "Heated")
    assert db.session.get(Topic, topic.id).locked and item.decision == "lock"
    assert len(audited("topic.locked")) == 1 and len(audited("review.locked")) == 1


def test_moving_from_the_queue_moves_the_topic(app, flagged_reply, moderator):
    topic, reply, author = flagged_reply
    elsewhere = make_category("Off topic", slug="off-topic")
    decisions.decide(moderator, open_item_of(reply).id, "move", category_id=elsewhere.id)
    assert db.session.get(Topic, topic.id).category_id == elsewhere.id
    assert len(audited("topic.moved")) == 1 and len(audited("review.moved")) == 1


def test_a_refused_move_rolls_the_claim_back(app, flagged_reply, moderator, category):
    topic, reply, author = flagged_reply
    item_id = open_item_of(reply).id
    for category_id in (None, category.id, 999_999):
        with pytest.raises((Invalid, Exception)) as error:
            decisions.decide(moderator, item_id, "move", category_id=category_id)
        assert error.type.__name__ in ("Invalid", "NotFound")
        item = db.session.get(ReviewItem, item_id)
        assert item.status == ReviewStatus.OPEN and item.decided_by_id is None
    assert db.session.get(Topic, topic.id).category_id == category.id
    assert not audited("review.moved") and all(flag.outcome is None for flag in flag_rows(reply))


def test_a_detail_the_decision_does_not_use_or_an_unknown_decision_is_refused(app, flagged_reply, moderator):
    topic, reply, author = flagged_reply
    item_id = open_item_of(reply).id
    with pytest.raises(Invalid) as error:
        decisions.decide(moderator, item_id, "approve", body="sneaky")
    assert "body" in error.value.fields
    with pytest.raises(Invalid):
        decisions.decide(moderator, item_id, "shred")
    assert db.session.get(ReviewItem, item_id).status == ReviewStatus.OPEN


# -- merge and split ------------------------------------------------------------------------------------------

def test_merging_from_the_queue_moves_every_post_into_the_other_topic(app, make_user, category, flaggers, moderator):
    original = ask(established(make_user), category, title="How do I export to PDF?")
    duplicate = ask(established(make_user), category, title="PDF export?")
    opening = first_post(duplicate)
    flags.flag_post(flaggers[0], opening.id, "off_topic", "")
    item = decisions.decide(moderator, open_item_of(opening).id, "merge", into_topic_id=original.id)
    assert item.decision == "merge" and db.session.get(Post, opening.id).topic_id == original.id
    assert db.session.get(Topic, duplicate.id).merged_into_id == original.id
    assert len(audited("review.merged")) == 1


def test_splitting_from_the_queue_moves_the_replies_into_a_new_topic(app, flagged_reply, moderator, make_user):
    topic, reply, author = flagged_reply
    later = answer(established(make_user), topic, "Which course?")
    item = decisions.decide(moderator, open_item_of(reply).id, "split", title="About the course",
                            post_numbers=[later.number])
    moved = db.session.get(Post, reply.id)
    new_topic = db.session.get(Topic, moved.topic_id)
    assert new_topic.id != topic.id and new_topic.title == "About the course" and moved.number == 1
    assert db.session.get(Post, later.id).topic_id == new_topic.id
    assert item.decision == "split" and len(audited("review.split")) == 1


def test_split_refuses_the_opening_post_and_missing_numbers(app, flagged_reply, moderator, flaggers):
    topic, reply, author = flagged_reply
    with pytest.raises(Invalid) as error:
        decisions.decide(moderator, open_item_of(reply).id, "split", title="New", post_numbers=[99])
    assert "99" in str(error.value.fields["post_numbers"])
    opening = first_post(topic)
    flags.flag_post(flaggers[0], opening.id, "spam")
    with pytest.raises(Invalid):
        decisions.decide(moderator, open_item_of(opening).id, "split", title="New")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Topic)) == 1


@pytest.mark.parametrize("text, numbers", [("5", [5]), ("5, 7-9", [5, 7, 8, 9]), ("#3，#4、6", [3, 4, 6]),
                                           ("", []), ("  ", [])])
def test_post_numbers_as_moderators_type_them(text, numbers):
    assert decisions.parse_numbers(text) == numbers


@pytest.mark.parametrize("text", ["five", "9-3", "1-100000", "3;4", "-4"])
def test_post_numbers_that_make_no_sense_are_refused(text):
    with pytest.raises(Invalid):
        decisions.parse_numbers(text)


# -- what comes back with a restored post ---------------------------------------------------------------------

def test_a_restored_post_counts_as_a_complaint_again(app, make_user, category, flaggers, moderator):
    app.config["FLAGS_TO_HIDE"] = 2
    customer = make_customer(name="Acme")
    author = established(make_user)
    db.session.get(User, author.id).customer_id = customer.id
    db.session.commit()
    topic = ask(author, category, title="Export is too slow", body="This is unacceptable, we may cancel.")
    post = first_post(topic)
    complaints = sa.select(sa.func.count()).select_from(CustomerComplaint).where(CustomerComplaint.post_id == post.id)
    assert db.session.scalar(complaints) == 1
    for flagger in flaggers[:2]:
        flags.flag_post(flagger, post.id, "abusive")
    assert db.session.scalar(complaints) == 0
    decisions.approve(moderator, open_item_of(post).id)
    assert db.session.scalar(complaints) == 1


# -- the queue page and the API -------------------------------------------------------------------------------

def test_the_queue_page_offers_every_decision_and_each_works_from_the_form(app, flagged_reply, moderator):
    topic, reply, author = flagged_reply
    client = app.test_client(user=moderator)
    page = client.get("/moderation/queue")
    for decision in ("approve", "hide", "delete", "edit", "lock", "move", "merge", "split", "warn", "silence",
                     "suspend"):
        assert f'value="{decision}"' in page.text
    item_id = open_item_of(reply).id
    bad = client.post(f"/moderation/queue/{item_id}/decision", data={"decision": "merge", "into_topic": "nowhere"},
                      follow_redirects=True)
    assert "by its address or number" in bad.text
    assert db.session.get(ReviewItem, item_id).status == ReviewStatus.OPEN
    done = client.post(f"/moderation/queue/{item_id}/decision",
                       data={"decision": "edit", "body": "Toned down.", "note": "Rewrote it"}, follow_redirects=True)
    assert done.status_code == 200 and "Edited and kept." in done.text
    assert db.session.get(Post, reply.id).source == "Toned down."


def test_the_api_takes_each_decisions_details_and_refuses_the_others(app, flagged_reply, moderator, bearer):
    topic, reply, author = flagged_reply
    headers = bearer(moderator)
    url = f"/api/v1/moderation/queue/{open_item_of(reply).id}/decision"
    client = app.test_client()
    stray = client.post(url, json={"decision": "lock", "body": "x"}, headers=headers)
    assert stray.status_code == 422 and "body" in stray.get_json()["error"]["fields"]
    done = client.post(url, json={"decision": "lock", "note": "Cooling off"}, headers=headers)
    assert done.status_code == 200
    body = done.get_json()
    assert (body["status"], body["decision"]) == ("changed", "lock")
    listed = client.get("/api/v1/moderation/queue", headers=headers).get_json()
    assert listed["total"] == 0


def test_members_and_sales_cannot_decide(app, flagged_reply, make_user, bearer):
    topic, reply, author = flagged_reply
    item_id = open_item_of(reply).id
    for role in (Role.MEMBER, Role.SALES, Role.SALES_MANAGER):
        user = make_user(role)
        response = app.test_client().post(f"/api/v1/moderation/queue/{item_id}/decision",
                                          json={"decision": "delete"}, headers=bearer(user))
        assert response.status_code == 403
    assert db.session.get(ReviewItem, item_id).status == ReviewStatus.OPEN


# -- the moderators' member page, and who reaches the moderation pages ----------------------------------------

def test_moderators_see_a_member_with_their_history_and_add_notes_there(app, flagged_reply, moderator, flaggers):
    topic, reply, author = flagged_reply
    decisions.hide(moderator, open_item_of(reply).id)
    client = app.test_client(user=moderator)
    page = client.get(f"/moderation/members/{author.id}")
    assert page.status_code == 200 and "Replier" in page.text and "Exporting dashboards" in page.text
    assert "Hidden" in page.text
    empty = client.post(f"/moderation/members/{author.id}/notes", data={"body": ""})
    assert empty.status_code == 422 and "Write the note first." in empty.text
    added = client.post(f"/moderation/members/{author.id}/notes", data={"body": "Sells courses in replies."},
                        follow_redirects=True)
    assert added.status_code == 200 and "Sells courses in replies." in added.text
    warned = client.post(f"/moderation/members/{author.id}/sanction",
                         data={"decision": "warn", "reason": "No advertising, please."})
    assert warned.headers["Location"].endswith(f"/moderation/members/{author.id}")
    page = client.get(f"/moderation/members/{author.id}")
    assert "No advertising, please." in page.text
    assert client.get("/moderation/members/999999").status_code == 404
    # The member never sees the notes: not on their profile, not on their standing page.
    own = app.test_client(user=author)
    for path in (f"/members/{author.id}", "/account/standing"):
        response = own.get(path)
        assert "Sells courses" not in response.text


MODERATION_GETS = ["/moderation/queue", "/moderation/members/{member}", "/moderation/linked-accounts"]
MODERATION_POSTS = [("/moderation/queue/{item}/decision", {"decision": "approve"}),
                    ("/moderation/members/{member}/notes", {"body": "A note"}),
                    ("/moderation/members/{member}/sanction", {"decision": "warn", "reason": "Be kind"})]


@pytest.mark.parametrize("role, allowed", [(None, False), (Role.MEMBER, False), (Role.SALES, False),
                                           (Role.SALES_MANAGER, False), (Role.MODERATOR, True), (Role.ADMIN, True)])
def test_only_community_staff_reach_the_moderation_pages(app, flagged_reply, make_user, role, allowed):
    topic, reply, author = flagged_reply
    values = {"member": author.id, "item": open_item_of(reply).id}
    client = app.test_client(user=make_user(role)) if role else app.test_client()
    for path in MODERATION_GETS:
        status = client.get(path.format(**values)).status_code
        assert (status == 200) == allowed and (allowed or status in (302, 403)), (path, status)
    for path, data in MODERATION_POSTS:
        status = client.post(path.format(**values), data=data).status_code
        assert (status == 302) == allowed or (not allowed and status in (302, 403))
        if not allowed:
            assert status == 403 or role is None
    if not allowed:
        assert open_item_of(reply) is not None
        assert not audited("member.warned") and not audited("member_note.added")


def test_a_members_flag_reaches_a_moderator_who_resolves_it_and_every_staff_step_is_audited(
        app, make_user, category, admin):
    """The issue's "done when", over HTTP: flag → queue and notification → decision → audit log."""
    moderator = make_user(Role.MODERATOR, name="Mo Moderator")
    topic = ask(established(make_user), category, title="Exporting dashboards")
    spam = answer(established(make_user, name="Spammer"), topic, "Cheap watches at example.com")
    flagger = trusted(make_user, name="Careful Member")
    flagged = app.test_client(user=flagger).post(f"/p/{spam.id}/flag", data={"reason": "spam", "text": "An ad"})
    assert flagged.status_code == 302
    mod = app.test_client(user=moderator)
    bell = mod.get("/notifications")
    assert "waits for review" in bell.text and "Exporting dashboards" in bell.text
    queue_page = mod.get("/moderation/queue")
    assert "Careful Member" in queue_page.text and "An ad" in queue_page.text
    item_id = open_item_of(spam).id
    decided = mod.post(f"/moderation/queue/{item_id}/decision",
                       data={"decision": "warn", "reason": "No advertising here.", "note": "Obvious spam"},
                       follow_redirects=True)
    assert "The author is warned and the post hidden." in decided.text
    assert "Nothing waits for a decision" in decided.text
    assert "your flag helped" in app.test_client(user=flagger).get("/notifications").text
    log = app.test_client(user=admin).get("/admin/audit?actor=" + str(moderator.id)).text
    for label in ("Post hidden from the review queue", "Member warned"):
        assert label in log
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.actor_id == moderator.id)).all()
    assert {entry.action for entry in entries} == {"review.hidden", "member.warned"}
    assert all(entry.target_id for entry in entries)
