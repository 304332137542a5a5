"""Leads over the API: the list and its filters, one lead with its reasons, claiming (once, under parallel
requests on PostgreSQL too), working it, bad input, permissions, the CSV and the OpenAPI document."""
import csv
import io
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from portal.auth.models import Team
from portal.crm.models import Customer, LifecycleStage
from portal.extensions import db
from portal.leads.models import Lead, LeadStatus
from portal.permissions import Role
from portal.sqltypes import utcnow
from tests.community_factories import ask, established, make_category
from tests.crm_factories import make_customer
from tests.test_races import at_once, token


@pytest.fixture
def lead(app, make_user):
    prospect = make_customer("Yunfan Logistics", lifecycle_stage=LifecycleStage.PROSPECT)
    asker = established(make_user, customer_id=prospect.id)
    ask(asker, make_category("Questions"), title="企业版报价", body="请问企业版的报价是多少？我们有 50 个用户。")
    made = db.session.scalar(sa.select(Lead))
    # Plain values: requests in the test end the session the row was loaded in.
    return SimpleNamespace(id=made.id, customer_id=made.customer_id)


@pytest.fixture
def rep(make_user):
    return make_user(Role.SALES)


def test_the_list_has_the_list_shape_and_the_top_reasons(client, bearer, lead, rep):
    response = client.get("/api/v1/leads", headers=bearer(rep))
    assert response.status_code == 200
    body = response.get_json()
    assert (body["page"], body["per_page"], body["total"]) == (1, 50, 1)
    [item] = body["items"]
    assert (item["id"], item["status"], item["kind"], item["source"]) == (lead.id, "pool", "new_business",
                                                                          "intent_words")
    assert item["customer"]["name"] == "Yunfan Logistics" and item["owner"] is None
    assert item["reasons"][0]["detail"]["terms"] == ["报价"] and item["reasons"][0]["post_id"]


def test_filters_by_status_kind_owner_and_updated_since(client, bearer, lead, rep):
    headers = bearer(rep)
    assert client.get("/api/v1/leads?status=claimed", headers=headers).get_json()["total"] == 0
    client.post(f"/api/v1/leads/{lead.id}/claim", headers=headers)
    assert client.get("/api/v1/leads?status=claimed&owner=me", headers=headers).get_json()["total"] == 1
    assert client.get("/api/v1/leads?status=open&kind=upsell", headers=headers).get_json()["total"] == 0
    assert client.get("/api/v1/leads?owner=none", headers=headers).get_json()["total"] == 0
    future = (utcnow() + timedelta(hours=1)).isoformat()
    assert client.get("/api/v1/leads", query_string={"updated_since": future},
                      headers=headers).get_json()["total"] == 0
    past = (utcnow() - timedelta(hours=1)).isoformat()
    assert client.get("/api/v1/leads", query_string={"updated_since": past, "sort": "updated"},
                      headers=headers).get_json()["total"] == 1


@pytest.mark.parametrize("query, field", [("status=gone", "status"), ("kind=cold", "kind"), ("owner=bob", "owner"),
                                          ("updated_since=yesterday", "updated_since"), ("sort=best", "sort"),
                                          ("per_page=500", "per_page")])
def test_bad_filters_are_422_naming_the_field(client, bearer, rep, query, field):
    response = client.get(f"/api/v1/leads?{query}", headers=bearer(rep))
    assert response.status_code == 422 and field in response.get_json()["error"]["fields"]


def test_one_lead_has_every_reason_and_its_notes(client, bearer, lead, rep):
    headers = bearer(rep)
    client.post(f"/api/v1/leads/{lead.id}/claim", headers=headers)
    client.patch(f"/api/v1/leads/{lead.id}", json={"note": "Called Li Wei; quote on Friday."}, headers=headers)
    body = client.get(f"/api/v1/leads/{lead.id}", headers=headers).get_json()
    assert body["owner"]["id"] == rep.id and body["due_at"] and body["overdue"] is False
    assert [r["kind"] for r in body["reasons"]] == ["intent_words"]
    assert body["reasons"][0]["half_life_days"] > 0 and body["reasons"][0]["points_now"] <= body["reasons"][0][
        "points"]
    assert [n["body"] for n in body["notes"]] == ["Called Li Wei; quote on Friday."]


