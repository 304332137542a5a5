"""The audit log: every staff write leaves its row, who may read the log, its filters, its CSV and its cost."""
import ast
import csv
import io
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.admin import audit_log
from portal.admin import services as admin_services
from portal.audit import ACTION_LABELS, AuditEntry, audit
from portal.auth.models import Team
from portal.auth.tokens import create_token_for, revoke_token
from portal.community import answers, categories, flags, ideas, official, posts, restructure, topics, votes
from portal.community.models import Post
from portal.crm import announcements, lifecycle, linking, records, retention, segments, touchpoints
from portal.crm.models import LifecycleStage, RetentionCase
from portal.crm.rules import update_crm_rules
from portal.extensions import db
from portal.leads import pipeline
from portal.leads.flagging import flag_post_as_lead
from portal.leads.models import Lead, SignalKind
from portal.leads.rules import update_lead_rules
from portal.leads.scoring import add_signal
from portal.moderation import decisions, links, notes, sanctions
from portal.moderation.models import ReviewItem
from portal.moderation.rules import update_moderation_rules
from portal.permissions import Role
from portal.rewards.rule_settings import reward_settings, update_reward_settings
from portal.sqltypes import utcnow
from portal.webhooks import services as webhooks
from tests.community_factories import answer, ask, established, make_category, trusted
from tests.conftest import PASSWORD
from tests.crm_factories import make_customer
from tests.helpers import count_queries

PORTAL = Path(__file__).resolve().parent.parent / "portal"


@pytest.fixture
def app(make_app):
    # Webhooks to 127.0.0.1 are allowed; side effects wait for a worker that never comes (nothing leaves the test).
    app = make_app(WEBHOOKS_ALLOW_PRIVATE_TARGETS=True, OUTBOX_MODE="worker")
    with app.app_context():
        yield app


# -- completeness: each staff write leaves exactly its audit row ---------------------------------------------------

class World:
    """The people and records the staff writes act on, made when a case first asks for them."""

    def __init__(self, make_user):
        self.make_user = make_user

    @cached_property
    def admin(self):
        return self.make_user(Role.ADMIN, name="Ada Admin")

    @cached_property
    def moderator(self):
        return self.make_user(Role.MODERATOR, name="Mo Moderator")

    @cached_property
    def member(self):
        return established(self.make_user, name="Mei Member")

    @cached_property
    def team(self):
        team = Team(name="North")
        db.session.add(team)
        db.session.commit()
        return team

    @cached_property
    def rep(self):
        return self.make_user(Role.SALES, name="Qian Rep", team_id=self.team.id)

    @cached_property
    def manager(self):
        return self.make_user(Role.SALES_MANAGER, name="Sun Manager", team_id=self.team.id)

    @cached_property
    def customer(self):
        return make_customer("Yunfan Logistics", domain="yunfan.example", lifecycle_stage=LifecycleStage.PROSPECT)

    @cached_property
    def category(self):
        return make_category("Questions")

    @cached_property
    def question(self):
        return ask(self.member, self.category, title="How do I export a dashboard?")

    @cached_property
    def reply(self):
        return answer(established(self.make_user, name="Hui Helper"), self.question)

    @cached_property
    def idea(self):
        return ask(self.member, self.category, title="Dark mode, please", kind="idea")

    @cached_property
    def lead(self):
        add_signal(SignalKind.INTENT_WORDS, customer_id=self.customer.id, detail={"terms": ["报价"]})
        db.session.commit()
        return db.session.scalar(sa.select(Lead).where(Lead.customer_id == self.customer.id))

    @cached_property
    def claimed_lead(self):
        pipeline.claim(self.rep, self.lead.id)
        return self.lead

    @cached_property
    def segment(self):
        return segments.create_segment(self.moderator, "Key accounts", "", "all",
                                       [{"field": "value_tier", "op": "is", "value": "key"}])

    @cached_property
    def draft(self):
        return announcements.create_draft(self.moderator, title="Release 4.3", body="SSO for everyone.",
                                          segment_ids=[self.segment.id], channels=["notification"])

    @cached_property
    def case(self):
        case = RetentionCase(customer_id=self.customer.id, reasons=[{"code": "complaints", "count": 2}],
                             opened_at=utcnow(), due_on=utcnow().date() + timedelta(days=7))
        db.session.add(case)
        db.session.commit()
        return case

    @cached_property
    def webhook(self):
        return webhooks.create_webhook(self.admin, url="http://127.0.0.1:9/hook", events=["lead.created"])

    @cached_property
    def link(self):
        other = established(self.make_user, name="Sock Puppet")
        return links.link_accounts(self.moderator, self.member.id, other.id, "same device")


