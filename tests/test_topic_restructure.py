"""Moderators merging one topic into another and splitting replies off into a new topic."""
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.audit import AuditEntry
from portal.community import answers, official, posts, reading, restructure, topics
from portal.community.follows import follow, is_following
from portal.community.models import FollowTarget, Post, Topic, TopicKind, TopicRead
from portal.errors import Conflict, Forbidden, Invalid, NotFound
from portal.events import Activity, Verb
from portal.extensions import db
from portal.moderation.rules import update_moderation_rules
from portal.notifications.models import Notification
from portal.permissions import Role
from portal.rewards.models import PointsEntry
from tests.community_factories import answer, ask, established, make_category, staff_only_category

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(minutes):
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def category(app):
    return make_category("Questions")


@pytest.fixture
def asker(make_user):
    return established(make_user, name="Ann Asker")


@pytest.fixture
def helper(make_user):
    return established(make_user, name="Hui Helper")


@pytest.fixture
def other(make_user):
    return established(make_user, name="Olu Other")


@pytest.fixture
def target(asker, helper, category):
    """A question with one answer, both older than anything in `source`."""
    topic = ask(asker, category, title="Exporting a dashboard to PDF", now=at(0))
    answer(helper, topic, "Share → Schedule export, then PDF.", now=at(10))
    return topic


@pytest.fixture
def source(other, helper, asker, category):
    """The same question asked again: an opening post, a reply, a deleted reply and a last reply."""
    topic = ask(other, category, title="How to get a PDF of my dashboard?", now=at(5))
    answer(helper, topic, "Use the scheduled export.", now=at(20))
    gone = answer(asker, topic, "Never mind, wrong topic.", now=at(25))
    posts.delete_post(asker, gone.id, now=at(26))
    answer(asker, topic, "Thanks, that worked for me too.", now=at(30))
    return topic


def numbered(topic):
    """[(number, author id, source, deleted?)] of a topic's posts, in number order."""
    return [(p.number, p.author_id, p.source, p.deleted_at is not None) for p in db.session.scalars(
        sa.select(Post).where(Post.topic_id == topic.id).order_by(Post.number))]


def post_ids(topic):
    return db.session.scalars(sa.select(Post.id).where(Post.topic_id == topic.id).order_by(Post.number)).all()


def reply_ids(topic):
    return post_ids(topic)[1:]


def everything():
    """What a refused restructuring must leave as it was: every topic's columns, every post's place, the
    activity and the audit log."""
    db.session.expire_all()
    topics = [(t.id, t.title, t.category_id, t.reply_count, t.post_count, t.last_posted_at, t.last_poster_id,
               t.score, t.version, t.deleted_at, t.merged_into_id, t.solved_post_id, t.official_post_id)
              for t in db.session.scalars(sa.select(Topic).order_by(Topic.id))]
    return (topics, db.session.execute(sa.select(Post.id, Post.topic_id, Post.number).order_by(Post.id)).all(),
            db.session.scalar(sa.select(sa.func.count()).select_from(Activity)),
            db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)))


def refused(error, call, *args, **kwargs):
    """Run a restructuring that must be refused with `error`; assert a later commit still finds nothing changed."""
    before = everything()
    with pytest.raises(error) as raised:
        call(*args, **kwargs)
    db.session.commit()  # what a later step of the same request might do
    assert everything() == before
    return raised.value


def watch(admin, words):
    update_moderation_rules(admin, {"watched_words": words})


def held_reply(make_user, topic):
    """A newcomer's reply with a link: stored, waiting for a moderator."""
    post = answer(make_user(Role.MEMBER), topic, "Cheap licences at https://deals.example/now")
    assert post.held_at is not None
    return post


# -- merging ---------------------------------------------------------------------------------------

def test_merging_moves_every_post_after_the_targets_own_in_their_order(moderator, target, source, asker, helper,
                                                                       other):
    """Do the source's posts, the deleted one too, follow the target's own, numbered on in the order written?"""
    merged = restructure.merge_topics(moderator, source.id, target.id, now=at(60))
    assert merged.id == target.id
    db.session.expire_all()
    assert numbered(target) == [
        (1, asker.id, "I need a PDF every Monday.", False),
        (2, helper.id, "Share → Schedule export, then PDF.", False),
        (3, other.id, "I need a PDF every Monday.", False),      # the source's opening post, now a reply
        (4, helper.id, "Use the scheduled export.", False),
        (5, asker.id, "Never mind, wrong topic.", True),         # still deleted
        (6, asker.id, "Thanks, that worked for me too.", False),
    ]
    assert numbered(source) == []


