"""Accounts in the browser: register, sign in and out, passwords, profile, deletion."""
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.auth import services
from portal.auth.models import User, UserStatus
from portal.events import Activity, Verb
from portal.extensions import db
from tests.conftest import PASSWORD, PUBLIC_URL
from tests.crm_factories import make_customer

STRONG = "violet kettle mountain 42"


def activities(verb):
    return db.session.scalars(sa.select(Activity).where(Activity.verb == verb)).all()


# -- registration -------------------------------------------------------------

def test_register_signs_in_and_records_activity(client):
    """Can a visitor register, land signed in, and leave one activity behind?"""
    response = client.post("/register", data={"name": "Li Wei", "email": "Li.Wei@Example.com",
                                              "password": STRONG})
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.email == "li.wei@example.com"))
    assert user is not None and user.name == "Li Wei"
    assert user.password_hash.startswith("scrypt:")
    assert [a.actor_id for a in activities(Verb.REGISTERED)] == [user.id]
    assert "Li Wei" in client.get("/").get_data(as_text=True)


def test_register_links_customer_by_company_domain(client):
    make_customer("Xingchen Retail", domain="xingchen.example.cn")
    client.post("/register", data={"name": "Wang Fang", "email": "wang@xingchen.example.cn", "password": STRONG})
    user = db.session.scalar(sa.select(User).where(User.email == "wang@xingchen.example.cn"))
    assert user.customer.name == "Xingchen Retail"


@pytest.mark.parametrize("data, field, message", [
    ({"email": "not-an-email"}, "email", "Enter a valid email address."),
    ({"password": "short"}, "password", "Use at least 10 characters."),
    ({"password": "password123"}, "password", "too easy to guess"),
    ({"password": "x" * 129}, "password", "Field cannot be longer than 128 characters."),
    ({"name": "A"}, "name", "Enter a name of at least 2 characters."),
    ({"name": "N" * 81}, "name", "Field cannot be longer than 80 characters."),
    ({"email": ""}, "email", "This field is required."),
])
def test_register_rejects_bad_input_and_writes_nothing(client, data, field, message):
    """Does each kind of bad input get a clear form error and no account?"""
    form = {"name": "Li Wei", "email": "li@example.com", "password": STRONG, **data}
    response = client.post("/register", data=form)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    assert activities(Verb.REGISTERED) == []


def test_register_rejects_taken_email_case_insensitively(client, member):
    response = client.post("/register", data={"name": "Copy", "email": member.email.upper(), "password": STRONG})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "An account with this email already exists." in page
    assert 'href="/login"' in page and 'href="/forgot-password"' in page  # offers sign-in and a reset
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_the_remember_box_has_no_stray_aria_attribute(client):
    assert 'aria-describedby="None"' not in client.get("/login").get_data(as_text=True)


def test_display_name_loses_direction_overrides():
    with pytest.raises(services.Invalid):
        services.clean_name("\u202e\u202e")
    assert services.clean_name("Eve\u202egnp.exe") == "Evegnp.exe"


# -- sign in and out ------------------------------------------------------------

def test_login_and_logout(client, auth, member):
    response = auth.login(member.email)
    assert response.status_code == 302
    assert member.name in client.get("/").get_data(as_text=True)
    assert [a.actor_id for a in activities(Verb.LOGGED_IN)] == [member.id]
    auth.logout()
    assert 'href="/login"' in client.get("/").get_data(as_text=True)


def test_login_with_wrong_password_says_so_and_logs_nothing(client, auth, member):
    response = auth.login(member.email, "wrong password here")
    assert response.status_code == 422
    assert "Wrong email or password." in response.get_data(as_text=True)
    assert activities(Verb.LOGGED_IN) == []


def test_login_with_unknown_email_gives_the_same_answer(auth):
    response = auth.login("nobody@example.com")
    assert "Wrong email or password." in response.get_data(as_text=True)


def test_login_redirects_only_to_local_next(client, member):
    response = client.post("/login?next=https://evil.example/", data={"email": member.email, "password": PASSWORD})
    assert response.headers["Location"] == "/"
    response = client.post("/logout")
    response = client.post("/login?next=/account/profile", data={"email": member.email, "password": PASSWORD})
    assert response.headers["Location"] == "/account/profile"


def test_remember_me_sets_a_lasting_cookie(auth, member):
    response = auth.login(member.email, remember=True)
    cookies = response.headers.getlist("Set-Cookie")
    remember = next(c for c in cookies if c.startswith("remember_token="))
    assert "HttpOnly" in remember and "Expires=" in remember


def test_suspended_member_cannot_sign_in(auth, member):
    member.status = UserStatus.SUSPENDED
    db.session.commit()
    response = auth.login(member.email)
    assert response.status_code == 422
    assert "This account is suspended." in response.get_data(as_text=True)


def test_pages_for_members_send_visitors_to_login(client):
    response = client.get("/account/profile")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


# -- passwords -----------------------------------------------------------------------