CASES = []


def case(action):
    """Register a staff write: fn(world) does it and returns (actor, target, before, after) to expect."""
    def register(fn):
        CASES.append(pytest.param(action, fn, id=action))
        return fn
    return register


@case("user.created")
def _(w):
    user = admin_services.create_user(w.admin, email="new.person@example.com", password=PASSWORD, name="New Person")
    return w.admin, user, None, None


@case("user.role_changed")
def _(w):
    return w.admin, admin_services.change_role(w.admin, w.member.id, "moderator"), "member", "moderator"


@case("user.team_changed")
def _(w):
    rep = w.make_user(Role.SALES)
    return w.admin, admin_services.set_team(w.admin, rep.id, w.team.id), None, w.team.id


@case("user.suspended")
def _(w):
    return w.admin, admin_services.suspend(w.admin, w.member.id, "spam"), None, None


@case("user.reactivated")
def _(w):
    admin_services.suspend(w.admin, w.member.id, "spam")
    return w.admin, admin_services.reactivate(w.admin, w.member.id), None, None


@case("member.warned")
def _(w):
    sanctions.warn(w.moderator, w.member.id, "Please keep it civil.")
    return w.moderator, w.member, None, None


@case("member.silenced")
def _(w):
    sanctions.silence(w.moderator, w.member.id, "Cool off for a day.", utcnow() + timedelta(days=1))
    return w.moderator, w.member, None, None


@case("sanction.lifted")
def _(w):
    silence = sanctions.silence(w.moderator, w.member.id, "Cool off for a day.", utcnow() + timedelta(days=1))
    sanctions.lift(w.moderator, silence.id)
    return w.moderator, w.member, None, None


@case("team.created")
def _(w):
    return w.admin, admin_services.create_team(w.admin, "South"), None, None


@case("api_token.created")
def _(w):
    _raw, token = create_token_for(w.admin, w.member.id, "CRM sync")
    return w.admin, token, None, None


@case("api_token.revoked")
def _(w):
    _raw, token = create_token_for(w.admin, w.member.id, "CRM sync")
    return w.admin, revoke_token(w.admin, token.id), None, None


@case("category.created")
def _(w):
    category = categories.create_category(w.moderator, name="Integrations", slug="integrations", description="APIs",
                                          colour="#1D4ED8", position=3, read_access="everyone",
                                          write_access="members")
    return w.moderator, category, None, None


@case("category.updated")
def _(w):
    return (w.moderator, categories.update_category(w.moderator, w.category.id, name="Questions & answers"),
            {"name": "Questions"}, {"name": "Questions & answers"})


@case("customer.created")
def _(w):
    return w.moderator, records.create_customer(w.moderator, {"name": "Nordwind"}), None, {"name": "Nordwind"}


@case("customer.updated")
def _(w):
    customer = records.update_customer(w.moderator, w.customer.id, {"region": "华东"})
    return w.moderator, customer, {"region": None}, {"region": "华东"}


@case("customer.verified")
def _(w):
    records.verify_customer(w.moderator, w.customer.id)
    return w.moderator, w.customer, None, None


@case("customer.stage_changed")
def _(w):
    customer = lifecycle.change_lifecycle_stage(w.moderator, w.customer.id, "customer", cause="Signed the order")
    return w.moderator, customer, "prospect", "customer"


@case("customer.member_linked")
def _(w):
    member = w.make_user(Role.MEMBER)
    return w.moderator, linking.link_member(w.moderator, member.id, w.customer.id), None, w.customer.id


@case("customer.member_unlinked")
def _(w):
    member = w.make_user(Role.MEMBER, customer_id=w.customer.id)
    return w.moderator, linking.unlink_member(w.moderator, member.id, w.customer.id), w.customer.id, None


@case("customer.note_added")
def _(w):
    touchpoints.add_note(w.moderator, w.customer.id, "Prefers WeChat.")
    return w.moderator, w.customer, None, None


