"""Editable point rules and levels, privileges by level, level-ups, daily visits, linked accounts."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.audit import AuditEntry
from portal.auth.models import User
from portal.community import flags, topics, votes
from portal.community.models import Post, Topic, Vote
from portal.errors import Conflict, Forbidden, Invalid
from portal.events import Activity, Verb
from portal.extensions import db
from portal.moderation import links
from portal.notifications.models import Notification
from portal.permissions import Role
from portal.rewards.models import PointsEntry
from portal.rewards.rule_settings import reward_settings, update_reward_settings
from portal.rewards.visits import record_daily_visit
from tests.community_factories import answer, ask, established, make_category, with_points


@pytest.fixture
def qa(app):
    return make_category("Questions")


def points(user):
    return db.session.scalar(sa.select(User.points).where(User.id == user.id))


def first_post(topic):
    return db.session.scalar(sa.select(Post).where(Post.topic_id == topic.id, Post.number == 1))


def form_of(settings):
    data = {f"rule_{rule}": value for rule, value in settings["rules"].items()}
    data["daily_vote_cap"] = settings["daily_vote_cap"]
    data.update({f"threshold_{n}": value for n, value in enumerate(settings["thresholds"], 1)})
    data.update({f"privilege_{p}": value for p, value in settings["privileges"].items()})
    return data


# -- the settings page --------------------------------------------------------------------------------------

def test_admin_changes_point_rules_and_they_apply_to_the_next_action(app, admin, qa, make_user):
    """Does a saved rule change what the next topic earns, and leave an audit entry?"""
    client = app.test_client(user=admin)
    page = client.get("/admin/settings/points")
    assert page.status_code == 200 and "Started a topic" in page.get_data(as_text=True)
    data = form_of(reward_settings()) | {"rule_topic_created": "7"}
    response = client.post("/admin/settings/points", data=data)
    assert response.status_code == 302
    author = established(make_user)
    ask(author, qa)
    assert points(author) == 7
    assert db.session.scalar(sa.select(AuditEntry.action).where(AuditEntry.actor_id == admin.id)) \
        == "settings.rewards_changed"


@pytest.mark.parametrize("field, value, message", [
    ("rule_reply_created", "-3", "can't be negative"),
    ("rule_downvote_received", "4", "A penalty is 0 or less"),
    ("rule_answer_accepted", "fifteen", "Enter a whole number"),
    ("daily_vote_cap", "-1", "Enter a number from 0"),
    ("threshold_1", "10", "starts at 0"),
    ("threshold_3", "40", "more points than the one before"),
    ("privilege_flag", "9", "Enter a number from 1 to 5"),
])
def test_bad_settings_are_refused_with_the_field_named(app, admin, field, value, message):
    """Is a negative reward, positive penalty, non-number or falling threshold a 422 that saves nothing?"""
    before = reward_settings()
    response = app.test_client(user=admin).post("/admin/settings/points", data=form_of(before) | {field: value})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and message in page.replace("&#39;", "'")
    assert f'id="{field}-err"' in page or field.startswith("privilege")
    assert reward_settings() == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


def test_only_admins_open_the_settings(app, moderator, member):
    """Can a moderator or member read or change the point rules? (403)"""
    for user in (moderator, member):
        client = app.test_client(user=user)
        assert client.get("/admin/settings/points").status_code == 403
        assert client.post("/admin/settings/points", data={"rule_topic_created": "99"}).status_code == 403
    with pytest.raises(Forbidden):
        update_reward_settings(moderator, rules={}, daily_vote_cap=1, thresholds=[0, 1, 2, 3, 4], privileges={})


def test_thresholds_decide_levels(admin, make_user):
    """Do new thresholds move members between levels at once?"""
    member = with_points(established(make_user), 60)
    assert member.level.key == "member"
    settings = reward_settings()
    update_reward_settings(admin, rules=settings["rules"], daily_vote_cap=200, thresholds=[0, 10, 30, 100, 500],
                           privileges=settings["privileges"])
    assert db.session.get(User, member.id).level.key == "regular"


# -- level-ups ------------------------------------------------------------------------------------------

def test_a_level_up_notifies_once(qa, make_user):
    """Is a member told once on passing a threshold, and not again after dropping below and climbing back?"""
    asker, helper = established(make_user), with_points(established(make_user), 45)
    reply = answer(helper, ask(asker, qa))
    voter = established(make_user)
    votes.cast(voter, reply.id, 1)  # 45 + 1 + 10: Member
    assert db.session.get(User, helper.id).level.key == "member"
    notices = db.session.scalars(sa.select(Notification).where(Notification.user_id == helper.id,
                                                               Notification.kind == "level_up")).all()
    assert [n.data["level"] for n in notices] == [2] and "Member" in notices[0].text
    votes.retract(voter, reply.id)
    votes.cast(voter, reply.id, 1)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)
                             .where(Notification.kind == "level_up")) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Activity)
                             .where(Activity.verb == Verb.LEVEL_REACHED)) == 1


# -- daily visits ---------------------------------------------------------------------------------------

def test_the_first_page_of_a_day_earns_one_point_once(app, make_user):
    """Does a member's first page of the day earn the visit point, and the second page nothing?"""
    member = established(make_user)
    client = app.test_client(user=member)
    client.get("/")
    client.get("/latest")
    assert points(member) == 1
    assert db.session.scalar(sa.select(PointsEntry.rule).where(PointsEntry.user_id == member.id)) == "daily_visit"


