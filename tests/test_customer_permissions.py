"""Every staff customer page and API endpoint, walked with every role: who sees what, and members nothing."""
import pytest
import sqlalchemy as sa

from portal.audit import AuditEntry
from portal.crm.models import Customer
from portal.events import Activity
from portal.extensions import db
from portal.permissions import Role
from tests.crm_factories import make_customer

VISITOR = "visitor"
MODERATE = {Role.MODERATOR: 200, Role.ADMIN: 200}
# (path, {role: status}); a role left out gets 403. The customer belongs to no sales rep, so sales reps
# (whose scope is their own customers) find it doesn't exist.
PAGES = [
    ("/staff/", {**MODERATE, Role.SALES: 200, Role.SALES_MANAGER: 200}),
    ("/staff/customers/", {**MODERATE, Role.SALES: 200, Role.SALES_MANAGER: 200}),
    ("/staff/customers/export.csv", {**MODERATE, Role.SALES: 200, Role.SALES_MANAGER: 200}),
    ("/staff/customers/{id}", {**MODERATE, Role.SALES: 404, Role.SALES_MANAGER: 404}),
    ("/staff/customers/{id}/edit", MODERATE),
    ("/staff/customers/new", MODERATE),
    ("/staff/customers/conflicts", MODERATE),
    ("/staff/customers/freshness", MODERATE),
    ("/staff/customers/import", MODERATE),
]
API_READS = [
    ("/api/v1/customers", {**MODERATE, Role.SALES: 200, Role.SALES_MANAGER: 200}),
    ("/api/v1/customers/{id}", {**MODERATE, Role.SALES: 404, Role.SALES_MANAGER: 404}),
    ("/api/v1/customers/{id}/timeline", {**MODERATE, Role.SALES: 404, Role.SALES_MANAGER: 404}),
]
API_WRITES = [
    ("post", "/api/v1/customers", {"name": "Walked in", "external_id": "W-1"}, {Role.MODERATOR: 201, Role.ADMIN: 201}),
    ("patch", "/api/v1/customers/{id}", {"region": "Europe"}, MODERATE),
    ("post", "/api/v1/customers/{id}/touchpoints", {"channel": "call", "summary": "Hello"},
     {Role.MODERATOR: 201, Role.ADMIN: 201, Role.SALES: 404, Role.SALES_MANAGER: 404}),
    ("post", "/api/v1/customers/{id}/notes", {"body": "Hello"},
     {Role.MODERATOR: 201, Role.ADMIN: 201, Role.SALES: 404, Role.SALES_MANAGER: 404}),
]
FORM_POSTS = [
    ("/staff/customers/new", {"name": "Walked in", "source": "staff", "value_tier": "standard",
                              "lifecycle_stage": "prospect"}, {Role.MODERATOR: 302, Role.ADMIN: 302}),
    ("/staff/customers/{id}/edit", {"name": "Renamed", "source": "staff", "value_tier": "standard",
                                    "lifecycle_stage": "prospect"}, {Role.MODERATOR: 302, Role.ADMIN: 302}),
    ("/staff/customers/{id}/notes", {"body": "Hello"},
     {Role.MODERATOR: 302, Role.ADMIN: 302, Role.SALES: 302, Role.SALES_MANAGER: 302}),
    ("/staff/customers/{id}/touchpoints", {"channel": "call", "summary": "Hello"},
     {Role.MODERATOR: 302, Role.ADMIN: 302, Role.SALES: 302, Role.SALES_MANAGER: 302}),
    ("/staff/customers/{id}/verify", {}, {Role.MODERATOR: 302, Role.ADMIN: 302}),
    ("/staff/customers/{id}/members", {"email": "nobody@example.com"}, {Role.MODERATOR: 302, Role.ADMIN: 302}),
    ("/staff/customers/conflicts/link", {"user_id": 1, "customer_id": 1}, {Role.MODERATOR: 302, Role.ADMIN: 302}),
    ("/staff/customers/conflicts/release", {"customer_id": 1, "domain": "x.example"},
     {Role.MODERATOR: 302, Role.ADMIN: 302}),
]
ROLES = [VISITOR, *Role]


def _client(app, make_user, role):
    return app.test_client() if role == VISITOR else app.test_client(user=make_user(role))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path, allowed", PAGES)
def test_staff_customer_pages(app, make_user, role, path, allowed):
    customer = make_customer("Acme")
    response = _client(app, make_user, role).get(path.format(id=customer.id))
    assert response.status_code == (302 if role == VISITOR else allowed.get(role, 403))
    if role == Role.MEMBER:
        assert "Acme" not in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path, allowed", API_READS)
def test_customer_api_reads(app, client, make_user, bearer, role, path, allowed):
    customer = make_customer("Acme")
    headers = {} if role == VISITOR else bearer(make_user(role))
    response = client.get(path.format(id=customer.id), headers=headers)
    assert response.status_code == (401 if role == VISITOR else allowed.get(role, 403))
    assert "Acme" not in response.get_data(as_text=True) or allowed.get(role) == 200


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method, path, body, allowed", API_WRITES)
def test_customer_api_writes(app, client, make_user, bearer, role, method, path, body, allowed):
    customer = make_customer("Acme")
    headers = {} if role == VISITOR else bearer(make_user(role))
    response = getattr(client, method)(path.format(id=customer.id), json=body, headers=headers)
    expected = 401 if role == VISITOR else allowed.get(role, 403)
    assert response.status_code == expected, response.get_json()
    if expected >= 400:
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 1


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path, data, allowed", FORM_POSTS)
def test_staff_customer_form_posts(app, make_user, role, path, data, allowed):
    customer = make_customer("Acme")
    response = _client(app, make_user, role).post(path.format(id=customer.id), data=data)
    expected = 302 if role == VISITOR else allowed.get(role, 403)
    if allowed.get(role) == 302 and role in (Role.SALES, Role.SALES_MANAGER):
        expected = 302  # the refusal (not their customer) is a flash on the way back; nothing is written
    assert response.status_code == expected
    if role in (VISITOR, Role.MEMBER, Role.SALES, Role.SALES_MANAGER):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Activity)) == 0 or role != VISITOR


def test_a_sales_rep_sees_the_customers_they_own(app, client, make_user, bearer):
    rep = make_user(Role.SALES)
    mine = make_customer("Mine", owner_rep_id=rep.id)
    make_customer("Not mine")
    headers = bearer(rep)
    listed = client.get("/api/v1/customers", headers=headers).get_json()
    assert [c["name"] for c in listed["items"]] == ["Mine"] and listed["total"] == 1
    assert client.get(f"/api/v1/customers/{mine.id}", headers=headers).status_code == 200
    assert client.post(f"/api/v1/customers/{mine.id}/notes", json={"body": "Called them"},
                       headers=headers).status_code == 201
    page = app.test_client(user=rep).get(f"/staff/customers/{mine.id}")
    assert page.status_code == 200 and "Called them" in page.get_data(as_text=True)
