"""The community's rules, through the service functions."""
import pytest
import sqlalchemy as sa

from portal.community import answers, flags, follows, ideas, posts, reading, topics, votes
from portal.community.content import TITLE_MAX
from portal.community.models import IdeaStatus, Post, Tag, Topic, Vote
from portal.errors import Conflict, Forbidden, Invalid, NotFound, TooManyRequests, Unauthorized
from portal.events import Activity, Verb
from portal.extensions import db
from portal.notifications.models import Notification
from portal.permissions import Role
from tests.community_factories import (
    announcements_category,
    answer,
    ask,
    established,
    make_category,
    staff_only_category,
    trusted,
    with_points,
)


def count(model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def notifications_of(user):
    """What others' actions told `user` (badges and levels the member earned are left out)."""
    return [(n.kind, n.topic.title if n.topic else None) for n in db.session.scalars(
        sa.select(Notification).where(Notification.user_id == user.id,
                                      Notification.kind.not_in(["badge", "level_up"])).order_by(Notification.id))]


@pytest.fixture
def qa(app):
    return make_category("Questions")


@pytest.fixture
def asker(make_user):
    return established(make_user, name="Wang Fang")


@pytest.fixture
def helper(make_user):
    return established(make_user, name="Emma Schneider")


# -- topics ------------------------------------------------------------------

def test_create_topic_writes_topic_first_post_and_activity(qa, asker):
    topic = ask(asker, qa, tags=[])
    assert (topic.post_count, topic.reply_count, topic.kind) == (1, 0, "question")
    first = db.session.scalar(sa.select(Post).where(Post.topic_id == topic.id))
    assert first.number == 1 and "<p>I need a PDF every Monday.</p>" in first.html
    assert count(Activity, Activity.verb == Verb.TOPIC_CREATED) == 1


@pytest.mark.parametrize("changes, field", [
    ({"title": ""}, "title"),
    ({"title": "short"}, "title"),
    ({"title": "T" * 201}, "title"),
    ({"body": ""}, "body"),
    ({"body": "b" * 30_001}, "body"),
    ({"kind": "poll"}, "kind"),
    ({"category_id": 999}, "category_id"),
    ({"tags": ["bad tag!"]}, "tags"),
    ({"tags": [f"t{i}" for i in range(6)]}, "tags"),
])
def test_bad_topics_are_refused_and_nothing_is_written(qa, asker, changes, field):
    data = {"category_id": qa.id, "kind": "question", "title": "How do I export a dashboard?", "body": "Body"}
    with pytest.raises((Invalid, NotFound)) as error:
        topics.create_topic(asker, **(data | changes))
    assert field in error.value.fields
    db.session.rollback()
    assert count(Topic) == 0 and count(Post) == 0 and count(Activity) == 0


def test_members_cannot_write_in_announcements_but_staff_can(asker, moderator):
    category = announcements_category()
    with pytest.raises(Forbidden):
        ask(asker, category, kind="discussion")
    assert ask(moderator, category, kind="discussion").id


def test_staff_only_category_is_invisible_to_members(asker, moderator):
    category = staff_only_category()
    with pytest.raises(NotFound):
        topics.get_category(asker, category.id)
    topic = ask(moderator, category)
    with pytest.raises(NotFound):
        topics.get_topic(asker, topic.id)
    assert topics.topic_list(asker).total == 0
    assert topics.topic_list(moderator).total == 1


def test_tags_must_exist_unless_the_member_has_the_level(qa, asker, moderator):
    with pytest.raises(Invalid) as error:
        ask(asker, qa, tags=["exports"])
    assert error.value.code == "tag_unknown"
    db.session.rollback()
    ask(moderator, qa, tags=["Exports", "pdf"])
    assert sorted(db.session.scalars(sa.select(Tag.name))) == ["exports", "pdf"]
    asker_topic = ask(asker, qa, title="Exports run twice on Mondays", tags=["exports"])
    assert [t.name for t in asker_topic.tags] == ["exports"]


def test_topic_list_sorts(qa, asker, helper):
    unanswered = ask(asker, qa, title="Nobody has answered this one")
    solved = ask(asker, qa, title="This one gets solved quickly")
    unsolved = ask(asker, qa, title="This one gets an answer only")
    accepted = answer(helper, solved)
    answer(helper, unsolved)
    answers.accept(asker, solved.id, accepted.id)
    votes.cast(helper, db.session.scalar(sa.select(Post.id).where(Post.topic_id == unsolved.id, Post.number == 1)), 1)

    def ids(**kw):
        return [t.id for t in topics.topic_list(asker, **kw).items]

    assert ids(sort="unanswered") == [unanswered.id]
    assert ids(sort="solved") == [solved.id]
    assert ids(sort="unsolved") == [unsolved.id, unanswered.id]
    assert ids(sort="top")[0] == unsolved.id
    assert ids(sort="latest")[0] == unsolved.id
    with pytest.raises(Invalid):
        topics.topic_list(asker, sort="random")


# -- replies, edits, deletes -----------------------------------------------------------

def test_reply_numbers_posts_and_counts(qa, asker, helper):
    topic = ask(asker, qa)
    first, second = answer(helper, topic), answer(asker, topic, "Thanks, trying it now")
    db.session.refresh(topic)
    assert (first.number, second.number) == (2, 3)
    assert (topic.post_count, topic.reply_count, topic.last_poster_id) == (3, 2, asker.id)


def test_quote_reply_must_quote_the_same_topic(qa, asker, helper):
    topic, other = ask(asker, qa), ask(asker, qa, title="A different question entirely")
    foreign = answer(helper, other)
    with pytest.raises(Invalid):
        answer(helper, topic, reply_to_id=foreign.id)
    quoted = answer(helper, topic)
    reply = answer(asker, topic, "> Use Share\n\nWhere is Share?", reply_to_id=quoted.id)
    assert reply.reply_to_id == quoted.id


def test_locked_topic_takes_no_replies_except_from_moderators(qa, asker, helper, moderator):
    topic = ask(asker, qa)
    topics.set_locked(moderator, topic.id, True)
    with pytest.raises(Conflict):
        answer(helper, topic)
    db.session.rollback()
    assert count(Post) == 1
    assert answer(moderator, topic, "Locked: see the FAQ").number == 2


def test_closed_as_duplicate_takes_no_replies_until_reopened(qa, asker, helper, moderator):
    original, duplicate = ask(asker, qa), ask(helper, qa, title="Exporting dashboards to PDF?")
    with pytest.raises(Forbidden):
        topics.close_as_duplicate(asker, duplicate.id, original.id)
    topics.close_as_duplicate(moderator, duplicate.id, original.id)
    with pytest.raises(Conflict):
        answer(asker, duplicate)
    db.session.rollback()
    with pytest.raises(Invalid):
        topics.close_as_duplicate(moderator, original.id, duplicate.id)  # no loops
    db.session.rollback()
    topics.close_as_duplicate(moderator, duplicate.id, None)
    assert answer(asker, duplicate).number == 2


def test_moderation_changes_are_all_or_nothing(qa, asker, moderator):
    topic = ask(asker, qa)
    with pytest.raises(NotFound):
        topics.change_topic(moderator, topic.id, pinned=True, locked=True, category_id=999)
    db.session.rollback()
    topic = db.session.get(Topic, topic.id)
    assert not topic.pinned and not topic.locked
    idea_free = topics.change_topic(moderator, topic.id, pinned=True, locked=True)
    assert idea_free.pinned and idea_free.locked
    with pytest.raises(Invalid):
        topics.change_topic(moderator, topic.id, pinned=False, idea_status="planned")
    db.session.rollback()
    assert db.session.get(Topic, topic.id).pinned


def test_edits_keep_revisions_and_only_authors_or_moderators_edit(qa, asker, helper, moderator):
    topic = ask(asker, qa)
    first = db.session.scalar(sa.select(Post).where(Post.topic_id == topic.id))
    with pytest.raises(Forbidden):
        posts.edit_post(helper, first.id, "Hijacked")
    posts.edit_post(asker, first.id, "I need a PDF every Monday at 9.", title="How do I schedule a PDF export?")
    posts.edit_post(moderator, first.id, "I need a PDF every Monday at 9:00.")
    post, history = posts.revisions(helper, first.id)
    assert [r.source for r in history] == ["I need a PDF every Monday at 9.", "I need a PDF every Monday."]
    assert history[1].title == "How do I export a dashboard?"
    assert post.revision_count == 2 and post.edited_at is not None
    assert db.session.get(Topic, topic.id).title == "How do I schedule a PDF export?"


def test_delete_is_soft_and_first_post_takes_the_topic(qa, asker, helper):
    topic = ask(asker, qa)
    reply = answer(helper, topic)
    with pytest.raises(Forbidden):
        posts.delete_post(asker, reply.id)
    posts.delete_post(helper, reply.id)
    db.session.refresh(topic)
    assert topic.reply_count == 0 and count(Post) == 2
    with pytest.raises(NotFound):
        posts.get_post(asker, reply.id)
    first = db.session.scalar(sa.select(Post).where(Post.topic_id == topic.id, Post.number == 1))
    posts.delete_post(asker, first.id)
    with pytest.raises(NotFound):
        topics.get_topic(helper, topic.id)
    assert topics.topic_list(helper).total == 0


# -- votes and answers ---------------------------------------------------------------

def test_votes_are_one_per_voter_changeable_and_retractable(qa, asker, helper, make_user):
    topic = ask(asker, qa)
    reply = answer(helper, topic)
    with pytest.raises(Forbidden):
        votes.cast(helper, reply.id, 1)
    votes.cast(asker, reply.id, 1)
    votes.cast(asker, reply.id, 1)
    assert db.session.get(Post, reply.id).score == 1 and count(Vote) == 1
    votes.cast(asker, reply.id, -1)
    assert db.session.get(Post, reply.id).score == -1 and count(Vote) == 1
    votes.cast(established(make_user), reply.id, -1)
    assert db.session.get(Post, reply.id).score == -2
    votes.retract(asker, reply.id)
    assert db.session.get(Post, reply.id).score == -1 and count(Vote) == 1
    with pytest.raises(Invalid):
        votes.cast(asker, reply.id, 2)
    assert count(Activity, Activity.verb == Verb.VOTED) == 3


def test_first_post_votes_score_the_topic(qa, asker, helper):
    topic = ask(asker, qa)
    first_id = db.session.scalar(sa.select(Post.id).where(Post.topic_id == topic.id))
    votes.cast(helper, first_id, 1)
    assert db.session.get(Topic, topic.id).score == 1


def test_no_votes_on_deleted_posts(qa, asker, helper):
    topic = ask(asker, qa)
    reply = answer(helper, topic)
    posts.delete_post(helper, reply.id)
    with pytest.raises(NotFound):
        votes.cast(asker, reply.id, 1)


def test_only_the_asker_or_a_moderator_accepts_on_questions(qa, asker, helper, moderator, make_user):
    question = ask(asker, qa)
    reply, other = answer(helper, question), answer(established(make_user), question, "Or use the API")
    with pytest.raises(Forbidden):
        answers.accept(helper, question.id, reply.id)
    discussion = ask(asker, qa, title="Share your favourite dashboards", kind="discussion")
    d_reply = answer(helper, discussion)
    with pytest.raises(Invalid):
        answers.accept(asker, discussion.id, d_reply.id)
    with pytest.raises(Invalid):
        answers.accept(asker, question.id, d_reply.id)
    answers.accept(asker, question.id, reply.id)
    answers.accept(moderator, question.id, other.id)
    assert db.session.get(Topic, question.id).solved_post_id == other.id
    verbs = db.session.scalars(sa.select(Activity.verb).where(Activity.verb.like("answer.%")).order_by(Activity.id))
    assert list(verbs) == [Verb.ANSWER_ACCEPTED, Verb.ANSWER_UNACCEPTED, Verb.ANSWER_ACCEPTED]
    answers.unaccept(asker, question.id)
    assert db.session.get(Topic, question.id).solved_post_id is None


def test_answers_read_accepted_first_then_by_votes(qa, asker, make_user):
    question = ask(asker, qa)
    voters = [established(make_user) for _ in range(3)]
    low, high, accepted = (answer(established(make_user), question, f"Answer {n}") for n in range(3))
    for voter in voters:
        votes.cast(voter, high.id, 1)
    votes.cast(voters[0], low.id, -1)
    answers.accept(asker, question.id, accepted.id)
    page = posts.topic_posts(asker, db.session.get(Topic, question.id))
    assert [p.number for p in page.items] == [1, accepted.number, high.number, low.number]


def test_deleting_the_accepted_answer_unsolves_the_question(qa, asker, helper):
    question = ask(asker, qa)
    reply = answer(helper, question)
    answers.accept(asker, question.id, reply.id)
    posts.delete_post(helper, reply.id)
    assert db.session.get(Topic, question.id).solved_post_id is None


# -- ideas ---------------------------------------------------------------------------

def test_ideas_take_upvotes_and_staff_set_status(qa, asker, helper, moderator, make_user):
    idea = ask(asker, qa, title="Export dashboards to PowerPoint", kind="idea")
    first_id = db.session.scalar(sa.select(Post.id).where(Post.topic_id == idea.id))
    voter = established(make_user)
    votes.cast(helper, first_id, 1)
    votes.cast(voter, first_id, 1)
    with pytest.raises(Invalid):
        votes.cast(established(make_user), first_id, -1)
    with pytest.raises(Forbidden):
        ideas.set_idea_status(asker, idea.id, "planned")
    with pytest.raises(Invalid):
        ideas.set_idea_status(moderator, idea.id, "someday")
    ideas.set_idea_status(moderator, idea.id, "planned", "Coming in the **June** release.")
    topic = db.session.get(Topic, idea.id)
    assert topic.idea_status == IdeaStatus.PLANNED and topic.score == 2
    for user in (asker, helper, voter):
        assert ("idea_status", "Export dashboards to PowerPoint") in notifications_of(user)
    assert topics.topic_list(asker, kind="idea", status="planned").total == 1
    question = ask(asker, qa)
    with pytest.raises(Invalid):
        ideas.set_idea_status(moderator, question.id, "planned")


# -- flags -----------------------------------------------------------------------------

def test_three_flags_hide_a_post_until_a_moderator_looks(qa, asker, helper, moderator, make_user):
    topic = ask(asker, qa)
    spam = answer(helper, topic, "Buy cheap followers")
    flaggers = [trusted(make_user) for _ in range(3)]
    flags.flag_post(flaggers[0], spam.id, "spam")
    with pytest.raises(Conflict):
        flags.flag_post(flaggers[0], spam.id, "abusive")
    db.session.rollback()
    with pytest.raises(Forbidden):
        flags.flag_post(helper, spam.id, "spam")
    with pytest.raises(Invalid):
        flags.flag_post(flaggers[1], spam.id, "other")
    flags.flag_post(flaggers[1], spam.id, "off_topic")
    assert db.session.get(Post, spam.id).hidden_at is None
    flags.flag_post(flaggers[2], spam.id, "other", "Advertising")
    assert db.session.get(Post, spam.id).hidden_at is not None
    with pytest.raises(NotFound):
        posts.get_post(asker, spam.id)
    assert posts.get_post(moderator, spam.id).id == spam.id
    topic = db.session.get(Topic, topic.id)
    assert [p.id for p in posts.topic_posts(asker, topic).items] == [p.id for p in posts.topic_posts(
        moderator, topic).items if p.id != spam.id]


def test_flag_threshold_is_configurable(app, qa, asker, helper, make_user):
    app.config["FLAGS_TO_HIDE"] = 1
    topic = ask(asker, qa)
    spam = answer(helper, topic, "Buy cheap followers")
    flags.flag_post(with_points(asker, 60), spam.id, "spam")
    assert db.session.get(Post, spam.id).hidden_at is not None


# -- follows, feed, unread, notifications ----------------------------------------------------

def test_notifications_for_replies_quotes_mentions_and_acceptance(qa, asker, helper, make_user):
    third = established(make_user, name="Li Wei")
    topic = ask(asker, qa, body=f"Asking @{helper.username}, who knows exports")
    assert notifications_of(helper) == [("mention", topic.title)]
    reply = answer(helper, topic)
    assert notifications_of(asker) == [("reply", topic.title)]
    answer(third, topic, "> Use Share\n\nThis worked for me", reply_to_id=reply.id)
    assert notifications_of(helper)[-1] == ("quote", topic.title)
    assert notifications_of(asker)[-1] == ("reply", topic.title)
    answers.accept(asker, topic.id, reply.id)
    assert notifications_of(helper)[-1] == ("accepted", topic.title)
    assert notifications_of(third) == []


def test_nobody_is_notified_of_their_own_actions(qa, asker):
    topic = ask(asker, qa, body=f"Talking to myself @{asker.username}")
    answer(asker, topic, "Bump")
    assert notifications_of(asker) == []


def test_following_a_category_notifies_new_topics_and_feeds_home(qa, asker, helper):
    other = make_category("Ideas")
    follows.follow(helper, "category", qa.id)
    follows.follow(helper, "category", qa.id)
    ask(asker, qa)
    ask(asker, other, title="An idea elsewhere entirely", kind="idea")
    assert notifications_of(helper) == [("new_topic", "How do I export a dashboard?")]
    feed = topics.topic_list(helper, topic_ids=follows.feed_topic_ids(helper))
    assert [t.title for t in feed.items] == ["How do I export a dashboard?"]
    follows.unfollow(helper, "category", qa.id)
    assert not follows.is_following(helper, "category", qa.id)
    with pytest.raises(Invalid):
        follows.follow(helper, "planet", 1)
    with pytest.raises(Invalid):
        follows.follow(helper, "user", helper.id)


def test_following_a_topic_notifies_new_posts(qa, asker, helper, make_user):
    topic = ask(asker, qa)
    watcher = established(make_user)
    follows.follow(watcher, "topic", topic.id)
    answer(helper, topic)
    assert notifications_of(watcher) == [("followed_reply", topic.title)]


def test_unread_counts_follow_what_was_read(qa, asker, helper):
    topic = ask(asker, qa)
    reading.mark_read(helper, topic, 1)
    answer(asker, topic, "More detail: weekly")
    answer(asker, topic, "And monthly")
    topic = db.session.get(Topic, topic.id)
    marks = reading.read_marks(helper, [topic.id])
    assert reading.unread_count(topic, marks) == 2
    reading.mark_read(helper, topic, 3)
    reading.mark_read(helper, topic, 2)  # going back never un-reads
    assert reading.read_marks(helper, [topic.id]) == {topic.id: 3}


# -- new accounts ------------------------------------------------------------------------

def test_new_accounts_are_limited_and_cannot_post_links(qa, member, asker):
    for n in range(3):
        ask(member, qa, title=f"My question number {n} about exports")
    with pytest.raises(TooManyRequests):
        ask(member, qa, title="One question too many today")
    db.session.rollback()
    topic = ask(asker, qa)
    for n in range(10):
        answer(member, topic, f"Reply {n}")
    with pytest.raises(TooManyRequests):
        answer(member, topic, "Reply 11")
    db.session.rollback()
    link_post = answer(with_points(asker, 60), topic, "See [the docs](https://docs.example.com)")
    assert '<a href="https://docs.example.com"' in link_post.html


def test_new_account_links_render_as_text(qa, member):
    topic = ask(member, qa, body="See [the docs](https://docs.example.com) ![logo](https://x.example/l.png)")
    first = db.session.scalar(sa.select(Post).where(Post.topic_id == topic.id))
    assert "<a " not in first.html and "<img" not in first.html and "the docs" in first.html


def test_staff_are_never_new_accounts(qa, moderator):
    """A moderator created a minute ago posts past a new account's 3 topics, and links render."""
    topics_made = [ask(moderator, qa, title=f"Announcement number {n} for all",
                       body="See [the docs](https://docs.example.com)") for n in range(4)]
    assert count(Topic) == 4
    first = db.session.scalar(sa.select(Post).where(Post.topic_id == topics_made[-1].id))
    assert '<a href="https://docs.example.com"' in first.html


# -- re-rendering ------------------------------------------------------------------------

def test_rerender_command_updates_outdated_posts(runner, qa, asker):
    topic = ask(asker, qa)
    first = db.session.scalar(sa.select(Post).where(Post.topic_id == topic.id))
    db.session.execute(sa.update(Post).values(html="<p>stale</p>", sanitizer_version=0))
    db.session.commit()
    result = runner.invoke(args=["posts", "rerender"])
    assert "1 post(s) changed" in result.output
    db.session.refresh(first)
    assert "Monday" in first.html
    assert "0 post(s) changed" in runner.invoke(args=["posts", "rerender", "--all"]).output


def test_suspended_members_cannot_post(qa, make_user):
    from portal.auth.models import UserStatus

    suspended = established(make_user, Role.MEMBER, status=UserStatus.SUSPENDED)
    with pytest.raises(Unauthorized):
        ask(suspended, qa)
    assert count(Topic) == 0


@pytest.mark.parametrize("title, accepted", [
    ("我们明年想续费", True),           # a whole question in 7 characters
    ("請問報價多少", True),             # Traditional, 6 characters
    ("CRM升级方案", True),              # mixed: 3 + 4 wide characters
    ("续费", False),                    # 2 characters: too short even counted double
    ("renewal", False),                 # 7 Latin letters stay too short
    ("续" * TITLE_MAX, True),           # the maximum counts characters
    ("续" * (TITLE_MAX + 1), False),
])
def test_minimum_lengths_count_a_chinese_character_as_two(qa, make_user, title, accepted):
    author = established(make_user)
    if accepted:
        assert ask(author, qa, title=title).title == title
    else:
        with pytest.raises(Invalid) as refused:
            ask(author, qa, title=title)
        assert "title" in refused.value.fields


def test_a_one_character_chinese_reply_is_long_enough(qa, make_user):
    topic = ask(established(make_user), qa)
    assert posts.reply(established(make_user), topic.id, "顶").number == 2
    with pytest.raises(Invalid):
        posts.reply(established(make_user), topic.id, "k")