def test_a_claim_on_a_claimed_lead_is_409_and_on_a_missing_one_404(client, bearer, lead, rep, make_user):
    assert client.post(f"/api/v1/leads/{lead.id}/claim", headers=bearer(rep)).status_code == 200
    response = client.post(f"/api/v1/leads/{lead.id}/claim", headers=bearer(make_user(Role.SALES)))
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "lead_taken"
    assert rep.name in response.get_json()["error"]["message"]
    assert client.post("/api/v1/leads/99999/claim", headers=bearer(rep)).status_code == 404


def test_working_a_lead_to_won_updates_the_customer(client, bearer, lead, rep):
    headers = bearer(rep)
    url = f"/api/v1/leads/{lead.id}"
    client.post(f"{url}/claim", headers=headers)
    assert client.patch(url, json={"status": "contacted", "note": "Demo booked."}, headers=headers).status_code == 200
    assert client.patch(url, json={"status": "qualified"}, headers=headers).status_code == 200
    response = client.patch(url, json={"status": "won", "value": 24000, "products": ["Lumina Enterprise"]},
                            headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["value"], body["products"]) == ("won", "24000.00", ["Lumina Enterprise"])
    customer = db.session.get(Customer, lead.customer_id)
    db.session.refresh(customer)
    assert str(customer.revenue) == "24000.00" and customer.lifecycle_stage == LifecycleStage.CUSTOMER


@pytest.mark.parametrize("change, status, code", [
    ({"status": "won", "value": -5}, 422, "invalid_lead_change"),
    ({"status": "won", "value": "a lot"}, 422, "invalid_lead_change"),
    ({"status": "won"}, 422, "invalid_lead_change"),
    ({"status": "lost"}, 422, "invalid_lead_change"),
    ({"status": "sideways"}, 422, "invalid_status"),
    ({"status": "claimed"}, 409, "bad_transition"),
    ({}, 422, "nothing_to_change"),
    ({"colour": "red"}, 422, "invalid"),
    ({"status": "won", "value": 5, "owner_id": 1}, 422, "one_change"),
])
def test_bad_changes_are_4xx_and_change_nothing(client, bearer, lead, rep, change, status, code):
    headers = bearer(rep)
    client.post(f"/api/v1/leads/{lead.id}/claim", headers=headers)
    response = client.patch(f"/api/v1/leads/{lead.id}", json=change, headers=headers)
    assert response.status_code == status and response.get_json()["error"]["code"] == code
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).status == LeadStatus.CLAIMED


def test_won_is_final_and_a_closed_lead_cant_be_claimed(client, bearer, lead, rep, make_user):
    headers = bearer(rep)
    url = f"/api/v1/leads/{lead.id}"
    client.post(f"{url}/claim", headers=headers)
    client.patch(url, json={"status": "won", "value": "100"}, headers=headers)
    response = client.patch(url, json={"status": "contacted"}, headers=headers)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "bad_transition"
    response = client.post(f"{url}/claim", headers=bearer(make_user(Role.SALES)))
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "lead_closed"


def test_a_rep_who_doesnt_own_a_lead_cant_patch_it(client, bearer, lead, rep, make_user):
    client.post(f"/api/v1/leads/{lead.id}/claim", headers=bearer(rep))
    other = bearer(make_user(Role.SALES))
    response = client.patch(f"/api/v1/leads/{lead.id}", json={"status": "contacted"}, headers=other)
    assert response.status_code == 404
    assert client.get(f"/api/v1/leads/{lead.id}", headers=other).status_code == 404
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).status == LeadStatus.CLAIMED


def test_pool_as_status_hands_the_lead_back(client, bearer, lead, rep):
    headers = bearer(rep)
    client.post(f"/api/v1/leads/{lead.id}/claim", headers=headers)
    body = client.patch(f"/api/v1/leads/{lead.id}", json={"status": "pool", "note": "Wrong region."},
                        headers=headers).get_json()
    assert (body["status"], body["owner"], body["times_returned"]) == ("pool", None, 1)
    assert body["notes"][-1]["body"] == "Wrong region."


def test_a_manager_gives_a_lead_to_a_rep_of_their_team(client, bearer, lead, make_user):
    team = Team(name="East")
    db.session.add(team)
    db.session.commit()
    manager, rep = make_user(Role.SALES_MANAGER, team_id=team.id), make_user(Role.SALES, team_id=team.id)
    outsider = make_user(Role.SALES)
    url = f"/api/v1/leads/{lead.id}"
    response = client.patch(url, json={"owner_id": outsider.id}, headers=bearer(manager))
    assert response.status_code == 422 and "owner_id" in response.get_json()["error"]["fields"]
    body = client.patch(url, json={"owner_id": rep.id}, headers=bearer(manager)).get_json()
    assert (body["status"], body["owner"]["id"]) == ("claimed", rep.id)
    response = client.patch(url, json={"owner_id": rep.id}, headers=bearer(rep))
    assert response.status_code == 403


