"""Outbound webhooks: the API and the admin pages, signatures a receiver can check, the same webhook-id on every
retry and redelivery, backoff until the last attempt, the private-address rule, the six events from the real
actions (and only to the webhooks that want them), one transaction, permissions and query counts."""
import base64
import hashlib
import hmac
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from portal.crm.lifecycle import change_lifecycle_stage
from portal.crm.models import LifecycleStage
from portal.events import Verb, activity_recorded
from portal.extensions import db
from portal.leads import pipeline
from portal.leads.models import Lead
from portal.outbox import Lane, OutboxMessage, drain
from portal.permissions import Role
from portal.sqltypes import utcnow
from portal.webhooks import services
from portal.webhooks.catalog import SUBSCRIBABLE
from portal.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery
from tests.community_factories import ask, established, make_category
from tests.conftest import csrf_token_from
from tests.crm_factories import make_customer
from tests.helpers import count_queries

STRONG = "violet kettle mountain 42"


class Receiver(BaseHTTPRequestHandler):
    """A receiver on 127.0.0.1 that keeps each request and answers with the next of `server.answers`."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
        status = self.server.answers.pop(0) if self.server.answers else 204
        reply = b'{"ok": false}' if status >= 400 else b""
        self.send_response(status)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.requests, server.answers = [], []
    server.url = f"http://127.0.0.1:{server.server_port}/hooks/teahouse"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def app(make_app):
    app = make_app(WEBHOOKS_ALLOW_PRIVATE_TARGETS=True)
    with app.app_context():
        yield app


def webhook_for(admin, url, events=SUBSCRIBABLE, **fields):
    return services.create_webhook(admin, url=url, events=list(events), **fields)


def deliveries_of(webhook_id):
    return db.session.scalars(sa.select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
                              .order_by(WebhookDelivery.id)).all()


def events_of(webhook_id):
    return [d.event for d in deliveries_of(webhook_id)]


def signature_is_valid(secret, request):
    """Standard Webhooks: v1,base64(HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>"))."""
    headers = request["headers"]
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + request["body"]
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(f"v1,{expected}", given) for given in headers["webhook-signature"].split())


def retry_now():
    """Let the webhook lane's waiting retries run now instead of after their backoff."""
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.processed_at.is_(None))
                       .values(available_at=utcnow()))
    db.session.commit()


# -- the API --------------------------------------------------------------------------------------

def test_a_created_webhook_answers_201_with_its_secret_once(client, bearer, admin, receiver):
    headers = bearer(admin)
    response = client.post("/api/v1/webhooks", headers=headers, json={
        "url": receiver.url, "events": ["lead.claimed", "lead.created"], "description": "Company CRM"})
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["secret"].startswith("whsec_") and len(base64.b64decode(created["secret"][6:])) == 32
    assert (created["url"], created["events"], created["active"]) == (receiver.url, ["lead.created", "lead.claimed"],
                                                                      True)
    listing = client.get("/api/v1/webhooks", headers=headers).get_json()
    assert (listing["page"], listing["per_page"], listing["total"]) == (1, 50, 1)
    assert listing["items"][0]["id"] == created["id"] and "secret" not in listing["items"][0]
    shown = client.get(f"/api/v1/webhooks/{created['id']}", headers=headers).get_json()
    assert "secret" not in shown and shown["created_by"]["id"] == admin.id


def test_an_own_secret_is_kept_and_a_bad_one_refused(client, bearer, admin, receiver):
    headers, own = bearer(admin), "whsec_" + base64.b64encode(b"k" * 24).decode()
    created = client.post("/api/v1/webhooks", headers=headers, json={"url": receiver.url, "events": ["lead.created"],
                                                                     "secret": own})
    assert created.status_code == 201 and created.get_json()["secret"] == own
    for bad in ("plain-secret", "whsec_not*base64", "whsec_" + base64.b64encode(b"short").decode()):
        response = client.post("/api/v1/webhooks", headers=headers, json={"url": receiver.url,
                                                                          "events": ["lead.created"], "secret": bad})
        assert response.status_code == 422 and "secret" in response.get_json()["error"]["fields"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Webhook)) == 1


