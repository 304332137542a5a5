"""Staff recognition: the staff flair, official answers, and staff notes on members."""
import re

import pytest
import sqlalchemy as sa

from portal.audit import AuditEntry
from portal.community import answers, official, posts, votes
from portal.community.models import Post, Topic
from portal.errors import Forbidden, Invalid, NotFound
from portal.events import Activity, Verb
from portal.extensions import db
from portal.moderation.models import MemberNote
from portal.moderation.notes import NOTE_MAX, add_member_note, notes_for, notes_on
from portal.notifications.models import Notification
from portal.permissions import Role
from tests.community_factories import answer, ask, established, make_category
from tests.conftest import csrf_token_from
from tests.helpers import count_queries

STAFF = (Role.MODERATOR, Role.ADMIN)
NOT_STAFF = (Role.MEMBER, Role.SALES, Role.SALES_MANAGER)


@pytest.fixture
def qa(app):
    return make_category("Questions", "questions")


@pytest.fixture
def people(make_user):
    """One established user of every role, named after it."""
    return {role: established(make_user, role, name=f"The {role.value}") for role in Role}


@pytest.fixture
def question(people, qa):
    return ask(people[Role.MEMBER], qa)


def text(response):
    return response.get_data(as_text=True)


def post_cards(html):
    """{author name: the HTML of their post card} on a topic page."""
    cards = {}
    for card in html.split('<li class="post')[1:]:
        name = re.search(r'class="person"[^>]*>.*?<span>([^<]+)</span>', card, re.S).group(1)
        cards[name] = card
    return cards


def activities(verb):
    return db.session.scalars(sa.select(Activity).where(Activity.verb == verb).order_by(Activity.id)).all()


def audits(action):
    return db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)
                              .order_by(AuditEntry.id)).all()


# -- the staff flair ---------------------------------------------------------------------------

def test_only_moderators_and_admins_wear_the_staff_flair_on_posts(app, people, question):
    """Do posts by moderators and admins carry the Staff flair, and posts by members and sales never?"""
    for role in Role:
        if role != Role.MEMBER:
            answer(people[role], question, body=f"An answer from the {role.value}.")
    cards = post_cards(text(app.test_client().get(f"/t/{question.id}")))
    assert len(cards) == len(Role)
    for role, user in people.items():
        assert ('class="staff-flair"' in cards[user.name]) == (role in STAFF), role


def test_the_api_author_says_whether_they_are_staff(client, people, question):
    """Does each post's author object in the API carry `staff`, true only for moderators and admins?"""
    for role in Role:
        if role != Role.MEMBER:
            answer(people[role], question, body=f"An answer from the {role.value}.")
    body = client.get(f"/api/v1/topics/{question.id}").get_json()
    staff_by_author = {item["author"]["id"]: item["author"]["staff"] for item in body["posts"]["items"]}
    assert staff_by_author == {user.id: role in STAFF for role, user in people.items()}
    assert body["author"]["staff"] is False


def test_the_member_page_shows_the_flair_for_staff_only(client, people):
    for role, user in people.items():
        page = text(client.get(f"/members/{user.id}"))
        assert ('class="staff-flair"' in page) == (role in STAFF), role


def test_community_staff_is_not_the_same_as_staff(people):
    """Sales reps are staff (they see staff categories) but never community staff."""
    assert {role for role, user in people.items() if user.is_staff} == set(Role) - {Role.MEMBER}
    assert {role for role, user in people.items() if user.is_community_staff} == set(STAFF)


# -- official answers --------------------------------------------------------------------------

@pytest.mark.parametrize("role", list(Role))
def test_who_may_mark_an_official_answer(app, bearer, people, question, role):
    """Can each role mark a moderator's answer official, over the API and on the page?"""
    staff_answer = answer(people[Role.MODERATOR], question)
    client = app.test_client()
    response = client.post(f"/api/v1/posts/{staff_answer.id}/official", headers=bearer(people[role]))
    if role in STAFF:
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["official"] is True
        assert client.delete(f"/api/v1/posts/{staff_answer.id}/official",
                             headers=bearer(people[role])).get_json()["official"] is False
    else:
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "forbidden"
        assert client.delete(f"/api/v1/posts/{staff_answer.id}/official",
                             headers=bearer(people[role])).status_code == 403
    web = app.test_client(user=people[role]).post(f"/p/{staff_answer.id}/official")
    assert web.status_code == (302 if role in STAFF else 403)
    assert (db.session.get(Topic, question.id).official_post_id == staff_answer.id) == (role in STAFF)


