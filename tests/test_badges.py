"""Badges: each earned once by the rule that listens for it, announced, listed, and shown through the API."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.auth.models import UserStatus
from portal.community import answers, ideas, votes
from portal.community.models import Post
from portal.events import Activity, Verb, record_activity
from portal.extensions import db
from portal.notifications.models import Notification
from portal.payloads import ReferralConverted, ReferralSignedUp, Visited
from portal.permissions import Role
from portal.referrals.models import Referral, ReferralSource, ReferralStatus
from portal.rewards.badges import BADGES, CATALOGUE, Tier, award_badge, badges_of
from portal.rewards.models import UserBadge
from portal.sqltypes import utcnow
from tests.community_factories import answer, ask, established, make_category
from tests.helpers import count_queries


def held(user):
    return [badge.key for badge in badges_of(user.id)]


def awards_recorded(user):
    """The badge keys of the BADGE_AWARDED activities with `user` as actor, in order."""
    return [a.payload["badge"] for a in db.session.scalars(
        sa.select(Activity).where(Activity.verb == str(Verb.BADGE_AWARDED), Activity.actor_id == user.id)
        .order_by(Activity.id))]


def first_post(topic):
    return db.session.scalar(sa.select(Post).where(Post.topic_id == topic.id, Post.number == 1))


@pytest.fixture
def qa(app):
    return make_category("Questions")


@pytest.fixture
def people(make_user):
    return [established(make_user, name=name) for name in ("Wang Fang", "Emma Schneider", "Li Wei", "Jonas Weber")]


@pytest.fixture
def voters(make_user):
    return [established(make_user) for _ in range(10)]


def test_there_are_badges_of_every_tier_each_with_a_name_and_description(app):
    """Are there at least 14 badges, in all three tiers, each named and described?"""
    assert len(CATALOGUE) >= 14
    assert {badge.tier for badge in CATALOGUE} == set(Tier)
    assert all(str(badge.name) and str(badge.description) for badge in CATALOGUE)


# -- each rule awards once -------------------------------------------------------------------

def test_first_post_and_first_question_are_awarded_once_with_an_activity_each(qa, people):
    """Does a first question earn First post and Curious once, however many more topics and replies follow?"""
    asker, helper, *_ = people
    topic = ask(asker, qa)
    second = ask(asker, qa, "And how do I share one?")
    answer(asker, topic, "Adding details")
    assert sorted(held(asker)) == ["first_post", "first_question"]
    assert sorted(awards_recorded(asker)) == ["first_post", "first_question"]
    answer(helper, second)  # not the asker's first topic: no Welcomer here
    answer(helper, second, "One more idea")
    assert held(helper) == ["first_post"] and awards_recorded(helper) == ["first_post"]


def test_a_first_idea_earns_visionary_and_a_discussion_does_not_count_as_a_question(qa, people):
    """Does an idea earn the idea badge, and a discussion neither the question nor the idea badge?"""
    author = people[0]
    ask(author, qa, "Talk about dashboards", kind="discussion")
    assert held(author) == ["first_post"]
    ask(author, qa, "Dark mode for dashboards", kind="idea")
    assert sorted(held(author)) == ["first_idea", "first_post"]


def test_supporter_comes_with_the_first_upvote_and_never_from_a_downvote(qa, people):
    """Does a downvote earn nothing, and the first upvote Supporter once?"""
    asker, helper, voter, _ = people
    topic = ask(asker, qa)
    first, second = answer(helper, topic), answer(helper, topic, "Or the API")
    votes.cast(voter, first.id, -1)
    assert held(voter) == []
    votes.cast(voter, first.id, 1)
    votes.cast(voter, second.id, 1)
    votes.retract(voter, first.id)
    votes.cast(voter, first.id, 1)
    assert held(voter) == ["supporter"] and awards_recorded(voter) == ["supporter"]


def test_answer_score_earns_good_then_great_answer_and_a_helpful_week(qa, people, voters):
    """Does an answer reach Good answer at score 5, Great answer and Helpful week at 10, each once, and keep them?"""
    asker, helper, *_ = people
    reply = answer(helper, ask(asker, qa))
    for voter in voters[:4]:
        votes.cast(voter, reply.id, 1)
    assert "good_answer" not in held(helper)
    votes.cast(voters[4], reply.id, 1)
    assert "good_answer" in held(helper)
    for voter in voters[5:9]:
        votes.cast(voter, reply.id, 1)
    assert "great_answer" not in held(helper) and "helpful_week" not in held(helper)
    votes.cast(voters[9], reply.id, 1)
    assert {"good_answer", "great_answer", "helpful_week"} <= set(held(helper))
    for voter in voters:  # taking the votes back keeps the badges, and voting again awards nothing new
        votes.retract(voter, reply.id)
    votes.cast(voters[0], reply.id, 1)
    assert {"good_answer", "great_answer", "helpful_week"} <= set(held(helper))
    # (Welcomer too: the answer was to the asker's first topic.)
    assert sorted(awards_recorded(helper)) == ["first_post", "good_answer", "great_answer", "helpful_week",
                                               "welcomer"]


def test_helpful_week_counts_only_this_weeks_upvotes(qa, people, voters):
    """Do upvotes older than 7 days leave Helpful week unearned?"""
    asker, helper, *_ = people
    topic = ask(asker, qa)
    replies = [answer(helper, topic, f"Answer number {n}") for n in range(2)]
    for voter in voters[:6]:
        votes.cast(voter, replies[0].id, 1, now=utcnow() - timedelta(days=8))
    for voter in voters[:4]:
        votes.cast(voter, replies[1].id, 1)
    assert "helpful_week" not in held(helper)


def test_popular_question_needs_a_question_scoring_10(qa, people, voters):
    """Does a question at score 10 earn Popular question, and a discussion at score 10 not?"""
    asker, talker, *_ = people
    question = first_post(ask(asker, qa))
    discussion = first_post(ask(talker, qa, "Show your dashboards", kind="discussion"))
    for voter in voters:
        votes.cast(voter, question.id, 1)
        votes.cast(voter, discussion.id, 1)
    assert "popular_question" in held(asker)
    assert "popular_question" not in held(talker) and "good_answer" not in held(talker)


def test_votes_between_linked_accounts_earn_no_badge(qa, people, voters, moderator):
    """Do a sockpuppet's votes leave the score badges unearned?"""
    from portal.moderation.links import link_accounts

    asker, helper, *_ = people
    reply = answer(helper, ask(asker, qa))
    link_accounts(moderator, helper.id, voters[4].id, "same person")
    for voter in voters[:5]:
        votes.cast(voter, reply.id, 1)
    assert "good_answer" not in held(helper)