@case("customer.touchpoint_recorded")
def _(w):
    touchpoints.record_touchpoint(w.moderator, w.customer.id, channel="call", summary="Renewal call")
    return w.moderator, w.customer, None, None


@case("settings.crm_rules_changed")
def _(w):
    update_crm_rules(w.admin, {"retention_due_days": 3})
    return w.admin, None, None, {"retention_due_days": 3}


@case("segment.created")
def _(w):
    return w.moderator, w.segment, None, {"name": "Key accounts"}


@case("segment.updated")
def _(w):
    segment = segments.update_segment(w.moderator, w.segment.id, "Key customers", "", "all", w.segment.rules)
    return w.moderator, segment, {"name": "Key accounts"}, {"name": "Key customers"}


@case("segment.deleted")
def _(w):
    segment = w.segment
    segments.delete_segment(w.moderator, segment.id)
    return w.moderator, ("segment", segment.id), {"name": "Key accounts"}, None


@case("announcement.created")
def _(w):
    return w.moderator, w.draft, None, None


@case("announcement.updated")
def _(w):
    draft = announcements.update_draft(w.moderator, w.draft.id, title="Release 4.4", body="SSO.",
                                       segment_ids=[w.segment.id], channels=["notification"])
    return w.moderator, draft, None, None


@case("announcement.sent")
def _(w):
    announcements.send(w.moderator, w.draft.id)
    return w.moderator, w.draft, None, None


@case("retention.closed")
def _(w):
    retention.close_case(w.moderator, w.case.id, channel="call", summary="They stay.", outcome="retained")
    return w.moderator, w.case, None, None


@case("retention.reassigned")
def _(w):
    retention.reassign_case(w.moderator, w.case.id, w.admin.id)
    return w.moderator, w.case, None, w.admin.id


@case("settings.lead_rules_changed")
def _(w):
    update_lead_rules(w.admin, {"threshold": 50})
    return w.admin, None, None, {"threshold": 50}


@case("settings.rewards_changed")
def _(w):
    settings = reward_settings()
    update_reward_settings(w.admin, rules=settings["rules"], daily_vote_cap=123, thresholds=settings["thresholds"],
                           privileges=settings["privileges"])
    return w.admin, None, None, {"daily_vote_cap": 123}


@case("lead.post_flagged")
def _(w):
    post = db.session.scalar(sa.select(Post).where(Post.topic_id == w.question.id, Post.number == 1))
    flag_post_as_lead(w.rep, post.id, "Asks about seats")
    return w.rep, post, None, None


@case("lead.claimed")
def _(w):
    return w.rep, pipeline.claim(w.rep, w.lead.id), None, None


@case("lead.assigned")
def _(w):
    return w.manager, pipeline.assign(w.manager, w.lead.id, w.rep.id) or w.lead, None, {"owner_id": w.rep.id}


@case("lead.status_changed")
def _(w):
    pipeline.change_status(w.rep, w.claimed_lead.id, "contacted", note="Called.")
    return w.rep, w.lead, {"status": "claimed"}, {"status": "contacted"}


@case("lead.returned")
def _(w):
    pipeline.hand_back(w.rep, w.claimed_lead.id, note="Not now.")
    return w.rep, w.lead, {"owner_id": w.rep.id}, {"owner_id": None}


@case("lead.note_added")
def _(w):
    pipeline.add_note(w.rep, w.claimed_lead.id, "Wants a quote by Friday.")
    return w.rep, w.lead, None, None


@case("webhook.created")
def _(w):
    return w.admin, w.webhook, None, None


@case("webhook.updated")
def _(w):
    webhook = webhooks.update_webhook(w.admin, w.webhook.id, description="The CRM")
    return w.admin, webhook, {"description": ""}, {"description": "The CRM"}


@case("webhook.deleted")
def _(w):
    webhook = w.webhook
    webhooks.delete_webhook(w.admin, webhook.id)
    return w.admin, ("webhook", webhook.id), None, None


@case("webhook.secret_rotated")
def _(w):
    return w.admin, webhooks.rotate_secret(w.admin, w.webhook.id), None, None


@case("webhook.pinged")
def _(w):
    webhooks.send_ping(w.admin, w.webhook.id)
    return w.admin, w.webhook, None, None


