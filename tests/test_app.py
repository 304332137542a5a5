"""The shell every page lives in: home, errors, headers, cookies."""
import sqlalchemy as sa

from portal.community.models import Category
from portal.extensions import db


def test_home_page_lists_categories_for_visitors(client):
    """Does a visitor see the community's categories and a way to join?"""
    db.session.add(Category(name="Questions & Answers", slug="qa", description="Ask the community"))
    db.session.commit()
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Questions &amp; Answers" in page
    assert 'href="/register"' in page


def test_unknown_page_is_a_styled_404(client):
    """Does an unknown address answer a 404 page in the site's layout?"""
    response = client.get("/no-such-page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "That page does not exist." in page
    assert 'class="topbar"' in page


def test_server_error_is_a_styled_500_with_request_id(make_app, caplog):
    """Does a crash show a styled page with a reference that is also in the log?"""
    app = make_app()

    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    request_id = response.headers["X-Request-ID"]
    assert request_id in response.get_data(as_text=True)
    assert any(request_id in record.getMessage() and record.exc_info for record in caplog.records)


def test_api_server_error_is_json(make_app):
    app = make_app()

    @app.get("/api/v1/boom")
    def api_boom():
        raise RuntimeError("kaboom")

    response = app.test_client().get("/api/v1/boom")
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "server_error"


def test_security_headers_on_every_page(client):
    response = client.get("/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_session_cookie_is_httponly_and_samesite(client, member, auth):
    response = auth.login(member.email)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_page_queries_stay_constant(client, make_user):
    """Is the home page a fixed number of queries, however many members there are (from a cold cache and a
    warm one alike)?"""
    from portal.extensions import cache
    from tests.helpers import count_queries

    def measured():
        cache.clear()
        counts = []
        for _ in range(2):
            with count_queries() as statements:
                client.get("/")
            counts.append(len(statements))
        return counts

    make_user()
    few = measured()
    for _ in range(15):
        make_user()
    assert measured() == few
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Category)) == 0


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://teahouse.test")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_mail_renders_outside_any_request(app, member, outbox):
    """Can the CLI or the outbox worker send a mail (an invitation), with no request around it?"""
    from portal.referrals.invites import invite_friend

    invite_friend(member, "friend@partner.example")
    assert len(outbox) == 1 and member.referral_code in outbox[0].body


def test_private_responses_are_never_stored(app, make_app, member, bearer, make_user):
    """API answers, signed-in pages and pages that start a session carry Cache-Control: no-store."""
    from tests.community_factories import ask, established, make_category

    topic = ask(established(make_user), make_category("Questions"))
    api = app.test_client()
    assert api.get("/api/v1/me", headers=bearer(member)).headers["Cache-Control"] == "no-store"
    assert api.get("/api/v1/categories").headers["Cache-Control"] == "no-store"
    signed_in = app.test_client(user=member)
    for path in ("/", f"/t/{topic.id}", "/account/profile", "/notifications", "/category-colours.css"):
        assert signed_in.get(path).headers.get("Cache-Control") == "no-store", path
    with_csrf = make_app(WTF_CSRF_ENABLED=True).test_client()
    assert with_csrf.get("/login").headers.get("Cache-Control") == "no-store"  # its CSRF token is per visitor


def test_visitors_shared_pages_keep_their_own_policy(app, make_user):
    from tests.community_factories import ask, established, make_category

    topic = ask(established(make_user), make_category("Questions"))
    visitor = app.test_client()
    assert visitor.get(f"/t/{topic.id}").headers.get("Cache-Control") != "no-store"
    assert "public" in visitor.get("/category-colours.css").headers["Cache-Control"]
