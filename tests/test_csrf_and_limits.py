"""CSRF on every browser form; rate limits on sign-in and registration."""
import re
import uuid

import pytest

from tests.conftest import PASSWORD, csrf_token_from


def browser_post_routes(app):
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and not rule.rule.startswith("/api/"):
            path = re.sub(r"<int:\w+>", "1", rule.rule)
            path = re.sub(r"<any\(([^,)]+)[^>]*>", r"\1", path)
            yield path.replace("<token>", "x").replace("<slug>", "x")


def test_every_browser_form_rejects_a_post_without_csrf_token(make_app, admin):
    """Is there any POST route outside the API that accepts a forged request?"""
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client(user=admin)
    routes = list(browser_post_routes(app))
    assert len(routes) >= 10
    for path in routes:
        response = client.post(path, data={"email": "x@example.com", "password": PASSWORD})
        assert response.status_code == 400, path
        assert "Your form expired" in response.get_data(as_text=True)


def test_forms_work_with_the_token(make_app, member):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": member.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302


@pytest.mark.parametrize("storage", ["memory", "redis"])
def test_login_is_rate_limited(make_app, member, storage, request):
    uri = "memory://" if storage == "memory" else request.getfixturevalue("redis_url")
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=uri, LOGIN_RATE_LIMIT="3 per minute",
                   RATELIMIT_KEY_PREFIX=f"teahouse-test-{uuid.uuid4().hex}")
    client = app.test_client()
    statuses = [client.post("/login", data={"email": member.email, "password": "wrong password 1"}).status_code
                for _ in range(4)]
    assert statuses == [422, 422, 422, 429]
    page = client.post("/login", data={"email": member.email, "password": PASSWORD})
    assert page.status_code == 429
    assert "Too many requests" in page.get_data(as_text=True)
    api = client.post("/api/v1/tokens", json={"email": member.email, "password": PASSWORD})
    assert api.status_code == 201  # a separate limit for the API endpoint


def test_registration_is_rate_limited_on_the_api(make_app):
    app = make_app(RATELIMIT_ENABLED=True, REGISTER_RATE_LIMIT="2 per minute")
    client = app.test_client()
    statuses = [client.post("/api/v1/register", json={"email": f"a{i}@example.com", "password": "x",
                                                      "name": "Someone"}).status_code for i in range(3)]
    assert statuses == [422, 422, 429]
    assert client.post("/api/v1/register", json={}).get_json()["error"]["code"] == "rate_limited"
