"""Referrals: share links and codes, email invites, fraud rules, conversion, funnels and the API."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.auth.models import User, UserStatus
from portal.crm.lifecycle import change_lifecycle_stage
from portal.crm.models import Customer, LifecycleStage
from portal.errors import Forbidden, Invalid
from portal.events import Activity, Verb
from portal.extensions import db
from portal.permissions import Role
from portal.referrals import funnels, invites
from portal.referrals.codes import ATTRIBUTION_COOKIE, DEVICE_COOKIE
from portal.referrals.fraud import canonical_email
from portal.referrals.models import Referral, ReferralSource, ReferralStatus, Sighting
from portal.rewards.models import PointsEntry
from portal.sqltypes import utcnow
from tests.conftest import PUBLIC_URL
from tests.crm_factories import make_customer
from tests.helpers import count_queries

STRONG = "violet kettle mountain 42"
HOST = "teahouse.test"



# -- helpers ------------------------------------------------------------------------------------

def visitor(app, ip="198.51.100.20", device=None):
    """A browser of its own, from its own address (the self-referral rules compare addresses)."""
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = ip
    if device:
        browser.set_cookie(DEVICE_COOKIE, device, domain=HOST)
    return browser


def register(browser, email, name="Friend Person", code=""):
    return browser.post("/register", data={"name": name, "email": email, "password": STRONG,
                                           "referral_code": code})


def referral_of(email):
    return db.session.scalar(sa.select(Referral).join(User, User.id == Referral.invitee_id)
                             .where(User.email == email))


def referral_points(user):
    return [(e.rule, e.delta) for e in db.session.scalars(
        sa.select(PointsEntry).where(PointsEntry.user_id == user.id, PointsEntry.rule.like("refer%"))
        .order_by(PointsEntry.id))]


def activities(verb):
    return db.session.scalars(sa.select(Activity).where(Activity.verb == verb).order_by(Activity.id)).all()


def count(model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def invite(app, referrer, email):
    with app.test_request_context():
        return invites.invite_friend(referrer, email)


def seen_from(app, user, ip, device=None):
    """`user` signs in from a browser at `ip` (and device): a sighting the fraud rules can compare."""
    browser = visitor(app, ip=ip, device=device)
    assert browser.post("/login", data={"email": user.email, "password": "correct horse battery staple"}
                        ).status_code == 302
    return browser


# -- the share link -----------------------------------------------------------------------------

def test_landing_shows_the_referrer_and_a_signup_from_that_browser_counts(app, member):
    """Does a visitor who lands on a share link see who invites them, and count as their referral on joining?"""
    browser = visitor(app)
    page = browser.get(f"/r/{member.referral_code}")
    assert page.status_code == 200
    assert f"{member.name} invites you" in page.get_data(as_text=True)
    cookies = {c.split("=", 1)[0]: c for c in page.headers.getlist("Set-Cookie")}
    assert "HttpOnly" in cookies[ATTRIBUTION_COOKIE] and f"Max-Age={30 * 86400}" in cookies[ATTRIBUTION_COOKIE]
    assert "SameSite=Lax" in cookies[DEVICE_COOKIE]

    response = register(browser, "friend@example.org")
    assert response.status_code == 302
    assert f"{ATTRIBUTION_COOKIE}=;" in " ".join(response.headers.getlist("Set-Cookie"))  # spent
    referral = referral_of("friend@example.org")
    assert (referral.referrer_id, referral.status, referral.source) == (
        member.id, ReferralStatus.SIGNED_UP, ReferralSource.LINK)
    assert referral.ip_address == "198.51.100.20" and referral.device_id
    assert referral_points(member) == [("referral_signed_up", 20)]


def test_a_referred_signup_records_the_activity_leads_will_read(app, member):
    """Does a referred sign-up leave one REFERRAL_SIGNED_UP by the new member, naming both people?"""
    register(visitor(app), "friend@example.org", code=member.referral_code)
    friend = db.session.scalar(sa.select(User).where(User.email == "friend@example.org"))
    [signed_up] = activities(Verb.REFERRAL_SIGNED_UP)
    referral = referral_of(friend.email)
    assert (signed_up.actor_id, signed_up.object_type, signed_up.object_id) == (friend.id, "referral", referral.id)
    assert signed_up.payload == {"referrer_id": member.id, "invitee_id": friend.id, "source": "code"}
    assert activities(Verb.REGISTERED)[0].payload == {"referral_code": member.referral_code}


def test_an_expired_or_forged_link_cookie_credits_nobody(app, member, monkeypatch):
    """Does a link cookie older than REFERRAL_COOKIE_DAYS, or one not signed by us, count for nothing?"""
    import itsdangerous.timed

    browser = visitor(app)
    real = itsdangerous.timed.TimestampSigner.get_timestamp
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: real(self) - 31 * 86400)
    browser.get(f"/r/{member.referral_code}")
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", real)
    register(browser, "late@example.org")
    forged = visitor(app, ip="198.51.100.21")
    forged.set_cookie(ATTRIBUTION_COOKIE, member.referral_code, domain=HOST)
    register(forged, "forged@example.org")
    assert count(Referral) == 0 and count(User) == 3


def test_typed_code_wins_over_the_link(app, member, make_user):
    """Does a code typed into the form credit its owner, whatever link the browser came through?"""
    other = make_user()
    browser = visitor(app)
    browser.get(f"/r/{other.referral_code}")
    register(browser, "friend@example.org", code=f"  {member.referral_code} ")
    referral = referral_of("friend@example.org")
    assert (referral.referrer_id, referral.source) == (member.id, ReferralSource.CODE)


def test_unknown_code_is_a_field_error_and_writes_nothing(app, member):
    """Does a mistyped code in the form or the API say so on referral_code, and create no account?"""
    response = register(visitor(app), "friend@example.org", code="nope1234")
    assert response.status_code == 422
    assert "No member has this referral code" in response.get_data(as_text=True)
    api = visitor(app).post("/api/v1/register", json={"email": "friend@example.org", "password": STRONG,
                                                      "name": "Friend", "referral_code": "nope1234"})
    assert api.status_code == 422
    assert set(api.get_json()["error"]["fields"]) == {"referral_code"}
    assert count(User) == 1 and count(Referral) == 0 and count(Activity) == 0


def test_a_suspended_members_code_is_unknown(app, member):
    """Can a suspended member's link or code still bring anyone in?"""
    member.status = UserStatus.SUSPENDED
    db.session.commit()
    assert visitor(app).get(f"/r/{member.referral_code}").status_code == 404
    assert register(visitor(app), "friend@example.org", code=member.referral_code).status_code == 422