def test_marking_another_answer_moves_the_mark(people, question):
    """Is there at most one official answer per question, marking another moving it?"""
    moderator, admin = people[Role.MODERATOR], people[Role.ADMIN]
    first = answer(moderator, question, body="Staff answer one.")
    second = answer(admin, question, body="Staff answer two.")
    official.mark_official(moderator, first.id)
    official.mark_official(moderator, first.id)  # again: nothing changes, nothing recorded
    official.mark_official(admin, second.id)
    assert db.session.get(Topic, question.id).official_post_id == second.id
    assert (first.is_official, second.is_official) == (False, True)
    marks = [a.data for a in activities(Verb.POST_MARKED_OFFICIAL)]
    assert [(m.official, m.previous_post_id) for m in marks] == [(True, None), (True, first.id)]
    assert [a.target_id for a in audits("post.marked_official")] == [first.id, second.id]


def test_only_staff_answers_in_questions_can_be_official(client, bearer, people, qa, question):
    """422 for a member's or sales rep's answer, the question itself, or a discussion; 404 for a deleted post."""
    headers = bearer(people[Role.MODERATOR])
    member_answer = answer(people[Role.MEMBER], question)
    sales_answer = answer(people[Role.SALES], question)
    discussion = ask(people[Role.MEMBER], qa, title="Let's talk about dashboards", kind="discussion")
    staff_reply = answer(people[Role.MODERATOR], discussion)
    first_post_id = db.session.scalar(sa.select(Post.id).where(Post.topic_id == question.id, Post.number == 1))
    for post_id, code in ((member_answer.id, "not_a_staff_answer"), (sales_answer.id, "not_a_staff_answer"),
                          (first_post_id, "not_an_answer"), (staff_reply.id, "not_an_answer")):
        response = client.post(f"/api/v1/posts/{post_id}/official", headers=headers)
        assert response.status_code == 422, post_id
        assert response.get_json()["error"]["code"] == code
    gone = answer(people[Role.ADMIN], question)
    posts.delete_post(people[Role.ADMIN], gone.id)
    assert client.post(f"/api/v1/posts/{gone.id}/official", headers=headers).status_code == 404
    assert client.post("/api/v1/posts/999999/official", headers=headers).status_code == 404
    assert db.session.get(Topic, question.id).official_post_id is None
    assert activities(Verb.POST_MARKED_OFFICIAL) == []


def test_unmarking_takes_the_mark_off_and_is_recorded(client, bearer, people, question):
    staff_answer = answer(people[Role.ADMIN], question)
    headers = bearer(people[Role.MODERATOR])
    client.post(f"/api/v1/posts/{staff_answer.id}/official", headers=headers)
    body = client.delete(f"/api/v1/posts/{staff_answer.id}/official", headers=headers).get_json()
    assert body["official"] is False
    assert client.delete(f"/api/v1/posts/{staff_answer.id}/official", headers=headers).status_code == 200
    assert db.session.get(Topic, question.id).official_post_id is None
    [marked, unmarked] = activities(Verb.POST_MARKED_OFFICIAL)
    assert (marked.data.official, unmarked.data.official) == (True, False)
    assert unmarked.actor_id == people[Role.MODERATOR].id and unmarked.object_id == staff_answer.id
    assert unmarked.data.topic_id == question.id and unmarked.data.author_id == people[Role.ADMIN].id
    [entry] = audits("post.unmarked_official")
    assert entry.target_type == "post" and entry.target_id == staff_answer.id
    assert str(entry.label) == "Official answer mark taken off"


def test_deleting_the_official_answer_clears_the_mark(people, question):
    staff_answer = answer(people[Role.MODERATOR], question)
    official.mark_official(people[Role.MODERATOR], staff_answer.id)
    posts.delete_post(people[Role.MODERATOR], staff_answer.id)
    assert db.session.get(Topic, question.id).official_post_id is None