def test_accepted_answers_earn_helper_scholar_and_problem_solver_once(qa, people, make_user):
    """Do accepted answers earn Helper (and Scholar for the asker) once, and Problem solver at ten?"""
    asker, helper, other, _ = people
    for n in range(10):
        topic = ask(asker, qa, f"Question number {n}")
        reply = answer(helper, topic)
        answers.accept(asker, topic.id, reply.id)
        if n == 0:
            assert held(helper)[0] == "first_accepted_answer" and held(asker)[0] == "scholar"
            rival = answer(other, topic, "Another way")
            answers.accept(asker, topic.id, rival.id)
            answers.accept(asker, topic.id, reply.id)
            answers.unaccept(asker, topic.id)
            answers.accept(asker, topic.id, reply.id)
        if n == 8:
            assert "ten_accepted_answers" not in held(helper)
    assert "ten_accepted_answers" in held(helper)
    assert sorted(awards_recorded(helper)) == ["first_accepted_answer", "first_post", "ten_accepted_answers",
                                               "welcomer"]
    assert awards_recorded(asker).count("scholar") == 1


def test_accepting_your_own_answer_earns_no_badge(qa, people):
    """Does answering your own question and accepting it earn neither Helper nor Scholar?"""
    asker = people[0]
    topic = ask(asker, qa)
    answers.accept(asker, topic.id, answer(asker, topic, "Found it: Share → Schedule").id)
    assert sorted(held(asker)) == ["first_post", "first_question"]


def test_welcomer_is_for_replying_to_a_members_first_topic(qa, people, moderator):
    """Does replying to a member's first topic earn Welcomer, and a later topic, your own or staff's not?"""
    newcomer, regular, other, _ = people
    first_topic = ask(newcomer, qa, "Hello, my first question")
    second_topic = ask(newcomer, qa, "My second question")
    announcement = ask(moderator, qa, "Welcome to the community", kind="discussion")
    answer(newcomer, first_topic, "Some details")
    answer(other, second_topic)
    answer(other, announcement, "Thanks!")
    assert "welcomer" not in held(newcomer) and "welcomer" not in held(other)
    answer(regular, first_topic, "Welcome! Try Share → Schedule.")
    answer(regular, first_topic, "And welcome again")
    assert awards_recorded(regular) == ["first_post", "welcomer"]