def test_unknown_link_is_a_friendly_404(app):
    """Does a dead share link explain itself and still offer to join?"""
    response = visitor(app).get("/r/doesnotexist")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "This invitation link" in page and 'href="/register"' in page
    assert ATTRIBUTION_COOKIE not in " ".join(response.headers.getlist("Set-Cookie"))
    assert visitor(app).get("/r/" + "x" * 40).status_code == 404


def test_members_opening_links_get_a_clear_message_and_no_cookie(app, member, make_user):
    """Does a member opening their own link, or someone else's, learn there's nothing to do?"""
    own = app.test_client(user=member).get(f"/r/{member.referral_code}")
    assert "This is your own invitation link" in own.get_data(as_text=True)
    other = app.test_client(user=make_user()).get(f"/r/{member.referral_code}")
    assert "You are already a member" in other.get_data(as_text=True)
    for response in (own, other):
        assert response.status_code == 200
        assert ATTRIBUTION_COOKIE not in " ".join(response.headers.getlist("Set-Cookie"))


# -- email invitations --------------------------------------------------------------------------

def test_invite_mails_the_friend_and_their_signup_counts_without_a_code(app, member, outbox):
    """Does an invite send one email with the link, and does the friend's sign-up count without a code?"""
    browser = app.test_client(user=member)
    response = browser.post("/referrals/invites", data={"email": "Friend@Example.org"})
    assert response.status_code == 302
    [mail] = outbox
    assert mail.to == ["friend@example.org"] and member.name in mail.subject
    assert f"{PUBLIC_URL}/r/{member.referral_code}" in mail.body
    pending = db.session.scalar(sa.select(Referral))
    assert (pending.status, pending.source, pending.invitee_id) == (ReferralStatus.INVITED, ReferralSource.INVITE, None)
    [invited] = activities(Verb.REFERRAL_INVITED)
    assert invited.actor_id == member.id and invited.object_id == pending.id

    register(visitor(app), "friend@example.org")
    referral = referral_of("friend@example.org")
    assert referral.id == pending.id
    assert (referral.status, referral.source) == (ReferralStatus.SIGNED_UP, ReferralSource.INVITE)
    assert referral_points(member) == [("referral_signed_up", 20)]