def test_the_official_answer_shows_its_badge_right_after_the_accepted_answer(app, people, make_user, question):
    """Question, accepted answer, official answer, then the rest by votes; with a badge and the buttons."""
    asker = people[Role.MEMBER]
    popular = answer(people[Role.SALES], question, body="A popular answer.")
    for _n in range(3):
        votes.cast(established(make_user), popular.id, 1)
    accepted = answer(established(make_user, name="Helpful Member"), question, body="The accepted answer.")
    staff_answer = answer(people[Role.MODERATOR], question, body="The official answer.")
    client = app.test_client(user=people[Role.ADMIN])
    page = text(client.get(f"/t/{question.id}"))
    assert "Mark as official answer" in page
    response = client.post(f"/p/{staff_answer.id}/official",
                           data={"next": f"/t/{question.id}", "csrf_token": csrf_token_from(page)})
    assert response.status_code == 302
    order = list(post_cards(text(client.get(f"/t/{question.id}"))))
    assert order == [asker.name, people[Role.MODERATOR].name, people[Role.SALES].name, "Helpful Member"]
    answers.accept(asker, question.id, accepted.id)
    page = text(client.get(f"/t/{question.id}"))
    cards = post_cards(page)
    assert list(cards) == [asker.name, "Helpful Member", people[Role.MODERATOR].name, people[Role.SALES].name]
    assert "Official answer" in cards[people[Role.MODERATOR].name]
    assert "post--official" in cards[people[Role.MODERATOR].name]
    assert "Remove official mark" in cards[people[Role.MODERATOR].name]
    assert sum("Official answer" in card for card in cards.values()) == 1
    member_page = text(app.test_client(user=asker).get(f"/t/{question.id}"))
    assert "Official answer" in member_page
    assert "Mark as official answer" not in member_page and "Remove official mark" not in member_page


def test_the_official_answer_is_shown_in_chinese(app, people, question):
    staff_answer = answer(people[Role.MODERATOR], question)
    official.mark_official(people[Role.MODERATOR], staff_answer.id)
    page = text(app.test_client().get(f"/t/{question.id}", headers={"Accept-Language": "zh-CN,zh;q=0.9"}))
    assert 'class="official-badge"' in page and 'class="staff-flair"' in page


def test_official_answers_are_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert {"post", "delete"} <= set(document["paths"]["/posts/{post_id}/official"])
    schemas = document["components"]["schemas"]
    assert "official" in schemas["PostOut"]["properties"]
    assert "staff" in schemas["AuthorOut"]["properties"]


def test_topic_page_queries_stay_constant_with_flairs_and_an_official_answer(app, make_user, people, qa):
    """Does the topic page cost the same queries for 2 member replies or 12 staff replies with one official?"""
    app.config["POSTS_PER_PAGE"] = 50
    plain = ask(people[Role.MEMBER], qa, title="A question with member answers")
    for n in range(2):
        answer(established(make_user), plain, body=f"Member answer {n}")
    busy = ask(people[Role.MEMBER], qa, title="A question with many staff answers")
    for n in range(12):
        answer(people[STAFF[n % 2]], busy, body=f"Staff answer {n}")
    last = posts.topic_posts(people[Role.MODERATOR], busy).items[-1]
    official.mark_official(people[Role.MODERATOR], last.id)
    for viewer in (people[Role.MEMBER], people[Role.MODERATOR], None):
        client = app.test_client(user=viewer) if viewer else app.test_client()
        counts = []
        for topic in (plain, busy):
            client.get(f"/t/{topic.id}")
            with count_queries() as statements:
                assert client.get(f"/t/{topic.id}").status_code == 200
            counts.append(len(statements))
        assert counts[0] == counts[1], (viewer, counts)


# -- staff notes on members --------------------------------------------------------------------

@pytest.mark.parametrize("role", list(Role))
def test_who_may_write_and_read_member_notes(people, role):
    """Moderators and admins write and read notes; members, sales reps and sales managers do neither."""
    subject = people[Role.MEMBER]
    if role in STAFF:
        note = add_member_note(people[role], subject.id, "Asks good questions; a likely champion.")
        assert notes_for(people[role], [subject.id]) == {subject.id: [note]}
        [entry] = audits("member_note.added")
        assert (entry.actor_id, entry.target_type, entry.target_id) == (people[role].id, "user", subject.id)
        assert entry.details == {"note_id": note.id}
    else:
        with pytest.raises(Forbidden):
            add_member_note(people[role], subject.id, "Should not be saved.")
        with pytest.raises(Forbidden):
            notes_for(people[role], [subject.id])
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MemberNote)) == 0