def test_merging_keeps_the_targets_counters_right_and_retires_the_source(moderator, target, source, asker):
    """Are the target's replies, numbers and last post right, both versions bumped, and the source gone?"""
    versions = (target.version, source.version)
    restructure.merge_topics(moderator, source.id, target.id, now=at(60))
    db.session.expire_all()
    assert (target.reply_count, target.post_count) == (4, 6)  # 1 of its own, 3 published from the source
    assert (target.last_posted_at, target.last_poster_id) == (at(30), asker.id)
    assert target.score == 0 and target.deleted_at is None and target.merged_into_id is None
    assert source.deleted_at == at(60) and source.merged_into_id == target.id
    assert (source.reply_count, source.post_count) == (0, 0)
    assert target.version > versions[0] and source.version > versions[1]


def test_duplicates_of_the_source_continue_in_the_target(moderator, target, source, other, category):
    """Does a topic closed as the source's duplicate point at the target, and the target itself reopen?"""
    copy = ask(other, category, title="PDF of a dashboard, again", now=at(2))
    topics.close_as_duplicate(moderator, copy.id, source.id)
    topics.close_as_duplicate(moderator, target.id, source.id)
    restructure.merge_topics(moderator, source.id, target.id, now=at(60))
    db.session.expire_all()
    assert copy.duplicate_of_id == target.id and target.duplicate_of_id is None


def test_a_reply_after_a_merge_takes_the_next_number(moderator, target, source, helper):
    """Does the next reply in the target come after the moved posts, not on top of one?"""
    restructure.merge_topics(moderator, source.id, target.id, now=at(60))
    assert answer(helper, target, "One more thing about PDFs.").number == 7


def test_the_sources_accepted_and_official_answers_do_not_carry_over(moderator, target, source, helper, asker,
                                                                     other):
    """Does the target keep its own accepted answer, and the source lose both its marks?"""
    answers.accept(asker, target.id, reply_ids(target)[0])
    answers.accept(other, source.id, reply_ids(source)[0])
    staff_answer = answer(moderator, source, "Official: Share → Schedule export.", now=at(40))
    official.mark_official(moderator, staff_answer.id)
    kept = target.solved_post_id
    restructure.merge_topics(moderator, source.id, target.id, now=at(60))
    db.session.expire_all()
    assert target.solved_post_id == kept and target.official_post_id is None
    assert source.solved_post_id is None and source.official_post_id is None


def test_a_merge_records_one_activity_and_one_audit_entry(moderator, target, source):
    """Is the merge one TOPIC_MERGED activity on the target and one audit row, with the ids and the count?"""
    moved = post_ids(source)
    restructure.merge_topics(moderator, source.id, target.id, now=at(60))
    [activity] = db.session.scalars(sa.select(Activity).where(Activity.verb == Verb.TOPIC_MERGED)).all()
    assert (activity.actor_id, activity.object_type, activity.object_id) == (moderator.id, "topic", target.id)
    assert activity.data.from_topic_id == source.id and activity.data.post_ids == moved
    [entry] = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "topic.merged")).all()
    assert (entry.actor_id, entry.target_type, entry.target_id) == (moderator.id, "topic", target.id)
    assert entry.details["before"] == {"topic_id": source.id}
    assert entry.details["after"] == {"topic_id": target.id, "moved_posts": 4}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Activity)
                             .where(Activity.verb == Verb.TOPIC_CREATED, Activity.occurred_at == at(60))) == 0


