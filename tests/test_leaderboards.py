"""Leaderboards: this week, this month, all time and per category, in the browser and over the API."""
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from portal.auth.models import UserStatus
from portal.community import posts, topics, votes
from portal.community.models import Post
from portal.errors import Invalid, NotFound
from portal.extensions import db
from portal.permissions import Role
from portal.rewards.leaderboards import leaderboard, period_start
from portal.rewards.ledger import award
from portal.rewards.models import PointsEntry
from tests.community_factories import answer, ask, established, make_category, staff_only_category
from tests.helpers import count_queries

# A Wednesday: the week began on Monday 16 March, the month on 1 March.
NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)
THIS_WEEK = datetime(2026, 3, 17, 9, 0, tzinfo=UTC)
THIS_MONTH = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
LAST_MONTH = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)



def give(user, points, when=None):
    """Points from outside any content (an opening balance), optionally dated in the past."""
    award(user.id, "opening_balance", None, delta=points)
    db.session.commit()
    if when is not None:
        backdate(sa.select(sa.func.max(PointsEntry.id)).where(PointsEntry.user_id == user.id).scalar_subquery(),
                 when)


def backdate(entry_ids, when):
    """Move ledger entries (ids, or a select of ids) to `when`."""
    where = PointsEntry.id.in_(entry_ids) if isinstance(entry_ids, list) else PointsEntry.id == entry_ids
    db.session.execute(sa.update(PointsEntry).where(where).values(created_at=when))
    db.session.commit()


def names(board):
    return [(s.user.name, s.points) for s in board.items]


@pytest.fixture
def trio(make_user):
    return [established(make_user, name=name) for name in ("Wang Fang", "Emma Schneider", "Li Wei")]


# -- windows ---------------------------------------------------------------------------------

def test_when_do_the_week_and_the_month_begin():
    """Does the week start on Monday 00:00 UTC and the month on the 1st, whatever the hour?"""
    assert period_start("week", NOW) == datetime(2026, 3, 16, tzinfo=UTC)
    assert period_start("week", datetime(2026, 3, 22, 23, 59, tzinfo=UTC)) == datetime(2026, 3, 16, tzinfo=UTC)
    assert period_start("week", datetime(2026, 3, 16, 0, 0, tzinfo=UTC)) == datetime(2026, 3, 16, tzinfo=UTC)
    assert period_start("week", datetime(2026, 1, 1, 8, tzinfo=UTC)) == datetime(2025, 12, 29, tzinfo=UTC)
    assert period_start("month", datetime(2026, 1, 31, 23, tzinfo=UTC)) == datetime(2026, 1, 1, tzinfo=UTC)
    assert period_start("all", NOW) is None


def test_week_month_and_all_time_count_only_their_window(trio):
    """Does each board sum only the points earned inside its window?"""
    wang, emma, li = trio
    give(wang, 30, LAST_MONTH)
    give(wang, 5, THIS_WEEK)
    give(emma, 20, THIS_MONTH)
    give(li, 8, THIS_WEEK)
    give(li, 4, THIS_MONTH)
    assert names(leaderboard("week", now=NOW)) == [("Li Wei", 8), ("Wang Fang", 5)]
    assert names(leaderboard("month", now=NOW)) == [("Emma Schneider", 20), ("Li Wei", 12), ("Wang Fang", 5)]
    assert names(leaderboard("all", now=NOW)) == [("Wang Fang", 35), ("Emma Schneider", 20), ("Li Wei", 12)]
    assert [s.rank for s in leaderboard("all").items] == [1, 2, 3]


def test_points_taken_back_in_the_window_lower_the_total(trio):
    """Does a reversal this week take back from this week's board what it undoes?"""
    wang, emma, _ = trio
    qa = make_category("Questions")
    topic = ask(emma, qa)
    reply = answer(wang, topic)
    votes.cast(emma, reply.id, 1)
    votes.retract(emma, reply.id)
    assert names(leaderboard("week")) == [("Emma Schneider", 2), ("Wang Fang", 1)]


