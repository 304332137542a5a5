"""The whole handoff, as a company sees it: a prospect's member asks for a 报价, sales find the lead in the pool
with its reason, a rep claims it and works it to won, the customer record takes the sale, and the company's CRM
hears every step through a signed webhook, here a real HTTP server on 127.0.0.1."""
import json

import sqlalchemy as sa

from portal.crm.models import Customer, LifecycleStage, ValueTier
from portal.extensions import db
from portal.leads.models import Lead
from portal.permissions import Role
from tests.community_factories import established, make_category
from tests.crm_factories import make_customer

# The webhooks tests' fixtures: an app that may send to 127.0.0.1, and a receiver there.
from tests.test_webhooks import app, receiver, signature_is_valid  # noqa: F401,F811

EVENTS = ["lead.created", "lead.claimed", "lead.status_changed", "customer.stage_changed"]


def test_a_chinese_quote_question_becomes_a_won_sale_and_the_crm_hears_each_step(app, make_user, bearer, receiver):  # noqa: F811
    admin, rep = make_user(Role.ADMIN), make_user(Role.SALES)
    created = app.test_client().post("/api/v1/webhooks", headers=bearer(admin), json={
        "url": f"http://127.0.0.1:{receiver.server_port}/hooks/teahouse", "events": EVENTS})
    assert created.status_code == 201, created.get_json()
    webhook = created.get_json()

    prospect = make_customer("Yunfan Logistics", lifecycle_stage=LifecycleStage.PROSPECT)
    asker = established(make_user, customer_id=prospect.id, name="Li Wei")
    category = make_category("Questions")
    asked = app.test_client(user=asker).post("/new", data={
        "category_id": category.id, "kind": "question", "title": "企业版的报价是多少？",
        "body": "我们有 50 个用户，想了解企业版的价格和合同期限。", "tags": ""})
    assert asked.status_code == 302

    lead_id = db.session.scalar(sa.select(Lead.id).where(Lead.customer_id == prospect.id))
    sales = app.test_client(user=rep)
    pool = sales.get("/sales/leads").get_data(as_text=True)
    assert "Yunfan Logistics" in pool and "报价" in pool        # the reason, in the member's own words
    assert "报价" in str(sales.get(f"/api/v1/leads/{lead_id}", headers=bearer(rep)).get_json()["reasons"])

    headers = bearer(rep)
    assert sales.post(f"/api/v1/leads/{lead_id}/claim", headers=headers).status_code == 200
    for change in ({"status": "contacted", "note": "Called Li Wei, demo on Thursday."}, {"status": "qualified"},
                   {"status": "won", "value": 48000, "products": ["Lumina Analytics Enterprise"]}):
        response = sales.patch(f"/api/v1/leads/{lead_id}", json=change, headers=headers)
        assert response.status_code == 200, response.get_json()

    customer = db.session.get(Customer, prospect.id)
    assert str(customer.revenue) == "48000.00" and customer.value_tier == ValueTier.KEY
    assert customer.lifecycle_stage == LifecycleStage.CUSTOMER

    received = [(json.loads(d["body"])["type"], d) for d in receiver.requests]
    steps = [(kind, json.loads(d["body"])["data"].get("to_status")) for kind, d in received]
    assert steps == [("lead.created", None), ("lead.claimed", None), ("lead.status_changed", "contacted"),
                     ("lead.status_changed", "qualified"), ("lead.status_changed", "won"),
                     ("customer.stage_changed", None)]
    assert all(signature_is_valid(webhook["secret"], delivery) for _, delivery in received)
    assert len({d["headers"]["webhook-id"] for _, d in received}) == len(received)

    log = app.test_client().get(f"/api/v1/webhooks/{webhook['id']}/deliveries", headers=bearer(admin)).get_json()
    assert sorted(item["event"] for item in log["items"]) == sorted(kind for kind, _ in received)
    assert {(item["status"], item["response_code"], item["attempts"]) for item in log["items"]} == {
        ("delivered", 204, 1)}
    assert {item["message_id"] for item in log["items"]} == {d["headers"]["webhook-id"] for _, d in received}


def test_a_tampered_body_fails_the_signature_check(app, make_user, bearer, receiver):  # noqa: F811
    """The check above can fail: the same check refuses a body changed on the way."""
    admin = make_user(Role.ADMIN)
    webhook = app.test_client().post("/api/v1/webhooks", headers=bearer(admin), json={
        "url": f"http://127.0.0.1:{receiver.server_port}/hooks", "events": ["lead.created"]}).get_json()
    app.test_client().post(f"/api/v1/webhooks/{webhook['id']}/ping", headers=bearer(admin))
    [delivery] = receiver.requests
    assert signature_is_valid(webhook["secret"], delivery)
    assert not signature_is_valid(webhook["secret"], {**delivery, "body": delivery["body"].replace(b"}", b" }", 1)})
