"""The points ledger: every change is an entry, every undo a compensating one."""
import threading

import pytest
import sqlalchemy as sa

from portal.auth.models import User
from portal.community import answers, posts, votes
from portal.community.models import Post
from portal.extensions import db
from portal.rewards.models import PointsEntry
from tests.community_factories import answer, ask, established, make_category
from tests.conftest import PASSWORD


def points(user):
    return db.session.scalar(sa.select(User.points).where(User.id == user.id))


def ledger(user):
    return [(e.rule, e.delta) for e in db.session.scalars(
        sa.select(PointsEntry).where(PointsEntry.user_id == user.id).order_by(PointsEntry.id))]



@pytest.fixture
def qa(app):
    return make_category("Questions")


@pytest.fixture
def people(make_user):
    return [established(make_user, name=name) for name in ("Wang Fang", "Emma Schneider", "Li Wei", "Jonas Weber")]


def first_post(topic):
    return db.session.scalar(sa.select(Post).where(Post.topic_id == topic.id, Post.number == 1))


def test_topics_and_replies_earn_points(qa, people):
    asker, helper, *_ = people
    topic = ask(asker, qa)
    answer(helper, topic)
    assert (points(asker), points(helper)) == (2, 1)
    assert ledger(asker) == [("topic_created", 2)]


def test_votes_earn_change_and_retract_exactly(qa, people):
    asker, helper, voter, _ = people
    topic = ask(asker, qa)
    reply = answer(helper, topic)
    votes.cast(voter, first_post(topic).id, 1)
    assert points(asker) == 2 + 5
    votes.cast(voter, reply.id, 1)
    votes.cast(voter, reply.id, 1)  # a double click changes nothing
    assert points(helper) == 1 + 10
    votes.cast(voter, reply.id, -1)
    assert (points(helper), points(voter)) == (1 - 2, -1)
    votes.retract(voter, reply.id)
    assert (points(helper), points(voter)) == (1, 0)
    assert ledger(helper) == [("reply_created", 1), ("answer_upvoted", 10), ("answer_upvoted", -10),
                              ("downvote_received", -2), ("downvote_received", 2)]


def test_accepting_rewards_both_and_moving_or_taking_it_back_reverses(qa, people):
    asker, helper, other, _ = people
    topic = ask(asker, qa)
    first, second = answer(helper, topic), answer(other, topic, "Or use the API")
    answers.accept(asker, topic.id, first.id)
    assert (points(helper), points(asker)) == (1 + 15, 2 + 2)
    answers.accept(asker, topic.id, second.id)
    assert (points(helper), points(other), points(asker)) == (1, 1 + 15, 2 + 2)
    answers.unaccept(asker, topic.id)
    assert (points(other), points(asker)) == (1, 2)


def test_answering_your_own_question_earns_nothing_when_accepted(qa, people):
    asker = people[0]
    topic = ask(asker, qa)
    own = answer(asker, topic, "Found it myself: Share → Schedule")
    answers.accept(asker, topic.id, own.id)
    assert points(asker) == 2 + 1


def test_removing_content_takes_back_what_it_earned(qa, people, moderator):
    asker, helper, voter, _ = people
    topic = ask(asker, qa)
    reply = answer(helper, topic)
    votes.cast(voter, reply.id, 1)
    answers.accept(asker, topic.id, reply.id)
    assert points(helper) == 1 + 10 + 15
    posts.delete_post(moderator, reply.id)
    assert (points(helper), points(asker)) == (0, 2)


def test_deleting_a_topic_takes_back_its_replies_points_too(qa, people):
    asker, helper, voter, _ = people
    topic = ask(asker, qa)
    reply = answer(helper, topic)
    votes.cast(voter, reply.id, 1)
    posts.delete_post(asker, first_post(topic).id)
    assert (points(asker), points(helper)) == (0, 0)


def test_vote_points_are_capped_per_day(app, qa, people, make_user):
    app.config["POINTS_DAILY_VOTE_CAP"] = 25
    asker, helper, *_ = people
    topic = ask(asker, qa)
    reply = answer(helper, topic)
    for _ in range(3):
        votes.cast(established(make_user), reply.id, 1)
    assert [d for r, d in ledger(helper) if r == "answer_upvoted"] == [10, 10, 5]


def test_points_verify_reports_a_tampered_balance(runner, qa, people):
    ask(people[0], qa)
    assert "Every balance equals its ledger." in runner.invoke(args=["points", "verify"]).output
    db.session.execute(sa.update(User).where(User.id == people[0].id).values(points=99))
    db.session.commit()
    result = runner.invoke(args=["points", "verify"])
    assert result.exit_code != 0 and f"user {people[0].id}: balance 99, ledger 2" in result.output
    db.session.execute(sa.update(User).where(User.id == people[0].id).values(points=2))
    db.session.commit()


def test_twenty_members_upvoting_at_once_make_twenty_entries(make_app, qa, people, make_user):
    """Parallel requests through the API: one ledger row per voter, the right balance."""
    app = make_app()
    asker, helper, *_ = people
    reply = answer(helper, ask(asker, qa))
    voters = [established(make_user) for _ in range(20)]
    tokens = {}
    for voter in voters:
        response = app.test_client().post("/api/v1/tokens", json={"email": voter.email, "password": PASSWORD})
        tokens[voter.id] = response.get_json()["token"]
    start, statuses, url = threading.Barrier(len(voters)), [], f"/api/v1/posts/{reply.id}/vote"

    def upvote(token):
        client = app.test_client()
        start.wait()
        statuses.append(client.post(url, json={"value": 1},
                                    headers={"Authorization": f"Bearer {token}"}).status_code)

    threads = [threading.Thread(target=upvote, args=(tokens[v.id],)) for v in voters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.expire_all()  # the requests ran in other threads' sessions
    assert statuses == [200] * 20
    assert [d for r, d in ledger(helper) if r == "answer_upvoted"] == [10] * 20
    assert points(helper) == 1 + 200
    assert db.session.get(Post, reply.id).score == 20


def test_a_double_click_makes_one_entry(make_app, qa, people):
    app = make_app()
    asker, helper, voter, _ = people
    reply = answer(helper, ask(asker, qa))
    token = app.test_client().post("/api/v1/tokens", json={"email": voter.email, "password": PASSWORD}).get_json()
    start, url = threading.Barrier(2), f"/api/v1/posts/{reply.id}/vote"

    def click():
        start.wait()
        app.test_client().post(url, json={"value": 1},
                               headers={"Authorization": f"Bearer {token['token']}"})

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [d for r, d in ledger(helper) if r == "answer_upvoted"] == [10]
    assert points(helper) == 11


def test_deleting_a_post_with_many_upvotes_reverses_each(qa, people, moderator):
    """Does one deletion undo several entries of the same rule for the same member? (one per vote)"""
    asker, helper, first_voter, second_voter = people
    reply = answer(helper, ask(asker, qa))
    votes.cast(first_voter, reply.id, 1)
    votes.cast(second_voter, reply.id, 1)
    assert points(helper) == 1 + 10 + 10
    posts.delete_post(moderator, reply.id)
    assert points(helper) == 0
    assert ledger(helper)[-3:] == [("reply_created", -1), ("answer_upvoted", -10), ("answer_upvoted", -10)]