@case("webhook.redelivered")
def _(w):
    ping = webhooks.send_ping(w.admin, w.webhook.id)
    webhooks.redeliver(w.admin, w.webhook.id, ping.id)
    return w.admin, w.webhook, None, None


@case("accounts.linked")
def _(w):
    return w.moderator, ("user", w.link.user_a_id), None, None


@case("accounts.unlinked")
def _(w):
    links.unlink_accounts(w.moderator, w.link.id)
    return w.moderator, ("user", w.link.user_a_id), None, None


@case("votes.reversed_between")
def _(w):
    votes.reverse_votes_between(w.moderator, w.link.user_a_id, w.link.user_b_id)
    return w.moderator, ("user", w.link.user_a_id), None, None


@case("topic.moved")
def _(w):
    elsewhere = make_category("Ideas")
    topic = topics.move_topic(w.moderator, w.question.id, elsewhere.id)
    return w.moderator, topic, {"category_id": w.category.id}, {"category_id": elsewhere.id}


@case("topic.pinned")
def _(w):
    return w.moderator, topics.set_pinned(w.moderator, w.question.id, True), {"pinned": False}, {"pinned": True}


@case("topic.locked")
def _(w):
    return w.moderator, topics.set_locked(w.moderator, w.question.id, True), {"locked": False}, {"locked": True}


@case("topic.closed_as_duplicate")
def _(w):
    original = ask(w.member, w.category, title="Exporting dashboards to PDF")
    topic = topics.close_as_duplicate(w.moderator, w.question.id, original.id)
    return w.moderator, topic, {"duplicate_of_id": None}, {"duplicate_of_id": original.id}


@case("topic.edited")
def _(w):
    topic = topics.edit_title_and_tags(w.moderator, w.question.id, title="Export a dashboard as PDF")
    return w.moderator, topic, {"title": "How do I export a dashboard?"}, {"title": "Export a dashboard as PDF"}


@case("topic.idea_status_changed")
def _(w):
    ideas.set_idea_status(w.moderator, w.idea.id, "planned", "On the roadmap")
    return w.moderator, w.idea, {"idea_status": "new"}, {"idea_status": "planned"}


@case("topic.answer_changed")
def _(w):
    topic = answers.accept(w.moderator, w.question.id, w.reply.id)
    return w.moderator, topic, {"solved_post_id": None}, {"solved_post_id": w.reply.id}


@case("post.edited")
def _(w):
    post = posts.edit_post(w.moderator, w.reply.id, "Use Share → Schedule export (weekly).")
    return (w.moderator, post, {"body": "Use Share → Schedule export."},
            {"body": "Use Share → Schedule export (weekly)."})


@case("post.deleted")
def _(w):
    return w.moderator, posts.delete_post(w.moderator, w.reply.id), {"deleted": False}, {"deleted": True}


@case("post.marked_official")
def _(w):
    staff_answer = answer(w.moderator, w.question, body="Share → Schedule export, then pick PDF.")
    official.mark_official(w.moderator, staff_answer.id)
    return w.moderator, staff_answer, None, None


@case("post.unmarked_official")
def _(w):
    staff_answer = answer(w.moderator, w.question, body="Share → Schedule export, then pick PDF.")
    official.mark_official(w.moderator, staff_answer.id)
    official.unmark_official(w.moderator, staff_answer.id)
    return w.moderator, staff_answer, None, None


@case("member_note.added")
def _(w):
    notes.add_member_note(w.moderator, w.member.id, "Asked twice about invoices; prefers email.")
    return w.moderator, w.member, None, None


@case("review.approved")
def _(w):
    flags.flag_post(trusted(w.make_user), w.reply.id, "spam")
    item = db.session.scalar(sa.select(ReviewItem).where(ReviewItem.post_id == w.reply.id))
    decisions.approve(w.moderator, item.id, "Reads fine")
    return w.moderator, w.reply, None, None


@case("review.hidden")
def _(w):
    flags.flag_post(trusted(w.make_user), w.reply.id, "spam")
    item = db.session.scalar(sa.select(ReviewItem).where(ReviewItem.post_id == w.reply.id))
    decisions.hide(w.moderator, item.id)
    return w.moderator, w.reply, {"hidden": False}, {"hidden": True}


