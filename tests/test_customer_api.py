"""The customer API as the company's CRM uses it: upsert by external_id, patch, pull the 360, push touchpoints."""
import sqlalchemy as sa

from portal.crm.models import Customer
from portal.extensions import db
from portal.permissions import Role
from tests.crm_factories import make_customer


def test_post_upserts_by_external_id_201_then_200(app, client, moderator, make_user, bearer):
    headers = bearer(moderator)
    rep = make_user(Role.SALES, email="rep@example.com")
    body = {"external_id": "SF-001", "name": "Xingchen Retail", "company": "杭州星辰零售集团有限公司",
            "domains": ["hangzhou-retail.example.cn"], "value_tier": "key", "revenue": 1280000.5,
            "sales_owner": "rep@example.com", "products": [{"product": "Pro", "purchased_on": "2024-05-01",
                                                            "quantity": 40}]}
    created = client.post("/api/v1/customers", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    data = created.get_json()
    assert data["sales_owner"]["id"] == rep.id and data["revenue"] == "1280000.50"
    assert data["products"] == [{"product": "Pro", "purchased_on": "2024-05-01", "quantity": 40}]
    updated = client.post("/api/v1/customers", json={"external_id": "SF-001", "region": "East China"},
                          headers=headers)
    assert updated.status_code == 200 and updated.get_json()["region"] == "East China"
    assert updated.get_json()["company"] == "杭州星辰零售集团有限公司"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 1


def test_bad_input_answers_422_or_409_with_the_fields(app, client, moderator, bearer):
    headers = bearer(moderator)
    make_customer("Holder", external_id="SF-1")
    other = make_customer("Other", external_id="SF-2")
    bad = client.post("/api/v1/customers", json={"name": "X", "revenue": "lots", "renewal_date": "soon",
                                                 "colour": "blue"}, headers=headers)
    assert bad.status_code == 422 and {"revenue", "renewal_date", "colour"} <= set(bad.get_json()["error"]["fields"])
    taken = client.patch(f"/api/v1/customers/{other.id}", json={"external_id": "SF-1"}, headers=headers)
    assert taken.status_code == 409 and taken.get_json()["error"]["code"] == "external_id_taken"
    cleared = client.patch(f"/api/v1/customers/{other.id}", json={"name": ""}, headers=headers)
    assert cleared.status_code == 422 and "name" in cleared.get_json()["error"]["fields"]
    unknown_owner = client.patch(f"/api/v1/customers/{other.id}", json={"sales_owner": "ghost@example.com"},
                                 headers=headers)
    assert unknown_owner.status_code == 422 and "sales_owner" in unknown_owner.get_json()["error"]["fields"]


def test_the_list_filters_and_pages(app, client, moderator, bearer):
    headers = bearer(moderator)
    for n in range(7):
        make_customer(f"Key {n}", value_tier="key", region="Europe")
    make_customer("Standard one")
    page = client.get("/api/v1/customers?value_tier=key&region=europe&per_page=5&page=2", headers=headers).get_json()
    assert (page["total"], page["page"], page["per_page"], len(page["items"])) == (7, 2, 5, 2)
    assert client.get("/api/v1/customers?value_tier=gold", headers=headers).status_code == 422


def test_touchpoints_and_the_timeline_over_the_api(app, client, moderator, bearer):
    headers = bearer(moderator)
    customer = make_customer("Acme")
    url = f"/api/v1/customers/{customer.id}"
    body = {"channel": "ticket", "summary": "Export fails", "external_ref": "ZD-1",
            "occurred_at": "2026-11-01T10:00:00Z"}
    first = client.post(f"{url}/touchpoints", json=body, headers=headers)
    again = client.post(f"{url}/touchpoints", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200) and first.get_json()["id"] == again.get_json()["id"]
    future = client.post(f"{url}/touchpoints", json={"channel": "call", "summary": "x",
                                                     "occurred_at": "2999-01-01T00:00:00Z"}, headers=headers)
    assert future.status_code == 422 and "occurred_at" in future.get_json()["error"]["fields"]
    for n in range(4):
        client.post(f"{url}/notes", json={"body": f"Note {n}"}, headers=headers)
    seen, cursor = [], ""
    while True:
        page = client.get(f"{url}/timeline?kind=notes&kind=touchpoints&limit=2&before={cursor}", headers=headers)
        data = page.get_json()
        seen += [item["note"] or item["payload"].get("summary") for item in data["items"]]
        if not data["next_cursor"]:
            break
        cursor = data["next_cursor"]
    assert seen == ["Note 3", "Note 2", "Note 1", "Note 0", "Export fails"]
    assert client.get(f"{url}/timeline?before=garbage", headers=headers).status_code == 422
