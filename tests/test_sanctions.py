"""Decisions on a member: warnings, silences and suspensions, who may give them, and what each one does."""
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.admin import services as admin_services
from portal.audit import AuditEntry
from portal.auth.models import User, UserStatus
from portal.community import flags, posts, votes
from portal.errors import Conflict, Forbidden, Invalid, NotFound
from portal.events import Activity, Verb
from portal.extensions import db
from portal.moderation import decisions, sanctions
from portal.moderation.models import MemberSanction, ReviewItem, ReviewStatus, SanctionKind
from portal.moderation.notes import add_member_note
from portal.notifications.models import Notification
from portal.permissions import Permission, Role, can
from portal.sqltypes import utcnow
from tests.community_factories import answer, ask, established, make_category, trusted
from tests.conftest import PASSWORD
from tests.test_races import at_once, token


@pytest.fixture
def category(app):
    return make_category("Questions")


@pytest.fixture
def author(make_user):
    return trusted(make_user, name="Wang Lei")


def later(**delta):
    return utcnow() + timedelta(**(delta or {"days": 1}))


def expire(user, column):
    """Move an end into the past, as if time had passed."""
    setattr(user, column, utcnow() - timedelta(minutes=1))
    db.session.execute(sa.update(MemberSanction).where(MemberSanction.member_id == user.id)
                       .values(ends_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()


def sign_in(app, user):
    return app.test_client().post("/login", data={"email": user.email, "password": PASSWORD})


# -- warnings ------------------------------------------------------------------------------------------------

def test_a_warning_shows_on_every_page_until_the_member_acknowledges_it(app, moderator, author, category):
    """Does a warned member see a notice on every page, read the reason on their standing page, and lose the
    notice once they press "I understand"?"""
    warning = sanctions.warn(moderator, author.id, "Please keep replies on topic.")
    client = app.test_client(user=author)
    for url in ("/", "/account/profile"):
        assert "You have a warning from the moderators." in client.get(url).text
    standing = client.get("/account/standing")
    assert "Please keep replies on topic." in standing.text and "I understand" in standing.text
    client.post(f"/account/standing/warnings/{warning.id}/acknowledge")
    assert db.session.get(MemberSanction, warning.id).acknowledged_at is not None
    assert "You have a warning from the moderators." not in client.get("/").text
    assert "Please keep replies on topic." in client.get("/account/standing").text  # kept in the history


def test_a_warning_writes_its_activity_audit_entry_and_notification(moderator, author):
    """One transaction: the record, the activity, the audit entry and the member's notification."""
    warning = sanctions.warn(moderator, author.id, "Please keep it civil.")
    activity = db.session.scalar(sa.select(Activity).where(Activity.verb == Verb.MEMBER_WARNED))
    assert activity.data.sanction_id == warning.id and activity.subject_user_id == author.id
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "member.warned"))
    assert (entry.actor_id, entry.target_id, entry.details) == (moderator.id, author.id,
                                                                {"reason": "Please keep it civil."})
    note = db.session.scalar(sa.select(Notification).where(Notification.user_id == author.id))
    assert note.kind == "warned" and note.actor_id is None
    assert note.text == "You have a warning from the moderators"
    assert note.target == ("standing.index", {"_anchor": f"sanction-{warning.id}"})


def test_members_acknowledge_only_their_own_warnings(moderator, author, make_user):
    warning = sanctions.warn(moderator, author.id, "Please keep it civil.")
    with pytest.raises(NotFound):
        sanctions.acknowledge(make_user(), warning.id)
    sanctions.acknowledge(author, warning.id)
    assert sanctions.unacknowledged_warning_id(author) is None


# -- silences ------------------------------------------------------------------------------------------------

def test_a_silenced_member_reads_but_cannot_post_vote_or_flag(app, moderator, author, make_user, category):
    """Is a silenced member refused every write with a clear 403 (service and API), and shown a banner?"""
    topic = ask(established(make_user), category)
    post_id = answer(established(make_user), topic).id
    sanctions.silence(moderator, author.id, "Cool off after the argument.", later(days=2))
    for permission in (Permission.POST, Permission.VOTE, Permission.FLAG, Permission.MESSAGE):
        assert not can(author, permission)
    for attempt in (lambda: posts.reply(author, topic.id, "One more thing"),
                    lambda: votes.cast(author, post_id, 1),
                    lambda: flags.flag_post(author, post_id, "spam")):
        with pytest.raises(Forbidden) as refused:
            attempt()
        assert refused.value.code == "silenced" and "Cool off after the argument." in str(refused.value.message)
    api = app.test_client().post(f"/api/v1/topics/{topic.id}/posts", json={"body": "Let me answer"},
                                 headers=token(app, author))
    assert api.status_code == 403 and api.get_json()["error"]["code"] == "silenced"
    page = app.test_client(user=author).get(f"/t/{topic.id}")
    assert page.status_code in (200, 301, 302)
    home = app.test_client(user=author).get("/")
    assert "You are silenced until" in home.text and "Cool off after the argument." in home.text