def test_patch_changes_and_delete_removes_with_its_log(client, bearer, admin, receiver):
    headers = bearer(admin)
    webhook_id = client.post("/api/v1/webhooks", headers=headers, json={
        "url": receiver.url, "events": ["lead.created"]}).get_json()["id"]
    client.post(f"/api/v1/webhooks/{webhook_id}/ping", headers=headers)
    response = client.patch(f"/api/v1/webhooks/{webhook_id}", headers=headers,
                            json={"events": ["lead.returned", "referral.converted"], "active": False})
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["events"], response.get_json()["active"]) == (
        ["lead.returned", "referral.converted"], False)
    assert client.delete(f"/api/v1/webhooks/{webhook_id}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/webhooks/{webhook_id}", headers=headers).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == 0
    assert client.delete(f"/api/v1/webhooks/{webhook_id}", headers=headers).status_code == 404


@pytest.mark.parametrize("url", ["ftp://crm.example.com/hook", "javascript:alert(1)", "file:///etc/passwd",
                                 "crm.example.com/hook", "", "http://", "http://user:pw@127.0.0.1/hook",
                                 "http://127.0.0.1:99999/hook", "http://exa mple.com/"])
def test_a_url_that_is_not_plain_http_is_422_and_changes_nothing(client, bearer, admin, receiver, url):
    headers = bearer(admin)
    response = client.post("/api/v1/webhooks", headers=headers, json={"url": url, "events": ["lead.created"]})
    assert response.status_code == 422
    assert "url" in response.get_json()["error"]["fields"]
    webhook = webhook_for(admin, receiver.url, ["lead.created"])
    patched = client.patch(f"/api/v1/webhooks/{webhook.id}", headers=headers, json={"url": url, "active": False})
    assert patched.status_code == 422
    db.session.refresh(webhook)
    assert (webhook.url, webhook.active) == (receiver.url, True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Webhook)) == 1


def test_a_non_http_scheme_says_so(client, bearer, admin):
    error = client.post("/api/v1/webhooks", headers=bearer(admin), json={
        "url": "ftp://crm.example.com/hook", "events": ["lead.created"]}).get_json()["error"]
    assert error["code"] == "unsupported_scheme" and "https://" in error["fields"]["url"]


@pytest.mark.parametrize("events", [["lead.bought"], [], ["webhook.ping"], "lead.created", [1], None])
def test_unknown_or_missing_events_are_422(client, bearer, admin, receiver, events):
    response = client.post("/api/v1/webhooks", headers=bearer(admin), json={"url": receiver.url, "events": events})
    assert response.status_code == 422 and "events" in response.get_json()["error"]["fields"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Webhook)) == 0


def test_other_bad_input(client, bearer, admin, receiver):
    headers = bearer(admin)
    assert client.post("/api/v1/webhooks", headers=headers, json={"url": receiver.url, "events": ["lead.created"],
                                                                  "active": "yes"}).status_code == 422
    assert client.post("/api/v1/webhooks", headers=headers, json={"url": receiver.url, "events": ["lead.created"],
                                                                  "colour": "red"}).status_code == 422
    assert client.post("/api/v1/webhooks", headers=headers, data="url=x").status_code == 415
    assert client.post("/api/v1/webhooks", headers=headers, json=["x"]).status_code == 422
    assert client.patch("/api/v1/webhooks/999999", headers=headers, json={"active": False}).status_code == 404


def test_the_event_catalog_and_the_openapi_document(client, bearer, admin):
    events = client.get("/api/v1/webhooks/events", headers=bearer(admin)).get_json()["items"]
    assert [e["name"] for e in events] == [*SUBSCRIBABLE, "webhook.ping"]
    claimed = next(e for e in events if e["name"] == "lead.claimed")
    assert {"lead_id", "owner_id", "customer_id", "activity_id"} <= set(claimed["data_schema"]["properties"])
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/webhooks"]) and {"get", "patch", "delete"} <= set(
        paths["/webhooks/{webhook_id}"])
    assert paths["/webhooks"]["post"]["responses"].keys() >= {"201", "422"}
    assert "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver" in paths


# -- private addresses ----------------------------------------------------------------------------

PRIVATE = ["http://127.0.0.1:8080/hook", "http://10.1.2.3/hook", "http://192.168.0.10/hook", "http://[::1]/hook",
           "http://localhost:5000/hook", "http://169.254.169.254/latest/meta-data", "http://[::ffff:127.0.0.1]/",
           "http://0.0.0.0/", "http://100.64.0.1/"]