def test_api_calls_are_not_visits(client, member, bearer):
    """Does an integration's API traffic earn visit points? (no)"""
    headers = bearer(member)
    client.get("/api/v1/me", headers=headers)
    assert points(member) == 0


def test_visits_build_a_streak_and_a_gap_restarts_it(make_user):
    """Do consecutive days grow the streak, a missed day restart it, and a repeat count nothing?"""
    member = established(make_user)
    start = date(2026, 11, 1)
    streaks = []
    for offset in (0, 1, 2, 4):
        streaks.append(record_daily_visit(member, start + timedelta(days=offset)).payload["streak"])
    assert streaks == [1, 2, 3, 1]
    assert record_daily_visit(member, start + timedelta(days=4)) is None
    assert points(member) == 4


# -- privileges by level --------------------------------------------------------------------------------

def test_links_need_the_member_level(qa, make_user):
    """Does a Newcomer's link render as text, and a Member's as a link?"""
    body = "See [the docs](https://docs.example.com)"
    newcomer, member = established(make_user), with_points(established(make_user), 50)
    assert "<a " not in first_post(ask(newcomer, qa, body=body)).html
    assert '<a href="https://docs.example.com"' in first_post(ask(member, qa, body=body)).html


def test_flagging_needs_the_member_level(qa, make_user):
    """Is a Newcomer's flag refused with the level that unlocks it?"""
    author, newcomer = established(make_user), established(make_user)
    post = first_post(ask(author, qa))
    with pytest.raises(Forbidden) as refused:
        flags.flag_post(newcomer, post.id, "spam")
    assert refused.value.code == "level_too_low" and "Member" in str(refused.value.message)
    assert flags.flag_post(with_points(newcomer, 50), post.id, "spam").id


def test_new_tags_need_the_regular_level(qa, make_user):
    """May a Member invent a tag? (no) May a Regular? (yes)"""
    with pytest.raises(Invalid) as refused:
        ask(with_points(established(make_user), 60), qa, tags=["brand-new"])
    assert "Regular" in str(refused.value.fields["tags"])
    db.session.rollback()
    topic = ask(with_points(established(make_user), 250), qa, tags=["brand-new"])
    assert [t.name for t in topic.tags] == ["brand-new"]


def test_experts_retitle_and_retag_others_topics(qa, make_user, moderator):
    """May a Regular retitle someone's topic? (403) An Expert? (yes, with the old title in history)"""
    topics.create_topic(moderator, category_id=qa.id, kind="question", title="Existing tags first",
                        body="Seed tags", tags=["export", "pdf"])
    author = established(make_user)
    topic = ask(author, qa, title="exprot pdf??", tags=["export"])
    with pytest.raises(Forbidden):
        topics.edit_title_and_tags(with_points(established(make_user), 300), topic.id, title="How do I export a PDF?")
    db.session.rollback()
    expert = with_points(established(make_user), 1000)
    topics.edit_title_and_tags(expert, topic.id, title="How do I export a PDF?", tags=["export", "pdf"])
    topic = db.session.get(Topic, topic.id)
    assert topic.title == "How do I export a PDF?" and [t.name for t in topic.tags] == ["export", "pdf"]
    assert first_post(topic).revision_count == 1
    assert topics.edit_title_and_tags(author, topic.id, title="How can I export a PDF?").title \
        == "How can I export a PDF?"


