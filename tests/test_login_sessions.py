"""Ending a session ends it on the server: cookies saved before logout, a password change, a
reset or a suspension open nothing afterwards; a suspension revokes API tokens for good."""
import pytest
import sqlalchemy as sa

from portal.admin import services as admin_services
from portal.auth import services
from portal.auth.models import ApiToken, LoginSession
from portal.extensions import db
from tests.conftest import PASSWORD

STRONG = "a much longer passphrase 42"


def _signed_in(app, user, remember=False):
    browser = app.test_client()
    data = {"email": user.email, "password": PASSWORD, **({"remember": "y"} if remember else {})}
    assert browser.post("/login", data=data).status_code == 302
    return browser


def _copy_of_cookies(browser, app, names=("session", "remember_token")):
    """A second browser holding the same cookies, as a thief with a saved copy would."""
    thief = app.test_client()
    copied = [cookie for (_domain, _path, name), cookie in browser._cookies.items() if name in names]
    assert copied, f"no {names} cookie to copy"
    for cookie in copied:
        thief.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    return thief


def _opens_the_account(browser):
    return browser.get("/account/profile").status_code == 200


def test_a_session_cookie_saved_before_logout_opens_nothing_after(app, member):
    browser = _signed_in(app, member)
    thief = _copy_of_cookies(browser, app, names=("session",))
    assert _opens_the_account(thief)
    assert browser.post("/logout").status_code == 302
    assert not _opens_the_account(thief)
    assert not _opens_the_account(browser)


def test_a_remember_cookie_saved_before_logout_opens_nothing_after(app, member):
    browser = _signed_in(app, member, remember=True)
    thief = _copy_of_cookies(browser, app, names=("remember_token",))  # no session cookie: remember-me alone
    assert _opens_the_account(thief)
    browser.post("/logout")
    assert not _opens_the_account(_copy_of_cookies(browser, app)) and not _opens_the_account(thief)


def test_logging_out_ends_only_this_browser(app, member):
    laptop, phone = _signed_in(app, member), _signed_in(app, member)
    laptop.post("/logout")
    assert _opens_the_account(phone)
    ended = db.session.scalars(sa.select(LoginSession.ended_at).where(LoginSession.user_id == member.id)).all()
    assert sorted(e is None for e in ended) == [False, True]


def test_a_password_change_ends_every_other_session_and_their_remember_cookies(app, member):
    laptop, phone = _signed_in(app, member), _signed_in(app, member, remember=True)
    remembered = _copy_of_cookies(phone, app, names=("remember_token",))
    response = laptop.post("/account/password", data={"current_password": PASSWORD, "new_password": STRONG})
    assert response.status_code == 302
    assert _opens_the_account(laptop)
    assert not _opens_the_account(phone) and not _opens_the_account(remembered)


def test_a_password_reset_ends_every_session(app, member, outbox):
    browser = _signed_in(app, member, remember=True)
    token = services.password_reset_token(member)
    services.reset_password(token, STRONG)
    assert not _opens_the_account(browser)
    assert not _opens_the_account(_copy_of_cookies(browser, app, names=("remember_token",)))


def test_suspension_ends_sessions_and_revokes_tokens_for_good(app, member, admin, bearer):
    browser = _signed_in(app, member, remember=True)
    headers = bearer(member)
    admin_services.suspend(admin, member.id, reason="spam")
    assert not _opens_the_account(browser)
    assert not _opens_the_account(_copy_of_cookies(browser, app, names=("remember_token",)))
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401

    admin_services.reactivate(admin, member.id)
    assert not _opens_the_account(browser)  # reactivation brings back no session ...
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401  # ... and no token
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)
                             .where(ApiToken.user_id == member.id, ApiToken.revoked_at.is_(None))) == 0
    assert _opens_the_account(_signed_in(app, member))  # signing in again works


def test_logging_out_is_recorded(app, member):
    from portal.events import Activity, Verb

    _signed_in(app, member).post("/logout")
    assert db.session.scalar(sa.select(Activity.actor_id).where(Activity.verb == Verb.LOGGED_OUT)) == member.id


def test_a_forged_login_id_opens_nothing(app, member):
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["_user_id"] = f"{member.id}:guessed-secret"
    assert not _opens_the_account(browser)
    with browser.session_transaction() as session:
        session["_user_id"] = str(member.id)  # the old cookie format
    assert not _opens_the_account(browser)


def test_what_is_read_with_the_session_user_is_theirs_and_this_requests_alone(app, make_user):
    from portal.auth.sessions import NOT_READ, read_along, read_with_user
    from portal.community import lists
    from portal.notices import NoticeVersion

    reader, someone_else = make_user(), make_user()
    db.session.add(NoticeVersion(user_id=reader.id, version=7))
    db.session.commit()
    client = app.test_client(user=reader)
    with client:
        assert client.get("/latest").status_code == 200
        assert read_along("notice_version", reader) == 7
        assert read_along("notice_version", someone_else) is NOT_READ  # another member's figure is never lent
        assert (read_along("list_version") or 0) == lists.list_version()  # (no row yet: None)
    with app.test_client() as visitor:
        visitor.get("/latest")
        assert read_along("list_version") is NOT_READ
    with pytest.raises(RuntimeError, match="too late"):
        read_with_user("latecomer", sa.select(sa.literal(1)).scalar_subquery())