def test_idea_taken_up_is_awarded_to_the_ideas_author_once(qa, people, moderator):
    """Does an idea earn its author Idea taken up when planned, once, and not when merely under review?"""
    author = people[0]
    idea = ask(author, qa, "Dark mode", kind="idea")
    ideas.set_idea_status(moderator, idea.id, "under_review")
    assert "idea_planned" not in held(author)
    ideas.set_idea_status(moderator, idea.id, "planned", "On the roadmap for spring")
    ideas.set_idea_status(moderator, idea.id, "done")
    assert held(author)[0] == "idea_planned" and awards_recorded(author).count("idea_planned") == 1
    assert "idea_planned" not in held(moderator)


def _referral(referrer, invitee):
    referral = Referral(referrer_id=referrer.id, code=referrer.referral_code, source=ReferralSource.LINK,
                        invitee_id=invitee.id, status=ReferralStatus.SIGNED_UP, signed_up_at=utcnow())
    db.session.add(referral)
    db.session.flush()
    return referral


def test_referral_badges_go_to_the_referrer_once(app, people, moderator):
    """Does a friend joining earn the referrer Connector, and a friend becoming a customer Rainmaker, once each?"""
    referrer, friend, second_friend, _ = people
    for invitee in (friend, second_friend):
        referral = _referral(referrer, invitee)
        pair = {"referrer_id": referrer.id, "invitee_id": invitee.id}
        record_activity(Verb.REFERRAL_SIGNED_UP, actor=invitee, obj=referral,
                        payload=ReferralSignedUp(**pair, source="link"))
        record_activity(Verb.REFERRAL_CONVERTED, actor=moderator, obj=referral, payload=ReferralConverted(**pair))
        db.session.commit()
    assert sorted(held(referrer)) == ["first_referral", "referral_customer"]
    assert sorted(awards_recorded(referrer)) == ["first_referral", "referral_customer"]
    assert held(friend) == [] and held(moderator) == []


def test_visit_streaks_earn_their_badges_once(app, member):
    """Does a 7-day streak earn Habit, 30 days Enthusiast, and longer streaks nothing twice?"""
    def visit(streak):
        record_activity(Verb.VISITED, actor=member, obj=member, payload=Visited(streak=streak, day="2026-12-01"))
        db.session.commit()

    visit(6)
    assert held(member) == []
    visit(7)
    assert held(member) == ["streak_7"]
    visit(31)
    visit(32)
    assert sorted(held(member)) == ["streak_30", "streak_7"]
    assert sorted(awards_recorded(member)) == ["streak_30", "streak_7"]


def test_a_badge_is_held_once_even_when_awarded_twice(app, member):
    """Does awarding a badge a second time change nothing?"""
    assert award_badge(member.id, "streak_100") is True
    assert award_badge(member.id, "streak_100") is False
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserBadge)) == 1
    assert awards_recorded(member) == ["streak_100"]


# -- notification ----------------------------------------------------------------------------

def test_a_new_badge_notifies_its_holder_with_a_link_to_the_badge(app, qa, people):
    """Is the member told, once, which badge they earned, with a link to its page?"""
    asker = people[0]
    ask(asker, qa)
    ask(asker, qa, "Another question")
    notes = db.session.scalars(sa.select(Notification).where(Notification.user_id == asker.id,
                                                              Notification.kind == "badge")).all()
    assert sorted(n.data["badge"] for n in notes) == ["first_post", "first_question"]
    page = app.test_client(user=asker).get("/notifications").get_data(as_text=True)
    assert "You earned the badge “First post”" in page and "You earned the badge “Curious”" in page
    note = next(n for n in notes if n.data["badge"] == "first_post")
    response = app.test_client(user=asker).get(f"/notifications/{note.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/badges/first_post")