@pytest.mark.parametrize("email, status, code", [
    ("not-an-email", 422, "invalid"),
    ("someone@mailinator.com", 422, "disposable_email"),
    ("taken@example.org", 409, "already_member"),
    ("Me.Myself+friends@gmail.com", 422, "own_address"),
])
def test_bad_invites_are_refused_and_write_nothing(app, make_user, outbox, bearer, email, status, code):
    """Does each unsendable invitation get a clear error over the API and in the page, and write nothing?"""
    referrer = make_user(email="memyself@gmail.com")
    make_user(email="taken@example.org")
    response = app.test_client().post("/api/v1/me/referrals/invites", json={"email": email},
                                      headers=bearer(referrer))
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code and "email" in response.get_json()["error"]["fields"]
    page = app.test_client(user=referrer).post("/referrals/invites", data={"email": email})
    assert page.status_code == status and 'class="field__error"' in page.get_data(as_text=True)
    assert count(Referral) == 0 and outbox == [] and activities(Verb.REFERRAL_INVITED) == []


def test_inviting_the_same_address_twice_is_a_conflict(app, member, bearer, outbox):
    headers = bearer(member)
    client = app.test_client()
    first = client.post("/api/v1/me/referrals/invites", json={"email": "friend@example.org"}, headers=headers)
    assert first.status_code == 201
    again = client.post("/api/v1/me/referrals/invites", json={"email": "FRIEND@example.org"}, headers=headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_invited"
    assert count(Referral) == 1 and len(outbox) == 1


def test_invites_are_limited_per_day(app, member, bearer, outbox):
    """Is the invitation beyond REFERRAL_INVITES_PER_DAY refused with 429, in the API and the page?"""
    app.config["REFERRAL_INVITES_PER_DAY"] = 2
    headers, client = bearer(member), app.test_client()
    for n in range(2):
        assert client.post("/api/v1/me/referrals/invites", json={"email": f"f{n}@example.org"},
                           headers=headers).status_code == 201
    over = client.post("/api/v1/me/referrals/invites", json={"email": "f2@example.org"}, headers=headers)
    assert over.status_code == 429 and over.get_json()["error"]["code"] == "invite_limit"
    page = app.test_client(user=member).post("/referrals/invites", data={"email": "f3@example.org"})
    assert page.status_code == 429 and "2 invitations a day" in page.get_data(as_text=True)
    assert count(Referral) == 2 and len(outbox) == 2
    db.session.execute(sa.update(Referral).values(invited_at=utcnow() - timedelta(days=1)))
    db.session.commit()
    assert client.post("/api/v1/me/referrals/invites", json={"email": "f2@example.org"},
                       headers=headers).status_code == 201


# -- fraud rules --------------------------------------------------------------------------------

def assert_rejected(email, referrer, reason, detail_part):
    referral = referral_of(email)
    assert referral.status == ReferralStatus.REJECTED
    assert referral.fraud_reason == reason and detail_part in referral.fraud_detail
    [rejected] = [a for a in activities(Verb.REFERRAL_REJECTED) if a.object_id == referral.id]
    assert rejected.payload["reason"] == reason and rejected.actor_id == referral.invitee_id
    assert referral_points(referrer) == []
    return referral


def test_canonical_email_ignores_case_gmail_dots_and_tags():
    assert canonical_email("Jane.Doe+ref@GoogleMail.com") == "janedoe@gmail.com"
    assert canonical_email("jane.doe+x@example.org") == "jane.doe@example.org"


def test_self_referral_by_the_same_mailbox_is_rejected(app, make_user):
    referrer = make_user(email="jane.doe@gmail.com")
    register(visitor(app), "JaneDoe+again@googlemail.com", code=referrer.referral_code)
    assert_rejected("janedoe+again@googlemail.com", referrer, "same_email", "janedoe@gmail.com")


def test_self_referral_within_one_customer_account_is_rejected(app, make_user):
    customer = make_customer("Acme", domain="acme.example")
    referrer = make_user(email="boss@acme.example", customer_id=customer.id)
    register(visitor(app), "colleague@acme.example", code=referrer.referral_code)
    assert_rejected("colleague@acme.example", referrer, "same_customer", f"customer #{customer.id}")


def test_self_referral_from_the_referrers_address_is_rejected(app, member):
    seen_from(app, member, "203.0.113.9")
    register(visitor(app, ip="203.0.113.9"), "friend@example.org", code=member.referral_code)
    assert_rejected("friend@example.org", member, "same_ip", "203.0.113.9")


def test_self_referral_from_the_referrers_device_is_rejected(app, member):
    device = "d3v1ce-0f-the-referrer"
    seen_from(app, member, "203.0.113.9", device=device)
    register(visitor(app, ip="198.51.100.7", device=device), "friend@example.org", code=member.referral_code)
    assert_rejected("friend@example.org", member, "same_device", device[:12])


def test_sightings_older_than_the_fraud_window_do_not_count(app, member):
    seen_from(app, member, "203.0.113.9")
    db.session.execute(sa.update(Sighting).values(seen_at=utcnow() - timedelta(days=31)))
    db.session.commit()
    register(visitor(app, ip="203.0.113.9"), "friend@example.org", code=member.referral_code)
    assert referral_of("friend@example.org").status == ReferralStatus.SIGNED_UP


def test_disposable_addresses_are_rejected(app, member):
    register(visitor(app), "throwaway@sub.mailinator.com", code=member.referral_code)
    assert_rejected("throwaway@sub.mailinator.com", member, "disposable_email", "sub.mailinator.com")


def test_too_many_signups_per_code_per_day_are_rejected(app, member):
    app.config["REFERRAL_SIGNUPS_PER_CODE_PER_DAY"] = 2
    for n in range(3):
        response = visitor(app, ip=f"198.51.100.{n + 30}").post("/api/v1/register", json={
            "email": f"f{n}@example.org", "password": STRONG, "name": f"Friend {n}",
            "referral_code": member.referral_code})
        assert response.status_code == 201
    assert [referral_of(f"f{n}@example.org").status for n in range(2)] == [ReferralStatus.SIGNED_UP] * 2
    assert referral_of("f2@example.org").fraud_reason == "too_many_signups"
    assert referral_points(member) == [("referral_signed_up", 20)] * 2


def test_sightings_are_noted_once_a_day_per_address_and_device(app, member):
    seen_from(app, member, "203.0.113.9", device="d3v1ce-0f-the-referrer")
    seen_from(app, member, "203.0.113.9", device="d3v1ce-0f-the-referrer")
    seen_from(app, member, "203.0.113.10", device="d3v1ce-0f-the-referrer")
    assert sorted(db.session.execute(sa.select(Sighting.ip_address, Sighting.device_id)).all()) == [
        ("203.0.113.10", "d3v1ce-0f-the-referrer"), ("203.0.113.9", "d3v1ce-0f-the-referrer")]


def test_members_browsers_get_a_device_id_but_visitors_pages_set_no_cookie(app, member):
    assert DEVICE_COOKIE in " ".join(app.test_client(user=member).get("/").headers.getlist("Set-Cookie"))
    assert visitor(app).get("/").headers.getlist("Set-Cookie") == []
    assert visitor(app).get("/api/v1/categories").headers.getlist("Set-Cookie") == []


# -- conversion ---------------------------------------------------------------------------------

@pytest.fixture
def prospect():
    return make_customer("Friend Co", domain="friendco.example", lifecycle_stage=LifecycleStage.PROSPECT)


def test_first_purchase_converts_and_pays_both_once(app, member, moderator, prospect):
    """When the friend's account becomes a customer, do both sides earn their points exactly once?"""
    register(visitor(app), "buyer@friendco.example", code=member.referral_code)
    friend = db.session.scalar(sa.select(User).where(User.email == "buyer@friendco.example"))
    assert friend.customer_id == prospect.id

    change_lifecycle_stage(moderator, prospect.id, "customer", cause="first order")
    referral = referral_of(friend.email)
    assert referral.status == ReferralStatus.CONVERTED and referral.converted_at is not None
    [stage] = activities(Verb.CUSTOMER_STAGE_CHANGED)
    assert (stage.actor_id, stage.customer_id, stage.payload) == (
        moderator.id, prospect.id, {"from_stage": "prospect", "to_stage": "customer", "cause": "first order"})
    [converted] = activities(Verb.REFERRAL_CONVERTED)
    assert (converted.actor_id, converted.customer_id, converted.payload) == (
        moderator.id, prospect.id, {"referrer_id": member.id, "invitee_id": friend.id})
    assert referral_points(member) == [("referral_signed_up", 20), ("referral_converted", 200)]
    assert referral_points(friend) == [("referred_friend_converted", 50)]

    change_lifecycle_stage(None, prospect.id, "repeat_customer", cause="second order")
    change_lifecycle_stage(None, prospect.id, "churned_customer", cause="renewal lapsed")
    change_lifecycle_stage(None, prospect.id, "customer", cause="won back")
    assert len(activities(Verb.REFERRAL_CONVERTED)) == 1
    assert referral_points(member) == [("referral_signed_up", 20), ("referral_converted", 200)]
    assert referral_points(friend) == [("referred_friend_converted", 50)]


def test_a_rejected_referral_never_converts(app, make_user, prospect):
    referrer = make_user(email="boss@friendco.example", customer_id=prospect.id)
    register(visitor(app), "colleague@friendco.example", code=referrer.referral_code)
    change_lifecycle_stage(None, prospect.id, "customer", cause="import")
    assert referral_of("colleague@friendco.example").status == ReferralStatus.REJECTED
    assert activities(Verb.REFERRAL_CONVERTED) == [] and referral_points(referrer) == []


def test_changing_a_stage_needs_permission_and_a_real_stage(member, moderator, prospect):
    with pytest.raises(Forbidden):
        change_lifecycle_stage(member, prospect.id, "customer", cause="I say so")
    with pytest.raises(Invalid) as error:
        change_lifecycle_stage(moderator, prospect.id, "best_friend", cause="import")
    assert set(error.value.fields) == {"stage"}
    with pytest.raises(Invalid):
        change_lifecycle_stage(moderator, prospect.id, "customer", cause=" ")
    change_lifecycle_stage(moderator, prospect.id, "prospect", cause="no change")
    assert activities(Verb.CUSTOMER_STAGE_CHANGED) == []
    assert db.session.get(Customer, prospect.id).lifecycle_stage == LifecycleStage.PROSPECT


def test_the_crms_api_reports_a_first_purchase_and_the_referral_converts(app, client, bearer, member, moderator,
                                                                       admin, prospect):
    """When the company's CRM moves the friend's account to customer over the API, do both sides earn once?"""
    register(visitor(app), "buyer@friendco.example", code=member.referral_code)
    friend = db.session.scalar(sa.select(User).where(User.email == "buyer@friendco.example"))
    url = f"/api/v1/customers/{prospect.id}"
    body = {"lifecycle_stage": "customer", "cause": "First purchase (order 4711)"}
    assert client.patch(url, json=body, headers=bearer(member)).status_code == 403
    bad = client.patch(url, json={"lifecycle_stage": "best_friend", "cause": "x"}, headers=bearer(admin))
    assert bad.status_code == 422 and "lifecycle_stage" in bad.get_json()["error"]["fields"]
    assert client.patch("/api/v1/customers/999999", json=body, headers=bearer(admin)).status_code == 404
    assert referral_of(friend.email).status == ReferralStatus.SIGNED_UP
    headers = bearer(moderator)
    for _ in range(2):  # the CRM may send the same news twice
        answer = client.patch(url, json=body, headers=headers)
        assert answer.status_code == 200 and answer.get_json()["lifecycle_stage"] == "customer"
    assert referral_of(friend.email).status == ReferralStatus.CONVERTED
    assert referral_points(member) == [("referral_signed_up", 20), ("referral_converted", 200)]
    assert referral_points(friend) == [("referred_friend_converted", 50)]


# -- funnels ------------------------------------------------------------------------------------

def build_referrals(app, referrer, n, prefix="f", ip_base=40):
    """`n` friends of `referrer`: one pending invite, the rest joined, one of them rejected (disposable)."""
    invite(app, referrer, f"{prefix}-pending@example.org")
    for i in range(n - 2):
        register(visitor(app, ip=f"198.51.{ip_base}.{i}"), f"{prefix}{i}@example.org", code=referrer.referral_code)
    register(visitor(app, ip=f"198.51.{ip_base}.250"), f"{prefix}-x@yopmail.com", code=referrer.referral_code)


def test_member_sees_their_funnel_and_list_without_fraud_reasons(app, member, prospect):
    app.config["REFERRAL_SIGNUPS_PER_CODE_PER_DAY"] = 50
    build_referrals(app, member, 4)
    register(visitor(app, ip="198.51.100.99"), "buyer@friendco.example", code=member.referral_code)
    change_lifecycle_stage(None, prospect.id, "customer", cause="first order")
    assert funnels.member_funnel(member) == funnels.Funnel(invited=4, signed_up=3, converted=1, rejected=1)

    page = app.test_client(user=member).get("/referrals").get_data(as_text=True)
    assert member.referral_code in page and f"{PUBLIC_URL}/r/{member.referral_code}" in page
    assert "f-pending@example.org" in page and "Not counted" in page and "Became a customer" in page
    assert "disposable" not in page.lower() and "yopmail" not in page


def test_member_page_reads_in_a_fixed_number_of_queries(app, member):
    client = app.test_client(user=member)
    client.get("/referrals")  # the day's first visit is recorded once
    build_referrals(app, member, 3)
    with count_queries() as few:
        assert client.get("/referrals").status_code == 200
    app.config["REFERRAL_SIGNUPS_PER_CODE_PER_DAY"] = 50
    build_referrals(app, member, 9, prefix="g", ip_base=41)
    with count_queries() as many:
        client.get("/referrals")
    assert len(many) == len(few)


def test_staff_funnel_is_for_analytics_staff_only(app, member, moderator):
    assert app.test_client(user=member).get("/staff/referrals").status_code == 403
    assert app.test_client().get("/staff/referrals").status_code == 302
    assert app.test_client(user=moderator).get("/staff/referrals").status_code == 200
    menu = app.test_client(user=moderator).get("/").get_data(as_text=True)
    assert 'href="/staff/referrals"' in menu and 'href="/referrals"' in menu


def test_staff_funnel_shows_referrers_periods_and_rejections_in_fixed_queries(app, moderator, make_user):
    client = app.test_client(user=moderator)
    client.get("/staff/referrals")
    first = make_user(name="Ada Referrer")
    build_referrals(app, first, 3)
    with count_queries() as few:
        page = client.get("/staff/referrals?period=month").get_data(as_text=True)
    assert "Ada Referrer" in page and "Disposable email address" in page and "domain yopmail.com" in page
    app.config["REFERRAL_SIGNUPS_PER_CODE_PER_DAY"] = 50
    for n in range(4):
        build_referrals(app, make_user(name=f"Referrer {n}"), 4, prefix=f"r{n}", ip_base=50 + n)
    with count_queries() as many:
        client.get("/staff/referrals?period=month")
    assert len(many) == len(few)

    report = funnels.staff_funnel("week")
    assert report.totals == funnels.Funnel(invited=2 + 4 * 3, signed_up=1 + 4 * 2, converted=0, rejected=5)
    assert report.by_period[-1].funnel == report.totals and len(report.by_period) == 12
    assert [row.funnel.signed_up for row in report.by_referrer.items] == [2, 2, 2, 2, 1]
    assert len(report.top_referrers) == 5 and len(report.rejected) == 5


def test_period_starts_are_mondays_and_first_days():
    from datetime import date

    assert funnels.period_starts("week", 3, today=date(2026, 3, 4)) == [
        date(2026, 2, 16), date(2026, 2, 23), date(2026, 3, 2)]
    assert funnels.period_starts("month", 3, today=date(2026, 1, 15)) == [
        date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1)]