def test_a_silence_ends_by_itself(moderator, author, category):
    sanctions.silence(moderator, author.id, "Cool off.", later(hours=1))
    assert not can(author, Permission.POST)
    expire(author, "silenced_until")
    assert can(author, Permission.POST)
    assert posts.reply(author, ask(author, category).id, "Back again") is not None


def test_a_silence_needs_an_end_in_the_future(moderator, author):
    for until in (None, utcnow() - timedelta(minutes=1), "not a date"):
        with pytest.raises(Invalid) as refused:
            sanctions.silence(moderator, author.id, "Cool off.", until)
        assert "until" in refused.value.fields
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MemberSanction)) == 0
    assert db.session.get(User, author.id).silenced_until is None


def test_lifting_a_silence_lets_the_member_write_again(moderator, author):
    silence = sanctions.silence(moderator, author.id, "Cool off.", later())
    sanctions.lift(moderator, silence.id)
    assert can(author, Permission.POST)
    assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "sanction.lifted")) is not None
    with pytest.raises(Conflict):
        sanctions.lift(moderator, silence.id)


# -- suspensions ---------------------------------------------------------------------------------------------

def test_a_timed_suspension_refuses_sign_in_with_the_reason_and_end_then_ends_by_itself(app, moderator, author):
    until = later(days=3)
    sanctions.suspend(moderator, author.id, "Spamming links.", until)
    refused = sign_in(app, author)
    assert refused.status_code == 422
    assert "suspended until" in refused.text and "Spamming links." in refused.text
    api = app.test_client().post("/api/v1/tokens", json={"email": author.email, "password": PASSWORD})
    error = api.get_json()["error"]
    assert api.status_code == 403 and error["code"] == "suspended" and error["reason"] == "Spamming links."
    assert error["ends_at"][:16] == until.isoformat()[:16]
    expire(author, "suspended_until")
    assert sign_in(app, author).status_code == 302
    assert db.session.get(User, author.id).status == UserStatus.ACTIVE


def test_a_suspension_without_an_end_is_for_good(app, moderator, author):
    sanctions.suspend(moderator, author.id, "Fraud.")
    refused = sign_in(app, author)
    assert "does not reopen by itself" in refused.text and "Fraud." in refused.text
    api = app.test_client().post("/api/v1/tokens", json={"email": author.email, "password": PASSWORD})
    assert api.get_json()["error"]["ends_at"] is None
    user = db.session.get(User, author.id)
    assert user.status == UserStatus.SUSPENDED and not user.is_active


def test_a_suspension_records_the_one_user_suspended_activity_and_notifies(moderator, author):
    sanction = sanctions.suspend(moderator, author.id, "Spam.", later())
    activity = db.session.scalar(sa.select(Activity).where(Activity.verb == Verb.USER_SUSPENDED))
    assert activity.object_id == author.id and activity.data.sanction_id == sanction.id
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "user.suspended"))
    assert entry.details["reason"] == "Spam." and "ends_at" in entry.details
    assert db.session.scalar(sa.select(Notification.kind).where(Notification.user_id == author.id)) == "suspended"


def test_the_admin_page_suspension_is_the_same_suspension(admin, author):
    """Does an admin's suspend from the user page write the same record, and reactivate lift it?"""
    admin_services.suspend(admin, author.id, "Left the community.")
    sanction = db.session.scalar(sa.select(MemberSanction))
    assert sanction.kind == SanctionKind.SUSPENSION and sanction.by_id == admin.id
    admin_services.reactivate(admin, author.id)
    db.session.refresh(sanction)
    assert sanction.lifted_at is not None and db.session.get(User, author.id).status == UserStatus.ACTIVE