@pytest.mark.parametrize("url", PRIVATE)
def test_private_and_loopback_targets_are_refused_unless_allowed(app, client, bearer, admin, url):
    headers = bearer(admin)
    app.config["WEBHOOKS_ALLOW_PRIVATE_TARGETS"] = False
    response = client.post("/api/v1/webhooks", headers=headers, json={"url": url, "events": ["lead.created"]})
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["code"] == "private_address"
    assert "private or local address" in response.get_json()["error"]["fields"]["url"]
    page = app.test_client(user=admin).post("/admin/webhooks/new", data={"url": url, "events": ["lead.created"],
                                                                         "active": "y"})
    assert page.status_code == 422 and "private or local address" in page.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Webhook)) == 0

    app.config["WEBHOOKS_ALLOW_PRIVATE_TARGETS"] = True
    assert client.post("/api/v1/webhooks", headers=headers, json={"url": url, "events": ["lead.created"]}
                       ).status_code == 201


def test_a_public_address_is_accepted_with_the_setting_off(app, client, bearer, admin):
    app.config["WEBHOOKS_ALLOW_PRIVATE_TARGETS"] = False
    response = client.post("/api/v1/webhooks", headers=bearer(admin), json={
        "url": "https://93.184.215.14/hooks", "events": ["lead.created"]})
    assert response.status_code == 201, response.get_json()


def test_the_address_is_checked_again_when_sending(app, admin, receiver):
    """A webhook saved while private targets were allowed sends nothing to one once they are not."""
    webhook = webhook_for(admin, receiver.url)
    app.config["WEBHOOKS_ALLOW_PRIVATE_TARGETS"] = False
    services.send_ping(admin, webhook.id)
    [delivery] = deliveries_of(webhook.id)
    assert receiver.requests == []
    assert (delivery.status, delivery.response_code, delivery.attempts) == (DeliveryStatus.PENDING, None, 1)
    assert "private or local address" in delivery.error


def test_a_send_connects_to_the_address_it_checked(app, admin, receiver, monkeypatch):
    """DNS rebinding: the host name is resolved once per send and that address is used, Host header kept."""
    webhook = webhook_for(admin, f"http://teahouse-crm.test:{receiver.server_port}/hooks")
    real_getaddrinfo = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        if host == "teahouse-crm.test":
            return real_getaddrinfo("127.0.0.1", *args, **kwargs)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    services.send_ping(admin, webhook.id)
    [request] = receiver.requests
    assert request["headers"]["host"] == f"teahouse-crm.test:{receiver.server_port}"
    assert deliveries_of(webhook.id)[0].status == DeliveryStatus.DELIVERED


# -- signatures, retries, redelivery --------------------------------------------------------------

def test_a_receiver_can_check_the_signature(app, client, bearer, admin, receiver):
    created = client.post("/api/v1/webhooks", headers=bearer(admin), json={
        "url": receiver.url, "events": ["lead.created"]}).get_json()
    answer = client.post(f"/api/v1/webhooks/{created['id']}/ping", headers=bearer(admin))
    assert answer.status_code == 202 and answer.get_json()["event"] == "webhook.ping"
    [request] = receiver.requests
    headers = request["headers"]
    assert headers["content-type"] == "application/json"
    assert headers["webhook-id"] == answer.get_json()["message_id"] and headers["webhook-id"].startswith("msg_")
    assert abs(int(headers["webhook-timestamp"]) - utcnow().timestamp()) < 60
    assert signature_is_valid(created["secret"], request)
    assert not signature_is_valid(created["secret"], {**request, "body": request["body"] + b" "})
    body = json.loads(request["body"])
    assert (body["type"], body["data"]) == ("webhook.ping", {"webhook_id": created["id"]})

    standardwebhooks = pytest.importorskip("standardwebhooks")
    assert standardwebhooks.Webhook(created["secret"]).verify(request["body"], headers) == body


