"""Services take `now=`: an action and everything its subscribers write carry that moment, not the clock's."""
from datetime import timedelta

import sqlalchemy as sa

from portal.community import answers, follows, votes
from portal.community.models import Post
from portal.events import Activity, Verb
from portal.extensions import db
from portal.notifications.models import Notification
from portal.rewards.models import PointsEntry, UserBadge
from portal.sqltypes import utcnow
from tests.community_factories import answer, ask, established, make_category

LAST_SPRING = utcnow() - timedelta(days=200)


def _first_post(topic):
    return db.session.scalar(sa.select(Post).where(Post.topic_id == topic.id, Post.number == 1))


def _activity(verb):
    return db.session.scalars(sa.select(Activity).where(Activity.verb == str(verb))
                              .order_by(Activity.id.desc())).first()


def test_a_question_answered_accepted_and_voted_in_the_past_is_dated_in_the_past(app, make_user):
    asker, helper, voter = (established(make_user) for _ in range(3))
    questions = make_category()
    follows.follow(voter, "category", questions.id, now=LAST_SPRING)
    topic = ask(asker, questions, now=LAST_SPRING)
    reply = answer(helper, topic, now=LAST_SPRING + timedelta(hours=1))
    votes.cast(voter, reply.id, 1, now=LAST_SPRING + timedelta(hours=2))
    answers.accept(asker, topic.id, reply.id, now=LAST_SPRING + timedelta(hours=3))

    assert topic.created_at == _first_post(topic).created_at == LAST_SPRING
    assert reply.created_at == topic.last_posted_at == LAST_SPRING + timedelta(hours=1)
    for verb, hours in ((Verb.TOPIC_CREATED, 0), (Verb.POST_CREATED, 1), (Verb.VOTED, 2),
                        (Verb.ANSWER_ACCEPTED, 3)):
        assert _activity(verb).occurred_at == LAST_SPRING + timedelta(hours=hours), verb

    entries = db.session.execute(sa.select(PointsEntry.created_at, Activity.occurred_at)
                                 .join(Activity, Activity.id == PointsEntry.activity_id)).all()
    assert len(entries) >= 5 and all(entry == cause for entry, cause in entries)
    notified = db.session.scalars(sa.select(Notification.created_at)).all()
    assert notified and all(when < LAST_SPRING + timedelta(hours=4) for when in notified)
    badges = db.session.execute(sa.select(UserBadge.awarded_at, Activity.occurred_at)
                                .join(Activity, Activity.id == UserBadge.activity_id)).all()
    assert badges and all(awarded == cause for awarded, cause in badges)


def test_the_daily_vote_cap_counts_the_day_the_votes_were_cast(app, make_user):
    """A cap per day is per the day of the action: yesterday's votes don't use up today's cap."""
    app.config["POINTS_DAILY_VOTE_CAP"] = 10
    author = established(make_user)
    questions = make_category()
    yesterday, today = utcnow() - timedelta(days=1), utcnow()
    topics = [ask(author, questions, title=f"Question number {n} about exports", now=yesterday)
              for n in range(6)]
    for when in (yesterday, today):
        for topic in topics:
            votes.cast(established(make_user), _first_post(topic).id, 1, now=when)
    earned = dict(db.session.execute(
        sa.select(sa.func.date(PointsEntry.created_at), sa.func.sum(PointsEntry.delta))
        .where(PointsEntry.user_id == author.id, PointsEntry.rule == "question_upvoted")
        .group_by(sa.func.date(PointsEntry.created_at))).all())
    assert sorted(earned.values()) == [10, 10]