def test_suspended_members_keep_earning_quietly(app, member):
    """Does a suspended member get the badge but no notification?"""
    member.status = UserStatus.SUSPENDED
    db.session.commit()
    award_badge(member.id, "streak_7")
    db.session.commit()
    assert held(member) == ["streak_7"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


# -- pages -----------------------------------------------------------------------------------

def _holders(make_user, key, n, role=Role.MEMBER):
    users = [established(make_user, role) for _ in range(n)]
    for user in users:
        award_badge(user.id, key)
    db.session.commit()
    return users


def test_badges_page_lists_every_badge_by_tier_with_holder_counts(app, client, make_user, member):
    """Does /badges show every badge grouped gold, silver, bronze, with how many hold each and which I have?"""
    _holders(make_user, "first_post", 3)
    award_badge(member.id, "great_answer")
    db.session.commit()
    page = client.get("/badges").get_data(as_text=True)
    for badge in CATALOGUE:
        assert str(badge.name) in page and str(badge.description) in page
    assert page.index("Gold") < page.index("Silver") < page.index("Bronze")
    assert "3 members hold it" in page and "1 member holds it" in page
    assert "You have it" not in page
    mine = app.test_client(user=member).get("/badges").get_data(as_text=True)
    assert mine.count("You have it") == 1


def test_badge_page_lists_holders_newest_first_and_pages_them(app, client, make_user):
    """Does a badge's page list its holders newest first, leave deleted accounts out, and page the rest?"""
    first, second, gone = _holders(make_user, "welcomer", 3)
    db.session.execute(sa.update(UserBadge).where(UserBadge.user_id == first.id)
                       .values(awarded_at=utcnow() - timedelta(days=3)))
    gone.status = UserStatus.DELETED
    db.session.commit()
    page = client.get("/badges/welcomer").get_data(as_text=True)
    assert "Welcomer" in page and "Held by 2 members" in page
    assert page.index(second.name) < page.index(first.name) and gone.name not in page
    assert f'href="/members/{second.id}"' in page
    _holders(make_user, "welcomer", 30)
    assert "Page 1 of 2" in client.get("/badges/welcomer").get_data(as_text=True)
    assert first.name in client.get("/badges/welcomer?page=2").get_data(as_text=True)


def test_unknown_badge_is_not_found(client):
    """Does an unknown badge key answer 404?"""
    assert client.get("/badges/no_such_badge").status_code == 404
    assert client.get("/badges/" + "x" * 300).status_code == 404


def _queries(client, url):
    client.get(url)  # a member's first page of the day records the visit: measure the next one
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize("url", ["/badges", "/badges/first_post"])
def test_badge_pages_cost_the_same_queries_for_few_or_many_holders(app, make_user, member, url):
    """Do the badge pages load in a fixed number of queries, for visitors and members, 1 holder or 40?"""
    _holders(make_user, "first_post", 1)
    award_badge(member.id, "first_post")
    db.session.commit()
    few = [_queries(app.test_client(), url), _queries(app.test_client(user=member), url)]
    _holders(make_user, "first_post", 40)
    for key in ("supporter", "great_answer", "streak_7"):
        _holders(make_user, key, 3)
    many = [_queries(app.test_client(), url), _queries(app.test_client(user=member), url)]
    assert few == many


# -- API -------------------------------------------------------------------------------------

def test_me_shows_my_badges_newest_first(app, client, member, bearer):
    """Does GET /api/v1/me list the caller's badges, newest first, with name, tier and date?"""
    headers = bearer(member)
    assert client.get("/api/v1/me", headers=headers).get_json()["badges"] == []
    award_badge(member.id, "streak_7")
    db.session.execute(sa.update(UserBadge).values(awarded_at=utcnow() - timedelta(days=1)))
    award_badge(member.id, "referral_customer")
    db.session.commit()
    badges = client.get("/api/v1/me", headers=headers).get_json()["badges"]
    assert [(b["key"], b["name"], b["tier"]) for b in badges] == [
        ("referral_customer", "Rainmaker", "gold"), ("streak_7", "Habit", "bronze")]
    assert all(b["awarded_at"] for b in badges)


def test_api_lists_every_badge_with_holder_counts(app, client, make_user, member, bearer):
    """Does GET /api/v1/badges list every badge, gold first, with holders and whether I hold it?"""
    _holders(make_user, "supporter", 2)
    award_badge(member.id, "supporter")
    db.session.commit()
    public = client.get("/api/v1/badges").get_json()
    assert public["total"] == len(CATALOGUE) == len(public["items"])
    assert public["items"][0]["tier"] == "gold" and public["items"][-1]["tier"] == "bronze"
    by_key = {item["key"]: item for item in public["items"]}
    assert by_key["supporter"]["holders"] == 3 and by_key["supporter"]["held"] is False
    assert by_key["supporter"]["name"] == str(BADGES["supporter"].name)
    mine = client.get("/api/v1/badges", headers=bearer(member)).get_json()
    assert {item["key"] for item in mine["items"] if item["held"]} == {"supporter"}
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/badges" in spec["paths"] and "badges" in spec["components"]["schemas"]["MeOut"]["properties"]
