"""Hostile and careless requests get a clean 4xx, never a 500: NUL bytes, lone surrogates,
numbers beyond any column, deep JSON, oversized bodies, CRLF in redirects.

The API part walks every route in the URL map, so a new endpoint is fuzzed
the day it is added. Run it on PostgreSQL too (which refuses NUL in text).
"""
import contextlib
import json
import re

import pytest
import sqlalchemy as sa

from portal.api.spec import openapi_document
from portal.extensions import db
from tests.community_factories import ask, established, make_category

HUGE = "99999999999999999999999"
HOSTILE_STRINGS = ["nul\x00byte", "\ud800", "x" * 10_000, "", " ", "²", "1e20", "-1", HUGE]
HOSTILE_VALUES = [*HOSTILE_STRINGS, None, True, 10**30, -(10**30), 1.5, [], {}, ["\x00"], {"a": "\x00"}]
HOSTILE_QUERIES = ["page=" + HUGE, "page=0", "page=-1", "page=abc", "per_page=" + HUGE, "category=%C2%B2",
                   "category=%00", "q=%00", "q=%ED%A0%80", "kind=%00", "tag=%00", "status=%00", "post=" + HUGE,
                   "quote=1e20", "quote=" + HUGE, "unread=%00", "period=%00", "updated_since=%00",
                   "sort=%00", "next=%0d%0aSet-Cookie:x=1", "filter=%00"]


@pytest.fixture
def stage(app, make_user, admin):
    category = make_category("Questions")
    author = established(make_user)
    topic = ask(author, category)
    return topic, admin


def _api_operations(app):
    """(method, path with ids filled in, body field names) for every API route."""
    document = openapi_document(app)
    schemas = document["components"]["schemas"]
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = body.get("schema", {}).get("$ref", "")
            fields = list(schemas.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}))
            yield method.upper(), "/api/v1" + re.sub(r"\{\w+\}", "1", path), fields


def _no_server_error(response, what):
    assert response.status_code < 500, f"{what} -> {response.status_code}: {response.get_data(as_text=True)[:300]}"


def test_every_api_route_survives_hostile_bodies_and_queries(app, stage, bearer):
    """Does any API route answer a 5xx to NUL, surrogates, huge numbers, wrong types or deep JSON?"""
    topic, admin = stage
    client, headers = app.test_client(), bearer(admin)
    operations = list(_api_operations(app))
    assert len(operations) >= 25
    for method, path, fields in operations:
        for query in HOSTILE_QUERIES:
            _no_server_error(client.open(f"{path}?{query}", method=method, headers=headers, json={}),
                             f"{method} {path}?{query}")
        huge_path = path.replace("/1", "/" + HUGE)
        _no_server_error(client.open(huge_path, method=method, headers=headers, json={}), f"{method} {huge_path}")
        for field in fields:
            for value in HOSTILE_VALUES:
                response = client.open(path, method=method, headers=headers, json={field: value})
                _no_server_error(response, f"{method} {path} {field}={value!r}"[:200])
                assert "error" in response.get_json() or response.status_code < 300
                db.session.rollback()
        for raw in ('{"email": "\\ud800", "password": "x"}', '{"a": "\\u0000"}', "[" * 100_000, "{" * 50,
                    '{"a": ' * 40 + "1" + "}" * 40, "\x00", "not json"):
            response = client.open(path, method=method, headers={**headers, "Content-Type": "application/json"},
                                   data=raw)
            _no_server_error(response, f"{method} {path} raw {raw[:30]!r}")
            assert response.is_json