@case("topic.merged")
def _(w):
    source = ask(w.member, w.category, title="Exporting dashboards to PDF")
    answer(established(w.make_user, name="Pia Helper"), source)
    target = restructure.merge_topics(w.moderator, source.id, w.question.id)
    return w.moderator, target, {"topic_id": source.id}, {"topic_id": w.question.id, "moved_posts": 2}


@case("topic.split")
def _(w):
    topic = restructure.split_topic(w.moderator, w.question.id, [w.reply.id], title="Scheduling PDF exports")
    return w.moderator, topic, {"topic_id": w.question.id}, {"topic_id": topic.id, "post_ids": [w.reply.id]}


def _flagged_item(w):
    flags.flag_post(trusted(w.make_user), w.reply.id, "spam")
    return db.session.scalar(sa.select(ReviewItem).where(ReviewItem.post_id == w.reply.id)).id


@case("review.deleted")
def _(w):
    decisions.decide(w.moderator, _flagged_item(w), "delete")
    return w.moderator, w.reply, {"deleted": False}, {"deleted": True}


@case("review.edited")
def _(w):
    decisions.decide(w.moderator, _flagged_item(w), "edit", body="Share → Schedule export.")
    return w.moderator, w.reply, None, None


@case("review.locked")
def _(w):
    decisions.decide(w.moderator, _flagged_item(w), "lock")
    return w.moderator, w.reply, None, None


@case("review.moved")
def _(w):
    elsewhere = make_category("Off topic", slug="off-topic")
    decisions.decide(w.moderator, _flagged_item(w), "move", category_id=elsewhere.id)
    return w.moderator, w.reply, None, None


@case("review.merged")
def _(w):
    original = ask(w.member, w.category, title="Exporting dashboards to PDF")
    decisions.decide(w.moderator, _flagged_item(w), "merge", into_topic_id=original.id)
    return w.moderator, w.reply, {"topic_id": w.question.id}, {"topic_id": original.id}


@case("review.split")
def _(w):
    decisions.decide(w.moderator, _flagged_item(w), "split", title="Scheduling exports")
    return w.moderator, w.reply, {"number": 2}, {"number": 1}


@case("settings.moderation_rules_changed")
def _(w):
    update_moderation_rules(w.admin, {"watched_words": "replica", "first_posts_to_hold": "1"})
    return w.admin, None, None, {"watched_words": ["replica"]}


def _target(target):
    if target is None:
        return None, None
    if isinstance(target, tuple):
        return target
    from portal.sqltypes import record_type

    return record_type(target), target.id


@pytest.mark.parametrize("action, perform", CASES)
def test_every_staff_write_leaves_exactly_its_audit_row(app, make_user, action, perform):
    """Does this staff write leave one audit row naming who, what, and the value before and after?"""
    world = World(make_user)
    last = db.session.scalar(sa.select(sa.func.max(AuditEntry.id))) or 0
    actor, target, before, after = perform(world)
    db.session.expire_all()
    rows = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.id > last, AuditEntry.action == action)).all()
    assert len(rows) == 1, [(r.action, r.details) for r in rows]
    entry = rows[0]
    assert entry.actor_id == actor.id
    assert (entry.target_type, entry.target_id) == _target(target)
    assert action in ACTION_LABELS
    described = audit_log.describe(entry)
    for expected, got in ((before, described.before), (after, described.after)):
        if isinstance(expected, dict):
            assert {key: got.get(key) for key in expected} == expected, (got, expected)
        elif expected is not None:
            assert got == expected


def test_the_table_covers_every_labelled_action():
    """Is there a completeness case for every action we label?"""
    covered = {param.values[0] for param in CASES}
    assert set(ACTION_LABELS) - covered == set()


def _audited_actions():
    """Every action code any audit(...) call in portal/ passes, read from the source."""
    found = {}
    for path in PORTAL.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "audit" \
                    and len(node.args) >= 2:
                for constant in ast.walk(node.args[1]):
                    if isinstance(constant, ast.Constant) and isinstance(constant.value, str):
                        found.setdefault(constant.value, str(path.relative_to(PORTAL)))
    return found


