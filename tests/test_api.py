"""The JSON API skeleton: tokens, register, me, errors, OpenAPI."""
import pytest
import sqlalchemy as sa

from portal.auth.models import ApiToken, User, UserStatus
from portal.events import Activity, Verb
from portal.extensions import db
from tests.conftest import PASSWORD

STRONG = "violet kettle mountain 42"


def assert_error(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def test_token_then_me(client, member):
    """Can a member trade credentials for a token and read their profile with it?"""
    response = client.post("/api/v1/tokens", json={"email": member.email, "password": PASSWORD})
    assert response.status_code == 201
    token = response.get_json()["token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    body = me.get_json()
    assert {k: body[k] for k in ("id", "email", "name", "role", "points")} == {
        "id": member.id, "email": member.email, "name": member.name, "role": "member", "points": 0}
    assert body["level"]["key"] == "newcomer"
    stored = db.session.scalar(sa.select(ApiToken))
    assert stored.token_hash != token and token not in stored.token_hash
    [login] = db.session.scalars(sa.select(Activity).where(Activity.verb == Verb.LOGGED_IN)).all()
    assert login.channel == "api"


def test_wrong_password_is_401(client, member):
    response = client.post("/api/v1/tokens", json={"email": member.email, "password": "bad password 123"})
    assert_error(response, 401, "invalid_credentials")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0


def test_suspended_user_gets_403_for_a_token(client, member):
    member.status = UserStatus.SUSPENDED
    db.session.commit()
    response = client.post("/api/v1/tokens", json={"email": member.email, "password": PASSWORD})
    assert_error(response, 403, "suspended")


def test_me_needs_a_token(client):
    assert_error(client.get("/api/v1/me"), 401, "unauthorized")
    assert_error(client.get("/api/v1/me", headers={"Authorization": "Bearer th_forged"}), 401, "unauthorized")
    assert_error(client.get("/api/v1/me", headers={"Authorization": "Basic abc"}), 401, "unauthorized")


def test_api_ignores_the_session_cookie(client, auth, member):
    """A signed-in browser is still anonymous to the API: it has no CSRF protection."""
    auth.login(member.email)
    assert client.get("/account/profile").status_code == 200
    assert_error(client.get("/api/v1/me"), 401, "unauthorized")


def test_revoked_token_stops_working(client, member, bearer):
    headers = bearer(member)
    [token] = client.get("/api/v1/tokens", headers=headers).get_json()["items"]
    response = client.delete(f"/api/v1/tokens/{token['id']}", headers=headers)
    assert response.status_code == 200 and response.get_json()["revoked_at"]
    assert_error(client.get("/api/v1/me", headers=headers), 401, "unauthorized")


def test_members_cannot_see_or_revoke_others_tokens(client, member, make_user, bearer):
    other = make_user()
    other_headers = bearer(other)
    mine = bearer(member)
    listing = client.get("/api/v1/tokens", headers=mine).get_json()
    assert listing["total"] == 1 and {t["user_id"] for t in listing["items"]} == {member.id}
    other_token_id = client.get("/api/v1/tokens", headers=other_headers).get_json()["items"][0]["id"]
    assert_error(client.delete(f"/api/v1/tokens/{other_token_id}", headers=mine), 404, "not_found")
    assert client.get("/api/v1/me", headers=other_headers).status_code == 200


def test_admin_lists_and_revokes_anyones_token(client, admin, member, bearer):
    member_headers = bearer(member)
    admin_headers = bearer(admin)
    listing = client.get("/api/v1/tokens", headers=admin_headers).get_json()
    assert listing["total"] == 2
    member_token = next(t for t in listing["items"] if t["user_id"] == member.id)
    assert client.delete(f"/api/v1/tokens/{member_token['id']}", headers=admin_headers).status_code == 200
    assert client.get("/api/v1/me", headers=member_headers).status_code == 401


def test_suspension_stops_tokens_at_once(client, member, bearer):
    headers = bearer(member)
    member.status = UserStatus.SUSPENDED
    db.session.commit()
    assert_error(client.get("/api/v1/me", headers=headers), 401, "unauthorized")


def test_register_over_api(client):
    response = client.post("/api/v1/register", json={"email": "new@example.com", "password": STRONG,
                                                     "name": "Chen Jing"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["name"] == "Chen Jing" and body["role"] == "member" and "id" in body
    activity = db.session.scalar(sa.select(Activity).where(Activity.verb == Verb.REGISTERED))
    assert activity.channel == "api"


@pytest.mark.parametrize("payload, field", [
    ({"email": "bad", "password": STRONG, "name": "Chen Jing"}, "email"),
    ({"email": "a@example.com", "password": "123", "name": "Chen Jing"}, "password"),
    ({"email": "a@example.com", "password": STRONG, "name": "C"}, "name"),
    ({"email": "a@example.com", "password": STRONG}, "name"),
    ({"email": "a@example.com", "password": STRONG, "name": "N" * 300}, "name"),
    ({"email": "a@example.com", "password": STRONG, "name": "Chen", "role": "admin"}, "role"),
])
def test_register_rejects_bad_input_with_field_errors(client, payload, field):
    error = assert_error(client.post("/api/v1/register", json=payload), 422, "invalid")
    assert field in error["fields"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_register_taken_email(client, member):
    error = assert_error(client.post("/api/v1/register", json={"email": member.email, "password": STRONG,
                                                               "name": "Copy Cat"}), 422, "email_taken")
    assert "email" in error["fields"]


def test_non_json_body_is_415(client):
    response = client.post("/api/v1/register", data="email=a", content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported_media_type")


def test_json_array_body_is_422(client):
    assert_error(client.post("/api/v1/register", json=[1, 2]), 422, "invalid")


def test_unknown_api_path_and_method_are_json(client):
    assert_error(client.get("/api/v1/nope"), 404, "not_found")
    assert_error(client.put("/api/v1/me"), 405, "method_not_allowed")


def test_openapi_describes_every_api_route(app, client):
    """Is every /api/v1 route and method in the OpenAPI document?"""
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = rule.rule.removeprefix("/api/v1")
        for arg in rule.arguments:
            path = path.replace(f"<int:{arg}>", f"{{{arg}}}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in document["paths"][path], f"{method} {rule.rule} missing"
    me = document["paths"]["/me"]["get"]
    schema_name = me["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert {"id", "email", "name", "role", "points", "level"} <= set(document["components"]["schemas"][schema_name]
                                                                    ["properties"])


def test_an_undocumented_api_route_breaks_the_document(make_app):
    from portal.api.spec import openapi_document

    app = make_app()
    app.add_url_rule("/api/v1/secret", "secret", lambda: "")
    with pytest.raises(LookupError):
        openapi_document(app)


def test_ids_too_large_for_the_database_are_not_found(client, member, bearer):
    headers = bearer(member)
    assert_error(client.delete("/api/v1/tokens/99999999999999999999", headers=headers), 404, "not_found")
    assert client.get("/members/99999999999999999999").status_code == 404