def test_a_failed_delivery_is_retried_with_the_same_webhook_id_then_redelivered(app, client, bearer, admin,
                                                                                 receiver):
    webhook = webhook_for(admin, receiver.url)
    receiver.answers = [500, 204]
    services.send_ping(admin, webhook.id)
    [delivery] = deliveries_of(webhook.id)
    assert (delivery.status, delivery.response_code, delivery.attempts) == (DeliveryStatus.PENDING, 500, 1)
    assert delivery.response_body == '{"ok": false}'
    message = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.lane == Lane.WEBHOOK))
    assert message.available_at > message.created_at  # waiting out its backoff
    assert drain(Lane.WEBHOOK) == 0
    retry_now()
    assert drain(Lane.WEBHOOK) == 1
    db.session.refresh(delivery)
    assert (delivery.status, delivery.response_code, delivery.attempts) == (DeliveryStatus.DELIVERED, 204, 2)
    assert delivery.duration_ms is not None and delivery.last_attempt_at is not None

    response = client.post(f"/api/v1/webhooks/{webhook.id}/deliveries/{delivery.id}/redeliver",
                           headers=bearer(admin))
    assert response.status_code == 202, response.get_json()
    ids = [r["headers"]["webhook-id"] for r in receiver.requests]
    assert ids == [delivery.message_id] * 3
    assert all(signature_is_valid(webhook.secret, r) for r in receiver.requests)
    log = client.get(f"/api/v1/webhooks/{webhook.id}/deliveries", headers=bearer(admin)).get_json()
    [item] = log["items"]
    assert (item["id"], item["event"], item["message_id"], item["status"], item["response_code"],
            item["attempts"]) == (delivery.id, "webhook.ping", delivery.message_id, "delivered", 204, 3)
    other = webhook_for(admin, receiver.url)
    assert client.post(f"/api/v1/webhooks/{other.id}/deliveries/{delivery.id}/redeliver",
                       headers=bearer(admin)).status_code == 404


def test_the_last_failed_attempt_marks_the_delivery_failed(app, admin, receiver):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 3
    webhook = webhook_for(admin, receiver.url)
    receiver.answers = [503, 503, 503]
    services.send_ping(admin, webhook.id)
    for _ in range(2):
        retry_now()
        drain(Lane.WEBHOOK)
    [delivery] = deliveries_of(webhook.id)
    assert (delivery.status, delivery.response_code, delivery.attempts) == (DeliveryStatus.FAILED, 503, 3)
    message = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.lane == Lane.WEBHOOK))
    assert message.failed_at is not None  # parked: `flask outbox retry` or Redeliver sends it again
    services.redeliver(admin, webhook.id, delivery.id)
    db.session.refresh(delivery)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 4)


def test_no_answer_at_all_is_logged_as_such(app, admin):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    webhook = webhook_for(admin, f"http://127.0.0.1:{port}/hook")
    services.send_ping(admin, webhook.id)
    [delivery] = deliveries_of(webhook.id)
    assert (delivery.status, delivery.response_code, delivery.attempts) == (DeliveryStatus.PENDING, None, 1)
    assert "ConnectError" in delivery.error


# -- the events, from the real actions ------------------------------------------------------------

@pytest.fixture
def prospect():
    return make_customer("Friend Co", domain="friendco.example", lifecycle_stage=LifecycleStage.PROSPECT)


def test_each_event_reaches_the_webhooks_that_want_it_from_the_real_actions(app, make_user, admin, receiver,
                                                                              prospect, moderator, member):
    everything = webhook_for(admin, receiver.url)
    referrals_only = webhook_for(admin, receiver.url, ["referral.converted"])
    switched_off = webhook_for(admin, receiver.url, active=False)
    rep = make_user(Role.SALES)

    asker = established(make_user, customer_id=prospect.id)
    ask(asker, make_category("Questions"), title="企业版报价", body="请问企业版的报价是多少？我们有 50 个用户。")
    lead_id = db.session.scalar(sa.select(Lead.id).where(Lead.customer_id == prospect.id))
    pipeline.claim(rep, lead_id)
    pipeline.change_status(rep, lead_id, "contacted", note="Called them.")
    pipeline.hand_back(rep, lead_id, note="Not mine after all.")
    friend = app.test_client().post("/api/v1/register", json={
        "email": "buyer@friendco.example", "password": STRONG, "name": "Friend Buyer",
        "referral_code": member.referral_code})
    assert friend.status_code == 201, friend.get_json()
    change_lifecycle_stage(moderator, prospect.id, "customer", cause="first order")

    assert events_of(everything.id) == ["lead.created", "lead.claimed", "lead.status_changed", "lead.returned",
                                        "customer.stage_changed", "referral.converted"]
    assert events_of(referrals_only.id) == ["referral.converted"]
    assert events_of(switched_off.id) == []
    sent = [json.loads(r["body"]) for r in receiver.requests]
    assert [body["type"] for body in sent] == ["lead.created", "lead.claimed", "lead.status_changed",
                                               "lead.returned", "customer.stage_changed", "referral.converted",
                                               "referral.converted"]
    claimed, stage = sent[1]["data"], sent[4]["data"]
    assert (claimed["lead_id"], claimed["owner_id"], claimed["actor_id"], claimed["object_type"]) == (
        lead_id, rep.id, rep.id, "lead")
    assert (stage["from_stage"], stage["to_stage"], stage["customer_id"]) == ("prospect", "customer", prospect.id)
    assert sent[2]["data"]["to_status"] == "contacted" and sent[3]["data"]["reason"] == "handed_back"
    assert all(d.status == DeliveryStatus.DELIVERED for d in deliveries_of(everything.id))