def test_ties_are_broken_the_same_way_every_time(trio):
    """Do members with equal points keep a stable order and distinct ranks?"""
    wang, emma, li = trio
    for member in (li, emma, wang):
        give(member, 10)
    first = [(s.rank, s.user.id) for s in leaderboard("week").items]
    assert first == [(1, wang.id), (2, emma.id), (3, li.id)]
    assert [(s.rank, s.user.id) for s in leaderboard("week").items] == first


def test_staff_and_suspended_members_are_not_ranked(trio, make_user):
    """Are moderators, admins and suspended members left off every board?"""
    wang, emma, _ = trio
    moderator, admin = make_user(Role.MODERATOR), make_user(Role.ADMIN)
    qa = make_category("Questions")
    ask(moderator, qa)
    give(admin, 500)
    give(wang, 3)
    give(emma, 7)
    emma.status = UserStatus.SUSPENDED
    db.session.commit()
    for period in ("week", "month", "all"):
        assert names(leaderboard(period)) == [("Wang Fang", 3)]
    assert names(leaderboard("all", "questions")) == []


def test_members_without_points_in_the_window_are_not_listed(trio):
    """Does a board list only members who earned points in its window?"""
    wang, *_ = trio
    give(wang, 5, LAST_MONTH)
    board = leaderboard("week", now=NOW)
    assert board.items == [] and board.total == 0


def test_paging_keeps_ranks_and_finds_the_viewer_off_the_page(make_user):
    """Does page two continue the ranks, and is the viewer's own rank known when it is not on the page?"""
    members = [established(make_user, name=f"Member {n:02d}") for n in range(7)]
    for n, member in enumerate(members):
        give(member, 100 - n)
    page_two = leaderboard("all", page=2, per_page=3, viewer=members[6])
    assert [(s.rank, s.user.name) for s in page_two.items] == [(4, "Member 03"), (5, "Member 04"),
                                                              (6, "Member 05")]
    assert (page_two.total, page_two.pages, page_two.mine.rank, page_two.mine.points) == (7, 3, 7, 94)
    beyond = leaderboard("all", page=9, per_page=3)
    assert (beyond.items, beyond.total) == ([], 7)


def test_a_bad_period_is_refused():
    """Is a period other than week, month or all refused with a clear error?"""
    with pytest.raises(Invalid) as refused:
        leaderboard("year")
    assert refused.value.fields == {"period": "Choose week, month or all."}


# -- categories ------------------------------------------------------------------------------

@pytest.fixture
def two_categories(app):
    return make_category("Questions"), make_category("Ideas")


def test_points_count_in_the_category_of_the_content(trio, two_categories):
    """Does a reply in category A count in A and not in B, and daily visits only overall?"""
    wang, emma, li = trio
    qa, ideas = two_categories
    question = ask(emma, qa)                                  # Emma +2 in Questions
    answer(wang, question)                                    # Wang +1 in Questions
    idea = ask(li, ideas, title="Dark mode please", kind="idea")  # Li +2 in Ideas
    reply = answer(wang, idea, "Yes please")                  # Wang +1 in Ideas
    votes.cast(li, reply.id, 1)                               # Wang +10 in Ideas (an upvoted answer)
    give(emma, 50)                                            # not about content: overall only
    assert names(leaderboard("week", "questions")) == [("Emma Schneider", 2), ("Wang Fang", 1)]
    assert names(leaderboard("week", "ideas")) == [("Wang Fang", 11), ("Li Wei", 2)]
    assert names(leaderboard("week")) == [("Emma Schneider", 52), ("Wang Fang", 12), ("Li Wei", 2)]
    assert names(leaderboard("all", "ideas")) == names(leaderboard("week", "ideas"))


def test_a_moved_topic_takes_its_points_along(trio, two_categories, moderator):
    """When a topic moves, do its points (and their reversals) count in the new category?"""
    wang, emma, _ = trio
    qa, ideas = two_categories
    topic = ask(emma, qa)
    reply = answer(wang, topic)
    topics.change_topic(moderator, topic.id, category_id=ideas.id)
    assert names(leaderboard("week", "questions")) == []
    assert names(leaderboard("week", "ideas")) == [("Emma Schneider", 2), ("Wang Fang", 1)]
    posts.delete_post(moderator, reply.id)
    assert names(leaderboard("week", "ideas")) == [("Emma Schneider", 2)]