def test_experts_close_duplicates_through_the_api(client, bearer, qa, make_user):
    """Can an Expert close a topic as a duplicate over the API, while a Regular gets 403?"""
    original, copy = ask(established(make_user), qa), ask(established(make_user), qa, title="Export a dashboard?")
    regular, expert = with_points(established(make_user), 300), with_points(established(make_user), 1200)
    url = f"/api/v1/topics/{copy.id}"
    refused = client.patch(url, json={"duplicate_of_id": original.id}, headers=bearer(regular))
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "level_too_low"
    assert client.patch(url, json={"pinned": True}, headers=bearer(expert)).status_code == 403
    closed = client.patch(url, json={"duplicate_of_id": original.id, "title": "Export a dashboard as PDF?"},
                          headers=bearer(expert))
    assert closed.status_code == 200
    stored = db.session.get(Topic, copy.id)
    assert stored.duplicate_of_id == original.id and stored.title == "Export a dashboard as PDF?"


def test_the_topic_page_offers_tools_by_level(app, qa, make_user):
    """Does an Expert see the title, tags and duplicate tools, and a Newcomer none of them?"""
    topic = ask(established(make_user), qa)
    newcomer_page = app.test_client(user=established(make_user)).get(f"/t/{topic.id}").get_data(as_text=True)
    assert "Topic tools" not in newcomer_page
    expert_page = app.test_client(user=with_points(established(make_user), 1000)).get(f"/t/{topic.id}")
    html = expert_page.get_data(as_text=True)
    assert "Topic tools" in html and f"/t/{topic.id}/details" in html and f"/t/{topic.id}/close-duplicate" in html
    assert "Pin to the top" not in html


# -- linked accounts ------------------------------------------------------------------------------------

def test_votes_between_linked_accounts_earn_nothing(qa, make_user, moderator):
    """After staff link two accounts, do their votes for each other earn or cost points? (no)"""
    real, puppet = established(make_user), established(make_user)
    reply = answer(real, ask(established(make_user), qa))
    links.link_accounts(moderator, real.id, puppet.id, "same device, same payment card")
    votes.cast(puppet, reply.id, 1)
    assert points(real) == 1 and db.session.get(Post, reply.id).score == 1
    with pytest.raises(Conflict):
        links.link_accounts(moderator, puppet.id, real.id)
    db.session.rollback()


def test_a_moderator_reverses_every_vote_between_two_accounts(qa, make_user, moderator):
    """Does one action remove both accounts' votes on each other, fix scores and take back the points?"""
    real, puppet, bystander = established(make_user), established(make_user), established(make_user)
    topic = ask(real, qa)
    puppet_topic = ask(puppet, qa, title="The puppet asks something")
    reply = answer(real, puppet_topic)
    votes.cast(puppet, first_post(topic).id, 1)
    votes.cast(puppet, reply.id, 1)
    votes.cast(real, first_post(puppet_topic).id, 1)
    votes.cast(bystander, reply.id, 1)
    assert points(real) == 2 + 1 + 5 + 10 + 10
    reversed_count = votes.reverse_votes_between(moderator, real.id, puppet.id)
    assert reversed_count == 3
    assert points(real) == 2 + 1 + 10 and points(puppet) == 2
    assert db.session.get(Post, reply.id).score == 1 and db.session.get(Topic, topic.id).score == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 1
    assert votes.reverse_votes_between(moderator, real.id, puppet.id) == 0


def test_members_cannot_reverse_votes(member, make_user):
    with pytest.raises(Forbidden):
        votes.reverse_votes_between(member, established(make_user).id, established(make_user).id)