def test_a_failed_action_leaves_no_delivery(app, make_user, admin, receiver, prospect):
    webhook = webhook_for(admin, receiver.url, ["lead.claimed"])
    rep = make_user(Role.SALES)
    asker = established(make_user, customer_id=prospect.id)
    ask(asker, make_category("Questions"), title="续费报价", body="续费的价格是多少？")
    lead_id = db.session.scalar(sa.select(Lead.id).where(Lead.customer_id == prospect.id))

    def breaks(verb, **extra):
        raise RuntimeError("a subscriber failed")

    activity_recorded.connect(breaks, sender=Verb.LEAD_CLAIMED)
    try:
        with pytest.raises(RuntimeError):
            pipeline.claim(rep, lead_id)
    finally:
        activity_recorded.disconnect(breaks, sender=Verb.LEAD_CLAIMED)
    db.session.rollback()
    db.session.commit()  # a later commit in the same session carries nothing of the failed action
    assert deliveries_of(webhook.id) == [] and receiver.requests == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.lane == Lane.WEBHOOK)) == 0
    pipeline.claim(rep, lead_id)
    assert events_of(webhook.id) == ["lead.claimed"]


# -- the admin pages ------------------------------------------------------------------------------

def test_an_admin_makes_a_webhook_in_the_form_and_sees_the_secret_once(app, admin, receiver):
    browser = app.test_client(user=admin)
    assert "Webhooks" in browser.get("/admin/users").get_data(as_text=True)
    assert 'name="events" value="lead.status_changed"' in browser.get("/admin/webhooks/new").get_data(as_text=True)
    created = browser.post("/admin/webhooks/new", data={"url": receiver.url, "description": "CRM",
                                                        "events": ["lead.created", "lead.claimed"], "active": "y"})
    assert created.status_code == 200
    webhook = db.session.scalar(sa.select(Webhook))
    assert (webhook.events, webhook.active, webhook.description) == (["lead.created", "lead.claimed"], True, "CRM")
    assert webhook.secret in created.get_data(as_text=True)
    assert webhook.secret not in browser.get(f"/admin/webhooks/{webhook.id}").get_data(as_text=True)
    assert receiver.url in browser.get("/admin/webhooks/").get_data(as_text=True)

    saved = browser.post(f"/admin/webhooks/{webhook.id}/edit", data={"url": receiver.url, "events": ["lead.returned"]})
    assert saved.status_code == 302
    db.session.refresh(webhook)
    assert (webhook.events, webhook.active) == (["lead.returned"], False)
    refused = browser.post(f"/admin/webhooks/{webhook.id}/edit", data={"url": "ftp://x.example", "events": []})
    assert refused.status_code == 422 and "https://" in refused.get_data(as_text=True)
    db.session.refresh(webhook)
    assert webhook.url == receiver.url

    old_secret = webhook.secret
    rotated = browser.post(f"/admin/webhooks/{webhook.id}/secret")
    db.session.refresh(webhook)
    assert webhook.secret != old_secret and webhook.secret in rotated.get_data(as_text=True)

    assert browser.post(f"/admin/webhooks/{webhook.id}/ping").status_code == 302
    log = browser.get(f"/admin/webhooks/{webhook.id}").get_data(as_text=True)
    [delivery] = deliveries_of(webhook.id)
    assert delivery.message_id in log and "Delivered" in log and "204" in log
    assert browser.post(f"/admin/webhooks/{webhook.id}/deliveries/{delivery.id}/redeliver").status_code == 302
    assert len(receiver.requests) == 2
    assert browser.post(f"/admin/webhooks/{webhook.id}/delete").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Webhook)) == 0