def test_category_boards_use_their_window_too(trio, two_categories):
    """Does a category board also keep to its period?"""
    wang, emma, _ = trio
    qa, _ = two_categories
    topic = ask(emma, qa, now=LAST_MONTH)
    answer(wang, topic, now=LAST_MONTH)
    answer(wang, topic, "One more idea", now=THIS_WEEK)
    assert names(leaderboard("week", "questions", now=NOW)) == [("Wang Fang", 1)]
    assert names(leaderboard("all", "questions", now=NOW)) == [("Wang Fang", 2), ("Emma Schneider", 2)]


def test_a_category_you_cannot_read_does_not_exist(app, member, moderator):
    """Is a staff-only category's board a 404 for members and visitors, and readable by staff?"""
    staff_room = staff_only_category()
    with pytest.raises(NotFound):
        leaderboard("week", staff_room.slug, viewer=member)
    with pytest.raises(NotFound):
        leaderboard("week", "no-such-category", viewer=moderator)
    assert leaderboard("week", staff_room.slug, viewer=moderator).category.id == staff_room.id
    assert leaderboard("week", str(staff_room.id), viewer=moderator).category.id == staff_room.id


# -- the page --------------------------------------------------------------------------------

def test_the_page_shows_ranks_levels_and_points(client, trio, two_categories):
    """Does /leaderboard list the members with rank, level and points, with tabs and a category picker?"""
    wang, emma, _ = trio
    give(wang, 240)
    give(emma, 60)
    page = client.get("/leaderboard?period=all")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.index("Wang Fang") < html.index("Emma Schneider")
    assert ">Regular<" in html and ">Member<" in html and ">240<" in html
    for tab in ("This week", "This month", "All time"):
        assert tab in html
    assert 'value="questions"' in html and 'value="ideas"' in html
    assert 'href="/leaderboard"' in client.get("/").get_data(as_text=True)


def test_the_page_highlights_the_signed_in_member(client, auth, trio):
    """Does a signed-in member see their own rank, and is their row marked?"""
    wang, emma, li = trio
    give(wang, 90)
    give(emma, 40)
    make_category("Questions")
    auth.login(emma.email)
    html = client.get("/leaderboard?period=all").get_data(as_text=True)
    assert "You are number 2 with 41 points." in html  # 40, and 1 for today's visit
    assert html.count('class="board__me"') == 1
    auth.logout()
    auth.login(li.email)
    html = client.get("/leaderboard?period=all&category=questions").get_data(as_text=True)
    assert "Earn points in this period to appear on the board." in html
    assert 'class="board__me"' not in html


def test_the_page_refuses_a_bad_period_and_hides_unreadable_categories(client, auth, member, moderator):
    """Does a bad period answer 422 with a clear message, and an unreadable category 404?"""
    staff_only_category()
    refused = client.get("/leaderboard?period=forever")
    assert refused.status_code == 422
    assert "Choose this week, this month or all time" in refused.get_data(as_text=True)
    assert client.get("/leaderboard?category=staff-room").status_code == 404
    assert 'value="staff-room"' not in client.get("/leaderboard").get_data(as_text=True)
    auth.login(member.email)
    assert client.get("/leaderboard?category=staff-room").status_code == 404
    auth.logout()
    auth.login(moderator.email)
    assert client.get("/leaderboard?category=staff-room").status_code == 200


def _many_members(make_user, count):
    qa = make_category(f"Questions {count}")
    members = [established(make_user, name=f"Member {count}-{n}") for n in range(count)]
    topic = ask(members[0], qa)
    for member in members[1:]:
        answer(member, topic, f"Answer from {member.name}")
    for member in members:
        give(member, 5)
    return qa, members