def test_the_linked_accounts_page(app, qa, make_user, moderator, member):
    """Can a moderator link accounts by email and @username, see their votes, reverse them and unlink?"""
    real, puppet = established(make_user), established(make_user)
    reply = answer(real, ask(established(make_user), qa))
    votes.cast(puppet, reply.id, 1)
    assert app.test_client(user=member).get("/moderation/linked-accounts").status_code == 403
    client = app.test_client(user=moderator)
    unknown = client.post("/moderation/linked-accounts", data={"first": real.email, "second": "nobody@x.example"})
    assert unknown.status_code == 422 and "No account has that email or username." in unknown.get_data(as_text=True)
    itself = client.post("/moderation/linked-accounts", data={"first": real.email, "second": f"@{real.username}"})
    assert itself.status_code == 422 and "Choose two different accounts." in itself.get_data(as_text=True)
    assert client.post("/moderation/linked-accounts/999999/reverse-votes").status_code == 404
    linked = client.post("/moderation/linked-accounts",
                         data={"first": real.email, "second": f"@{puppet.username}", "reason": "same IP"},
                         follow_redirects=True)
    page = linked.get_data(as_text=True)
    assert "same IP" in page and "Reverse their votes" in page
    link = db.session.scalar(sa.select(links.AccountLink))
    done = client.post(f"/moderation/linked-accounts/{link.id}/reverse-votes", follow_redirects=True)
    assert "1 vote between them was reversed" in done.get_data(as_text=True)
    assert points(real) == 1
    client.post(f"/moderation/linked-accounts/{link.id}/unlink")
    assert not links.are_linked(real.id, puppet.id)


@pytest.mark.parametrize("role, may", [(Role.SALES, False), (Role.SALES_MANAGER, False),
                                       (Role.MODERATOR, True), (Role.ADMIN, True)])
def test_only_roles_that_moderate_hold_the_level_privileges_by_role(client, bearer, qa, make_user, role, may):
    """Can a sales rep retitle, retag or close a member's topic? (never: sales don't moderate)"""
    topics.create_topic(make_user(Role.MODERATOR), category_id=qa.id, kind="question", title="Existing tags first",
                        body="Seed tags", tags=["export", "pdf"])
    original = ask(established(make_user), qa)
    topic = ask(established(make_user), qa, title="Export a dashboard?", tags=["export"])
    staff = make_user(role)
    page = client.application.test_client(user=staff).get(f"/t/{topic.id}").get_data(as_text=True)
    assert (f"/t/{topic.id}/details" in page) is may
    url, headers = f"/api/v1/topics/{topic.id}", bearer(staff)
    for change in ({"title": "Retitled by staff"}, {"tags": ["pdf"]}, {"duplicate_of_id": original.id}):
        assert client.patch(url, json=change, headers=headers).status_code == (200 if may else 403), change
    stored = db.session.get(Topic, topic.id)
    assert (stored.title == "Export a dashboard?") is not may


def test_community_code_asks_permissions_only():
    """One permission question: nothing in portal/community imports from portal/rewards."""
    import pathlib

    community = pathlib.Path(__file__).resolve().parent.parent / "portal" / "community"
    offenders = [path.name for path in community.glob("*.py")
                 if "from ..rewards" in path.read_text() or "portal.rewards" in path.read_text()]
    assert offenders == []


@pytest.mark.parametrize("role, points, may_flag, may_retitle", [
    (Role.MEMBER, 0, False, False), (Role.MEMBER, 60, True, False), (Role.MEMBER, 1000, True, True),
    (Role.SALES, 0, False, False), (Role.SALES, 1000, True, True),  # sales earn them as members do
    (Role.MODERATOR, 0, True, True), (Role.ADMIN, 0, True, True),   # roles that moderate hold them all
])
def test_can_answers_role_and_level_together(make_user, role, points, may_flag, may_retitle):
    from portal.permissions import Permission, can

    user = with_points(established(make_user, role), points) if points else established(make_user, role)
    assert can(user, Permission.FLAG) is may_flag
    assert can(user, Permission.EDIT_OTHERS_TOPICS) is may_retitle
    assert can(user, Permission.MODERATE) is (role in (Role.MODERATOR, Role.ADMIN))


def test_the_ledger_keeps_the_level_on_the_user_and_thresholds_move_everyone(app, admin, qa, make_user):
    author = established(make_user)
    topic = ask(author, qa)
    assert db.session.get(User, author.id).level_number == 1
    settings = reward_settings()
    settings["thresholds"] = [0, 2, 200, 1000, 5000]  # the 2 points of one topic now reach Member
    update_reward_settings(admin, rules=settings["rules"], daily_vote_cap=settings["daily_vote_cap"],
                           thresholds=settings["thresholds"], privileges=settings["privileges"])
    assert db.session.get(User, author.id).level_number == 2
    posts_points = points(author)
    answer(author, topic)  # +1 through the ledger
    assert points(author) == posts_points + 1 and db.session.get(User, author.id).level_number == 2