def test_the_forms_need_the_csrf_token(make_app, admin, receiver):
    app = make_app(WTF_CSRF_ENABLED=True, WEBHOOKS_ALLOW_PRIVATE_TARGETS=True)
    with app.app_context():
        browser = app.test_client(user=admin)
        forged = browser.post("/admin/webhooks/new", data={"url": receiver.url, "events": ["lead.created"]})
        assert forged.status_code == 400
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Webhook)) == 0
        token = csrf_token_from(browser.get("/admin/webhooks/new").get_data(as_text=True))
        made = browser.post("/admin/webhooks/new", data={"url": receiver.url, "events": ["lead.created"],
                                                         "csrf_token": token})
        assert made.status_code == 200
        webhook_id = db.session.scalar(sa.select(Webhook.id))
        for path in (f"/admin/webhooks/{webhook_id}/ping", f"/admin/webhooks/{webhook_id}/secret",
                     f"/admin/webhooks/{webhook_id}/delete"):
            assert browser.post(path).status_code == 400, path
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == 0


# -- who may ---------------------------------------------------------------------------------------

def api_routes(webhook_id, delivery_id):
    base = f"/api/v1/webhooks/{webhook_id}"
    return [("get", "/api/v1/webhooks"), ("post", "/api/v1/webhooks"), ("get", "/api/v1/webhooks/events"),
            ("get", base), ("patch", base), ("delete", base), ("post", f"{base}/secret"),
            ("get", f"{base}/deliveries"), ("post", f"{base}/deliveries/{delivery_id}/redeliver"),
            ("post", f"{base}/ping")]


def page_routes(webhook_id, delivery_id):
    base = f"/admin/webhooks/{webhook_id}"
    return [("get", "/admin/webhooks/"), ("get", "/admin/webhooks/new"), ("post", "/admin/webhooks/new"),
            ("get", base), ("get", f"{base}/edit"), ("post", f"{base}/edit"), ("post", f"{base}/ping"),
            ("post", f"{base}/deliveries/{delivery_id}/redeliver"), ("post", f"{base}/secret"),
            ("post", f"{base}/delete")]


@pytest.mark.parametrize("role", [Role.MEMBER, Role.MODERATOR, Role.SALES, Role.SALES_MANAGER])
def test_nobody_but_admins_reaches_any_of_it(app, client, bearer, make_user, admin, receiver, role):
    """Can anyone other than an admin see or change a webhook, through the API or the pages? No."""
    webhook = webhook_for(admin, receiver.url)
    delivery = services.send_ping(admin, webhook.id)
    user = make_user(role)
    headers = bearer(user)
    for method, path in api_routes(webhook.id, delivery.id):
        response = getattr(client, method)(path, headers=headers, json={"url": receiver.url,
                                                                        "events": ["lead.created"]})
        assert response.status_code == 403, (method, path)
        assert response.get_json()["error"]["code"] == "forbidden"
    browser = app.test_client(user=user)
    for method, path in page_routes(webhook.id, delivery.id):
        response = getattr(browser, method)(path, data={"url": receiver.url, "events": ["lead.created"]})
        assert response.status_code == 403, (method, path)
        assert webhook.secret not in response.get_data(as_text=True)
    assert 'href="/admin/webhooks/"' not in browser.get("/").get_data(as_text=True)
    assert len(receiver.requests) == 1 and db.session.scalar(sa.select(sa.func.count()).select_from(Webhook)) == 1


def test_nobody_signed_in_is_asked_to_sign_in(app, client, admin, receiver):
    webhook = webhook_for(admin, receiver.url)
    delivery = services.send_ping(admin, webhook.id)
    for method, path in api_routes(webhook.id, delivery.id):
        assert getattr(client, method)(path, json={}).status_code == 401, (method, path)
    for method, path in page_routes(webhook.id, delivery.id):
        response = getattr(client, method)(path, data={})
        assert response.status_code == 302 and "/login" in response.headers["Location"], (method, path)


# -- constant queries -----------------------------------------------------------------------------

def test_the_list_and_the_log_take_the_same_queries_for_more_rows(app, admin, receiver):
    browser = app.test_client(user=admin)

    def queries(path):
        browser.get(path)  # warm: the session's user, settings
        with count_queries() as statements:
            assert browser.get(path).status_code == 200
        return len(statements)

    first = webhook_for(admin, receiver.url)
    services.send_ping(admin, first.id)
    one_webhook, one_delivery = queries("/admin/webhooks/"), queries(f"/admin/webhooks/{first.id}")
    for _ in range(4):
        services.send_ping(admin, webhook_for(admin, receiver.url, ["lead.created"]).id)
        services.send_ping(admin, first.id)
    assert queries("/admin/webhooks/") == one_webhook
    assert queries(f"/admin/webhooks/{first.id}") == one_delivery