@pytest.mark.parametrize("period", ["week", "all"])
def test_the_page_reads_a_fixed_number_of_queries(client, auth, make_user, period):
    """Does /leaderboard run as many queries for 40 members as for 2, per board and per category?"""
    def counts(qa, viewer):
        auth.login(viewer.email)
        client.get("/leaderboard")  # the day's first page counts the visit
        found = []
        for url in (f"/leaderboard?period={period}", f"/leaderboard?period={period}&category={qa.slug}"):
            with count_queries() as statements:
                assert client.get(url).status_code == 200
            found.append(len(statements))
        auth.logout()
        with count_queries() as statements:
            client.get(f"/leaderboard?period={period}")
        return found + [len(statements)]

    few_qa, few = _many_members(make_user, 2)
    few_counts = counts(few_qa, few[-1])
    many_qa, many = _many_members(make_user, 40)
    assert counts(many_qa, many[-1]) == few_counts


# -- the API ---------------------------------------------------------------------------------

def test_the_api_lists_a_board_in_the_list_shape(client, trio, two_categories, bearer):
    """Does GET /api/v1/leaderboards answer ranks, users with levels, points and the paging fields?"""
    wang, emma, li = trio
    qa, _ = two_categories
    topic = ask(emma, qa)
    answer(wang, topic)
    give(li, 300)
    body = client.get("/api/v1/leaderboards?period=all&per_page=2").get_json()
    assert body["items"] == [
        {"rank": 1, "user": {"id": li.id, "name": "Li Wei", "username": li.username, "level": "regular",
                             "staff": False}, "points": 300},
        {"rank": 2, "user": {"id": emma.id, "name": "Emma Schneider", "username": emma.username,
                             "level": "newcomer", "staff": False}, "points": 2},
    ]
    assert (body["page"], body["per_page"], body["total"], body["period"]) == (1, 2, 3, "all")
    assert body["category"] is None and body["since"] is None and body["mine"] is None
    by_category = client.get("/api/v1/leaderboards?category=questions", headers=bearer(wang)).get_json()
    assert by_category["period"] == "week"
    assert by_category["category"] == {"id": qa.id, "slug": "questions", "name": "Questions"}
    assert [(i["user"]["name"], i["points"]) for i in by_category["items"]] == [("Emma Schneider", 2),
                                                                              ("Wang Fang", 1)]
    assert by_category["mine"]["rank"] == 2
    assert by_category["since"].endswith("T00:00:00Z")


def test_the_api_refuses_bad_periods_and_unreadable_categories(client, app):
    """Does the API answer 422 for a bad period and 404 for a category the caller can't read?"""
    staff_only_category()
    bad = client.get("/api/v1/leaderboards?period=decade")
    assert bad.status_code == 422
    assert bad.get_json()["error"]["code"] == "invalid_period"
    assert bad.get_json()["error"]["fields"] == {"period": "Choose week, month or all."}
    hidden = client.get("/api/v1/leaderboards?category=staff-room")
    assert hidden.status_code == 404 and hidden.get_json()["error"]["code"] == "category_not_found"
    assert client.get("/api/v1/leaderboards?per_page=500").status_code == 422


def test_openapi_lists_the_rewards_paths(client, app):
    """Does /api/v1/openapi.json describe the points and leaderboard endpoints?"""
    document = client.get("/api/v1/openapi.json").get_json()
    assert {"/me/points", "/leaderboards"} <= set(document["paths"])
    board = document["paths"]["/leaderboards"]["get"]
    assert {p["name"] for p in board["parameters"]} == {"period", "category", "page", "per_page"}
    assert {"200", "404", "422"} <= set(board["responses"])
    points = document["paths"]["/me/points"]["get"]
    assert points["security"] == [{"bearerAuth": []}]
    schemas = document["components"]["schemas"]
    assert {"PointsOut", "LeaderboardOut", "LedgerEntryOut"} <= set(schemas)


def test_a_deleted_topic_takes_its_points_off_the_boards(trio, moderator):
    """Once a topic is deleted, do its points and its replies' points leave the category and overall boards?"""
    wang, emma, _ = trio
    qa = make_category("Questions")
    topic = ask(emma, qa)
    answer(wang, topic)
    first = db.session.scalar(sa.select(Post).where(Post.topic_id == topic.id, Post.number == 1))
    posts.delete_post(moderator, first.id)
    assert names(leaderboard("week", "questions")) == []
    assert names(leaderboard("week")) == []