def test_a_suspended_reps_leads_return_to_the_pool(admin, make_user, category):
    """A timed suspension by the sanctions service still returns a rep's open leads (leads hear USER_SUSPENDED)."""
    from portal.crm.models import LifecycleStage
    from portal.leads import pipeline
    from portal.leads.models import LeadStatus
    from tests.crm_factories import make_customer
    from tests.test_leads import leads_of

    prospect = make_customer("Yunfan Logistics", domain="yunfan.example", lifecycle_stage=LifecycleStage.PROSPECT)
    asker = established(make_user, email="li.wei@yunfan.example", customer_id=prospect.id)
    ask(asker, category, title="企业版报价", body="请问企业版的报价是多少？")
    [lead] = leads_of(prospect)
    rep = make_user(Role.SALES)
    pipeline.claim(rep, lead.id)
    sanctions.suspend(admin, rep.id, "Left the company", later(days=30))
    db.session.expire_all()
    [back] = leads_of(prospect)
    assert (back.status, back.owner_id) == (LeadStatus.POOL, None)


# -- who may act on whom -------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", list(Role))
def test_only_community_staff_sanction_members(make_user, author, role):
    actor = make_user(role)
    if role in (Role.MODERATOR, Role.ADMIN):
        assert sanctions.warn(actor, author.id, "Please keep it civil.").by_id == actor.id
    else:
        with pytest.raises(Forbidden):
            sanctions.warn(actor, author.id, "Please keep it civil.")


@pytest.mark.parametrize("target", [Role.MODERATOR, Role.SALES, Role.SALES_MANAGER, Role.ADMIN])
def test_moderators_act_on_members_only_and_admins_on_anyone(make_user, moderator, admin, target):
    staff = make_user(target)
    with pytest.raises(Forbidden) as refused:
        sanctions.suspend(moderator, staff.id, "Because.")
    if target == Role.ADMIN:
        assert refused.value.code == "target_is_admin"
        assert "Only an admin can" in str(refused.value.message)
    assert db.session.get(User, staff.id).status == UserStatus.ACTIVE
    assert sanctions.suspend(admin, staff.id, "Because.", later()).member_id == staff.id


def test_nobody_sanctions_themselves(moderator, admin):
    for actor in (moderator, admin):
        for act in (lambda actor=actor: sanctions.warn(actor, actor.id, "Me."),
                    lambda actor=actor: sanctions.silence(actor, actor.id, "Me.", later()),
                    lambda actor=actor: sanctions.suspend(actor, actor.id, "Me.")):
            with pytest.raises(Conflict):
                act()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MemberSanction)) == 0


@pytest.mark.parametrize("reason", ["", "   ", "x" * 1001])
def test_a_reason_is_required_and_at_most_a_thousand_characters(moderator, author, reason):
    with pytest.raises(Invalid) as refused:
        sanctions.warn(moderator, author.id, reason)
    assert "reason" in refused.value.fields
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MemberSanction)) == 0


def test_a_suspension_end_in_the_past_does_nothing(moderator, author):
    with pytest.raises(Invalid) as refused:
        sanctions.suspend(moderator, author.id, "Spam.", utcnow() - timedelta(hours=1))
    assert "until" in refused.value.fields
    user = db.session.get(User, author.id)
    assert user.status == UserStatus.ACTIVE
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Activity)
                             .where(Activity.verb == Verb.USER_SUSPENDED)) == 0


# -- from the review queue -----------------------------------------------------------------------------------

def flagged_reply(make_user, author, category):
    topic = ask(established(make_user), category)
    reply = answer(author, topic, "Buy my course instead")
    flags.flag_post(trusted(make_user), reply.id, "spam")
    return reply, db.session.scalar(sa.select(ReviewItem).where(ReviewItem.post_id == reply.id))


def test_a_queue_decision_warns_the_author_and_hides_the_post_in_one_go(app, make_user, moderator, author,
                                                                        category):
    reply, item = flagged_reply(make_user, author, category)
    decisions.decide(moderator, item.id, "warn", reason="No advertising, please.")
    db.session.expire_all()
    item = db.session.get(ReviewItem, item.id)
    warning = db.session.scalar(sa.select(MemberSanction))
    assert item.status == ReviewStatus.HIDDEN and item.post.hidden_at is not None
    assert (warning.member_id, warning.review_item_id) == (author.id, item.id)
    decided = db.session.scalar(sa.select(Activity).where(Activity.verb == Verb.REVIEW_DECIDED))
    assert decided.payload["decision"] == "warn"
    with pytest.raises(Conflict):
        decisions.decide(make_user(Role.MODERATOR), item.id, "suspend", reason="Too late.")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MemberSanction)) == 1