# -- API ----------------------------------------------------------------------------------------

def test_api_lists_my_referrals_with_code_link_and_funnel(app, member, bearer):
    build_referrals(app, member, 3)
    headers = bearer(member)
    body = app.test_client().get("/api/v1/me/referrals?per_page=2", headers=headers).get_json()
    assert body["code"] == member.referral_code and body["link"].endswith(f"/r/{member.referral_code}")
    assert body["funnel"] == {"invited": 2, "signed_up": 1, "converted": 0, "rejected": 1}
    assert (body["page"], body["per_page"], body["total"]) == (1, 2, 3) and len(body["items"]) == 2
    items = body["items"] + app.test_client().get("/api/v1/me/referrals?page=2&per_page=2",
                                                   headers=headers).get_json()["items"]
    by_status = {item["status"]: item for item in items}
    assert by_status["invited"]["invitee_email"] == "f-pending@example.org"
    assert by_status["signed_up"]["friend_name"] == "Friend Person" and by_status["signed_up"]["invitee_email"] is None
    assert "fraud_reason" not in by_status["rejected"]


def test_api_referrals_need_a_token_and_valid_paging(app, member, bearer):
    client = app.test_client()
    assert client.get("/api/v1/me/referrals").status_code == 401
    assert client.post("/api/v1/me/referrals/invites", json={"email": "a@example.org"}).status_code == 401
    assert client.get("/api/v1/me/referrals?page=0", headers=bearer(member)).status_code == 422
    bad = client.post("/api/v1/me/referrals/invites", json={"email": "a@example.org", "extra": 1},
                      headers=bearer(member))
    assert bad.status_code == 422 and count(Referral) == 0


