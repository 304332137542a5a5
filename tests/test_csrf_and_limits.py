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


def limited_app(make_app, storage_uri="memory://", prefix=None, **limits):
    return make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=storage_uri,
                    RATELIMIT_KEY_PREFIX=prefix or f"teahouse-test-{uuid.uuid4().hex}", **limits)


@pytest.mark.parametrize("storage", ["memory", "redis"])
def test_login_is_rate_limited(make_app, member, storage, request):
    uri = "memory://" if storage == "memory" else request.getfixturevalue("redis_url")
    app = limited_app(make_app, uri, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    statuses = [client.post("/login", data={"email": member.email, "password": "wrong password 1"}).status_code
                for _ in range(4)]
    assert statuses == [422, 422, 422, 429]
    page = client.post("/login", data={"email": member.email, "password": PASSWORD})
    assert page.status_code == 429
    assert "Too many requests" in page.get_data(as_text=True)


def test_the_sign_in_form_and_the_token_endpoint_share_one_bucket(make_app, member):
    """Ten tries at the form and ten at POST /api/v1/tokens would be twenty: they must be ten."""
    client = limited_app(make_app, LOGIN_RATE_LIMIT="3 per minute").test_client()
    assert client.post("/login", data={"email": member.email, "password": "wrong password 1"}).status_code == 422
    assert client.post("/api/v1/tokens", json={"email": member.email, "password": "nope"}).status_code == 401
    assert client.post("/api/v1/tokens", json={"email": member.email, "password": PASSWORD}).status_code == 201
    assert client.post("/api/v1/tokens", json={"email": member.email, "password": PASSWORD}).status_code == 429
    assert client.post("/login", data={"email": member.email, "password": PASSWORD}).status_code == 429


def test_registration_by_form_and_by_api_share_one_bucket(make_app):
    client = limited_app(make_app, REGISTER_RATE_LIMIT="2 per minute").test_client()
    assert client.post("/register", data={"email": "a@example.com", "password": "x", "name": "S"}).status_code == 422
    assert client.post("/api/v1/register", json={"email": "b@example.com", "password": "x",
                                                 "name": "Someone"}).status_code == 422
    assert client.post("/api/v1/register", json={}).get_json()["error"]["code"] == "rate_limited"
    assert client.post("/register", data={"email": "c@example.com"}).status_code == 429


def test_failed_sign_ins_are_limited_per_account_from_any_address(make_app, member, make_user):
    """An attacker spreading guesses over many addresses still gets a few tries per account."""
    app = limited_app(make_app, LOGIN_RATE_LIMIT="100 per minute", LOGIN_ACCOUNT_RATE_LIMIT="3 per minute")
    other = make_user()

    def attempt(ip, user, password, api=False):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = ip
        if api:
            return client.post("/api/v1/tokens", json={"email": user.email, "password": password}).status_code
        return client.post("/login", data={"email": user.email.upper(), "password": password}).status_code

    assert attempt("203.0.113.9", member, PASSWORD) == 302  # successes don't count
    assert [attempt(f"203.0.113.{n}", member, "wrong password 1", api=n % 2) for n in range(3)] == [422, 401, 422]
    assert attempt("198.51.100.1", member, PASSWORD) == 429  # even the right password, for now
    assert attempt("198.51.100.1", member, PASSWORD, api=True) == 429
    assert attempt("198.51.100.1", other, PASSWORD) == 302  # other accounts are not affected


def test_with_redis_every_process_counts_into_the_same_buckets(make_app, make_user, redis_url):
    """Two app processes (here: two app instances) behind one proxy: the limit is shared."""
    prefix = f"teahouse-test-{uuid.uuid4().hex}"
    member = make_user(email=f"{prefix}@example.com")
    first, second = (limited_app(make_app, redis_url, prefix, LOGIN_RATE_LIMIT="2 per minute").test_client()
                     for _ in range(2))
    assert first.post("/login", data={"email": member.email, "password": "wrong password 1"}).status_code == 422
    assert second.post("/api/v1/tokens", json={"email": member.email, "password": "x"}).status_code == 401
    assert first.post("/login", data={"email": member.email, "password": PASSWORD}).status_code == 429
    assert second.post("/login", data={"email": member.email, "password": PASSWORD}).status_code == 429
    import redis

    # The counts live in Redis, where every process sees them (the per-account bucket is named by the email).
    assert redis.Redis.from_url(redis_url).keys(f"*account:{member.email}*")