def test_every_action_the_code_audits_has_a_label():
    """Does every action code passed to audit() anywhere in portal/ have a label for the log?"""
    actions = _audited_actions()
    assert len(actions) > 40
    assert {code: where for code, where in actions.items() if code not in ACTION_LABELS} == {}


def test_members_using_their_own_privileges_are_not_audited(app, make_user):
    """Does a member editing their own post and topic stay out of the staff audit log?"""
    world = World(make_user)
    topic = world.question
    first = db.session.scalar(sa.select(Post).where(Post.topic_id == topic.id, Post.number == 1))
    posts.edit_post(world.member, first.id, "I need a PDF every Monday morning.")
    topics.edit_title_and_tags(world.member, topic.id, title="Export a dashboard every Monday")
    posts.delete_post(world.member, first.id)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


# -- describe() ------------------------------------------------------------------------------------------------------

def _entry(action, **details):
    return AuditEntry(action=action, details=details, occurred_at=utcnow())


@pytest.mark.parametrize("entry, before, after", [
    (_entry("user.role_changed", old="member", new="admin"), "member", "admin"),
    (_entry("lead.assigned", before={"owner_id": None}, after={"owner_id": 4}), {"owner_id": None}, {"owner_id": 4}),
    (_entry("webhook.updated", changes={"active": [True, False]}), {"active": True}, {"active": False}),
    (_entry("category.updated", name=["Q", "Q&A"]), {"name": "Q"}, {"name": "Q&A"}),
    (_entry("retention.reassigned", old_owner_id=1, new_owner_id=2, customer_id=9), 1, 2),
    (_entry("user.reactivated"), None, None),
], ids=["old-new", "before-after", "changes", "field-pairs", "owner-ids", "nothing"])
def test_describe_reads_every_shape_of_details(app, entry, before, after):
    """Whatever shape a service wrote, does describe() give one before and after?"""
    described = audit_log.describe(entry)
    assert (described.before, described.after) == (before, after)


def test_an_unknown_action_shows_its_code_and_known_ones_are_translated(app):
    """Does an action without a label fall back to its code, and a labelled one follow the language?"""
    assert audit_log.describe(_entry("something.new")).label == "something.new"
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        from flask_babel import force_locale

        with force_locale("zh_Hans_CN"):
            label = str(audit_log.describe(_entry("lead.assigned")).label)
    assert label  # translated where the catalogue has it, English otherwise; never empty


# -- who may read it -------------------------------------------------------------------------------------------------

URLS = ["/admin/audit", "/admin/audit.csv", "/api/v1/audit", "/api/v1/audit.csv"]


@pytest.mark.parametrize("url", URLS)
def test_a_visitor_is_sent_to_sign_in_or_told_401(client, url):
    """Does a visitor get the sign-in page (pages) or 401 (API)?"""
    response = client.get(url)
    if url.startswith("/api/"):
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthorized"
    else:
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("url", URLS)
def test_only_roles_that_view_the_audit_log_open_it(app, make_user, bearer, role, url):
    """Which roles may open the audit log, its CSV and its API? Only those holding VIEW_AUDIT_LOG: admins."""
    user = make_user(role)
    allowed = role == Role.ADMIN
    if url.startswith("/api/"):
        response = app.test_client().get(url, headers=bearer(user))
    else:
        response = app.test_client(user=user).get(url)
    assert response.status_code == (200 if allowed else 403)
    if not allowed and url.startswith("/api/"):
        assert response.get_json()["error"]["code"] == "forbidden"


def test_the_staff_menu_and_admin_tabs_offer_the_log_to_admins_only(app, make_user):
    """Do admins (and nobody else) see the audit log in the menu and the admin tabs?"""
    admin, moderator = make_user(Role.ADMIN), make_user(Role.MODERATOR)
    page = app.test_client(user=admin).get("/admin/users").get_data(as_text=True)
    assert page.count('href="/admin/audit"') >= 2
    assert 'href="/admin/audit"' not in app.test_client(user=moderator).get("/staff/customers").get_data(as_text=True)


# -- filters ----------------------------------------------------------------------------------------------------------