def test_api_invite_answers_201_with_the_referral(app, member, bearer, outbox):
    response = app.test_client().post("/api/v1/me/referrals/invites", json={"email": "friend@example.org"},
                                      headers=bearer(member))
    assert response.status_code == 201
    body = response.get_json()
    assert (body["status"], body["source"], body["invitee_email"]) == ("invited", "invite", "friend@example.org")
    assert body["id"] == db.session.scalar(sa.select(Referral.id)) and len(outbox) == 1


def test_openapi_documents_the_referral_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/me/referrals"] and "201" in paths["/me/referrals/invites"]["post"]["responses"]


# -- privacy ------------------------------------------------------------------------------------

def test_deleting_an_account_leaves_no_address_in_referrals_or_sightings(app, member):
    browser = visitor(app)
    register(browser, "friend@example.org", code=member.referral_code)
    friend = db.session.scalar(sa.select(User).where(User.email == "friend@example.org"))
    assert browser.post("/account/delete", data={"password": STRONG, "confirm": "y"}).status_code == 302
    referral = db.session.scalar(sa.select(Referral))
    assert referral.invitee_email == f"deleted-{friend.id}@deleted.invalid" and referral.ip_address is None
    assert count(Sighting, Sighting.user_id == friend.id) == 0
    assert db.session.get(User, friend.id).role == Role.MEMBER