def test_a_bad_queue_decision_leaves_the_item_open(make_user, moderator, author, category):
    _reply, item = flagged_reply(make_user, author, category)
    with pytest.raises(Invalid):
        decisions.decide(moderator, item.id, "silence", reason="Cool off.")  # no end
    db.session.expire_all()
    assert db.session.get(ReviewItem, item.id).status == ReviewStatus.OPEN


def test_the_api_decides_with_a_sanction(app, make_user, moderator, author, category):
    _reply, item = flagged_reply(make_user, author, category)
    headers = token(app, moderator)
    bad = app.test_client().post(f"/api/v1/moderation/queue/{item.id}/decision",
                                 json={"decision": "suspend", "reason": "Spam.", "until": "2001-01-01T00:00:00Z"},
                                 headers=headers)
    assert bad.status_code == 422 and "until" in bad.get_json()["error"]["fields"]
    done = app.test_client().post(f"/api/v1/moderation/queue/{item.id}/decision",
                                  json={"decision": "silence", "reason": "Cool off.",
                                        "until": later().isoformat()}, headers=headers)
    assert done.status_code == 200 and done.get_json()["status"] == "hidden"
    assert db.session.get(User, author.id).silenced_until is not None


def test_the_queue_page_shows_the_authors_sanctions_and_decides_with_one(app, make_user, moderator, author,
                                                                         category):
    _reply, item = flagged_reply(make_user, author, category)
    sanctions.warn(moderator, author.id, "Earlier: keep it civil.")
    client = app.test_client(user=moderator)
    page = client.get("/moderation/queue")
    assert "Earlier: keep it civil." in page.text and 'value="silence"' in page.text
    done = client.post(f"/moderation/queue/{item.id}/decision", follow_redirects=True,
                       data={"decision": "suspend", "reason": "Spam again."})
    assert "The author is suspended and the post hidden." in done.text
    assert db.session.get(User, author.id).status == UserStatus.SUSPENDED


def test_two_moderators_deciding_at_once_one_sanction(app, make_user, category):
    """On PostgreSQL, with real parallel requests: one decision, one sanction, the others told it was handled."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("parallel requests only really overlap on PostgreSQL (TEST_DATABASE_URL)")
    moderators = [make_user(Role.MODERATOR) for _ in range(4)]
    author = trusted(make_user)
    _reply, item = flagged_reply(make_user, author, category)
    item_id = item.id
    headers = [token(app, m) for m in moderators]
    bodies = [{"decision": "warn", "reason": "Keep it civil."},
              {"decision": "silence", "reason": "Cool off.", "until": later().isoformat()},
              {"decision": "suspend", "reason": "Spam."}, {"decision": "hide"}]

    def decide(n):
        return lambda client: client.post(f"/api/v1/moderation/queue/{item_id}/decision", json=bodies[n],
                                          headers=headers[n])

    responses = at_once(app, [decide(n) for n in range(4)])
    assert Counter(r.status_code for r in responses) == {200: 1, 409: 3}, [r.get_json() for r in responses]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Activity)
                             .where(Activity.verb == Verb.REVIEW_DECIDED)) == 1
    [winner] = [n for n, r in enumerate(responses) if r.status_code == 200]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MemberSanction)) == (
        0 if bodies[winner]["decision"] == "hide" else 1)


# -- what members see ----------------------------------------------------------------------------------------

def test_members_never_see_staff_notes_or_other_members_sanctions(app, moderator, author, make_user):
    other = established(make_user)
    sanctions.warn(moderator, other.id, "Someone else's warning.")
    sanctions.warn(moderator, author.id, "Your own warning.")
    add_member_note(moderator, author.id, "Staff only: watch this one")
    page = app.test_client(user=author).get("/account/standing").text
    assert "Your own warning." in page
    assert "Someone else's warning." not in page and "Staff only" not in page and moderator.name not in page
    with pytest.raises(Forbidden):
        sanctions.sanctions_of(author, other.id)
    with pytest.raises(NotFound):
        sanctions.acknowledge(author, db.session.scalar(sa.select(MemberSanction.id)
                                                        .where(MemberSanction.member_id == other.id)))


def test_the_admin_user_page_lists_sanctions_with_forms(app, admin, author, moderator):
    sanctions.silence(moderator, author.id, "Cool off for a day.", later())
    page = app.test_client(user=admin).get(f"/admin/users/{author.id}").text
    assert "Cool off for a day." in page and 'value="warn"' in page and "Lift" in page