def test_what_pointed_at_the_source_follows_its_posts(moderator, target, source, other, make_user):
    """Do notifications, read marks and follows of the source lead to the same posts in the target?"""
    [notice] = [n for n in db.session.scalars(sa.select(Notification).where(Notification.user_id == other.id))
                if n.data.get("number") == 4]
    reader, newcomer = established(make_user), established(make_user)
    reading.mark_read(reader, target, 2)    # all of the target, then the source up to its deleted reply
    reading.mark_read(reader, source, 3)
    reading.mark_read(newcomer, source, 4)  # all of the source, nothing of the target
    follow(newcomer, "topic", source.id)
    restructure.merge_topics(moderator, source.id, target.id, now=at(60))
    db.session.expire_all()
    assert notice.topic_id == target.id and notice.data["number"] == 6
    marks = dict(db.session.execute(sa.select(TopicRead.user_id, TopicRead.last_read_number)
                                    .where(TopicRead.topic_id == target.id)).all())
    assert marks == {reader.id: 5, newcomer.id: 0}  # up to the moved deleted reply; the target is new to them
    assert is_following(newcomer, FollowTarget.TOPIC, target.id)


def test_a_post_link_into_the_merged_topic_finds_the_post(client, moderator, target, source):
    """Does /p/<id> of a moved post lead to its new place in the target?"""
    moved = post_ids(source)[-1]
    restructure.merge_topics(moderator, source.id, target.id, now=at(60))
    response = client.get(f"/p/{moved}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/t/{target.id}#post-6")


def test_the_merged_topics_old_address_leads_to_the_target(client, moderator, target, source):
    """Does a visitor opening the merged topic's address land on the target's page?"""
    restructure.merge_topics(moderator, source.id, target.id, now=at(60))
    response = client.get(f"/t/{source.id}")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/t/{target.id}")
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and "Thanks, that worked for me too." in page.get_data(as_text=True)


def test_a_merge_into_the_staff_room_does_not_lead_members_there(app, make_user, moderator, source):
    """Is the old address a 404 for a reader who may not read the target?"""
    secret = ask(moderator, staff_only_category(), title="Customer asks about PDF exports")
    restructure.merge_topics(moderator, source.id, secret.id, now=at(60))
    member = established(make_user)
    assert app.test_client(user=member).get(f"/t/{source.id}").status_code == 404
    assert app.test_client(user=moderator).get(f"/t/{source.id}").status_code == 301


def test_a_topic_merged_twice_still_leads_to_where_its_posts_are(client, moderator, target, source, other,
                                                                  category):
    """After the target is merged on, does the first topic's address follow to the last one?"""
    third = ask(other, category, title="PDF exports, once more", now=at(1))
    restructure.merge_topics(moderator, source.id, target.id, now=at(60))
    restructure.merge_topics(moderator, target.id, third.id, now=at(70))
    assert db.session.get(Topic, source.id).merged_into_id == third.id
    assert client.get(f"/t/{source.id}").headers["Location"].endswith(f"/t/{third.id}")


@pytest.mark.parametrize("case", ["itself", "deleted target", "held target", "held source", "missing target",
                                  "deleted source"])
def test_a_refused_merge_leaves_both_topics_as_they_were(make_user, admin, moderator, target, source, other,
                                                         category, case):
    """Is each impossible merge refused with its own reason, before anything is written?"""
    into, error = target.id, Invalid
    if case == "itself":
        into = source.id
    elif case == "deleted target":
        posts.delete_post(target.author, post_ids(target)[0])
    elif case == "held target":
        watch(admin, "replica")
        into = ask(other, category, title="Replica licences for PDF export?").id
        assert db.session.get(Topic, into).held_at is not None
    elif case == "held source":
        watch(admin, "replica")
        held = ask(other, category, title="Replica licences for PDF export?")
        source, error = held, Conflict
    elif case == "missing target":
        into = 999_999
    elif case == "deleted source":
        posts.delete_post(other, post_ids(source)[0])
        error = Conflict
    raised = refused(error, restructure.merge_topics, moderator, source.id, into, now=at(60))
    if error is Invalid:
        assert "into_topic_id" in raised.fields


def test_a_member_may_not_merge_topics(helper, target, source):
    """Is a member (not a moderator) refused, with nothing changed?"""
    refused(Forbidden, restructure.merge_topics, helper, source.id, target.id)


def test_apply_merge_leaves_the_commit_to_its_caller(moderator, target, source):
    """Does apply_merge() write nothing that outlives the caller's rollback?"""
    before = everything()
    restructure.apply_merge(moderator, db.session.get(Topic, source.id), db.session.get(Topic, target.id), at(60))
    db.session.rollback()
    assert everything() == before