def test_a_note_needs_a_body_of_at_most_2000_characters(people):
    moderator, member = people[Role.MODERATOR], people[Role.MEMBER]
    for body in ("", "   \n ", "x" * (NOTE_MAX + 1)):
        with pytest.raises(Invalid) as caught:
            add_member_note(moderator, member.id, body)
        assert set(caught.value.fields) == {"body"}
    with pytest.raises(NotFound):
        add_member_note(moderator, 999_999, "Nobody to note.")
    assert add_member_note(moderator, member.id, "  " + "x" * NOTE_MAX + "\n").body == "x" * NOTE_MAX


def test_notes_for_many_members_in_one_query(people, make_user):
    """Can the review queue load the notes of many members in one query, newest first?"""
    moderator = people[Role.MODERATOR]
    members = [established(make_user) for _ in range(5)]
    for n, member in enumerate(members):
        for k in range(n):
            add_member_note(moderator, member.id, f"Note {k} on member {n}")
    member_ids = [m.id for m in members]
    db.session.expire_all()
    db.session.refresh(moderator)  # the viewer is loaded already, as the signed-in user is
    with count_queries() as statements:
        notes = notes_for(moderator, member_ids)
        authors = {note.author.name for member_notes in notes.values() for note in member_notes}
    assert len(statements) == 1
    assert authors == {moderator.name}
    assert set(notes) == set(member_ids[1:])
    assert [n.body for n in notes[member_ids[3]]] == ["Note 2 on member 3", "Note 1 on member 3", "Note 0 on member 3"]


def test_the_admin_user_page_lists_notes_newest_first_and_adds_them(app, people):
    admin, member = people[Role.ADMIN], people[Role.MEMBER]
    add_member_note(people[Role.MODERATOR], member.id, "First note: met at the user day.")
    client = app.test_client(user=admin)
    page = text(client.get(f"/admin/users/{member.id}"))
    assert "First note: met at the user day." in page and "Staff notes" in page
    response = client.post(f"/admin/users/{member.id}/notes", data={"body": "Second note: wants a demo."})
    assert response.status_code == 302
    page = text(client.get(f"/admin/users/{member.id}"))
    assert page.index("Second note: wants a demo.") < page.index("First note: met at the user day.")
    assert "Staff note added" in page  # the audit trail beside it
    refused = client.post(f"/admin/users/{member.id}/notes", data={"body": "y" * (NOTE_MAX + 1)})
    assert refused.status_code == 422 and "Keep the note to 2000 characters." in text(refused)
    assert text(client.post(f"/admin/users/{member.id}/notes", data={"body": ""})).count("Write the note first.") == 1
    assert len(notes_on(admin, member.id)) == 2
    for role in (Role.MODERATOR, Role.SALES, Role.SALES_MANAGER, Role.MEMBER):
        other = app.test_client(user=people[role])
        assert other.get(f"/admin/users/{member.id}").status_code == 403
        assert other.post(f"/admin/users/{member.id}/notes", data={"body": "Sneaky"}).status_code == 403
    assert len(notes_on(admin, member.id)) == 2


def test_members_never_see_notes_about_them(app, bearer, people, make_user):
    """Not on their own member page, account pages, /api/v1/me, notifications, nor on others' views."""
    member, other = people[Role.MEMBER], established(make_user, name="Another Member")
    secret = "Staff only: threatened to churn"
    add_member_note(people[Role.MODERATOR], member.id, secret)
    own = app.test_client(user=member)
    for path in (f"/members/{member.id}", "/account/profile", "/notifications"):
        response = own.get(path)
        assert response.status_code == 200, path
        assert secret not in text(response) and "Staff notes" not in text(response), path
    assert secret not in text(app.test_client(user=other).get(f"/members/{member.id}"))
    assert secret not in text(app.test_client().get(f"/members/{member.id}"))
    client = app.test_client()
    for path in ("/api/v1/me", "/api/v1/notifications"):
        response = client.get(path, headers=bearer(member))
        assert response.status_code == 200 and secret not in text(response), path
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Activity)
                             .where(Activity.verb.like("%note%"))) == 0