def test_change_password_keeps_this_session_and_ends_the_others(make_app, member):
    app = make_app()
    this_device, other_device = app.test_client(), app.test_client()
    for device in (this_device, other_device):
        device.post("/login", data={"email": member.email, "password": PASSWORD})
    response = this_device.post("/account/password", data={"current_password": PASSWORD,
                                                           "new_password": STRONG})
    assert response.status_code == 302
    assert this_device.get("/account/profile").status_code == 200
    assert other_device.get("/account/profile").status_code == 302
    assert this_device.post("/logout").status_code == 302
    assert this_device.post("/login", data={"email": member.email, "password": STRONG}).status_code == 302


def test_change_password_needs_the_current_one(client, auth, member):
    auth.login(member.email)
    response = client.post("/account/password", data={"current_password": "nope nope nope",
                                                      "new_password": STRONG})
    assert response.status_code == 422
    assert "That is not your current password." in response.get_data(as_text=True)


def _reset_link(outbox):
    return re.search(r"https?://\S+/reset-password/\S+", outbox[-1].body).group(0)


def test_password_reset_by_email_works_once(client, member, outbox):
    """Does the emailed link set a new password, and refuse a second use?"""
    client.post("/forgot-password", data={"email": member.email})
    assert len(outbox) == 1 and outbox[0].to == [member.email]
    path = _reset_link(outbox).removeprefix(PUBLIC_URL)
    assert client.get(path).status_code == 200
    assert client.post(path, data={"password": STRONG}).status_code == 302
    assert services.authenticate(member.email, STRONG).id == member.id
    reused = client.post(path, data={"password": "another fine password 7"})
    assert reused.status_code == 400
    assert "already been used" in reused.get_data(as_text=True)


def test_password_reset_token_expires(app, member, monkeypatch):
    token = services.password_reset_token(member)
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    with pytest.raises(services.Invalid) as error:
        services.user_for_reset_token(token)
    assert error.value.code == "token_expired"


def test_password_reset_rejects_tampered_token(client):
    response = client.get("/reset-password/not-a-real-token")
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)


def test_reset_request_for_unknown_email_looks_the_same_and_sends_nothing(client, outbox):
    response = client.post("/forgot-password", data={"email": "nobody@example.com"}, follow_redirects=True)
    assert "If an account uses that address" in response.get_data(as_text=True)
    assert outbox == []


# -- profile and deletion -----------------------------------------------------------

def test_profile_update_records_changed_fields(client, auth, member):
    auth.login(member.email)
    response = client.post("/account/profile", data={"name": "New Name", "bio": "I run the Hangzhou store.",
                                                     "locale": "zh", "timezone": "Asia/Shanghai"})
    assert response.status_code == 302
    db.session.refresh(member)
    assert (member.name, member.locale, member.timezone) == ("New Name", "zh", "Asia/Shanghai")
    [activity] = activities(Verb.PROFILE_UPDATED)
    assert activity.payload == {"fields": ["bio", "locale", "name", "timezone"]}


@pytest.mark.parametrize("field, value, message", [
    ("timezone", "Mars/Olympus", "Not a valid choice."),
    ("bio", "b" * 501, "Field cannot be longer than 500 characters."),
    ("locale", "fr", "Not a valid choice."),
])
def test_profile_rejects_bad_input(client, auth, member, field, value, message):
    auth.login(member.email)
    data = {"name": member.name, "bio": "", "locale": "", "timezone": "UTC", field: value}
    response = client.post("/account/profile", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert activities(Verb.PROFILE_UPDATED) == []


def test_profile_service_rejects_unknown_timezone(member):
    with pytest.raises(services.Invalid) as error:
        services.update_profile(member, timezone="Mars/Olympus")
    assert "timezone" in error.value.fields


def test_member_page_shows_name_level_and_bio(client, member):
    member.bio = "Analytics lead at a retailer."
    db.session.commit()
    page = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert member.name in page and "Analytics lead" in page and "Newcomer" in page


def test_delete_account_anonymises_and_signs_out(client, auth, member, bearer):
    headers = bearer(member)
    auth.login(member.email)
    response = client.post("/account/delete", data={"password": PASSWORD, "confirm": "y"})
    assert response.status_code == 302
    db.session.refresh(member)
    assert member.status == UserStatus.DELETED
    assert member.email.endswith("@deleted.invalid") and member.name == "Former member"
    assert member.password_hash is None
    assert client.get("/account/profile").status_code == 302
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.get(f"/members/{member.id}").status_code == 404
    assert activities(Verb.ACCOUNT_DELETED)


def test_delete_account_needs_password(client, auth, member):
    auth.login(member.email)
    response = client.post("/account/delete", data={"password": "wrong password 1", "confirm": "y"})
    assert response.status_code == 422
    db.session.refresh(member)
    assert member.status == UserStatus.ACTIVE


def test_last_login_is_recorded(auth, member):
    auth.login(member.email)
    db.session.refresh(member)
    assert member.last_login_at is not None and member.last_login_at.utcoffset() == timedelta(0)