# -- splitting -------------------------------------------------------------------------------------

@pytest.fixture
def long_topic(asker, helper, other, category):
    """A question wandering off: replies 2 and 4 are about something else."""
    topic = ask(asker, category, title="Exporting a dashboard to PDF", now=at(0))
    answer(helper, topic, "Share → Schedule export, then PDF.", now=at(10))
    answer(other, topic, "Side question: can the export go to Excel?", now=at(20))
    answer(asker, topic, "Thanks, the PDF works.", now=at(30))
    answer(helper, topic, "Excel: choose XLSX in the same menu.", now=at(40))
    return topic


def test_splitting_moves_the_chosen_replies_into_a_new_topic(moderator, long_topic, other, helper, category):
    """Does the new discussion start with the first chosen reply, by its author, numbered 1..n?"""
    chosen = [reply_ids(long_topic)[3], reply_ids(long_topic)[1]]  # in any order: they keep the topic's
    new = restructure.split_topic(moderator, long_topic.id, chosen, title="  Exporting   to Excel ", now=at(60))
    db.session.expire_all()
    assert (new.title, new.kind, new.category_id) == ("Exporting to Excel", TopicKind.DISCUSSION, category.id)
    assert (new.author_id, new.created_at) == (other.id, at(20))
    assert numbered(new) == [(1, other.id, "Side question: can the export go to Excel?", False),
                             (2, helper.id, "Excel: choose XLSX in the same menu.", False)]
    assert (new.reply_count, new.post_count, new.last_posted_at, new.last_poster_id) == (1, 2, at(40), helper.id)
    assert [n for n, *_ in numbered(long_topic)] == [1, 2, 4]


def test_splitting_keeps_the_sources_counters_right(moderator, long_topic, other, helper):
    """Does the source count what is left, end on its last post left, and number the next reply after it?"""
    version = long_topic.version
    restructure.split_topic(moderator, long_topic.id, reply_ids(long_topic)[2:], title="PDF thanks and Excel",
                            now=at(60))
    db.session.expire_all()
    assert (long_topic.reply_count, long_topic.post_count) == (2, 3)
    assert (long_topic.last_posted_at, long_topic.last_poster_id) == (at(20), other.id)
    assert long_topic.version > version
    assert answer(helper, long_topic, "Back to PDFs: it works.").number == 4


def test_a_split_into_another_category(moderator, long_topic):
    """Does a moderator's chosen category take the new topic?"""
    ideas = make_category("Ideas")
    new = restructure.split_topic(moderator, long_topic.id, [reply_ids(long_topic)[1]], title="Export to Excel",
                                  category_id=ideas.id)
    assert new.category_id == ideas.id


def test_moved_accepted_and_official_answers_leave_the_source(moderator, long_topic, asker):
    """If the accepted or the official answer moves, is it no longer marked in the source?"""
    accepted = reply_ids(long_topic)[0]
    answers.accept(asker, long_topic.id, accepted)
    staff_answer = answer(moderator, long_topic, "Official: Share → Schedule export.")
    official.mark_official(moderator, staff_answer.id)
    restructure.split_topic(moderator, long_topic.id, [accepted, staff_answer.id], title="The PDF answers")
    db.session.expire_all()
    assert long_topic.solved_post_id is None and long_topic.official_post_id is None


def test_a_split_records_one_activity_and_one_audit_entry_and_pays_nobody(moderator, long_topic):
    """Is the split one TOPIC_SPLIT on the new topic and one audit row, with no TOPIC_CREATED and no points?"""
    chosen = reply_ids(long_topic)[1::2]
    points = db.session.scalar(sa.select(sa.func.count()).select_from(PointsEntry))
    created = db.session.scalar(sa.select(sa.func.count()).select_from(Activity)
                                .where(Activity.verb == Verb.TOPIC_CREATED))
    new = restructure.split_topic(moderator, long_topic.id, chosen, title="Export to Excel")
    [activity] = db.session.scalars(sa.select(Activity).where(Activity.verb == Verb.TOPIC_SPLIT)).all()
    assert (activity.actor_id, activity.object_type, activity.object_id) == (moderator.id, "topic", new.id)
    assert (activity.data.from_topic_id, activity.data.post_ids, activity.data.category_id) == (
        long_topic.id, chosen, long_topic.category_id)
    [entry] = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "topic.split")).all()
    assert (entry.actor_id, entry.target_type, entry.target_id) == (moderator.id, "topic", new.id)
    assert entry.details["before"] == {"topic_id": long_topic.id}
    assert entry.details["after"] == {"topic_id": new.id, "post_ids": chosen}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PointsEntry)) == points
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Activity)
                             .where(Activity.verb == Verb.TOPIC_CREATED)) == created