@pytest.mark.parametrize("role, allowed", [(Role.MEMBER, False), (Role.MODERATOR, False), (Role.SALES, True),
                                           (Role.SALES_MANAGER, True), (Role.ADMIN, True)])
def test_only_sales_and_admins_reach_leads(client, bearer, lead, make_user, role, allowed):
    headers = bearer(make_user(role))
    for method, url, body in (("get", "/api/v1/leads", None), ("get", f"/api/v1/leads/{lead.id}", None),
                              ("get", "/api/v1/leads.csv", None),
                              ("post", f"/api/v1/leads/{lead.id}/claim", None),
                              ("patch", f"/api/v1/leads/{lead.id}", {"note": "Called them."})):
        response = getattr(client, method)(url, json=body, headers=headers)
        assert response.status_code == (200 if allowed else 403), (method, url)
    assert client.get("/api/v1/leads").status_code == 401


def test_members_never_see_that_they_are_a_lead(client, bearer, lead):
    member = db.session.get(Customer, lead.customer_id).users[0]
    topic_id = db.session.get(Lead, lead.id).signals[0].topic_id
    headers = bearer(member)
    for url in ("/api/v1/me", "/api/v1/notifications", f"/api/v1/topics/{topic_id}"):
        text = client.get(url, headers=headers).get_data(as_text=True)
        assert "lead" not in text.lower() and "intent_words" not in text, url


def test_the_csv_holds_the_filtered_list(client, bearer, lead, rep):
    response = client.get("/api/v1/leads.csv?status=pool", headers=bearer(rep))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["id", "status", "kind"]
    assert rows[1][0] == str(lead.id) and rows[1][6] == "Yunfan Logistics" and "intent_words" in rows[1][-1]
    assert len(rows) == 2
    empty = client.get("/api/v1/leads.csv?status=won", headers=bearer(rep)).get_data(as_text=True)
    assert len(list(csv.reader(io.StringIO(empty.lstrip("\ufeff"))))) == 1


def test_the_openapi_document_describes_the_lead_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/leads"] and {"get", "patch"} <= set(paths["/leads/{lead_id}"])
    assert "post" in paths["/leads/{lead_id}/claim"] and "get" in paths["/leads.csv"]


# -- parallel claims (PostgreSQL) -------------------------------------------------------------------

def test_of_many_reps_claiming_at_once_exactly_one_wins(app, lead, make_user):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("parallel requests only really overlap on PostgreSQL (TEST_DATABASE_URL)")
    reps = [make_user(Role.SALES) for _ in range(8)]
    headers = [token(app, rep) for rep in reps]
    responses = at_once(app, [lambda client, h=h: client.post(f"/api/v1/leads/{lead.id}/claim", headers=h)
                              for h in headers])
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * 7
    winner = next(rep for rep, r in zip(reps, responses, strict=True) if r.status_code == 200)
    claimed = db.session.get(Lead, lead.id)
    assert (claimed.status, claimed.owner_id) == (LeadStatus.CLAIMED, winner.id)
    from portal.events import Activity, Verb

    assert db.session.scalar(sa.select(sa.func.count()).select_from(Activity)
                             .where(Activity.verb == str(Verb.LEAD_CLAIMED))) == 1


def test_parallel_buying_posts_of_one_customer_make_one_lead(app, make_user):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("parallel requests only really overlap on PostgreSQL (TEST_DATABASE_URL)")
    customer = make_customer("Jinqiao", lifecycle_stage=LifecycleStage.PROSPECT)
    members = [established(make_user, customer_id=customer.id) for _ in range(6)]
    category = make_category("Questions")
    headers = [token(app, m) for m in members]
    body = {"category_id": category.id, "kind": "question", "title": "Quote for the enterprise plan?",
            "body": "Could we get a quote for 30 seats?"}
    responses = at_once(app, [lambda client, h=h: client.post("/api/v1/topics", json=body, headers=h)
                              for h in headers])
    assert [r.status_code for r in responses] == [201] * 6
    [only] = db.session.scalars(sa.select(Lead).where(Lead.customer_id == customer.id)).all()
    assert len(only.signals) == 6