@pytest.mark.parametrize("raw, status", [
    ('{"email": "\\u0000a@example.com", "password": "x"}', 422),
    ('{"email": "a@example.com", "password": "\\ud800"}', 422),
    ("[" * 100_000, 400),
    ('{"a": ' * 40 + "1" + "}" * 40, 400),
])
def test_unstorable_json_names_the_field(client, raw, status):
    response = client.post("/api/v1/tokens", data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    error = response.get_json()["error"]
    if status == 422:
        assert set(error["fields"]) & {"email", "password"}


@pytest.mark.parametrize("path", ["/c/%00", "/r/%00", "/search?q=%00", "/latest?page=" + HUGE, "/latest?page=0",
                                  "/latest?page=x",
                                  "/t/1?quote=1e20", "/t/1?quote=" + HUGE, "/t/1?post=" + HUGE,
                                  "/new?category=%C2%B2", "/leaderboard?category=%C2%B2", "/latest?category=%00",
                                  "/members/1?page=" + HUGE, "/notifications?page=" + HUGE,
                                  "/admin/users?q=%00", "/admin/users?page=" + HUGE, "/admin/tokens?page=" + HUGE,
                                  "/t/" + HUGE, "/badges/%00", "/locale?locale=%00&next=/%0d%0aSet-Cookie:x=1",
                                  "/login?next=/%0d%0aSet-Cookie:x=1"])
def test_hostile_pages_answer_4xx_or_a_page(app, stage, path):
    topic, admin = stage
    client = app.test_client(user=admin)
    response = client.get(path)
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    assert "\r" not in response.headers.get("Location", "") and "\n" not in response.headers.get("Location", "")


@pytest.mark.parametrize("data", [{"email": "a\x00@example.com", "password": "x"},
                                  {"email": "a@example.com", "password": "x\x00y"}])
def test_a_nul_in_a_form_is_a_field_error(client, data):
    response = client.post("/login", data=data)
    assert response.status_code == 422
    assert "can't be stored" in response.get_data(as_text=True)


def test_a_redirect_never_carries_crlf(client, member):
    response = client.post("/login?next=/%0d%0aSet-Cookie:evil=1", data={"email": member.email,
                                                                        "password": "correct horse battery staple"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "evil" not in response.headers.get("Set-Cookie", "")


@pytest.mark.parametrize("target", ["/\\evil.example", "/\t/evil.example", "//evil.example", "https://evil.example",
                                    "/ok\r\nX: y"])
def test_next_never_leaves_the_site(client, member, target):
    response = client.post("/login", query_string={"next": target},
                           data={"email": member.email, "password": "correct horse battery staple"})
    assert response.headers["Location"] == "/"


def test_a_body_over_the_limit_is_413_in_the_json_shape(make_app, member):
    app = make_app(MAX_CONTENT_LENGTH=64 * 1024)
    client = app.test_client()
    body = json.dumps({"email": member.email, "password": "x" * (20 * 1024 * 1024)})
    response = client.post("/api/v1/tokens", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"


def test_a_form_over_the_limit_is_413_on_a_styled_page(make_app):
    app = make_app(MAX_CONTENT_LENGTH=64 * 1024)
    response = app.test_client().post("/login", data={"email": "a@example.com", "password": "x" * 200_000})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "The request is too large." in page and "<html" in page


def test_the_default_request_limit_is_one_mebibyte(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024


def test_the_error_handler_rolls_back_a_broken_transaction(make_app, member, bearer):
    """A failed statement leaves the transaction aborted (PostgreSQL); the answer must still be the right shape."""
    app = make_app()

    def broken():
        with contextlib.suppress(sa.exc.DatabaseError):  # on PostgreSQL the transaction is now aborted
            db.session.execute(sa.text("SELECT * FROM no_such_table"))
        raise ValueError("boom")

    app.add_url_rule("/api/v1/_broken", "broken_api", broken)
    app.add_url_rule("/_broken", "broken_page", broken)
    api = app.test_client().get("/api/v1/_broken", headers=bearer(member))
    assert api.status_code == 500 and api.get_json()["error"]["code"] == "server_error"
    page = app.test_client(user=member).get("/_broken")  # the layout counts the reader's notifications
    assert page.status_code == 500 and "Something went wrong on our side." in page.get_data(as_text=True)


def _web_get_paths(app, topic_id):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.rule.startswith(("/api/", "/static")):
            path = re.sub(r"<int:\w+>", str(topic_id), rule.rule)
            path = re.sub(r"<any\(([^,)]+)[^>]*>", r"\1", path)
            yield re.sub(r"<\w+>", "x", path)


def test_every_page_survives_hostile_query_strings(app, stage):
    """Every GET page, as an admin (who reaches the most), with each hostile query: never a 5xx."""
    topic, admin = stage
    client = app.test_client(user=admin)
    paths = list(_web_get_paths(app, topic.id))
    assert len(paths) >= 30
    for path in paths:
        for query in HOSTILE_QUERIES:
            response = client.get(f"{path}?{query}")
            assert response.status_code < 500, f"{path}?{query} -> {response.status_code}"
            location = response.headers.get("Location", "")
            assert "\r" not in location and "\n" not in location
            response.close()  # as a server does: a streamed page (the CSV export) lets go of its context