def test_what_pointed_at_the_moved_replies_follows_them(client, moderator, long_topic, make_user):
    """Do notifications, read marks and post links of the moved replies lead to their new place?"""
    asker_id = long_topic.author_id
    notices = {n.data["number"]: n for n in db.session.scalars(
        sa.select(Notification).where(Notification.user_id == asker_id, Notification.kind == "reply"))}
    reader = established(make_user)
    reading.mark_read(reader, long_topic, 3)
    chosen = [reply_ids(long_topic)[1], reply_ids(long_topic)[3]]
    new = restructure.split_topic(moderator, long_topic.id, chosen, title="Export to Excel")
    db.session.expire_all()
    assert (notices[3].topic_id, notices[3].data["number"]) == (new.id, 1)
    assert (notices[5].topic_id, notices[5].data["number"]) == (new.id, 2)
    assert (notices[2].topic_id, notices[2].data["number"]) == (long_topic.id, 2)
    assert reading.read_marks(reader, [long_topic.id, new.id]) == {long_topic.id: 3, new.id: 1}
    assert client.get(f"/p/{chosen[1]}").headers["Location"].endswith(f"/t/{new.id}#post-2")


@pytest.mark.parametrize("case", ["opening post", "another topic", "deleted", "held", "none", "missing"])
def test_a_split_of_posts_that_cannot_move_is_refused(make_user, moderator, long_topic, target, helper, case):
    """Is each post that may not move refused, with nothing changed?"""
    replies = reply_ids(long_topic)
    chosen = {
        "opening post": lambda: post_ids(long_topic)[:2],
        "another topic": lambda: [replies[0], reply_ids(target)[0]],
        "deleted": lambda: [posts.delete_post(helper, replies[0]).id],
        "held": lambda: [replies[1], held_reply(make_user, long_topic).id],
        "none": lambda: [],
        "missing": lambda: [replies[0], 999_999],
    }[case]()
    raised = refused(Invalid, restructure.split_topic, moderator, long_topic.id, chosen, title="Export to Excel")
    assert "post_ids" in raised.fields


@pytest.mark.parametrize("title", ["", "   ", "PDF", "x" * 201])
def test_a_split_with_a_bad_title_is_refused(moderator, long_topic, title):
    raised = refused(Invalid, restructure.split_topic, moderator, long_topic.id, [reply_ids(long_topic)[0]],
                     title=title)
    assert "title" in raised.fields


def test_a_split_into_a_category_that_does_not_exist_is_refused(moderator, long_topic):
    raised = refused(NotFound, restructure.split_topic, moderator, long_topic.id, [reply_ids(long_topic)[0]],
                     title="Export to Excel", category_id=999_999)
    assert "category_id" in raised.fields


def test_a_split_of_a_held_or_deleted_topic_is_refused(admin, moderator, long_topic, other, category):
    """Does a topic that waits for a moderator, or is gone, keep its replies?"""
    watch(admin, "replica")
    held = ask(other, category, title="Replica licences for PDF export?")
    refused(Conflict, restructure.split_topic, moderator, held.id, [post_ids(held)[0]], title="Export to Excel")
    posts.delete_post(long_topic.author, post_ids(long_topic)[0])
    refused(Conflict, restructure.split_topic, moderator, long_topic.id, reply_ids(long_topic)[:1],
            title="Export to Excel")


def test_a_member_may_not_split_a_topic(asker, long_topic):
    """Is the topic's own author, not a moderator, refused?"""
    refused(Forbidden, restructure.split_topic, asker, long_topic.id, [reply_ids(long_topic)[0]],
            title="Export to Excel")