@pytest.fixture
def logged(app, make_user):
    """A small log: two actors, three areas, three days (entries written directly, at known times)."""
    ada, bo = make_user(Role.ADMIN, name="Ada"), make_user(Role.MODERATOR, name="Bo")
    customer = make_customer("Nordwind")
    day = datetime(2026, 3, 10, 12, tzinfo=UTC)
    rows = [
        audit(ada, "user.role_changed", bo, now=day - timedelta(days=2), old="member", new="moderator"),
        audit(bo, "customer.updated", customer, now=day - timedelta(days=1), before={"region": None},
              after={"region": "华东"}),
        audit(bo, "lead.claimed", None, now=day),
        audit(None, "customer.stage_changed", customer, now=day, old="prospect", new="customer", cause="rule"),
    ]
    db.session.commit()
    return {"ada": ada, "bo": bo, "customer": customer, "rows": rows}


def _ids(app, admin, bearer, **args):
    response = app.test_client().get("/api/v1/audit", query_string=args, headers=bearer(admin))
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


@pytest.mark.parametrize("args, expected", [
    ({}, [3, 2, 1, 0]),
    ({"actor": "ada"}, [0]),
    ({"actor": "bo"}, [2, 1]),
    ({"actor": "none"}, [3]),
    ({"action": "customer.updated"}, [1]),
    ({"action": "customer."}, [3, 1]),
    ({"target_type": "customer"}, [3, 1]),
    ({"target_type": "user", "target_id": "bo"}, [0]),
    ({"since": "2026-03-09"}, [3, 2, 1]),
    ({"until": "2026-03-09"}, [1, 0]),
    ({"since": "2026-03-09", "until": "2026-03-09"}, [1]),
])
def test_each_filter_narrows_the_log(app, logged, bearer, args, expected):
    """Does each filter (actor, action or area, object, dates) keep exactly the entries it names, newest first?"""
    people = {"ada": logged["ada"].id, "bo": logged["bo"].id}
    args = {key: str(people.get(value, value)) for key, value in args.items()}
    assert _ids(app, logged["ada"], bearer, **args) == [logged["rows"][n].id for n in expected]


def test_the_api_answers_the_list_shape_with_actor_label_and_details(app, logged, bearer):
    """Does each item carry who (id and name), the label, the target and the details as recorded?"""
    body = app.test_client().get("/api/v1/audit?per_page=2", headers=bearer(logged["ada"])).get_json()
    assert (body["page"], body["per_page"], body["total"]) == (1, 2, 4)
    stage, claim = body["items"]
    assert stage["actor"] is None and stage["label"] == "Lifecycle stage changed"
    assert stage["details"] == {"old": "prospect", "new": "customer", "cause": "rule"}
    assert claim["actor"] == {"id": logged["bo"].id, "name": "Bo"} and claim["target_type"] is None
    assert set(claim) == {"id", "occurred_at", "actor", "action", "label", "target_type", "target_id", "details",
                          "ip_address"}


@pytest.mark.parametrize("args, field", [
    ({"actor": "someone"}, "actor"),
    ({"action": "lead.exploded"}, "action"),
    ({"action": "nothing."}, "action"),
    ({"target_type": "spaceship"}, "target_type"),
    ({"target_type": "customer", "target_id": "x"}, "target_id"),
    ({"target_id": "3"}, "target_id"),
    ({"since": "10/03/2026"}, "since"),
    ({"since": "2026-03-10", "until": "2026-03-01"}, "until"),
    ({"page": "0"}, "page"),
    ({"per_page": "1000"}, "per_page"),
])
def test_bad_filters_are_422_naming_the_field_and_a_form_error_on_the_page(app, admin, bearer, args, field):
    """Does a filter that makes no sense answer 422 naming it (API, CSV) and show the error on the page?"""
    for url in ("/api/v1/audit", "/api/v1/audit.csv"):
        response = app.test_client().get(url, query_string=args, headers=bearer(admin))
        assert response.status_code == 422
        error = response.get_json()["error"]
        # Paging numbers no query can use are refused at the door for every view (portal.inputs): code "invalid".
        assert error["code"] in ("invalid_filters", "invalid") and field in error["fields"]
    page = app.test_client(user=admin).get("/admin/audit", query_string=args)
    assert page.status_code == 422
    if field not in ("page", "per_page"):
        html = page.get_data(as_text=True)
        assert 'class="alert alert--error"' in html and "input--error" in html


def test_the_page_shows_who_what_object_links_and_before_after(app, logged):
    """Does the page show each entry with its actor, label, a link to its object and before → after?"""
    html = app.test_client(user=logged["ada"]).get("/admin/audit").get_data(as_text=True)
    customer = logged["customer"]
    assert f'href="/staff/customers/{customer.id}"' in html
    assert f'href="/admin/users/{logged["bo"].id}"' in html
    assert "Customer record changed" in html and f"Customer record #{customer.id}" in html
    assert "华东" in html and "prospect" in html and "→" in html
    assert "Export CSV" in html and "/admin/audit.csv" in html


def test_the_export_keeps_the_filters(app, logged):
    """Does "Export CSV" on a filtered page export the same filter?"""
    html = app.test_client(user=logged["ada"]).get("/admin/audit?action=customer.").get_data(as_text=True)
    assert "/admin/audit.csv?action=customer." in html


def test_dates_on_the_page_are_the_viewers_days(app, make_user):
    """Does an admin in Shanghai filtering on a day see what happened on that day in Shanghai?"""
    admin = make_user(Role.ADMIN, timezone="Asia/Shanghai")
    late = audit(admin, "team.created", None, now=datetime(2026, 3, 9, 17, tzinfo=UTC))   # 3/10 01:00 in Shanghai
    db.session.commit()
    html = app.test_client(user=admin).get("/admin/audit?since=2026-03-10&until=2026-03-10").get_data(as_text=True)
    assert "Sales team created" in html
    assert late.id
    html = app.test_client(user=admin).get("/admin/audit?until=2026-03-09").get_data(as_text=True)
    assert "No entries match." in html


# -- the CSV -----------------------------------------------------------------------------------------------------------

def test_the_csv_has_its_columns_and_a_chinese_name_round_trips(app, make_user, bearer):
    """Does the CSV open in Excel (BOM) with when, who, what, object, before/after as JSON, and Chinese intact?"""
    admin = make_user(Role.ADMIN, name="王小明")
    customer = make_customer("云帆物流")
    audit(admin, "customer.updated", customer, now=datetime(2026, 3, 10, 8, tzinfo=UTC),
          before={"region": None}, after={"region": "华东"}, cause="电话确认")
    db.session.commit()
    for client, url, headers in ((app.test_client(user=admin), "/admin/audit.csv", {}),
                                 (app.test_client(), "/api/v1/audit.csv", bearer(admin))):
        response = client.get(url, headers=headers)
        assert response.status_code == 200 and response.mimetype == "text/csv"
        raw = response.get_data()
        assert raw.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        assert rows[0] == list(audit_log.EXPORT_COLUMNS)
        row = dict(zip(rows[0], rows[1], strict=True))
        assert row["occurred_at"] == "2026-03-10T08:00:00+00:00"
        assert (row["actor_id"], row["actor"]) == (str(admin.id), "王小明")
        assert (row["action"], row["label"]) == ("customer.updated", "Customer record changed")
        assert (row["target_type"], row["target_id"]) == ("customer", str(customer.id))
        assert row["before"] == '{"region": null}' and row["after"] == '{"region": "华东"}'
        assert row["details"] == '{"cause": "电话确认"}'


def test_the_csv_follows_the_filters(app, logged):
    """Does the page's CSV export only what the filters keep?"""
    body = app.test_client(user=logged["ada"]).get("/admin/audit.csv?action=customer.").get_data().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [row["action"] for row in rows] == ["customer.stage_changed", "customer.updated"]


# -- cost ---------------------------------------------------------------------------------------------------------

def test_the_page_costs_the_same_number_of_queries_for_many_actors(app, make_user):
    """Does a page of 50 entries by 50 people cost what a page of 2 by one person costs?"""
    admin = make_user(Role.ADMIN)
    client = app.test_client(user=admin)
    audit(admin, "team.created", None)
    audit(admin, "user.created", admin, role="admin")
    db.session.commit()
    client.get("/admin/audit")  # warm caches (settings, translations)
    with count_queries() as few:
        assert client.get("/admin/audit").status_code == 200
    for n in range(60):
        audit(make_user(Role.MODERATOR), "customer.updated", admin, before={"n": n}, after={"n": n + 1})
    db.session.commit()
    with count_queries() as many:
        assert client.get("/admin/audit").status_code == 200
    assert len(many) == len(few), "\n".join(many)
